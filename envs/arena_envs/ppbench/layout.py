"""The (2R+1) x (2C+1) layout PPBench boards take as arrays, in pzpr's own coordinates.

A board of R rows and C columns becomes a grid of (2R+1) x (2C+1) positions (y, x): cell (r, c) sits at
(2r+1, 2c+1), the edge between two cells (or on the outer frame) where exactly one coordinate is even, and
lattice points where both are. This is pzpr's (by, bx), so a position names the same thing in a move
(``mouse,left,x,y``) and in an array.

Givens, int16 [5, 2R+1, 2C+1]:
  0 qnum        clue number of a cell (-1 none, -2 "?"); tapa's clue lists packed base 11 (digit n+1, "?" = 10)
  1 qdir        arrow direction of a clue (yajilin, firefly, ...: 1 up, 2 down, 3 left, 4 right)
  2 ques        cell kind (circles, blocks, ... as pzpr numbers them)
  3 region      given region borders (1 on an edge)
  4 start_goal  1 start, 2 goal (nurimaze)
Answers, int16 [3, 2R+1, 2C+1] (what a neural agent outputs):
  0 cell        number entered (sudoku) or pzpr's qans: 1 shaded / light bulb, 2..5 shakashaka triangles
  1 line        1 where a line crosses the edge (loops and paths)
  2 border      1 where a border is drawn on the edge (region division)
Positions that are not a cell (edge) hold 0 in the cell (edge) channels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

GIVEN_CHANNELS = ("qnum", "qdir", "ques", "region", "start_goal")
ANSWER_CHANNELS = ("cell", "line", "border")
PAD = -9  # outside the board, when boards of different sizes share one padded array


def givens_array(givens: Mapping[str, Sequence[Sequence[int]]]) -> np.ndarray:
    return np.stack([np.asarray(givens[name], dtype=np.int16) for name in GIVEN_CHANNELS])


def answer_array(layers: Mapping[str, Sequence[Sequence[int]]]) -> np.ndarray:
    return np.stack([np.asarray(layers[name], dtype=np.int16) for name in ANSWER_CHANNELS])


def answer_layers(grid: np.ndarray) -> dict[str, list[list[int]]]:
    """The JSON form the worker reads: one nested list per channel."""
    return {name: grid[i].astype(int).tolist() for i, name in enumerate(ANSWER_CHANNELS)}


def pad(array: np.ndarray, shape: tuple[int, int], fill: int = PAD) -> np.ndarray:
    out = np.full((array.shape[0], *shape), fill, dtype=np.int16)
    out[:, : array.shape[1], : array.shape[2]] = array
    return out


def empty_answer(shape: tuple[int, int]) -> np.ndarray:
    return np.zeros((len(ANSWER_CHANNELS), *shape), dtype=np.int16)


def render_text(givens: np.ndarray, answer: np.ndarray) -> str:
    """A plain-text picture of a board: clue numbers, shaded cells '#', numbers entered,
    lines '*' on the edges they cross, borders '|' and '-'."""
    rows: list[str] = []
    h, w = givens.shape[1:]
    for y in range(h):
        chars: list[str] = []
        for x in range(w):
            chars.append(_symbol(givens[:, y, x], answer[:, y, x], y % 2 == 1, x % 2 == 1))
        rows.append("".join(chars).rstrip())
    return "\n".join(rows)


def _symbol(given: Any, ans: Any, odd_y: bool, odd_x: bool) -> str:
    qnum, _, ques, region, start_goal = (int(v) for v in given)
    cell, line, border = (int(v) for v in ans)
    if odd_y and odd_x:  # a cell
        if start_goal:
            return "SG"[start_goal - 1]
        if qnum >= 0:
            return str(qnum)[-1] if qnum < 10 else "+"
        if qnum == -2:
            return "?"
        if cell:
            return "#" if cell == 1 else str(cell)
        return "o" if ques else "."
    if odd_y != odd_x:  # an edge: vertical edges sit at even x
        vertical = not odd_x
        if line:
            return "*"
        if border or region:
            return "|" if vertical else "-"
        return " "
    return "+"
