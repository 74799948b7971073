"""Generator v2 (tdoku-rated hard Sudoku): reproducible, unique solutions, honest ratings, resumable splits."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest

from arena_envs.sudoku import generator, generator_v2, solver, tdoku
from arena_envs.sudoku.generator_v2 import HardSearch, Transform

SMALL = HardSearch(max_steps=400)  # a short climb: the same code path in a fraction of a second


@pytest.fixture
def small_budget(monkeypatch):
    monkeypatch.setattr(generator_v2, "DEFAULT", SMALL)


def test_transforms_are_symmetries_of_the_board():
    rng = np.random.default_rng(0)
    puzzle = generator_v2.generate(3, 0, SMALL)
    flat_q, flat_a = puzzle.question.ravel(), puzzle.solution.ravel()
    assert np.array_equal(Transform.identity().apply(flat_q), flat_q)
    for _ in range(20):
        t = Transform.random(rng)
        assert sorted(t.cells.tolist()) == list(range(81)) and t.digits[0] == 0
        q, a = t.apply(flat_q).reshape(9, 9), t.apply(flat_a).reshape(9, 9)
        assert ((q == 0) == (puzzle.question.ravel()[t.cells].reshape(9, 9) == 0)).all()  # blanks stay blank
        assert solver.count_solutions(q) == 1
        sol, _, found = solver.solve_batch(q[None])
        assert found[0] and np.array_equal(sol[0], a)  # the transformed answer is the transformed puzzle's


def test_same_arguments_same_puzzle_and_indices_are_independent():
    a, b = generator_v2.generate(11, 4, SMALL), generator_v2.generate(11, 4, SMALL)
    for field in ("question", "solution"):
        assert np.array_equal(getattr(a, field), getattr(b, field))
    assert (a.rating, a.objective, a.kind, a.steps) == (b.rating, b.objective, b.kind, b.steps)
    later = [generator_v2.generate(11, i, SMALL) for i in range(3, 6)]
    assert np.array_equal(later[1].question, a.question)  # index 4 does not depend on what ran before
    assert not np.array_equal(later[0].question, a.question)
    # v2's streams differ from v1's for the same (seed, index)
    assert not np.array_equal(generator.generate(11, 4).solution, a.solution)


def test_every_puzzle_is_unique_and_its_rating_is_tdokus_rating_of_the_stored_string():
    made = [generator_v2.generate(21, i, SMALL) for i in range(12)]
    assert {p.kind for p in made} == {"easy", "hard"}
    for p in made:
        assert solver.count_solutions(p.question) == 1 and tdoku.count_solutions(p.question) == 1
        sol, _, found = solver.solve_batch(p.question[None])
        assert found[0] and np.array_equal(sol[0], p.solution)
        assert (p.question[p.question > 0] == p.solution[p.question > 0]).all()
        assert p.rating == tdoku.rating(p.question)
        clues = int((p.question > 0).sum())
        assert SMALL.min_clues <= clues <= SMALL.max_clues
        if p.kind == "easy":
            assert p.rating <= SMALL.easy_max_rating and p.steps >= 0
        else:
            assert p.steps <= SMALL.max_steps and p.target >= SMALL.target_base


def test_the_climb_raises_tdokus_rating():
    """Even a quarter of the bundled budget lifts hard puzzles far above random minimal ones (rating about 0-1)."""
    quarter = HardSearch(max_steps=3000)
    hard = [p for p in (generator_v2.generate(5, i, quarter) for i in range(4)) if p.kind == "hard"]
    assert len(hard) >= 2
    objective = np.mean([p.objective for p in hard])
    assert objective >= 8, [p.objective for p in hard]
    rng = np.random.default_rng(1)
    minimal = []
    for _ in range(12):  # random minimal puzzles, the climb's starting points
        judge = generator_v2._Judge(generator_v2._random_solution(rng))
        clues = generator_v2._reduce(judge, np.ones(81, bool), rng, floor=17)
        minimal.append(tdoku.rating(judge.grid(clues).reshape(9, 9)))
    assert np.mean(minimal) < objective / 3


def test_split_file_is_resumable_and_has_the_v2_sources(tmp_path, small_budget):
    out = tmp_path / "s.csv"
    partial = tmp_path / "s.csv.partial.jsonl"
    row1 = generator_v2._row(77, 1)
    partial.write_text(json.dumps(row1) + "\n" + '{"index": 2, "sour')  # killed while writing index 2
    work = functools.partial(generator_v2._work_in, generator_v2.PROFILE)  # what the command line passes
    sha, rows = generator.generate_split(out, 3, 77, workers=1, progress=False, work=work)
    assert not partial.exists() and rows[1] == row1
    sha2, _ = generator.generate_split(tmp_path / "t.csv", 3, 77, workers=1, progress=False, work=work)
    assert sha == sha2
    assert out.read_text().splitlines()[0] == "source,question,answer,rating"
    assert all(r["source"].startswith("arena-synth-v2/") for r in rows)
    stats = generator.split_stats(out, sha, rows, 77, profile=generator_v2.PROFILE)
    assert stats["count"] == stats["distinct_questions"] == 3 and stats["profile"] == "sudoku-extreme-synth-v2"


def test_six_by_six_profile_climbs_on_tdokus_6x6_scale():
    """The CPU tier's profile: 2x3 boxes (no transpose), every puzzle climbed, unique, rated by tdoku on 6x6."""
    recipe = generator_v2.PROFILES["sudoku6-synth-v1"].search
    assert recipe is not None and recipe.shape.size == 6
    short = HardSearch(**{**recipe.__dict__, "max_steps": 300})
    rng = np.random.default_rng(3)
    made = [generator_v2.generate(8, i, short) for i in range(6)]
    again = generator_v2.generate(8, 2, short)
    assert np.array_equal(again.question, made[2].question) and again.rating == made[2].rating
    for p in made:
        assert p.kind == "hard" and p.question.shape == (6, 6)
        assert solver.count_solutions(p.question, 2, 2, 3) == 1
        assert p.rating == tdoku.rating(p.question, 2, 3)
        t = Transform.random(rng, recipe.shape)
        moved = t.apply(p.question.ravel()).reshape(6, 6)
        assert solver.count_solutions(moved, 2, 2, 3) == 1  # a 2x3-box symmetry keeps the puzzle a valid, unique one
