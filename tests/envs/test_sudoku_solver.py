"""The DPLL solver: valid solutions, solution counting, budget, rating on the public rows, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from arena_envs.sudoku import solver
from arena_envs.sudoku.verifier import verify

# Ratings our solver gives the three public rows (stored tdoku ratings: 18, 1, 60); see README.
OUR_RATINGS = [164, 2, 52]


def test_solutions_are_valid_and_match_the_stored_answers(public_rows):
    for q, a in zip(public_rows.questions, public_rows.solutions):
        res = solver.solve(q)
        assert res.solution is not None and not res.exhausted and not res.unsolvable
        assert verify(q, res.solution).ok
        np.testing.assert_array_equal(res.solution, a)


def test_rating_of_public_rows(public_rows):
    assert [solver.rating(q) for q in public_rows.questions] == OUR_RATINGS
    np.testing.assert_array_equal(solver.rating_batch(public_rows.questions), OUR_RATINGS)
    # the easy row stays easy and the hardest-list rows are hard on both scales
    assert public_rows.ratings.tolist() == [18, 1, 60]


def test_count_solutions(public_rows):
    q = public_rows.questions[0].copy()
    assert solver.count_solutions(q) == 1
    givens = np.argwhere(q != 0)
    # removing some given of a minimal-ish puzzle makes it ambiguous
    counts = []
    for r, c in givens:
        loose = q.copy()
        loose[r, c] = 0
        counts.append(solver.count_solutions(loose, limit=2))
    assert 2 in counts and set(counts) <= {1, 2}
    assert solver.count_solutions(np.zeros((4, 4), np.int8), limit=50, box_rows=2, box_cols=2) == 50
    assert solver.count_solutions(np.zeros((4, 4), np.int8), limit=1000, box_rows=2, box_cols=2) == 288


def test_contradictory_grid_has_no_solution():
    # No given repeats, yet row 4 has no place for a 1: columns 1, 3 and 4 hold a 1 and r4c2 holds a 2.
    grid = np.array([[0, 0, 1, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 2, 0, 0]])
    assert solver.count_solutions(grid, 2, 2, 2) == 0
    res = solver.solve(grid, 2, 2)
    assert res.unsolvable and res.solution is None and not res.exhausted


def test_budget_exhaustion(public_rows):
    res = solver.solve(public_rows.questions[0], max_nodes=5)
    assert res.exhausted and res.solution is None and not res.unsolvable and res.nodes == 5
    assert not solver.solve(public_rows.questions[1], max_nodes=50).exhausted


def test_seeded_search_is_reproducible():
    empty = np.zeros((9, 9), np.int8)
    a = solver.solve(empty, seed=3).solution
    b = solver.solve(empty, seed=3).solution
    c = solver.solve(empty, seed=4).solution
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert verify(empty, a).ok and verify(empty, c).ok


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        (np.zeros((9, 8), np.int8), "expected a 9x9 grid"),
        (np.zeros((9, 9)), "expected an integer grid"),
        (np.full((9, 9), 10), "values must lie in 0..9"),
        (np.eye(9, dtype=np.int8) * 0 + np.pad([[5, 5]], ((0, 8), (0, 7))), "repeat a digit in row 1"),
    ],
)
def test_malformed_input_raises_value_error(grid, message):
    with pytest.raises(ValueError, match=message):
        solver.solve(grid)


def test_solve_batch(public_rows):
    sols, guesses, found = solver.solve_batch(public_rows.questions)
    assert found.all()
    np.testing.assert_array_equal(sols, public_rows.solutions)
    assert guesses.tolist() == OUR_RATINGS
