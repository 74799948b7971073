"""Per-family primitives the baseline agents are built from: an exact search and a random answer.

Adding a family means adding one entry to each table below; the agents themselves stay generic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np

from arena_envs.protocol import Puzzle


@dataclass(frozen=True)
class SearchOutcome:
    answer: np.ndarray | None  # None: the budget ran out (or no solution exists)
    nodes: int  # search nodes visited
    guesses: int  # branch decisions


def _sudoku_search(puzzle: Puzzle, max_nodes: int, seed: int | None) -> SearchOutcome:
    from arena_envs.sudoku import solver

    br, bc = puzzle.meta.get("box", (3, 3))
    result = solver.solve(puzzle.grid, br, bc, max_nodes=max_nodes, seed=seed)
    return SearchOutcome(result.solution, int(result.nodes), int(result.guesses))


def _sudoku_random(puzzle: Puzzle, rng: np.random.Generator) -> np.ndarray:
    """Keep the givens, fill every blank with a uniformly random digit."""
    grid = np.array(puzzle.grid, dtype=np.int8)
    s = grid.shape[0]
    blanks = grid == 0
    grid[blanks] = rng.integers(1, s + 1, size=int(blanks.sum()), dtype=np.int8)
    return grid


@cache
def _sudoku_warm_up() -> None:
    """Compile the numba search once, so its compile time is not billed to the first puzzle's cost."""
    from arena_envs.sudoku import solver

    solver.solve(np.zeros((4, 4), np.int8), 2, 2)


SEARCH: dict[str, Callable[[Puzzle, int, int | None], SearchOutcome]] = {"sudoku": _sudoku_search}
WARM_UP: dict[str, Callable[[], None]] = {"sudoku": _sudoku_warm_up}
RANDOM_ANSWER: dict[str, Callable[[Puzzle, np.random.Generator], np.ndarray]] = {"sudoku": _sudoku_random}


def lookup(table: dict[str, Callable], family: str, agent: str) -> Callable:
    if family not in table:
        raise NotImplementedError(f"the {agent} agent has no implementation for family {family!r} yet")
    return table[family]


def search_for(family: str, agent: str) -> Callable[[Puzzle, int, int | None], SearchOutcome]:
    """The family's exact search, compiled before it is first timed."""
    search = lookup(SEARCH, family, agent)
    WARM_UP.get(family, lambda: None)()
    return search
