"""`arena submit` and `arena leaderboard ...` end to end, through the console entry point's main()."""

from __future__ import annotations

import gzip
import json
import sqlite3

import pytest

from arena_leaderboard.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ppbench_run(tmp_path_factory):
    """A real harness run (`arena eval`) of the oracle on the PPBench track."""
    d = tmp_path_factory.mktemp("cli")
    db = d / "runs.sqlite"
    rc = main(
        [
            "eval",
            "--env",
            "arena/PPBench-v0",
            "--agent",
            "oracle",
            "--db",
            str(db),
            "--out",
            str(d / "s"),
            "--no-progress",
        ]
    )
    assert rc == 0
    return d, db


def test_submit_add_build(ppbench_run, capsys):
    d, db = ppbench_run
    assert main(["submit", "--list", "--db", str(db)]) == 0
    assert "arena/PPBench-v0" in capsys.readouterr().out
    sub_path = d / "oracle.json.gz"
    assert main(["submit", "1", "--db", str(db), "-o", str(sub_path)]) == 0
    doc = json.loads(gzip.decompress(sub_path.read_bytes()))
    assert doc["agent"]["name"] == "oracle" and len(doc["candidates"]) == 300
    assert isinstance(doc["candidates"][0]["answer"], list)  # PPBench answers travel as move strings

    board = d / "board.sqlite"
    report = d / "report.json"
    assert main(["leaderboard", "add", str(sub_path), "--board", str(board), "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert "ACCEPTED: 'oracle' on arena/PPBench-v0" in out and "pass@1=1.0000" in out
    assert json.loads(report.read_text())["reports"][0]["accepted"] is True

    # the same entry again is refused (exit 1, one line); --replace swaps it
    assert main(["leaderboard", "add", str(sub_path), "--board", str(board)]) == 1
    assert "already on the arena/PPBench-v0 board" in capsys.readouterr().out
    assert main(["leaderboard", "add", str(sub_path), "--board", str(board), "--replace"]) == 0

    # a forged copy: one answer swapped for a move that does not solve the puzzle, its "correct" claim kept
    doc["candidates"][0]["answer"] = ["mouse,left,1,1"]
    forged = d / "forged.json"
    forged.write_text(json.dumps(doc))
    assert main(["leaderboard", "add", str(forged), "--board", str(board), "--report", str(report)]) == 1
    out = capsys.readouterr().out
    assert "REJECTED" in out and "[verdict-mismatch]" in out and "[claim-mismatch]" in out
    assert json.loads(report.read_text())["reports"][0]["accepted"] is False

    bad = d / "bad.json"
    bad.write_text("{")
    assert main(["leaderboard", "add", str(bad), "--board", str(board)]) == 1
    assert "REJECTED: " in capsys.readouterr().out

    site = d / "site"
    assert main(["leaderboard", "build", "--no-seed", "--board", str(board), "--out", str(site)]) == 0
    data = json.loads((site / "leaderboard.json").read_text())
    ppbench = next(t for t in data["tracks"] if t["env_id"] == "arena/PPBench-v0")
    assert [e["agent"]["name"] for e in ppbench["entries"]] == ["oracle"]
    assert (site / "index.html").stat().st_mode & 0o044 == 0o044  # readable by a web server's user too
    assert main(["leaderboard", "list", "--board", str(board)]) == 0
    assert "oracle" in capsys.readouterr().out
    assert main(["leaderboard", "reverify", "--board", str(board)]) == 0
    assert "'oracle': unchanged" in capsys.readouterr().out
    # a stored summary that no longer matches its submission (as after a verifier fix) is found and repaired
    with sqlite3.connect(board) as db:
        summary = json.loads(db.execute("SELECT summary FROM entries").fetchone()[0])
        db.execute("UPDATE entries SET summary = ?", (json.dumps({**summary, "pass_at_1": 0.5}),))
    assert main(["leaderboard", "reverify", "--board", str(board)]) == 1
    assert "changed pass_at_1 (--update to store)" in capsys.readouterr().out
    assert main(["leaderboard", "reverify", "--update", "--board", str(board)]) == 0
    assert main(["leaderboard", "reverify", "--board", str(board)]) == 0


def test_user_errors_end_in_one_line(ppbench_run, tmp_path, capsys):
    d, db = ppbench_run
    assert main(["submit", "7", "--db", str(db)]) == 2
    assert "no run 7" in capsys.readouterr().err
    assert main(["submit", "1", "--db", str(tmp_path / "missing.sqlite")]) == 2
    assert "no result store at" in capsys.readouterr().err
    not_a_db = tmp_path / "board.sqlite"
    not_a_db.write_text("not sqlite")
    assert main(["leaderboard", "list", "--board", str(not_a_db)]) == 2
    assert "cannot use" in capsys.readouterr().err


def test_add_judges_every_file_even_after_bad_ones(ppbench_run, tmp_path, capsys):
    """Regression: `arena leaderboard add A B C` stopped at the first bad file and reported nothing for the
    rest. A missing file, a gzip bomb and a forged k come first here; the good file is still added."""
    d, db = ppbench_run
    good = tmp_path / "good.json.gz"
    assert main(["submit", "1", "--db", str(db), "-o", str(good)]) == 0
    bomb = tmp_path / "bomb.json.gz"
    with gzip.open(bomb, "wb") as f:
        f.write(b"[" * 50_000 + b"]" * 50_000)
    forged = tmp_path / "forged.json"
    doc = json.loads(gzip.decompress(good.read_bytes()))
    forged.write_text(json.dumps({**doc, "k": 100_000}))
    board, report = tmp_path / "board.sqlite", tmp_path / "report.json"
    files = [tmp_path / "missing.json", bomb, forged, good]
    assert main(["leaderboard", "add", *map(str, files), "--board", str(board), "--report", str(report)]) == 1
    reports = json.loads(report.read_text())["reports"]
    assert [r["file"] for r in reports] == list(map(str, files))
    assert [r["accepted"] for r in reports] == [False, False, False, True]
    messages = [r["problems"][0]["message"] for r in reports[:3]]
    assert (
        "no such file" in messages[0] and "max_depth" in messages[1] and "k must be an integer in 1..64" in messages[2]
    )
    assert "ACCEPTED: 'oracle' on arena/PPBench-v0" in capsys.readouterr().out
