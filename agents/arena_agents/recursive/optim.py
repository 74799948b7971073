"""Optimisation pieces of the HRM/TRM recipe: AdamATan2 and an exponential moving average of weights.

AdamATan2 (the published TRM optimiser) replaces Adam's m / (sqrt(v) + eps) by atan2(m, sqrt(v)), which
needs no epsilon and is bounded. Per step t, with bias corrections bc1 = 1 - b1^t, bc2 = 1 - b2^t:

    p <- p * (1 - lr * wd)                               (decoupled weight decay)
    m <- b1 m + (1 - b1) g ;  v <- b2 v + (1 - b2) g^2
    p <- p - (lr / bc1) * atan2(m, sqrt(v) / sqrt(bc2))

(The PyPI package ``adam-atan2-pytorch`` is not this: it adds a scale factor and decays differently.)
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import nn


class AdamATan2(torch.optim.Optimizer):
    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict],
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.9, 0.95),
        weight_decay: float = 0.1,
    ) -> None:
        if lr < 0 or weight_decay < 0 or not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"invalid AdamATan2 settings lr={lr} betas={betas} weight_decay={weight_decay}")
        super().__init__(params, {"lr": lr, "betas": betas, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure=None):  # torch.optim.Optimizer signature
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            lr, (b1, b2), wd = group["lr"], group["betas"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["m"] = torch.zeros_like(p)
                    state["v"] = torch.zeros_like(p)
                state["step"] += 1
                t = state["step"]
                m, v = state["m"], state["v"]
                p.mul_(1 - lr * wd)
                m.lerp_(p.grad, 1 - b1)
                v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                bc1, bc2 = 1 - b1**t, 1 - b2**t
                p.sub_(torch.atan2(m, v.sqrt() / bc2**0.5), alpha=lr / bc1)
        return loss


class EMA:
    """shadow <- decay * shadow + (1 - decay) * weights, for evaluation (TRM uses decay 0.999)."""

    def __init__(self, model: nn.Module, decay: float = 0.999) -> None:
        if not 0 < decay < 1:
            raise ValueError(f"EMA decay must lie in (0, 1), got {decay}")
        self.decay = decay
        self.shadow = {k: v.detach().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        for k, v in model.state_dict().items():
            if v.dtype.is_floating_point:
                self.shadow[k].lerp_(v, 1 - self.decay)
            else:
                self.shadow[k].copy_(v)

    def copy_to(self, model: nn.Module) -> None:
        model.load_state_dict(self.shadow)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return dict(self.shadow)

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.shadow = {k: v.clone() for k, v in state.items()}


class SignSGD(torch.optim.Optimizer):
    """The puzzle-embedding optimiser of the published HRM/TRM code: p <- p * (1 - lr * wd) - lr * sign(g).

    The embeddings there are sparse (one row per puzzle id); a sign step moves every touched row by the same
    amount whatever the size of its gradient, which is why it gets its own learning rate.
    """

    def __init__(self, params: Iterable[torch.Tensor] | Iterable[dict], lr: float = 1e-4, weight_decay: float = 0.1):
        if lr < 0 or weight_decay < 0:
            raise ValueError(f"invalid SignSGD settings lr={lr} weight_decay={weight_decay}")
        super().__init__(params, {"lr": lr, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure=None):  # torch.optim.Optimizer signature
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                touched = p.grad.ne(0).any(dim=-1, keepdim=True) if p.dim() > 1 else p.grad.ne(0)
                decay = torch.where(touched, 1 - group["lr"] * group["weight_decay"], 1.0)
                p.mul_(decay).sub_(torch.sign(p.grad), alpha=group["lr"])
        return loss


def lr_factor(step: int, *, warmup: int, total: int, schedule: str = "constant", min_ratio: float = 1.0) -> float:
    """Learning-rate multiplier at optimiser step ``step`` (0-based).

    Linear warmup from 0 over ``warmup`` steps, then ``constant`` (TRM: 1.0) or ``cosine`` decay from 1 to
    ``min_ratio`` at ``total`` steps (HRM's cosine-with-warmup, used by the later models).
    """
    if step < warmup:
        return (step + 1) / warmup
    if schedule == "constant":
        return 1.0
    if schedule != "cosine":
        raise ValueError(f"unknown schedule {schedule!r}; choose constant or cosine")
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
