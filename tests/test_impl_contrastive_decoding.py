"""Contrastive decoding: the plausibility set, the uniform-amateur and alpha = 1 limits, the quick run."""

import pytest
import torch
import torch.nn.functional as F
from conftest import sound_quick_run

from reference_impls import contrastive_decoding as C
from reference_impls import zoo
from reference_impls.common import set_threads

set_threads(1)


def _logprobs(seed: int, shape=(6, 40), scale: float = 3.0) -> torch.Tensor:
    return F.log_softmax(scale * torch.randn(*shape, generator=torch.Generator().manual_seed(seed)), dim=-1)


def test_chosen_token_is_always_in_the_plausibility_set():
    for seed in range(20):
        e, a = _logprobs(seed), _logprobs(seed + 100, scale=6.0)
        for alpha in (0.5, 0.1, 0.01):
            choice = C.contrastive_choice(e, a, alpha)
            assert C.plausible(e, alpha).gather(1, choice[:, None]).all()
            p = e.exp()
            assert (p.gather(1, choice[:, None])[:, 0] >= alpha * p.max(dim=1).values - 1e-7).all()


def test_plausibility_set_is_exactly_the_tokens_above_alpha_times_the_max():
    e = torch.log(torch.tensor([[0.5, 0.3, 0.06, 0.04, 0.1]]))
    assert C.plausible(e, 0.1).tolist() == [[True, True, True, False, True]]
    assert C.plausible(e, 0.5).tolist() == [[True, True, False, False, False]]
    assert C.plausible(e, 1.0).tolist() == [[True, False, False, False, False]]


def test_contrastive_choice_prefers_what_the_amateur_underrates():
    e = torch.log(torch.tensor([[0.5, 0.4, 0.1]]))
    a = torch.log(torch.tensor([[0.9, 0.05, 0.05]]))
    assert C.contrastive_choice(e, a, 0.1).item() == 1  # expert greedy would pick 0
    assert C.contrastive_choice(e, a, 0.9).item() == 0  # only token 0 is plausible


def test_constant_amateur_or_alpha_one_gives_expert_greedy():
    e = _logprobs(3, shape=(64, 256))
    uniform = torch.full_like(e, -torch.log(torch.tensor(256.0)).item())
    assert torch.equal(C.contrastive_choice(e, uniform, 0.1), e.argmax(dim=1))
    assert torch.equal(C.contrastive_choice(e, _logprobs(4, shape=(64, 256)), 1.0), e.argmax(dim=1))


def test_uniform_amateur_model_has_uniform_next_token_distribution():
    model = zoo.fresh("zoo-50k", seed=1)
    uniform = C.uniform_amateur(model)
    x = torch.randint(0, 256, (2, 9), generator=torch.Generator().manual_seed(0))
    logits = uniform(input_ids=x).logits
    assert torch.equal(logits, torch.zeros_like(logits))
    assert model(input_ids=x).logits.abs().sum() > 0  # the original is untouched


def test_decoding_with_uniform_amateur_equals_greedy_for_random_models():
    expert, amateur = zoo.fresh("zoo-50k", seed=2), zoo.fresh("zoo-50k", seed=3)
    prompts = torch.randint(0, 256, (4, 5), generator=torch.Generator().manual_seed(1))
    greedy, _ = C.contrastive_generate(expert, None, prompts, 12)
    assert torch.equal(greedy, zoo.generate(expert, prompts, 12))
    cd_uniform, rec = C.contrastive_generate(expert, C.uniform_amateur(amateur), prompts, 12, alpha=0.1)
    assert torch.equal(cd_uniform, greedy)
    assert torch.allclose(rec["plausibility"], torch.ones_like(rec["plausibility"]))
    cd, rec = C.contrastive_generate(expert, amateur, prompts, 12, alpha=0.1)
    assert (rec["plausibility"] >= 0.1 - 1e-6).all()


def test_distinct_n_counts_repeated_ngrams():
    assert C.distinct_n(["a b c d"], 2) == 1.0
    assert C.distinct_n(["a b a b a b"], 2) == pytest.approx(2 / 5)
    assert C.distinct_n(["a a a a", "x y"], 1) == pytest.approx((1 / 4 + 1) / 2)


def test_quick_run_passes_its_sanity_checks():
    result = sound_quick_run("contrastive-decoding")
    assert [f["rhs_label"] for f in result["claims"]] == ["nucleus", "top-k", "nucleus", "top-k"]
