"""ARC verification: an answer holds one grid per test input and is compared cell by cell with the outputs.

``Verdict.ok`` means every test pair of the task is right; ``extras["pairs"]`` lists each pair's correctness,
which is what the official score counts (a pair is solved when either of two attempts gets it right; the task
scores solved pairs / pairs). Any grid of 1..30 x 1..30 colours 0..9 is a well-formed answer; anything else is
malformed with a reason. A task with one test input also accepts a bare grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from arena_envs.answers import as_array, coerce_grid
from arena_envs.protocol import Verdict

MAX_SIDE = 30


def coerce_attempt(answer: Any, n_tests: int) -> tuple[list[np.ndarray] | None, str]:
    """The answer as one int grid per test input, or (None, reason)."""
    grids = [answer] if n_tests == 1 and _looks_like_grid(answer) else answer
    if isinstance(grids, np.ndarray) and grids.ndim == 3:
        grids = list(grids)  # equal-shaped outputs stacked into one array (how stored answers decode)
    if not isinstance(grids, (list, tuple)):
        return None, f"expected a list of {n_tests} grid(s), got {type(answer).__name__}"
    if len(grids) != n_tests:
        return None, f"expected {n_tests} grid(s), one per test input, got {len(grids)}"
    out = []
    for i, g in enumerate(grids):
        arr = as_array(g) if not isinstance(g, (str, bytes)) else None
        shape = arr.shape if arr is not None and arr.dtype != object else None
        if shape is None or len(shape) != 2 or not (1 <= shape[0] <= MAX_SIDE and 1 <= shape[1] <= MAX_SIDE):
            return None, f"test {i + 1}: expected a 1..30 x 1..30 grid, got {shape if shape else type(g).__name__}"
        grid, problem = coerce_grid(g, shape, 0, 9)
        if grid is None:
            return None, f"test {i + 1}: {problem}"
        out.append(grid)
    return out, ""


def _looks_like_grid(answer: Any) -> bool:
    if isinstance(answer, np.ndarray):
        return answer.ndim == 2 and answer.dtype != object
    return (
        isinstance(answer, (list, tuple))
        and bool(answer)
        and all(isinstance(row, (list, tuple)) and all(not isinstance(v, (list, tuple)) for v in row) for row in answer)
    )


def verify(outputs: Sequence[np.ndarray], answer: Any) -> Verdict:
    """Judge one attempt against a task's test outputs."""
    if answer is None:
        return Verdict.abstain()
    grids, problem = coerce_attempt(answer, len(outputs))
    if grids is None:
        return Verdict.malformed(problem)
    pairs, reasons = [], []
    for i, (grid, expected) in enumerate(zip(grids, outputs)):
        if grid.shape != expected.shape:
            pairs.append(False)
            reasons.append(
                f"test {i + 1}: expected a {'x'.join(map(str, expected.shape))} grid, "
                f"got {'x'.join(map(str, grid.shape))}"
            )
            continue
        wrong = int((grid != expected).sum())
        pairs.append(wrong == 0)
        if wrong:
            reasons.append(f"test {i + 1}: {wrong} cell(s) differ")
    extras = {"pairs": pairs, "solved_pairs": sum(pairs), "n_pairs": len(pairs)}
    if all(pairs):
        return Verdict(True, "every test output matches", extras=extras)
    return Verdict(False, "; ".join(reasons), extras=extras)
