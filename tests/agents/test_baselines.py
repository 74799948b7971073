"""Baseline agents through the protocol: deterministic under their seed, specs parsed strictly."""

from __future__ import annotations

import numpy as np
import pytest

from arena_agents.registry import AGENTS, make_agent, parse_spec
from arena_envs.config import ConfigError
from arena_envs.protocol import Agent, config_hash
from arena_envs.registry import make_puzzle_set


@pytest.fixture(scope="module")
def puzzles():
    return make_puzzle_set("arena/SudokuExtreme-v0", size=4, count=20, seed=9)


@pytest.mark.parametrize("name", sorted(n for n, e in AGENTS.items() if e.kind == "baseline"))
def test_every_agent_speaks_the_protocol(name, puzzles):
    agent = make_agent(name)
    assert isinstance(agent, Agent)
    if name == "programs":  # an ARC-only baseline
        puzzles = make_puzzle_set("arena/ARC-AGI-1-v0", split="training")
    out = agent.act(puzzles.puzzles[:5], 3)
    assert len(out) == 5 and all(len(row) == 3 for row in out)
    again = make_agent(name).act(puzzles.puzzles[:5], 3)
    for row_a, row_b in zip(out, again):
        for a, b in zip(row_a, row_b):
            assert (a.answer is None and b.answer is None) or np.array_equal(a.answer, b.answer)


def test_oracle_answers_verify(puzzles):
    for p, row in zip(puzzles.puzzles, make_agent("oracle").act(puzzles.puzzles, 1)):
        assert puzzles.verify(p, row[0].answer).ok and row[0].q == 1.0


def test_random_keeps_givens_and_differs_by_sample(puzzles):
    rows = make_agent("random:seed=1").act(puzzles.puzzles[:3], 4)
    for p, row in zip(puzzles.puzzles[:3], rows):
        for c in row:
            given = p.grid != 0
            assert (c.answer[given] == p.grid[given]).all() and (c.answer >= 1).all()
        assert len({c.answer.tobytes() for c in row}) > 1


def test_budgeted_abstains_on_hard_and_answers_easy():
    hard = make_puzzle_set("arena/SudokuExtreme-v0", split="test")
    hard_ones = [p for p in hard.puzzles if p.meta["rating"] >= 30][:20]
    easy_ones = [p for p in hard.puzzles if p.meta["rating"] == 0][:5]
    agent = make_agent("budgeted:max_nodes=3")
    rows = agent.act(hard_ones, 1)
    # a lucky random branching order may still solve a hard puzzle within 3 nodes; it is never wrong
    answered = [(p, row[0]) for p, row in zip(hard_ones, rows) if row[0].answer is not None]
    assert all(hard.verify(p, c.answer).ok for p, c in answered)
    assert len(answered) <= 5
    assert all(row[0].cost.nfe <= 3 for row in rows)
    for p, row in zip(easy_ones, agent.act(easy_ones, 1)):
        assert hard.verify(p, row[0].answer).ok


def test_spec_parsing():
    assert parse_spec("budgeted:32") == ("budgeted", {"max_nodes": 32})
    assert parse_spec("budgeted:max_nodes=8,seed=2") == ("budgeted", {"max_nodes": 8, "seed": 2})
    with pytest.raises(ConfigError, match="unknown agent 'nope'; available"):
        make_agent("nope")
    with pytest.raises(ConfigError, match=r"unknown option\(s\) \['budget'\]"):
        make_agent("budgeted:budget=3")
    with pytest.raises(ConfigError, match="max_nodes must be >= 1"):
        make_agent("budgeted:0")
    a, b = make_agent("random:seed=1"), make_agent("random:seed=2")
    assert config_hash(a.name, a.config) != config_hash(b.name, b.config)
    assert config_hash(a.name, a.config) == config_hash("random", make_agent("random:1").config)
