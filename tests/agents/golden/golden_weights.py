"""Seeded, library-independent random tensors for the golden equivalence fixtures.

The fixtures store no weights: both ``make_golden.py`` (which writes them into the official modules) and the
tests (which write them into ours) regenerate every tensor from its official parameter name. Values come from
splitmix64 over (sha256(name), element index), so they do not depend on the torch or numpy RNG of any version.
Each tensor is uniform on [-sqrt(3) std, sqrt(3) std]: zero mean and the requested standard deviation.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser, elementwise on uint64 (multiplications wrap modulo 2^64)."""
    with np.errstate(over="ignore"):
        x = (x + np.uint64(0x9E3779B97F4A7C15)) & _MASK
        x = ((x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _MASK
        x = ((x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _MASK
        return x ^ (x >> np.uint64(31))


def golden_tensor(name: str, shape: tuple[int, ...] | list[int], std: float) -> np.ndarray:
    """A float32 array of ``shape`` determined by ``name`` alone (std as given, mean 0)."""
    key = np.uint64(int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little"))
    count = math.prod(shape)
    bits = _splitmix64(np.arange(count, dtype=np.uint64) ^ key)
    unit = (bits >> np.uint64(11)).astype(np.float64) * 2.0**-53  # uniform [0, 1)
    return ((2.0 * unit - 1.0) * math.sqrt(3.0) * std).astype(np.float32).reshape(tuple(shape))


def golden_std(name: str, shape: tuple[int, ...] | list[int], hidden: int) -> float:
    """The scale each official tensor gets: the official init's std, but nothing zero.

    Linear weights 1/sqrt(fan_in) (LeCun, as the official init); token and puzzle embeddings 1/sqrt(D), so
    the puzzle-embedding prefix (zero-initialised officially) is as large as a token and its scaling shows;
    the q head is random too (officially zero with bias -5), so q values depend on the latents; initial
    latents std 1 (as official); biases 0.5.
    """
    if name.endswith("_init"):
        return 1.0
    if name.endswith("bias"):
        return 0.5
    if "embed" in name or "puzzle_emb" in name:
        return 1.0 / math.sqrt(hidden)
    return 1.0 / math.sqrt(shape[-1])
