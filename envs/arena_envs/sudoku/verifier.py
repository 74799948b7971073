"""Rule-based Sudoku verification (no comparison with a stored solution).

An answer is right when (1) it is a well-formed s x s grid of digits 1..s, (2) every given of the
puzzle is kept, and (3) every row, column and box holds each digit exactly once. Any grid that passes
is a solution, so puzzles with several solutions are judged fairly too.

Two paths give identical verdicts: :func:`verify` explains one answer; :func:`verify_batch` checks
N answers with a handful of vectorised numpy reductions (bitmask OR per unit) and only falls back to
the explaining path for the answers that fail.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from numba import njit

from arena_envs.answers import cell_name, coerce_grid
from arena_envs.protocol import Verdict
from arena_envs.sudoku.shape import SudokuShape
from arena_envs.sudoku.solver import tables


@lru_cache(maxsize=8)
def _units(shape: SudokuShape) -> list[tuple[str, int, np.ndarray]]:
    """(kind, 1-based number, flat cell indices) for every row, column and box."""
    s = shape.size
    kinds = ("row", "column", "box")
    return [(kinds[u // s], u % s + 1, cells) for u, cells in enumerate(tables(shape)[1])]


def verify(puzzle: np.ndarray, answer: Any, shape: SudokuShape | None = None) -> Verdict:
    """Judge one answer to ``puzzle`` (0 = blank). Never raises on a bad answer."""
    if answer is None:
        return Verdict.abstain()
    shape = shape or _shape_of(puzzle)
    s = shape.size
    grid, problem = coerce_grid(answer, (s, s), 0, s)
    if grid is None:
        return Verdict.malformed(problem)

    empty = np.argwhere(grid == 0)
    if len(empty):
        r, c = (int(v) for v in empty[0])
        return Verdict(
            ok=False,
            reason=f"incomplete: {len(empty)} empty cell(s), first at {cell_name(r, c)}",
            violations=tuple(("empty", int(a), int(b)) for a, b in empty),
        )

    given = puzzle != 0
    changed = np.argwhere(given & (grid != puzzle))
    if len(changed):
        r, c = (int(v) for v in changed[0])
        return Verdict(
            ok=False,
            reason=f"given at {cell_name(r, c)} changed from {puzzle[r, c]} to {grid[r, c]}",
            violations=tuple(("given", int(a), int(b)) for a, b in changed),
        )

    flat = grid.ravel()
    violations: list[tuple[Any, ...]] = []
    first_reason = ""
    for kind, number, cells in _units(shape):
        counts = np.bincount(flat[cells], minlength=s + 1)
        for digit in np.flatnonzero(counts[1:] > 1) + 1:
            violations.append((kind, number, int(digit)))
            if not first_reason:
                first_reason = f"{kind} {number} has digit {digit} {counts[digit]} times"
    if violations:
        return Verdict(ok=False, reason=first_reason, violations=tuple(violations))
    return Verdict(ok=True, reason="solved")


def verify_batch(
    puzzles: np.ndarray | Sequence[np.ndarray],
    answers: Sequence[Any] | np.ndarray,
    shape: SudokuShape | None = None,
) -> list[Verdict]:
    """Verify N answers at once. Verdicts equal ``[verify(p, a) for p, a in zip(...)]``."""
    puzzles_arr = np.asarray(puzzles)
    n = len(puzzles_arr)
    if len(answers) != n:
        raise ValueError(f"{n} puzzles but {len(answers)} answers")
    if n == 0:
        return []
    shape = shape or _shape_of(puzzles_arr[0])
    s = shape.size

    # Split into answers that can be stacked into one integer array and the rest.
    if _fits_int64_grid(answers, s, n):
        stack_idx = np.arange(n)
        stacked = answers
    else:
        stack_idx_list = [i for i, a in enumerate(answers) if _fits_int64_grid(a, s)]
        stack_idx = np.asarray(stack_idx_list, dtype=np.int64)
        stacked = np.stack([answers[i] for i in stack_idx_list]) if stack_idx_list else np.zeros((0, s, s), np.int64)

    verdicts: list[Verdict | None] = [None] * n
    if len(stack_idx):
        stacked = np.ascontiguousarray(stacked, dtype=np.int64)
        stacked_puzzles = np.ascontiguousarray(puzzles_arr[stack_idx], dtype=np.int64)
        ok = _all_rules_hold(stacked_puzzles, stacked, shape)
        solved = Verdict(ok=True, reason="solved")
        for i in stack_idx[ok]:
            verdicts[i] = solved
        failed = np.flatnonzero(~ok)
        for j, verdict in zip(failed, _explain_failures(stacked_puzzles[failed], stacked[failed], shape)):
            verdicts[stack_idx[j]] = verdict
    return [v if v is not None else verify(puzzles_arr[i], answers[i], shape) for i, v in enumerate(verdicts)]


def _fits_int64_grid(answer: Any, size: int, n: int | None = None) -> bool:
    """A plain integer array of the grid's shape whose values int64 holds: such answers are checked stacked
    (uint64 could wrap, and array subclasses take the per-answer path that reads them as plain arrays)."""
    shape = (size, size) if n is None else (n, size, size)
    return (
        type(answer) is np.ndarray
        and answer.shape == shape
        and (answer.dtype.kind == "i" or (answer.dtype.kind == "u" and answer.dtype.itemsize < 8))
    )


def solved_mask(puzzles: np.ndarray, answers: np.ndarray, shape: SudokuShape | None = None) -> np.ndarray:
    """bool [N]: which of N stacked integer answers [N, s, s] satisfy every rule (no reasons).

    The fast path for rewards in RL rollouts, where only right/wrong matters: one compiled pass, no
    Verdict objects. ``verify_batch(...)[i].ok == solved_mask(...)[i]`` for integer answers.
    """
    p = np.asarray(puzzles)
    a = np.asarray(answers)
    if p.ndim != 3 or a.shape != p.shape or a.dtype.kind not in "iu":
        raise ValueError(
            f"solved_mask needs stacked integer answers shaped like the puzzles {p.shape}, got "
            f"{a.shape} {a.dtype}; use verify_batch for anything else"
        )
    shape = shape or _shape_of(p[0])
    return _all_rules_hold(np.ascontiguousarray(p, dtype=np.int64), np.ascontiguousarray(a, dtype=np.int64), shape)


def _explain_failures(puzzles: np.ndarray, answers: np.ndarray, shape: SudokuShape) -> list[Verdict]:
    """The verdicts ``verify`` gives these failing integer answers, found for all of them at once.

    Same rule order as :func:`verify`: out-of-range values, empty cells, changed givens, then repeated
    digits per unit (rows, columns, boxes; digits ascending). Only the out-of-range case, which needs
    ``verify``'s exact wording for malformed input, is handed back to it.
    """
    m, s = len(answers), shape.size
    if m == 0:
        return []
    out: list[Verdict | None] = [None] * m
    bad_range = ((answers < 0) | (answers > s)).reshape(m, -1).any(axis=1)
    for i in np.flatnonzero(bad_range):
        out[i] = verify(puzzles[i], answers[i], shape)

    empty = (answers == 0) & ~bad_range[:, None, None]
    for i, cells in _group_cells(np.argwhere(empty)):
        r, c = cells[0]
        out[i] = Verdict(
            ok=False,
            reason=f"incomplete: {len(cells)} empty cell(s), first at {cell_name(r, c)}",
            violations=tuple(("empty", a, b) for a, b in cells),
        )

    changed = (puzzles != 0) & (answers != puzzles)
    for i, cells in _group_cells(np.argwhere(changed)):
        if out[i] is None:
            r, c = cells[0]
            out[i] = Verdict(
                ok=False,
                reason=f"given at {cell_name(r, c)} changed from {puzzles[i, r, c]} to {answers[i, r, c]}",
                violations=tuple(("given", a, b) for a, b in cells),
            )

    rest = [i for i in range(m) if out[i] is None]
    if rest:
        units = tables(shape)[1]  # [3s, s]
        values = answers[rest].reshape(len(rest), -1)[:, units]  # [k, 3s, s]
        # counts[k, u, d] = how often digit d occurs in unit u of answer k
        flat = (np.arange(len(rest))[:, None, None] * len(units) + np.arange(len(units))[None, :, None]) * (s + 1)
        counts = np.bincount((flat + values).ravel(), minlength=len(rest) * len(units) * (s + 1))
        counts = counts.reshape(len(rest), len(units), s + 1)
        repeats = np.argwhere(counts[:, :, 1:] > 1)  # sorted by (answer, unit, digit), as verify reports them
        times = counts[repeats[:, 0], repeats[:, 1], repeats[:, 2] + 1].tolist()
        label = [(kind, number) for kind, number, _ in _units(shape)]
        groups: dict[int, list[tuple[str, int, int]]] = {}
        first_times: dict[int, int] = {}
        for (k, u, d), t in zip(repeats.tolist(), times):
            if k not in groups:
                groups[k] = []
                first_times[k] = t
            groups[k].append((*label[u], d + 1))
        for k, violations in groups.items():
            kind, number, digit = violations[0]
            out[rest[k]] = Verdict(
                ok=False,
                reason=f"{kind} {number} has digit {digit} {first_times[k]} times",
                violations=tuple(violations),
            )
    # a failing answer that broke none of these rules cannot exist; fall back to verify to be safe
    return [v if v is not None else verify(puzzles[i], answers[i], shape) for i, v in enumerate(out)]


def _group_cells(hits: np.ndarray) -> list[tuple[int, list[tuple[int, int]]]]:
    """Group ``argwhere`` rows (answer, a, b) by answer: [(answer, [(a, b), ...]), ...] in order."""
    if len(hits) == 0:
        return []
    starts = np.flatnonzero(np.r_[True, hits[1:, 0] != hits[:-1, 0]])
    ends = np.r_[starts[1:], len(hits)]
    pairs = hits[:, 1:].tolist()
    return [(int(hits[a, 0]), [tuple(p) for p in pairs[a:b]]) for a, b in zip(starts, ends)]


def _all_rules_hold(puzzles: np.ndarray, answers: np.ndarray, shape: SudokuShape) -> np.ndarray:
    """bool[N]: digits in range, givens kept, each unit holds all s digits (hence each once)."""
    return _rules_kernel(
        np.ascontiguousarray(puzzles, dtype=np.int64),
        np.ascontiguousarray(answers, dtype=np.int64),
        shape.box_rows,
        shape.box_cols,
    )


@njit(cache=True)
def _rules_kernel(puzzles: np.ndarray, answers: np.ndarray, br: int, bc: int) -> np.ndarray:
    """One compiled pass per answer: range, givens, then a bitmask per row, column and box."""
    n, s = answers.shape[0], answers.shape[1]
    full = (1 << s) - 1
    ok = np.zeros(n, dtype=np.bool_)
    rows = np.zeros(s, dtype=np.int64)
    cols = np.zeros(s, dtype=np.int64)
    boxes = np.zeros(s, dtype=np.int64)
    for i in range(n):
        rows[:] = 0
        cols[:] = 0
        boxes[:] = 0
        good = True
        for r in range(s):
            for c in range(s):
                v = answers[i, r, c]
                if v < 1 or v > s:
                    good = False
                    break
                p = puzzles[i, r, c]
                if p != 0 and p != v:
                    good = False
                    break
                bit = 1 << (v - 1)
                rows[r] |= bit
                cols[c] |= bit
                boxes[(r // br) * (s // bc) + c // bc] |= bit
            if not good:
                break
        if good:
            for u in range(s):
                if rows[u] != full or cols[u] != full or boxes[u] != full:
                    good = False
                    break
        ok[i] = good
    return ok


def _shape_of(puzzle: np.ndarray) -> SudokuShape:
    return SudokuShape.of_size(int(np.asarray(puzzle).shape[0]))


def check_partial(puzzle: np.ndarray, answer: Any, shape: SudokuShape | None = None) -> str:
    """The rules an unfinished answer (0 = still empty) already breaks, in words, for a rule-check tool.

    Says only what the rules say (changed givens, repeated digits in a row, column or box, empty cells);
    it never consults a solution, so a solver may call it as often as it likes without learning the answer.
    """
    shape = shape or _shape_of(puzzle)
    s = shape.size
    grid, problem = coerce_grid(answer, (s, s), 0, s)
    if grid is None:
        return f"malformed answer: {problem}"
    problems = [
        f"given at {cell_name(int(r), int(c))} changed from {puzzle[r, c]} to {grid[r, c]}"
        for r, c in np.argwhere((puzzle != 0) & (grid != puzzle))
    ]
    flat = grid.ravel()
    for kind, number, cells in _units(shape):
        counts = np.bincount(flat[cells], minlength=s + 1)
        problems += [f"{kind} {number} has digit {d} {counts[d]} times" for d in np.flatnonzero(counts[1:] > 1) + 1]
    empty = int((grid == 0).sum())
    status = f"{empty} cell(s) still empty" if empty else "every cell is filled"
    if problems:
        return f"{len(problems)} rule(s) broken: " + "; ".join(problems) + f". {status}."
    return f"no rule broken so far; {status}."
