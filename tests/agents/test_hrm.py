"""HRM: paper-size parameter counts, the 1-step gradient, detached carry, fixed-step inference."""

from __future__ import annotations

from dataclasses import replace

import pytest

torch = pytest.importorskip("torch")

from arena_agents.recursive.hrm import HRM, HRMConfig  # noqa: E402

TINY = HRMConfig(vocab_size=6, seq_len=16, hidden=32, heads=4, h_layers=2, l_layers=2, max_steps=3)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (HRMConfig(), 27_275_266),
        (HRMConfig(vocab_size=6, seq_len=900), 27_270_146),
        (HRMConfig(vocab_size=12, seq_len=900), 27_276_290),
    ],
    ids=["sudoku", "maze", "arc"],
)
def test_parameter_counts_match_the_paper(config, expected):
    assert HRM(config).size() == expected


def test_one_step_gradient():
    """Only the last f_L and f_H updates carry gradient: the incoming carry receives none, both modules do."""
    torch.manual_seed(0)
    model = HRM(TINY)
    tokens = torch.randint(1, 6, (2, 16))
    x = model.inputs(tokens)
    z_h, z_l = (c.clone().requires_grad_(True) for c in model.initial_carry(2))
    new_h, new_l, logits, q = model.step(x, z_h, z_l)
    assert logits.shape == (2, 16, 6) and q.shape == (2, 2)
    assert not new_h.requires_grad and not new_l.requires_grad
    (logits.sum() + q.sum()).backward()
    assert z_h.grad is None and z_l.grad is None
    for stack in (model.f_h, model.f_l):
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in stack.parameters())


def test_with_single_cycles_the_carry_gets_gradient():
    model = HRM(replace(TINY, h_cycles=1, l_cycles=1))
    x = model.inputs(torch.randint(1, 6, (2, 16)))
    z_h, z_l = (c.clone().requires_grad_(True) for c in model.initial_carry(2))
    _, _, logits, _ = model.step(x, z_h, z_l)
    logits.sum().backward()
    assert z_h.grad is not None and z_l.grad is not None


def test_solve_runs_all_steps_deterministically():
    torch.manual_seed(1)
    model = HRM(TINY).eval()
    tokens = torch.randint(1, 6, (3, 16))
    a, qa = model.solve(tokens)
    b, qb = model.solve(tokens)
    assert a.shape == (3, 16) and torch.equal(a, b) and torch.equal(qa, qb)
