"""Text renderings: a boxed board with 1-based coordinates, for terminals and LLM prompts."""

from __future__ import annotations

import numpy as np

from arena_envs.sudoku.shape import SudokuShape


def render_board(grid: np.ndarray, shape: SudokuShape | None = None, *, coordinates: bool = True) -> str:
    """Render a grid (0 = blank shown as '.') with box separators and row/column numbers.

    Example (4x4)::

            1 2   3 4
          +-----+-----+
        1 | 1 . | . 4 |
        ...
    """
    g = np.asarray(grid)
    shape = shape or SudokuShape.of_size(g.shape[0])
    s, br, bc = shape.size, shape.box_rows, shape.box_cols
    pad = "    " if coordinates else ""
    sep = pad + "+" + "+".join(["-" * (2 * bc + 1)] * (s // bc)) + "+"
    lines: list[str] = []
    if coordinates:
        head = "   ".join(" ".join(str(c + 1) for c in range(b * bc, (b + 1) * bc)) for b in range(s // bc))
        lines.append(pad + "  " + head)
    for r in range(s):
        if r % br == 0:
            lines.append(sep)
        cells = " | ".join(
            " ".join("." if v == 0 else str(int(v)) for v in g[r, b * bc : (b + 1) * bc]) for b in range(s // bc)
        )
        lines.append((f"{r + 1:>3} " if coordinates else "") + "| " + cells + " |")
    lines.append(sep)
    return "\n".join(lines)
