"""What every family's Gymnasium env shares: options as a dataclass config, the puzzle set, the puzzle chosen at
reset, rendering, and the whole answer mode (submit a full answer or abstain, judged by the verifier).

A family subclasses :class:`PuzzleEnv` once (config class, loader, observation space, info, text rendering and
picture) and then adds ``AnswerEnv`` for answer mode and its own step mode.

Render modes: ``"ansi"`` returns the family's text board, ``"human"`` prints it, ``"rgb_array"`` returns a
picture of the board, uint8 [H, W, 3], drawn by ``arena_envs.rendering`` (one size for the whole life of an
env, so ``gymnasium.wrappers.RecordVideo`` can record it; see docs/rendering.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from arena_envs.config import ConfigError, build_config
from arena_envs.protocol import Puzzle, PuzzleSet, Verdict

# Config fields that select data (passed to the family's loader). The ``*_min``/``*_max`` pairs are difficulty
# bands: each keeps the puzzles whose meta value lies in [min, max] (None = unbounded), see ``band_rows``.
DATA_OPTIONS = (
    "split",
    "size",
    "data",
    "seed",
    "count",
    "variety",
    "rating_min",
    "rating_max",
    "clues_min",
    "clues_max",
    "shortest_min",
    "shortest_max",
    "cells_min",
    "cells_max",
    "hexagons_min",
    "hexagons_max",
)


def is_integer(value: Any) -> bool:
    """An int, a numpy integer or a 0-d integer array; not a bool, a float (2.7 would silently become 2) or
    a string."""
    if isinstance(value, np.ndarray):
        return value.shape == () and value.dtype.kind in "iu"
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_band(config: Any, knob: str) -> None:
    """Config check of the difficulty band ``{knob}_min``/``{knob}_max``: each None or an integer >= 0, and
    min <= max (an empty band would only fail later, at load time, with a less direct message)."""
    low, high = getattr(config, f"{knob}_min"), getattr(config, f"{knob}_max")
    for name, value in ((f"{knob}_min", low), (f"{knob}_max", high)):
        if value is not None and (not is_integer(value) or int(value) < 0):
            raise ConfigError(f"{name} must be None or an integer >= 0, got {value!r}")
    if low is not None and high is not None and int(low) > int(high):
        raise ConfigError(f"{knob}_min ({low}) is above {knob}_max ({high}): the band [{low}, {high}] is empty")


def band_text(knob: str, low: int | None, high: int | None) -> str:
    """``rating=3..9``, ``rating=3..`` or ``rating=..9``: how a band shows in a set's ``source``."""
    return f"{knob}={'' if low is None else int(low)}..{'' if high is None else int(high)}"


def band_rows(
    values: Mapping[str, np.ndarray], bands: Mapping[str, tuple[int | None, int | None]], *, what: str
) -> np.ndarray | None:
    """Rows whose values lie inside every band (``bands``: knob -> (min, max); ``values``: knob -> int array
    [N]), or None when no band bounds anything (the loaded set is then used as it is, fingerprint and all).
    A band that keeps no row is a ConfigError naming it and the range the set holds (``what`` names the set)."""
    active = {k: (lo, hi) for k, (lo, hi) in bands.items() if lo is not None or hi is not None}
    if not active:
        return None
    keep = np.ones(len(next(iter(values.values()))), dtype=bool)
    for knob, (lo, hi) in active.items():
        v = np.asarray(values[knob])
        inside = np.ones(len(v), dtype=bool)
        if lo is not None:
            inside &= v >= int(lo)
        if hi is not None:
            inside &= v <= int(hi)
        if not inside.any():
            raise ConfigError(
                f"the {knob} band {knob}_min={lo}, {knob}_max={hi} keeps no puzzle of {what}: its {knob} values "
                f"run from {int(v.min())} to {int(v.max())}; widen the band"
            )
        keep &= inside
    if not keep.any():
        shown = ", ".join(band_text(k, lo, hi) for k, (lo, hi) in active.items())
        raise ConfigError(f"the bands {shown} together keep no puzzle of {what}; widen one of them")
    return np.flatnonzero(keep)


class PuzzleEnv(gym.Env[np.ndarray, Any]):
    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi", "human", "rgb_array"], "render_fps": 4}
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

    def _render_rgb(self) -> np.ndarray:
        """Family hook: the board as a picture, uint8 [H, W, 3] (see ``arena_envs.rendering``)."""
        raise NotImplementedError

    @property
    def puzzle(self) -> Puzzle:
        return self.puzzle_set.puzzles[self._index]

    def _choose(self, seed: int | None, options: dict[str, Any] | None) -> None:
        """Seed the env and pick the episode's puzzle (``options={"index": i}`` picks one)."""
        super().reset(seed=seed)
        n = len(self.puzzle_set.puzzles)
        if options is not None and not isinstance(options, dict):
            raise ConfigError(f"options must be a dict or None, got {type(options).__name__}")
        unknown = sorted(set(options or {}) - {"index"})
        if unknown:
            raise ConfigError(f"unknown reset option(s) {unknown}; the only option is 'index'")
        index = (options or {}).get("index")
        if index is None:
            index = int(self.np_random.integers(n))
        if not is_integer(index) or not 0 <= int(index) < n:
            raise ConfigError(f"options['index'] must be an integer in 0..{n - 1}, got {index!r}")
        self._index = int(index)
        self._board = np.array(self.puzzle.grid, dtype=np.int8)

    def _discrete(self, action: Any) -> int:
        """A Discrete action as an int; anything outside the space is a ValueError (Gymnasium's convention
        is that step() refuses actions its action_space does not contain)."""
        n = int(self.action_space.n)
        if not is_integer(action) or not 0 <= int(action) < n:
            raise ValueError(f"action {action!r} is not in {self.action_space}: use an integer in 0..{n - 1}")
        return int(action)

    def render(self) -> str | np.ndarray | None:
        if self.render_mode == "rgb_array":
            return self._render_rgb()
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
        self._verdicts: list[dict[str, Any]] = []

    def _answer_space(self) -> spaces.Space:
        raise NotImplementedError

    def _board_from(self, answer: Any) -> np.ndarray:
        """The board to show after an accepted answer."""
        return np.asarray(answer, dtype=np.int8).copy()

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        self._choose(seed, options)
        self._attempts, self._done, self._verdicts = 0, False, []
        return self._board.copy(), self._info()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._done:
            raise RuntimeError("the episode is over; call reset() before step()")
        answer = self._answer_of(action)
        verdict = self.puzzle_set.verify(self.puzzle, answer) if answer is not None else Verdict.abstain()
        if verdict.ok:
            self._board = self._board_from(answer)
        info = self._attempt(verdict)
        return self._board.copy(), 1.0 if verdict.ok else 0.0, self._done, False, info

    ANSWER_KEYS: ClassVar[frozenset[str]] = frozenset({"grid", "abstain"})

    def _answer_of(self, action: Any) -> Any:
        """The answer in an action: a dict ``{"grid": ..., "abstain": 0|1}`` (unknown keys and an abstain
        flag other than 0/1 are ValueErrors), or the bare answer (None abstains)."""
        if not isinstance(action, dict):
            return action
        unknown = sorted(set(action) - self.ANSWER_KEYS, key=str)
        if unknown:
            raise ValueError(f"unknown action key(s) {unknown}; an answer action has {sorted(self.ANSWER_KEYS)}")
        abstain = action.get("abstain", 0)
        if not is_integer(abstain) or int(abstain) not in (0, 1):
            raise ValueError(f"action['abstain'] must be 0 or 1, got {abstain!r}")
        if int(abstain):
            return None
        return next((action[k] for k in sorted(self.ANSWER_KEYS - {"abstain"}) if k in action), None)

    def _attempt(self, verdict: Verdict) -> dict[str, Any]:
        """Count an attempt and the info to return. While attempts remain, a wrong attempt is told only
        "wrong": its reason (a wrong grid size, say) would tell the next attempt part of the answer. The full
        verdict of every attempt is in ``info["verdicts"]`` once the episode ends."""
        self._attempts += 1
        self._verdicts.append(verdict.to_dict())
        self._done = verdict.ok or verdict.abstained or self._attempts >= self.config.max_attempts
        info = {**self._info(), "attempts": self._attempts}
        if self._done:
            return {**info, "verdict": verdict.to_dict(), "verdicts": list(self._verdicts)}
        return {**info, "verdict": Verdict(False, "wrong").to_dict()}
