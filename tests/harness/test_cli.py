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

    def fill_up(self, records):  # the third batch finds the disk full
        calls.append(len(records))
        if len(calls) == 3:
            raise sqlite3.OperationalError("database or disk is full")
        return real_write(self, records)

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
