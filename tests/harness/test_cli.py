"""The `arena` command: the default evaluation, JSON output, resume, clear errors."""

from __future__ import annotations

import json

import pytest

from arena_harness.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_eval_small_board_prints_a_table_and_writes_results(tmp_path, capsys):
    db, out_dir = tmp_path / "r.sqlite", tmp_path / "out"
    code, out, err = run(
        capsys,
        "eval",
        "-o",
        "size=4",
        "-o",
        "count=30",
        "--agent",
        "oracle",
        "--agent",
        "copy",
        "-k",
        "2",
        "--db",
        str(db),
        "--out",
        str(out_dir),
        "--no-progress",
    )
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["agent", "n", "k", "pass@1"]
    oracle = next(line for line in lines if line.startswith("oracle"))
    copy = next(line for line in lines if line.startswith("copy"))
    assert oracle.split()[1:5] == ["30", "2", "1.000", "1.000"]
    assert copy.split()[3] == "0.000"
    files = sorted(p.name for p in out_dir.iterdir())
    assert len(files) == 2 and all(f.endswith(".json") for f in files)
    summary = json.loads((out_dir / files[1]).read_text())
    for key in (
        "n_puzzles",
        "k",
        "selector",
        "tie_break",
        "aggregation",
        "data_fingerprint",
        "agent_hash",
        "git_revision",
        "package_version",
    ):
        assert key in summary or key in summary["meta"], key


def test_json_output_and_resume(tmp_path, capsys):
    args = [
        "eval",
        "-o",
        "size=4",
        "-o",
        "count=12",
        "--agent",
        "random:seed=3",
        "-k",
        "3",
        "--db",
        str(tmp_path / "r.sqlite"),
        "--out",
        str(tmp_path / "o"),
        "--json",
        "--no-progress",
    ]
    code, out, _ = run(capsys, *args)
    first = json.loads(out)[0]
    code2, out2, _ = run(capsys, *args)
    second = json.loads(out2)[0]
    assert code == code2 == 0
    assert first["pass_at_1"] == second["pass_at_1"] and second["n_candidates"] == 36


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["eval", "--env", "arena/Nope-v0"], "unknown environment 'arena/Nope-v0'"),
        (["eval", "--agent", "nope"], "unknown agent 'nope'"),
        (["eval", "-o", "size=5"], "size 5 is not supported"),
        (["eval", "--data", "/no/such.csv"], "not found; pass the path"),
        (["eval", "-o", "size=4", "--shard", "3/2"], "--shard '3/2'"),
        (["eval", "-o", "sise=4"], "unknown option(s) ['sise']"),
    ],
)
def test_user_errors_are_one_clear_line(argv, message, capsys, tmp_path):
    code, _, err = run(capsys, *argv, "--db", str(tmp_path / "r.sqlite"), "--out", str(tmp_path / "o"))
    assert code == 2
    assert err.startswith("arena: error:") and message in err
    assert "Traceback" not in err


def test_store_that_is_not_a_database(tmp_path, capsys):
    bad = tmp_path / "bad.sqlite"
    bad.write_text("this is not sqlite")
    code, _, err = run(
        capsys, "eval", "-o", "size=4", "--agent", "copy", "--db", str(bad), "--out", str(tmp_path / "o")
    )
    assert code == 2 and "cannot use" in err and "another --db" in err


def test_list_commands(capsys):
    assert run(capsys, "envs")[1].count("arena/") >= 2
    assert "budgeted" in run(capsys, "agents")[1]


def test_merge(tmp_path, capsys):
    base = [
        "eval",
        "-o",
        "size=4",
        "-o",
        "count=10",
        "--agent",
        "random",
        "--no-progress",
        "--out",
        str(tmp_path),
    ]
    for i in range(2):
        assert run(capsys, *base, "--shard", f"{i}/2", "--db", str(tmp_path / f"s{i}.sqlite"))[0] == 0
    code, _, err = run(
        capsys,
        "merge",
        str(tmp_path / "all.sqlite"),
        str(tmp_path / "s0.sqlite"),
        str(tmp_path / "s1.sqlite"),
    )
    assert code == 0 and "5 new candidates" in err
    code, out, _ = run(capsys, *base, "--db", str(tmp_path / "all.sqlite"), "--json")
    assert json.loads(out)[0]["n_candidates"] == 10


def test_storage_and_path_failures_are_one_line_and_keep_finished_batches(tmp_path, capsys, monkeypatch):
    """Regressions: wrong-schema databases, --db/--out under a file, a full or read-only database ended in
    tracebacks. Each is now one line that says what to do, and the batches written before a failure stay."""
    import sqlite3

    from arena_harness.store import ResultStore

    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE candidates (x)")
    a_file = tmp_path / "file"
    a_file.write_text("")
    common = ["eval", "-o", "size=4", "-o", "count=40", "--agent", "copy", "--batch-size", "10"]
    for argv, message in [
        ([*common, "--db", str(other)], "is not a result store: its table 'candidates' has columns ['x']"),
        ([*common, "--db", str(a_file / "r.sqlite")], "cannot use"),
        ([*common, "--db", str(tmp_path / "r.sqlite"), "--out", str(a_file / "o")], "NotADirectoryError"),
    ]:
        code, _, err = run(capsys, *argv)
        assert code == 2 and "arena: error:" in err and message in err and "Traceback" not in err
    real_write, calls = ResultStore.write, []

    def fill_up(self, records, **options):  # the third batch finds the disk full
        calls.append(len(records))
        if len(calls) == 3:
            raise sqlite3.OperationalError("database or disk is full")
        return real_write(self, records, **options)

    monkeypatch.setattr(ResultStore, "write", fill_up)
    db = tmp_path / "full.sqlite"
    code, _, err = run(capsys, *common, "--db", str(db), "--out", str(tmp_path / "o2"))
    assert code == 2 and "database or disk is full" in err and "rerun to resume" in err and "Traceback" not in err
    monkeypatch.setattr(ResultStore, "write", real_write)
    with ResultStore(db) as store:
        assert len(store.all_records()) == 20  # the two batches written before the failure
    assert run(capsys, *common, "--db", str(db), "--out", str(tmp_path / "o2"))[0] == 0
    with ResultStore(db) as store:
        assert len(store.all_records()) == 40


def test_a_missing_api_key_is_one_line_before_anything_is_stored(tmp_path, capsys, monkeypatch):
    """Regression: `arena eval --agent llm:openai:gpt-4o-mini` without OPENAI_API_KEY printed an ordinary 0.000
    row, the reason only in SQLite. Now: exit 2, one line naming the variable and llm:test, nothing stored (the
    oracle listed first is not evaluated either: agents are built before any work starts)."""
    pytest.importorskip("pydantic_ai")
    import sqlite3

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    db = tmp_path / "r.sqlite"
    argv = ["eval", "-o", "size=4", "--limit", "3", "--agent", "oracle", "--agent", "llm:openai:gpt-4o-mini"]
    code, out, err = run(capsys, *argv, "--db", str(db), "--out", str(tmp_path / "o"), "--no-progress")
    assert code == 2 and out == "" and "Traceback" not in err
    (line,) = err.strip().splitlines()
    assert line.startswith("arena: error: llm:openai:gpt-4o-mini needs an API key: set OPENAI_API_KEY")
    assert "llm:test" in line
    if db.exists():
        with sqlite3.connect(db) as con:
            assert con.execute("SELECT COUNT(*) FROM candidates").fetchone()[0] == 0


def test_a_rejected_api_key_aborts_eval_with_one_line(tmp_path, capsys, monkeypatch):
    """Regression: a 401 from the provider was stored as a failed candidate per puzzle and the table showed 0.000."""
    pytest.importorskip("pydantic_ai")
    import sqlite3

    from pydantic_ai.exceptions import ModelHTTPError
    from pydantic_ai.models.function import FunctionModel

    from arena_agents.llm.agent import LLMAgent

    def reject(messages, info):
        raise ModelHTTPError(401, "gpt-4o-mini", {"error": {"message": "Incorrect API key provided: sk-wrong"}})

    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
    monkeypatch.setattr(LLMAgent, "_hosted_model", lambda self: FunctionModel(reject))
    db = tmp_path / "r.sqlite"
    argv = ["eval", "-o", "size=4", "--limit", "3", "--agent", "llm:openai:gpt-4o-mini", "--no-progress"]
    code, out, err = run(capsys, *argv, "--db", str(db), "--out", str(tmp_path / "o"))
    assert code == 2 and out == "" and "Traceback" not in err
    (line,) = [x for x in err.splitlines() if "error" in x]  # the other line is the data banner
    assert line.startswith("arena: error: llm:openai:gpt-4o-mini: the provider rejected the API key (HTTP 401")
    assert "check OPENAI_API_KEY" in line and "llm:test" in line
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*) FROM candidates").fetchone()[0] == 0


def test_eval_retries_failed_candidates_unless_told_not_to(tmp_path, capsys, monkeypatch):
    """`arena eval` run again asks for stored failures again (and says so); --no-retry-failed keeps them."""
    import dataclasses

    from arena_agents import registry
    from arena_envs.protocol import Candidate

    state = {"up": False, "asked": 0}

    @dataclasses.dataclass(frozen=True)
    class FlakyConfig:
        pass

    class Flaky:
        name, config = "flaky", FlakyConfig()

        def act(self, puzzles, k):
            state["asked"] += len(puzzles)
            inner = registry.make_agent("oracle")
            if state["up"]:
                return inner.act(puzzles, k)
            return [[Candidate(None, error="ConnectionError: server down")] * k for _ in puzzles]

    entry = registry.AgentEntry("flaky", "baseline", FlakyConfig, lambda c: Flaky(), "test agent")
    monkeypatch.setitem(registry.AGENTS, "flaky", entry)
    argv = ["eval", "-o", "size=4", "-o", "count=8", "--agent", "flaky", "-k", "2", "--json", "--no-progress"]
    argv += ["--db", str(tmp_path / "r.sqlite"), "--out", str(tmp_path / "o")]
    code, out, _ = run(capsys, *argv)
    assert code == 0 and json.loads(out)[0]["failed"] == 16 and state["asked"] == 8
    state["up"] = True
    code, out, err = run(capsys, *argv, "--no-retry-failed")
    assert code == 0 and json.loads(out)[0]["failed"] == 16 and state["asked"] == 8  # kept, nobody asked
    code, out, err = run(capsys, *argv)
    summary = json.loads(out)[0]
    assert code == 0 and summary["failed"] == 0 and summary["pass_at_1"] == 1.0 and state["asked"] == 16
    assert "flaky: asked again for 16 failed candidates" in err


def test_a_long_agent_spec_prints_a_short_name_and_the_json_keeps_the_full_spec(tmp_path, capsys):
    """`trm:` / `llm:` specs made rows of 270 characters: the table shows NAME:MAIN#HASH, the JSON the spec."""
    pytest.importorskip("pydantic_ai")
    spec = "llm:test,temperature=0.5,api_key_env="
    spec += "K" * (200 - len(spec))
    assert len(spec) == 200
    args = ["eval", "-o", "size=4", "-o", "count=3", "--agent", spec, "--agent", "oracle", "--no-progress"]
    args += ["--db", str(tmp_path / "r.sqlite"), "--out", str(tmp_path / "out")]
    code, out, err = run(capsys, *args)
    assert code == 0, err
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 120
    (row,) = [line for line in lines if line.startswith("llm:")]
    summary = json.loads(next((tmp_path / "out").glob("*__llm__*.json")).read_text())
    assert row.split()[0] == f"llm:test#{summary['agent_hash'][:6]}"
    assert summary["agent_name"] == "llm" and summary["agent_config"]["api_key_env"] == "K" * 163
    assert summary["agent_config"]["temperature"] == 0.5
    assert next(line for line in lines if line.startswith("oracle")).split()[0] == "oracle"  # short specs as they are
    code, out, err = run(capsys, *args, "--json")
    assert code == 0 and json.loads(out)[0]["agent_config"]["api_key_env"] == "K" * 163


def test_display_names():
    from arena_harness.summary import display_name

    assert display_name("budgeted", {"max_nodes": 8, "seed": 0}, "abc") == "budgeted:max_nodes=8,seed=0"
    trm = {"path": "runs/train/trm/model.safetensors", "steps": None, "batch_size": 256, "device": "auto"}
    assert display_name("trm", trm, "3f2a91c0ffee0000") == "trm:model.safetensors#3f2a91"
    llm = {"model": "openai:gpt-4o-mini", "strategy": "direct", "temperature": 0.7, "max_tokens": 2048}
    assert display_name("llm", llm, "a1b2c3d4e5f60000") == "llm:openai:gpt-4o-mini#a1b2c3"
    long = display_name("llm", {"model": "x" * 80, "strategy": "agentic"}, "a1b2c3d4")
    assert len(long) <= 32 and long.endswith("...#a1b2c3")
    assert display_name("llm", {**llm, "temperature": 0.2}, "ffffff00") != display_name("llm", llm, "a1b2c3d4")
