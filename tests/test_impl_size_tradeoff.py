"""Size trade-off: the FLOPs count, the Pareto frontier, round-to-nearest quantisation, the quick run."""

import torch
from conftest import sound_quick_run

from reference_impls import size_tradeoff as S
from reference_impls import zoo
from reference_impls.common import set_threads

set_threads(1)


def test_pareto_front_keeps_exactly_the_undominated_points():
    costs = [1, 2, 3, 4, 2, 5]
    losses = [5, 3, 4, 1, 3, 1]
    # point 2 is dominated by 1 (cheaper and better); 4 ties 1 exactly (neither dominates); 5 by 3
    assert S.pareto_front(costs, losses) == [0, 1, 4, 3]
    assert S.pareto_front([1, 2, 3], [3, 2, 1]) == [0, 1, 2]
    assert S.pareto_front([1, 2, 3], [1, 2, 3]) == [0]


def test_flops_per_token_counts_two_per_weight_plus_the_head_and_attention():
    model = zoo.fresh("zoo-50k")
    cfg = model.config
    n, n_embed = zoo.n_params(model), 256 * cfg.hidden_size
    expected = 2 * (n - n_embed) + 2 * cfg.hidden_size * 256 + 4 * cfg.num_hidden_layers * 64 * cfg.hidden_size
    assert S.flops_per_token(model, 64) == expected
    assert S.flops_per_token(zoo.fresh("zoo-1.3m"), 64) > 20 * S.flops_per_token(model, 64)


def test_rtn_quantisation_has_at_most_2_to_the_b_levels_per_row_and_bounded_error():
    w = torch.randn(8, 64, generator=torch.Generator().manual_seed(0))
    for bits in (2, 4, 8):
        q = S.quantize_rtn(w, bits)
        scale = w.abs().amax(dim=1, keepdim=True) / (2 ** (bits - 1) - 1)
        assert ((q - w).abs() <= scale / 2 + 1e-6).all()
        assert all(len(torch.unique(row)) <= 2**bits for row in q)
        assert torch.allclose(q.abs().amax(dim=1), w.abs().amax(dim=1))  # the extreme is exact
    assert (S.quantize_rtn(w, 8) - w).abs().mean() < (S.quantize_rtn(w, 4) - w).abs().mean()


def test_quantized_copy_counts_bits_and_leaves_the_original_alone():
    model = zoo.fresh("zoo-50k", seed=1)
    before = [p.clone() for p in model.parameters()]
    q, nbytes = S.quantized_copy(model, 4)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    assert nbytes < S.weight_bytes(model) / 6  # fp32 -> 4 bits, plus scales and fp32 norms
    assert not torch.equal(next(q.parameters()), next(model.parameters()))


def test_quick_run_passes_its_sanity_checks():
    result = sound_quick_run("size-tradeoff")
    assert set(result["series"]) == {"params", "flops", "time", "memory"}
    assert set(result["timings"]) == {f"{n}_us_per_token" for n in zoo.names()}
