"""What every family's Gymnasium env shares: options as a dataclass config, the puzzle set, the puzzle chosen at
reset, text rendering, and the whole answer mode (submit a full answer or abstain, judged by the verifier).

A family subclasses :class:`PuzzleEnv` once (config class, loader, observation space, info, text rendering) and
then adds ``AnswerEnv`` for answer mode and its own step mode.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from arena_envs.config import ConfigError, build_config
from arena_envs.protocol import Puzzle, PuzzleSet, Verdict

DATA_OPTIONS = ("split", "size", "data", "seed", "count", "variety")


class PuzzleEnv(gym.Env[np.ndarray, Any]):
    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi", "human"], "render_fps": 4}
    config_cls: ClassVar[type]
    answer_env_id: ClassVar[str]  # the id the puzzles are keyed by (step envs share the answer env's data)
    load_set: ClassVar[Callable[..., PuzzleSet]]

    def __init__(self, render_mode: str | None = None, **options: Any) -> None:
        self.config = build_config(self.config_cls, options, what=type(self).__name__)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ConfigError(f"render_mode {render_mode!r} not in {self.metadata['render_modes']}")
        self.render_mode = render_mode
        data = {f.name: getattr(self.config, f.name) for f in fields(self.config) if f.name in DATA_OPTIONS}
        self.puzzle_set = type(self).load_set(self.answer_env_id, **data)
        self._index = 0
        self._board = np.array(self.puzzle_set.puzzles[0].grid, dtype=np.int8)
        self._setup()

    def _setup(self) -> None:
        """Family hook, run once the puzzle set is loaded: observation space and family state."""
        raise NotImplementedError

    def _info(self) -> dict[str, Any]:
        return {"puzzle_id": self.puzzle.id, "index": self._index}

    def _render_text(self) -> str:
        raise NotImplementedError

    @property
    def puzzle(self) -> Puzzle:
        return self.puzzle_set.puzzles[self._index]

    def _choose(self, seed: int | None, options: dict[str, Any] | None) -> None:
        """Seed the env and pick the episode's puzzle (``options={"index": i}`` picks one)."""
        super().reset(seed=seed)
        n = len(self.puzzle_set.puzzles)
        index = (options or {}).get("index")
        if index is None:
            index = int(self.np_random.integers(n))
        if not 0 <= int(index) < n:
            raise ConfigError(f"options['index'] must be in 0..{n - 1}, got {index}")
        self._index = int(index)
        self._board = np.array(self.puzzle.grid, dtype=np.int8)

    def render(self) -> str | None:
        text = self._render_text()
        if self.render_mode == "human":
            print(text)
            return None
        return text


class AnswerEnv(PuzzleEnv):
    """Answer mode: ``{"grid": answer, "abstain": 0|1}`` (or a bare answer, or None to abstain) per step; reward
    1.0 when the verifier accepts; the episode ends on success, on abstention, or after ``max_attempts``.
    ``info["verdict"]`` holds the verdict."""

    def __init__(self, render_mode: str | None = None, **options: Any) -> None:
        super().__init__(render_mode, **options)
        self.action_space = spaces.Dict({"grid": self._answer_space(), "abstain": spaces.Discrete(2)})
        self._attempts, self._done = 0, True

    def _answer_space(self) -> spaces.Space:
        raise NotImplementedError

    def _board_from(self, answer: Any) -> np.ndarray:
        """The board to show after an accepted answer."""
        return np.asarray(answer, dtype=np.int8).copy()

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        self._choose(seed, options)
        self._attempts, self._done = 0, False
        return self._board.copy(), self._info()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._done:
            raise RuntimeError("the episode is over; call reset() before step()")
        answer = action
        if isinstance(action, dict):
            answer = None if int(action.get("abstain", 0)) else action.get("grid")
        verdict = self.puzzle_set.verify(self.puzzle, answer) if answer is not None else Verdict.abstain()
        self._attempts += 1
        if verdict.ok:
            self._board = self._board_from(answer)
        self._done = verdict.ok or verdict.abstained or self._attempts >= self.config.max_attempts
        info = {**self._info(), "verdict": verdict.to_dict(), "attempts": self._attempts}
        return self._board.copy(), 1.0 if verdict.ok else 0.0, self._done, False, info
