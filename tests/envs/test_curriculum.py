"""Difficulty knobs (data options that band a split) and curricula (arena_envs.curriculum; docs/rl-curricula.md).

The knobs filter exactly and make splits of their own, while the defaults leave every split, id and fingerprint
as they were (the leaderboard tracks load the defaults). The curriculum rule is checked on scripted outcome
streams; the wrapper with an oracle that solves every puzzle (it climbs to the top level), a policy that always
fails (it stays at the bottom), several envs sharing one curriculum, masks and check_env.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode, SyncVectorEnv

import arena_envs  # noqa: F401  (registers the envs)
from arena_envs.config import ConfigError
from arena_envs.curriculum import (
    Curriculum,
    CurriculumEnv,
    Move,
    band_levels,
    make_curriculum_env,
    maze_levels,
    quantile_bands,
    solved,
    sudoku_levels,
)
from arena_envs.maze.env import MOVES
from arena_envs.maze.grid import GOAL, PATH
from arena_envs.registry import make_puzzle_set

SUDOKU, SUDOKU_STEP = "arena/SudokuExtreme-v0", "arena/SudokuExtremeStep-v0"
MAZE, MAZE_STEP = "arena/MazeHard-v0", "arena/MazeHardStep-v0"

# fingerprints of the default splits, taken before the knobs existed (the leaderboard tracks are these splits)
DEFAULT_FINGERPRINTS = {
    (SUDOKU, "test"): "sha256:29685629419c27d8328b9682744be6fa0d75da6a31651357ae864b01e908dee2",
    (SUDOKU, "train"): "sha256:2a1c1741c3be813fc6e462c9dab96e4045b106458b2c54247e7106edb3607568",
    (MAZE, "test"): "sha256:1c9f43034971263479d1f653c211bb487c88e2824abfef4e7e56f76942699cbe",
    ("arena/PPBench-v0", "golden_30"): "sha256:7e452693ebf67e8e2ed1293e96e634121274d7bd19abe65842a1afa8c48132d6",
}

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")


@pytest.mark.parametrize(("env_id", "split"), list(DEFAULT_FINGERPRINTS))
def test_defaults_leave_every_split_and_fingerprint_unchanged(env_id, split):
    full = make_puzzle_set(env_id, split=split)
    assert full.fingerprint == DEFAULT_FINGERPRINTS[env_id, split]
    knob = {SUDOKU: "rating", MAZE: "shortest"}.get(env_id, "cells")
    unbounded = make_puzzle_set(env_id, split=split, **{f"{knob}_min": None, f"{knob}_max": None})
    assert unbounded is full  # the loaded set itself, not a copy


@pytest.mark.parametrize(
    ("env_id", "knob", "low", "high", "value"),
    [
        (SUDOKU, "rating", 3, 20, lambda p: p.meta["rating"]),
        (SUDOKU, "clues", None, 24, lambda p: p.meta["clues"]),
        (MAZE, "shortest", 114, None, lambda p: p.meta["shortest"]),
    ],
)
def test_a_band_keeps_exactly_the_puzzles_inside_it(env_id, knob, low, high, value):
    full = make_puzzle_set(env_id, split="test")
    band = make_puzzle_set(env_id, split="test", **{f"{knob}_min": low, f"{knob}_max": high})
    inside = [p for p in full.puzzles if (low is None or value(p) >= low) and (high is None or value(p) <= high)]
    assert 0 < len(band.puzzles) == len(inside) < len(full.puzzles)
    assert [p.id for p in band.puzzles] == [p.id for p in inside]  # same ids, same order
    assert all(p.meta["index"] == q.meta["index"] and value(p) == value(q) for p, q in zip(band.puzzles, inside))
    assert band.fingerprint != full.fingerprint and band.fingerprint.startswith("sha256:")
    assert band.source.startswith(full.source + ":" + knob + "=")
    for p, q in zip(band.puzzles[:5], inside[:5]):  # labels and the verifier follow the rows
        assert np.array_equal(band.label(p), full.label(q)) and band.verify(p, full.label(q)).ok


def test_step_and_answer_envs_take_the_knobs():
    for env_id in (SUDOKU, SUDOKU_STEP):
        env = gym.make(env_id, rating_min=25)
        assert min(p.meta["rating"] for p in env.unwrapped.puzzle_set.puzzles) >= 25
        _, info = env.reset(seed=1)
        assert info["rating"] >= 25
    for env_id in (MAZE, MAZE_STEP):
        env = gym.make(env_id, shortest_max=112)
        _, info = env.reset(seed=1)
        assert info["shortest"] <= 112


def test_ppbench_cells_band():
    full = make_puzzle_set("arena/PPBench-v0", split="golden_30")
    band = make_puzzle_set("arena/PPBench-v0", split="golden_30", cells_max=100)
    inside = [p for p in full.puzzles if p.meta["rows"] * p.meta["cols"] <= 100]
    assert 0 < len(band.puzzles) == len(inside) < len(full.puzzles)
    assert [p.id for p in band.puzzles] == [p.id for p in inside]
    assert band.fingerprint != full.fingerprint and band.source.endswith(":cells=..100")
    assert band.verify(band.puzzles[0], band.label(band.puzzles[0])).ok


def test_an_empty_band_says_which_band_and_what_range_there_is():
    with pytest.raises(ConfigError, match=r"rating_min=500, rating_max=None keeps no puzzle .* from 0 to 161"):
        make_puzzle_set(SUDOKU, rating_min=500)
    with pytest.raises(ConfigError, match=r"shortest_min=None, shortest_max=50 keeps no puzzle .* from 111 to 133"):
        gym.make(MAZE_STEP, shortest_max=50)
    with pytest.raises(ConfigError, match=r"together keep no puzzle"):
        make_puzzle_set(SUDOKU, rating_min=100, clues_min=30)
    with pytest.raises(ConfigError, match=r"rating_min \(5\) is above rating_max \(3\)"):
        make_puzzle_set(SUDOKU, rating_min=5, rating_max=3)
    for bad in (-1, 2.5, True, "3"):
        with pytest.raises(ConfigError, match=r"shortest_max must be None or an integer >= 0"):
            gym.make(MAZE, shortest_max=bad)


def test_quantile_bands_cover_everything_and_survive_ties():
    assert quantile_bands(range(9), 3) == [(0, 2), (3, 5), (6, 8)]
    assert quantile_bands([31] * 40 + [32, 33, 35], 3) == [(31, 31), (32, 32), (33, 35)]
    assert quantile_bands([7, 7, 7], 3) == [(7, 7)]
    levels = sudoku_levels(9, 3, split="train")
    assert levels[0]["rating_min"] is None and levels[-1]["rating_max"] is None and len(levels) == 3
    full = make_puzzle_set(SUDOKU, split="train")
    counts = [len(make_puzzle_set(SUDOKU, split="train", **level).puzzles) for level in levels]
    assert sum(counts) == len(full.puzzles) and min(counts) > 200  # disjoint, about equal shares
    clues = sudoku_levels(9, 2, by="clues")  # fewer clues are harder: many to few
    assert clues[0]["clues_min"] > clues[1]["clues_max"]
    assert band_levels(SUDOKU, "rating", 3, cumulative=True)[1]["rating_min"] is None
    assert len(maze_levels(30, 3)) == 3
    within = sudoku_levels(9, 3, rating_max=40)  # a base band bounds the outer ends too
    assert within[0]["rating_min"] is None and within[-1]["rating_max"] == 40
    with pytest.raises(ConfigError, match="no difficulty knob 'walls'"):
        band_levels(MAZE, "walls")
    with pytest.raises(ConfigError, match="nothing to make a curriculum of"):
        sudoku_levels(4, 3, count=20)  # every generated 4x4 puzzle is rated 0


def outcomes(curriculum: Curriculum, stream: str) -> list[int]:
    """Record "1"/"0" outcomes; the level after each."""
    levels = []
    for c in stream:
        curriculum.record(c == "1")
        levels.append(curriculum.level)
    return levels


def test_the_rule_moves_up_and_down_with_hysteresis():
    # target 0.5 +- 0.25: up above 0.75, down below 0.25; a window of 4 that empties on each move
    c = Curriculum([{"a": 0}, {"a": 1}, {"a": 2}], target=0.5, band=0.25, window=4)
    assert outcomes(c, "111") == [0, 0, 0]  # not a full window yet
    assert outcomes(c, "1") == [1]  # 4/4 > 0.75: up, window emptied
    assert c.history == [Move(episode=4, level=1, rate=1.0)] and c.rate is None
    assert outcomes(c, "1110") == [1, 1, 1, 1]  # 0.75 is not above 0.75: stays
    assert outcomes(c, "0") == [1]  # sliding window 1100 = 0.5: stays
    assert outcomes(c, "0") == [1]  # 1000 = 0.25 is not below 0.25
    assert outcomes(c, "0") == [0]  # 0000 = 0 < 0.25: down
    assert outcomes(c, "0000") == [0, 0, 0, 0]  # the bottom holds (the window keeps sliding)
    assert outcomes(c, "1111") == [0, 0, 0, 1]  # 0001, 0011, 0111 (0.75 is not above 0.75), then 1111: up
    assert outcomes(c, "1111") == [1, 1, 1, 2]
    assert outcomes(c, "1111") == [2, 2, 2, 2]  # the top holds
    assert [(m.level, m.episode) for m in c.history] == [(1, 4), (0, 11), (1, 19), (2, 23)]
    assert c.episodes == 27 and c.state()["options"] == {"a": 2}


def test_min_episodes_start_and_stale_outcomes():
    c = Curriculum([{}, {}, {}], target=0.7, band=0.1, window=10, min_episodes=3, start=1)
    assert outcomes(c, "11") == [1, 1] and outcomes(c, "1") == [2]
    assert not c.record(False, level=1)  # an episode begun at the old level: counted, dropped
    assert c.rate is None and c.episodes == 4
    assert outcomes(c, "000") == [2, 2, 1]


def test_spec_strings_and_bad_settings():
    c = Curriculum.from_spec("target=0.6, window=20,band=0.05,min_episodes=5", [{}, {}])
    assert (c.config.target, c.config.window, c.config.band, c.config.needed) == (0.6, 20, 0.05, 5)
    assert Curriculum.from_spec("", [{}]).config.window == 100
    bad = {
        "tempo=3": "unknown curriculum setting 'tempo'",
        "target": "is not key=value",
        "target=1.2": "target must be a success rate strictly between 0 and 1",
        "target=0.9,band=0.1": "could never move up",
        "window=0": "window must be an integer >= 1",
        "window=10,min_episodes=11": r"min_episodes must be None or an integer in 1..window \(10\)",
        "start=2": r"start must be a level in 0..1",
        "band=-0.1": "band must be a number >= 0",
        "window=5,window=6": "given twice",
    }
    for spec, message in bad.items():
        with pytest.raises(ConfigError, match=message):
            Curriculum.from_spec(spec, [{}, {}])
    for levels in ([], {"a": 1}, [3]):
        with pytest.raises(ConfigError, match="level"):
            Curriculum(levels)


def test_a_spec_string_builds_the_default_levels_of_a_family():
    c = Curriculum.from_spec("target=0.6", env_id=SUDOKU_STEP, split="train", mask_conflicts=True)
    assert c.levels == tuple(sudoku_levels(9, 3, split="train")) and c.config.target == 0.6
    c = Curriculum.from_spec("knob=clues,bands=2,cumulative=true", env_id=SUDOKU_STEP)
    assert c.levels == tuple(sudoku_levels(9, 2, by="clues", cumulative=True))
    assert Curriculum.from_spec("bands=4", env_id=MAZE_STEP).levels == tuple(maze_levels(30, 4))
    bad = [
        (("bands=2", [{}, {}]), {}, "cannot go with levels given explicitly"),
        (("target=0.7",), {}, "needs levels, or an env_id"),
        (("",), {"env_id": "arena/ARC-AGI-1-v0"}, "has no difficulty knob"),
        (("cumulative=3",), {"env_id": SUDOKU}, "cumulative must be true or false"),
        (("knob=walls",), {"env_id": MAZE}, "no difficulty knob 'walls'"),
    ]
    for args, kwargs, message in bad:
        with pytest.raises(ConfigError, match=message):
            Curriculum.from_spec(*args, **kwargs)


def sudoku_oracle(env: CurriculumEnv, obs: np.ndarray) -> int:
    """The solution's digit in the first empty cell."""
    u = env.unwrapped
    s, label = u.shape.size, u.puzzle_set.label(u.puzzle)
    r, c = map(int, np.argwhere(obs == 0)[0])
    return (r * s + c) * s + int(label[r, c]) - 1


def maze_oracle(env: CurriculumEnv, obs: np.ndarray) -> int:
    """The move onto the next cell of the stored shortest path."""
    u = env.unwrapped
    label = u.puzzle_set.label(u.puzzle)
    r, c = divmod(u._head, u.size)
    for a, (dr, dc) in enumerate(MOVES):
        rr, cc = r + dr, c + dc
        if 0 <= rr < u.size and 0 <= cc < u.size and obs[rr, cc] != PATH and label[rr, cc] in (PATH, GOAL):
            return a
    raise AssertionError("no path cell next to the head")


def sudoku_fail(env: CurriculumEnv, obs: np.ndarray) -> int:
    """A digit on a given: refused, the episode ends unsolved."""
    r, c = map(int, np.argwhere(obs != 0)[0])
    return (r * 9 + c) * 9


def play(env: CurriculumEnv, policy, episodes: int, seed: int = 0) -> list[tuple[int, dict]]:
    """(level, last info) of each episode."""
    played = []
    obs, info = env.reset(seed=seed)
    for _ in range(episodes):
        done = False
        while not done:
            obs, _, terminated, truncated, info = env.step(policy(env, obs))
            done = terminated or truncated
        played.append((info["curriculum_level"], info))
        obs, info = env.reset()
    return played


@pytest.mark.parametrize(
    ("env_id", "levels", "policy", "meta"),
    [
        (SUDOKU_STEP, lambda: sudoku_levels(9, 3), sudoku_oracle, "rating"),
        (MAZE_STEP, lambda: maze_levels(30, 3), maze_oracle, "shortest"),
    ],
)
def test_an_oracle_climbs_to_the_top_level(env_id, levels, policy, meta):
    levels = levels()
    curriculum = Curriculum(levels, target=0.7, band=0.1, window=5)
    env = CurriculumEnv(env_id, curriculum)
    played = play(env, policy, 14)
    assert all(info["success"] and solved(info) for _, info in played)
    assert [level for level, _ in played] == [0] * 5 + [1] * 5 + [2] * 4
    assert [m.episode for m in curriculum.history] == [5, 10] and curriculum.level == 2
    for level, info in played:  # every episode's puzzle lies in its level's band
        low, high = levels[level][f"{meta}_min"], levels[level][f"{meta}_max"]
        assert (low is None or info[meta] >= low) and (high is None or info[meta] <= high)
    env.close()


def test_a_policy_that_always_fails_stays_at_the_bottom():
    curriculum = Curriculum(sudoku_levels(9, 3), target=0.7, band=0.1, window=5)
    env = CurriculumEnv(SUDOKU_STEP, curriculum)
    played = play(env, sudoku_fail, 12)
    assert all(level == 0 and not info["success"] for level, info in played)
    assert curriculum.history == [] and curriculum.rate == 0.0 and curriculum.episodes == 12


def test_the_same_seeds_play_the_same_puzzles_across_moves():
    def ids() -> list[str]:
        env = CurriculumEnv(SUDOKU_STEP, Curriculum(sudoku_levels(9, 3), window=3))
        return [info["puzzle_id"] for _, info in play(env, sudoku_oracle, 8, seed=7)]

    first = ids()
    assert first == ids() and len(set(first)) > 1


@pytest.mark.parametrize(
    ("mode", "steps", "moves", "episodes"),
    [
        # every other vector step is the autoreset: 3 envs x 4 episodes, a window of 6 per move
        (AutoresetMode.NEXT_STEP, 8, [6, 12], 12),
        # each env resets right after its episode, in env order: when env 3's episode 6 moves the level, envs
        # 1 and 2 have already begun level-0 episodes, whose outcomes (7, 8) are then dropped; likewise 15
        (AutoresetMode.SAME_STEP, 5, [6, 14], 15),
    ],
)
def test_envs_sharing_one_curriculum_pool_their_outcomes(mode, steps, moves, episodes):
    curriculum = Curriculum(sudoku_levels(9, 3), target=0.7, band=0.1, window=6)
    thunks = [make_curriculum_env(SUDOKU, curriculum, max_attempts=1) for _ in range(3)]
    envs = SyncVectorEnv(thunks, autoreset_mode=mode)
    envs.reset(seed=0)
    for _ in range(steps):  # answer mode: one step an episode
        answers = np.stack([e.unwrapped.puzzle_set.label(e.unwrapped.puzzle) for e in envs.envs])
        envs.step({"grid": answers, "abstain": np.zeros(3, dtype=np.int64)})
    assert [m.episode for m in curriculum.history] == moves and curriculum.episodes == episodes
    assert curriculum.level == 2
    envs.reset()
    assert [e.level for e in envs.envs] == [2, 2, 2]
    envs.close()


def test_masks_are_forwarded_and_check_env_passes():
    curriculum = Curriculum(maze_levels(30, 3), window=5)
    envs = SyncVectorEnv([make_curriculum_env(MAZE_STEP, curriculum) for _ in range(2)])
    envs.reset(seed=0)
    masks = envs.call("action_masks")
    assert [m.tolist() for m in masks] == [e.unwrapped.action_masks().tolist() for e in envs.envs]
    env = CurriculumEnv(SUDOKU_STEP, Curriculum(sudoku_levels(9, 3)), mask_conflicts=True)
    env.reset(seed=0)
    assert np.array_equal(env.action_masks(), env.unwrapped.legal_digits().ravel())
    check_env(env, skip_render_check=True)
    with pytest.raises(AttributeError, match="only step-mode envs have masks"):
        CurriculumEnv(SUDOKU, Curriculum([{}])).action_masks()


def test_levels_that_change_the_spaces_are_refused():
    with pytest.raises(ConfigError, match=r"change the board size \(level 0: size=4, level 1: size=6\)"):
        CurriculumEnv(SUDOKU_STEP, Curriculum([{"size": 4}, {"size": 6}]), count=10)
    with pytest.raises(ConfigError, match=r"curriculum level 1 of .* unknown option\(s\) \['ratin_max'\]"):
        make_curriculum_env(SUDOKU_STEP, Curriculum([{}, {"ratin_max": 3}]))
    # PPBench pads to the set's largest board: a size band changes the canvas, found when the level is reached
    levels = band_levels("arena/PPBench-v0", "cells", 2, split="golden_30")
    curriculum = Curriculum(levels, start=1)
    env = CurriculumEnv("arena/PPBench-v0", curriculum, split="golden_30")
    curriculum.level = 0
    with pytest.raises(ConfigError, match="the spaces must stay fixed across a curriculum"):
        env.reset()
