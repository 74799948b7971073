"""Losses of the HRM/TRM family.

The published code uses "stablemax" cross-entropy instead of softmax, computed in float64:
s(x) = x + 1 for x >= 0 and 1 / (1 - x) for x < 0, p_i = s(x_i) / sum_j s(x_j). It grows linearly
rather than exponentially, which the HRM authors found avoids late-training blow-ups.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

IGNORE_INDEX = -100


def stablemax_log_probs(logits: torch.Tensor) -> torch.Tensor:
    """log(s(x) / sum s(x)) over the last axis, in float64."""
    x = logits.to(torch.float64)
    # The unused branch must stay finite: torch.where passes 0 * (its gradient) back, and 1 / (1 - x) at
    # x == 1 exactly (common once logits are rounded to bf16) would make that 0 * inf = NaN.
    s = torch.where(x >= 0, x + 1, 1 / (1 - x.clamp(max=0)))
    return torch.log(s) - torch.log(s.sum(dim=-1, keepdim=True))


def stablemax_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, ignore_index: int = IGNORE_INDEX
) -> torch.Tensor:
    """Per-token loss [B, S] (float64), 0 where ``labels == ignore_index``. logits [B, S, V], labels [B, S]."""
    valid = labels != ignore_index
    safe = torch.where(valid, labels, 0)
    nll = -stablemax_log_probs(logits).gather(-1, safe.unsqueeze(-1)).squeeze(-1)
    return torch.where(valid, nll, torch.zeros_like(nll))


def supervision_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    q_halt: torch.Tensor,
    *,
    halt_weight: float = 0.5,
    ignore_index: int = IGNORE_INDEX,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Loss of one supervision step, summed over the batch (divide by the global batch size outside).

    per sequence: mean token CE over labelled tokens + halt_weight * BCE(q_halt, answer exactly right),
    as the published ``ACTLossHead``. Returns (loss, metrics), the metrics summed over the batch too:
    ``token_accuracy`` (each sequence's share of right tokens), ``exact_accuracy`` (whole sequences right)
    and ``halt_bce``.
    """
    valid = labels != ignore_index
    counts = valid.sum(-1).clamp(min=1)
    token_ce = stablemax_cross_entropy(logits, labels, ignore_index).sum(-1) / counts
    correct_tokens = (logits.argmax(-1) == labels) & valid
    exact = correct_tokens.sum(-1) == valid.sum(-1)
    halt = F.binary_cross_entropy_with_logits(q_halt.float(), exact.float(), reduction="none")
    loss = (token_ce + halt_weight * halt.to(torch.float64)).sum()
    metrics = {
        "token_accuracy": (correct_tokens.sum(-1) / counts).float().sum().detach(),
        "exact_accuracy": exact.float().sum().detach(),
        "halt_bce": halt.sum().detach(),
    }
    return loss, metrics
