"""Pruning: properties of the masks and SparseGPT, generality, the quick run, and reproduction."""

import torch
from conftest import sound_quick_run
from transformers import GPT2Config, GPT2LMHeadModel

from reference_impls import pruning as P
from reference_impls import zoo
from reference_impls.common import set_threads

set_threads(1)


def test_rowwise_mask_drops_exactly_the_lowest_scores_of_each_row():
    scores = torch.rand(7, 40, generator=torch.Generator().manual_seed(0))
    mask = P.rowwise_mask(scores, 0.3)
    assert ((~mask).sum(dim=1) == 12).all()
    assert (scores[~mask].reshape(7, 12).max(dim=1).values <= scores.masked_fill(~mask, 9).min(dim=1).values).all()


def test_two_of_four_pattern_is_exact_and_keeps_the_top_two():
    scores = torch.randn(16, 32, generator=torch.Generator().manual_seed(1))
    mask = P.nm_mask(scores, 2, 4)
    groups, kept = scores.reshape(16, 8, 4), mask.reshape(16, 8, 4)
    assert (kept.sum(dim=2) == 2).all()
    top2 = torch.topk(groups, 2, dim=2).values.min(dim=2).values  # (16, 8)
    assert (groups[kept].reshape(16, 8, 2).min(dim=2).values >= top2).all()


def test_wanda_with_equal_activation_norms_equals_rowwise_magnitude():
    w = torch.randn(12, 48, generator=torch.Generator().manual_seed(2))
    wanda = P.rowwise_mask(P.wanda_scores(w, torch.full((48,), 3.7)), 0.5)
    assert torch.equal(wanda, P.rowwise_mask(P.magnitude_scores(w), 0.5))
    assert not torch.equal(wanda, P.rowwise_mask(P.wanda_scores(w, torch.rand(48) + 0.1), 0.5))


def _outlier_layer():
    g = torch.Generator().manual_seed(3)
    w = torch.randn(32, 64, generator=g)
    x = torch.randn(64, 2048, generator=g)  # (d_in, N)
    x[:4] *= 25.0  # a few outlier input features, as in LLM activations
    return w, x


def test_output_error_with_outlier_features_sparsegpt_le_wanda_le_magnitude():
    w, x = _outlier_layer()
    h = 2 * x @ x.T / x.shape[1]
    err = {
        "magnitude": w * P.rowwise_mask(P.magnitude_scores(w), 0.5),
        "wanda": w * P.rowwise_mask(P.wanda_scores(w, x.norm(dim=1)), 0.5),
        "sparsegpt": P.sparsegpt(w, h, 0.5),  # the default block (128) covers the 64 columns
        "sparsegpt, 16-column blocks": P.sparsegpt(w, h, 0.5, block=16),
    }
    err = {name: ((w - new) @ x).pow(2).sum().item() for name, new in err.items()}
    assert err["sparsegpt"] <= err["wanda"] <= err["magnitude"], err
    # the outliers all sit in the first block: the row's zeros are still placed by saliency over
    # all the columns left, not in equal shares per block
    assert err["sparsegpt, 16-column blocks"] <= err["wanda"], err


def test_sparsegpt_weight_update_pays_off_on_correlated_inputs():
    g = torch.Generator().manual_seed(4)
    w = torch.randn(32, 64, generator=g)
    # inputs of rank 16 plus a little noise: features that are largely linear combinations of
    # each other, so the kept weights can take over the work of the dropped ones
    x = torch.randn(64, 16, generator=g) @ torch.randn(16, 2048, generator=g)
    x += 0.1 * torch.randn(64, 2048, generator=g)
    h = 2 * x @ x.T / x.shape[1]
    wanda = ((w - w * P.rowwise_mask(P.wanda_scores(w, x.norm(dim=1)), 0.5)) @ x).pow(2).sum()
    sparsegpt = ((w - P.sparsegpt(w, h, 0.5)) @ x).pow(2).sum()
    assert sparsegpt < 0.5 * wanda, (sparsegpt, wanda)


def test_sparsegpt_masks_are_exact_per_row_and_two_of_four():
    w, x = _outlier_layer()
    h = 2 * x @ x.T / x.shape[1]
    assert ((P.sparsegpt(w, h, 0.3, block=16) == 0).sum(dim=1) == round(0.3 * 64)).all()
    nm = P.sparsegpt(w, h, 0.5, nm=(2, 4)).reshape(32, 16, 4)
    assert ((nm != 0).sum(dim=2) == 2).all()
    assert torch.allclose(P.sparsegpt(w, h, 0.0), w, atol=1e-5)


def test_neuron_scores_multiply_activation_norm_and_reader_weight_norm():
    down = torch.tensor([[3.0, 0.0], [4.0, 1.0]])  # (d=2, I=2)
    assert torch.allclose(P.neuron_scores(down, torch.tensor([2.0, 10.0])), torch.tensor([10.0, 10.0]))


def test_structured_pruning_removes_the_stated_share_and_still_runs():
    model = zoo.fresh("zoo-50k")
    calib = zoo.random_windows(zoo.tokens("train"), 4, 32, torch.Generator().manual_seed(0))
    small = P.prune_neurons(model, 0.25, calib)
    removed = zoo.n_params(model) - zoo.n_params(small)
    assert removed == 0.25 * P.mlp_params(model)
    assert small.config.intermediate_size == 84
    assert small(input_ids=calib).logits.shape == (4, 32, zoo.VOCAB)


def test_unstructured_pruning_works_on_gpt2_conv1d_layers():
    torch.manual_seed(0)
    cfg = GPT2Config(vocab_size=256, n_embd=32, n_layer=2, n_head=2, n_positions=64)
    model = GPT2LMHeadModel(cfg).eval()
    calib = torch.randint(0, 256, (8, 32))
    P.prune_model(model, "sparsegpt", 0.5, calib)
    assert P.row_sparsity_error(model, 0.5) == 0
    assert torch.isfinite(model(input_ids=calib).logits).all()


def test_quick_run_passes_its_sanity_checks():
    result = sound_quick_run("pruning")
    assert len(result["claims"]) == 7 and len(result["checks"]) == 3
    assert result["metrics"]["ppl_dense"] < result["metrics"]["ppl_sparsegpt"]
