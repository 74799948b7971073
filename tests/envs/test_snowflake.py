"""Snowflake Sudoku: the board's graph, the two solvers, the cvc5 generator, the bundled split, the verifier, the
envs and the renderings."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from arena_envs.config import ConfigError, DataError
from arena_envs.registry import make_puzzle_set
from arena_envs.snowflake import data, generator, verifier
from arena_envs.snowflake.generator import Cvc5Board, generate
from arena_envs.snowflake.render import render_board, snowflake_rgb
from arena_envs.snowflake.solver import count_solutions, random_solution, search
from arena_envs.snowflake.topology import ring_coordinates, snowflake

ENV = "arena/SnowflakeSudoku-v0"
DATA = Path(data.__file__).parent / "data"


# -- the board ---------------------------------------------------------------------------------------------------


def test_ring_layout_and_group_counts_match_the_ldt_papers_boards():
    assert ring_coordinates(8) == ((0, 0), (1, -1), (0, -1), (-1, 0), (-1, 1), (0, 1), (1, 0), (2, -2))
    assert [len(snowflake(n).groups) for n in range(4, 9)] == [6, 8, 10, 13, 14]
    assert [snowflake(n).cells for n in range(4, 9)] == [24, 30, 36, 42, 48]
    # the meeting points of the 4-hexagon board, as listed by the LDT paper's puzzle code
    assert sorted(map(sorted, snowflake(4).groups[4:].tolist())) == [[3, 4, 13, 14, 18, 23], [4, 5, 8, 9, 12, 13]]


def test_groups_are_six_distinct_cells_and_meeting_points_grow_as_a_prefix():
    for n in range(1, 19):
        groups = snowflake(n).groups
        assert groups.shape[1] == 6 and all(len(set(g)) == 6 for g in groups.tolist())
        assert groups[:n].tolist() == [list(range(6 * h, 6 * h + 6)) for h in range(n)]
        assert snowflake(n + 1).groups[n + 1 : n + 1 + len(groups) - n].tolist() == groups[n:].tolist()


def test_the_eighth_hexagon_joins_no_meeting_point():
    board = snowflake(8)
    assert not np.isin(np.arange(42, 48), board.groups[8:]).any()


# -- solvers and generator ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("index", range(6))
def test_generated_puzzles_are_unique_and_minimal_by_both_solvers(index):
    p = generate(5, index)
    board = snowflake(p.hexagons)
    found = search(board, p.question, limit=2)
    assert found.count == 1 and np.array_equal(found.first, p.solution)
    assert np.array_equal(Cvc5Board(board).solve(p.question), p.solution)
    for cell in np.flatnonzero(p.question):  # minimal: every given is needed
        fewer = p.question.copy()
        fewer[cell] = 0
        assert count_solutions(board, fewer) == 2
        assert not Cvc5Board(board).unique(fewer, p.solution)


def test_generation_is_a_pure_function_of_seed_and_index():
    a, b, c = generate(3, 7), generate(3, 7), generate(3, 8)
    assert np.array_equal(a.question, b.question) and np.array_equal(a.solution, b.solution)
    assert not np.array_equal(a.solution[: len(c.solution)], c.solution) or a.hexagons != c.hexagons
    assert 4 <= a.hexagons <= 8 and generate(3, 7, (5, 5)).hexagons == 5


def test_random_solutions_follow_the_generator_state():
    board = snowflake(6)
    x, y = random_solution(board, np.random.default_rng(1)), random_solution(board, np.random.default_rng(1))
    assert np.array_equal(x, y) and verifier.verify(np.zeros(36, np.int8), x).ok


def test_a_split_is_the_same_with_one_worker_or_two(tmp_path):
    args = (3, 11, generator._work, generator.COLUMNS)
    sha1, rows = generator.splitgen.generate_split(tmp_path / "a.csv", *args, workers=1, progress=False)
    sha2, _ = generator.splitgen.generate_split(tmp_path / "b.csv", *args, workers=2, progress=False)
    assert sha1 == sha2 and len(rows) == 3
    assert data.read_csv(tmp_path / "a.csv").questions[0].tolist() == generate(11, 0).question.tolist()


def test_a_killed_split_resumes_from_its_partial_file(tmp_path):
    out = tmp_path / "s.csv"
    partial = out.with_name(out.name + ".partial.jsonl")
    partial.write_text(json.dumps(generator._row(11, 1)) + "\n" + '{"index": 2, "sour')  # a line cut by a kill
    sha, rows = generator.splitgen.generate_split(out, 3, 11, generator._work, generator.COLUMNS, progress=False)
    straight, _ = generator.splitgen.generate_split(
        tmp_path / "t.csv", 3, 11, generator._work, generator.COLUMNS, progress=False
    )
    assert sha == straight and not partial.exists()


# -- the bundled split -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("split", ["test", "train"])
def test_bundled_split_checksum_and_regeneration(split):
    path = data.bundled_path(split)
    sums = dict(line.split()[::-1] for line in (DATA / "SHA256SUMS").read_text().splitlines() if line.strip())
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sums[path.name]
    rows = data.read_csv(path)
    assert len(rows.questions) == 1000 and set(rows.hexagons.tolist()) == {4, 5, 6, 7, 8}
    seed = generator.BASE_SEED + generator.SPLIT_OFFSET[split]
    for i in (0, 1, 500, 999):  # a puzzle is a pure function of (seed, index)
        again = generate(seed, i)
        assert np.array_equal(again.question, rows.questions[i]) and np.array_equal(again.solution, rows.solutions[i])


@pytest.mark.slow
@pytest.mark.parametrize("split", ["test", "train"])
def test_every_bundled_puzzle_has_exactly_the_stored_solution(split):
    rows = data.read_csv(data.bundled_path(split))
    for n, q, a in zip(rows.hexagons, rows.questions, rows.solutions):
        found = search(snowflake(int(n)), q, limit=2)
        assert found.count == 1 and np.array_equal(found.first, a)


def test_the_test_and_train_splits_share_no_puzzle():
    test, train = data.read_csv(data.bundled_path("test")), data.read_csv(data.bundled_path("train"))
    assert not {q.tobytes() for q in test.questions} & {q.tobytes() for q in train.questions}


def test_stats_files_describe_the_bundled_splits():
    for split in ("test", "train"):
        stats = json.loads((DATA / f"{split}.stats.json").read_text())
        path = data.bundled_path(split)
        assert stats["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert stats["count"] == stats["distinct_questions"] == 1000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b\n", "expected CSV header"),
        ("source,hexagons,question,answer\nx,4,123,456\n", "expected 24 characters"),
        ("source,hexagons,question,answer\nx,30,1,1\n", "hexagons must be 1..19"),
        ("source,hexagons,question,answer\nx,1,12345x,123456\n", "characters other than"),
        ("source,hexagons,question,answer\nx,1,2.....,123456\n", "not a solution of the question"),
        ("source,hexagons,question,answer\nx,1,......,123455\n", "hexagon 1 has digit 5 twice"),
    ],
)
def test_bad_csv_rows_get_a_clear_error(text, message):
    import io

    with pytest.raises(DataError, match=message):
        data.read_csv(io.StringIO(text))


def test_loading_options_and_their_errors(tmp_path):
    full = make_puzzle_set(ENV)
    band = make_puzzle_set(ENV, hexagons_min=8, hexagons_max=8)
    assert len(full.puzzles) == 1000 and {p.meta["hexagons"] for p in band.puzzles} == {8}
    assert band.puzzles[0].id == full.puzzles[band.rows[0]].id  # a puzzle keeps its id in a band
    gen = make_puzzle_set(ENV, data="generated", count=5, seed=2)
    assert len(gen.puzzles) == 5 and gen.source == "generated:snowflake:seed=2:count=5"
    with pytest.raises(ConfigError, match="keeps no puzzle"):
        make_puzzle_set(ENV, hexagons_min=12)
    with pytest.raises(DataError, match="not found"):
        make_puzzle_set(ENV, data=str(tmp_path / "missing.csv"))
    with pytest.raises(ConfigError, match="no hub copy"):
        make_puzzle_set(ENV, data="hub")
    p = full.puzzles[0]
    assert p.grid.shape == (6 * p.meta["hexagons"],)
    assert p.meta["groups"] == snowflake(p.meta["hexagons"]).groups.tolist()


# -- the verifier ------------------------------------------------------------------------------------------------


def _case():
    ps = make_puzzle_set(ENV)
    p = ps.puzzles[0]
    return ps, p, ps.label(p).copy()


def test_the_label_verifies_as_a_vector_or_as_rows_of_six():
    ps, p, answer = _case()
    assert ps.verify(p, answer).ok and ps.verify(p, answer.reshape(-1, 6).tolist()).ok


def test_corrupted_answers_fail_with_a_reason_naming_cell_and_group():
    ps, p, answer = _case()
    board = snowflake(p.meta["hexagons"])
    given = int(np.flatnonzero(p.grid)[0])
    changed = answer.copy()
    changed[given] = changed[given] % 6 + 1
    assert ps.verify(p, changed).reason.startswith(f"given at {board.cell_name(given)} changed from")
    blanks = np.flatnonzero(p.grid == 0)
    hexagon = blanks // 6
    a, b = next((x, y) for x in blanks for y in blanks if x < y and x // 6 == y // 6)  # two blanks of one hexagon
    swapped = answer.copy()
    swapped[a] = swapped[b]
    verdict = ps.verify(p, swapped)
    assert not verdict.ok and f"hexagon {a // 6 + 1} has digit {answer[b]} twice" in verdict.reason
    assert board.cell_name(a) in verdict.reason and len(hexagon)
    empty = answer.copy()
    empty[blanks[0]] = 0
    assert ps.verify(p, empty).reason.startswith("incomplete: 1 empty cell(s), first at")


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (None, "abstained"),
        ("123", "expected a grid of integers"),
        ([[1, 2], [3]], "not a rectangular grid"),
        (np.ones(5), "wrong shape (5,)"),
        (np.full(36, 7), "outside 0..6"),
        (np.full(36, 1.5), "non-integer value"),
    ],
)
def test_malformed_answers_are_verdicts(answer, reason):
    ps, p, _ = _case()
    assert reason in ps.verify(p, answer).reason


def test_the_batched_verifier_equals_the_single_path():
    ps = make_puzzle_set(ENV)
    puzzles = ps.puzzles[:40]
    rng = np.random.default_rng(0)
    answers = []
    for i, p in enumerate(puzzles):
        label = ps.label(p).astype(np.int64)
        kind = i % 5
        if kind == 1:
            label[rng.integers(len(label))] = rng.integers(1, 7)
        elif kind == 2:
            label = rng.integers(1, 7, size=len(label))
        elif kind == 3:
            label = None
        elif kind == 4:
            label = label.reshape(-1, 6).tolist()
        answers.append(label)
    assert ps.verify_batch(puzzles, answers) == [ps.verify(p, a) for p, a in zip(puzzles, answers)]


# -- envs and renderings -----------------------------------------------------------------------------------------


def test_answer_mode_takes_a_padded_answer_and_the_step_mode_oracle_walk_scores_two():
    env = gym.make(ENV, max_attempts=2)
    obs, info = env.reset(options={"index": 0})
    u = env.unwrapped
    n = info["hexagons"]
    assert obs["cells"].shape == (48,) and (obs["cells"][6 * n :] == -1).all()
    assert obs["groups"][: len(u.board.groups)].tolist() == u.board.groups.tolist()
    padded = np.zeros(48, np.int8)
    padded[: 6 * n] = u.puzzle_set.label(u.puzzle)
    _, reward, terminated, _, info = env.step({"grid": padded, "abstain": 0})
    assert (reward, terminated, info["verdict"]["ok"]) == (1.0, True, True)

    step = gym.make("arena/SnowflakeSudokuStep-v0", mask_conflicts=True)
    obs, info = step.reset(options={"index": 0})
    label = step.unwrapped.puzzle_set.label(step.unwrapped.puzzle)
    total = 0.0
    for cell in np.flatnonzero(obs["cells"] == 0):
        action = int(cell * 6 + label[cell] - 1)
        assert step.unwrapped.action_masks()[action]
        obs, reward, terminated, _, info = step.step(action)
        total += reward
    assert terminated and info["verdict"]["reason"] == "solved" and total == pytest.approx(2.0)


def test_step_mode_ends_on_a_clash_or_a_padding_slot_with_a_reason():
    env = gym.make("arena/SnowflakeSudokuStep-v0", hexagons_min=4, hexagons_max=4)
    obs, _ = env.reset(seed=0)
    assert env.action_space.n == 24 * 6
    given = int(np.flatnonzero(obs["cells"] > 0)[0])
    _, reward, terminated, _, info = env.step(given * 6)
    assert (reward, terminated) == (-1.0, True) and "is not empty" in info["verdict"]["reason"]
    env = gym.make("arena/SnowflakeSudokuStep-v0")
    obs, info = env.reset(options={"index": 1})
    assert info["hexagons"] < 8
    _, reward, _, _, info = env.step(47 * 6)
    assert reward == -1.0 and "not on this" in info["verdict"]["reason"]


def test_text_and_picture_show_the_board():
    ps, p, answer = _case()
    text = render_board(p.grid)
    assert text.count("\nhexagon ") == p.meta["hexagons"] and "meeting point 1: h1t5 h1t6 h2t3 h2t4 h3t1 h3t2" in text
    picture = snowflake_rgb(answer, p.grid, snowflake(8))
    assert picture.dtype == np.uint8 and picture.shape == snowflake_rgb(p.grid, p.grid, snowflake(8)).shape
    assert picture.shape[0] % 16 == 0 and picture.shape[1] % 16 == 0
    env = gym.make(ENV, render_mode="rgb_array")
    env.reset(seed=3)
    first = env.render().shape
    env.reset(seed=4)
    assert env.render().shape == first
