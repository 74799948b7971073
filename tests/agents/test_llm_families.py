"""LLM agents on every family, offline: ARC's list-of-grids answer through the harness (pydantic-ai FunctionModels
stand in for the model), and `llm:test`, the offline example agent, end to end on all five tracks' envs."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

pytest.importorskip("pydantic_ai")

from pydantic_ai import models
from pydantic_ai.messages import ModelRequest, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from arena_agents.llm.agent import LLMAgent
from arena_agents.llm.config import LLMAgentConfig
from arena_agents.llm.prompts import user_prompt
from arena_agents.registry import agent_kind
from arena_envs.arc.data import ArcSet
from arena_envs.registry import make_puzzle_set
from arena_harness import ResultStore, RunOptions, evaluate
from arena_harness.cli import main


@pytest.fixture(autouse=True)
def no_model_requests(monkeypatch):
    """pydantic-ai refuses any real model request while these tests run (Function/TestModels are local)."""
    monkeypatch.setattr(models, "ALLOW_MODEL_REQUESTS", False)


@pytest.fixture(scope="module", params=["arena/ARC-AGI-1-v0", "arena/ARC-AGI-2-v0"])
def tasks(request) -> ArcSet:
    """Three tasks of the evaluation split: the first two and the first with two test inputs."""
    full = make_puzzle_set(request.param, split="evaluation")
    multi = next(i for i, p in enumerate(full.puzzles) if p.meta["n_tests"] == 2)
    picked = (full.tasks[0], full.tasks[1], full.tasks[multi])
    return ArcSet(env_id=full.env_id, split=full.split, source=full.source, tasks=picked)


def source(puzzle_set, messages):
    """The puzzle whose task (demonstrations and test inputs) is in the first request."""
    prompt = messages[0].parts[-1].content
    return next(
        p for p in puzzle_set.puzzles if user_prompt(p, tool=False, confidence=False).split("Answer with:")[0] in prompt
    )


def tool_answer(info: AgentInfo, **fields) -> ModelResponse:
    return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, fields)])


def run(puzzle_set, agent, tmp_path, k=1):
    with ResultStore(tmp_path / "r.sqlite") as store:
        return evaluate(puzzle_set, agent, store, RunOptions(k=k, progress=False), agent_kind=agent_kind(agent))


def test_arc_prompt_holds_the_demonstrations_and_every_test_input(tasks):
    task = tasks.puzzles[2]
    assert task.meta["n_tests"] == 2
    text = user_prompt(task, tool=True, confidence=True)
    assert "ARC-AGI task" in text and "each of the 2 test inputs" in text
    for i, (inp, out) in enumerate(task.meta["train"], start=1):
        rows, cols = inp.shape
        block = "\n".join(" ".join(str(int(v)) for v in row) for row in inp)
        assert f"Demonstration {i} input ({rows} rows x {cols} columns):\n{block}" in text
        assert "\n".join(" ".join(str(int(v)) for v in row) for row in out) in text
    for i, inp in enumerate(task.meta["test_inputs"], start=1):
        block = "\n".join(" ".join(str(int(v)) for v in row) for row in inp)
        assert f"Test input {i} of 2 ({inp.shape[0]} rows x {inp.shape[1]} columns):\n{block}" in text
    assert "`grids`: a list of exactly 2 grid(s), one output per test input" in text
    assert "check_rules" in text and "`confidence`" in text
    for output in tasks.label(task):  # the answers are nowhere in the prompt
        assert "\n".join(" ".join(str(int(v)) for v in row) for row in output) not in text or output.size < 4
    full, empty = LLMAgent._answer_model(task).model_json_schema()["properties"]["grids"]["anyOf"]
    assert (full["minItems"], full["maxItems"], empty["maxItems"]) == (2, 2, 0)  # one grid per test input, or none
    grid = full["items"]
    assert (grid["minItems"], grid["maxItems"], grid["items"]["maxItems"]) == (1, 30, 30)
    assert grid["items"]["items"]["enum"] == list(range(10))


def test_the_right_list_of_grids_scores_one_through_the_harness(tasks, tmp_path):
    def reply(messages, info):
        return tool_answer(info, grids=[g.tolist() for g in tasks.label(source(tasks, messages))])

    agent = LLMAgent(LLMAgentConfig(model="test"), model=FunctionModel(reply))
    result = run(tasks, agent, tmp_path, k=2)
    s = result.summary
    assert s.pass_at_1 == 1.0 and s.pair_score_at_2 == 1.0 and s.all_pairs_at_2 == 1.0 and s.wrong == 0
    assert len(result.records) == 6 and all(r.ok and r.error is None for r in result.records)


def test_a_wrong_list_of_grids_scores_zero_with_the_verifiers_reason(tasks, tmp_path):
    def reply(messages, info):  # the test inputs back, unchanged: well formed, wrong
        return tool_answer(info, grids=[g.tolist() for g in source(tasks, messages).meta["test_inputs"]])

    agent = LLMAgent(LLMAgentConfig(model="test"), model=FunctionModel(reply))
    result = run(tasks, agent, tmp_path)
    assert result.summary.pass_at_1 == 0.0 and result.summary.pair_score_at_2 == 0.0
    assert result.summary.coverage == 1.0 and result.summary.wrong == 3 and result.summary.failed == 0
    for r in result.records:
        assert not r.ok and r.error is None and r.reason.startswith("test 1: ")
        assert "cell(s) differ" in r.reason or "grid, got" in r.reason


def test_a_wrong_number_of_grids_or_a_ragged_grid_is_sent_back(tasks):
    task = tasks.puzzles[2]
    right = [g.tolist() for g in tasks.label(task)]
    sent: list[str] = []

    def reply(messages, info):
        n = len([m for m in messages if isinstance(m, ModelRequest)])
        sent.append(" ".join(str(getattr(p, "content", "")) for p in messages[-1].parts))
        if n == 1:
            return tool_answer(info, grids=right[:1])  # one grid for two test inputs
        if n == 2:
            ragged = [row[:] for row in right[0]]
            ragged[0] = ragged[0][:-1] if len(ragged[0]) > 1 else ragged[0] + [0]
            return tool_answer(info, grids=[ragged, right[1]])
        return tool_answer(info, grids=right)

    agent = LLMAgent(LLMAgentConfig(model="test", retries=3), model=FunctionModel(reply))
    (row,) = agent.act([task], 1)
    assert row[0].error is None and row[0].cost.requests == 3 and tasks.verify(task, row[0].answer).ok
    assert "at least 2 items" in sent[1]  # the schema's own message, sent back to the model
    assert "grid 1: every row of a grid must have the same length" in sent[2]


def test_prompted_json_and_agentic_format_check_on_arc(tasks, tmp_path):
    def text_reply(messages, info):
        grids = [g.tolist() for g in tasks.label(source(tasks, messages))]
        return ModelResponse(parts=[TextPart(json.dumps({"grids": grids, "confidence": 0.6}))])

    agent = LLMAgent(LLMAgentConfig(model="test", output="prompted", confidence=True), model=FunctionModel(text_reply))
    rows = agent.act(tasks.puzzles, 1)
    assert all(tasks.verify(p, row[0].answer).ok and row[0].q == 0.6 for p, row in zip(tasks.puzzles, rows))

    seen: list[str] = []

    def agentic(messages, info):
        puzzle = source(tasks, messages)
        returns = [p for m in messages if isinstance(m, ModelRequest) for p in m.parts if isinstance(p, ToolReturnPart)]
        if not returns:
            return ModelResponse(parts=[ToolCallPart("check_rules", {"grids": [[[1, 2], [3]]]})])
        seen.append(returns[-1].content)
        return tool_answer(info, grids=[g.tolist() for g in tasks.label(puzzle)])

    agent = LLMAgent(LLMAgentConfig(model="test", strategy="agentic"), model=FunctionModel(agentic))
    result = run(tasks, agent, tmp_path)
    assert result.summary.agent_kind == "tool-assisted" and result.summary.pass_at_1 == 1.0
    assert len(seen) == 3 and all(s.startswith("not a well-formed answer: ") for s in seen)


def test_an_arc_abstention_is_an_abstention(tasks):
    agent = LLMAgent(
        LLMAgentConfig(model="test"), model=FunctionModel(lambda m, i: tool_answer(i, grids=[], abstain=True))
    )
    rows = agent.act(tasks.puzzles[:1], 1)
    assert rows[0][0].abstained and rows[0][0].error is None and rows[0][0].cost.requests == 1


ENVS = [
    "arena/SudokuExtreme-v0",
    "arena/MazeHard-v0",
    "arena/ARC-AGI-1-v0",
    "arena/ARC-AGI-2-v0",
    "arena/PPBench-v0",
    "arena/SnowflakeSudoku-v0",
]


@pytest.mark.slow
@pytest.mark.parametrize("env", ENVS)
def test_llm_test_runs_end_to_end_on_every_track_env(env, tmp_path, capsys):
    """`arena eval --agent llm:test --limit 2`: pydantic-ai's offline test model replies with the family's example
    answer (well formed, built from the board alone), so every candidate is answered and judged, none fails."""
    split = "evaluation" if "ARC" in env else "test"
    args = ["eval", "--env", env, "--split", split, "--agent", "llm:test", "--limit", "2", "--no-progress"]
    args += ["--db", str(tmp_path / "r.sqlite"), "--out", str(tmp_path / "out"), "--json"]
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 0, err
    (summary,) = json.loads(out)
    assert summary["n_puzzles"] == 2 and summary["answered"] == 2 and summary["failed"] == 0
    assert summary["coverage"] == 1.0 and summary["agent_kind"] == "llm"
    with sqlite3.connect(tmp_path / "r.sqlite") as db:
        rows = db.execute("SELECT error, reason, cost FROM candidates").fetchall()
    assert len(rows) == 2
    for error, reason, cost in rows:
        assert error is None and reason and json.loads(cost)["requests"] == 1


@pytest.mark.parametrize("options", ["output=prompted", "strategy=agentic", "confidence=true"])
def test_llm_test_with_other_output_modes_and_strategies(options, tmp_path):
    from arena_agents.registry import make_agent

    full = make_puzzle_set("arena/ARC-AGI-1-v0", split="evaluation")
    arc = ArcSet(env_id=full.env_id, split=full.split, source=full.source, tasks=full.tasks[:2])
    sudoku = make_puzzle_set("arena/SudokuExtreme-v0", size=4, count=2, seed=1)
    agent = make_agent(f"llm:test,{options}")
    for puzzle_set in (arc, sudoku):
        for p, row in zip(puzzle_set.puzzles, agent.act(puzzle_set.puzzles, 1)):
            verdict = puzzle_set.verify(p, row[0].answer)
            assert row[0].error is None and not verdict.abstained, verdict.reason
            assert not verdict.reason.startswith("malformed"), verdict.reason
            assert isinstance(row[0].answer, list) == (puzzle_set is arc)
            assert np.asarray(row[0].answer[0] if puzzle_set is arc else row[0].answer).ndim == 2


def test_snowflake_prompt_schema_and_rule_check_speak_in_hexagons():
    """A board that is not a grid: the prompt lists every hexagon and meeting point, the answer schema is one row
    of 6 digits per hexagon, and the rule-check tool names the broken group; the right rows verify."""
    from arena_agents.llm.agent import LLMAgent as Agent
    from arena_agents.llm.prompts import family_prompt

    ps = make_puzzle_set("arena/SnowflakeSudoku-v0")
    p = next(q for q in ps.puzzles if q.meta["hexagons"] == 7)
    text = user_prompt(p, tool=True, confidence=False)
    assert text.count("\nhexagon ") == 7 and text.count("\nmeeting point ") == 6
    assert "7 rows, one per hexagon" in text
    schema = Agent._answer_model(p).model_json_schema()
    assert '"minItems": 6' in json.dumps(schema) and '"maxItems": 7' in json.dumps(schema)
    label = ps.label(p).reshape(7, 6)
    assert ps.verify(p, label.tolist()).ok
    clash = np.asarray(p.grid).reshape(7, 6).copy()
    h = next(h for h in range(7) if (clash[h] == 0).any() and (clash[h] != 0).any())  # a blank and a given
    blank, given = int(np.flatnonzero(clash[h] == 0)[0]), int(np.flatnonzero(clash[h])[0])
    clash[h, blank] = clash[h, given]  # a digit its own hexagon already holds
    said = family_prompt(p).rule_check(p, clash.tolist())
    assert said.startswith("1 rule(s) broken") and f"hexagon {h + 1} has digit {clash[h, given]} 2 times" in said
