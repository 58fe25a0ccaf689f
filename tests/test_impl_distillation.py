"""Distillation: properties of the losses, the bimodal toy, the quick run, and reproduction."""

import torch
import torch.nn.functional as F
from conftest import sound_quick_run

from reference_impls import distillation as D
from reference_impls.common import set_threads

set_threads(1)


def _logits(seed: int, shape=(3, 5, 11)) -> torch.Tensor:
    return 3 * torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def test_kd_losses_are_zero_on_equal_logits():
    z = _logits(0)
    assert D.forward_kl(z, z, 2.0).abs() < 1e-6
    assert D.reverse_kl(z, z).abs() < 1e-6
    for beta in (0.0, 0.1, 0.5, 0.9, 1.0):
        assert D.generalized_jsd(z, z, beta).abs() < 1e-6
    assert D.forward_kl(_logits(1), z).item() > 0.1


def test_forward_kl_with_temperature_matches_torch_kl_div_times_t_squared():
    s, t, temp = _logits(1), _logits(2), 2.5
    ref = F.kl_div(
        F.log_softmax(s / temp, -1).reshape(-1, 11),
        F.log_softmax(t / temp, -1).reshape(-1, 11),
        log_target=True,
        reduction="batchmean",
    )
    assert torch.allclose(D.forward_kl(s, t, temp), temp**2 * ref, atol=1e-5)
    assert torch.allclose(D.reverse_kl(s, t), D.forward_kl(t, s), atol=1e-6)


def test_gkd_beta_endpoints_are_the_two_kls():
    s, t = _logits(3), _logits(4)
    fwd, rev = D.forward_kl(s, t), D.reverse_kl(s, t)
    assert torch.allclose(D.generalized_jsd(s, t, 0.0), fwd)
    assert torch.allclose(D.generalized_jsd(s, t, 1.0), rev)
    # and the general formula tends to them: JSD_b / b -> KL(p || q), JSD_b / (1 - b) -> KL(q || p)
    s, t, eps = s / 3, t / 3, 1e-3  # milder distributions: the O(b) remainder scales with chi-square
    fwd, rev = D.forward_kl(s, t), D.reverse_kl(s, t)
    assert torch.allclose(D.generalized_jsd(s, t, eps) / eps, fwd, rtol=2e-2)
    assert torch.allclose(D.generalized_jsd(s, t, 1 - eps) / eps, rev, rtol=2e-2)
    assert not torch.allclose(fwd, rev, rtol=1e-2)


def test_jsd_at_one_half_is_symmetric_and_bounded_by_log_two():
    s, t = _logits(5), _logits(6)
    assert torch.allclose(D.generalized_jsd(s, t, 0.5), D.generalized_jsd(t, s, 0.5), atol=1e-6)
    assert D.generalized_jsd(s, t, 0.5) <= torch.log(torch.tensor(2.0))


def test_hinton_loss_mixes_cross_entropy_and_kd():
    s, t = _logits(7), _logits(8)
    y = torch.randint(0, 11, (3, 5))
    ce = F.cross_entropy(s.reshape(-1, 11), y.reshape(-1))
    assert torch.allclose(D.hinton_loss(s, t, y, 2.0, 0.0), ce)
    assert torch.allclose(D.hinton_loss(s, t, y, 2.0, 1.0), D.forward_kl(s, t, 2.0))


def test_reverse_kl_fit_of_a_bimodal_target_picks_one_mode():
    target = D.bimodal_target()
    rev, fwd = D.fit_unimodal(target, "reverse"), D.fit_unimodal(target, "forward")
    assert D.entropy(rev[None]) < D.entropy(target[None]) < D.entropy(fwd[None])
    assert abs(int(rev.argmax()) - 16) <= 1  # sits on a mode; the forward fit sits between them
    assert 24 <= int(fwd.argmax()) <= 40


def test_quick_run_passes_its_sanity_checks():
    result = sound_quick_run("distillation")
    assert len(result["claims"]) == 6 and len(result["checks"]) == 1
    assert result["metrics"]["hinton_nll"] < result["metrics"]["init_nll"]  # the students did learn
