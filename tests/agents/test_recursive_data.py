"""Sudoku augmentation keeps puzzles valid and inverts exactly; the slot sampler is a pure function of its key."""

from __future__ import annotations

import numpy as np
import pytest

from arena_agents.recursive.data import SlotSampler, SudokuCodec, TrainingArrays, random_symmetry
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


def test_inverse_undoes_every_symmetry(public_rows):
    rng = np.random.default_rng(3)
    a = public_rows.solutions[:3]
    for _ in range(50):
        sym = random_symmetry(SudokuShape.of_size(9), rng)
        assert np.array_equal(sym.invert(sym.apply(a)), a)


def _sampler(public_rows, **kw):
    data = TrainingArrays(public_rows.questions, public_rows.solutions, SudokuCodec(9))
    return SlotSampler(data, **{"seed": 1, "augment": True, "explore_prob": 0.5, "max_steps": 16, **kw})


def test_slot_samples_are_pure_functions_of_seed_slot_and_refill(public_rows):
    a, b, other_seed = _sampler(public_rows), _sampler(public_rows), _sampler(public_rows, seed=2)
    x, y = a.draw(5, 3), b.draw(5, 3)
    assert x.inputs.shape == x.labels.shape == (81,) and x.inputs.dtype == np.int64
    assert np.array_equal(x.inputs, y.inputs) and np.array_equal(x.labels, y.labels) and x.min_steps == y.min_steps
    assert not np.array_equal(x.inputs, a.draw(5, 4).inputs)
    assert not np.array_equal(x.inputs, a.draw(6, 3).inputs)
    assert not np.array_equal(x.inputs, other_seed.draw(5, 3).inputs)
    draws = [a.draw(slot, 0) for slot in range(200)]
    for d in draws[:20]:
        assert verify(tokens_to_grids(d.inputs), tokens_to_grids(d.labels)).ok
    explored = [d.min_steps for d in draws if d.min_steps]
    assert 60 < len(explored) < 140 and min(explored) >= 2 and max(explored) <= 16
    plain = _sampler(public_rows, augment=False, explore_prob=0.0).draw(0, 0)
    assert plain.min_steps == 0
    assert any(np.array_equal(tokens_to_grids(plain.inputs), q) for q in public_rows.questions)


def test_maze_codec_and_dihedral_inverse():
    from arena_agents.recursive.data import MazeCodec
    from arena_envs.maze.verifier import verify as verify_maze

    ps = make_puzzle_set("arena/MazeHard-v0", size=10, count=3)
    codec = MazeCodec(10)
    q, a = ps.arrays.questions[0], ps.arrays.solutions[0]
    assert codec.encode(q[None]).shape == (1, 100) and np.array_equal(codec.decode(codec.encode(q[None]))[0], q)
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(40):
        t = codec.random_transform(rng)
        seen.add((t.rotations, t.flip))
        assert np.array_equal(t.invert(t.apply(a)), a)
        assert verify_maze(t.apply(q), t.apply(a)).ok  # a symmetry of a shortest path is a shortest path
    assert len(seen) == 8 and not codec.augment_by_default
