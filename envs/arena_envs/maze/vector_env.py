"""A native vector env for Maze step mode: N mazes stepped by one compiled call (see :class:`MazeStepVectorEnv`).

It sits beside :class:`~arena_envs.maze.env.MazeStepEnv` as Gymnasium's ``CartPoleVectorEnv`` sits beside
``CartPoleEnv``: the same options, mazes, spaces, rewards and masks, with arrays in place of scalars. The dynamics
are numba kernels over a :class:`MazeState` (what changes) and :class:`MazeTables` (what does not), in gymnax's
style; they update the state's arrays in place and return it, so a step allocates no new state.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from gymnasium import spaces
from numba import njit

from arena_envs.config import ConfigError
from arena_envs.maze.data import MazeSet
from arena_envs.maze.env import MazeStepEnv
from arena_envs.maze.grid import GOAL, OPEN, PATH, START
from arena_envs.maze.render import render_maze
from arena_envs.maze.search import bfs, find_code, neighbour
from arena_envs.rendering import maze_rgb
from arena_envs.vector_base import PuzzleVectorEnv, draw_puzzles


class MazeState(NamedTuple):
    """What changes, per env (N envs, n*n cells)."""

    board: np.ndarray  # int8 [N, n*n] the maze with the path so far marked PATH
    head: np.ndarray  # int64 [N] the path's last cell
    steps: np.ndarray  # int64 [N] moves made
    done: np.ndarray  # bool [N] the episode is over (the next step resets it)
    index: np.ndarray  # int64 [N] the maze's row in the set


class MazeTables(NamedTuple):
    """What does not change: the mazes, their S, L* and every cell's distance to G."""

    grids: np.ndarray  # int8 [P, n*n]
    to_goal: np.ndarray  # int32 [P, n*n] BFS steps to G on the empty maze (-1: wall or unreachable)
    start: np.ndarray  # int64 [P] S
    shortest: np.ndarray  # int64 [P] L*
    size: int  # n


@njit(cache=True)
def goal_distances(grids: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """int32 [P, n*n] steps to G of every cell and int64 [P] S of every maze (the scalar env's BFS at reset)."""
    to_goal = np.empty(grids.shape, dtype=np.int32)
    start = np.empty(grids.shape[0], dtype=np.int64)
    for k in range(grids.shape[0]):
        to_goal[k] = bfs(grids[k], size, find_code(grids[k], GOAL))
        start[k] = find_code(grids[k], START)
    return to_goal, start


def make_tables(puzzle_set: MazeSet, size: int) -> MazeTables:
    # from the puzzles themselves (not the set's arrays), so the rows are exactly what the scalar env indexes
    grids = np.stack([np.asarray(p.grid, dtype=np.int8).ravel() for p in puzzle_set.puzzles])  # [P, n*n]
    shortest = np.array([p.meta["shortest"] for p in puzzle_set.puzzles], dtype=np.int64)  # [P] L*
    to_goal, start = goal_distances(grids, size)
    return MazeTables(grids, to_goal, start, shortest, size)


def empty_state(num_envs: int, size: int) -> MazeState:
    n = num_envs
    return MazeState(
        np.zeros((n, size * size), np.int8),
        np.zeros(n, np.int64),
        np.zeros(n, np.int64),
        np.ones(n, np.bool_),
        np.zeros(n, np.int64),
    )


# --- compiled kernels --------------------------------------------------------------------------------------------
# The per-env work is written inside each kernel's loop rather than in per-env helpers: every call that passes
# arrays pays a reference-count update per array, which made up most of a step's time.


@njit(cache=True)
def _open(board: np.ndarray, i: int, cell: int) -> bool:
    """A move onto ``cell`` (-1: off the grid) is allowed: an open cell or G (not a wall, S or the path)."""
    return cell >= 0 and (board[i, cell] == OPEN or board[i, cell] == GOAL)


@njit(cache=True)
def maze_reset(state: MazeState, tables: MazeTables, puzzles: np.ndarray) -> MazeState:
    """Env i starts maze ``puzzles[i]`` (int64 [N]); envs with -1 are left as they are."""
    for i in range(puzzles.shape[0]):
        if puzzles[i] < 0:
            continue
        state.board[i, :] = tables.grids[puzzles[i]]
        state.head[i] = tables.start[puzzles[i]]
        state.steps[i] = 0
        state.done[i] = False
        state.index[i] = puzzles[i]
    return state


@njit(cache=True)
def maze_step(
    state: MazeState, tables: MazeTables, generators: np.ndarray, actions: np.ndarray, same_step: bool
) -> tuple[MazeState, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Step all N envs: env i makes move ``actions[i]`` (int64 [N]). Autoresets draw a maze from the env's
    generator row (uint64 [N, 6], advanced in place). NEXT_STEP (``same_step`` False): an env whose episode ended
    at the last step is reset instead of stepped (reward 0, not terminated, its action ignored). SAME_STEP: an env
    whose episode ends now is reset at once, after its final board is copied. The rules are the scalar env's,
    checked in its order.

    Returns the state, rewards float64 [N], terminated bool [N], at_goal bool [N], optimal bool [N] and the
    boards as the step left them, int8 [N, n*n] (SAME_STEP; [0, n*n] otherwise).
    """
    board, head, steps, index, size = state.board, state.head, state.steps, state.index, tables.size
    n = actions.shape[0]
    rewards = np.zeros(n, dtype=np.float64)
    terminated = np.zeros(n, dtype=np.bool_)
    at_goal = np.zeros(n, dtype=np.bool_)
    optimal = np.zeros(n, dtype=np.bool_)
    puzzles = draw_puzzles(generators, state.done, tables.grids.shape[0])  # [N] -1 = no autoreset
    maze_reset(state, tables, puzzles)
    for i in range(n):
        if puzzles[i] >= 0:
            continue
        target = neighbour(head[i], actions[i], size)
        if not _open(board, i, target):  # a masked move: -1 and the end, board and head unchanged
            rewards[i], terminated[i] = -1.0, True
            continue
        k = index[i]
        shortest = tables.shortest[k]
        closer = tables.to_goal[k, target] == tables.to_goal[k, head[i]] - 1
        rewards[i] = (1.0 if closer else -1.0) / shortest
        steps[i] += 1
        if board[i, target] == GOAL:  # the board and head stay as they are, as in the scalar env
            optimal[i] = steps[i] == shortest
            rewards[i] += 1.0 if optimal[i] else 0.0
            terminated[i], at_goal[i] = True, True
            continue
        board[i, target] = PATH
        head[i] = target
        stuck = True  # a dead end: no move left
        for m in range(4):
            stuck = stuck and not _open(board, i, neighbour(target, m, size))
        terminated[i] = stuck
    state.done[:] = terminated  # an env reset above is not terminated, so not done
    final = board.copy() if same_step else board[:0].copy()
    if same_step:
        maze_reset(state, tables, draw_puzzles(generators, terminated, tables.grids.shape[0]))
    return state, rewards, terminated, at_goal, optimal, final


@njit(cache=True)
def maze_masks(state: MazeState, tables: MazeTables) -> np.ndarray:
    """bool [N, 4]: the scalar env's ``action_masks()`` of every env (read off the board, also once it ended)."""
    n = state.head.shape[0]
    out = np.zeros((n, 4), dtype=np.bool_)
    for i in range(n):
        for m in range(4):
            out[i, m] = _open(state.board, i, neighbour(state.head[i], m, tables.size))
    return out


# --- the vector env ----------------------------------------------------------------------------------------------


class MazeStepVectorEnv(PuzzleVectorEnv):
    """N Maze step-mode envs stepped together in one compiled call: ``arena/MazeHardStep-v0`` batched.

    ## Description

    The same mazes, options, rewards and masks as N :class:`~arena_envs.maze.env.MazeStepEnv`, and the same
    random draws: under one seed it reproduces ``gymnasium.vector.SyncVectorEnv`` of N scalar envs exactly
    (``tests/envs/test_vector_envs.py`` checks obs, rewards, flags and masks step by step). Every maze's
    distances to G are computed once, when the env is made, instead of one BFS per reset.

    ## Action Space

    ``MultiDiscrete([4] * N)``: env i moves its path's head 0 up, 1 left, 2 right, 3 down. An action outside
    ``0..3``, a non-integer array or one that is not shaped [N] is a ``ValueError`` (the ignored action of an env
    being reset is not checked).

    ## Observation Space

    ``Box(1, 5, (N, n, n), int8)``: the mazes (``#`` 1, space 2, ``S`` 3, ``G`` 4) with the path so far marked 5.

    ## Rewards

    As the scalar env: ``+1/L*`` for a move one step closer to G (by BFS distance), ``-1/L*`` for any other legal
    move, ``+1`` more on reaching G in L* moves, ``-1`` for a masked move; ``0`` on the step an env is reset.

    ## Starting State

    Each env draws its maze from its own generator, ``np_random.integers(len(puzzle_set))`` as the scalar env
    does; ``reset(seed=k)`` seeds env i with ``k + i`` as ``SyncVectorEnv`` does, and autoresets keep drawing from
    the same generators. ``reset(options={"index": i})`` starts every env on maze i, and an array of N indices one
    maze per env; ``reset(options={"grids": mazes})`` (int [N, n, n]) starts env i on ``mazes[i]``, any maze with
    a path from S to G (the puzzles an agent is given), and autoresets then draw among those mazes.

    ## Episode End

    Terminated on reaching G, on a masked move, or when the head has no legal move left. Never truncated.
    Autoreset is Gymnasium's ``NEXT_STEP`` by default: the step after an env's episode ends resets it and ignores
    its action; until then its ``action_masks()`` row is read off the final board, as the scalar env's is. With
    ``autoreset_mode="same_step"`` the ending step resets the env at once and puts its last board and step info
    in ``info["final_obs"]`` / ``info["final_info"]``, as ``SyncVectorEnv`` does (SB3's convention).

    ## Info

    Gymnasium's vector form (arrays with ``_key`` masks): ``puzzle_id``, ``index`` and ``shortest`` for every
    env; ``complete`` (the path reached G) masked to the envs whose episode just ended, and ``optimal`` (it did
    so by a shortest path) masked to the envs that just reached G (both under ``final_info`` with SAME_STEP).
    Unlike the scalar env there is no ``reason`` string for the other ends: building strings would cost more
    than the step.

    ## Arguments

    | argument | default | meaning |
    |---|---|---|
    | ``num_envs`` | | N, the mazes stepped together |
    | ``render_mode`` | ``None`` | ``"ansi"``/``"rgb_array"``: ``render()`` returns N frames; ``"human"`` prints |
    | ``autoreset_mode`` | ``NEXT_STEP`` | ``AutoresetMode.NEXT_STEP`` or ``SAME_STEP`` (or their names) |
    | ``**options`` | | exactly the scalar env's (``size``, ``split``, ``data``, ``count``, ...) |

    >>> import gymnasium as gym
    >>> import arena_envs
    >>> envs = gym.make_vec("arena/MazeHardStep-v0", num_envs=8, size=10, count=20)
    >>> obs, info = envs.reset(seed=0)
    >>> obs.shape, envs.action_masks().shape
    ((8, 10, 10), (8, 4))

    ## Version History

    * v0: first version.
    """

    scalar_cls = MazeStepEnv  # config class, loader and answer id come from here
    puzzle_set: MazeSet

    def _setup(self) -> None:
        self.size = size = self.config.size
        self.single_observation_space = spaces.Box(1, PATH, shape=(size, size), dtype=np.int8)
        self.single_action_space = spaces.Discrete(4)
        self._tables = make_tables(self.puzzle_set, size)
        self._state = empty_state(self.num_envs, size)

    def _reset_boards(self, puzzles: np.ndarray) -> None:
        self._state = maze_reset(self._state, self._tables, puzzles)

    def _tables_for(self, grids: np.ndarray) -> MazeTables:
        to_goal, start = goal_distances(grids, self.size)
        shortest = to_goal[np.arange(len(grids)), start].astype(np.int64)  # L* = BFS steps from S to G
        if (shortest < 1).any():
            raise ConfigError(f"options['grids']: maze {int(np.argmax(shortest < 1))} has no path from S to G")
        return MazeTables(grids, to_goal, start, shortest, self.size)

    def _step_boards(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], np.ndarray]:
        state, tables, generators = self._state, self._tables, self._generators
        self._state, rewards, terminated, at_goal, optimal, final = maze_step(
            state, tables, generators, actions, self._same
        )
        outcomes: dict[str, np.ndarray] = {}
        if terminated.any():  # complete: the path reached G (shortest or not)
            outcomes = {"complete": at_goal & terminated, "_complete": terminated.copy()}
        if at_goal.any():
            outcomes |= {"optimal": optimal, "_optimal": at_goal}
        return rewards, terminated, outcomes, final.reshape(-1, self.size, self.size)

    def _obs(self) -> np.ndarray:
        return self._state.board.reshape(self.num_envs, self.size, self.size).copy()  # int8 [N, n, n]

    def _puzzle_index(self) -> np.ndarray:
        return self._state.index

    def _columns(self, index: np.ndarray) -> dict[str, np.ndarray]:
        return {"shortest": self._tables.shortest[index]}

    def action_masks(self) -> np.ndarray:
        """bool [N, 4]: row i is env i's ``MazeStepEnv.action_masks()`` (MaskablePPO's method name)."""
        return maze_masks(self._state, self._tables)

    def render(self) -> tuple[Any, ...] | None:
        """One frame per env: text mazes (``"ansi"``), pictures uint8 [H, W, 3] (``"rgb_array"``)."""
        if self.render_mode is None:
            return None
        boards = self._obs()
        if self.render_mode == "rgb_array":
            return tuple(maze_rgb(b) for b in boards)
        texts = tuple(render_maze(b) for b in boards)
        if self.render_mode == "human":
            print("\n\n".join(texts))
            return None
        return texts
