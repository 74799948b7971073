"""TRM: paper-size parameter counts, shapes, the no-grad/grad split of a supervision step, inference."""

from __future__ import annotations

from dataclasses import replace

import pytest

torch = pytest.importorskip("torch")

from arena_agents.recursive.trm import TRM, TRMConfig  # noqa: E402

TINY = TRMConfig(vocab_size=6, seq_len=16, hidden=32, heads=4, n_latent=2, t_cycles=3, max_steps=4, prefix_len=2)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (TRMConfig(), 6_828_034),  # TRM-Att, Sudoku
        (TRMConfig(mlp_mixer=True), 5_028_866),  # TRM-MLP, Sudoku
        (TRMConfig(vocab_size=6, seq_len=900, n_latent=4), 6_822_914),  # Maze
        (TRMConfig(vocab_size=12, seq_len=900, n_latent=4), 6_829_058),  # ARC
    ],
    ids=["att-sudoku", "mlp-sudoku", "att-maze", "att-arc"],
)
def test_parameter_counts_match_the_paper(config, expected):
    assert TRM(config).size() == expected


@pytest.mark.parametrize("mlp", [False, True])
def test_step_shapes_and_backward(mlp):
    torch.manual_seed(0)
    cfg = replace(TINY, mlp_mixer=mlp)
    model = TRM(cfg)
    tokens = torch.randint(1, 6, (3, 16))
    x = model.input_embedding(tokens)
    y, z = model.initial_carry(3)
    assert x.shape == y.shape == z.shape == (3, 18, 32)
    y2, z2, logits, q = model.step(x, y, z)
    assert logits.shape == (3, 16, 6) and q.shape == (3,)
    assert not y2.requires_grad and not z2.requires_grad  # the carry is detached between supervision steps
    (logits.float().logsumexp(-1).mean() + q.mean()).backward()
    assert all(p.grad is not None for n, p in model.named_parameters() if n != "puzzle_emb")
    assert torch.allclose(q, torch.full_like(q, -5.0))  # q head starts at "never halt"


def test_only_the_last_cycle_carries_gradient():
    torch.manual_seed(1)
    tokens = torch.randint(1, 6, (2, 16))
    for t_cycles, carry_gets_grad in ((3, False), (1, True)):
        model = TRM(replace(TINY, t_cycles=t_cycles))
        x = model.input_embedding(tokens)
        y, z = (c.clone().requires_grad_(True) for c in model.initial_carry(2))
        _, _, logits, _ = model.step(x, y, z)
        logits.sum().backward()
        # with T-1 >= 1 no-grad cycles in front, nothing flows back into the incoming carry
        assert (y.grad is not None and y.grad.abs().sum() > 0) == carry_gets_grad
        assert (z.grad is not None and z.grad.abs().sum() > 0) == carry_gets_grad


def test_solve_is_fixed_step_and_deterministic():
    torch.manual_seed(2)
    model = TRM(TINY).eval()
    tokens = torch.randint(1, 6, (4, 16))
    pred, q = model.solve(tokens)
    pred2, q2 = model.solve(tokens)
    assert pred.shape == (4, 16) and q.shape == (4,)
    assert torch.equal(pred, pred2) and torch.equal(q, q2)
    assert ((q > 0) & (q < 1)).all()


def test_bad_config():
    with pytest.raises(ValueError, match="not divisible"):
        TRMConfig(hidden=30, heads=4)
