"""Gymnasium environments for Maze-Hard: answer mode (a whole path per step) and step mode (one move per step).

Answer mode (``arena/MazeHard-v0``)
    observation: the maze, int8 [n, n] codes (``#`` 1, space 2, ``S`` 3, ``G`` 4).
    action: ``{"grid": int8 [n, n] with the path marked 5 ('o'), "abstain": 0|1}``; a bare grid, a string of
    n*n ``# SGo`` characters or ``None`` (= abstain) also work. Reward 1.0 when the path is valid and shortest.

Step mode (``arena/MazeHardStep-v0``), for RL with MaskablePPO
    observation: the maze with the path so far marked ``o``.
    action: ``Discrete(4)``, a move of the path's head (0 up, 1 left, 2 right, 3 down); ``action_masks()``
    allows moves onto open cells not yet on the path, or onto G.
    dense reward from the rules: +1/L* for a move one step closer to G (by BFS distance), -1/L* for any other
    legal move; reaching G ends the episode with +1 more when the path is shortest. A masked move ends the
    episode with -1; a head with no legal move ends it with 0.

Rendering (``render_mode=``): ``"ansi"`` the ``# SGo`` text with coordinates, ``"human"`` prints it,
``"rgb_array"`` a picture (uint8 [H, W, 3]; 24-pixel cells at 30x30, up to 32 for small mazes): walls dark,
open cells white, the path orange, S green and G red.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from arena_envs.config import ConfigError
from arena_envs.env_base import AnswerEnv, PuzzleEnv, check_band
from arena_envs.maze.data import MazeSet, load_set
from arena_envs.maze.grid import GOAL, OPEN, PATH, START, coerce_maze
from arena_envs.maze.render import render_maze
from arena_envs.maze.search import bfs
from arena_envs.rendering import maze_rgb

MOVES = ((-1, 0), (0, -1), (0, 1), (1, 0))


@dataclass(frozen=True)
class MazeEnvConfig:
    split: str = "test"
    size: int = 30
    data: str | None = None  # "bundled" (30x30 default) | "generated" (other sizes) | "hub" | CSV path
    seed: int = 0
    count: int = 1000
    max_attempts: int = 1  # answer mode only
    # difficulty band on the shortest S-G path length L*, applied to the loaded split (None: unbounded)
    shortest_min: int | None = None
    shortest_max: int | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigError(f"max_attempts must be >= 1, got {self.max_attempts}")
        check_band(self, "shortest")


class _MazeEnvBase(PuzzleEnv):
    config_cls = MazeEnvConfig
    answer_env_id = "arena/MazeHard-v0"
    load_set = staticmethod(load_set)
    puzzle_set: MazeSet

    def _setup(self) -> None:
        n = self.size = self.config.size
        self.observation_space = spaces.Box(1, PATH, shape=(n, n), dtype=np.int8)

    def _info(self) -> dict[str, Any]:
        return {**super()._info(), "shortest": self.puzzle.meta["shortest"]}

    def _render_text(self) -> str:
        return render_maze(self._board)

    def _render_rgb(self) -> np.ndarray:
        return maze_rgb(self._board)


class MazeAnswerEnv(AnswerEnv, _MazeEnvBase):
    """Answer mode: one step submits a whole path (or abstains)."""

    def _answer_space(self) -> spaces.Space:
        return spaces.Box(1, PATH, shape=(self.size, self.size), dtype=np.int8)

    def _board_from(self, answer: Any) -> np.ndarray:
        grid, _ = coerce_maze(answer, self.size)  # accepted answers are well formed
        return np.asarray(grid, dtype=np.int8)


class MazeStepEnv(_MazeEnvBase):
    """Step mode: the path grows from S one move at a time."""

    def __init__(self, render_mode: str | None = None, **options: Any) -> None:
        super().__init__(render_mode, **options)
        self.action_space = spaces.Discrete(4)
        self._head = 0
        self._steps = 0
        self._to_goal = np.zeros(self.size * self.size, np.int32)
        self._done = True

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        self._choose(seed, options)
        flat = self._board.ravel()
        self._head = int(np.flatnonzero(flat == START)[0])
        self._to_goal = bfs(flat.copy(), self.size, int(np.flatnonzero(flat == GOAL)[0]))
        self._steps, self._done = 0, False
        return self._board.copy(), self._info()

    def _target(self, action: int) -> int | None:
        r, c = divmod(self._head, self.size)
        dr, dc = MOVES[action]
        rr, cc = r + dr, c + dc
        if not (0 <= rr < self.size and 0 <= cc < self.size):
            return None
        cell = rr * self.size + cc
        return cell if self._board.flat[cell] in (OPEN, GOAL) else None

    def action_masks(self) -> np.ndarray:
        return np.array([self._target(a) is not None for a in range(4)], dtype=bool)

    def step(self, action: Any):
        if self._done:
            raise RuntimeError("the episode is over; call reset() before step()")
        shortest = self.puzzle.meta["shortest"]
        target = self._target(self._discrete(action))
        info = self._info()
        if target is None:
            self._done = True
            return self._board.copy(), -1.0, True, False, {**info, "reason": "illegal move"}
        closer = self._to_goal[target] == self._to_goal[self._head] - 1
        reward = (1.0 if closer else -1.0) / shortest
        self._steps += 1
        if self._board.flat[target] == GOAL:
            self._done = True
            optimal = self._steps == shortest
            return self._board.copy(), reward + (1.0 if optimal else 0.0), True, False, {**info, "optimal": optimal}
        self._board.flat[target] = PATH
        self._head = target
        if not self.action_masks().any():
            self._done = True
            return self._board.copy(), reward, True, False, {**info, "reason": "dead end"}
        return self._board.copy(), reward, False, False, info
