"""Gymnasium environments for Snowflake Sudoku: answer mode (a whole board per step) and step mode (one cell per step).

A board is a graph, not a grid: 6n triangular cells and the groups of 6 that must hold 1..6 once each (see
:mod:`arena_envs.snowflake.topology`). A split mixes sizes (n = 4..8), so observations are padded to the largest
board of the loaded split (C cells, G groups), with -1 marking what the current board does not have.

Observation (both modes): ``{"cells": int8 [C] (0 empty, 1-6 a digit, -1 no such cell), "groups": int64 [G, 6]
(cell indices of each group: hexagons first, then meeting points; -1 rows pad)}``.

Answer mode (``arena/SnowflakeSudoku-v0``)
    action: ``{"grid": int8 [C] (the board's 6n cells first; the padding is ignored), "abstain": 0|1}``; a bare
    answer also works, as a vector of 6n cells or n rows of 6, or ``None`` (= abstain). Reward 1.0 when the
    verifier accepts; the episode ends on success, on abstention, or after ``max_attempts`` answers.

Step mode (``arena/SnowflakeSudokuStep-v0``), for RL with MaskablePPO
    action: ``Discrete(6 C)``, ``a = cell * 6 + (digit - 1)``; ``action_masks()`` allows digits in the board's
    empty cells (or, with ``mask_conflicts=True``, only digits none of the cell's groups holds yet). Dense reward
    from the rules, as for Sudoku: +1/B for a placement that breaks no rule (B = blanks at reset), -1 and the end
    for one that does (or that targets a filled cell or a padding slot), +1 more when the board is complete and
    valid; a dead end (an empty cell with no digit left) ends the episode with reward 0.

Rendering (``render_mode=``): ``"ansi"`` the text board (hexagons, then meeting points), ``"human"`` prints it,
``"rgb_array"`` the triangles with their digits (one picture size per env: laid out for its largest board).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from arena_envs.config import ConfigError
from arena_envs.env_base import AnswerEnv, PuzzleEnv, check_band
from arena_envs.protocol import Verdict
from arena_envs.snowflake.data import SnowflakeSet, load_set
from arena_envs.snowflake.render import render_board, snowflake_rgb
from arena_envs.snowflake.topology import CELLS_PER_HEXAGON, DIGITS, Snowflake, snowflake


@dataclass(frozen=True)
class SnowflakeEnvConfig:
    """Options of both Snowflake envs (pass them to ``gymnasium.make``)."""

    split: str = "test"
    data: str | None = None  # "bundled" (default) | "generated" | CSV path
    seed: int = 0  # generator seed for data="generated"
    count: int = 1000  # puzzles to generate for data="generated"
    max_attempts: int = 1  # answer mode only
    mask_conflicts: bool = False  # step mode only
    # the band of board sizes kept from the loaded split (None: unbounded)
    hexagons_min: int | None = None
    hexagons_max: int | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigError(f"max_attempts must be >= 1, got {self.max_attempts}")
        check_band(self, "hexagons")


class _SnowflakeEnvBase(PuzzleEnv):
    config_cls = SnowflakeEnvConfig
    answer_env_id = "arena/SnowflakeSudoku-v0"
    load_set = staticmethod(load_set)
    puzzle_set: SnowflakeSet

    def _setup(self) -> None:
        self.layout = snowflake(int(self.puzzle_set.data.hexagons.max()))  # the largest board: fixes every size
        c, g = self.layout.cells, len(self.layout.groups)
        self.observation_space = spaces.Dict(
            {
                "cells": spaces.Box(-1, DIGITS, shape=(c,), dtype=np.int8),
                "groups": spaces.Box(-1, c - 1, shape=(g, CELLS_PER_HEXAGON), dtype=np.int64),
            }
        )

    @property
    def board(self) -> Snowflake:
        return snowflake(int(self.puzzle.meta["hexagons"]))

    def _observation(self) -> dict[str, np.ndarray]:
        cells = np.full(self.layout.cells, -1, dtype=np.int8)
        cells[: len(self._board)] = self._board
        groups = np.full((len(self.layout.groups), CELLS_PER_HEXAGON), -1, dtype=np.int64)
        own = self.board.groups
        groups[: len(own)] = own
        return {"cells": cells, "groups": groups}

    def _info(self) -> dict[str, Any]:
        return {**super()._info(), "hexagons": self.board.n}

    def _render_text(self) -> str:
        return render_board(self._board, self.board)

    def _render_rgb(self) -> np.ndarray:
        return snowflake_rgb(self._board, self.puzzle.grid, self.layout)


class SnowflakeAnswerEnv(AnswerEnv, _SnowflakeEnvBase):
    """Answer mode: one step submits a whole board (or abstains)."""

    def _answer_space(self) -> spaces.Space:
        return spaces.Box(0, DIGITS, shape=(self.layout.cells,), dtype=np.int8)

    def _answer_of(self, action: Any) -> Any:
        answer = super()._answer_of(action)
        # a padded answer from the action space: the board's own cells come first
        if isinstance(answer, np.ndarray) and answer.shape == (self.layout.cells,) != (self.board.cells,):
            return answer[: self.board.cells]
        return answer

    def _board_from(self, answer: Any) -> np.ndarray:
        return np.asarray(answer, dtype=np.int8).reshape(self.board.cells).copy()

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        _, info = super().reset(seed=seed, options=options)
        return self._observation(), info

    def step(self, action: Any):
        _, reward, terminated, truncated, info = super().step(action)
        return self._observation(), reward, terminated, truncated, info


class SnowflakeStepEnv(_SnowflakeEnvBase):
    """Step mode: one digit placed per step, with action masks and dense rule-based reward."""

    def __init__(self, render_mode: str | None = None, **options: Any) -> None:
        super().__init__(render_mode, **options)
        self.action_space = spaces.Discrete(self.layout.cells * DIGITS)
        self._blanks_at_reset = 1
        self._done = True

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        self._choose(seed, options)
        self._peers = self.board.neighbours()
        self._blanks_at_reset = max(1, int((self._board == 0).sum()))
        self._done = False
        return self._observation(), self._info()

    def legal_digits(self) -> np.ndarray:
        """bool [C, 6] over the padded cells: digit d + 1 may go into cell i without breaking a rule."""
        legal = np.zeros((self.layout.cells, DIGITS), dtype=bool)
        own = self._board.astype(np.int64)
        for cell in np.flatnonzero(own == 0):
            used = own[self._peers[cell]]
            legal[cell] = ~np.isin(np.arange(1, DIGITS + 1), used)
        return legal

    def action_masks(self) -> np.ndarray:
        if self._done:
            return np.zeros(self.layout.cells * DIGITS, dtype=bool)
        if self.config.mask_conflicts:
            return self.legal_digits().ravel()
        empty = np.zeros(self.layout.cells, dtype=bool)
        empty[: len(self._board)] = self._board == 0
        return np.repeat(empty, DIGITS)

    def step(self, action: Any):
        if self._done:
            raise RuntimeError("the episode is over; call reset() before step()")
        cell, digit = divmod(self._discrete(action), DIGITS)
        digit += 1
        board = self.board
        info = {**self._info(), "cell": cell, "digit": digit}
        if cell >= board.cells:
            return self._end(-1.0, Verdict(False, f"cell {cell} is not on this {board.n}-hexagon board"), info)
        name = board.cell_name(cell)
        if self._board[cell] != 0:
            return self._end(-1.0, Verdict(False, f"{name} is not empty", (("filled", cell),)), info)
        clash = np.flatnonzero(self._peers[cell] & (self._board == digit))
        self._board[cell] = digit
        if len(clash):
            other = int(clash[0])
            group = next(g for g, m in enumerate(board.groups) if cell in m and other in m)
            reason = f"digit {digit} at {name} repeats {board.cell_name(other)} in {board.group_name(group)}"
            return self._end(-1.0, Verdict(False, reason, (("clash", cell, other),)), info)
        reward = 1.0 / self._blanks_at_reset
        if not (self._board == 0).any():
            verdict = self.puzzle_set.verify(self.puzzle, self._board.copy())
            return self._end(reward + (1.0 if verdict.ok else 0.0), verdict, info)
        legal = self.legal_digits()[: board.cells]
        stuck = np.flatnonzero((self._board == 0) & ~legal.any(axis=1))
        if len(stuck):
            where = int(stuck[0])
            verdict = Verdict(False, f"dead end: no digit fits {board.cell_name(where)}", (("dead_end", where),))
            return self._end(reward, verdict, info)
        return self._observation(), reward, False, False, info

    def _end(self, reward: float, verdict: Verdict, info: dict[str, Any]):
        self._done = True
        info["verdict"] = verdict.to_dict()
        return self._observation(), float(reward), True, False, info
