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
    """shadow <- decay * shadow + (1 - decay) * weights, for evaluation (TRM uses decay 0.999).

    As in the published code, only trainable parameters are averaged: not buffers (the fixed initial
    latents), and not the puzzle embedding (a buffer there, trained by its own SignSGD), which evaluation
    takes as it is.
    """

    def __init__(self, model: nn.Module, decay: float = 0.999) -> None:
        if not 0 < decay < 1:
            raise ValueError(f"EMA decay must lie in (0, 1), got {decay}")
        self.decay = decay
        self.shadow = {name: p.detach().clone() for name, p in self._averaged(model)}

    @staticmethod
    def _averaged(model: nn.Module) -> list[tuple[str, torch.Tensor]]:
        return [(n, p) for n, p in model.named_parameters() if p.requires_grad and not n.endswith("puzzle_emb")]

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        for name, p in self._averaged(model):
            self.shadow[name].lerp_(p.detach(), 1 - self.decay)

    @torch.no_grad()
    def copy_to(self, model: nn.Module) -> None:
        """Put the averages into ``model``'s parameters (everything else stays as it is)."""
        params = dict(model.named_parameters())
        for name, value in self.shadow.items():
            params[name].copy_(value)

    def averaged_state(self, model: nn.Module) -> dict[str, torch.Tensor]:
        """``model``'s full state dict with the averages in place of the averaged parameters (what to save)."""
        return {**model.state_dict(), **self.shadow}

    def state_dict(self) -> dict[str, torch.Tensor]:
        return dict(self.shadow)

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Take the averaged entries from ``state`` (a full state dict, as saved, is fine)."""
        missing = sorted(set(self.shadow) - set(state))
        if missing:
            raise KeyError(f"EMA state lacks {missing}")
        self.shadow = {k: state[k].to(v.device).clone() for k, v in self.shadow.items()}


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
