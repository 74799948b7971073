"""ARC grids <-> the HRM/TRM token layout: a 30x30 canvas, PAD 0, EOS 1, colour c -> c + 2.

The grid sits at ``offset`` (top-left; (0, 0) unless translated for training), an EOS row under it and an EOS
column right of it mark where it ends, and everything else is PAD. ``decode`` finds the top-left colour cell
and crops at the end markers, so it inverts ``encode`` for every offset.
"""

from __future__ import annotations

import numpy as np

PAD, EOS, COLOUR_OFFSET, CANVAS = 0, 1, 2, 30
VOCAB_SIZE = COLOUR_OFFSET + 10


def encode(grid: np.ndarray, offset: tuple[int, int] = (0, 0)) -> np.ndarray:
    """A grid [h, w] (h, w <= 30, colours 0..9) -> int64 tokens [900]."""
    g = np.asarray(grid, dtype=np.int64)
    h, w = g.shape
    dy, dx = offset
    if h < 1 or w < 1 or dy < 0 or dx < 0 or dy + h > CANVAS or dx + w > CANVAS:
        raise ValueError(f"a {h}x{w} grid at offset {offset} does not fit the {CANVAS}x{CANVAS} canvas")
    canvas = np.full((CANVAS, CANVAS), PAD, dtype=np.int64)
    canvas[dy : dy + h, dx : dx + w] = g + COLOUR_OFFSET
    if dy + h < CANVAS:
        canvas[dy + h, dx : dx + w] = EOS
    if dx + w < CANVAS:
        canvas[dy : dy + h, dx + w] = EOS
    return canvas.reshape(-1)


def decode(tokens: np.ndarray) -> np.ndarray | None:
    """Tokens [900] -> the grid (int8), or None when there is no colour cell. A model's prediction is cropped
    to the rectangle that starts at its first colour cell and runs until the first non-colour token along the
    top row and the left column; non-colour tokens inside become colour 0."""
    t = np.asarray(tokens).reshape(CANVAS, CANVAS)
    colour = t >= COLOUR_OFFSET
    if not colour.any():
        return None
    rows, cols = np.nonzero(colour)
    dy, dx = int(rows.min()), int(cols[rows == rows.min()].min())
    w = int(np.argmin(np.append(colour[dy, dx:], False)))
    h = int(np.argmin(np.append(colour[dy:, dx], False)))
    block = t[dy : dy + h, dx : dx + w]
    return np.where(block >= COLOUR_OFFSET, block - COLOUR_OFFSET, 0).astype(np.int8)
