"""Maze-Hard verifier: any valid shortest path from S to G is right.

An answer is the maze with path cells marked ``o``. It is judged by the rules alone, in this order:
1. every cell that is not ``o`` is as in the puzzle, and ``o`` stands only on open cells;
2. the ``o`` cells form one simple 4-connected chain from S to G (S and G have exactly one path neighbour,
   every ``o`` exactly two, no ``o`` off the chain);
3. the chain's length L (steps from S to G) equals the shortest-path length L* (a BFS on the puzzle);
   a longer valid path is ``ok=False`` with reason "not optimal (L > L*)".
Whether the answer equals the stored label is reported separately in ``extras["exact_label"]``: shortest paths
are rarely unique, so a different optimal path is right. The batched path runs the same checks in one compiled
loop over the batch and explains only the failures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numba import njit

from arena_envs.answers import cell_name
from arena_envs.maze.grid import CHARS, GOAL, OPEN, PATH, START, WALL, coerce_maze
from arena_envs.maze.search import find_code, neighbour, shortest_lengths
from arena_envs.protocol import Verdict

# failure codes of the kernel (0 = a valid chain; its length is returned alongside)
VALID, CHANGED, ON_WALL, ON_MARK, NO_START, LEAVES_NOT, BREAKS, BRANCHES, STRAY, LOOPS = range(10)


@njit(cache=True)
def _path_neighbours(answer: np.ndarray, size: int, cell: int, out: np.ndarray) -> int:
    """Neighbours of ``cell`` that are S, G or o; written to ``out``, count returned."""
    count = 0
    for k in range(4):
        nxt = neighbour(cell, k, size)
        if nxt >= 0 and answer[nxt] in (PATH, START, GOAL):
            out[count] = nxt
            count += 1
    return count


@njit(cache=True)
def _check(question: np.ndarray, answer: np.ndarray, size: int) -> tuple[int, int, int]:
    """(failure code, first bad cell or -1, path length in steps) for one flat maze."""
    n = size * size
    for i in range(n):  # rule 1, in reading order
        if answer[i] == PATH:
            if question[i] == WALL:
                return ON_WALL, i, 0
            if question[i] != OPEN:
                return ON_MARK, i, 0
        elif answer[i] != question[i]:
            return CHANGED, i, 0
    start, goal = find_code(answer, START), find_code(answer, GOAL)
    if start < 0 or goal < 0:
        return NO_START, -1, 0
    nb = np.empty(4, dtype=np.int64)
    visited = np.zeros(n, dtype=np.bool_)
    visited[start] = True
    count = _path_neighbours(answer, size, start, nb)
    if count == 0:
        return LEAVES_NOT, start, 0
    if count > 1:
        return BRANCHES, start, 0
    prev, cell, steps = start, nb[0], 1
    while cell != goal:
        if visited[cell]:
            return LOOPS, cell, steps
        visited[cell] = True
        if answer[cell] == START:
            return LOOPS, cell, steps
        count = _path_neighbours(answer, size, cell, nb)
        if count < 2:
            return BREAKS, cell, steps
        if count > 2:
            return BRANCHES, cell, steps
        nxt = nb[0] if nb[0] != prev else nb[1]
        prev, cell, steps = cell, nxt, steps + 1
    if _path_neighbours(answer, size, goal, nb) > 1:
        return BRANCHES, goal, steps
    for i in range(n):
        if answer[i] == PATH and not visited[i]:
            return STRAY, i, steps
    return VALID, -1, steps


@njit(cache=True)
def _check_batch(questions: np.ndarray, answers: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    b = questions.shape[0]
    codes = np.empty(b, dtype=np.int32)
    cells = np.empty(b, dtype=np.int32)
    lengths = np.empty(b, dtype=np.int32)
    for i in range(b):
        codes[i], cells[i], lengths[i] = _check(questions[i], answers[i], size)
    return codes, cells, lengths


def _reason(code: int, cell: int, size: int, question: np.ndarray, answer: np.ndarray) -> str:
    where = cell_name(cell // size, cell % size) if cell >= 0 else ""
    if code == CHANGED:
        return f"cell {where} changed from {CHARS[question[cell] - 1]!r} to {CHARS[answer[cell] - 1]!r}"
    if code == ON_WALL:
        return f"path crosses a wall at {where}"
    if code == ON_MARK:
        return f"path cell 'o' overwrites {CHARS[question[cell] - 1]!r} at {where}"
    if code == NO_START:
        return "the maze has no S or no G"
    if code == LEAVES_NOT:
        return f"no path leaves S at {where}"
    if code == BREAKS:
        return f"path breaks at {where} (dead end before G)"
    if code == BRANCHES:
        return f"path branches at {where}"
    if code == STRAY:
        return f"path cell at {where} is not on the chain from S to G"
    return f"path loops back at {where}"


def _verdict(
    code: int, cell: int, length: int, shortest: int, size: int, q: np.ndarray, a: np.ndarray, label: Any
) -> Verdict:
    exact = None if label is None else bool(np.array_equal(a, np.asarray(label).ravel()))
    extras = {"length": int(length), "shortest": int(shortest), "exact_label": exact}
    if code != VALID:
        v = (code, *divmod(cell, size)) if cell >= 0 else (code,)
        return Verdict(False, _reason(code, cell, size, q, a), violations=(v,), extras={**extras, "optimal": False})
    if length != shortest:
        return Verdict(False, f"not optimal ({length} > {shortest})", extras={**extras, "optimal": False})
    return Verdict(True, "shortest path", extras={**extras, "optimal": True})


def verify(puzzle: np.ndarray, answer: Any, label: np.ndarray | None = None, shortest: int | None = None) -> Verdict:
    """Judge one answer to ``puzzle`` (a code grid). ``shortest`` (L*) is computed when not given."""
    if answer is None:
        return Verdict.abstain()
    q = np.ascontiguousarray(puzzle, dtype=np.int8)
    size = q.shape[0]
    grid, problem = coerce_maze(answer, size)
    if grid is None:
        return Verdict.malformed(problem)
    qf, af = q.ravel(), grid.astype(np.int8).ravel()
    if shortest is None:
        shortest = int(shortest_lengths(qf[None], size)[0])
    code, cell, length = _check(qf, af, size)
    return _verdict(int(code), int(cell), int(length), shortest, size, qf, af, label)


def verify_batch(
    puzzles: np.ndarray,
    answers: Sequence[Any],
    labels: np.ndarray | None = None,
    shortest: np.ndarray | None = None,
) -> list[Verdict]:
    """``verify`` for a batch: well-formed answers go through one compiled loop."""
    if len(answers) == 0:
        return []
    q = np.ascontiguousarray(puzzles, dtype=np.int8)
    b, size = q.shape[0], q.shape[1]
    qf = q.reshape(b, size * size)
    if shortest is None:
        shortest = shortest_lengths(qf, size)
    verdicts: list[Verdict | None] = [None] * b
    grids = np.zeros_like(qf)
    stacked = _as_code_stack(answers, b, size)
    if stacked is not None:  # every answer is a well-formed code grid: no per-answer coercion
        codes, cells, lengths = _check_batch(qf, stacked, size)
        ok = (codes == VALID) & (lengths == shortest)
        exact = (stacked == labels.reshape(b, -1)).all(axis=1) if labels is not None else None
        out = []
        for i in range(b):
            if ok[i]:  # the common case when scoring good agents: no reason to build
                extras = {"length": int(lengths[i]), "shortest": int(shortest[i]), "optimal": True}
                extras["exact_label"] = None if exact is None else bool(exact[i])
                out.append(Verdict(True, "shortest path", extras=extras))
            else:
                label = None if labels is None else labels[i]
                out.append(
                    _verdict(
                        int(codes[i]), int(cells[i]), int(lengths[i]), int(shortest[i]), size, qf[i], stacked[i], label
                    )
                )
        return out
    for i, answer in enumerate(answers):
        if answer is None:
            verdicts[i] = Verdict.abstain()
            continue
        grid, problem = coerce_maze(answer, size)
        if grid is None:
            verdicts[i] = Verdict.malformed(problem)
        else:
            grids[i] = grid.ravel()
    todo = np.array([v is None for v in verdicts])
    codes, cells, lengths = _check_batch(qf[todo], grids[todo], size)
    for j, i in enumerate(np.flatnonzero(todo)):
        label = None if labels is None else labels[i]
        verdicts[i] = _verdict(
            int(codes[j]), int(cells[j]), int(lengths[j]), int(shortest[i]), size, qf[i], grids[i], label
        )
    return [v for v in verdicts if v is not None]


def _as_code_stack(answers: Sequence[Any], b: int, size: int) -> np.ndarray | None:
    """answers as an int8 [B, size*size] array when all are integer code grids in range, else None."""
    if not all(type(a) is np.ndarray and a.shape == (size, size) and a.dtype.kind in "iu" for a in answers):
        return None  # subclasses (masked arrays) take the per-answer path, which reads them as plain arrays
    stacked = np.stack(answers).reshape(b, size * size)
    if stacked.min() < WALL or stacked.max() > PATH:
        return None
    return np.ascontiguousarray(stacked, dtype=np.int8)


def solved_mask(puzzles: np.ndarray, answers: np.ndarray, shortest: np.ndarray | None = None) -> np.ndarray:
    """Booleans only (for RL rewards): valid and optimal, for an int grid batch [B, size, size]."""
    q = np.ascontiguousarray(puzzles, dtype=np.int8)
    b, size = q.shape[0], q.shape[-1]
    qf, af = q.reshape(b, size * size), np.ascontiguousarray(answers, dtype=np.int8).reshape(b, size * size)
    if shortest is None:
        shortest = shortest_lengths(qf, size)
    codes, _, lengths = _check_batch(qf, af, size)
    return (codes == VALID) & (lengths == shortest)
