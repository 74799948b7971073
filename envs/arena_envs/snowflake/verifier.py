"""Rule-based Snowflake Sudoku verification (no comparison with a stored solution).

An answer is right when (1) it is a well-formed board: 6n digits 1..6, as a flat vector of cells or as n rows of
6 (one row per hexagon), (2) every given of the puzzle is kept, and (3) every group (each hexagon, each meeting
point) holds each digit exactly once. Any board that passes is a solution.

:func:`verify` explains one answer; :func:`verify_batch` checks N answers with one vectorised pass (a bitmask per
group) and explains only the failures, so its verdicts equal the single path's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from arena_envs.answers import as_array, coerce_grid
from arena_envs.protocol import Verdict
from arena_envs.snowflake.topology import CELLS_PER_HEXAGON, DIGITS, Snowflake, snowflake

SOLVED = Verdict(ok=True, reason="solved")


def board_of(puzzle: np.ndarray) -> Snowflake:
    """The board a puzzle's cell vector belongs to (6n cells: n hexagons)."""
    cells = int(np.asarray(puzzle).size)
    if cells % CELLS_PER_HEXAGON or cells == 0:
        raise ValueError(f"a Snowflake board has 6n cells, got {cells}")
    return snowflake(cells // CELLS_PER_HEXAGON)


def coerce_cells(answer: Any, board: Snowflake) -> tuple[np.ndarray | None, str]:
    """The answer as int64 [6n] (a flat vector, or n rows of 6 per hexagon), or (None, reason)."""
    rows = (board.n, CELLS_PER_HEXAGON)
    arr = None if isinstance(answer, (str, bytes)) else as_array(answer)
    as_rows = arr is not None and arr.shape == rows
    grid, problem = coerce_grid(answer, rows if as_rows else (board.cells,), 0, DIGITS)
    if grid is None:
        if "wrong shape" in problem:
            problem += f" or {rows} (one row of 6 per hexagon)"
        return None, problem
    return grid.reshape(board.cells), ""


def verify(puzzle: np.ndarray, answer: Any, board: Snowflake | None = None) -> Verdict:
    """Judge one answer to ``puzzle`` (int [6n], 0 = blank). Never raises on a bad answer."""
    if answer is None:
        return Verdict.abstain()
    board = board or board_of(puzzle)
    puzzle = np.asarray(puzzle).ravel()
    cells, problem = coerce_cells(answer, board)
    if cells is None:
        return Verdict.malformed(problem)

    empty = np.flatnonzero(cells == 0)
    if len(empty):
        return Verdict(
            ok=False,
            reason=f"incomplete: {len(empty)} empty cell(s), first at {board.cell_name(int(empty[0]))}",
            violations=tuple(("empty", int(c)) for c in empty),
        )
    changed = np.flatnonzero((puzzle != 0) & (cells != puzzle))
    if len(changed):
        c = int(changed[0])
        return Verdict(
            ok=False,
            reason=f"given at {board.cell_name(c)} changed from {puzzle[c]} to {cells[c]}",
            violations=tuple(("given", int(c)) for c in changed),
        )
    violations: list[tuple[Any, ...]] = []
    first = ""
    for g, members in enumerate(board.groups):
        values = cells[members]
        for digit in np.flatnonzero(np.bincount(values, minlength=DIGITS + 1)[1:] > 1) + 1:
            where = [int(c) for c in members[values == digit]]
            violations.append(("group", g, int(digit), *where))
            if not first:
                names = ", ".join(board.cell_name(c) for c in where)
                times = "twice" if len(where) == 2 else f"{len(where)} times"
                first = f"{board.group_name(g)} has digit {digit} {times} ({names})"
    if violations:
        return Verdict(ok=False, reason=first, violations=tuple(violations))
    return SOLVED


def solved_mask(puzzles: np.ndarray, answers: np.ndarray, board: Snowflake) -> np.ndarray:
    """bool [N]: which of N stacked integer answers [N, 6n] satisfy every rule (no reasons)."""
    p, a = np.asarray(puzzles, dtype=np.int64), np.asarray(answers, dtype=np.int64)
    in_range = ((a >= 1) & (a <= DIGITS)).all(axis=1)
    kept = ((p == 0) | (a == p)).all(axis=1)
    bits = np.where((a >= 1) & (a <= DIGITS), 1 << np.clip(a - 1, 0, DIGITS - 1), 0)  # [N, C]
    full = np.bitwise_or.reduce(bits[:, board.groups], axis=2) == (1 << DIGITS) - 1  # [N, G]
    return in_range & kept & full.all(axis=1)


def verify_batch(puzzles: Sequence[np.ndarray], answers: Sequence[Any]) -> list[Verdict]:
    """Verify N answers at once. Verdicts equal ``[verify(p, a) for p, a in zip(...)]``."""
    if len(puzzles) != len(answers):
        raise ValueError(f"{len(puzzles)} puzzles but {len(answers)} answers")
    verdicts: list[Verdict | None] = [None] * len(puzzles)
    by_board: dict[int, list[int]] = {}
    for i, (p, a) in enumerate(zip(puzzles, answers)):
        size = int(np.asarray(p).size)
        if type(a) is np.ndarray and a.shape == (size,) and a.dtype.kind == "i":  # stackable as it is
            by_board.setdefault(size, []).append(i)
    for size, idx in by_board.items():
        board = board_of(np.zeros(size))
        stacked_p = np.stack([np.asarray(puzzles[i]).ravel() for i in idx])
        ok = solved_mask(stacked_p, np.stack([answers[i] for i in idx]), board)
        for i, good in zip(idx, ok):
            if good:
                verdicts[i] = SOLVED
    return [v if v is not None else verify(puzzles[i], answers[i]) for i, v in enumerate(verdicts)]


def check_partial(puzzle: np.ndarray, answer: Any, board: Snowflake | None = None) -> str:
    """The rules an unfinished answer (0 = still empty) already breaks, in words, for a rule-check tool. It says
    only what the rules say and never consults a solution."""
    board = board or board_of(puzzle)
    puzzle = np.asarray(puzzle).ravel()
    cells, problem = coerce_cells(answer, board)
    if cells is None:
        return f"malformed answer: {problem}"
    problems = [
        f"given at {board.cell_name(int(c))} changed from {puzzle[c]} to {cells[c]}"
        for c in np.flatnonzero((puzzle != 0) & (cells != puzzle))
    ]
    for g, members in enumerate(board.groups):
        counts = np.bincount(cells[members], minlength=DIGITS + 1)
        repeated = np.flatnonzero(counts[1:] > 1) + 1
        problems += [f"{board.group_name(g)} has digit {d} {counts[d]} times" for d in repeated]
    empty = int((cells == 0).sum())
    status = f"{empty} cell(s) still empty" if empty else "every cell is filled"
    if problems:
        return f"{len(problems)} rule(s) broken: " + "; ".join(problems) + f". {status}."
    return f"no rule broken so far; {status}."
