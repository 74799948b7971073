"""Loading the original CSV schema, the bundled split, tokens and rendering."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import pytest

from arena_envs.config import ConfigError, DataError
from arena_envs.registry import make_puzzle_set
from arena_envs.sudoku import data, tokens
from arena_envs.sudoku.render import render_board
from arena_envs.sudoku.solver import count_solutions

V1, V2 = "sudoku-extreme-synth-v1", "sudoku-extreme-synth-v2"
OPTION = {V1: "bundled-v1", V2: "bundled-v2"}  # the data option that loads each version


def assert_listed_checksum(path: Path) -> None:
    """The file's sha256 is the one its folder's SHA256SUMS lists."""
    sums = dict(line.split()[::-1] for line in (path.parent / "SHA256SUMS").read_text().splitlines() if line.strip())
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sums[path.name]


def require_bundled(split: str, version: str = data.BUNDLED_VERSION) -> None:
    """The train split is generated in a later step than the code (see the data README)."""
    if not data.bundled_path(split, version).exists():
        pytest.skip(f"bundled {version} {split} split not generated yet (see envs/arena_envs/sudoku/data/README.md)")


def test_public_rows_load_exactly(public_rows, public_csv):
    assert public_rows.sources == (
        "puzzles4_forum_hardest_1905",
        "puzzles1_unbiased",
        "puzzles4_forum_hardest_1905",
    )
    assert public_rows.ratings.tolist() == [18, 1, 60]
    first = public_csv.read_text().splitlines()[1].split(",")
    assert data.grid_to_string(public_rows.questions[0]) == first[1]
    assert data.grid_to_string(public_rows.solutions[0]) == first[2]
    assert public_rows.questions.dtype == np.int8 and public_rows.questions.shape == (3, 9, 9)


def test_csv_path_as_env_data(public_csv):
    ps = make_puzzle_set("arena/SudokuExtreme-v0", data=str(public_csv))
    assert len(ps.puzzles) == 3 and ps.source == "original:sudoku_extreme_public_rows.csv"
    assert ps.puzzles[1].id == "sudoku-extreme/test/000001"
    third = public_csv.read_text().splitlines()[3].split(",")[1]
    assert ps.puzzles[2].meta["rating"] == 60 and ps.puzzles[2].meta["clues"] == 81 - third.count(".")
    assert all(ps.verify(p, ps.label(p)).ok for p in ps.puzzles)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b,c,d\n", "expected CSV header"),
        ("source,question,answer,rating\nx,123,456,1\n", "expected 81 characters"),
        ("source,question,answer,rating\nx," + "x" * 81 + "," + "1" * 81 + ",1\n", "characters other than"),
        ("source,question,answer,rating\nx," + "." * 81 + "," + "1" * 81 + ",hard\n", "is not an integer"),
        (
            "source,question,answer,rating\nx," + "2" + "." * 80 + "," + "1" * 81 + ",1\n",
            "contradicts a given",
        ),
    ],
)
def test_bad_csv_gets_a_clear_error(text, message):
    with pytest.raises(DataError, match=message):
        data.read_csv(io.StringIO(text))


def test_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(DataError, match="not found; pass the path"):
        make_puzzle_set("arena/SudokuExtreme-v0", data=str(tmp_path / "nope.csv"))
    with pytest.raises(ConfigError, match=r"exists for 6x6, 9x9 boards; for size=4 use data=.generated."):
        make_puzzle_set("arena/SudokuExtreme-v0", size=4, data="bundled")
    with pytest.raises(ConfigError, match=r"data='bundled-v2' exists for 9x9 boards"):
        make_puzzle_set("arena/SudokuExtreme-v0", size=6, data="bundled-v2")


@pytest.mark.parametrize("version", [V1, V2])
@pytest.mark.parametrize("split", ["test", "train"])
def test_bundled_split_matches_its_checksum_and_statistics(split, version):
    from arena_envs.sudoku import tdoku

    require_bundled(split, version)
    path = data.bundled_path(split, version)
    assert_listed_checksum(path)
    ps = make_puzzle_set("arena/SudokuExtreme-v0", split=split, data=OPTION[version])
    assert ps.source == version and ps.puzzles[0].id == f"{version}/{split}/000000"
    arr = ps.arrays
    assert len(arr.questions) == 1000
    clues = (arr.questions != 0).reshape(1000, -1).sum(axis=1)
    assert clues.min() >= 17 and clues.max() <= 36
    assert all(s.startswith(f"arena-synth-{version[-2:]}/") for s in arr.sources)
    if version == V1:  # rated by the simpler solver; on tdoku's scale v1 averages about 3
        assert arr.ratings.mean() >= 20
        assert 0.15 <= (arr.ratings <= 2).mean() <= 0.4
    else:  # rated on tdoku's scale, the scale of the original's column: mean about 22, about 25% rated 0-2
        np.testing.assert_array_equal(tdoku.rating_batch(arr.questions), arr.ratings)
        assert arr.ratings.mean() >= 18
        assert 0.2 <= (arr.ratings <= 2).mean() <= 0.3


def test_bundled_splits_do_not_overlap_and_are_unique():
    seen: dict[bytes, str] = {}
    for version in (V1, V2):
        for split in ("test", "train"):
            require_bundled(split, version)
            questions = make_puzzle_set("arena/SudokuExtreme-v0", split=split, data=OPTION[version]).arrays.questions
            for q in questions:
                where = f"{version}/{split}"
                assert seen.setdefault(q.tobytes(), where) == where, (
                    f"a puzzle of {where} is also in {seen[q.tobytes()]}"
                )
            assert len({q.tobytes() for q in questions}) == len(questions)
            for q in questions[:25]:
                assert count_solutions(q) == 1


def test_fingerprint_identifies_content(public_csv, tmp_path):
    a = make_puzzle_set("arena/SudokuExtreme-v0", data=str(public_csv))
    copy = tmp_path / "copy.csv"
    lines = public_csv.read_text().splitlines()
    copy.write_text("\n".join(lines) + "\n")
    assert make_puzzle_set("arena/SudokuExtreme-v0", data=str(copy)).fingerprint == a.fingerprint
    swapped = [lines[0], lines[2], lines[1], lines[3]]
    copy.write_text("\n".join(swapped) + "\n")
    assert make_puzzle_set("arena/SudokuExtreme-v0", data=str(copy)).fingerprint != a.fingerprint


def test_tokens_round_trip(public_rows):
    t = tokens.grids_to_tokens(public_rows.questions)
    assert t.shape == (3, 81) and t.min() >= 1 and t.max() <= 10 and tokens.vocab_size(9) == 11
    assert (t[public_rows.questions.reshape(3, 81) == 0] == tokens.BLANK).all()
    np.testing.assert_array_equal(tokens.tokens_to_grids(t), public_rows.questions)
    np.testing.assert_array_equal(
        tokens.tokens_to_grids(tokens.grids_to_tokens(public_rows.solutions)), public_rows.solutions
    )
    with pytest.raises(ValueError, match="expected 81 tokens"):
        tokens.tokens_to_grids(np.zeros((2, 80), int))


def test_render_has_coordinates(public_rows):
    text = render_board(public_rows.questions[0])
    lines = text.splitlines()
    assert lines[0].split() == [str(i) for i in range(1, 10)]
    assert lines[2].startswith("  1 | 5 . . | . 2 7 | . . 9 |")
    assert len(lines) == 1 + 9 + 4


def test_generated_sets_are_seeded():
    a = make_puzzle_set("arena/SudokuExtreme-v0", size=4, count=30, seed=1)
    b = make_puzzle_set("arena/SudokuExtreme-v0", size=4, count=30, seed=1, split="train")
    c = make_puzzle_set("arena/SudokuExtreme-v0", size=4, count=30, seed=2)
    assert a.fingerprint != b.fingerprint != c.fingerprint
    assert a.fingerprint == make_puzzle_set("arena/SudokuExtreme-v0", size=4, count=30, seed=1).fingerprint
    assert Path(data.bundled_path("test")).name == "sudoku_extreme_synth_v1_test.csv"  # the default until v2's train
    assert Path(data.bundled_path("test", V2)).name == "sudoku_extreme_synth_v2_test.csv"
    default = make_puzzle_set("arena/SudokuExtreme-v0", split="test")
    assert default.fingerprint == make_puzzle_set("arena/SudokuExtreme-v0", split="test", data="bundled-v1").fingerprint
    with pytest.raises(DataError, match="no bundled Sudoku version"):
        data.bundled_path("test", "sudoku-extreme-synth-v9")


@pytest.mark.parametrize("version", [V1, V2])
@pytest.mark.parametrize("split", ["test", "train"])
def test_every_bundled_puzzle_is_solved_by_the_oracle_and_its_label_verifies(split, version):
    """Every puzzle has exactly one solution (proved by the simpler solver, independently of the generator's tdoku
    search), the stored answer is it, and the verifier accepts it."""
    from arena_envs.sudoku.solver import solve_batch

    require_bundled(split, version)
    ps = make_puzzle_set("arena/SudokuExtreme-v0", split=split, data=OPTION[version])
    q, a = ps.arrays.questions, ps.arrays.solutions
    assert all(v.ok for v in ps.verify_batch(ps.puzzles, list(a.astype(np.int64))))
    sols, guesses, found = solve_batch(q)
    assert found.all()
    np.testing.assert_array_equal(sols, a)  # the oracle finds the stored solution
    if version == V1:
        np.testing.assert_array_equal(guesses, ps.arrays.ratings)  # v1's stored ratings are this solver's
    else:
        assert all(count_solutions(grid) == 1 for grid in q)


@pytest.mark.slow
@pytest.mark.parametrize("version", [V1, V2])
def test_bundled_rows_regenerate_bit_for_bit(version):
    """A sample of rows (easy and hard) from each split equals what the generator makes for its index."""
    import csv as csv_mod

    from arena_envs.sudoku import generator, generator_v2

    gen = generator if version == V1 else generator_v2
    for split in ("test", "train"):
        require_bundled(split, version)
        with data.bundled_path(split, version).open(newline="") as fh:
            rows = list(csv_mod.DictReader(fh))
        easy = [i for i, r in enumerate(rows) if r["source"].endswith("easy")][:2]
        hard = [i for i, r in enumerate(rows) if r["source"].endswith("hard")][:1]
        for i in easy + hard:
            g = gen.generate(gen.BASE_SEED + gen.SPLIT_OFFSET[split], i)
            assert data.grid_to_string(g.question) == rows[i]["question"]
            assert data.grid_to_string(g.solution) == rows[i]["answer"]
            assert (g.rating, f"arena-synth-{version[-2:]}/{g.kind}") == (int(rows[i]["rating"]), rows[i]["source"])


def test_hub_without_huggingface_hub_says_what_to_do(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_hub(name, *args, **kwargs):
        if name.startswith("huggingface_hub"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_hub)
    with pytest.raises(DataError, match=r"needs the huggingface_hub package.*or download train\.csv/test\.csv"):
        make_puzzle_set("arena/SudokuExtreme-v0", data="hub")


S6 = "sudoku6-synth-v1"


@pytest.mark.parametrize("split", ["test", "train"])
def test_the_6x6_cpu_tier_split_is_hard_unique_and_regenerates(split):
    """The CPU tier's bundled 6x6 boards: checksum, unique solutions, tdoku's 6x6 ratings stored, harder than the
    generated default (tdoku mean about 0.65), and sampled rows equal what the generator makes."""
    from arena_envs.sudoku import generator_v2, tdoku

    require_bundled(split, S6)
    path = data.bundled_path(split, S6)
    assert_listed_checksum(path)
    ps = make_puzzle_set("arena/SudokuExtreme-v0", split=split, size=6, data="bundled")
    assert ps.source == S6 and ps.puzzles[0].id == f"{S6}/{split}/000000"
    q, a = ps.arrays.questions, ps.arrays.solutions
    assert q.shape[1:] == (6, 6) and len({g.tobytes() for g in q}) == len(q)
    assert all(count_solutions(g, 2, 2, 3) == 1 for g in q)
    assert all(v.ok for v in ps.verify_batch(ps.puzzles, list(a.astype(np.int64))))
    np.testing.assert_array_equal(tdoku.rating_batch(q, 2, 3), ps.arrays.ratings)
    assert ps.arrays.ratings.mean() >= 1.8 and all(s == "arena-sudoku6-v1/hard" for s in ps.arrays.sources)
    if split == "train":  # no test board is a training board
        test = make_puzzle_set("arena/SudokuExtreme-v0", split="test", size=6, data="bundled").arrays.questions
        assert not {g.tobytes() for g in test} & {g.tobytes() for g in q}
    recipe = generator_v2.PROFILES[S6]
    for i in (0, len(q) - 1):
        g = generator_v2.generate(recipe.base_seed + generator_v2.SPLIT_OFFSET[split], i, recipe.search)
        assert np.array_equal(g.question, q[i]) and np.array_equal(g.solution, a[i])
