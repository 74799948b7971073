"""Curricula: difficulty levels that move to hold a target success rate, for any Gymnasium training loop.

A :class:`Curriculum` holds ordered *levels* (option dicts, easiest first, usually difficulty bands such as
``{"rating_min": 0, "rating_max": 2}``) and the rule that moves between them. :class:`CurriculumEnv` is a
Gymnasium wrapper over an arena env id: every episode is played at the curriculum's current level and reports
its outcome to the curriculum when it ends. Several wrapped envs may share one Curriculum object (the envs of a
``SyncVectorEnv`` or of SB3's ``DummyVecEnv``): their outcomes pool and they all follow its level. (The envs
of an ``AsyncVectorEnv`` or ``SubprocVecEnv`` live in other processes, each with its own copy: nothing pools.)

The rule, applied by :meth:`Curriculum.record` after each episode:

* the outcome (success or not) joins the *window*: the last ``window`` outcomes since the last move;
* once the window holds at least ``min_episodes`` outcomes, with ``rate`` = successes / outcomes in it:
  ``rate > target + band`` moves one level up (if there is one), ``rate < target - band`` one level down
  (if there is one), anything else stays;
* a move empties the window (outcomes at the old level say nothing about the new one) and appends
  ``Move(episode, level, rate)`` to ``history``; an outcome tagged with another level than the current one
  (an env that was mid-episode when the level moved) is counted in ``episodes`` but dropped.

The level helpers (:func:`band_levels`, :func:`sudoku_levels`, :func:`maze_levels`) cut a family's difficulty
knob into bands holding about equal shares of a split's puzzles.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import gymnasium as gym
import numpy as np

from arena_envs.config import ConfigError, build_config, parse_value
from arena_envs.env_base import is_integer
from arena_envs.protocol import Puzzle, PuzzleSet, seed_int
from arena_envs.registry import get_spec, make_puzzle_set


@dataclass(frozen=True)
class Knob:
    """A difficulty knob of a family: the data options ``{name}_min`` / ``{name}_max`` band a puzzle value."""

    family: str
    name: str
    harder: str  # "higher": larger values are harder (rating, L*, cells); "lower": smaller are (clues)
    value: Callable[[Puzzle], int]
    what: str

    @property
    def keys(self) -> tuple[str, str]:
        return f"{self.name}_min", f"{self.name}_max"


KNOBS: dict[tuple[str, str], Knob] = {
    (k.family, k.name): k
    for k in (
        Knob("sudoku", "rating", "higher", lambda p: int(p.meta["rating"]), "the split's rating column"),
        Knob("sudoku", "clues", "lower", lambda p: int(p.meta["clues"]), "givens on the board"),
        Knob("maze", "shortest", "higher", lambda p: int(p.meta["shortest"]), "shortest S-G path length L*"),
        Knob("ppbench", "cells", "higher", lambda p: int(p.meta["rows"]) * int(p.meta["cols"]), "rows x cols"),
    )
}


def knob_of(env_id: str, name: str) -> Knob:
    family = get_spec(env_id).family
    if (family, name) not in KNOBS:
        known = sorted(n for f, n in KNOBS if f == family)
        raise ConfigError(f"{env_id} has no difficulty knob {name!r}; its knobs: {known or 'none'}")
    return KNOBS[family, name]


def default_knob(env_id: str) -> str:
    """The knob a curriculum of ``env_id`` uses unless told otherwise: its family's first."""
    family = get_spec(env_id).family
    for f, name in KNOBS:
        if f == family:
            return name
    raise ConfigError(f"{env_id} has no difficulty knob; curricula exist for {sorted({f for f, _ in KNOBS})}")


def quantile_bands(values: Sequence[int] | np.ndarray, bands: int) -> list[tuple[int, int]]:
    """Up to ``bands`` contiguous integer ranges [lo, hi] covering min..max of ``values``, each starting at a
    value present: band i starts at the i/bands quantile, or, when ties put that at or below the previous
    start, at the next larger value (so skewed values still give several bands; fewer only when there are
    fewer distinct values)."""
    v = np.sort(np.asarray(values, dtype=np.int64))
    if len(v) == 0:
        raise ConfigError("no values to cut into bands")
    distinct = np.unique(v)
    starts: list[int] = []
    for i in range(bands):
        start = int(v[(i * len(v)) // bands])
        if starts and start <= starts[-1]:
            larger = distinct[distinct > starts[-1]]
            if len(larger) == 0:
                break
            start = int(larger[0])
        starts.append(start)
    ends = [s - 1 for s in starts[1:]] + [int(v[-1])]
    return list(zip(starts, ends))


def band_levels(
    env_id: str, knob: str, bands: int = 3, *, cumulative: bool = False, **options: Any
) -> list[dict[str, int | None]]:
    """Curriculum levels (easiest first) over one difficulty knob of ``env_id``, cut at the quantiles of the
    split that ``options`` load (pass the same options as the env's base options, so the bands fit its data).

    Each level sets both ``{knob}_min`` and ``{knob}_max``; the outer ends are open (None, or the base
    options' own bounds on this knob), so the levels cover every puzzle of the split. ``cumulative=True`` keeps
    the easy end open instead: level i holds every puzzle up to band i (mixing easy puzzles in, against
    forgetting). A knob where harder means fewer (Sudoku ``clues``) runs from many to few. Fewer than 2 distinct
    bands (e.g. 4x4 Sudoku, all rated 0) is a ConfigError."""
    if not is_integer(bands) or int(bands) < 2:
        raise ConfigError(f"bands must be an integer >= 2, got {bands!r}")
    k = knob_of(env_id, knob)
    puzzle_set: PuzzleSet = make_puzzle_set(env_id, **options)
    values = [k.value(p) for p in puzzle_set.puzzles]
    cut = quantile_bands(values, int(bands))
    if len(cut) < 2:
        raise ConfigError(
            f"every puzzle of {puzzle_set.source} has {knob} {values[0]} ({k.what}): nothing to make a curriculum of; "
            f"choose another knob ({sorted(n for f, n in KNOBS if f == k.family)}) or other data"
        )
    low_key, high_key = k.keys
    # the outer ends stay as open as the base options leave them, so the levels never reach past their band
    outer_low, outer_high = options.get(low_key), options.get(high_key)
    levels: list[dict[str, int | None]] = []
    for i, (lo, hi) in enumerate(cut):
        first, last = i == 0, i == len(cut) - 1
        levels.append({low_key: outer_low if first else lo, high_key: outer_high if last else hi})
    if k.harder == "lower":
        levels.reverse()
    if cumulative:
        easy_end, outer = (low_key, outer_low) if k.harder == "higher" else (high_key, outer_high)
        levels = [{**level, easy_end: outer} for level in levels]
    return levels


def sudoku_levels(
    size: int = 9, bands: int = 3, *, by: str = "rating", cumulative: bool = False, **options: Any
) -> list[dict[str, int | None]]:
    """Sudoku levels by rating (or ``by="clues"``, many to few) of the split ``size`` and ``options`` load."""
    return band_levels("arena/SudokuExtreme-v0", by, bands, cumulative=cumulative, size=size, **options)


def maze_levels(
    size: int = 30, bands: int = 3, *, cumulative: bool = False, **options: Any
) -> list[dict[str, int | None]]:
    """Maze levels by shortest-path length L* of the split ``size`` and ``options`` load."""
    return band_levels("arena/MazeHard-v0", "shortest", bands, cumulative=cumulative, size=size, **options)


@dataclass(frozen=True)
class CurriculumConfig:
    """The levels (option dicts, easiest first) and the rule's settings; see the module docstring."""

    levels: tuple[dict[str, Any], ...]
    target: float = 0.7  # the success rate to hold
    window: int = 100  # outcomes the rate is measured over (the latest, since the last move)
    band: float = 0.1  # hysteresis: move up above target + band, down below target - band
    min_episodes: int | None = None  # outcomes in the window before any move; None: a full window
    start: int = 0  # the level to begin at

    def __post_init__(self) -> None:
        if isinstance(self.levels, Mapping) or not isinstance(self.levels, Sequence) or not self.levels:
            raise ConfigError(f"levels must be a non-empty list of option dicts, got {self.levels!r}")
        for i, level in enumerate(self.levels):
            if not isinstance(level, Mapping) or not all(isinstance(key, str) for key in level):
                raise ConfigError(f"level {i} must be a dict of env options, got {level!r}")
        # copies: a caller's dicts changing later must not change a running curriculum
        object.__setattr__(self, "levels", tuple(dict(level) for level in self.levels))
        if not _is_real(self.target) or not 0 < self.target < 1:
            raise ConfigError(f"target must be a success rate strictly between 0 and 1, got {self.target!r}")
        if not _is_real(self.band) or self.band < 0:
            raise ConfigError(f"band must be a number >= 0, got {self.band!r}")
        if self.target + self.band >= 1:
            raise ConfigError(
                f"target + band = {self.target + self.band:g} >= 1: no success rate is above it, so the "
                "curriculum could never move up; lower target or band"
            )
        if not is_integer(self.window) or self.window < 1:
            raise ConfigError(f"window must be an integer >= 1, got {self.window!r}")
        if self.min_episodes is not None and (
            not is_integer(self.min_episodes) or not 1 <= self.min_episodes <= self.window
        ):
            raise ConfigError(
                f"min_episodes must be None or an integer in 1..window ({self.window}), got {self.min_episodes!r}"
            )
        if not is_integer(self.start) or not 0 <= self.start < len(self.levels):
            raise ConfigError(f"start must be a level in 0..{len(self.levels) - 1}, got {self.start!r}")

    @property
    def needed(self) -> int:
        """Outcomes in the window before the rate can move the level."""
        return int(self.window if self.min_episodes is None else self.min_episodes)


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


SPEC_KEYS = tuple(f.name for f in fields(CurriculumConfig) if f.name != "levels")
LEVEL_KEYS = ("knob", "bands", "cumulative")  # spec settings that build the levels (see Curriculum.from_spec)


@dataclass(frozen=True)
class Move:
    """One move of the level: after ``episode`` outcomes, to ``level``, on a windowed success ``rate``."""

    episode: int
    level: int
    rate: float


class Curriculum:
    """The state of a curriculum: the current ``level``, the window of outcomes and the ``history`` of moves.

    One object may be shared by many envs (all :class:`CurriculumEnv` of a ``SyncVectorEnv`` / ``DummyVecEnv``):
    their outcomes pool into one window."""

    def __init__(self, levels: Sequence[Mapping[str, Any]], **settings: Any) -> None:
        self.config = build_config(CurriculumConfig, {"levels": levels, **settings}, what="curriculum")
        self.level = int(self.config.start)
        self.episodes = 0  # outcomes reported, dropped ones included
        self.history: list[Move] = []
        self._window: deque[bool] = deque(maxlen=int(self.config.window))

    @classmethod
    def from_spec(
        cls,
        spec: str,
        levels: Sequence[Mapping[str, Any]] | None = None,
        *,
        env_id: str | None = None,
        **options: Any,
    ) -> Curriculum:
        """A curriculum from a command-line string such as ``"target=0.7,window=200,band=0.05"`` (an empty
        string takes every default).

        Rule settings: target, window, band, min_episodes, start. The levels are ``levels`` if given; else they
        are built by :func:`band_levels` for ``env_id`` on the split ``options`` load (pass the env's base
        options), with the settings ``knob`` (default: the family's first, e.g. Sudoku ``rating``), ``bands``
        (default 3) and ``cumulative`` (default false)."""
        settings: dict[str, Any] = {}
        for part in (p.strip() for p in spec.split(",")):
            if not part:
                continue
            key, eq, text = part.partition("=")
            key = key.strip()
            if not eq or not text.strip():
                raise ConfigError(f"curriculum spec item {part!r} is not key=value (e.g. 'target=0.7,window=200')")
            if key not in SPEC_KEYS + LEVEL_KEYS:
                raise ConfigError(
                    f"unknown curriculum setting {key!r} in {spec!r}; settings are {list(SPEC_KEYS + LEVEL_KEYS)}"
                )
            if key in settings:
                raise ConfigError(f"curriculum setting {key!r} is given twice in {spec!r}")
            settings[key] = parse_value(text.strip())
        build = {k: settings.pop(k) for k in LEVEL_KEYS if k in settings}
        if levels is not None:
            if build:
                raise ConfigError(f"{sorted(build)} build the levels; they cannot go with levels given explicitly")
            return cls(levels, **settings)
        if env_id is None:
            raise ConfigError("a curriculum needs levels, or an env_id to build them from its difficulty knobs")
        knob = build.get("knob", default_knob(env_id))
        cumulative = build.get("cumulative", False)
        if not isinstance(cumulative, bool):
            raise ConfigError(f"cumulative must be true or false, got {cumulative!r}")
        built = band_levels(env_id, str(knob), build.get("bands", 3), cumulative=cumulative, **options)
        return cls(built, **settings)

    @property
    def levels(self) -> tuple[dict[str, Any], ...]:
        return self.config.levels

    @property
    def options(self) -> dict[str, Any]:
        """The current level's options (a copy)."""
        return dict(self.config.levels[self.level])

    @property
    def rate(self) -> float | None:
        """The success rate of the window, or None while it is empty."""
        return sum(self._window) / len(self._window) if self._window else None

    def record(self, success: bool, level: int | None = None) -> bool:
        """Add one episode's outcome (played at ``level``; None: the current one) and apply the rule. Returns
        True when the level moved."""
        self.episodes += 1
        if level is not None and level != self.level:
            return False  # played at a level the curriculum has left: says nothing about this one
        self._window.append(bool(success))
        if len(self._window) < self.config.needed:
            return False
        rate = sum(self._window) / len(self._window)
        step = 0
        if rate > self.config.target + self.config.band and self.level < len(self.levels) - 1:
            step = 1
        elif rate < self.config.target - self.config.band and self.level > 0:
            step = -1
        if step == 0:
            return False
        self.level += step
        self._window.clear()
        self.history.append(Move(self.episodes, self.level, rate))
        return True

    def state(self) -> dict[str, Any]:
        """A JSON-ready summary for logs: level, its options, episodes, the window's rate and fill, moves."""
        return {
            "level": self.level,
            "options": self.options,
            "episodes": self.episodes,
            "rate": self.rate,
            "window": len(self._window),
            "moves": len(self.history),
        }

    def __repr__(self) -> str:
        c = self.config
        return (
            f"Curriculum(level={self.level}/{len(c.levels) - 1}, target={c.target}, band={c.band}, "
            f"window={c.window}, episodes={self.episodes}, rate={self.rate})"
        )


def solved(info: Mapping[str, Any]) -> bool:
    """The default success of an ended episode, from its last ``info``: ``info["solved"]`` where a native Sudoku
    vector env says it (one sub-env's row), else ``info["verdict"]["ok"]`` where there is a verdict (every answer
    env; Sudoku and PPBench step mode), else ``info["optimal"]`` (Maze step mode: G reached by a shortest path; an
    illegal move or a dead end has neither, so it is a failure)."""
    if "solved" in info:
        return bool(info["solved"])
    verdict = info.get("verdict")
    if isinstance(verdict, Mapping):
        return bool(verdict.get("ok", False))
    return bool(info.get("optimal", False))


def check_levels(env_id: str, curriculum: Curriculum, base_options: Mapping[str, Any]) -> None:
    """Refuse, before any data loads, levels the env would reject and levels that change the board size."""
    spec = get_spec(env_id)
    for i, level in enumerate(curriculum.levels):
        build_config(spec.config_cls, {**base_options, **level}, what=f"curriculum level {i} of {env_id}")
    sizes = {i: level.get("size", base_options.get("size")) for i, level in enumerate(curriculum.levels)}
    if len(set(sizes.values())) > 1:
        shown = ", ".join(f"level {i}: size={s}" for i, s in sizes.items())
        raise ConfigError(
            f"the levels change the board size ({shown}): the observation and action spaces would change "
            "between levels. A curriculum keeps the size fixed: pass size= with the base options and vary a "
            "difficulty band in the levels"
        )


class CurriculumEnv(gym.Wrapper):
    """An arena env whose episodes are played at a :class:`Curriculum`'s current level.

    One env per level, made when the level is first reached (``gym.make(env_id, **base_options, **level)``);
    ``reset`` switches to the current level's env, and an ending episode reports ``success(info)`` (default
    :func:`solved`) to the curriculum, tagged with the level it ran at. The spaces are those of the first env
    and must be the same at every level (a level whose env differs is a ConfigError). ``info`` carries
    ``curriculum_level`` (the episode's level) and, when the episode ends, ``success``.

    Seeding: ``reset(seed=s)`` seeds the current level's env with a seed derived from (s, level), and every
    other level's env the same way on its next reset, so a run is reproducible from its seeds."""

    def __init__(
        self,
        env_id: str,
        curriculum: Curriculum,
        *,
        success: Callable[[Mapping[str, Any]], bool] | None = None,
        render_mode: str | None = None,
        **base_options: Any,
    ) -> None:
        check_levels(env_id, curriculum, base_options)
        self.env_id = env_id
        self.curriculum = curriculum
        self.base_options = dict(base_options)
        self.success = success or solved
        self._render_mode = render_mode
        self._envs: dict[int, gym.Env] = {}
        self._level = curriculum.level
        self._running = False  # an episode is under way (reset, not yet ended)
        self._seed: int | None = None
        self._seeded: set[int] = set()  # levels whose env was seeded since the last reset(seed=...)
        super().__init__(self._make(self._level))
        self._observation_space = self.env.observation_space
        self._action_space = self.env.action_space

    @property
    def level(self) -> int:
        """The level of the current (or last) episode."""
        return self._level

    @property
    def spec(self) -> None:  # type: ignore[override]
        """None: a spec could only remake one level's env (the curriculum is shared state, not a constructor
        argument), and Gymnasium would remake it without the curriculum; make one with :func:`make_curriculum_env`."""
        return None

    def _make(self, level: int) -> gym.Env:
        if level in self._envs:
            return self._envs[level]
        options = {**self.base_options, **self.curriculum.levels[level]}
        env = gym.make(self.env_id, render_mode=self._render_mode, **options)
        if self._envs:  # the first env sets the spaces (see __init__)
            for what, mine, theirs in (
                ("observation", self.observation_space, env.observation_space),
                ("action", self.action_space, env.action_space),
            ):
                if mine != theirs:
                    env.close()
                    raise ConfigError(
                        f"curriculum level {level} of {self.env_id} ({options}) has {what} space {theirs}, not "
                        f"{mine} as at the first level: the spaces must stay fixed across a curriculum (the "
                        "board size, and for PPBench the largest board and value of the set)"
                    )
        self._envs[level] = env
        return env

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if seed is not None:
            self._seed, self._seeded = int(seed), set()
        self._level = self.curriculum.level
        self.env = self._make(self._level)
        level_seed = None
        if self._seed is not None and self._level not in self._seeded:
            level_seed = seed_int(self._seed, "curriculum", self._level)
            self._seeded.add(self._level)
        obs, info = self.env.reset(seed=level_seed, options=options)
        self._running = True
        return obs, {**info, "curriculum_level": self._level}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        info = {**info, "curriculum_level": self._level}
        if (terminated or truncated) and self._running:
            self._running = False
            info["success"] = bool(self.success(info))
            self.curriculum.record(info["success"], level=self._level)
        return obs, reward, terminated, truncated, info

    def action_masks(self) -> np.ndarray:
        """The current level env's action masks (step envs; what sb3-contrib's MaskablePPO asks for)."""
        masks = getattr(self.env.unwrapped, "action_masks", None)
        if masks is None:
            raise AttributeError(f"{self.env_id} has no action_masks(): only step-mode envs have masks")
        return masks()

    def close(self) -> None:
        for env in self._envs.values():  # self.env is one of them
            env.close()
        self._envs.clear()


def make_curriculum_env(
    env_id: str,
    curriculum: Curriculum,
    *,
    success: Callable[[Mapping[str, Any]], bool] | None = None,
    render_mode: str | None = None,
    **base_options: Any,
) -> Callable[[], CurriculumEnv]:
    """A thunk making a :class:`CurriculumEnv` (for ``SyncVectorEnv([...])`` or SB3's ``DummyVecEnv``): build
    one curriculum, pass it to every thunk, and the envs pool their outcomes into it. The levels are checked
    here, so a bad one fails at the call, not inside the vector env."""
    check_levels(env_id, curriculum, base_options)

    def thunk() -> CurriculumEnv:
        return CurriculumEnv(env_id, curriculum, success=success, render_mode=render_mode, **base_options)

    return thunk
