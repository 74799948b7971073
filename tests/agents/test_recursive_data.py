"""Sudoku augmentation keeps puzzles valid; the stream is seeded and sized as asked."""

from __future__ import annotations

import numpy as np
import pytest

from arena_agents.recursive.data import random_symmetry, sudoku_stream
from arena_envs.registry import make_puzzle_set
from arena_envs.sudoku.shape import SudokuShape
from arena_envs.sudoku.solver import count_solutions
from arena_envs.sudoku.tokens import tokens_to_grids
from arena_envs.sudoku.verifier import verify


@pytest.mark.parametrize("size", [4, 6, 9])
def test_every_symmetry_maps_a_puzzle_and_its_solution_to_a_puzzle_and_its_solution(size, public_rows):
    if size == 9:
        q, a = public_rows.questions[0], public_rows.solutions[0]
    else:
        ps = make_puzzle_set("arena/SudokuExtreme-v0", size=size, count=3)
        q, a = ps.arrays.questions[0], ps.arrays.solutions[0]
    shape = SudokuShape.of_size(size)
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(30):
        sym = random_symmetry(shape, rng)
        tq, ta = sym.apply(q), sym.apply(a)
        assert verify(tq, ta, shape).ok
        assert (tq != 0).sum() == (q != 0).sum()
        assert count_solutions(tq, 2, shape.box_rows, shape.box_cols) == 1
        seen.add(tq.tobytes())
        if size == 6:
            assert not sym.transpose  # 2x3 boxes are not square: transposing would break them
    assert len(seen) > 25


def test_stream_is_seeded_and_shaped(public_rows):
    a = sudoku_stream(public_rows.questions, public_rows.solutions, seed=1, batch_size=4)
    b = sudoku_stream(public_rows.questions, public_rows.solutions, seed=1, batch_size=4)
    c = sudoku_stream(public_rows.questions, public_rows.solutions, seed=1, batch_size=4, rank=1, world_size=2)
    xa, ya = next(a)
    xb, yb = next(b)
    xc, _ = next(c)
    assert xa.shape == ya.shape == (4, 81) and xa.dtype == np.int64
    assert np.array_equal(xa, xb) and np.array_equal(ya, yb)
    assert not np.array_equal(xa, xc)
    for x, y in zip(tokens_to_grids(xa), tokens_to_grids(ya)):
        assert verify(x, y).ok
