"""A small exact solver for Snowflake Sudoku: counts solutions up to a limit, and draws random full boards.

Depth-first search over candidate bitmasks (bit d - 1 set: digit d still possible), always branching on an empty
cell with the fewest candidates. A board has at most 48 cells (n = 8), so plain Python is fast enough for tests,
the verifier's uniqueness checks and random solutions; the generator proves uniqueness with cvc5 and the tests
check the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arena_envs.snowflake.topology import DIGITS, Snowflake

ALL = (1 << DIGITS) - 1


@dataclass(frozen=True)
class Search:
    """What a search found: how many solutions (up to its limit), the first one, and the nodes it visited."""

    count: int
    first: np.ndarray | None  # int8 [C]
    nodes: int
    exhausted: bool = False  # the node budget ran out before the search could finish


def _peers(board: Snowflake) -> list[list[int]]:
    peers = board.neighbours()
    return [np.flatnonzero(row).tolist() for row in peers]


def search(
    board: Snowflake,
    cells: np.ndarray,
    limit: int = 2,
    rng: np.random.Generator | None = None,
    max_nodes: int = -1,
) -> Search:
    """Solutions of ``cells`` (int [C], 0 = blank) up to ``limit``. With ``rng`` the digits of each branch are
    tried in random order (a random solution, a pure function of the generator's state). ``max_nodes`` >= 0
    stops the search after that many nodes (``exhausted`` then says so)."""
    values = [int(v) for v in np.asarray(cells).ravel()]
    if len(values) != board.cells:
        raise ValueError(f"expected {board.cells} cells for {board.n} hexagons, got {len(values)}")
    peers = _peers(board)
    candidates = [ALL] * board.cells
    for c, v in enumerate(values):
        if v:
            if not candidates[c] >> (v - 1) & 1:
                return Search(0, None, 0)  # a given that clashes with an earlier given
            candidates[c] = 1 << (v - 1)
            for p in peers[c]:
                candidates[p] &= ~(1 << (v - 1))
    found: list[np.ndarray] = []
    nodes, exhausted = 0, False

    def solve(grid: list[int], cand: list[int]) -> bool:
        """True when the limit (or the node budget) is reached: stop everything."""
        nonlocal nodes, exhausted
        if 0 <= max_nodes <= nodes:
            exhausted = True
            return True
        nodes += 1
        best, best_count = -1, DIGITS + 1
        for c in range(board.cells):
            if grid[c] == 0:
                count = cand[c].bit_count()
                if count == 0:
                    return False
                if count < best_count:
                    best, best_count = c, count
                    if count == 1:
                        break
        if best < 0:
            found.append(np.asarray(grid, dtype=np.int8))
            return len(found) >= limit
        digits = [d for d in range(1, DIGITS + 1) if cand[best] >> (d - 1) & 1]
        if rng is not None:
            digits = [digits[i] for i in rng.permutation(len(digits))]
        for d in digits:
            bit = 1 << (d - 1)
            next_grid, next_cand = grid.copy(), cand.copy()
            next_grid[best] = d
            next_cand[best] = bit
            for p in peers[best]:
                next_cand[p] &= ~bit
            if solve(next_grid, next_cand):
                return True
        return False

    solve(values, candidates)
    return Search(len(found), found[0] if found else None, nodes, exhausted)


def count_solutions(board: Snowflake, cells: np.ndarray, limit: int = 2) -> int:
    return search(board, cells, limit).count


def random_solution(board: Snowflake, rng: np.random.Generator) -> np.ndarray:
    """A full board drawn by randomised search (int8 [C], digits 1..6)."""
    result = search(board, np.zeros(board.cells, np.int8), limit=1, rng=rng)
    assert result.first is not None, "every snowflake of 1..19 hexagons has a solution"
    return result.first
