"""Pencil Puzzle Bench: every stored solution verifies through pzpr.js in both answer forms, broken answers fail
with pzpr's reason, malformed ones are refused, and the Node worker survives being killed."""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AsyncVectorEnv

import arena_envs  # noqa: F401 - registers the envs
from arena_envs.config import ConfigError, DataError
from arena_envs.ppbench import layout
from arena_envs.ppbench.data import decode_solution, encode_solution, load_set, read_jsonl
from arena_envs.ppbench.engine import PzprWorker, WorkerError

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def golden():
    return load_set()


@pytest.fixture(scope="module")
def solved_grids(golden):
    """The board each stored solution leaves, read back as answer channels."""
    judged = [golden.judge(p, golden.label(p)) for p in golden.puzzles]
    assert all(v.ok for v, _ in judged)
    return [state["answer"] for _, state in judged]


def test_golden_set_is_300_puzzles_of_20_varieties(golden):
    pids = [p.meta["pid"] for p in golden.puzzles]
    assert len(pids) == 300 and len(set(pids)) == 20
    assert all(pids.count(pid) == 15 for pid in set(pids))
    assert golden.source == "ppbench-0.1.0:golden_300" and re.fullmatch(r"sha256:[0-9a-f]{64}", golden.fingerprint)
    assert len({p.id for p in golden.puzzles}) == 300
    sudoku = next(p for p in golden.puzzles if p.meta["pid"] == "sudoku")
    assert sudoku.grid.shape == (5, 19, 19) and sudoku.meta["layout"] == (19, 19)
    assert sudoku.meta["number_entry"] and sudoku.meta["max_cell_value"] == 9
    assert sudoku.meta["rules"].startswith("Place a number in each cell.")


def test_every_stored_solution_verifies_as_moves(golden):
    verdicts = golden.verify_batch(golden.puzzles, [golden.label(p) for p in golden.puzzles])
    assert [v.reason for v in verdicts] == ["Complete!"] * 300
    assert all(v.ok and v.extras["code"] is None and v.extras["form"] == "moves" for v in verdicts)


def test_every_stored_solution_verifies_as_a_grid(golden, solved_grids):
    verdicts = golden.verify_batch(golden.puzzles, solved_grids)
    assert all(v.ok for v in verdicts), [v.reason for v in verdicts if not v.ok][:5]
    assert {v.extras["form"] for v in verdicts} == {"grid"}
    # the cell and edge channels are what the varieties answer with: 12 cell-only, 8 with edges
    edge_varieties = {p.meta["pid"] for p, g in zip(golden.puzzles, solved_grids) if g[1:].any()}
    assert edge_varieties == {"yajilin", "slither", "mashu", "shikaku", "dbchoco", "firefly", "sashigane", "country"}


def test_padded_grid_is_accepted_and_padding_is_checked(golden, solved_grids):
    p, grid = golden.puzzles[0], solved_grids[0]
    padded = layout.pad(grid, (grid.shape[1] + 4, grid.shape[2] + 2))
    assert golden.verify(p, padded).ok
    padded[0, -1, -1] = 0
    assert "outside the 17x17 board" in golden.verify(p, padded).reason


def test_dropping_a_required_move_fails_with_pzprs_reason(golden):
    answers = []
    for solution in golden.solutions:
        moves = list(solution["moves_full"])
        moves.remove(solution["moves_required"][0])
        answers.append(moves)
    verdicts = golden.verify_batch(golden.puzzles, answers)
    assert not any(v.ok for v in verdicts)
    assert all(v.extras["code"] and v.reason and v.reason != "Complete!" for v in verdicts)
    assert "Invalid Error" not in {v.reason for v in verdicts}  # every failure has pzpr's own words
    by_pid = {p.meta["pid"]: v for p, v in zip(golden.puzzles, verdicts)}
    assert by_pid["sudoku"].reason == "There is an empty cell."
    assert by_pid["mashu"].reason == "There is a dead-end line."


@pytest.mark.parametrize(
    ("move", "reason"),
    [
        ("editmode", "not a play move"),
        ("newboard,5,5", "not a play move"),
        ("setconfig,multierr,true", "not a play move"),
        ("mouse,left,a,b", "coordinates must be numbers"),
        ("mouse,left,1", "x,y pairs"),
        ("mouse,middle,1,1", "unknown mouse button"),
        ("mouse,left,1,999", "outside the board"),
        ("key,F5", "unknown key"),
        ("cursor,1", "use cursor,x,y"),
        ("", "1..4000 characters"),
    ],
)
def test_malformed_moves_are_rejected_not_skipped(golden, move, reason):
    p = golden.puzzles[0]
    # appended to a full solution, so a silently skipped move would pass
    verdict = golden.verify(p, [*golden.label(p), move])
    assert not verdict.ok and verdict.reason.startswith("malformed answer: move ")
    assert reason in verdict.reason


def test_answers_that_are_not_moves_or_grids_are_malformed(golden):
    p = golden.puzzles[0]
    assert "not a string" in golden.verify(p, ["mouse,left,1,1", 3]).reason
    assert "wrong shape" in golden.verify(p, np.zeros((3, 5, 5), int)).reason
    assert "expected a list of pzpr moves" in golden.verify(p, 3.5).reason
    assert golden.verify(p, None).abstained
    nan = np.zeros((3, 17, 17))
    nan[0, 1, 1] = np.nan
    assert "non-finite" in golden.verify(p, nan).reason
    # one string holds one move per line
    assert golden.verify(p, "\n".join(golden.label(p))).ok


def test_grid_values_pzpr_would_refuse_are_malformed(golden, solved_grids):
    nurikabe = next(i for i, p in enumerate(golden.puzzles) if p.meta["pid"] == "nurikabe")
    p, grid = golden.puzzles[nurikabe], solved_grids[nurikabe].copy()
    y, x = np.argwhere(p.grid[0] > 0)[0]  # a numbered cell, which nurikabe keeps unshaded
    grid[0, y, x] = 1
    assert "holds a clue and cannot be shaded" in golden.verify(p, grid).reason
    grid = solved_grids[nurikabe].copy()
    grid[0, 0, 0] = 1  # a lattice point, not a cell
    assert "not a cell" in golden.verify(p, grid).reason
    grid = solved_grids[nurikabe].copy()
    grid[0, 1, 1] = 7
    assert "value 7 at (0,1,1) is outside 0..1" in golden.verify(p, grid).reason
    sudoku = next(i for i, p in enumerate(golden.puzzles) if p.meta["pid"] == "sudoku")
    p, grid = golden.puzzles[sudoku], solved_grids[sudoku].copy()
    y, x = np.argwhere(p.grid[0] > 0)[0]
    grid[0, y, x] = 1 + grid[0, y, x] % 9
    assert "holds a given number" in golden.verify(p, grid).reason


def test_a_wrong_grid_fails_with_pzprs_reason(golden, solved_grids):
    sudoku = next(i for i, p in enumerate(golden.puzzles) if p.meta["pid"] == "sudoku")
    p, grid = golden.puzzles[sudoku], solved_grids[sudoku].copy()
    ys, xs = np.nonzero((p.grid[0] == -1) & (grid[0] > 0))
    a = (ys[0], xs[0])
    b = next((y, x) for y, x in zip(ys, xs) if y == a[0] and grid[0][y, x] != grid[0][a])
    grid[0][a], grid[0][b] = grid[0][b], grid[0][a]  # swap two digits of one row: two columns repeat
    verdict = golden.verify(p, grid)
    assert not verdict.ok and verdict.reason == "There are equal numbers in a row or column."


def test_killing_the_worker_mid_batch_is_a_clear_error_and_the_next_batch_works(golden):
    worker = PzprWorker()
    puzzles, answers = list(golden.puzzles) * 4, [golden.label(p) for p in golden.puzzles] * 4
    from arena_envs.ppbench.verifier import judge_batch

    assert judge_batch(worker, puzzles[:1], answers[:1])[0][0].ok
    first_pid = worker.pid
    errors: list[BaseException] = []

    def run() -> None:
        try:
            judge_batch(worker, puzzles, answers)
        except BaseException as exc:  # handed to the main thread
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.5)  # 1,200 solutions take seconds: the kill lands inside the batch
    os.kill(first_pid, signal.SIGKILL)
    thread.join(60)
    assert len(errors) == 1 and isinstance(errors[0], WorkerError)
    message = str(errors[0])
    assert f"(pid {first_pid}) exited" in message and "Nothing of this batch was verified" in message
    verdicts = judge_batch(worker, puzzles[:50], answers[:50])
    assert all(v.ok for v, _ in verdicts) and worker.pid not in (None, first_pid)
    assert worker.restarts == 1
    worker.close()


def test_worker_exits_with_its_python_process_and_on_close(golden):
    worker = PzprWorker()
    worker.request("ping")
    pid = worker.pid
    worker.close()
    time.sleep(0.2)
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]


def test_missing_node_and_missing_pzpr_say_what_to_do(monkeypatch):
    monkeypatch.setenv("ARENA_NODE", "/nonexistent/node")
    with pytest.raises(WorkerError, match=r"set ARENA_NODE to a working Node\.js"):
        PzprWorker().request("ping")
    monkeypatch.delenv("ARENA_NODE")
    monkeypatch.setenv("ARENA_PZPRJS", "/nonexistent/pzpr.js")
    with pytest.raises(DataError, match=r"pip install --no-deps ppbench==0\.1\.0"):
        PzprWorker().request("ping")


def test_solution_encoding_roundtrip_and_own_jsonl_files(tmp_path, golden):
    solution = {"moves_full": ["mouse,left,1,1"], "moves_required": ["mouse,left,1,1"], "moves_hint": []}
    assert decode_solution(encode_solution(solution)) == solution
    src = read_jsonl(golden.puzzles[0].meta["data_path"], limit=3)
    path = tmp_path / "mine.jsonl"
    with path.open("w") as fh:
        for rec in src:  # the same puzzles, with plain (not obfuscated) solutions
            fh.write(json.dumps({"puzzlink_url": rec.url, "pid": rec.pid, "solution": rec.solution}) + "\n")
    mine = load_set(data=str(path))
    assert mine.split == "mine" and len(mine.puzzles) == 3 and mine.source.startswith("original:")
    assert all(v.ok for v in mine.verify_batch(mine.puzzles, [mine.label(p) for p in mine.puzzles]))
    bad = tmp_path / "bad.jsonl"
    bad.write_text(path.read_text().splitlines()[0] + "\n{not json\n")
    with pytest.raises(DataError, match=r"bad.jsonl:2"):
        load_set(data=str(bad))
    with pytest.raises(DataError, match="not found"):
        load_set(data=str(tmp_path / "missing.jsonl"))
    with pytest.raises(ConfigError, match="its varieties"):
        load_set(variety="nonogram")
    assert {p.meta["pid"] for p in load_set(variety="tapa").puzzles} == {"tapa"}
    assert len(load_set(split="golden_30").puzzles) == 30


def test_answer_env_moves_grid_and_padded_canvas(golden, solved_grids):
    env = gym.make("arena/PPBench-v0", max_attempts=2)
    obs, info = env.reset(options={"index": 0})
    assert obs.shape == env.observation_space.shape and obs.dtype == np.int16
    u = env.unwrapped
    wrong = list(golden.label(u.puzzle))[:-3]
    obs, r, term, _, info = env.step({"moves": wrong, "abstain": 0})
    assert (r, term, info["verdict"]["ok"], info["verdict"]["reason"]) == (0.0, False, False, "wrong")
    canvas = layout.pad(solved_grids[0], u.canvas)
    obs, r, term, _, info = env.step({"grid": canvas, "abstain": 0})
    assert (r, term, info["verdict"]["reason"]) == (1.0, True, "Complete!")
    assert info["verdicts"][0]["extras"]["code"]  # the wrong attempt's pzpr failure code, told at the end
    h, w = u.puzzle.meta["layout"]
    assert np.array_equal(obs[5:, :h, :w], solved_grids[0])  # the observation shows the board answered


def test_step_env_solves_by_grid_edits_with_shaped_reward(golden, solved_grids):
    env = gym.make("arena/PPBenchStep-v0")
    index = next(i for i, p in enumerate(golden.puzzles) if p.meta["pid"] == "sashigane")
    _, info = env.reset(options={"index": index})
    u = env.unwrapped
    start_broken = len(set(info["broken"]))
    target = solved_grids[index]
    edge = layout.ANSWER_CHANNELS.index(u.puzzle.meta["edge_channel"])
    edits = [(0, y, x) for y, x in np.argwhere(target[0] != 0)] + [(edge, y, x) for y, x in np.argwhere(target[edge])]
    total, term = 0.0, False
    for channel, y, x in edits:
        action = (y * u.canvas[1] + x) * u.n_values + int(target[channel, y, x])
        assert u.action_masks()[action]
        _, reward, term, trunc, info = env.step(action)
        total += reward
        assert not trunc
    assert term and info["verdict"]["ok"] and info["broken"] == []
    assert total == pytest.approx(1.0 + 0.05 * start_broken)
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(0)


def test_step_env_masked_actions_and_pzpr_moves(golden):
    env = gym.make("arena/PPBenchStep-v0", max_steps=3)
    env.reset(options={"index": 0})
    u = env.unwrapped
    masked = int(np.flatnonzero(~u.action_masks())[0])
    obs, reward, term, trunc, info = env.step(masked)
    assert reward == -0.05 and "masked" in info["verdict"]["reason"] and not term
    obs, reward, term, trunc, info = env.step(golden.label(u.puzzle)[0])  # a pzpr move string
    assert info["broken"] is not None and obs[5:].any()
    _, _, term, trunc, info = env.step("mouse,left,a,b")
    assert trunc and not term and "malformed" in info["verdict"]["reason"]


def _worker_processes() -> set[int]:
    found = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes()
                state = (proc / "stat").read_text().split()[2]
            except OSError:
                continue
            if b"ppbench/worker.js" in cmd and state != "Z":
                found.add(int(proc.name))
    return found


def test_async_vector_env_runs_and_leaves_no_worker_behind():
    before = _worker_processes()
    venv = AsyncVectorEnv([lambda: gym.make("arena/PPBench-v0", count=20) for _ in range(2)])
    obs, infos = venv.reset(seed=[1, 2])
    assert obs.shape[0] == 2
    empty = {"grid": np.zeros(venv.action_space["grid"].shape, np.int16), "abstain": np.zeros(2, np.int64)}
    obs, rewards, term, trunc, infos = venv.step(empty)  # an empty board: checked by pzpr, not solved
    assert rewards.tolist() == [0.0, 0.0] and term.all()
    assert all(reason and reason != "Complete!" for reason in infos["verdict"]["reason"])
    during = _worker_processes() - before
    assert len(during) >= 2  # each subprocess started its own Node worker (the parent may hold one too)
    venv.close()
    deadline = time.time() + 10
    while _worker_processes() & during and time.time() < deadline:
        time.sleep(0.1)
    assert not (_worker_processes() & during)


def test_baselines_through_the_harness_and_stored_moves_reverify(golden, tmp_path):
    from arena_agents.registry import make_agent
    from arena_harness.records import decode_answer
    from arena_harness.runner import RunOptions, evaluate
    from arena_harness.store import ResultStore

    with ResultStore(tmp_path / "r.sqlite") as store:
        oracle = evaluate(golden, make_agent("oracle"), store, RunOptions(k=1, progress=False))
        rnd = evaluate(golden, make_agent("random"), store, RunOptions(k=2, progress=False))
        copy = evaluate(golden, make_agent("copy"), store, RunOptions(k=1, progress=False)).summary
    assert oracle.summary.pass_at_1 == 1.0 and oracle.summary.wrong == 0 and oracle.summary.n_puzzles == 300
    assert copy.pass_at_1 == 0.0 and copy.wrong == 300  # an empty board never completes a puzzle
    # random's score is whatever pzpr says of its answers, counted independently here
    agent_rows = make_agent("random").act(golden.puzzles, 2)
    independent = np.mean(
        [np.mean([golden.verify(p, c.answer).ok for c in row]) for p, row in zip(golden.puzzles, agent_rows)]
    )
    assert rnd.summary.pass_at_1 == pytest.approx(independent) and rnd.summary.coverage == 1.0
    # the stored answers are the raw moves and re-verify from the store alone
    stored = {r.puzzle_id: decode_answer(r.answer) for r in oracle.records}
    p = golden.puzzles[7]
    assert stored[p.id] == golden.label(p) and golden.verify(p, stored[p.id]).ok


def test_oversized_or_slow_move_lists_are_refused_fast(golden, monkeypatch):
    """Regression: one candidate of 4,000 long drags stalled the worker for 300 s and aborted intake. Size
    limits are checked before Node sees the answer, and Node stops one answer after its time budget."""
    from arena_envs.ppbench import verifier
    from arena_envs.ppbench.verifier import judge_batch

    p = golden.puzzles[0]
    h, w = p.meta["layout"]
    drag = "mouse,left,1,1," + ",".join(f"{x},{y}" for x, y in [(w - 2, 1), (w - 2, h - 2), (1, h - 2), (1, 1)] * 20)
    started = time.perf_counter()
    assert "at most 200,000" in golden.verify(p, [drag] * 4000).reason  # 1.6 M characters, refused unplayed
    assert "at most 4,000" in golden.verify(p, ["mouse,left" + ",1,1" * 1200]).reason
    assert "at most 20000 are checked" in golden.verify(p, ["mouse,left,1,1"] * 20_001).reason
    assert time.perf_counter() - started < 5
    monkeypatch.setenv("ARENA_PZPR_MOVE_BUDGET_MS", "100")
    with PzprWorker() as worker:  # a fresh worker reads the budget
        slow = [drag] * 400  # allowed sizes, but about a second of pzpr work
        (verdict, _), (fine, _) = judge_batch(worker, [p, p], [slow, golden.label(p)])
    assert not verdict.ok and "took over 0.1 s" in verdict.reason
    assert fine.ok  # the next answer in the same batch is judged as usual
    assert verifier.MOVE_BUDGET_SECONDS == 10


def test_user_files_cannot_redirect_identity_or_stall_node(tmp_path, golden):
    """Regressions: an extra "url" field made answers verify against another puzzle; a 3000 x 3000 board
    killed Node after minutes; malformed lines gave tracebacks. The URL alone is the puzzle's identity, board
    size is read from the URL before a board is built, and every bad line is a DataError naming file:line."""
    first, other = read_jsonl(golden.puzzles[0].meta["data_path"], limit=2)
    path = tmp_path / "mine.jsonl"
    row = {"puzzlink_url": first.url, "pid": first.pid, "solution": first.solution, "url": other.url}
    path.write_text(json.dumps(row) + "\n")
    mine = load_set(data=str(path))
    puzzle = mine.puzzles[0]
    assert puzzle.meta["url"] == first.url
    assert mine.verify(puzzle, first.solution["moves_full"]).ok
    assert not mine.verify(puzzle, other.solution["moves_full"]).ok
    huge = tmp_path / "huge.jsonl"
    huge.write_text(json.dumps({"puzzlink_url": "https://puzz.link/p?yajilin/3000/3000/", "pid": "yajilin"}) + "\n")
    started = time.perf_counter()
    with pytest.raises(DataError, match=r"huge.jsonl:1: .*3000 x 3000 cells; at most 100 x 100"):
        load_set(data=str(huge))
    assert time.perf_counter() - started < 10
    for line, message in [("[1, 2]", "expected a JSON object, got list"), ("[" * 100_000, "RecursionError|Error")]:
        bad = tmp_path / "bad.jsonl"
        bad.write_text(json.dumps(row) + "\n\n" + line + "\n")
        with pytest.raises(DataError, match=rf"bad.jsonl:3: .*({message})"):
            load_set(data=str(bad))
