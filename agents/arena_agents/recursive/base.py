"""The interface every recursive model implements, so the trainer and the agents never ask which model they have.

A recursive model is applied one *supervision step* at a time (TRM's deep-supervision step, HRM's ACT step):

    out = model(tokens, carry)          tokens [B, S] int64, carry: the model's latents, each [B, L, D]
    loss, sums = model.loss(out, batch) the step's loss summed over the batch, with metric sums for the log
    halt = model.wants_halt(out)        [B] bool: the model's own halting rule (training only)

``forward`` returns a :class:`StepOutput`; the carry it holds is detached, so a trainer can keep it across
optimiser steps. A model owns its loss (nanoGPT's ``GPT.forward`` returns the loss): a loss that needs a
second forward (HRM's Q-continue target), the labels, or terms beyond logits and q (``StepOutput.extras``)
needs no branch in the trainer. Shapes: B batch, S grid tokens, P prefix tokens, L = P + S, D hidden, V vocab.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar, NamedTuple

import torch
from torch import nn

from arena_agents.recursive.layers import counted_parameters
from arena_agents.recursive.losses import supervision_loss


class StepOutput(NamedTuple):
    """What one supervision step returns to the trainer, the loss and the agent.

    carry: the detached latents for the next step, as many as the model has (TRM (y, z), HRM (z_H, z_L)),
    each [B, L, D]; logits [B, S, V]; q_halt [B] (fp32); q_continue [B] for HRM's ACT, None for models that
    train only the halting logit; extras: anything else the model's own loss needs, by name (empty for TRM
    and HRM).
    """

    carry: tuple[torch.Tensor, ...]
    logits: torch.Tensor
    q_halt: torch.Tensor
    q_continue: torch.Tensor | None = None
    extras: MappingProxyType[str, torch.Tensor] = MappingProxyType({})


@dataclass(frozen=True)
class SupervisionBatch:
    """What a model's loss may look at for one supervision step (tensors on the model's device).

    inputs [B, S] int64 tokens; labels [B, S] int64 (``losses.IGNORE_INDEX`` where not scored); steps [B]:
    supervision steps each slot has taken including this one (1 = its first); max_steps: the halting limit;
    puzzle_ids [B] or None (one shared puzzle embedding); optimizer_step: the trainer's step count (0 = the
    first), for losses with a schedule (GRAM's KL warmup).
    """

    inputs: torch.Tensor
    labels: torch.Tensor
    steps: torch.Tensor
    max_steps: int
    puzzle_ids: torch.Tensor | None = None
    optimizer_step: int = 0


class RecursiveModel(nn.Module):
    """Base of TRM, HRM and their descendants: the parameter count, initial latents, the default loss and
    halting rule (TRM's), and fixed-step inference.

    A subclass sets ``config_class`` (its frozen config dataclass, which has at least ``prefix_len``,
    ``seq_len``, ``hidden``, ``max_steps`` and ``halt_loss_weight``), ``carry_buffers`` (its initial-latent
    buffers, [D] each, in carry order) and ``latent_names`` (the paper's names for them), and implements
    ``forward``, ``nfe_per_step`` and ``flops_per_step``.
    """

    config_class: ClassVar[type]
    carry_buffers: ClassVar[tuple[str, ...]]
    latent_names: ClassVar[tuple[str, ...]]
    config: Any

    def forward(
        self, tokens: torch.Tensor, carry: tuple[torch.Tensor, ...], puzzle_ids: torch.Tensor | None = None
    ) -> StepOutput:
        raise NotImplementedError

    def nfe_per_step(self) -> int:
        """Network applications per supervision step (the cost unit the harness records)."""
        raise NotImplementedError

    def flops_per_step(self) -> int:
        """Forward FLOPs of one supervision step on one puzzle."""
        raise NotImplementedError

    def train_flops_per_step(self) -> int:
        """Training FLOPs of one supervision step on one sample: the forward of every update, plus the
        backward (2x forward) of those that carry gradient. Models whose loss runs more (HRM's second
        forward) add it."""
        forward = self.flops_per_step()
        return forward + 2 * forward * self.gradient_nfe_per_step() // self.nfe_per_step()

    def gradient_nfe_per_step(self) -> int:
        """How many of the step's network applications carry gradient."""
        raise NotImplementedError

    def size(self) -> int:
        """Parameters as the papers count them (the puzzle embedding excluded)."""
        return counted_parameters(self)

    def initial_carry(self, batch: int, device: torch.device | None = None) -> tuple[torch.Tensor, ...]:
        """The carry's latents, each [B, L, D], from the fixed initial vectors."""
        c = self.config
        shape = (batch, c.prefix_len + c.seq_len, c.hidden)
        return tuple(getattr(self, name).to(device).expand(shape).clone() for name in self.carry_buffers)

    def training_inputs(self, batch: SupervisionBatch, noise: Callable[[], torch.Tensor]) -> dict[str, torch.Tensor]:
        """Keyword inputs of ``forward`` while training, beyond tokens and carry (none for TRM and HRM).

        ``noise()`` draws [B, L, D] standard normal noise, a pure function of (seed, optimiser step, global
        slot), so a stochastic model (GRAM) resumes exactly and any split over processes draws the same."""
        return {}

    def loss(self, out: StepOutput, batch: SupervisionBatch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """TRM's loss, summed over the batch (the trainer divides by the global batch):

        per sequence mean token stablemax CE + halt_loss_weight * BCE(q_halt, answer exactly right).
        Returns (loss, sums of the per-sequence metrics for the log).
        """
        return supervision_loss(out.logits, batch.labels, out.q_halt, halt_weight=self.config.halt_loss_weight)

    def wants_halt(self, out: StepOutput) -> torch.Tensor:
        """[B] bool: TRM halts a training sample when its halting logit is positive."""
        return out.q_halt > 0

    @torch.no_grad()
    def solve(self, tokens: torch.Tensor, steps: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Fixed-step inference, a batch finishing together: (predicted tokens [B, S], sigmoid(q_halt) [B])."""
        carry = self.initial_carry(tokens.shape[0], tokens.device)
        out = None
        for _ in range(steps or self.config.max_steps):
            out = self(tokens, carry)
            carry = out.carry
        assert out is not None
        return out.logits.argmax(-1), torch.sigmoid(out.q_halt.float())
