"""What the native vector envs share, as ``env_base.py`` is for the scalar envs: the scalar env's options and
puzzles, per-env random generators that make the scalar env's draws, reset options, action checks, and infos in
Gymnasium's vector form (arrays with ``_key`` masks).

A family subclasses :class:`PuzzleVectorEnv` once, beside its scalar step env, with its compiled kernels (reset,
step, masks) over a state of N envs.

Per-env generators. A scalar env picks each episode's puzzle with ``np_random.integers(n)``, ``np_random`` being
numpy's ``Generator(PCG64)``. To reset ended envs inside the compiled step rather than through up to N Python
calls, each env's PCG64 state is a row of a uint64 array and :func:`draw_puzzles` replays numpy's algorithm: the
PCG64 step and XSL-RR output, the buffered 32-bit halves of ``next_uint32``, and Lemire's bounded draw. These are
the numbers ``Generator.integers(n)`` returns (``tests/envs/test_vector_envs.py`` compares them with numpy's).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space
from numba import njit

from arena_envs.config import ConfigError, build_config
from arena_envs.env_base import DATA_OPTIONS, PuzzleEnv, is_integer

# --- numpy's Generator(PCG64).integers(n), one generator per row ------------------------------------------------

# columns of a generator row: the 128-bit state and increment as (high, low) words, then next_uint32's buffer
STATE_HI, STATE_LO, INC_HI, INC_LO, HAS_UINT32, UINTEGER = range(6)
_MUL_HI = np.uint64(2549297995355413924)  # PCG64's 128-bit multiplier (PCG_DEFAULT_MULTIPLIER_128)
_MUL_LO = np.uint64(4865540595714422341)
_LOW32 = np.uint64(0xFFFFFFFF)
_U32 = np.uint64(32)


def generator_row(rng: np.random.Generator) -> np.ndarray:
    """uint64 [6]: the state of a ``Generator(PCG64)`` as a row :func:`draw_puzzles` continues from."""
    state = rng.bit_generator.state
    if state["bit_generator"] != "PCG64":
        raise ValueError(f"per-env generators replay PCG64, got {state['bit_generator']}")
    s, inc, mask = state["state"]["state"], state["state"]["inc"], (1 << 64) - 1
    words = (s >> 64, s & mask, inc >> 64, inc & mask, state["has_uint32"], state["uinteger"])
    return np.array(words, dtype=np.uint64)


@njit(cache=True)
def _mulhi(a: np.uint64, b: np.uint64) -> np.uint64:
    """The high 64 bits of the 128-bit product a * b (from 32-bit halves)."""
    a_lo, a_hi, b_lo, b_hi = a & _LOW32, a >> _U32, b & _LOW32, b >> _U32
    p0, p1, p2 = a_lo * b_lo, a_lo * b_hi, a_hi * b_lo
    mid = (p0 >> _U32) + (p1 & _LOW32) + (p2 & _LOW32)
    return a_hi * b_hi + (p1 >> _U32) + (p2 >> _U32) + (mid >> _U32)


@njit(cache=True)
def _next_uint64(g: np.ndarray, i: int) -> np.uint64:
    """PCG64 (pcg_setseq_128_xsl_rr_64): state = state * M + inc (mod 2^128), then the XSL-RR output."""
    hi, lo = g[i, STATE_HI], g[i, STATE_LO]
    new_lo = lo * _MUL_LO
    new_hi = _mulhi(lo, _MUL_LO) + lo * _MUL_HI + hi * _MUL_LO
    lo2 = new_lo + g[i, INC_LO]
    hi2 = new_hi + g[i, INC_HI] + (np.uint64(1) if lo2 < new_lo else np.uint64(0))
    g[i, STATE_HI], g[i, STATE_LO] = hi2, lo2
    x, rot = hi2 ^ lo2, hi2 >> np.uint64(58)
    return (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63)))


@njit(cache=True)
def _next_uint32(g: np.ndarray, i: int) -> np.uint64:
    """numpy's pcg64_next32: the low half of a 64-bit output, its high half kept for the next call."""
    if g[i, HAS_UINT32]:
        g[i, HAS_UINT32] = 0
        return g[i, UINTEGER]
    x = _next_uint64(g, i)
    g[i, HAS_UINT32], g[i, UINTEGER] = 1, x >> _U32
    return x & _LOW32


@njit(cache=True)
def _integers(g: np.ndarray, i: int, n: int) -> int:
    """``Generator.integers(n)`` for 1 <= n <= 2^32: numpy's random_bounded_uint64 with rng = n - 1 (no draw
    when n == 1; the raw 32-bit draw when n == 2^32; otherwise buffered_bounded_lemire_uint32)."""
    if n == 1:
        return 0
    if n == 1 << 32:
        return int(_next_uint32(g, i))
    excl = np.uint64(n)
    m = _next_uint32(g, i) * excl
    leftover = m & _LOW32
    if leftover < excl:
        threshold = (_LOW32 - (excl - np.uint64(1))) % excl
        while leftover < threshold:
            m = _next_uint32(g, i) * excl
            leftover = m & _LOW32
    return int(m >> _U32)


@njit(cache=True)
def draw_puzzles(generators: np.ndarray, which: np.ndarray, n: int) -> np.ndarray:
    """int64 [N]: ``integers(n)`` from generator row i (uint64 [N, 6], advanced in place) where ``which[i]``
    (bool [N]), else -1."""
    out = np.full(which.shape[0], -1, dtype=np.int64)
    for i in range(which.shape[0]):
        if which[i]:
            out[i] = _integers(generators, i, n)
    return out


def _autoreset_mode(value: str | AutoresetMode) -> AutoresetMode:
    """NEXT_STEP or SAME_STEP, given as the enum, its value ("SameStep") or its name ("same_step")."""
    names = {m.value.lower(): m for m in AutoresetMode} | {m.name.lower(): m for m in AutoresetMode}
    mode = value if isinstance(value, AutoresetMode) else names.get(str(value).lower())
    if mode not in (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP):
        raise ConfigError(f"autoreset_mode {value!r}: use AutoresetMode.NEXT_STEP (the default) or SAME_STEP")
    return mode


# --- the shared vector env --------------------------------------------------------------------------------------


class PuzzleVectorEnv(VectorEnv):
    """N copies of a family's scalar step env in one object; a family fills the hooks (``_setup``, the kernels'
    ``_reset_boards``/``_step_boards``, ``_obs``, ``action_masks``, ``render``).

    Config, puzzle set and data options are built exactly as the scalar env builds them (``scalar_cls``'s config
    class, loader and answer id), so an option the scalar env gains works here too.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "render_modes": ["ansi", "human", "rgb_array"],
        "render_fps": 4,
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }
    scalar_cls: ClassVar[type[PuzzleEnv]]
    single_action_space: spaces.Discrete

    def __init__(
        self,
        num_envs: int,
        render_mode: str | None = None,
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
        **options: Any,
    ) -> None:
        if not is_integer(num_envs) or int(num_envs) < 1:
            raise ConfigError(f"num_envs must be a positive integer, got {num_envs!r}")
        mode = _autoreset_mode(autoreset_mode)
        self.metadata = {**type(self).metadata, "autoreset_mode": mode}  # this env's mode, as SyncVectorEnv does
        self._same = mode == AutoresetMode.SAME_STEP
        cls = self.scalar_cls
        self.config = build_config(cls.config_cls, options, what=type(self).__name__)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ConfigError(f"render_mode {render_mode!r} not in {self.metadata['render_modes']}")
        self.render_mode = render_mode
        data = {f.name: getattr(self.config, f.name) for f in fields(self.config) if f.name in DATA_OPTIONS}
        self.puzzle_set = cls.load_set(cls.answer_env_id, **data)
        self.num_envs = n = int(num_envs)
        if len(self.puzzle_set) > 1 << 32:
            raise ConfigError(f"{len(self.puzzle_set)} puzzles: the per-env draw replays numpy for up to 2^32")
        self._ids = np.array([p.id for p in self.puzzle_set.puzzles], dtype=object)  # [P]
        self._given: tuple[Any, np.ndarray] | None = None  # the set's tables and ids while given grids are played
        self._generators = np.zeros((n, 6), dtype=np.uint64)  # [N, 6] env i's PCG64, see generator_row
        self._seeded = np.zeros(n, dtype=np.bool_)  # [N]
        self._autoreset = np.zeros(n, dtype=np.bool_)  # [N] the last step ended these episodes
        self._started = False
        self._setup()
        self.observation_space = batch_space(self.single_observation_space, n)
        self.action_space = batch_space(self.single_action_space, n)

    @property
    def num_puzzles(self) -> int:
        """The boards autoresets draw among: the puzzle set's, or the N given grids while they are played."""
        return len(self._ids)

    # --- family hooks ---

    def _setup(self) -> None:
        """Single spaces, compiled tables and an empty state for N envs."""
        raise NotImplementedError

    def _reset_boards(self, puzzles: np.ndarray) -> None:
        """Env i starts puzzle ``puzzles[i]`` (int64 [N])."""
        raise NotImplementedError

    def _step_boards(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], np.ndarray]:
        """One compiled call: step every env and autoreset (drawing from ``self._generators``) per
        ``self._same``; rewards float64 [N], terminated bool [N], the outcome infos (vector form) and, in
        SAME_STEP mode, the observations as the step left them (before the resets)."""
        raise NotImplementedError

    def _obs(self) -> np.ndarray:
        raise NotImplementedError

    def _columns(self, index: np.ndarray) -> dict[str, np.ndarray]:
        """Per-env info arrays of the puzzles ``index`` (int64 [N]) beyond ``puzzle_id`` and ``index``."""
        return {}

    def _tables_for(self, grids: np.ndarray) -> Any:
        """The compiled tables of the boards ``grids`` (int8 [G, cells]) as if they were the puzzle set."""
        raise NotImplementedError

    def _puzzle_index(self) -> np.ndarray:
        """int64 [N]: each env's puzzle (its row in ``puzzle_set``)."""
        raise NotImplementedError

    # --- the Gymnasium API ---

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=int(seed) if is_integer(seed) else None)  # the vector env's own np_random
        self._seed(seed)
        self._reset_boards(self._indices(options))
        self._autoreset[:] = False
        self._started = True
        return self._obs(), self._infos()

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if not self._started:
            raise RuntimeError("call reset() before step()")
        before = self._puzzle_index().copy()  # [N] the puzzles being played (SAME_STEP's final_info names them)
        rewards, terminated, outcomes, final = self._step_boards(self._actions(actions))
        truncated = np.zeros(self.num_envs, dtype=np.bool_)
        if not self._same:  # NEXT_STEP: the next step resets the ended envs
            self._autoreset = terminated
            return self._obs(), rewards, terminated.copy(), truncated, {**self._infos(), **outcomes}
        # SAME_STEP, as SyncVectorEnv writes it: the ended envs' last observation and step info under final_obs
        # and final_info, the new episode's observation and reset info in their place
        infos = self._infos()
        if terminated.any():
            final_obs = np.full(self.num_envs, None, dtype=object)
            for i in np.flatnonzero(terminated):
                final_obs[i] = final[i]
            infos["final_obs"], infos["_final_obs"] = final_obs, terminated.copy()
            infos["final_info"] = {**self._infos(before, terminated), **outcomes}
            infos["_final_info"] = terminated.copy()
        return self._obs(), rewards, terminated.copy(), truncated, infos

    # --- seeding, puzzle choice, actions, infos ---

    def _seed(self, seed: int | list[int | None] | tuple[int | None, ...] | None) -> None:
        """Seed env i as ``SyncVectorEnv`` seeds its env i: an int k gives ``k + i``, a list one seed per env;
        None keeps a seeded generator (and seeds a fresh one from entropy), as ``Env.reset`` does."""
        n = self.num_envs
        if seed is None:
            seeds: list[Any] = [None] * n
        elif is_integer(seed):
            seeds = [int(seed) + i for i in range(n)]
        elif isinstance(seed, (list, tuple)) and len(seed) == n:
            seeds = list(seed)
        else:
            raise ValueError(f"seed must be None, an int or a list of {n} seeds, got {seed!r}")
        for i, one in enumerate(seeds):
            if one is not None or not self._seeded[i]:
                self._generators[i] = generator_row(seeding.np_random(one)[0])
                self._seeded[i] = True

    def _indices(self, options: dict[str, Any] | None) -> np.ndarray:
        """int64 [N]: each env's puzzle, ``options["index"]`` (one int or N of them), the given ``options["grids"]``,
        or else drawn per env."""
        if options is not None and not isinstance(options, dict):
            raise ConfigError(f"options must be a dict or None, got {type(options).__name__}")
        unknown = sorted(set(options or {}) - {"index", "grids"})
        if unknown:
            raise ConfigError(f"unknown reset option(s) {unknown}; the options are 'index' and 'grids'")
        if (options or {}).get("grids") is not None:
            if options.get("index") is not None:
                raise ConfigError("reset options 'index' and 'grids' exclude each other")
            return self._play_grids(options["grids"])
        self._play_set()
        n, p = self.num_envs, self.num_puzzles
        index = (options or {}).get("index")
        if index is None:
            return draw_puzzles(self._generators, np.ones(n, dtype=np.bool_), p)
        wanted = np.full(n, int(index)) if is_integer(index) else np.asarray(index)
        if wanted.shape != (n,) or wanted.dtype.kind not in "iu" or (wanted < 0).any() or (wanted >= p).any():
            raise ConfigError(f"options['index'] must be an integer or {n} integers in 0..{p - 1}, got {index!r}")
        return wanted.astype(np.int64)

    def _play_grids(self, grids: Any) -> np.ndarray:
        """Env i starts from board ``grids[i]`` (N boards shaped like an observation, e.g. the puzzles an agent was
        given); autoresets then draw among these N boards until a reset without grids returns to the set."""
        shape = (self.num_envs, *self.single_observation_space.shape)
        boards = np.asarray(grids)
        if boards.shape != shape or boards.dtype.kind not in "iu":
            raise ConfigError(
                f"options['grids'] must be integer boards shaped {shape}, got {boards.dtype} {boards.shape}"
            )
        if not self.single_observation_space.contains(boards[0].astype(self.single_observation_space.dtype)):
            raise ConfigError(f"options['grids'] holds values outside {self.single_observation_space}")
        if self._given is None:
            self._given = (self._tables, self._ids)
        flat = boards.reshape(self.num_envs, -1).astype(np.int8)
        self._tables = self._tables_for(flat)
        self._ids = np.array([f"grid-{i}" for i in range(self.num_envs)], dtype=object)
        return np.arange(self.num_envs, dtype=np.int64)

    def _play_set(self) -> None:
        """Back to the puzzle set after given grids."""
        if self._given is not None:
            self._tables, self._ids = self._given
            self._given = None

    def _actions(self, actions: Any) -> np.ndarray:
        """int64 [N]; an action outside the space is a ValueError, as in the scalar env (the ignored action of an
        env about to be reset is not checked, as in SyncVectorEnv)."""
        a = np.asarray(actions)
        n, limit = self.num_envs, int(self.single_action_space.n)
        if a.shape != (n,) or a.dtype.kind not in "iu":
            raise ValueError(f"actions must be {n} integers in 0..{limit - 1} (shape ({n},)), got {a.dtype} {a.shape}")
        bad = ((a < 0) | (a >= limit)) & ~self._autoreset
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"action {a[i]!r} of env {i} is not in {self.single_action_space}")
        return a.astype(np.int64, copy=False)

    def _infos(self, index: np.ndarray | None = None, mask: np.ndarray | None = None) -> dict[str, Any]:
        """The per-puzzle infos of ``index`` (int64 [N]; default: the current puzzles) for the envs in ``mask``
        (bool [N]; default: all)."""
        k = self._puzzle_index() if index is None else index
        infos: dict[str, Any] = {}
        columns = self._columns(k) if self._given is None else {}  # given grids have no puzzle meta
        for key, value in {"puzzle_id": self._ids[k], "index": k.copy(), **columns}.items():
            infos[key] = value
            infos[f"_{key}"] = np.ones(self.num_envs, dtype=np.bool_) if mask is None else mask.copy()
        return infos
