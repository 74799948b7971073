"""Shared blocks of the recursive models: sizes, init, normalisation, rotary positions, attention."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from arena_agents.recursive import layers  # noqa: E402


def n_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_swiglu_width_and_block_sizes_match_the_papers():
    assert layers.swiglu_hidden(512) == 1536
    # attention block: qkv 512x1536 + out 512x512 + SwiGLU 512x3072 + 1536x512, no biases
    assert n_params(layers.Block(512, 8)) == 3 * 512 * 512 + 512 * 512 + 512 * 3072 + 1536 * 512 == 3_407_872
    # TRM-MLP: the attention is replaced by a SwiGLU over the 97-long sequence with width 512
    assert n_params(layers.Block(512, 8, mixer_length=97, mixer_hidden=512)) == 2_359_296 + 97 * 1024 + 512 * 97


def test_truncated_lecun_init():
    torch.manual_seed(0)
    w = layers.Linear(512, 4096).weight
    std = 1 / math.sqrt(512)
    assert w.std().item() == pytest.approx(std, rel=0.01)
    assert w.abs().max().item() <= 2 * std / 0.8796 + 1e-6
    assert layers.Linear(4, 4).bias is None


def test_rms_norm_is_fp32_inside_and_keeps_dtype():
    x = torch.randn(3, 5, 64, dtype=torch.bfloat16) * 7
    y = layers.rms_norm(x)
    assert y.dtype == torch.bfloat16
    rms = y.float().pow(2).mean(-1).sqrt()
    assert torch.allclose(rms, torch.ones_like(rms), atol=2e-2)


def test_rotary_scores_depend_only_on_relative_position():
    torch.manual_seed(1)
    rope = layers.RotaryEmbedding(64, 32)
    cos, sin = rope(32)
    q = torch.randn(1, 1, 1, 64).expand(1, 32, 1, 64)
    k = torch.randn(1, 1, 1, 64).expand(1, 32, 1, 64)
    rq, rk = layers.apply_rotary(q, cos, sin), layers.apply_rotary(k, cos, sin)
    score = lambda m, n: (rq[0, m, 0] * rk[0, n, 0]).sum().item()  # noqa: E731
    assert score(5, 2) == pytest.approx(score(20, 17), rel=1e-4)
    assert score(5, 2) != pytest.approx(score(5, 3), rel=1e-3)
    assert torch.allclose(rq.norm(dim=-1), q.norm(dim=-1), atol=1e-5)  # rotations keep length


def test_attention_equals_naive_softmax_attention():
    torch.manual_seed(2)
    attn = layers.Attention(64, 4)
    x = torch.randn(2, 10, 64)
    rope = layers.RotaryEmbedding(16, 10)(10)
    got = attn(x, rope)
    q, k, v = attn.qkv(x).view(2, 10, 3, 4, 16).unbind(2)
    q, k = layers.apply_rotary(q, *rope), layers.apply_rotary(k, *rope)
    weights = torch.softmax(torch.einsum("blhd,bmhd->bhlm", q, k) / 4.0, dim=-1)  # non-causal, 1/sqrt(16)
    expected = attn.out(torch.einsum("bhlm,bmhd->blhd", weights, v).reshape(2, 10, 64))
    assert torch.allclose(got, expected, atol=1e-5)


def test_token_mixer_mixes_positions_and_block_is_post_norm():
    torch.manual_seed(3)
    block = layers.Block(32, 4, mixer_length=6, mixer_hidden=16)
    x = torch.randn(1, 6, 32, requires_grad=True)
    y = block(x)
    y[0, 0].sum().backward()
    assert (x.grad[0].abs().sum(-1) > 0).all()  # position 0's output depends on every position
    rms = y.pow(2).mean(-1).sqrt()
    assert torch.allclose(rms, torch.ones_like(rms), atol=1e-3)  # the last op is the norm
