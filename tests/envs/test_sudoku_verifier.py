"""The rule-based Sudoku verifier: right answers pass, every kind of wrong answer fails with its reason."""

from __future__ import annotations

import numpy as np
import pytest

from arena_envs.sudoku.shape import SudokuShape
from arena_envs.sudoku.verifier import verify, verify_batch


@pytest.fixture
def solved(public_rows):
    return public_rows.questions[0].astype(np.int64), public_rows.solutions[0].astype(np.int64)


def test_stored_answers_verify(public_rows):
    for q, a in zip(public_rows.questions, public_rows.solutions):
        v = verify(q, a)
        assert v.ok, v.reason
        assert v.reason == "solved"


def test_one_blank_cell_changed_names_the_unit(solved):
    q, a = solved
    blank = tuple(np.argwhere(q == 0)[0])
    bad = a.copy()
    bad[blank] = bad[blank] % 9 + 1
    v = verify(q, bad)
    assert not v.ok
    r, c = blank
    assert v.reason == f"row {r + 1} has digit {bad[blank]} 2 times"
    kinds = {viol[0] for viol in v.violations}
    assert kinds == {"row", "column", "box"}


def test_overwritten_given_is_named_before_unit_clashes(solved):
    q, a = solved
    given = tuple(np.argwhere(q != 0)[0])
    bad = a.copy()
    bad[given] = bad[given] % 9 + 1
    v = verify(q, bad)
    assert not v.ok
    assert v.reason == f"given at r{given[0] + 1}c{given[1] + 1} changed from {q[given]} to {bad[given]}"
    assert v.violations == (("given", int(given[0]), int(given[1])),)


def test_other_valid_solution_of_an_ambiguous_puzzle_is_accepted(solved):
    _, a = solved
    # Blank out a whole puzzle except one row: many solutions; the stored one and a digit-relabelled one pass.
    q = np.zeros_like(a)
    relabel = np.roll(np.arange(1, 10), 1)
    other = relabel[a - 1]
    assert verify(q, a).ok and verify(q, other).ok
    assert not np.array_equal(a, other)


def test_incomplete_answer(solved):
    q, a = solved
    bad = a.copy()
    bad[4, 4] = 0
    v = verify(q, bad)
    assert not v.ok and v.reason == "incomplete: 1 empty cell(s), first at r5c5"
    v = verify(q, q)  # copy-input
    assert not v.ok and v.reason.startswith(f"incomplete: {(q == 0).sum()} empty cell(s)")


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (np.zeros((9, 8), int), "malformed answer: wrong shape (9, 8), expected (9, 9)"),
        (np.zeros(81, int), "malformed answer: wrong shape (81,), expected (9, 9)"),
        ([[1, 2], [3]], "malformed answer: not a rectangular grid"),
        ("5...27..9", "malformed answer: expected a grid of integers, got str"),
        (np.ones((9, 9), bool), "malformed answer: boolean grid; expected integers"),
    ],
)
def test_malformed_shapes_and_types(solved, answer, reason):
    q, _ = solved
    v = verify(q, answer)
    assert not v.ok
    assert v.reason.startswith(reason)


def test_malformed_values(solved):
    q, a = solved
    nan = a.astype(float)
    nan[2, 3] = np.nan
    assert verify(q, nan).reason == "malformed answer: non-finite value at r3c4"
    frac = a.astype(float)
    frac[0, 0] = 1.5
    assert verify(q, frac).reason == "malformed answer: non-integer value 1.5 at r1c1"
    big = a.copy()
    big[8, 8] = 10
    assert verify(q, big).reason == "malformed answer: value 10 at r9c9 is outside 0..9"
    neg = a.copy()
    neg[0, 1] = -1
    assert verify(q, neg).reason == "malformed answer: value -1 at r1c2 is outside 0..9"
    # integral floats are fine
    assert verify(q, a.astype(float)).ok


def test_none_is_abstention(solved):
    q, _ = solved
    v = verify(q, None)
    assert not v.ok and v.abstained and v.reason == "abstained"


def test_small_sizes():
    shape = SudokuShape.of_size(4)
    sol = np.array([[1, 2, 3, 4], [3, 4, 1, 2], [2, 1, 4, 3], [4, 3, 2, 1]])
    puzzle = sol * (np.arange(16).reshape(4, 4) % 3 == 0)
    assert verify(puzzle, sol, shape).ok
    swapped = sol[:, [1, 0, 2, 3]]  # columns swapped inside a box: still valid rows/cols/boxes
    assert verify(np.zeros((4, 4), int), swapped, shape).ok
    bad = sol.copy()
    bad[0, 0], bad[1, 0] = bad[1, 0], bad[0, 0]  # column stays valid, rows break
    v = verify(np.zeros((4, 4), int), bad, shape)
    assert not v.ok and v.reason.startswith("row 1 has digit")
    sol6 = np.array([[(c + 3 * (r % 2) + (r // 2)) % 6 + 1 for c in range(6)] for r in range(6)])
    assert verify(np.zeros((6, 6), int), sol6).ok


def test_batch_equals_single(public_rows):
    rng = np.random.default_rng(0)
    qs, answers = [], []
    for q, a in zip(public_rows.questions, public_rows.solutions):
        for variant in range(8):
            ans = a.astype(np.int64).copy()
            if variant == 1:
                ans[tuple(np.argwhere(q == 0)[0])] = 1 + ans[tuple(np.argwhere(q == 0)[0])] % 9
            elif variant == 2:
                ans[tuple(np.argwhere(q != 0)[0])] = 1 + ans[tuple(np.argwhere(q != 0)[0])] % 9
            elif variant == 3:
                ans = None
            elif variant == 4:
                ans = ans[:8]
            elif variant == 5:
                ans = rng.integers(0, 10, size=(9, 9))
            elif variant == 6:
                ans = ans.astype(float)
                ans[0, 0] = np.nan
            qs.append(q)
            answers.append(ans)
    batch = verify_batch(np.stack(qs), answers)
    single = [verify(q, a) for q, a in zip(qs, answers)]
    assert batch == single
    assert sum(v.ok for v in batch) == 2 * len(public_rows.questions)  # variants 0 and 7


def test_batch_fast_path_on_stacked_array(public_rows):
    qs = np.repeat(public_rows.questions, 50, axis=0)
    sols = np.repeat(public_rows.solutions, 50, axis=0).astype(np.int64)
    sols[7, 0, 0] = sols[7, 0, 0] % 9 + 1
    verdicts = verify_batch(qs, sols)
    assert [i for i, v in enumerate(verdicts) if not v.ok] == [7]


def test_batch_length_mismatch_is_a_clear_error(public_rows):
    with pytest.raises(ValueError, match="3 puzzles but 2 answers"):
        verify_batch(public_rows.questions, [None, None])


def test_batch_explains_many_kinds_of_failure_exactly_like_single(public_rows):
    """Random fills (many repeated digits), copies (empties), overwritten givens, out-of-range values."""
    rng = np.random.default_rng(7)
    qs, answers = [], []
    for _ in range(60):
        i = int(rng.integers(len(public_rows.questions)))
        q = public_rows.questions[i].astype(np.int64)
        a = public_rows.solutions[i].astype(np.int64)
        kind = rng.integers(5)
        if kind == 0:
            ans = np.where(q == 0, rng.integers(1, 10, size=q.shape), q)
        elif kind == 1:
            ans = q.copy()
        elif kind == 2:
            ans = a.copy()
            ans[q != 0] = rng.integers(1, 10, size=int((q != 0).sum()))
        elif kind == 3:
            ans = a.copy()
            ans[tuple(rng.integers(9, size=2))] = int(rng.choice([-3, 11]))
        else:
            ans = rng.integers(0, 10, size=(9, 9))
        qs.append(q)
        answers.append(ans)
    stacked = np.stack(answers)
    single = [verify(q, a) for q, a in zip(qs, answers)]
    assert verify_batch(np.stack(qs), stacked) == single
    assert verify_batch(np.stack(qs), answers) == single
    assert {v.reason.split()[0] for v in single} >= {"row", "incomplete:", "given", "malformed"}


def test_solved_mask_agrees_with_verdicts(public_rows):
    from arena_envs.sudoku.verifier import solved_mask

    answers = np.repeat(public_rows.solutions, 4, axis=0).astype(np.int64)
    puzzles = np.repeat(public_rows.questions, 4, axis=0)
    answers[1, 0, 0] = answers[1, 0, 0] % 9 + 1
    answers[6] = 0
    answers[9, 3, 3] = 12
    mask = solved_mask(puzzles, answers)
    assert mask.tolist() == [v.ok for v in verify_batch(puzzles, answers)]
    assert mask.sum() == 9
    with pytest.raises(ValueError, match="stacked integer answers"):
        solved_mask(puzzles, answers.astype(float))
