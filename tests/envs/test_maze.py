"""Maze-Hard: verifier (any shortest path; reasons for every kind of bad path), data, generator, envs."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import arena_envs  # noqa: F401  (registers the envs)
from arena_envs.config import DataError
from arena_envs.maze import data as maze_data
from arena_envs.maze.generator import MazeSpec, generate, generate_many
from arena_envs.maze.grid import GOAL, OPEN, PATH, START, WALL, parse, to_text
from arena_envs.maze.search import bfs, canonical_path
from arena_envs.maze.verifier import solved_mask, verify, verify_batch
from arena_envs.registry import make_puzzle_set

SMALL = MazeSpec.for_size(10)


@pytest.fixture(scope="module")
def small():
    return generate_many(5, 0, 40, SMALL)


def other_shortest_path(q: np.ndarray) -> np.ndarray | None:
    """A shortest path that prefers the last neighbour (down, right, left, up): often not the canonical one."""
    size, flat = q.shape[0], q.ravel()
    to_goal = bfs(flat.copy(), size, int(np.flatnonzero(flat == GOAL)[0]))
    out, cell = flat.copy(), int(np.flatnonzero(flat == START)[0])
    while to_goal[cell] > 1:
        r, c = divmod(cell, size)
        for rr, cc in ((r + 1, c), (r, c + 1), (r, c - 1), (r - 1, c)):
            if 0 <= rr < size and 0 <= cc < size and to_goal[rr * size + cc] == to_goal[cell] - 1:
                cell = rr * size + cc
                break
        out[cell] = PATH
    return out.reshape(q.shape)


def test_oracle_paths_verify_with_exact_label(small):
    for m in small:
        v = verify(m.question, m.solution, label=m.solution)
        assert (
            v.ok
            and v.reason == "shortest path"
            and v.extras
            == {
                "length": m.length,
                "shortest": m.length,
                "exact_label": True,
                "optimal": True,
            }
        )


def test_a_different_shortest_path_is_right_but_not_the_label(small):
    found = 0
    for m in small:
        other = other_shortest_path(m.question)
        if np.array_equal(other, m.solution):
            continue
        v = verify(m.question, other, label=m.solution)
        assert v.ok and v.extras["exact_label"] is False and v.extras["optimal"]
        found += 1
    assert found >= 10  # shortest paths are rarely unique


def test_a_longer_valid_path_is_not_optimal():
    # two routes from S to G: along the top (4 steps) or down, along row 3 and back up (8 steps)
    maze = parse("S   G" + " ### " + "     " + "#####" + "     ", 5)
    long_way = parse("S   G" + "o###o" + "ooooo" + "#####" + "     ", 5)
    v = verify(maze, long_way)
    assert not v.ok and v.reason == "not optimal (8 > 4)"
    assert v.extras == {"length": 8, "shortest": 4, "exact_label": None, "optimal": False}
    assert verify(maze, parse("SoooG" + " ### " + "     " + "#####" + "     ", 5)).ok
    # a path that touches itself is not one chain of cells: the marked set could be read two ways
    touching = parse("S   G" + "o###o" + "ooooo" + "#####" + "     ", 5)
    touching[0, 1] = PATH
    assert "branches" in verify(maze, touching).reason


def _corrupt(m, how: str) -> np.ndarray:
    a = m.solution.copy()
    cells = np.argwhere(a == PATH)
    r, c = cells[len(cells) // 2]
    if how == "break":
        a[r, c] = OPEN
    elif how == "wall":
        walls = np.argwhere(m.question == WALL)
        a[tuple(walls[0])] = PATH
    elif how == "changed":
        opens = np.argwhere((m.question == OPEN) & (a == OPEN))
        a[tuple(opens[0])] = WALL
    elif how == "stray":
        far = np.argwhere(a == OPEN)
        d = np.abs(far - cells[:, None]).sum(-1).min(0)
        a[tuple(far[int(np.argmax(d))])] = PATH
    elif how == "start":
        a[a == START] = OPEN
    return a


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("break", "path breaks at r"),
        ("wall", "path crosses a wall at r"),
        ("changed", "changed from ' ' to '#'"),
        ("stray", "is not on the chain from S to G"),
        ("start", "changed from 'S' to ' '"),
    ],
)
def test_corrupted_paths_are_rejected_with_the_right_reason(small, how, reason):
    for m in small[:10]:
        v = verify(m.question, _corrupt(m, how), label=m.solution)
        assert not v.ok and reason in v.reason, v.reason
        assert v.extras.get("optimal") is False


def test_malformed_answers_and_abstention(small):
    m = small[0]
    assert verify(m.question, None).abstained
    for bad, why in [
        ("#" * 99, "expected 100 characters"),
        ("x" * 100, "not one of"),
        (np.zeros((10, 10)), "outside 1..5"),
        (np.ones((9, 10)), "wrong shape"),
        ([[1, 2], [3]], "rectangular"),
    ]:
        v = verify(m.question, bad)
        assert not v.ok and why in v.reason, (why, v.reason)
    assert verify(m.question, to_text(m.solution)).ok  # the text format is an answer too


def test_batched_verdicts_equal_single_ones(small):
    q = np.stack([m.question for m in small])
    answers = []
    for i, m in enumerate(small):
        kinds = [m.solution, _corrupt(m, "break"), _corrupt(m, "wall"), None, "bad", other_shortest_path(m.question)]
        answers.append(kinds[i % len(kinds)])
    labels = np.stack([m.solution for m in small])
    batch = verify_batch(q, answers, labels=labels)
    single = [verify(q[i], answers[i], label=labels[i]) for i in range(len(small))]
    assert batch == single
    grids = np.stack([a if isinstance(a, np.ndarray) else m.question for a, m in zip(answers, small)])
    assert list(solved_mask(q, grids)) == [v.ok for v in verify_batch(q, list(grids))]


def test_generator_statistics_match_the_published_procedure():
    made = generate_many(11, 0, 12)
    walls = np.array([m.walls for m in made]) / 900
    assert all(m.length > 110 for m in made)
    assert ((walls >= 0.30) & (walls <= 0.50)).all() and 0.33 < walls.mean() < 0.43
    for m in made:
        assert (m.question == START).sum() == 1 and (m.question == GOAL).sum() == 1 and not (m.question == PATH).any()
        assert verify(m.question, m.solution).ok and (m.solution == PATH).sum() == m.length - 1


def test_generation_is_seeded_and_indexed():
    a, b = generate(3, 7, SMALL), generate(3, 7, SMALL)
    assert np.array_equal(a.question, b.question) and a.length == b.length
    assert not np.array_equal(a.question, generate(3, 8, SMALL).question)
    assert not np.array_equal(a.question, generate(4, 7, SMALL).question)
    assert all(m.length > 30 for m in generate_many(3, 0, 10, SMALL))


def test_csv_round_trip_and_bad_files(tmp_path, small):
    arrays = maze_data.MazeArrays(
        np.stack([m.question for m in small[:5]]),
        np.stack([m.solution for m in small[:5]]),
        np.array([m.length for m in small[:5]], np.int32),
        tuple("test" for _ in range(5)),
    )
    path = tmp_path / "mazes.csv"
    maze_data.write_csv(path, arrays)
    back = maze_data.read_csv(path, size=10)
    assert np.array_equal(back.questions, arrays.questions) and np.array_equal(back.solutions, arrays.solutions)
    ps = make_puzzle_set("arena/MazeHard-v0", data=str(path), size=10)
    assert ps.source == "original:mazes.csv" and all(ps.verify(p, ps.label(p)).ok for p in ps.puzzles)
    with pytest.raises(DataError, match="not found"):
        maze_data.read_csv(tmp_path / "missing.csv")
    bad = io.StringIO("source,question,answer,rating\nx," + "?" * 100 + "," + " " * 100 + ",1\n")
    with pytest.raises(DataError, match="line 2"):
        maze_data.read_csv(bad, size=10)
    assert parse(to_text(small[0].question), 10).tolist() == small[0].question.tolist()


def test_canonical_path_is_shortest(small):
    for m in small:
        assert (canonical_path(m.question.ravel(), 10) == PATH).sum() == m.length - 1


@pytest.mark.parametrize("env_id", ["arena/MazeHard-v0", "arena/MazeHardStep-v0"])
def test_envs_pass_check_env_and_vectorise(env_id):
    env = gym.make(env_id, size=10, count=20).unwrapped
    check_env(env, skip_render_check=True)
    vec = gym.vector.SyncVectorEnv([lambda: gym.make(env_id, size=10, count=20) for _ in range(2)])
    obs, _ = vec.reset(seed=1)
    assert obs.shape == (2, 10, 10)
    vec.close()


def test_answer_env_rewards_a_shortest_path():
    env = gym.make("arena/MazeHard-v0", size=10, count=20)
    _, info = env.reset(seed=0, options={"index": 3})
    ps = env.unwrapped.puzzle_set
    _, reward, done, _, info = env.step({"grid": ps.label(ps.puzzles[3]), "abstain": 0})
    assert reward == 1.0 and done and info["verdict"]["extras"]["optimal"]


def test_step_env_follows_the_shortest_path_for_full_reward():
    env = gym.make("arena/MazeHardStep-v0", size=10, count=20).unwrapped
    env.reset(seed=0, options={"index": 2})
    solution = env.puzzle_set.label(env.puzzle)
    size, total, done, info = 10, 0.0, False, {}
    visited: set[int] = set()
    while not done:
        r, c = divmod(env._head, size)
        mask = env.action_masks()
        for a, (dr, dc) in enumerate(((-1, 0), (0, -1), (0, 1), (1, 0))):
            rr, cc = r + dr, c + dc
            if mask[a] and solution[rr, cc] in (PATH, GOAL) and (rr * size + cc) not in visited:
                visited.add(rr * size + cc)
                _, reward, done, _, info = env.step(a)
                total += reward
                break
    assert info["optimal"] and total == pytest.approx(2.0)
    env.reset(seed=0, options={"index": 2})
    blocked = int(np.flatnonzero(~env.action_masks())[0]) if not env.action_masks().all() else None
    if blocked is not None:
        _, reward, done, _, info = env.step(blocked)
        assert reward == -1.0 and done and info["reason"] == "illegal move"


def test_an_empty_batch_is_an_empty_list():
    assert verify_batch(np.zeros((0, 10, 10), np.int8), []) == []


@pytest.mark.slow
def test_bundled_split_oracle_scores_everything_and_rows_regenerate(tmp_path):
    from arena_agents.registry import make_agent
    from arena_harness import ResultStore, RunOptions, evaluate

    for split in ("test", "train"):
        ps = make_puzzle_set("arena/MazeHard-v0", split=split)
        assert len(ps.puzzles) == 1000 and ps.source == "maze-hard-synth-v1"
        assert (ps.shortest > 110).all()
        walls = np.array([p.meta["walls"] for p in ps.puzzles]) / 900
        assert 0.35 <= walls.mean() <= 0.41
        seed = maze_data.BASE_SEED * 10 + maze_data.SPLIT_SEED_OFFSET[split]
        for i in (0, 321, 999):
            m = generate(seed, i)
            assert np.array_equal(m.question, ps.arrays.questions[i])
            assert np.array_equal(m.solution, ps.arrays.solutions[i])
    ps = make_puzzle_set("arena/MazeHard-v0", split="test")
    with ResultStore(tmp_path / "r.sqlite") as store:
        oracle = evaluate(ps, make_agent("oracle"), store, RunOptions(progress=False)).summary
        rand = evaluate(ps, make_agent("random"), store, RunOptions(progress=False)).summary
    assert oracle.pass_at_1 == 1.0 and oracle.wrong == 0
    assert rand.pass_at_1 == 0.0 and rand.coverage == 1.0
    sums = (Path(maze_data.__file__).parent / "data" / "SHA256SUMS").read_text()
    for size, bundle in maze_data.BUNDLED.items():
        for split, name in bundle.files.items():
            digest = hashlib.sha256(maze_data.bundled_path(split, size).read_bytes()).hexdigest()
            assert f"{digest}  {name}" in sums


def test_the_scaled_spec_keeps_the_published_settings_and_scales_the_threshold_with_the_side():
    assert MazeSpec.scaled(30) == MazeSpec()  # the bundled 30x30 files are made with it too
    assert MazeSpec.scaled(10) == MazeSpec(10, 30, 50, 37)  # > 110 * 10 / 30 = 36.7 steps
    assert MazeSpec.scaled(15).min_length == 56
    with pytest.raises(ValueError, match="size must be >= 5"):
        MazeSpec.scaled(4)


def test_the_small_maze_generator_is_a_pure_function_of_seed_index_and_size():
    spec = MazeSpec.scaled(10)
    first = [generate(7, i, spec) for i in range(4)]
    again = generate_many(7, 0, 4, spec)
    for a, b in zip(first, again):
        assert np.array_equal(a.question, b.question) and np.array_equal(a.solution, b.solution)
        assert a.length == b.length >= 37 and 30 <= a.walls <= 50
    assert len({m.question.tobytes() for m in first}) == 4  # different indices, different mazes
    other_seed = generate(8, 0, spec)
    assert not np.array_equal(other_seed.question, first[0].question)
    # a file made by several processes is the file made by one
    one = maze_data.bundled_arrays("test", 10, count=3, workers=1)
    two = maze_data.bundled_arrays("test", 10, count=3, workers=2)
    assert np.array_equal(one.questions, two.questions) and one.sources == two.sources


def test_the_bundled_10x10_split_is_the_generator_output():
    ps = make_puzzle_set("arena/MazeHard-v0", size=10, data="bundled")
    assert len(ps.puzzles) == 1000 and ps.source == "maze10-synth-v1"
    assert ps.puzzles[0].id == "maze10-synth-v1/test/000000"
    assert (ps.shortest >= 37).all() and ps.arrays.questions.shape == (1000, 10, 10)
    seed = maze_data.BUNDLED[10].base_seed * 10 + maze_data.SPLIT_SEED_OFFSET["test"]
    for i in (0, 999):
        m = generate(seed, i, MazeSpec.scaled(10))
        assert np.array_equal(m.question, ps.arrays.questions[i])
        assert np.array_equal(m.solution, ps.arrays.solutions[i])
    train = make_puzzle_set("arena/MazeHard-v0", size=10, data="bundled", split="train")
    assert not set(map(bytes, train.arrays.questions)) & set(map(bytes, ps.arrays.questions))
    generated = make_puzzle_set("arena/MazeHard-v0", size=10, count=5)  # generated stays the default
    assert generated.source.startswith("generated:maze10") and (generated.shortest >= 31).all()
    with pytest.raises(Exception, match="bundled sizes are"):
        make_puzzle_set("arena/MazeHard-v0", size=12, data="bundled")


def test_the_all_arrays_fast_path_equals_single_verdicts(small):
    q = np.stack([m.question for m in small])
    labels = np.stack([m.solution for m in small])
    answers = [m.solution if i % 3 else _corrupt(m, "break") for i, m in enumerate(small)]
    answers[4] = other_shortest_path(small[4].question)
    fast = verify_batch(q, answers, labels=labels)
    assert fast == [verify(q[i], answers[i], label=labels[i]) for i in range(len(small))]
    assert sum(v.ok for v in fast) > 20 and any(v.extras["exact_label"] is False for v in fast if v.ok)
