"""The native vector envs are N scalar step envs: stepped beside ``SyncVectorEnv`` on the same seeds and actions,
they give equal observations, rewards, flags, masks and infos (as gymnax's tests compare gymnax and Gymnasium)."""

from __future__ import annotations

import doctest
import json
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, SyncVectorEnv

import arena_envs  # noqa: F401  (registers the arena/ ids)
from arena_envs.config import ConfigError
from arena_envs.maze.vector_env import MazeStepVectorEnv
from arena_envs.sudoku.vector_env import SudokuStepVectorEnv
from arena_envs.vector_base import draw_puzzles, generator_row

ROOT = Path(__file__).resolve().parents[2]
SUDOKU, MAZE = "arena/SudokuExtremeStep-v0", "arena/MazeHardStep-v0"
N = 6  # envs side by side: enough for many autoresets per step, few enough to step the scalar envs quickly


def _pair(env_id: str, options: dict, mode: AutoresetMode) -> tuple[gym.vector.VectorEnv, SyncVectorEnv]:
    native = gym.make_vec(env_id, num_envs=N, vectorization_mode="vector_entry_point", autoreset_mode=mode, **options)
    sync = SyncVectorEnv([lambda: gym.make(env_id, **options) for _ in range(N)], autoreset_mode=mode)
    return native, sync


def _assert_same_infos(got: dict, want: dict, t: int) -> None:
    """Every info the native env gives, and its ``_key`` mask, equals SyncVectorEnv's (bar Sudoku's ``solved``,
    which :func:`_count_outcomes` checks against the scalar verdict, and ``complete``, checked there against the
    board and the maze's ``optimal``); SAME_STEP's ``final_obs`` row by row."""
    shared = set(got) - {"solved", "_solved", "complete", "_complete", "final_obs", "final_info"}
    assert shared <= set(want), shared - set(want)
    for key in shared:
        present = got.get(f"_{key}", np.ones(N, dtype=np.bool_))  # values outside the mask mean nothing
        assert np.array_equal(got[key][present], want[key][present]), (t, key)
    if "final_obs" in got or "final_obs" in want:
        assert np.array_equal(got["_final_obs"], want["_final_obs"]), t
        for i in np.flatnonzero(want["_final_obs"]):
            assert np.array_equal(got["final_obs"][i], want["final_obs"][i]), (t, i)
        _assert_same_infos(got["final_info"], want["final_info"], t)


def _assert_same_step(got: tuple, want: tuple, t: int) -> None:
    for name, a, b in zip(("obs", "reward", "terminated", "truncated"), got[:4], want[:4]):
        assert a.dtype == b.dtype and a.shape == b.shape, (t, name, a.dtype, b.dtype)
        assert np.array_equal(a, b), f"step {t}: {name} differ\n{a}\n{b}"
    _assert_same_infos(got[4], want[4], t)


def _compare(env_id: str, options: dict, steps: int, policy, mode=AutoresetMode.NEXT_STEP) -> dict[str, int]:
    """Step both for ``steps`` steps with the same actions; returns how often each outcome was seen."""
    native, sync = _pair(env_id, options, mode)
    rng = np.random.default_rng(0)
    got, want = native.reset(seed=0), sync.reset(seed=0)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1]["puzzle_id"], want[1]["puzzle_id"])
    seen = {"ends": 0, "good": 0, "illegal": 0}
    for t in range(steps):
        if t == steps // 2:  # a reset without a seed mid-run keeps every env's generator
            got, want = native.reset(), sync.reset()
            assert np.array_equal(got[0], want[0])
        masks = native.action_masks()  # bool [N, A]
        assert np.array_equal(masks, np.stack(sync.call("action_masks"))), f"step {t}: masks differ"
        actions = policy(native, masks, rng, seen)  # int64 [N]
        got, want = native.step(actions), sync.step(actions)
        _assert_same_step(got, want, t)
        seen["ends"] += int(got[2].sum())
        _count_outcomes(got[4].get("final_info", got[4]), want[4].get("final_info", want[4]), seen)
    assert np.array_equal(native.action_masks(), np.stack(sync.call("action_masks")))
    return seen


def _count_outcomes(got: dict, want: dict, seen: dict[str, int]) -> None:
    """Good endings: a solved Sudoku (``solved`` against the scalar verdict), a maze walked optimally."""
    if "verdict" in want or "_solved" in got:
        ended = want["_verdict"]
        assert np.array_equal(got["_solved"], ended)
        assert np.array_equal(got["solved"][ended], want["verdict"]["ok"][ended])
        seen["good"] += int(got["solved"][ended].sum())
    if "optimal" in got:
        seen["good"] += int(got["optimal"].sum())
        # a maze episode is complete exactly when it reached G
        assert np.array_equal(got["complete"][got["_complete"]], got["_optimal"][got["_complete"]])
    if "_solved" in got:  # a solved board is complete; a complete one need not be solved
        ended = got["_complete"]
        assert not (got["solved"][ended] & ~got["complete"][ended]).any()


def _sudoku_policy(native, masks, rng, seen) -> np.ndarray:
    """Envs 0 and 1 place right digits from the stored solution (so boards get solved); the others mostly make
    masked random placements, some right digits and a few unmasked actions (rule breaks and filled cells)."""
    s = native.shape.size
    ps = native.puzzle_set
    boards = native._obs().reshape(N, -1)  # int8 [N, s*s]
    actions = np.zeros(N, dtype=np.int64)
    for i in range(N):
        u = 0.5 if i < 2 else rng.random()
        if u < 0.05 or not masks[i].any():
            actions[i] = rng.integers(masks.shape[1])
            seen["illegal"] += int(masks[i].any() and not masks[i][actions[i]])
        elif u < 0.55:
            label = np.asarray(ps.label(ps.puzzles[native._state.index[i]])).ravel()
            cell = rng.choice(np.flatnonzero(boards[i] == 0))
            actions[i] = cell * s + label[cell] - 1
        else:
            actions[i] = rng.choice(np.flatnonzero(masks[i]))
    return actions


SUDOKU_CASES = [
    ({"size": 4, "count": 50}, 300),
    ({"size": 4, "count": 50, "mask_conflicts": True}, 300),
    ({"size": 6, "count": 20}, 250),
    ({"size": 6, "count": 20, "mask_conflicts": True}, 250),
    ({}, 200),  # 9x9, the bundled split
    ({"mask_conflicts": True}, 200),
]


@pytest.mark.parametrize(("options", "steps"), SUDOKU_CASES, ids=lambda c: str(c).replace(" ", ""))
def test_sudoku_vector_env_equals_sync_vector_env(options, steps):
    seen = _compare(SUDOKU, options, steps, _sudoku_policy)
    assert seen["ends"] > 50 and seen["illegal"] > 5
    assert seen["good"] > 0 or options == {}  # 9x9 boards take many steps; small ones get solved


def _maze_policy(native, masks, rng, seen) -> np.ndarray:
    """Env 0 walks a shortest path to G (from the env's own distance table); the others mostly step closer to G,
    else make masked random moves, some unmasked."""
    state, tables = native._state, native._tables
    actions = np.zeros(N, dtype=np.int64)
    for i in range(N):
        u = 0.5 if i == 0 else rng.random()
        allowed = np.flatnonzero(masks[i])
        if u < 0.05 or len(allowed) == 0:
            actions[i] = rng.integers(4)
            seen["illegal"] += int(masks[i].any() and not masks[i][actions[i]])
            continue
        to_goal, head, size = tables.to_goal[state.index[i]], state.head[i], native.size
        targets = [head + (-size, -1, 1, size)[m] for m in allowed]
        closer = [m for m, c in zip(allowed, targets) if to_goal[c] == to_goal[head] - 1]
        actions[i] = closer[0] if closer and u < 0.85 else rng.choice(allowed)
    return actions


@pytest.mark.parametrize(("options", "steps"), [({"size": 6, "count": 30}, 300), ({}, 300)], ids=["6x6", "30x30"])
def test_maze_vector_env_equals_sync_vector_env(options, steps):
    seen = _compare(MAZE, options, steps, _maze_policy)
    assert seen["ends"] > 30 and seen["illegal"] > 5 and seen["good"] > 0


@pytest.mark.parametrize(
    ("env_id", "options", "policy"),
    [
        (SUDOKU, {"size": 4, "count": 50, "mask_conflicts": True}, _sudoku_policy),
        (MAZE, {"size": 6, "count": 30}, _maze_policy),
    ],
    ids=["sudoku-4x4", "maze-6x6"],
)
def test_same_step_autoreset_equals_sync_vector_env(env_id, options, policy):
    """With ``autoreset_mode=SAME_STEP`` too: the new episode's observation at once, the last one in final_obs."""
    seen = _compare(env_id, options, 200, policy, mode=AutoresetMode.SAME_STEP)
    assert seen["ends"] > 30 and seen["good"] > 0


def test_seed_lists_and_index_options_match_sync():
    native, sync = _pair(SUDOKU, {"size": 4, "count": 50}, AutoresetMode.NEXT_STEP)
    seeds = [5, None, 7, 11, None, 2]
    got, want = native.reset(seed=seeds), sync.reset(seed=seeds)
    assert np.array_equal(got[1]["index"][[0, 2, 3, 5]], want[1]["index"][[0, 2, 3, 5]])  # None: from entropy
    got, want = native.reset(seed=1, options={"index": 3}), sync.reset(seed=1, options={"index": 3})
    assert np.array_equal(got[0], want[0]) and set(got[1]["index"]) == {3}
    obs, info = native.reset(options={"index": np.arange(N) * 2})
    assert np.array_equal(info["index"], np.arange(N) * 2)
    assert np.array_equal(obs[1], native.puzzle_set.puzzles[2].grid)


def test_draws_replay_numpy_generator_integers():
    for seed in (0, 1, 12345, None):
        for n in (1, 2, 3, 1000, 2**31 + 5, 2**32):
            rng = seeding.np_random(seed)[0]
            row = generator_row(rng)[None].copy()  # uint64 [1, 6]
            want = [int(rng.integers(n)) for _ in range(25)]
            got = [int(draw_puzzles(row, np.ones(1, dtype=np.bool_), n)[0]) for _ in range(25)]
            assert got == want, (seed, n)
            assert np.array_equal(row[0], generator_row(rng))  # the same generator state afterwards


@pytest.mark.parametrize(("env_id", "options"), [(SUDOKU, {"size": 4, "count": 50}), (MAZE, {"size": 6, "count": 30})])
def test_spaces_metadata_and_observations(env_id, options):
    envs = gym.make_vec(env_id, num_envs=N, vectorization_mode="vector_entry_point", **options)
    scalar = gym.make(env_id, **options)
    assert envs.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    assert envs.single_observation_space == scalar.observation_space
    assert envs.single_action_space == scalar.action_space
    assert envs.observation_space.shape == (N, *scalar.observation_space.shape)
    obs, info = envs.reset(seed=0)
    assert envs.observation_space.contains(obs) and info["_puzzle_id"].all()
    envs.action_space.seed(0)
    for _ in range(20):
        obs, reward, terminated, truncated, info = envs.step(envs.action_space.sample())
        assert envs.observation_space.contains(obs)
        assert reward.dtype == np.float64 and terminated.dtype == truncated.dtype == np.bool_
        assert envs.action_masks().shape == (N, scalar.action_space.n)


def test_make_vec_picks_the_native_env_by_default():
    envs = gym.make_vec(SUDOKU, num_envs=4, vectorization_mode="vector_entry_point", size=4)
    assert isinstance(envs, SudokuStepVectorEnv) and envs.spec.id == SUDOKU
    assert isinstance(gym.make_vec(MAZE, num_envs=2, size=6, count=30), MazeStepVectorEnv)
    assert isinstance(gym.make_vec(MAZE, num_envs=2, vectorization_mode="sync", size=6, count=30), SyncVectorEnv)


def test_same_seed_same_rollout():
    def rollout(seed: int) -> list[bytes]:
        envs = SudokuStepVectorEnv(N, size=4, count=50, mask_conflicts=True)
        rng = np.random.default_rng(seed)
        trace = [envs.reset(seed=seed)[0].tobytes()]
        for _ in range(30):
            masks = envs.action_masks()
            actions = np.array([rng.choice(np.flatnonzero(m)) if m.any() else 0 for m in masks])
            obs, reward, *_ = envs.step(actions)
            trace.append(obs.tobytes() + reward.tobytes())
        return trace

    assert rollout(3) == rollout(3)
    assert rollout(3) != rollout(4)


def test_bad_actions_and_options_raise():
    envs = MazeStepVectorEnv(N, size=6, count=30)
    with pytest.raises(RuntimeError, match="reset"):
        envs.step(np.zeros(N, dtype=np.int64))
    envs.reset(seed=0)
    for bad in (np.full(N, 4), np.full(N, -1), np.zeros(N, dtype=np.float32), np.zeros(N + 1, dtype=np.int64), 0):
        with pytest.raises(ValueError):
            envs.step(bad)
    with pytest.raises(ValueError):
        envs.step(np.zeros(N, dtype=bool))
    for options in ({"index": 10**6}, {"index": 1.5}, {"index": [0, 1]}, {"level": 1}):
        with pytest.raises(ConfigError):
            envs.reset(options=options)
    with pytest.raises(ConfigError):
        SudokuStepVectorEnv(2, size=4, count=10, colour="red")  # the scalar env's options, no others
    with pytest.raises(ConfigError):
        SudokuStepVectorEnv(0, size=4, count=10)
    with pytest.raises(ConfigError):
        SudokuStepVectorEnv(2, autoreset_mode=AutoresetMode.DISABLED, size=4, count=10)  # no reset_mask support
    same = SudokuStepVectorEnv(2, autoreset_mode="same_step", size=4, count=10)
    assert same.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    assert SudokuStepVectorEnv.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP  # the class keeps its default


@pytest.mark.parametrize("cls", [SudokuStepVectorEnv, MazeStepVectorEnv])
def test_render_gives_one_frame_per_env(cls):
    options = {"size": 4, "count": 10} if cls is SudokuStepVectorEnv else {"size": 6, "count": 30}
    texts = cls(3, render_mode="ansi", **options)
    texts.reset(seed=0)
    assert len(texts.render()) == 3 and all(isinstance(t, str) for t in texts.render())
    frames = cls(2, render_mode="rgb_array", **options)
    frames.reset(seed=0)
    assert all(f.dtype == np.uint8 and f.ndim == 3 for f in frames.render())


@pytest.mark.parametrize("cls", [SudokuStepVectorEnv, MazeStepVectorEnv])
def test_docstring_example_runs(cls):
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in finder.find(cls):
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


def test_benchmark_runs_tiny(tmp_path):
    """The page docs/rl-vector-envs.md shows `python benchmarks/vector_envs.py` (minutes); it runs here tiny."""
    page = (ROOT / "docs/rl-vector-envs.md").read_text()
    assert "python benchmarks/vector_envs.py" in page
    out = tmp_path / "vector-envs.json"
    cmd = [sys.executable, "benchmarks/vector_envs.py", "--seconds", "0.05", "--native-envs", "8"]
    cmd += ["--sync-envs", "4", "--cases", "sudoku-4x4", "maze-30x30", "--out", str(out)]
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True, timeout=300)
    results = json.loads(out.read_text())
    assert set(results["cases"]) == {"sudoku-4x4", "maze-30x30"}
    assert results["cases"]["maze-30x30"]["native_8"]["step_env_steps_per_s"] > 0


@pytest.mark.parametrize("env_id,options", [(SUDOKU, {"size": 4, "count": 50}), (MAZE, {"size": 6, "count": 20})])
def test_reset_from_given_grids(env_id: str, options: dict) -> None:
    """``options={"grids": boards}`` starts each env from any board (what an agent's rollout needs): the same
    observation, masks and rewards as indexing that puzzle in the set, and then back to the set on a plain reset."""
    native = gym.make_vec(env_id, num_envs=N, vectorization_mode="vector_entry_point", **options)
    reference = gym.make_vec(env_id, num_envs=N, vectorization_mode="vector_entry_point", **options)
    order = np.arange(N)[::-1] * 2
    grids = np.stack([native.puzzle_set.puzzles[i].grid for i in order])
    obs, info = native.reset(options={"grids": grids})
    want, _ = reference.reset(options={"index": order})
    assert np.array_equal(obs, want) and list(info["puzzle_id"]) == [f"grid-{i}" for i in range(N)]
    rng = np.random.default_rng(1)
    for _ in range(12):
        masks = native.action_masks()
        assert np.array_equal(masks, reference.action_masks())
        actions = np.array([rng.choice(np.flatnonzero(m)) if m.any() else 0 for m in masks])
        got, ref = native.step(actions), reference.step(actions)
        np.testing.assert_array_equal(got[1], ref[1])  # rewards, L* recomputed from the given mazes
        np.testing.assert_array_equal(got[2], ref[2])
        if got[2].any():  # compared up to the first end (autoresets then draw from different sets)
            assert np.array_equal(got[4]["_complete"], got[2])
            break
    obs, info = native.reset(seed=0)
    assert info["puzzle_id"][0] in {p.id for p in native.puzzle_set.puzzles}
    with pytest.raises(ConfigError, match="grids"):
        native.reset(options={"grids": grids[:2]})
    with pytest.raises(ConfigError, match="exclude"):
        native.reset(options={"grids": grids, "index": 0})
