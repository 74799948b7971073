"""LDT on Snowflake Sudoku: the lattice codec (boards of several sizes in one layout of hexagon rows), the meeting
points as learned group embeddings, and a run that trains, saves, loads and answers through the harness."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from arena_agents.recursive.lattice import DigitRelabel, SnowflakeLattice, codec_shape  # noqa: E402
from arena_agents.recursive.ldt import LDT, LDTConfig  # noqa: E402
from arena_agents.recursive.ldt_train import train  # noqa: E402
from arena_agents.recursive.presets import PRESETS  # noqa: E402
from arena_agents.registry import make_agent  # noqa: E402
from arena_envs.config import ConfigError  # noqa: E402
from arena_envs.registry import make_puzzle_set  # noqa: E402
from arena_envs.snowflake.topology import snowflake  # noqa: E402

ENV = "arena/SnowflakeSudoku-v0"


def test_the_codec_pads_smaller_boards_and_decodes_the_solution_back():
    ps = make_puzzle_set(ENV)
    codec = SnowflakeLattice(*[codec_shape(ps.puzzles)[0]])
    assert codec.grid_shape == (8, 6) and codec.channels == 7
    p = next(q for q in ps.puzzles if q.meta["hexagons"] == 5)
    grid, label = codec.fit(p.grid), codec.fit(ps.label(p))
    assert grid.shape == (8, 6) and (grid.ravel()[30:] == -1).all()
    lattice = codec.initial(grid[None])[0]  # [48, 7]
    blank, given = int(np.flatnonzero(p.grid == 0)[0]), int(np.flatnonzero(p.grid)[0])
    assert lattice[blank].tolist() == [True] * 6 + [False]
    assert lattice[given].sum() == 1 and lattice[given, p.grid[given] - 1]
    assert (lattice[30:, 6]).all() and lattice[30:].sum() == 18  # padding: the given "no such cell" bit
    assert codec.givens(grid[None])[0].tolist() == [bool(v) for v in p.grid] + [True] * 18
    solved = codec.decode(codec.solutions(grid, label, 1, np.random.default_rng(0)))[0]
    assert np.array_equal(codec.answer(solved, p.grid), ps.label(p)) and ps.verify(p, codec.answer(solved, p.grid)).ok
    with pytest.raises(ValueError, match="does not fit"):
        SnowflakeLattice(4).fit(p.grid)


def test_digit_relabelling_keeps_blanks_and_padding():
    relabel = DigitRelabel(np.array([0, 3, 1, 2, 6, 4, 5]))
    grid = np.array([[0, 1, 2, 3, 4, -1]])
    assert relabel.apply(grid).tolist() == [[0, 3, 1, 2, 6, -1]]
    assert np.array_equal(relabel.invert(relabel.apply(grid)), grid)


def test_meeting_points_become_group_embeddings_shared_by_their_cells():
    codec = SnowflakeLattice(5)
    groups = codec.extra_groups()
    assert groups == tuple(tuple(g) for g in snowflake(5).groups[5:].tolist())
    config = LDTConfig(channels=7, grid=5, cols=6, dim=32, layers=1, loops=2, groups=groups)
    torch.manual_seed(0)
    model = LDT(config)
    plain = LDT(LDTConfig(channels=7, grid=5, cols=6, dim=32, layers=1, loops=2))
    assert model.size() - plain.size() == len(groups) * 32
    base = (model.row_embed[:, None] + model.col_embed[None]).reshape(30, -1)  # hexagon + triangle
    member = model.group_member  # [30, 3]: a cell is in up to 2 meeting points (the two outer corners of its triangle)
    assert member.sum(0).tolist() == [6.0] * len(groups) and member.sum(1).max() == 2
    assert torch.allclose(model._positions() - base, member @ model.group_embed, atol=1e-5)  # up to rounding
    out = model(torch.from_numpy(codec.initial(codec.fit(np.zeros(24, np.int8))[None])).float())
    assert out.keep.shape == (1, 1, 30, 7) and out.conflict.shape == (1, 1)
    with pytest.raises(ValueError, match="outside the 30 cells"):
        LDTConfig(channels=7, grid=5, cols=6, groups=((0, 99),))


def test_a_snowflake_run_trains_saves_loads_and_answers_through_the_harness(tmp_path):
    preset = PRESETS["ldt-snowflake4-cpu"]
    overrides = {"steps": 2, "eval_every": 2, "eval_limit": 2, "eval_chains": 2, "eval_max_rounds": 2}
    config = preset.config(overrides, env_options={"data": "bundled", "hexagons_min": None, "hexagons_max": None})
    train(config, tmp_path / "run")
    agent = make_agent(f"ldt:{tmp_path / 'run'},chains=2,max_rounds=2")
    ps = make_puzzle_set(ENV)
    picked = [next(p for p in ps.puzzles if p.meta["hexagons"] == n) for n in (4, 8)]
    for p, (candidate,) in zip(picked, agent.act(picked, 1)):
        assert candidate.answer is None or np.asarray(candidate.answer).shape == p.grid.shape
        assert candidate.cost.steps >= 1
    assert agent.metadata["grid_shape"] == [8, 6]
    with pytest.raises(ConfigError, match="trained on snowflake"):
        agent.act(make_puzzle_set("arena/SudokuExtreme-v0", size=4, count=1).puzzles, 1)
