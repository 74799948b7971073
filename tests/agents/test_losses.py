"""Stablemax cross-entropy and the supervision loss."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from arena_agents.recursive.losses import (  # noqa: E402
    IGNORE_INDEX,
    stablemax_cross_entropy,
    stablemax_log_probs,
    supervision_loss,
)


def test_stablemax_matches_its_definition_in_float64():
    logits = torch.tensor([[2.0, -1.0, 0.0, -3.0]])
    s = [3.0, 0.5, 1.0, 0.25]
    expected = [math.log(v / sum(s)) for v in s]
    got = stablemax_log_probs(logits)
    assert got.dtype == torch.float64
    assert torch.allclose(got, torch.tensor([expected], dtype=torch.float64), atol=1e-12)
    assert torch.allclose(got.exp().sum(-1), torch.ones(1, dtype=torch.float64))


def test_cross_entropy_ignores_and_decreases_with_confidence():
    labels = torch.tensor([[1, IGNORE_INDEX]])
    weak = torch.tensor([[[0.0, 1.0, 0.0], [5.0, 0.0, 0.0]]])
    strong = torch.tensor([[[0.0, 9.0, 0.0], [5.0, 0.0, 0.0]]])
    lw, ls = stablemax_cross_entropy(weak, labels), stablemax_cross_entropy(strong, labels)
    assert lw[0, 1] == 0 and ls[0, 1] == 0
    assert ls[0, 0] < lw[0, 0]
    assert lw[0, 0].item() == pytest.approx(-math.log(2 / 4))


def test_supervision_loss_targets_exact_correctness():
    labels = torch.tensor([[0, 1], [1, 1]])
    logits = torch.tensor([[[5.0, 0.0], [0.0, 5.0]], [[5.0, 0.0], [0.0, 5.0]]])  # predicts [0, 1] twice
    q = torch.tensor([3.0, -3.0])  # confident "right" for the first, "wrong" for the second: both correct
    loss, m = supervision_loss(logits, labels, q)
    assert m["exact_accuracy"].item() == 1.0 and m["token_accuracy"].item() == 1.5  # sums over the batch of 2
    _, m_bad = supervision_loss(logits, labels, -q)
    assert m_bad["halt_bce"] > m["halt_bce"]
    assert loss.dtype == torch.float64 and loss.item() > 0


def test_stablemax_gradient_is_finite_where_a_logit_is_exactly_one():
    # bf16 rounding makes logits of exactly 1.0 common; a naive where() turns the other branch's inf into NaN
    logits = torch.tensor([[[1.0, -1.0, 0.0, 2.0]]], dtype=torch.bfloat16, requires_grad=True)
    stablemax_cross_entropy(logits, torch.tensor([[0]])).sum().backward()
    assert torch.isfinite(logits.grad).all()
