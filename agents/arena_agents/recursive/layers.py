"""Building blocks shared by the recursive models (HRM, TRM and their descendants); the model interface
they implement is in ``base.py``.

Conventions follow the published HRM/TRM code so that parameter counts and numbers are comparable:
no biases, RMSNorm without a gain computed in fp32, post-norm residual blocks, SwiGLU feed-forward
layers, 1-D rotary position embeddings over the row-major grid (prefix tokens first), truncated LeCun
normal initialisation. Shapes use B = batch, L = sequence length, D = hidden size, H = heads, Dh = D / H.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

try:  # optional: flash-attn is only built on CUDA machines
    from flash_attn import flash_attn_func  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the machine
    flash_attn_func = None


def swiglu_hidden(dim: int, expansion: float = 4.0, multiple: int = 256) -> int:
    """Intermediate width of a SwiGLU layer: round_up(round(expansion * dim * 2/3), multiple).

    The 2/3 keeps the parameter count of a ReLU MLP with the same expansion (three matrices, not two);
    for D = 512 this gives 1536, for TRM-MLP's sequence mixer over L = 97 it gives 512, over 916 (Maze) 2560.
    """
    width = round(expansion * dim * 2 / 3)
    return -(-width // multiple) * multiple


TRUNCATED_STD = 0.87962566103423978  # std of N(0, 1) restricted to [-2, 2]


def trunc_normal_(tensor: torch.Tensor, std: float) -> torch.Tensor:
    """A normal truncated at 2 of its sigmas whose *actual* std is ``std`` (the published code's init).

    ``nn.init.trunc_normal_(std=s)`` returns a std of only 0.88 s: a normal cut at +-2 sigma has std 0.8796
    sigma. The published HRM/TRM init (a port of JAX's) corrects for that, so we sample with sigma =
    std / 0.8796 and cut at +-2 sigma.
    """
    sigma = std / TRUNCATED_STD
    with torch.no_grad():
        return nn.init.trunc_normal_(tensor, mean=0.0, std=sigma, a=-2 * sigma, b=2 * sigma)


def trunc_lecun_normal_(weight: torch.Tensor, fan_in: int | None = None) -> torch.Tensor:
    """Truncated LeCun normal: std exactly 1/sqrt(fan_in) (see :func:`trunc_normal_`)."""
    fan_in = fan_in if fan_in is not None else weight.shape[-1]
    return trunc_normal_(weight, 1.0 / math.sqrt(fan_in))


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


class Block(nn.Module):
    """Post-norm residual block: x = rms(x + mix(x)); x = rms(x + swiglu(x)).

    ``mix`` is attention with RoPE, or for TRM-MLP (``mixer_length`` = L) a SwiGLU across the sequence axis
    with no positions. The token mixer works on the transposed tensor [B, D, L], and, as in the published
    ``mlp_t`` block, its residual and RMSNorm are applied *before* transposing back: that norm runs over the
    sequence axis L, not over D. (Normalising over D instead changes the logits by up to 5.5 on identical
    weights; the golden tests in tests/agents/test_golden.py pin this.)
    """

    def __init__(
        self,
        dim: int,
        heads: int,
        *,
        mixer_length: int | None = None,
        mixer_hidden: int | None = None,
        expansion: float = 4.0,
        eps: float = 1e-5,
    ) -> None:
        super().__init__()
        self.token_mixer = mixer_length is not None
        if mixer_length is not None:
            self.mix: nn.Module = SwiGLU(mixer_length, mixer_hidden or swiglu_hidden(mixer_length, expansion))
        else:
            self.mix = Attention(dim, heads)
        self.mlp = SwiGLU(dim, swiglu_hidden(dim, expansion))
        self.eps = eps

    def flops(self, length: int) -> int:
        """Multiply-add FLOPs (2 per MAC) of this block on one sequence of ``length`` tokens.

        Every weight matrix is applied once per token (2 * L * weights), except the token mixer's, applied
        once per channel (2 * D * weights); attention adds its scores and weighted sum, 2 * 2 * L * L * D.
        Norms, activations and RoPE are elementwise and left out, as in the usual 6*N*T accounting.
        """
        mlp = 2 * length * sum(p.numel() for p in self.mlp.parameters())
        mix = sum(p.numel() for p in self.mix.parameters())
        if self.token_mixer:
            dim = self.mlp.down.out_features
            return mlp + 2 * dim * mix
        return mlp + 2 * length * mix + 4 * length * length * self.mix.heads * self.mix.head_dim

    def forward(self, x: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        if self.token_mixer:
            xt = x.transpose(1, 2)  # [B, D, L]
            x = rms_norm(xt + self.mix(xt), self.eps).transpose(1, 2)  # norm over L, then back to [B, L, D]
        else:
            x = rms_norm(x + self.mix(x, rope), self.eps)
        return rms_norm(x + self.mlp(x), self.eps)


class PuzzleInput(nn.Module):
    """x = sqrt(D) * [prefix ; embed(tokens)]: [B, P + S, D].

    The prefix holds P tokens: the first is a learned embedding of the puzzle id (one shared id for Sudoku
    and Maze, one per augmented task for ARC), the rest are zeros. As in the published code the whole input,
    prefix included, is scaled by sqrt(D) (token embeddings start with std 1/sqrt(D), so tokens enter with
    std 1). The papers train ``puzzle_emb`` (zero at start) with its own optimiser and leave it out of their
    parameter counts.
    """

    def __init__(self, vocab_size: int, dim: int, prefix_len: int, num_puzzle_ids: int = 1) -> None:
        super().__init__()
        self.dim, self.prefix_len = dim, prefix_len
        self.embed = nn.Embedding(vocab_size, dim)
        trunc_normal_(self.embed.weight, 1 / math.sqrt(dim))
        self.puzzle_emb = nn.Parameter(torch.zeros(num_puzzle_ids, dim))

    def forward(self, tokens: torch.Tensor, puzzle_ids: torch.Tensor | None = None) -> torch.Tensor:
        b = tokens.shape[0]
        ids = puzzle_ids if puzzle_ids is not None else torch.zeros(b, dtype=torch.long, device=tokens.device)
        prefix = torch.zeros(b, self.prefix_len, self.dim, device=tokens.device, dtype=self.embed.weight.dtype)
        if self.prefix_len:
            prefix[:, 0] = self.puzzle_emb[ids]
        return math.sqrt(self.dim) * torch.cat([prefix, self.embed(tokens)], dim=1)


class Stack(nn.Module):
    """Blocks applied in order, sharing one rotary table (None for the token-mixer variant)."""

    def __init__(self, blocks: list[Block], rope: RotaryEmbedding | None) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.rope = rope

    def flops(self, length: int) -> int:
        """Forward FLOPs of the whole stack on one sequence of ``length`` tokens."""
        return sum(block.flops(length) for block in self.blocks)

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
    return trunc_normal_(torch.empty(dim), 1.0)
