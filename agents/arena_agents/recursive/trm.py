"""Tiny Recursive Model (TRM; Jolicoeur-Martineau, 2025): one small network applied recursively.

Symbols follow the paper: x is the embedded question, y the current answer (latent), z the reasoning
latent. One *supervision step* runs T cycles; a cycle is n latent updates followed by one answer update

    z <- net(z + (y + x))   (n times)
    y <- net(y + z)

The first T-1 cycles run without gradient, the last one with it, and the carry (y, z) is detached
before the next supervision step (deep supervision, up to ``max_steps`` = 16). The answer is read from
y by a linear head; a halting head reads y at position 0 and is trained with BCE on "the answer is
exactly right" (``q_halt > 0`` halts at training time; evaluation runs every step). In the published code
y is ``z_H`` and z is ``z_L``; the additions keep its order, so fp32 results match it to rounding.

Shapes: B batch, P = prefix_len puzzle-embedding tokens, S = seq_len grid tokens, L = P + S, D hidden.
The interface (``forward``, ``loss``, ``wants_halt``) is :class:`arena_agents.recursive.base.RecursiveModel`'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from arena_agents.recursive.base import RecursiveModel, StepOutput
from arena_agents.recursive.layers import Block, Linear, PuzzleInput, RotaryEmbedding, Stack, fixed_latent, q_head


@dataclass(frozen=True)
class TRMConfig:
    vocab_size: int = 11  # Sudoku: PAD, blank, digits 1..9
    seq_len: int = 81  # S
    hidden: int = 512  # D
    heads: int = 8  # attention heads (TRM-MLP: unused by the mixer)
    layers: int = 2  # blocks in the single network
    expansion: float = 4.0  # SwiGLU width factor (before the 2/3 and the rounding to 256)
    n_latent: int = 6  # n: latent updates per cycle (6 Sudoku, 4 Maze/ARC)
    t_cycles: int = 3  # T: cycles per supervision step
    max_steps: int = 16  # supervision steps
    prefix_len: int = 16  # P: 1 learned puzzle-embedding token + 15 zero tokens
    num_puzzle_ids: int = 1  # Sudoku/Maze: one shared prefix; ARC: one per augmented task
    mlp_mixer: bool = False  # TRM-MLP: a SwiGLU over the sequence instead of attention (no positions)
    mixer_hidden: int | None = None  # TRM-MLP mixer width; None = the published rule, swiglu_hidden(L)
    rope_base: float = 10000.0  # 1-D RoPE base (attention only)
    halt_loss_weight: float = 0.5  # weight of the halting BCE in the loss

    def __post_init__(self) -> None:
        if self.t_cycles < 1 or self.n_latent < 1 or self.max_steps < 1:
            raise ValueError("t_cycles, n_latent and max_steps must be >= 1")
        if self.hidden % self.heads:
            raise ValueError(f"hidden {self.hidden} is not divisible by heads {self.heads}")


class TRM(RecursiveModel):
    config_class = TRMConfig
    carry_buffers = ("y_init", "z_init")
    latent_names = ("y", "z")

    def __init__(self, config: TRMConfig) -> None:
        super().__init__()
        c = self.config = config
        length = c.prefix_len + c.seq_len
        self.inputs = PuzzleInput(c.vocab_size, c.hidden, c.prefix_len, c.num_puzzle_ids)
        mixer = length if c.mlp_mixer else None
        blocks = [
            Block(c.hidden, c.heads, mixer_length=mixer, mixer_hidden=c.mixer_hidden, expansion=c.expansion)
            for _ in range(c.layers)
        ]
        self.net = Stack(blocks, None if c.mlp_mixer else RotaryEmbedding(c.hidden // c.heads, length, c.rope_base))
        self.lm_head = Linear(c.hidden, c.vocab_size)
        self.q_head = q_head(c.hidden)  # (q_halt, q_continue); TRM trains only q_halt
        self.register_buffer("y_init", fixed_latent(c.hidden))
        self.register_buffer("z_init", fixed_latent(c.hidden))

    def input_embedding(self, tokens: torch.Tensor, puzzle_ids: torch.Tensor | None = None) -> torch.Tensor:
        """x: [B, L, D] from tokens [B, S] (int64)."""
        return self.inputs(tokens, puzzle_ids)

    def _cycle(self, x: torch.Tensor, y: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        for _ in range(self.config.n_latent):
            z = self.net(z + (y + x))
        y = self.net(y + z)
        return y, z

    def step(
        self, x: torch.Tensor, y: torch.Tensor, z: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """One supervision step. Returns (y, z) detached for the next step, logits [B, S, V], q_halt [B]."""
        with torch.no_grad():
            for _ in range(self.config.t_cycles - 1):
                y, z = self._cycle(x, y, z)
        y, z = self._cycle(x, y, z)  # the only cycle that carries gradient
        logits = self.lm_head(y[:, self.config.prefix_len :])
        q_halt = self.q_head(y[:, 0]).float()[:, 0]
        return y.detach(), z.detach(), logits, q_halt

    def forward(
        self, tokens: torch.Tensor, carry: tuple[torch.Tensor, ...], puzzle_ids: torch.Tensor | None = None
    ) -> StepOutput:
        """One supervision step from tokens [B, S] and carry (y, z); x is re-embedded every step."""
        y, z, logits, q_halt = self.step(self.input_embedding(tokens, puzzle_ids), *carry)
        return StepOutput((y, z), logits, q_halt)

    def nfe_per_step(self) -> int:
        """Applications of the network per supervision step: T cycles of (n latent + 1 answer) updates."""
        return self.config.t_cycles * (self.config.n_latent + 1)

    def gradient_nfe_per_step(self) -> int:
        """The last cycle's n latent updates and one answer update carry gradient."""
        return self.config.n_latent + 1

    def flops_per_step(self) -> int:
        """Forward FLOPs of one supervision step on one puzzle (all T cycles, the answer head included)."""
        c = self.config
        heads = 2 * c.seq_len * c.hidden * c.vocab_size + 2 * c.hidden * 2  # answer head on S tokens, q head on one
        return self.nfe_per_step() * self.net.flops(c.prefix_len + c.seq_len) + heads
