"""Text renderings of a maze with 1-based coordinates, for terminals and LLM prompts."""

from __future__ import annotations

import numpy as np

from arena_envs.maze.grid import to_lines


def render_maze(grid: np.ndarray, *, coordinates: bool = True) -> str:
    """Rows of ``# SGo`` characters; with coordinates, column numbers on top (tens over units) and row numbers
    on the left, so a model can name a cell as r12c7."""
    lines = to_lines(grid)
    if not coordinates:
        return "\n".join(lines)
    width = len(lines[0])
    tens = "".join(str((c + 1) // 10) if (c + 1) >= 10 else " " for c in range(width))
    units = "".join(str((c + 1) % 10) for c in range(width))
    out = ["    " + tens, "    " + units]
    out += [f"{r + 1:>3} {line}" for r, line in enumerate(lines)]
    return "\n".join(out)
