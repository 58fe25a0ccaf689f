"""Proxy-tuning: the logit rule, its identities, generation with three caches, the quick run."""

import torch
from conftest import sound_quick_run

from reference_impls import proxy_tuning as P
from reference_impls import zoo
from reference_impls.common import set_threads

set_threads(1)


def _z(seed: int, shape=(2, 7, 256)) -> torch.Tensor:
    return 2 * torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def test_proxy_logits_is_large_plus_alpha_times_the_tuning_delta():
    large, tuned, base = _z(0), _z(1), _z(2)
    assert torch.allclose(P.proxy_logits(large, tuned, base, 0.5), large + 0.5 * (tuned - base))
    assert torch.equal(P.proxy_logits(large, base, base, 1.7), large)  # tuned = base: unchanged
    assert torch.equal(P.proxy_logits(large, tuned, base, 0.0), large)  # alpha = 0: unchanged
    # alpha = 1 with the large model as its own base gives the tuned model exactly
    assert torch.allclose(P.proxy_logits(base, tuned, base, 1.0), tuned, atol=1e-6)


def test_proxy_with_tuned_equal_to_base_generates_the_large_models_greedy_output():
    large, small = zoo.fresh("zoo-180k", seed=5), zoo.fresh("zoo-50k", seed=6)
    prompts = torch.randint(0, 256, (3, 6), generator=torch.Generator().manual_seed(0))
    same = P.proxy_generate(P.ProxyTuned(large, small, small, alpha=1.0), prompts, 10)
    assert torch.equal(same, zoo.generate(large, prompts, 10))


def test_proxy_generate_follows_the_proxy_logits():
    large, tuned, base = (zoo.fresh("zoo-50k", seed=s) for s in (7, 8, 9))
    proxy = P.ProxyTuned(large, tuned, base, alpha=1.0)
    prompts = torch.randint(0, 256, (2, 4), generator=torch.Generator().manual_seed(1))
    out = P.proxy_generate(proxy, prompts, 6)
    z = proxy.logits(out)  # (B, T, V): full forward of the generated rows
    assert torch.equal(z[:, 3:-1].argmax(dim=-1), out[:, 4:])
    assert not torch.equal(out, zoo.generate(large, prompts, 6))


def test_gap_closed_endpoints():
    assert P.gap_closed(3.0, 3.0, 2.0) == 0.0
    assert P.gap_closed(3.0, 2.0, 2.0) == 1.0
    assert P.gap_closed(3.0, 2.5, 2.0) == 0.5


def test_quick_run_passes_its_sanity_checks():
    result = sound_quick_run("proxy-tuning")
    m = result["metrics"]
    assert m["recipe_tuned_large_ppl"] < m["recipe_large_ppl"] and m["recipe_proxy_ppl"] < m["recipe_large_ppl"]
