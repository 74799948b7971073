"""Hierarchical Reasoning Model (HRM; Wang et al., 2025): a slow module f_H over a fast module f_L.

Per ACT step the low level updates L_cycles times per high-level update, H_cycles times:

    z_L <- f_L(z_L + (z_H + x))    (L_cycles times)
    z_H <- f_H(z_H + z_L)          (once per high-level cycle)

Every update except the very last f_L and f_H runs without gradient: the "1-step gradient"
approximation, which replaces backpropagation through time. The carry is detached between ACT steps.
A Q head on z_H at position 0 gives (q_halt, q_continue) logits for adaptive computation time.

ACT (training only): a sample halts when q_halt > q_continue (or at ``max_steps``); the loss adds
BCE(q_continue, sigmoid(max(q_halt', q_continue'))) where the primes come from a second, no-grad step
from the new carry (q_halt' alone at the last step). Evaluation always runs every step.

Shapes: B batch, P = prefix_len (1 puzzle-embedding token), S = seq_len, L = P + S, D hidden.
The interface (``forward``, ``loss``, ``wants_halt``) is :class:`arena_agents.recursive.base.RecursiveModel`'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from arena_agents.recursive.base import RecursiveModel, StepOutput, SupervisionBatch
from arena_agents.recursive.layers import Block, Linear, PuzzleInput, RotaryEmbedding, Stack, fixed_latent, q_head


@dataclass(frozen=True)
class HRMConfig:
    vocab_size: int = 11  # from the env: Sudoku PAD, blank, digits; Maze 6
    seq_len: int = 81  # from the env: grid cells
    hidden: int = 512  # D
    heads: int = 8  # attention heads
    h_layers: int = 4  # blocks in f_H
    l_layers: int = 4  # blocks in f_L
    expansion: float = 4.0  # SwiGLU width factor
    h_cycles: int = 2  # f_H updates per ACT step
    l_cycles: int = 2  # f_L updates per f_H update
    max_steps: int = 16  # ACT steps (evaluation always runs all of them)
    prefix_len: int = 1  # puzzle-embedding prefix tokens
    num_puzzle_ids: int = 1  # Sudoku/Maze: one shared prefix
    rope_base: float = 10000.0  # 1-D RoPE base
    halt_loss_weight: float = 0.5  # weight of the halting and continue BCE terms in the loss

    def __post_init__(self) -> None:
        if min(self.h_cycles, self.l_cycles, self.max_steps) < 1:
            raise ValueError("h_cycles, l_cycles and max_steps must be >= 1")
        if self.hidden % self.heads:
            raise ValueError(f"hidden {self.hidden} is not divisible by heads {self.heads}")


class HRM(RecursiveModel):
    config_class = HRMConfig
    carry_buffers = ("zh_init", "zl_init")
    latent_names = ("z_H", "z_L")

    def __init__(self, config: HRMConfig) -> None:
        super().__init__()
        c = self.config = config
        length = c.prefix_len + c.seq_len
        self.inputs = PuzzleInput(c.vocab_size, c.hidden, c.prefix_len, c.num_puzzle_ids)
        rope = RotaryEmbedding(c.hidden // c.heads, length, c.rope_base)
        self.f_h = Stack([Block(c.hidden, c.heads, expansion=c.expansion) for _ in range(c.h_layers)], rope)
        self.f_l = Stack([Block(c.hidden, c.heads, expansion=c.expansion) for _ in range(c.l_layers)], rope)
        self.lm_head = Linear(c.hidden, c.vocab_size)
        self.q_head = q_head(c.hidden)
        self.register_buffer("zh_init", fixed_latent(c.hidden))
        self.register_buffer("zl_init", fixed_latent(c.hidden))

    def step(
        self, x: torch.Tensor, z_h: torch.Tensor, z_l: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """One ACT step: (z_H, z_L) detached, logits [B, S, V], q logits [B, 2] = (halt, continue)."""
        c = self.config
        with torch.no_grad():
            for h in range(c.h_cycles):
                for l in range(c.l_cycles):
                    if h == c.h_cycles - 1 and l == c.l_cycles - 1:
                        break  # the last f_L update runs with gradient below
                    z_l = self.f_l(z_l + (z_h + x))
                if h < c.h_cycles - 1:
                    z_h = self.f_h(z_h + z_l)
        z_l = self.f_l(z_l + (z_h + x))  # 1-step gradient: the last low-level update ...
        z_h = self.f_h(z_h + z_l)  # ... and the last high-level update
        logits = self.lm_head(z_h[:, c.prefix_len :])
        q = self.q_head(z_h[:, 0]).float()
        return z_h.detach(), z_l.detach(), logits, q

    def forward(
        self, tokens: torch.Tensor, carry: tuple[torch.Tensor, ...], puzzle_ids: torch.Tensor | None = None
    ) -> StepOutput:
        """One ACT step from tokens [B, S] and carry (z_H, z_L)."""
        z_h, z_l, logits, q = self.step(self.inputs(tokens, puzzle_ids), *carry)
        return StepOutput((z_h, z_l), logits, q[:, 0], q[:, 1])

    def loss(self, out: StepOutput, batch: SupervisionBatch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """TRM's loss plus halt_loss_weight * BCE(q_continue, target), the target from a second no-grad step."""
        assert out.q_continue is not None
        loss, sums = super().loss(out, batch)
        with torch.no_grad():
            following = self(batch.inputs, out.carry, batch.puzzle_ids)
            best = torch.maximum(following.q_halt, following.q_continue)
            target = torch.sigmoid(torch.where(batch.steps >= batch.max_steps, following.q_halt, best).float())
        continue_bce = F.binary_cross_entropy_with_logits(out.q_continue.float(), target, reduction="sum")
        sums["continue_bce"] = continue_bce.detach()
        return loss + self.config.halt_loss_weight * continue_bce.to(loss.dtype), sums

    def wants_halt(self, out: StepOutput) -> torch.Tensor:
        """[B] bool: ACT halts when the halting value beats the continuing one."""
        assert out.q_continue is not None
        return out.q_halt > out.q_continue

    def nfe_per_step(self) -> int:
        """Module applications per ACT step: H_cycles * L_cycles of f_L plus H_cycles of f_H."""
        return self.config.h_cycles * (self.config.l_cycles + 1)

    def gradient_nfe_per_step(self) -> int:
        """The 1-step gradient: the last f_L and the last f_H update."""
        return 2

    def train_flops_per_step(self) -> int:
        """The base count plus the second, no-grad forward that gives the Q-continue target."""
        return super().train_flops_per_step() + self.flops_per_step()

    def flops_per_step(self) -> int:
        """Forward FLOPs of one ACT step on one puzzle (the heads included)."""
        c = self.config
        length = c.prefix_len + c.seq_len
        modules = c.h_cycles * (c.l_cycles * self.f_l.flops(length) + self.f_h.flops(length))
        return modules + 2 * c.seq_len * c.hidden * c.vocab_size + 2 * c.hidden * 2
