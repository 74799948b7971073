"""Hierarchical Reasoning Model (HRM; Wang et al., 2025): a slow module f_H over a fast module f_L.

Per ACT step the low level updates L_cycles times per high-level update, H_cycles times:

    z_L <- f_L(z_L + z_H + x)      (L_cycles times)
    z_H <- f_H(z_H + z_L)          (once per high-level cycle)

Every update except the very last f_L and f_H runs without gradient: the "1-step gradient"
approximation, which replaces backpropagation through time. The carry is detached between ACT steps.
A Q head on z_H at position 0 gives (q_halt, q_continue) logits for adaptive computation time.

Shapes: B batch, P = prefix_len (1 puzzle-embedding token), S = seq_len, L = P + S, D hidden.
The ACT training loop (exploration, Q-continue targets from a second no-grad step) lives in
``train.py``, which drives the model through ``forward``, the same interface as TRM.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from arena_agents.recursive.layers import (
    Block,
    Linear,
    PuzzleInput,
    RecursiveModel,
    RotaryEmbedding,
    Stack,
    StepOutput,
    block_flops,
    fixed_latent,
    q_head,
)


@dataclass(frozen=True)
class HRMConfig:
    vocab_size: int = 11
    seq_len: int = 81
    hidden: int = 512
    heads: int = 8
    h_layers: int = 4  # blocks in f_H
    l_layers: int = 4  # blocks in f_L
    h_cycles: int = 2
    l_cycles: int = 2
    max_steps: int = 16  # ACT steps (evaluation always runs all of them)
    prefix_len: int = 1
    num_puzzle_ids: int = 1
    rope_base: float = 10000.0

    def __post_init__(self) -> None:
        if min(self.h_cycles, self.l_cycles, self.max_steps) < 1:
            raise ValueError("h_cycles, l_cycles and max_steps must be >= 1")
        if self.hidden % self.heads:
            raise ValueError(f"hidden {self.hidden} is not divisible by heads {self.heads}")


class HRM(RecursiveModel):
    carry_buffers = ("zh_init", "zl_init")

    def __init__(self, config: HRMConfig) -> None:
        super().__init__()
        c = self.config = config
        length = c.prefix_len + c.seq_len
        self.inputs = PuzzleInput(c.vocab_size, c.hidden, c.prefix_len, c.num_puzzle_ids)
        rope = RotaryEmbedding(c.hidden // c.heads, length, c.rope_base)
        self.f_h = Stack([Block(c.hidden, c.heads) for _ in range(c.h_layers)], rope)
        self.f_l = Stack([Block(c.hidden, c.heads) for _ in range(c.l_layers)], rope)
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
                    z_l = self.f_l(z_l + z_h + x)
                if h < c.h_cycles - 1:
                    z_h = self.f_h(z_h + z_l)
        z_l = self.f_l(z_l + z_h + x)  # 1-step gradient: the last low-level update ...
        z_h = self.f_h(z_h + z_l)  # ... and the last high-level update
        logits = self.lm_head(z_h[:, c.prefix_len :])
        q = self.q_head(z_h[:, 0]).float()
        return z_h.detach(), z_l.detach(), logits, q

    def forward(
        self, tokens: torch.Tensor, carry: tuple[torch.Tensor, torch.Tensor], puzzle_ids: torch.Tensor | None = None
    ) -> StepOutput:
        """One ACT step from tokens [B, S] and carry (z_H, z_L)."""
        z_h, z_l, logits, q = self.step(self.inputs(tokens, puzzle_ids), *carry)
        return StepOutput((z_h, z_l), logits, q[:, 0], q[:, 1])

    def nfe_per_step(self) -> int:
        """Module applications per ACT step: H_cycles * L_cycles of f_L plus H_cycles of f_H."""
        return self.config.h_cycles * (self.config.l_cycles + 1)

    def flops_per_step(self) -> int:
        c = self.config
        block = block_flops(c.hidden, c.prefix_len + c.seq_len)
        blocks = c.h_cycles * (c.l_cycles * c.l_layers + c.h_layers)
        return blocks * block + 2 * c.seq_len * c.hidden * c.vocab_size + 2 * c.hidden * 2
