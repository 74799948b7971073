"""AdamATan2 against a hand computation of its update rule; EMA arithmetic."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from arena_agents.recursive.optim import EMA, AdamATan2  # noqa: E402


def test_adam_atan2_matches_the_formula_over_three_steps():
    p = torch.nn.Parameter(torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64))
    opt = AdamATan2([p], lr=0.1, betas=(0.9, 0.95), weight_decay=0.5)
    grads = [[0.3, -0.2, 0.0], [0.1, 0.4, -1.0], [-0.5, 0.0, 0.2]]
    ref, m, v = [0.5, -1.0, 2.0], [0.0] * 3, [0.0] * 3
    for t, g in enumerate(grads, start=1):
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        for i in range(3):
            ref[i] *= 1 - 0.1 * 0.5
            m[i] = 0.9 * m[i] + 0.1 * g[i]
            v[i] = 0.95 * v[i] + 0.05 * g[i] ** 2
            ref[i] -= (0.1 / (1 - 0.9**t)) * math.atan2(m[i], math.sqrt(v[i]) / math.sqrt(1 - 0.95**t))
    assert p.detach().tolist() == pytest.approx(ref, abs=1e-12)


def test_adam_atan2_first_step_is_bounded_by_lr_times_pi_over_2():
    p = torch.nn.Parameter(torch.zeros(4))
    opt = AdamATan2([p], lr=0.01, weight_decay=0.0)
    p.grad = torch.tensor([1e6, -1e-6, 3.0, 0.0])
    opt.step()
    assert p.abs().max().item() <= 0.01 / 0.1 * math.pi / 2 + 1e-6
    assert p[3].item() == 0.0


def test_ema_tracks_weights():
    model = torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(0.0)
    ema = EMA(model, decay=0.5)
    with torch.no_grad():
        model.weight.fill_(1.0)
    ema.update(model)
    ema.update(model)
    assert torch.allclose(ema.shadow["weight"], torch.full((1, 2), 0.75))
    target = torch.nn.Linear(2, 1, bias=False)
    ema.copy_to(target)
    assert torch.allclose(target.weight, torch.full((1, 2), 0.75))
    with pytest.raises(ValueError):
        EMA(model, decay=1.0)


def test_ema_averages_trainable_parameters_only_as_the_published_code():
    """Buffers (initial latents) and the puzzle embedding (trained by SignSGD) are not averaged."""

    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(2))
            self.puzzle_emb = torch.nn.Parameter(torch.zeros(2))
            self.register_buffer("z_init", torch.zeros(2))

    model = Tiny()
    ema = EMA(model, decay=0.5)
    assert set(ema.shadow) == {"w"}
    with torch.no_grad():
        model.w.fill_(1.0)
        model.puzzle_emb.fill_(1.0)
        model.z_init.fill_(1.0)
    ema.update(model)
    saved = ema.averaged_state(model)
    assert saved["w"].tolist() == [0.5, 0.5]  # averaged
    assert saved["puzzle_emb"].tolist() == [1.0, 1.0] and saved["z_init"].tolist() == [1.0, 1.0]  # as they are
    fresh = EMA(Tiny(), decay=0.5)
    fresh.load_state_dict(saved)
    assert fresh.shadow["w"].tolist() == [0.5, 0.5]
