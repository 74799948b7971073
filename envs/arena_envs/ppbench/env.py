"""Gymnasium environments for Pencil Puzzle Bench, checked by pzpr.js.

Boards of a set differ in size, so arrays are padded to the set's largest (2R+1) x (2C+1) layout with -9.

Answer mode (``arena/PPBench-v0``)
    observation: int16 [8, H, W]: the 5 given channels then the 3 answer channels of ``layout.py``.
    action: ``{"grid": int16 [3, H, W] answer channels, "abstain": 0|1}``; or a list of pzpr moves
    (``["mouse,left,3,5", ...]``, also as ``{"moves": [...]}``), a bare grid, or None to abstain. Reward 1.0 when
    pzpr says "Complete!"; ``info["verdict"]["reason"]`` is pzpr's message for the first failing rule. The board
    after the attempt shows in the observation.

Step mode (``arena/PPBenchStep-v0``), for RL with MaskablePPO
    action: ``Discrete(H * W * V)``: position (y, x) and value v (V = the set's largest cell value + 1), i.e. put
    v in the cell at (y, x), or set the edge at (y, x) to v in the variety's edge channel (line or border).
    ``action_masks()`` allows writable positions (no clue cell, no given border) and values that change
    something. A pzpr move string is accepted too and played on the current board.
    reward: +1 when solved (which ends the episode), plus potential-based shaping
    ``Φ(s') - Φ(s)`` with ``Φ = -rule_penalty x (number of broken rules)``; a broken rule is a failing pzpr check
    that more moves cannot fix, as opposed to one an unfinished board fails (pzpr's "+" checks: empty cells,
    dead ends). A masked action or a move pzpr refuses costs ``rule_penalty`` and changes nothing.
    Episodes are truncated after ``max_steps`` (default: 2 x the writable positions + 10).

Rendering (``render_mode=``): ``"ansi"`` the text board of ``layout.render_text``, ``"human"`` prints it,
``"rgb_array"`` a picture (uint8 [H, W, 3], sized for the set's largest board, this one in its top-left
corner): clue numbers black, shaded cells dark, numbers entered blue, given borders black, drawn borders blue,
lines green.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from arena_envs.answers import as_array
from arena_envs.config import ConfigError
from arena_envs.env_base import AnswerEnv, PuzzleEnv, check_band
from arena_envs.ppbench import layout
from arena_envs.ppbench.data import PPBenchSet, load_set
from arena_envs.ppbench.verifier import is_moves
from arena_envs.protocol import Verdict
from arena_envs.rendering import ppbench_rgb

OBS_HIGH = np.iinfo(np.int16).max


@dataclass(frozen=True)
class PPBenchEnvConfig:
    split: str = "test"  # golden_300 (= test) | golden_30
    data: str | None = None  # None: the ppbench package's golden set; or a .jsonl path in its format
    count: int | None = None  # keep the first `count` puzzles
    variety: str | None = None  # keep one pzpr variety (pid), e.g. "nurikabe"
    max_attempts: int = 1  # answer mode
    max_steps: int | None = None  # step mode; None: 2 x writable positions + 10
    rule_penalty: float = 0.05  # step mode shaping scale
    # board-size band on rows x cols, applied after variety and count (None: unbounded)
    cells_min: int | None = None
    cells_max: int | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigError(f"max_attempts must be >= 1, got {self.max_attempts}")
        check_band(self, "cells")
        if self.max_steps is not None and self.max_steps < 1:
            raise ConfigError(f"max_steps must be >= 1, got {self.max_steps}")
        if self.rule_penalty < 0:
            raise ConfigError(f"rule_penalty must be >= 0, got {self.rule_penalty}")


class _PPBenchBase(PuzzleEnv):
    config_cls = PPBenchEnvConfig
    answer_env_id = "arena/PPBench-v0"
    load_set = staticmethod(load_set)
    puzzle_set: PPBenchSet

    def _setup(self) -> None:
        shapes = np.array([p.meta["layout"] for p in self.puzzle_set.puzzles])
        self.canvas = (int(shapes[:, 0].max()), int(shapes[:, 1].max()))
        self.max_value = max(int(p.meta["max_cell_value"]) for p in self.puzzle_set.puzzles)
        n_channels = len(layout.GIVEN_CHANNELS) + len(layout.ANSWER_CHANNELS)
        self.observation_space = spaces.Box(layout.PAD, OBS_HIGH, shape=(n_channels, *self.canvas), dtype=np.int16)
        self._answer = layout.empty_answer(self.puzzle.meta["layout"])
        self._board = self._observation()

    def _choose(self, seed: int | None, options: dict[str, Any] | None) -> None:
        super()._choose(seed, options)
        self._answer = layout.empty_answer(self.puzzle.meta["layout"])
        self._board = self._observation()

    def _observation(self) -> np.ndarray:
        both = np.concatenate([self.puzzle.grid, self._answer]).astype(np.int16)
        return layout.pad(both, self.canvas)

    def _info(self) -> dict[str, Any]:
        m = self.puzzle.meta
        return {**super()._info(), "pid": m["pid"], "url": m["url"], "layout": tuple(m["layout"])}

    def _render_text(self) -> str:
        return layout.render_text(np.asarray(self.puzzle.grid), self._answer)

    def _render_rgb(self) -> np.ndarray:
        m = self.puzzle.meta
        return ppbench_rgb(
            np.asarray(self.puzzle.grid), self._answer, self.canvas, pid=m["pid"], number_entry=m["number_entry"]
        )


class PPBenchAnswerEnv(AnswerEnv, _PPBenchBase):
    """Answer mode: one step submits a whole answer (moves or grid) or abstains."""

    ANSWER_KEYS = frozenset({"grid", "moves", "abstain"})

    def _answer_space(self) -> spaces.Space:
        return spaces.Box(layout.PAD, self.max_value, shape=(len(layout.ANSWER_CHANNELS), *self.canvas), dtype=np.int16)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._done:
            raise RuntimeError("the episode is over; call reset() before step()")
        answer = self._answer_of(action)
        if answer is not None and not is_moves(answer):
            answer = self._crop(answer)
        verdict, state = Verdict.abstain(), None
        if answer is not None:
            verdict, state = self.puzzle_set.judge(self.puzzle, answer)
        if state is not None:
            self._answer = state["answer"]
        info = self._attempt(verdict)
        return self._observation(), 1.0 if verdict.ok else 0.0, self._done, False, info

    def _crop(self, answer: Any) -> Any:
        """An answer on the env's padded canvas, cut to this puzzle's layout (the padding is ignored)."""
        arr = as_array(answer) if not isinstance(answer, (str, bytes)) else None
        h, w = self.puzzle.meta["layout"]
        if arr is not None and arr.dtype.kind in "iuf" and arr.shape == (len(layout.ANSWER_CHANNELS), *self.canvas):
            return arr[:, :h, :w]
        return answer


class PPBenchStepEnv(_PPBenchBase):
    """Step mode: one cell or edge value (or one pzpr move) per step."""

    def __init__(self, render_mode: str | None = None, **options: Any) -> None:
        super().__init__(render_mode, **options)
        self.n_values = max(self.max_value, 1) + 1
        self.action_space = spaces.Discrete(self.canvas[0] * self.canvas[1] * self.n_values)
        self._steps, self._potential, self._done = 0, 0.0, True

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        self._choose(seed, options)
        _, state = self.puzzle_set.judge(self.puzzle, [])
        self._potential = self._phi(state)
        self._steps, self._done = 0, False
        return self._observation(), {**self._info(), "broken": state["broken"], "unfinished": state["unfinished"]}

    @property
    def max_steps(self) -> int:
        if self.config.max_steps is not None:
            return self.config.max_steps
        return 2 * int(self.puzzle.meta["writable"].sum()) + 10

    def _phi(self, state: dict[str, Any] | None) -> float:
        return -self.config.rule_penalty * len(set(state["broken"])) if state else 0.0

    def _decode(self, action: int) -> tuple[int, int, int, int]:
        """(channel, y, x, value) of a discrete action."""
        pos, value = divmod(int(action), self.n_values)
        y, x = divmod(pos, self.canvas[1])
        if (y + x) % 2 == 0:
            return 0, y, x, value
        channel = layout.ANSWER_CHANNELS.index(self.puzzle.meta["edge_channel"] or "line")
        return channel, y, x, value

    def action_masks(self) -> np.ndarray:
        h, w = self.puzzle.meta["layout"]
        writable = np.zeros(self.canvas, dtype=bool)
        writable[:h, :w] = self.puzzle.meta["writable"] == 1
        mask = np.zeros((*self.canvas, self.n_values), dtype=bool)
        ys, xs = np.nonzero(writable)
        cells = (ys % 2 == 1) & (xs % 2 == 1)
        top = np.where(cells, int(self.puzzle.meta["max_cell_value"]), 1)
        edge = layout.ANSWER_CHANNELS.index(self.puzzle.meta["edge_channel"] or "line")
        current = np.where(cells, self._answer[0, ys, xs], self._answer[edge, ys, xs])
        for v in range(self.n_values):
            mask[ys, xs, v] = (v <= top) & (v != current)
        return mask.reshape(-1)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._done:
            raise RuntimeError("the episode is over; call reset() before step()")
        self._steps += 1
        if isinstance(action, str):
            verdict, state = self.puzzle_set.judge(self.puzzle, [action], board=self._answer)
        elif not self.action_masks()[index := self._discrete(action)]:
            verdict, state = Verdict(False, f"action {index} is masked (not writable, or changes nothing)"), None
        else:
            channel, y, x, value = self._decode(index)
            board = self._answer.copy()
            board[channel, y, x] = value
            verdict, state = self.puzzle_set.judge(self.puzzle, board)
        if state is None:  # refused: nothing changes
            reward = -self.config.rule_penalty
            broken = unfinished = None
        else:
            self._answer = state["answer"]
            potential = self._phi(state)
            reward = potential - self._potential + (1.0 if verdict.ok else 0.0)
            self._potential = potential
            broken, unfinished = state["broken"], state["unfinished"]
        self._done = verdict.ok
        truncated = not self._done and self._steps >= self.max_steps
        self._done = self._done or truncated
        info = {**self._info(), "verdict": verdict.to_dict(), "broken": broken, "unfinished": unfinished}
        return self._observation(), float(reward), verdict.ok, truncated, info
