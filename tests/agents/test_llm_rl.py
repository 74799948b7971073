"""Rewards and data for RL on language models (docs/rl-llm.md): the verifier as a TRL reward function on every
family, ``arena export`` round trips, and TRL's GRPOTrainer running on the reward with a tiny random model."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

pytest.importorskip("pydantic_ai")

from arena_agents.llm.prompts import FAMILIES, user_prompt
from arena_envs.answers import ANSWER_KINDS, parse_answer_text
from arena_envs.config import ConfigError
from arena_envs.protocol import Puzzle
from arena_envs.registry import make_puzzle_set
from arena_envs.rewards import VerifierReward, completion_text, partial_credit, verifier_reward

SETS = {
    "sudoku": ("arena/SudokuExtreme-v0", {"split": "test", "size": 4, "count": 8}),
    "maze": ("arena/MazeHard-v0", {"split": "test", "size": 7, "count": 4}),
    "arc1": ("arena/ARC-AGI-1-v0", {"split": "evaluation"}),
    "arc2": ("arena/ARC-AGI-2-v0", {"split": "evaluation"}),
    "ppbench": ("arena/PPBench-v0", {"count": 3}),
}


@pytest.fixture(scope="module", params=sorted(SETS))
def case(request):
    """(reward, puzzles, labels): a small split of each family, and (for ARC) a task with two test inputs."""
    env_id, options = SETS[request.param]
    reward = verifier_reward(env_id, **options)
    puzzles = list(reward.puzzle_set.puzzles[:3])
    if reward.family == "arc":
        puzzles.append(next(p for p in reward.puzzle_set.puzzles if p.meta["n_tests"] == 2))
    return reward, puzzles, [reward.puzzle_set.label(p) for p in puzzles]


def oracle(family: str, label) -> dict:
    """The stored solution, answered as the family's prompt asks."""
    if family == "arc":
        return {"grids": [np.asarray(g).tolist() for g in label], "abstain": False}
    if family == "ppbench":
        return {"moves": list(label), "abstain": False}
    return {"grid": np.asarray(label).tolist(), "abstain": False}


def corrupt(family: str, puzzle: Puzzle, label) -> dict:
    """A near miss: one cell (or half the moves) wrong."""
    if family == "ppbench":
        return {"moves": list(label)[: len(label) // 2]}
    if family == "arc":
        grids = [np.asarray(g).copy() for g in label]
        grids[0][0, 0] = (grids[0][0, 0] + 1) % 10
        return {"grids": [g.tolist() for g in grids]}
    grid = np.asarray(label).copy()
    if family == "sudoku":
        r, c = np.argwhere(np.asarray(puzzle.grid) == 0)[0]
        grid[r, c] = grid[r, c] % grid.shape[0] + 1  # another digit in a blank cell
    else:
        r, c = np.argwhere(grid == 5)[0]
        grid[r, c] = 2  # one cell of the path unmarked
    return {"grid": grid.tolist()}


def score(reward: VerifierReward, puzzles, completions) -> list[float]:
    prompts = [user_prompt(p, tool=False, confidence=False) for p in puzzles]
    return reward(prompts, completions, puzzle_id=[p.id for p in puzzles])


# --- the reward on every family ---------------------------------------------------------------------------------


def test_oracle_answers_score_one_as_text_and_as_conversation(case):
    reward, puzzles, labels = case
    replies = [json.dumps(oracle(reward.family, label)) for label in labels]
    assert score(reward, puzzles, replies) == [1.0] * len(puzzles)
    chats = [[{"role": "assistant", "content": reply}] for reply in replies]
    assert score(reward, puzzles, chats) == [1.0] * len(puzzles)


def test_corrupted_answers_score_zero(case):
    reward, puzzles, labels = case
    replies = [json.dumps(corrupt(reward.family, p, label)) for p, label in zip(puzzles, labels)]
    assert score(reward, puzzles, replies) == [0.0] * len(puzzles)
    judged = reward.judge(replies, [p.id for p in puzzles])
    assert {j.status for j in judged} == {"wrong"} and all(j.reason for j in judged)


def test_garbage_empty_and_abstentions_score_zero_and_never_raise(case):
    reward, puzzles, labels = case
    field = {"grid": "grid", "grids": "grids", "moves": "moves"}[reward.kind]
    right = oracle(reward.family, labels[0])
    replies = [
        "",
        "I cannot solve this.",
        "{",
        "[" * 100_000,  # deeper than json's recursion limit
        '{"abstain": true}',
        json.dumps({**right, "abstain": True}),  # an abstention whatever the answer field holds
        json.dumps({field: []}),
        json.dumps({field: "12 34"}),
        json.dumps({"answer": right[field]}),  # the wrong field name
        None,
        12,
        [{"role": "assistant", "content": None}],
        [{"role": "user", "content": json.dumps(right)}],  # only the assistant's messages are its answer
    ]
    rewards = score(reward, [puzzles[0]] * len(replies), replies)
    assert rewards == [0.0] * len(replies)
    statuses = [j.status for j in reward.judge(replies, [puzzles[0].id] * len(replies))]
    assert statuses[4:6] == ["abstained", "abstained"] and statuses[0] == statuses[-1] == "unparseable"


def test_any_json_in_the_answer_field_scores_zero_without_raising():
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies
    reward = verifier_reward("arena/SudokuExtreme-v0", size=4, count=8)
    puzzle_id = reward.puzzle_set.puzzles[0].id
    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5)
    values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=5), max_leaves=40)

    @hypothesis.settings(max_examples=80, deadline=None)
    @hypothesis.given(values, st.text(max_size=20))
    def check(value, prose):
        reply = prose + json.dumps({"grid": value}, allow_nan=True)
        assert reward(None, [reply], puzzle_id=[puzzle_id]) == [0.0]

    check()


def test_fenced_json_and_reasoning_before_the_answer(case):
    reward, puzzles, labels = case
    right, wrong = (
        json.dumps(oracle(reward.family, labels[0])),
        json.dumps(corrupt(reward.family, puzzles[0], labels[0])),
    )
    replies = [
        f"```json\n{right}\n```",
        f"Here is my answer:\n```\n{right}\n```\nDone.",
        f"<think>A first try: {wrong}. No, that breaks a rule.</think>\nFinal answer: {right}",
        f"```json\n{wrong}\n```\nreconsidering...\n```json\n{right}\n```",  # the last fenced block is the answer
        [{"role": "assistant", "content": [{"type": "text", "text": f"answer: {right}"}]}],
        f"{right}\nOn second thought: {wrong}",  # the last object is the answer: wrong
    ]
    assert score(reward, [puzzles[0]] * len(replies), replies) == [1.0, 1.0, 1.0, 1.0, 1.0, 0.0]


def test_the_reward_and_the_agents_read_the_same_answer_kinds():
    assert {family: fp.answer_kind for family, fp in FAMILIES.items()} == ANSWER_KINDS
    parsed = parse_answer_text('{"grid": [[1, 2], [2, 1]], "confidence": 0.5}', "grid")
    assert parsed.readable and parsed.answer.dtype == np.int64 and parsed.answer.tolist() == [[1, 2], [2, 1]]
    assert completion_text([{"role": "assistant", "content": "a"}, {"role": "assistant", "content": "b"}]) == "a\nb"


def test_batch_verification_agrees_with_one_at_a_time(case):
    reward, puzzles, labels = case
    replies = [json.dumps(oracle(reward.family, label)) for label in labels]
    replies += [json.dumps(corrupt(reward.family, p, label)) for p, label in zip(puzzles, labels)]
    both = puzzles + puzzles
    assert score(reward, both, replies) == [score(reward, [p], [r])[0] for p, r in zip(both, replies)]


def test_an_answer_that_breaks_the_verifier_scores_zero_and_a_broken_verifier_raises():
    inner = verifier_reward("arena/SudokuExtreme-v0", size=4, count=8).puzzle_set

    class Flaky:
        """The split, but its batch check always fails and its single check fails on puzzle 0."""

        def __getattr__(self, name):  # env_id, puzzles, fingerprint, label, ...
            return getattr(inner, name)

        def verify_batch(self, puzzles, answers):
            raise RuntimeError("the batch broke")

        def verify(self, puzzle, answer):
            if puzzle.id == inner.puzzles[0].id:
                raise RuntimeError("this answer broke the verifier")
            return inner.verify(puzzle, answer)

    reward = VerifierReward(Flaky())
    puzzles = list(inner.puzzles[:2])
    replies = [json.dumps(oracle("sudoku", inner.label(p))) for p in puzzles]
    assert score(reward, puzzles, replies) == [0.0, 1.0]
    with pytest.raises(RuntimeError, match="this answer broke the verifier"):
        score(reward, puzzles[:1], replies[:1])  # nothing verified: the verifier, not the answer, is at fault


# --- partial credit, exactly -------------------------------------------------------------------------------------

SOLUTION = np.array([[1, 2, 3, 4], [3, 4, 1, 2], [2, 1, 4, 3], [4, 3, 2, 1]])


def test_sudoku_partial_credit_is_the_share_of_blank_cells_right():
    question = SOLUTION.copy()
    question[[0, 0, 1, 1, 2, 2, 3, 3], [0, 1, 2, 3, 0, 1, 2, 3]] = 0  # 8 blanks
    puzzle = Puzzle("hand", "sudoku", question, {"box": (2, 2)})
    answer = SOLUTION.copy()
    answer[0, 0], answer[0, 1] = 2, 1  # 2 of the 8 blanks wrong
    assert partial_credit("sudoku", puzzle, SOLUTION, answer) == 0.75
    assert partial_credit("sudoku", puzzle, SOLUTION, np.where(question == 0, 0, SOLUTION)) == 0.0  # blanks left blank
    changed_given = answer.copy()
    changed_given[0, 2] = 4
    assert partial_credit("sudoku", puzzle, SOLUTION, changed_given) == 0.0
    assert partial_credit("sudoku", puzzle, SOLUTION, answer[:3]) == 0.0  # wrong shape


def test_maze_partial_credit_is_the_overlap_with_the_stored_path():
    # S top left, G top right, walls between them: the shortest path runs along row 2 (5 cells between S and G)
    question = np.full((5, 5), 2)
    question[0] = [3, 1, 1, 1, 4]
    solution = question.copy()
    solution[1, :] = 5  # the stored shortest path: 5 cells
    puzzle = Puzzle("hand", "maze", question)
    answer = question.copy()
    answer[1, :4] = 5  # 4 of the 5 path cells
    answer[2, 4] = 5  # and one cell off the path
    assert partial_credit("maze", puzzle, solution, answer) == 4 / 5  # |marked & path| / max(5, 5)
    answer[3, 4] = 5  # two cells off the path: max(6, 5)
    assert partial_credit("maze", puzzle, solution, answer) == 4 / 6
    wall_removed = answer.copy()
    wall_removed[0, 1] = 2
    assert partial_credit("maze", puzzle, solution, wall_removed) == 0.0
    assert partial_credit("maze", puzzle, solution, "not a maze") == 0.0


def test_arc_partial_credit_is_cell_accuracy_with_the_right_shape():
    outputs = [np.array([[1, 2], [3, 4]]), np.zeros((3, 3), int)]
    puzzle = Puzzle("hand", "arc", outputs[0], {"n_tests": 2})
    assert partial_credit("arc", puzzle, outputs, [[[1, 2], [3, 0]], np.zeros((3, 3), int).tolist()]) == 0.875
    assert partial_credit("arc", puzzle, outputs, [[[1, 2], [3, 0]], [[0, 0], [0, 0]]]) == 0.375  # 2nd: wrong shape
    assert partial_credit("arc", puzzle, outputs, [[[1, 2], [3, 4]]]) == 0.0  # one grid for two tests


def test_partial_credit_through_the_reward_is_off_by_default_and_below_one():
    plain = verifier_reward("arena/SudokuExtreme-v0", size=4, count=8)
    partial = VerifierReward(plain.puzzle_set, partial=True)
    puzzle = plain.puzzle_set.puzzles[0]
    question, label = np.asarray(puzzle.grid), plain.puzzle_set.label(puzzle)
    blanks = int((question == 0).sum())
    reply = json.dumps(corrupt("sudoku", puzzle, label))
    assert score(plain, [puzzle], [reply]) == [0.0]
    assert score(partial, [puzzle], [reply]) == [(blanks - 1) / blanks]
    assert score(partial, [puzzle], [json.dumps(oracle("sudoku", label))]) == [1.0]
    assert partial.__name__ == "verifier_reward_partial"
    with pytest.raises(ConfigError, match="partial credit is not defined for 'ppbench'"):
        verifier_reward("arena/PPBench-v0", count=1, partial=True)


def test_rows_from_other_data_are_one_clear_error():
    reward = verifier_reward("arena/SudokuExtreme-v0", size=4, count=8)
    puzzle = reward.puzzle_set.puzzles[0]
    with pytest.raises(ConfigError, match="needs a puzzle_id column"):
        reward(["p"], ["{}"])
    with pytest.raises(ConfigError, match="is not in arena/SudokuExtreme-v0"):
        reward(["p"], ["{}"], puzzle_id=["sudoku/other/000001"])
    with pytest.raises(ConfigError, match="fingerprint"):
        reward(["p"], ["{}"], puzzle_id=[puzzle.id], fingerprint=["sha256:0"])
    assert reward(["p"], ["{}"], puzzle_id=[puzzle.id], fingerprint=[reward.puzzle_set.fingerprint]) == [0.0]


# --- arena export ------------------------------------------------------------------------------------------------


def export_cli(argv: list[str]) -> int:
    from arena_harness import export

    parser = argparse.ArgumentParser(prog="arena")
    export.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["export", *argv])
    return args.func(args)


def sent_by_the_agent(puzzles) -> list[list[dict]]:
    """The messages an ``llm:NAME,base_url=...`` agent puts on the wire, caught by an in-process server."""
    import httpx2
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    from arena_agents.llm.agent import LLMAgent
    from arena_agents.llm.config import LLMAgentConfig

    bodies = []

    def server(request):
        bodies.append(json.loads(request.content))
        message = {"role": "assistant", "content": '{"abstain": true}'}
        return httpx2.Response(
            200,
            json={
                "id": "t",
                "object": "chat.completion",
                "created": 0,
                "model": "m",
                "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            },
        )

    client = httpx2.AsyncClient(transport=httpx2.MockTransport(server))
    provider = OpenAIProvider(base_url="http://127.0.0.1:9/v1", api_key="k", http_client=client)
    agent = LLMAgent(
        LLMAgentConfig(model="m", base_url="http://127.0.0.1:9/v1"), model=OpenAIChatModel("m", provider=provider)
    )
    agent.act(puzzles, 1)
    by_prompt = {body["messages"][-1]["content"]: body["messages"] for body in bodies}
    return [by_prompt[user_prompt(p, tool=False, confidence=False)] for p in puzzles]


def test_export_round_trip_jsonl_and_datasets_with_the_agents_prompts(tmp_path):
    pytest.importorskip("datasets")
    from datasets import load_from_disk

    from arena_harness.export import load_reward, read_meta, read_rows

    out = tmp_path / "sudoku4"
    assert export_cli(["--split", "test", "-o", "size=4", "-o", "count=8", "--limit", "6", "--out", str(out)]) == 0
    meta = read_meta(out)
    reward = load_reward(out)
    puzzles = list(reward.puzzle_set.puzzles[:6])
    assert meta["rows"] == 6 and meta["data_options"] == {"size": 4, "count": 8} and meta["split"] == "test"
    assert meta["reward"]["call"] == "verifier_reward('arena/SudokuExtreme-v0', split='test', count=8, size=4)"
    assert "verifier_reward" in (out / "README.md").read_text()

    jsonl, dataset = read_rows(out), list(load_from_disk(str(out / "dataset")))
    assert jsonl == dataset
    assert [r["puzzle_id"] for r in jsonl] == [p.id for p in puzzles]
    sent = sent_by_the_agent(puzzles)
    for row, messages in zip(jsonl, sent):
        assert row["prompt"] == messages  # exactly what a server receives from the LLM agent
        assert row["prompt_text"] == "\n\n".join(m["content"] for m in messages)
        assert (
            row["fingerprint"] == reward.puzzle_set.fingerprint
            and json.loads(row["data_options"]) == meta["data_options"]
        )

    # the rows score offline, as TRL passes them: dataset columns as keyword arguments
    columns = {k: [r[k] for r in jsonl] for k in jsonl[0] if k != "prompt"}
    completions = [
        [{"role": "assistant", "content": json.dumps(oracle("sudoku", reward.puzzle_set.label(p)))}] for p in puzzles
    ]
    completions[0] = [{"role": "assistant", "content": "no idea"}]
    assert reward([r["prompt"] for r in jsonl], completions, **columns) == [0.0] + [1.0] * 5


def test_export_jsonl_only_on_arc_replaces_an_earlier_export_and_its_errors(tmp_path):
    pytest.importorskip("datasets")
    from arena_harness.export import read_meta, read_rows

    out = tmp_path / "arc"
    arc = ["--env", "arena/ARC-AGI-1-v0", "--split", "evaluation", "--limit", "2", "--out", str(out)]
    assert export_cli(arc) == 0 and (out / "dataset").is_dir()
    assert export_cli([*arc, "--format", "jsonl"]) == 0
    assert not (out / "dataset").exists() and read_meta(out)["files"] == {"jsonl": "data.jsonl"}
    rows = read_rows(out)
    assert len(rows) == 2 and rows[0]["family"] == "arc" and "`grids`" in rows[0]["prompt"][-1]["content"]
    with pytest.raises(ConfigError, match="--split"):
        export_cli(["-o", "split=test", "--out", str(tmp_path / "x")])
    with pytest.raises(ConfigError, match="unknown environment"):
        export_cli(["--env", "arena/Nope-v0", "--out", str(tmp_path / "x")])
    with pytest.raises(ConfigError, match="limit must be >= 1"):
        export_cli(["--limit", "0", "-o", "size=4", "-o", "count=8", "--out", str(tmp_path / "x")])


# --- TRL's GRPOTrainer on the reward ------------------------------------------------------------------------------


@pytest.mark.slow
def test_grpo_trainer_runs_on_the_verifier_reward(tmp_path, monkeypatch):
    """docs/rl-llm.md: 2 optimizer steps of GRPO, tiny random model, CPU, 4x4 Sudoku."""
    pytest.importorskip("trl")
    from arena_agents.rl import grpo

    seen = []
    make_reward = grpo.make_reward

    def recording_reward(config):
        reward = make_reward(config)

        def verifier_reward(prompts, completions, **kwargs):
            seen.append((completions, kwargs["puzzle_id"]))
            return reward(prompts, completions, **kwargs)

        return verifier_reward

    monkeypatch.setattr(grpo, "make_reward", recording_reward)
    config = grpo.ArenaGRPOConfig(
        env_options={"size": 4, "count": 8},
        split="test",
        steps=2,
        prompts_per_step=2,
        num_generations=2,
        max_completion_length=16,
        learning_rate=1e-3,
        use_cpu=True,
    )
    result = grpo.train(config, tmp_path / "run")
    steps = [r for r in result.log if "rewards/verifier_reward/mean" in r]
    assert [r["step"] for r in steps] == [1, 2] and all(0.0 <= r["rewards/verifier_reward/mean"] <= 1.0 for r in steps)
    assert result.reward_calls == 2 and len(seen) == 2
    ids = {p.id for p in make_puzzle_set("arena/SudokuExtreme-v0", split="test", size=4, count=8).puzzles}
    for completions, puzzle_ids in seen:
        assert len(completions) == 4 and set(puzzle_ids) <= ids
        assert all(
            c[0]["role"] == "assistant" and isinstance(c[0]["content"], str) and c[0]["content"] for c in completions
        )
    assert (tmp_path / "run" / "log.jsonl").is_file() and (tmp_path / "run" / "arena_grpo.json").is_file()
    assert (tmp_path / "run" / "model.safetensors").is_file()


def test_grpo_config_names_the_bad_value():
    pytest.importorskip("trl")
    from arena_agents.rl.grpo import ArenaGRPOConfig

    with pytest.raises(ConfigError, match="num_generations must be >= 2"):
        ArenaGRPOConfig(num_generations=1)
    with pytest.raises(ConfigError, match="unknown env 'arena/Nope-v0'"):
        ArenaGRPOConfig(env_id="arena/Nope-v0")
    with pytest.raises(ConfigError, match="steps must be >= 1, got 0"):
        ArenaGRPOConfig(steps=0)
