"""LLM agents offline: pydantic-ai FunctionModels stand in for the model; no request leaves the machine."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("pydantic_ai")

from pydantic_ai import models
from pydantic_ai.exceptions import ModelHTTPError
from pydantic_ai.messages import ModelRequest, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from arena_agents.llm.agent import LLMAgent
from arena_agents.llm.config import LLMAgentConfig
from arena_agents.llm.prompts import user_prompt
from arena_agents.registry import agent_kind, make_agent
from arena_envs.config import ConfigError
from arena_envs.registry import make_puzzle_set
from arena_harness import ResultStore, RunOptions, evaluate


@pytest.fixture(autouse=True)
def no_model_requests(monkeypatch):
    """pydantic-ai refuses any real model request while these tests run (FunctionModels are local)."""
    monkeypatch.setattr(models, "ALLOW_MODEL_REQUESTS", False)


@pytest.fixture(scope="module")
def puzzles():
    return make_puzzle_set("arena/SudokuExtreme-v0", size=4, count=6, seed=3)


def solution_of(puzzles, messages) -> list[list[int]]:
    """The solution of the puzzle whose board is in the first request (the test's stand-in for reasoning)."""
    prompt = messages[0].parts[-1].content
    for p in puzzles.puzzles:
        if user_prompt(p, tool=False, confidence=False).split("Answer with:")[0] in prompt:
            return puzzles.label(p).tolist()
    raise AssertionError("unknown board")


def solution_source(puzzle_set, messages):
    """The puzzle whose rendered board is in the first request."""
    prompt = messages[0].parts[-1].content
    return next(
        p for p in puzzle_set.puzzles if user_prompt(p, tool=False, confidence=False).split("Answer with:")[0] in prompt
    )


def tool_answer(info: AgentInfo, **fields) -> ModelResponse:
    return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, fields)])


def run(puzzles, agent, k=1, tmp_path=None):
    with ResultStore(tmp_path / "r.sqlite") as store:
        return evaluate(puzzles, agent, store, RunOptions(k=k, progress=False), agent_kind=agent_kind(agent))


def test_direct_answers_verify_and_usage_is_recorded(puzzles, tmp_path):
    model = FunctionModel(lambda messages, info: tool_answer(info, grid=solution_of(puzzles, messages)))
    agent = LLMAgent(LLMAgentConfig(model="test"), model=model)
    result = run(puzzles, agent, k=2, tmp_path=tmp_path)
    assert result.summary.pass_at_1 == 1.0 and result.summary.agent_kind == "llm"
    for r in result.records:
        assert r.ok and r.q is None and r.cost["requests"] == 1
        assert r.cost["tokens_in"] > 50 and r.cost["tokens_out"] > 0 and r.cost["seconds"] >= 0


def test_prompted_json_output_and_confidence_as_q(puzzles, tmp_path):
    def reply(messages, info):
        return ModelResponse(parts=[TextPart(json.dumps({"grid": solution_of(puzzles, messages), "confidence": 0.7}))])

    agent = LLMAgent(LLMAgentConfig(model="test", output="prompted", confidence=True), model=FunctionModel(reply))
    (row,) = agent.act(puzzles.puzzles[:1], 1)
    assert puzzles.verify(puzzles.puzzles[0], row[0].answer).ok and row[0].q == 0.7


def test_a_wrong_shape_is_sent_back_and_then_fixed(puzzles):
    def reply(messages, info):
        retried = len([m for m in messages if isinstance(m, ModelRequest)]) > 1
        grid = solution_of(puzzles, messages)
        return tool_answer(info, grid=grid if retried else grid[:3])

    agent = LLMAgent(LLMAgentConfig(model="test"), model=FunctionModel(reply))
    (row,) = agent.act(puzzles.puzzles[:1], 1)
    assert row[0].error is None and row[0].cost.requests == 2
    assert puzzles.verify(puzzles.puzzles[0], row[0].answer).ok
    schema = json.dumps(agent._answer_model(puzzles.puzzles[0]).model_json_schema())
    assert '"minItems": 4' in schema and '"maxItems": 4' in schema and '"enum": [1, 2, 3, 4]' in schema


def test_output_that_never_validates_is_a_failed_candidate_not_a_crash(puzzles, tmp_path):
    agent = LLMAgent(
        LLMAgentConfig(model="test", retries=1), model=FunctionModel(lambda m, i: tool_answer(i, grid=[[1]]))
    )
    result = run(puzzles, agent, tmp_path=tmp_path)
    assert all(not r.ok and r.error and "unusable output" in r.error for r in result.records)
    assert all(r.cost["requests"] == 2 and r.cost["tokens_in"] > 0 for r in result.records)  # spent, even on failure
    assert result.summary.pass_at_1 == 0.0 and len(result.records) == len(puzzles.puzzles)


def test_transient_errors_are_retried_with_backoff_and_others_are_not(puzzles):
    calls = {"n": 0}

    def flaky(messages, info):
        calls["n"] += 1
        if calls["n"] < 3:
            raise ModelHTTPError(503, "test", "overloaded")
        return tool_answer(info, grid=solution_of(puzzles, messages))

    agent = LLMAgent(LLMAgentConfig(model="test", attempts=3, backoff_s=0.01), model=FunctionModel(flaky))
    (row,) = agent.act(puzzles.puzzles[:1], 1)
    assert row[0].error is None and calls["n"] == 3

    calls["n"] = 0

    def refused(messages, info):
        calls["n"] += 1
        raise ModelHTTPError(400, "test", "bad request")

    agent = LLMAgent(LLMAgentConfig(model="test", attempts=3, backoff_s=0.01), model=FunctionModel(refused))
    (row,) = agent.act(puzzles.puzzles[:1], 1)
    assert calls["n"] == 1 and "status_code: 400" in row[0].error and row[0].answer is None


def test_abstention_is_an_abstention(puzzles):
    agent = LLMAgent(LLMAgentConfig(model="test"), model=FunctionModel(lambda m, i: tool_answer(i, abstain=True)))
    (row,) = agent.act(puzzles.puzzles[:1], 1)
    assert row[0].abstained and row[0].error is None
    assert puzzles.verify(puzzles.puzzles[0], row[0].answer).abstained


def test_agentic_strategy_checks_rules_and_is_labelled_tool_assisted(puzzles, tmp_path):
    seen: list[str] = []

    def reply(messages, info):
        returns = [p for m in messages if isinstance(m, ModelRequest) for p in m.parts if isinstance(p, ToolReturnPart)]
        grid = solution_of(puzzles, messages)
        if not returns:
            partial = [row[:] for row in grid]
            partial[0][0], partial[0][1] = 0, partial[0][0]  # one cell emptied, its digit moved one cell right
            return ModelResponse(parts=[ToolCallPart("check_rules", {"grid": partial})])
        seen.append(returns[-1].content)
        return tool_answer(info, grid=grid)

    agent = LLMAgent(LLMAgentConfig(model="test", strategy="agentic"), model=FunctionModel(reply))
    result = run(puzzles, agent, tmp_path=tmp_path)
    assert result.summary.agent_kind == "tool-assisted" and result.summary.pass_at_1 == 1.0
    # the digit moved from r1c1 to r1c2 now repeats in column 2 (and overwrites r1c2 where that was a given)
    assert len(seen) == len(puzzles.puzzles)
    assert all("rule(s) broken" in s and "column 2 has digit" in s and "1 cell(s) still empty" in s for s in seen)
    assert all(r.extras["tool_calls"] == 1 and r.cost["requests"] == 2 for r in result.records)


def test_a_server_that_is_down_gives_failed_candidates_with_the_reason(puzzles, monkeypatch):
    monkeypatch.setattr(models, "ALLOW_MODEL_REQUESTS", True)  # 127.0.0.1:9 (discard) refuses at once
    agent = make_agent("llm:anything,base_url=http://127.0.0.1:9/v1,attempts=2,backoff_s=0.01,timeout_s=5")
    (row,) = agent.act(puzzles.puzzles[:1], 1)
    assert row[0].answer is None and "request failed after 2 attempt(s)" in row[0].error
    assert "Connection" in row[0].error or "connect" in row[0].error.lower()


def test_specs_and_bad_configs(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    agent = make_agent("llm:openai:gpt-4o,temperature=0.2")
    assert agent.config.model == "openai:gpt-4o" and agent.config.output_mode == "tool" and agent.kind == "llm"
    local = make_agent("llm:smollm2,base_url=http://127.0.0.1:8000/v1,strategy=agentic")
    assert local.config.output_mode == "prompted" and local.kind == "tool-assisted"
    with pytest.raises(ConfigError, match="need a model"):
        make_agent("llm")
    with pytest.raises(ConfigError, match="strategy"):
        make_agent("llm:x,strategy=think-hard")
    with pytest.raises(ConfigError, match="base_url"):
        make_agent("llm:x,base_url=localhost:8000")


def test_prompt_has_rules_coordinates_and_format(puzzles):
    text = user_prompt(puzzles.puzzles[0], tool=True, confidence=True)
    assert "4x4 Sudoku" in text and "    1 2   3 4" in text and "`grid`" in text
    assert "check_rules" in text and "confidence" in text
    assert np.asarray(puzzles.puzzles[0].grid).shape == (4, 4)


def test_prices_concurrency_limit_and_no_repeated_requests_on_rerun(puzzles, tmp_path):
    import asyncio

    state = {"calls": 0, "in_flight": 0, "most": 0}

    async def slow(messages, info):
        state["calls"] += 1
        state["in_flight"] += 1
        state["most"] = max(state["most"], state["in_flight"])
        await asyncio.sleep(0.02)
        state["in_flight"] -= 1
        return tool_answer(info, grid=solution_of(puzzles, messages))

    config = LLMAgentConfig(model="test", concurrency=2, price_in=1.0, price_out=2.0)
    agent = LLMAgent(config, model=FunctionModel(slow))
    first = run(puzzles, agent, k=3, tmp_path=tmp_path)
    assert state["calls"] == 18 and state["most"] == 2  # 6 puzzles x 3 samples, never more than 2 at once
    for r in first.records:
        assert r.cost["dollars"] == pytest.approx((r.cost["tokens_in"] * 1.0 + r.cost["tokens_out"] * 2.0) / 1e6)
    again = run(puzzles, agent, k=3, tmp_path=tmp_path)  # the same store: everything is already there
    assert state["calls"] == 18 and again.added == 0 and again.summary.pass_at_1 == 1.0


def test_maze_prompt_schema_and_rule_check(tmp_path):
    mazes = make_puzzle_set("arena/MazeHard-v0", size=10, count=4)
    maze = mazes.puzzles[0]
    text = user_prompt(maze, tool=True, confidence=False)
    assert "10x10 maze" in text and "5 = a cell of your path" in text and "check_rules" in text
    seen: list[str] = []

    def reply(messages, info):
        puzzle = solution_source(mazes, messages)
        returns = [p for m in messages if isinstance(m, ModelRequest) for p in m.parts if isinstance(p, ToolReturnPart)]
        if not returns:
            return ModelResponse(parts=[ToolCallPart("check_rules", {"grid": puzzle.grid.tolist()})])
        seen.append(returns[-1].content)
        return tool_answer(info, grid=mazes.label(puzzle).tolist())

    agent = LLMAgent(LLMAgentConfig(model="test", strategy="agentic"), model=FunctionModel(reply))
    result = run(mazes, agent, tmp_path=tmp_path)
    assert result.summary.pass_at_1 == 1.0
    assert all(r.startswith("no path leaves S") for r in seen)  # the unmarked maze, checked by the rules
    schema = json.dumps(agent._answer_model(maze).model_json_schema())
    assert '"enum": [1, 2, 3, 4, 5]' in schema and '"minItems": 10' in schema


def test_ppbench_prompt_moves_answer_and_move_rule_check(tmp_path):
    golden = make_puzzle_set("arena/PPBench-v0", variety="nurikabe", count=3)
    prompt = user_prompt(golden.puzzles[0], tool=True, confidence=False)
    assert "nurikabe" in prompt and "Each region contains exactly one number" in prompt
    assert "pzprv3" in prompt and "mouse,left,x,y" in prompt and "`moves`" in prompt
    checked = []

    def reply(messages, info):
        puzzle = solution_source(golden, messages)
        returns = [p for m in messages for p in m.parts if isinstance(p, ToolReturnPart)]
        if not returns:  # first look: check an empty answer with the tool
            return ModelResponse(parts=[ToolCallPart("check_rules", {"moves": golden.label(puzzle)[:3]})])
        checked.append(returns[-1].content)
        return tool_answer(info, moves=golden.label(puzzle))

    agent = LLMAgent(LLMAgentConfig(model="test", strategy="agentic"), model=FunctionModel(reply))
    result = run(golden, agent, tmp_path=tmp_path)
    assert result.summary.pass_at_1 == 1.0 and result.summary.agent_kind == "tool-assisted"
    assert all(text.startswith("not solved yet: ") for text in checked) and len(checked) == 3
    assert all(isinstance(r.answer, str) and r.answer.startswith('["mouse') for r in result.records)


# -- honest defaults: keys, auth failures, abstentions ---------------------------------------------------------


def test_a_missing_provider_key_is_one_config_error_at_construction(monkeypatch):
    """Regression: without OPENAI_API_KEY the agent was built, every request failed, and `arena eval` printed an
    ordinary 0.000 row (the reason only in SQLite). Now the agent refuses to exist, naming the variable."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigError, match=r"llm:openai:gpt-4o-mini needs an API key: set OPENAI_API_KEY") as exc:
        make_agent("llm:openai:gpt-4o-mini")
    assert "llm:test" in str(exc.value) and "\n" not in str(exc.value)
    with pytest.raises(ConfigError, match="Unknown model: gpt-4o"):
        make_agent("llm:gpt-4o")  # no provider prefix: one error too, not a failure per puzzle
    # needing no key: pydantic-ai's offline test model, and local OpenAI-compatible servers
    assert make_agent("llm:test").config.model == "test"
    assert make_agent("llm:smollm2,base_url=http://127.0.0.1:8000/v1").config.base_url is not None


def _auth_after(n_ok: int, puzzles, status: int = 401):
    calls = {"n": 0}

    def reply(messages, info):
        calls["n"] += 1
        if calls["n"] > n_ok:
            raise ModelHTTPError(status, "gpt-test", {"error": {"message": "Incorrect API key provided"}})
        return tool_answer(info, grid=solution_of(puzzles, messages))

    return FunctionModel(reply), calls


@pytest.mark.parametrize("status", [401, 403])
def test_a_rejected_key_stops_the_run_and_stores_no_failed_candidates(puzzles, tmp_path, status):
    """Regression: a 401 was stored as one failed candidate per (puzzle, sample). Now the first rejection ends
    the run with one ConfigError; the batch in flight stores nothing, finished batches stay."""
    model, calls = _auth_after(0, puzzles, status)
    agent = LLMAgent(LLMAgentConfig(model="openai:gpt-test", concurrency=1), model=model)
    with ResultStore(tmp_path / "r.sqlite") as store:
        with pytest.raises(ConfigError, match=rf"rejected the API key \(HTTP {status}") as exc:
            evaluate(puzzles, agent, store, RunOptions(k=2, progress=False))
        assert store.all_records() == []
    assert calls["n"] == 1  # no other request after the rejection (one at a time here)
    assert "check OPENAI_API_KEY" in str(exc.value) and "llm:test" in str(exc.value)

    model, calls = _auth_after(3, puzzles)  # the key is revoked after the first batch of 3 puzzles
    agent = LLMAgent(LLMAgentConfig(model="openai:gpt-test", concurrency=1), model=model)
    with ResultStore(tmp_path / "r2.sqlite") as store:
        with pytest.raises(ConfigError, match="3 candidates of this run are saved"):
            evaluate(puzzles, agent, store, RunOptions(k=1, batch_size=3, progress=False))
        records = store.all_records()
    assert len(records) == 3 and all(r.ok for r in records)


@pytest.mark.parametrize("output", ["tool", "prompted"])
def test_an_abstention_with_an_empty_grid_is_an_abstention(puzzles, tmp_path, output):
    """Regression: the prompt allows `{"grid": [], "abstain": true}`, but the schema demanded a full grid, so the
    abstention was sent back as invalid and ended as a failed candidate ("unusable output")."""
    answer = {"grid": [], "abstain": True}

    def reply(messages, info):
        if output == "tool":
            return tool_answer(info, **answer)
        return ModelResponse(parts=[TextPart(json.dumps(answer))])

    agent = LLMAgent(LLMAgentConfig(model="test", output=output, retries=1), model=FunctionModel(reply))
    result = run(puzzles, agent, k=2, tmp_path=tmp_path)
    assert len(result.records) == 2 * len(puzzles.puzzles)
    for r in result.records:
        assert r.abstained and r.error is None and r.answer is None and r.reason == "abstained"
        assert r.cost["requests"] == 1  # accepted at once, never re-asked
    assert result.summary.coverage == 0.0 and result.summary.failed == 0 and result.summary.wrong == 0
    # an abstention is final whatever else the grid holds; a grid of the wrong shape without abstain is not
    (row,) = LLMAgent(
        LLMAgentConfig(model="test"), model=FunctionModel(lambda m, i: tool_answer(i, grid=[[1, 2]], abstain=True))
    ).act(puzzles.puzzles[:1], 1)
    assert row[0].abstained and row[0].cost.requests == 1
    schema = json.dumps(agent._answer_model(puzzles.puzzles[0]).model_json_schema())
    assert '"maxItems": 0' in schema and '"minItems": 4' in schema  # the empty alternative, and the full board
