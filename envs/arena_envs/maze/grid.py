"""The Maze-Hard text format and its integer codes.

A maze is a square grid written row by row with one character per cell: ``#`` wall, `` `` (space) open,
``S`` start, ``G`` goal, ``o`` a path cell (answers only). Codes follow the HRM/TRM token layout without
its PAD 0, so ``grid`` *is* the token sequence: ``#`` 1, space 2, ``S`` 3, ``G`` 4, ``o`` 5.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from arena_envs.answers import coerce_grid

CHARS = "# SGo"
WALL, OPEN, START, GOAL, PATH = 1, 2, 3, 4, 5
_LOOKUP = np.zeros(256, dtype=np.int8)
for _code, _char in enumerate(CHARS, start=1):
    _LOOKUP[ord(_char)] = _code


def parse(text: str, size: int) -> np.ndarray:
    """A ``size*size``-character string -> int8 grid [size, size]. Raises ValueError naming a bad character."""
    if len(text) != size * size:
        raise ValueError(f"expected {size * size} characters for a {size}x{size} maze, got {len(text)}")
    raw = np.frombuffer(text.encode("latin-1", errors="replace"), dtype=np.uint8)
    codes = _LOOKUP[raw]
    if (codes == 0).any():
        bad = int(np.flatnonzero(codes == 0)[0])
        raise ValueError(f"character {text[bad]!r} at position {bad} is not one of {CHARS!r}")
    return codes.reshape(size, size)


def to_text(grid: np.ndarray) -> str:
    """The inverse of :func:`parse`: one string of ``size*size`` characters."""
    return "".join(CHARS[int(v) - 1] for v in np.asarray(grid).ravel())


def to_lines(grid: np.ndarray) -> list[str]:
    g = np.asarray(grid)
    return ["".join(CHARS[int(v) - 1] for v in row) for row in g]


def coerce_maze(answer: Any, size: int) -> tuple[np.ndarray | None, str]:
    """An answer as codes: an integer grid of codes 1..5, one string of size*size characters, or a list of rows."""
    if isinstance(answer, str):
        try:
            return parse(answer, size).astype(np.int64), ""
        except ValueError as exc:
            return None, str(exc)
    if isinstance(answer, (list, tuple)) and answer and all(isinstance(r, str) for r in answer):
        if len(answer) != size or any(len(r) != size for r in answer):
            return None, f"expected {size} rows of {size} characters"
        try:
            return parse("".join(answer), size).astype(np.int64), ""
        except ValueError as exc:
            return None, str(exc)
    return coerce_grid(answer, (size, size), WALL, PATH)
