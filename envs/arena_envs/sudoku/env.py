"""Gymnasium environments for Sudoku: answer mode (a whole grid per step) and step mode (one cell per step).

Answer mode (``arena/SudokuExtreme-v0``)
    observation: the puzzle, int8 [s, s] (0 = blank).
    action: ``{"grid": int8 [s, s], "abstain": 0|1}``; a bare grid or ``None`` (= abstain) also works.
    reward 1.0 when the verifier accepts; the episode ends on success, on abstention, or when
    ``max_attempts`` answers were given. ``info["verdict"]`` holds the verdict (ok, reason, violations).

Step mode (``arena/SudokuExtremeStep-v0``), for RL with sb3-contrib's MaskablePPO
    observation: the current board, int8 [s, s].
    action: ``Discrete(s**3)``, ``a = (row * s + col) * s + (digit - 1)``; ``action_masks()`` allows
    digits in empty cells only (or, with ``mask_conflicts=True``, only digits no peer already holds).
    dense reward from the rules: +1/B for a placement that breaks no rule (B = blanks at reset, so a
    perfect fill sums to 1), -1 and the end for a placement that breaks one (or targets a filled cell),
    +1 more when the board is complete and valid; an episode also ends, reward 0, at a dead end (an
    empty cell with no legal digit left).

Rendering (``render_mode=``): ``"ansi"`` the boxed text board, ``"human"`` prints it, ``"rgb_array"`` a picture
(uint8 [H, W, 3], 32-pixel cells): given digits black on grey, placed digits blue, cells whose digit repeats in
their row, column or box tinted red, thick lines around boxes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from arena_envs.config import ConfigError
from arena_envs.env_base import AnswerEnv, PuzzleEnv, check_band
from arena_envs.protocol import Verdict
from arena_envs.rendering import sudoku_rgb
from arena_envs.sudoku.data import SudokuSet, load_set
from arena_envs.sudoku.render import render_board
from arena_envs.sudoku.solver import tables


@dataclass(frozen=True)
class SudokuEnvConfig:
    """Options of both Sudoku envs (pass them to ``gymnasium.make``)."""

    split: str = "test"
    size: int = 9  # 4, 6 or 9
    data: str | None = None  # "bundled" (9x9 default; "bundled-v1"/"bundled-v2") | "generated" | "hub" | CSV path
    seed: int = 0  # generator seed for data="generated"
    count: int = 1000  # puzzles to generate for data="generated"
    max_attempts: int = 1  # answer mode only
    mask_conflicts: bool = False  # step mode only
    # difficulty bands, applied to the loaded split (None: unbounded): the split's rating column, the givens
    rating_min: int | None = None
    rating_max: int | None = None
    clues_min: int | None = None
    clues_max: int | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigError(f"max_attempts must be >= 1, got {self.max_attempts}")
        check_band(self, "rating")
        check_band(self, "clues")


class _SudokuEnvBase(PuzzleEnv):
    config_cls = SudokuEnvConfig
    answer_env_id = "arena/SudokuExtreme-v0"
    load_set = staticmethod(load_set)
    puzzle_set: SudokuSet

    def _setup(self) -> None:
        self.shape = self.puzzle_set.shape
        s = self.shape.size
        self.observation_space = spaces.Box(0, s, shape=(s, s), dtype=np.int8)

    def _info(self) -> dict[str, Any]:
        meta = self.puzzle.meta
        return {**super()._info(), "rating": meta["rating"], "clues": meta["clues"]}

    def _render_text(self) -> str:
        return render_board(self._board, self.shape)

    def _render_rgb(self) -> np.ndarray:
        return sudoku_rgb(self._board, self.puzzle.grid, self.shape.box_rows, self.shape.box_cols)


class SudokuAnswerEnv(AnswerEnv, _SudokuEnvBase):
    """Answer mode: one step submits a full grid (or abstains)."""

    def _answer_space(self) -> spaces.Space:
        s = self.shape.size
        return spaces.Box(0, s, shape=(s, s), dtype=np.int8)


class SudokuStepEnv(_SudokuEnvBase):
    """Step mode: one digit placed per step, with action masks and dense rule-based reward."""

    def __init__(self, render_mode: str | None = None, **options: Any) -> None:
        super().__init__(render_mode, **options)
        s = self.shape.size
        self.action_space = spaces.Discrete(s * s * s)
        self._blanks_at_reset = 1
        self._done = True
        # peers[cell] = flat indices of the cells sharing a row, column or box with it (itself excluded)
        self._peers = tables(self.shape)[0]  # [s*s, 3s - br - bc - 1]

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        self._choose(seed, options)
        self._blanks_at_reset = max(1, int((self._board == 0).sum()))
        self._done = False
        return self._board.copy(), self._info()

    def legal_digits(self) -> np.ndarray:
        """bool [s*s, s]: digit d+1 may go into cell i without breaking a rule (cell empty, no peer has it)."""
        s = self.shape.size
        flat = self._board.ravel().astype(np.int64)
        peer_vals = flat[self._peers]  # [s*s, P]
        present = np.zeros((s * s, s + 1), dtype=bool)
        np.put_along_axis(present, peer_vals, True, axis=1)
        legal = ~present[:, 1:]
        legal &= (flat == 0)[:, None]
        return legal

    def action_masks(self) -> np.ndarray:
        s = self.shape.size
        if self._done:
            return np.zeros(s**3, dtype=bool)
        if self.config.mask_conflicts:
            return self.legal_digits().ravel()
        return np.repeat(self._board.ravel() == 0, s)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._done:
            raise RuntimeError("the episode is over; call reset() before step()")
        s = self.shape.size
        a = self._discrete(action)
        cell, digit = divmod(a, s)
        r, c, digit = cell // s, cell % s, digit + 1
        info = {**self._info(), "cell": (r, c), "digit": digit}
        if self._board[r, c] != 0:
            return self._end(-1.0, Verdict(False, f"r{r + 1}c{c + 1} is not empty", (("filled", r, c),)), info)
        clash = self._board.ravel()[self._peers[cell]] == digit
        self._board[r, c] = digit
        if clash.any():
            other = int(self._peers[cell][np.argmax(clash)])
            orow, ocol = divmod(other, s)
            unit = "row" if orow == r else "column" if ocol == c else "box"
            reason = f"digit {digit} at r{r + 1}c{c + 1} repeats r{orow + 1}c{ocol + 1} in its {unit}"
            return self._end(-1.0, Verdict(False, reason, (("clash", r, c, orow, ocol),)), info)
        reward = 1.0 / self._blanks_at_reset
        if not (self._board == 0).any():
            verdict = self.puzzle_set.verify(self.puzzle, self._board.copy())
            return self._end(reward + (1.0 if verdict.ok else 0.0), verdict, info)
        legal = self.legal_digits()
        stuck = (self._board.ravel() == 0) & ~legal.any(axis=1)
        if stuck.any():
            sr, sc = divmod(int(np.argmax(stuck)), s)
            verdict = Verdict(False, f"dead end: no digit fits r{sr + 1}c{sc + 1}", (("dead_end", sr, sc),))
            return self._end(reward, verdict, info)
        return self._board.copy(), reward, False, False, info

    def _end(
        self, reward: float, verdict: Verdict, info: dict[str, Any]
    ) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        self._done = True
        info["verdict"] = verdict.to_dict()
        return self._board.copy(), float(reward), True, False, info
