"""Grid <-> token ids for neural agents, in the HRM/TRM layout so checkpoints and numbers compare.

Sudoku uses s*s tokens in row-major order: PAD 0, blank 1, digit d -> d + 1 (2..10 for 9x9), so the
vocabulary has s + 2 entries (11 for 9x9).
"""

from __future__ import annotations

import numpy as np

PAD = 0
BLANK = 1
DIGIT_OFFSET = 1


def vocab_size(size: int = 9) -> int:
    return size + 2


def grids_to_tokens(grids: np.ndarray) -> np.ndarray:
    """int grids [..., s, s] (0 = blank) -> tokens [..., s*s] (int64)."""
    g = np.asarray(grids, dtype=np.int64)
    return (g + DIGIT_OFFSET).reshape(*g.shape[:-2], g.shape[-2] * g.shape[-1])


def tokens_to_grids(tokens: np.ndarray, size: int = 9) -> np.ndarray:
    """tokens [..., s*s] -> int8 grids [..., s, s]; PAD and blank both decode to 0 (blank)."""
    t = np.asarray(tokens, dtype=np.int64)
    if t.shape[-1] != size * size:
        raise ValueError(f"expected {size * size} tokens per grid, got {t.shape[-1]}")
    if t.min(initial=0) < 0 or t.max(initial=0) > size + DIGIT_OFFSET:
        raise ValueError(f"token ids must lie in 0..{size + DIGIT_OFFSET}")
    g = np.clip(t - DIGIT_OFFSET, 0, size)
    return g.reshape(*t.shape[:-1], size, size).astype(np.int8)
