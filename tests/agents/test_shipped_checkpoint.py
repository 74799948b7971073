"""The shipped checkpoint is the model its README describes: it loads, reproduces its measured accuracy, and the
docs' commands for it run as written."""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from arena_agents.registry import make_agent  # noqa: E402
from arena_envs.registry import make_puzzle_set  # noqa: E402
from arena_harness import ResultStore, RunOptions, evaluate  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CHECKPOINT = ROOT / "checkpoints" / "trm-mlp-sudoku6-cpu"
RESULTS = json.loads((ROOT / "benchmarks" / "results" / "ptrm-sudoku6.json").read_text())


def test_the_file_is_the_one_the_readme_names():
    digest = hashlib.sha256((CHECKPOINT / "model.safetensors").read_bytes()).hexdigest()
    assert f"sha256 `{digest}`" in (ROOT / "checkpoints" / "README.md").read_text()


def test_the_shipped_trm_reproduces_its_measured_accuracy(tmp_path):
    measured = next(r for r in RESULTS["runs"] if r["label"] == "TRM")
    agent = make_agent(f"trm:{CHECKPOINT},device=cpu")
    assert agent.parameters == 156_290 and agent.metadata["train_step"] == RESULTS["recipe"]["steps"]
    puzzles = make_puzzle_set(RESULTS["env"], split="test", **RESULTS["env_options"])
    with ResultStore(tmp_path / "r.sqlite") as store:
        options = RunOptions(k=1, batch_size=250, limit=RESULTS["limit"], progress=False)
        summary = evaluate(puzzles, agent, store, options, agent_kind="recursive").summary
    assert summary.n_puzzles == measured["n_puzzles"] == 1000
    # the same weights on another CPU may round a borderline argmax the other way: allow 5 puzzles in 1,000
    assert summary.pass_at_1 == pytest.approx(measured["pass_at_1"]["rate"], abs=0.005)


def _page_commands(prefix: str) -> list[str]:
    page = (ROOT / "docs/agents/recursive.md").read_text()
    return [line.strip() for line in page.splitlines() if line.strip().startswith(prefix)]


def test_the_readme_eval_commands_for_it_run_as_written(tmp_path, monkeypatch):
    """The docs/agents/recursive.md commands for the checkpoint (the README's tour shows the same two) run and
    measure a model, not chance."""
    from arena_leaderboard.cli import main

    commands = _page_commands("arena eval --agent trm:checkpoints/") + _page_commands(
        "arena eval --agent ptrm:checkpoints/"
    )
    assert len(commands) == 2, commands
    monkeypatch.chdir(ROOT)
    for i, command in enumerate(commands):
        args = [*shlex.split(command)[1:], "--db", str(tmp_path / "r.sqlite"), "--out", str(tmp_path / f"s{i}")]
        assert main([*args, "--no-progress"]) == 0, command
        (summary,) = [json.loads(p.read_text()) for p in (tmp_path / f"s{i}").glob("*.json")]
        k = int(re.search(r"-k (\d+)", command).group(1)) if "-k " in command else 1
        assert summary["n_puzzles"] == 200 and summary["k"] == k
        assert summary["pass_at_1"] > 0.7  # a model, not chance
        if k > 1:
            assert summary["best_q_at_k"] > summary["pass_at_1"]  # PTRM's pick beats a single rollout
