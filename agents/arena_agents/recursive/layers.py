"""Building blocks shared by the recursive models (HRM, TRM and their descendants).

Conventions follow the published HRM/TRM code so that parameter counts and numbers are comparable:
no biases, RMSNorm without a gain computed in fp32, post-norm residual blocks, SwiGLU feed-forward
layers, 1-D rotary position embeddings over the row-major grid (prefix tokens first), truncated LeCun
normal initialisation. Shapes use B = batch, L = sequence length, D = hidden size, H = heads, Dh = D / H.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

try:  # optional: flash-attn is only built on CUDA machines
    from flash_attn import flash_attn_func  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the machine
    flash_attn_func = None


class StepOutput(NamedTuple):
    """What one supervision (TRM) or ACT (HRM) step returns to the trainer and the agent.

    carry: the detached latents for the next step, each [B, L, D]; logits [B, S, V]; q_halt [B] (fp32);
    q_continue [B] for HRM's ACT, None for TRM (which trains only the halting logit).
    """

    carry: tuple[torch.Tensor, torch.Tensor]
    logits: torch.Tensor
    q_halt: torch.Tensor
    q_continue: torch.Tensor | None


def swiglu_hidden(dim: int, expansion: float = 4.0, multiple: int = 256) -> int:
    """Intermediate width of a SwiGLU layer: round_up(round(expansion * dim * 2/3), multiple).

    The 2/3 keeps the parameter count of a ReLU MLP with the same expansion (three matrices, not two);
    for D = 512 this gives 1536.
    """
    width = round(expansion * dim * 2 / 3)
    return -(-width // multiple) * multiple


def trunc_lecun_normal_(weight: torch.Tensor, fan_in: int | None = None) -> torch.Tensor:
    """Truncated LeCun normal: N(0, 1/fan_in) cut at 2 standard deviations, rescaled so the std is exact.

    A normal truncated at +-2 sigma has std 0.8796 sigma, so we sample with sigma / 0.8796.
    """
    fan_in = fan_in if fan_in is not None else weight.shape[-1]
    std = 1.0 / math.sqrt(fan_in)
    truncated_std = 0.87962566103423978  # std of N(0,1) restricted to [-2, 2]
    with torch.no_grad():
        nn.init.trunc_normal_(
            weight, mean=0.0, std=std / truncated_std, a=-2 * std / truncated_std, b=2 * std / truncated_std
        )
    return weight


class Linear(nn.Linear):
    """A bias-free (by default) linear layer with truncated LeCun normal init."""

    def __init__(self, in_features: int, out_features: int, bias: bool = False) -> None:
        super().__init__(in_features, out_features, bias=bias)
        trunc_lecun_normal_(self.weight, in_features)
        if self.bias is not None:
            nn.init.zeros_(self.bias)


def rms_norm(x: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """x / sqrt(mean(x^2) + eps) over the last axis, computed in fp32, returned in x's dtype. No gain."""
    x32 = x.float()
    return (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype)


class SwiGLU(nn.Module):
    """down(silu(gate(x)) * up(x)); gate and up share one matrix [D -> 2F]."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.gate_up = Linear(dim, 2 * hidden)
        self.down = Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate, up = self.gate_up(x).chunk(2, dim=-1)
        return self.down(F.silu(gate) * up)


class RotaryEmbedding(nn.Module):
    """1-D rotary position embedding: cos/sin tables [L, Dh] for positions 0..L-1 (base 10000)."""

    def __init__(self, head_dim: int, max_len: int, base: float = 10000.0) -> None:
        super().__init__()
        inv_freq = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
        angles = torch.outer(torch.arange(max_len, dtype=torch.float32), inv_freq)  # [L, Dh/2]
        angles = torch.cat([angles, angles], dim=-1)  # [L, Dh]: the two halves rotate together
        self.register_buffer("cos", angles.cos(), persistent=False)
        self.register_buffer("sin", angles.sin(), persistent=False)

    def forward(self, length: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.cos[:length], self.sin[:length]


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate pairs (x_i, x_{i+Dh/2}) by the position's angle. x: [B, L, H, Dh]; cos/sin: [L, Dh]."""
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    cos, sin = cos[None, :, None, :].to(x.dtype), sin[None, :, None, :].to(x.dtype)
    return x * cos + rotated * sin


class Attention(nn.Module):
    """Non-causal multi-head self-attention with RoPE; flash-attn when installed, else PyTorch SDPA."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"hidden size {dim} is not divisible by {heads} heads")
        self.heads, self.head_dim = heads, dim // heads
        self.qkv = Linear(dim, 3 * dim)
        self.out = Linear(dim, dim)

    def forward(self, x: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        b, length, _ = x.shape
        q, k, v = self.qkv(x).view(b, length, 3, self.heads, self.head_dim).unbind(dim=2)  # [B, L, H, Dh]
        if rope is not None:
            q, k = apply_rotary(q, *rope), apply_rotary(k, *rope)
        if flash_attn_func is not None and x.is_cuda and x.dtype in (torch.float16, torch.bfloat16):
            y = flash_attn_func(q, k, v, causal=False)  # pragma: no cover - CUDA only
        else:
            y = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)).transpose(1, 2)
        return self.out(y.reshape(b, length, -1))


class TokenMixer(nn.Module):
    """The MLP-mixer replacement for attention (TRM-MLP): a SwiGLU across the sequence axis. No positions."""

    def __init__(self, length: int, hidden: int) -> None:
        super().__init__()
        self.mlp = SwiGLU(length, hidden)

    def forward(self, x: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        return self.mlp(x.transpose(1, 2)).transpose(1, 2)  # mix [B, D, L] along L


class Block(nn.Module):
    """Post-norm residual block: x = rms(x + mix(x)); x = rms(x + swiglu(x))."""

    def __init__(
        self, dim: int, heads: int, *, mixer_length: int | None = None, mixer_hidden: int = 512, eps: float = 1e-5
    ) -> None:
        super().__init__()
        self.mix: nn.Module = TokenMixer(mixer_length, mixer_hidden) if mixer_length else Attention(dim, heads)
        self.mlp = SwiGLU(dim, swiglu_hidden(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        x = rms_norm(x + self.mix(x, rope), self.eps)
        return rms_norm(x + self.mlp(x), self.eps)


class PuzzleInput(nn.Module):
    """x = [prefix ; sqrt(D) * embed(tokens)]: [B, P + S, D].

    The prefix holds P tokens: the first is a learned embedding of the puzzle id (one shared id for Sudoku
    and Maze, one per augmented task for ARC), the rest are zeros. The papers train ``puzzle_emb`` with
    its own optimiser and leave it out of their parameter counts.
    """

    def __init__(self, vocab_size: int, dim: int, prefix_len: int, num_puzzle_ids: int = 1) -> None:
        super().__init__()
        self.dim, self.prefix_len = dim, prefix_len
        self.embed = nn.Embedding(vocab_size, dim)
        std = 1 / math.sqrt(dim)
        nn.init.trunc_normal_(self.embed.weight, std=std, a=-2 * std, b=2 * std)
        self.puzzle_emb = nn.Parameter(torch.zeros(num_puzzle_ids, dim))

    def forward(self, tokens: torch.Tensor, puzzle_ids: torch.Tensor | None = None) -> torch.Tensor:
        b = tokens.shape[0]
        ids = puzzle_ids if puzzle_ids is not None else torch.zeros(b, dtype=torch.long, device=tokens.device)
        prefix = torch.zeros(b, self.prefix_len, self.dim, device=tokens.device, dtype=self.embed.weight.dtype)
        if self.prefix_len:
            prefix[:, 0] = self.puzzle_emb[ids]
        return torch.cat([prefix, self.embed(tokens) * math.sqrt(self.dim)], dim=1)


class Stack(nn.Module):
    """Blocks applied in order, sharing one rotary table (None for the token-mixer variant)."""

    def __init__(self, blocks: list[Block], rope: RotaryEmbedding | None) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.rope = rope

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        rope = self.rope(h.shape[1]) if self.rope is not None else None
        for block in self.blocks:
            h = block(h, rope)
        return h


def counted_parameters(module: nn.Module) -> int:
    """Parameters as the HRM/TRM papers count them: everything but the puzzle embedding."""
    return sum(p.numel() for name, p in module.named_parameters() if not name.endswith("puzzle_emb"))


def q_head(dim: int) -> nn.Linear:
    """(q_halt, q_continue) logits from position 0; weight 0 and bias -5, so a fresh model never halts."""
    head = nn.Linear(dim, 2)
    nn.init.zeros_(head.weight)
    nn.init.constant_(head.bias, -5.0)
    return head


def fixed_latent(dim: int) -> torch.Tensor:
    """An initial latent vector, truncated normal with std 1; registered as a buffer, never trained."""
    return nn.init.trunc_normal_(torch.empty(dim), std=1.0, a=-2.0, b=2.0)


def block_flops(dim: int, length: int, *, mixer_length: int | None = None, mixer_hidden: int = 512) -> int:
    """Multiply-add FLOPs (2 per MAC) of one :class:`Block` on one sequence of ``length`` tokens.

    Attention: qkv 2*L*D*3D, scores and weighted sum 2 * 2*L*L*D, output 2*L*D*D. Token mixer: a SwiGLU
    over L applied to each of the D channels, 2*D*(L*2F + F*L). SwiGLU MLP: 2*L*(D*2F + F*D). Norms,
    activations and RoPE are elementwise and left out, as in the usual 6*N*T accounting.
    """
    f = swiglu_hidden(dim)
    mlp = 2 * length * 3 * dim * f
    if mixer_length is not None:
        mix = 2 * dim * 3 * mixer_length * mixer_hidden
    else:
        mix = 2 * length * 4 * dim * dim + 4 * length * length * dim
    return mlp + mix


class RecursiveModel(nn.Module):
    """What TRM and HRM share around their step: the parameter count, fixed initial latents, and fixed-step
    inference. A subclass sets ``carry_buffers`` (the names of its two initial-latent buffers, [D] each), and
    implements ``forward(tokens, carry) -> StepOutput`` and ``config`` (with prefix_len, seq_len, hidden,
    max_steps)."""

    carry_buffers: tuple[str, str]
    config: Any

    def size(self) -> int:
        """Parameters as the papers count them (the puzzle embedding excluded)."""
        return counted_parameters(self)

    def initial_carry(self, batch: int, device: torch.device | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The two latents of the carry, each [B, L, D], from the fixed initial vectors."""
        c = self.config
        shape = (batch, c.prefix_len + c.seq_len, c.hidden)
        first, second = (getattr(self, name).to(device).expand(shape).clone() for name in self.carry_buffers)
        return first, second

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
