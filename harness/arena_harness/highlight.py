"""Which cells of an answer break the puzzle's rules, per family, for the run viewer (``arena view``).

Each family's function takes a puzzle (or its grids) and an answer as the store decodes it, and returns a
boolean mask of the offending cells, or None when the answer is not a grid of the family's shape (the viewer
then shows the answer as text with the verifier's reason). The masks explain a verdict; they never decide one:
the verifier's verdict stays the only judgement.

* Sudoku: empty cells, givens that were changed, and every cell whose digit occurs twice in its row, column
  or box.
* Maze: cells that differ from the maze (other than ``o`` on an open cell: a path over a wall, S or G, a
  removed wall...), and path cells that lie on no shortest S-G path (one BFS from S and one from G).
* ARC: cells that differ from the expected test output; an answer grid of the wrong shape is all offending.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from arena_envs.protocol import Puzzle


@dataclass(frozen=True)
class Board:
    """One grid to draw: ``kind`` picks the drawing (sudoku, maze, arc or plain numbers); ``mask`` marks the
    offending cells (None: nothing was checked); ``note`` explains what the mask cannot show."""

    grid: np.ndarray
    kind: str
    title: str = ""
    mask: np.ndarray | None = None
    note: str = ""
    box: tuple[int, int] | None = None  # Sudoku box shape (rows, cols)
    givens: np.ndarray | None = None  # Sudoku: the puzzle's clues (drawn bold; other digits are the answer's)

    @property
    def n_offending(self) -> int:
        return 0 if self.mask is None else int(self.mask.sum())


# -- Sudoku ------------------------------------------------------------------------------------------------
def sudoku_box(puzzle: Puzzle) -> tuple[int, int]:
    box = puzzle.meta.get("box")
    if box is not None:
        return int(box[0]), int(box[1])
    from arena_envs.sudoku.shape import SudokuShape

    shape = SudokuShape.of_size(int(puzzle.grid.shape[0]))
    return shape.box_rows, shape.box_cols


def sudoku_grid(answer: Any, size: int) -> np.ndarray | None:
    from arena_envs.answers import coerce_grid

    grid, _ = coerce_grid(answer, (size, size), 0, size)
    return grid


def sudoku_mask(question: np.ndarray, answer: Any, box: tuple[int, int]) -> np.ndarray | None:
    """Empty cells, changed givens, and cells whose digit repeats in a row, column or box."""
    q = np.asarray(question)
    size = q.shape[0]
    grid = sudoku_grid(answer, size)
    if grid is None:
        return None
    mask = (grid == 0) | ((q != 0) & (grid != q))
    br, bc = box
    units: list[tuple[slice, slice]] = [(slice(r, r + 1), slice(None)) for r in range(size)]
    units += [(slice(None), slice(c, c + 1)) for c in range(size)]
    units += [(slice(r, r + br), slice(c, c + bc)) for r in range(0, size, br) for c in range(0, size, bc)]
    for rows, cols in units:
        cells = grid[rows, cols]
        counts = np.bincount(cells.ravel(), minlength=size + 1)
        repeated = counts > 1
        repeated[0] = False  # blanks are marked as empty, not as duplicates
        mask[rows, cols] |= repeated[cells]
    return mask


# -- Maze --------------------------------------------------------------------------------------------------
def maze_grid(answer: Any, size: int) -> np.ndarray | None:
    from arena_envs.maze.grid import coerce_maze

    grid, _ = coerce_maze(answer, size)
    return grid


def maze_mask(question: np.ndarray, answer: Any) -> np.ndarray | None:
    """Changed cells (a path over a wall, S or G, an erased wall...) and path cells on no shortest path."""
    from arena_envs.maze.grid import GOAL, OPEN, PATH, START
    from arena_envs.maze.search import bfs, find_code

    q = np.asarray(question)
    size = q.shape[0]
    grid = maze_grid(answer, size)
    if grid is None:
        return None
    path = grid == PATH
    mask = (grid != q) & ~(path & (q == OPEN))
    qf = np.ascontiguousarray(q, dtype=np.int8).ravel()
    s, g = int(find_code(qf, START)), int(find_code(qf, GOAL))
    if s >= 0 and g >= 0:
        from_start, to_goal = bfs(qf, size, s), bfs(qf, size, g)
        length = from_start[g]
        if length >= 0:
            on_shortest = (from_start >= 0) & (to_goal >= 0) & (from_start + to_goal == length)
            mask |= path & ~on_shortest.reshape(size, size)
    return mask


# -- ARC ---------------------------------------------------------------------------------------------------
def arc_grids(answer: Any, n_tests: int) -> list[np.ndarray] | None:
    from arena_envs.arc.verifier import coerce_attempt

    grids, _ = coerce_attempt(answer, n_tests)
    return grids


def arc_masks(expected: Sequence[np.ndarray], answer: Any) -> list[np.ndarray] | None:
    """One mask per test output: differing cells, or the whole answer grid when its shape is wrong."""
    grids = arc_grids(answer, len(expected))
    if grids is None:
        return None
    return [
        grid != np.asarray(want) if grid.shape == np.asarray(want).shape else np.ones(grid.shape, bool)
        for grid, want in zip(grids, expected)
    ]


# -- boards per family -------------------------------------------------------------------------------------
def puzzle_boards(puzzle: Puzzle) -> list[Board]:
    """The puzzle's input as boards (ARC: every test input); [] for puzzles that are not one 2-D grid."""
    grid = np.asarray(puzzle.grid)
    if puzzle.family == "sudoku":
        return [Board(grid, "sudoku", "puzzle", box=sudoku_box(puzzle), givens=grid != 0)]
    if puzzle.family == "maze":
        return [Board(grid, "maze", "maze")]
    if puzzle.family == "arc":
        inputs = puzzle.meta.get("test_inputs") or (grid,)
        many = len(inputs) > 1
        return [
            Board(np.asarray(g), "arc", f"test input {i + 1}" if many else "test input") for i, g in enumerate(inputs)
        ]
    if grid.ndim == 2 and grid.dtype.kind in "iu":
        return [Board(grid, "plain", "puzzle")]
    return []


def answer_boards(puzzle: Puzzle | None, answer: Any, expected: Any = None, family: str | None = None) -> list[Board]:
    """An answer drawn as boards with its offending cells marked; [] when it is not a grid of the puzzle's
    family (or the puzzle is unknown and the answer is no plain grid), so the viewer shows it as text.

    ``expected``: the split's label when it has one (ARC: the list of test outputs)."""
    family = puzzle.family if puzzle is not None else family
    if answer is None or isinstance(answer, str):
        if puzzle is not None and family == "maze" and isinstance(answer, str):
            return _maze_answer(puzzle, answer)
        return []
    if puzzle is None:
        return _plain_answer(answer, family or "")
    if family == "sudoku":
        box = sudoku_box(puzzle)
        grid = sudoku_grid(answer, puzzle.grid.shape[0])
        if grid is None:
            return []
        mask = sudoku_mask(puzzle.grid, grid, box)
        return [Board(grid, "sudoku", "answer", mask, box=box, givens=np.asarray(puzzle.grid) != 0)]
    if family == "maze":
        return _maze_answer(puzzle, answer)
    if family == "arc":
        n_tests = int(puzzle.meta.get("n_tests", 1))
        grids = arc_grids(answer, n_tests)
        if grids is None:
            return []
        many = len(grids) > 1
        titles = [f"output {i + 1}" if many else "output" for i in range(len(grids))]
        if expected is None:
            return [
                Board(g, "arc", t, note="the split has no expected output to compare with")
                for g, t in zip(grids, titles)
            ]
        masks = arc_masks(expected, grids) or [None] * len(grids)
        boards = []
        for g, t, m, want in zip(grids, titles, masks, expected):
            want = np.asarray(want)
            note = "" if g.shape == want.shape else f"shape {_shape(g)}, expected {_shape(want)}"
            boards.append(Board(g, "arc", t, m, note=note))
        return boards
    return _plain_answer(answer, family or "")


def _maze_answer(puzzle: Puzzle, answer: Any) -> list[Board]:
    grid = maze_grid(answer, puzzle.grid.shape[0])
    if grid is None:
        return []
    return [Board(grid, "maze", "answer", maze_mask(puzzle.grid, grid))]


def _plain_answer(answer: Any, family: str) -> list[Board]:
    """Without the puzzle: a 2-D grid of small integers is drawn (no check), anything else is text."""
    if isinstance(answer, str) or (isinstance(answer, list) and answer and isinstance(answer[0], str)):
        return []
    from arena_envs.answers import as_array

    arr = as_array(answer)
    if arr is None or arr.ndim != 2 or arr.dtype.kind not in "iu" or arr.size == 0 or arr.size > 4096:
        return []
    kind = family if family in ("sudoku", "maze", "arc") else "plain"
    if kind == "maze" and (arr.min() < 1 or arr.max() > 5):
        kind = "plain"
    if kind == "arc" and (arr.min() < 0 or arr.max() > 9):
        kind = "plain"
    if kind == "sudoku":
        from arena_envs.sudoku.shape import BOX_SHAPES

        box = BOX_SHAPES.get(arr.shape[0]) if arr.shape[0] == arr.shape[1] else None
        if box is not None and arr.min() >= 0 and arr.max() <= arr.shape[0]:
            # without the clues: empty cells and repeated digits only
            mask = sudoku_mask(np.zeros_like(arr), arr, box)
            note = "the puzzle could not be loaded: changed clues are not marked"
            return [Board(arr, "sudoku", "answer", mask, note=note, box=box)]
        kind = "plain"
    return [Board(arr, kind, "answer", note="the puzzle could not be loaded: offending cells are not marked")]


def _shape(g: np.ndarray) -> str:
    return "x".join(str(int(n)) for n in g.shape)
