"""The runner: batched evaluation, durable records, exact-once resume after a kill, sharding, summaries."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from arena_agents.registry import make_agent
from arena_envs.protocol import Candidate
from arena_envs.registry import make_puzzle_set
from arena_harness.runner import AgentError, RunOptions, Shard, evaluate
from arena_harness.store import ResultStore

SMALL = {"size": 4, "count": 60, "seed": 3}


@pytest.fixture(scope="module")
def small_set():
    return make_puzzle_set("arena/SudokuExtreme-v0", split="test", **SMALL)


def test_oracle_scores_one_random_and_copy_score_what_they_score(small_set, tmp_path):
    with ResultStore(tmp_path / "r.sqlite") as store:
        oracle = evaluate(small_set, make_agent("oracle"), store, RunOptions(k=2, progress=False)).summary
        copy = evaluate(small_set, make_agent("copy"), store, RunOptions(k=1, progress=False)).summary
        rnd = evaluate(small_set, make_agent("random"), store, RunOptions(k=4, progress=False))
    assert oracle.pass_at_1 == 1.0 and oracle.pass_at_k == 1.0 and oracle.coverage == 1.0 and oracle.wrong == 0
    assert oracle.n_candidates == 2 * len(small_set.puzzles)
    assert copy.pass_at_1 == 0.0 and copy.wrong == len(small_set.puzzles)
    # random on 4x4 does solve some puzzles; its score must equal an independent count of its answers
    verdicts = [small_set.verify(p, None) for p in small_set.puzzles[:1]]
    assert verdicts[0].abstained
    by_puzzle: dict[str, list[bool]] = {}
    agent = make_agent("random")
    for p, cands in zip(small_set.puzzles, agent.act(small_set.puzzles, 4)):
        by_puzzle[p.id] = [small_set.verify(p, c.answer).ok for c in cands]
    expect_pass1 = np.mean([np.mean(v) for v in by_puzzle.values()])
    assert rnd.summary.pass_at_1 == pytest.approx(expect_pass1, abs=1e-12)
    assert rnd.summary.best_q_at_k is None  # random has no confidence


def test_budgeted_solver_abstains_and_is_sound(tmp_path):
    hard = make_puzzle_set("arena/SudokuExtreme-v0", split="test")
    with ResultStore(tmp_path / "r.sqlite") as store:
        s = evaluate(hard, make_agent("budgeted:max_nodes=4"), store, RunOptions(limit=40, progress=False)).summary
    assert 0 < s.coverage < 1
    assert s.wrong == 0 and s.sound
    assert s.wrong_rate_upper95 == pytest.approx(1 - 0.05 ** (1 / s.answered))


def test_rerun_does_not_redo_work(small_set, tmp_path):
    with ResultStore(tmp_path / "r.sqlite") as store:
        first = evaluate(small_set, make_agent("random"), store, RunOptions(k=3, limit=20, progress=False))
        again = evaluate(small_set, make_agent("random"), store, RunOptions(k=3, limit=20, progress=False))
        more = evaluate(small_set, make_agent("random"), store, RunOptions(k=3, limit=30, progress=False))
    assert first.added == 60 and again.added == 0 and more.added == 30
    assert again.summary.pass_at_1 == first.summary.pass_at_1


def test_shards_merge_into_the_full_run(small_set, tmp_path):
    full_db, merged_db = tmp_path / "full.sqlite", tmp_path / "merged.sqlite"
    with ResultStore(full_db) as store:
        full = evaluate(small_set, make_agent("random:seed=5"), store, RunOptions(k=2, progress=False)).summary
    for i in range(3):
        with ResultStore(tmp_path / f"s{i}.sqlite") as store:
            part = evaluate(
                small_set,
                make_agent("random:seed=5"),
                store,
                RunOptions(k=2, shard=Shard(i, 3), progress=False),
            ).summary
            assert part.n_puzzles == len(small_set.puzzles[i::3])
    with ResultStore(merged_db) as out:
        for i in range(3):
            out.merge_from(tmp_path / f"s{i}.sqlite")
        merged = evaluate(small_set, make_agent("random:seed=5"), out, RunOptions(k=2, progress=False))
    assert merged.added == 0
    assert merged.summary.pass_at_1 == full.pass_at_1 and merged.summary.vote_at_k == full.vote_at_k


def test_agent_protocol_violations_are_clear(small_set, tmp_path):
    class Short:
        name, config = "short", {}

        def act(self, puzzles, k):
            return [[Candidate(None)] for _ in puzzles[:-1]]

    class Crashes:
        name, config = "crashes", {}

        def act(self, puzzles, k):
            raise RuntimeError("boom")

    with ResultStore(tmp_path / "r.sqlite") as store:
        with pytest.raises(AgentError, match="returned 9 candidate lists for 10 puzzles"):
            evaluate(small_set, Short(), store, RunOptions(limit=10, batch_size=10, progress=False))
        with pytest.raises(AgentError, match=r"raised RuntimeError: boom.*rerun to resume"):
            evaluate(small_set, Crashes(), store, RunOptions(limit=10, progress=False))


def test_fewer_candidates_than_k_are_recorded_as_failures(small_set, tmp_path):
    class OneOnly:
        name, config = "one-only", {"v": 1}

        def act(self, puzzles, k):
            return [[Candidate(None)] for _ in puzzles]

    with ResultStore(tmp_path / "r.sqlite") as store:
        s = evaluate(small_set, OneOnly(), store, RunOptions(k=3, limit=5, progress=False)).summary
    assert s.n_candidates == 15 and s.failed == 10 and s.coverage == 0.0


SLOW_RUN = textwrap.dedent(
    """
    import sys, time
    from arena_envs.registry import make_puzzle_set
    from arena_agents.registry import make_agent
    from arena_harness import ResultStore, RunOptions, evaluate

    db, log = sys.argv[1], sys.argv[2]
    inner = make_agent("random:seed=11")

    class Slow:
        name, config = inner.name, inner.config   # same identity as the plain random agent
        def act(self, puzzles, k):
            with open(log, "a") as fh:
                fh.write("\\n".join(p.id for p in puzzles) + "\\n")
            time.sleep(0.15)
            return inner.act(puzzles, k)

    ps = make_puzzle_set("arena/SudokuExtreme-v0", split="test", size=4, count=60, seed=3)
    with ResultStore(db) as store:
        r = evaluate(ps, Slow(), store, RunOptions(k=3, batch_size=4, limit=48, progress=False))
    print(r.added, r.summary.n_candidates, r.summary.pass_at_1)
    """
)


@pytest.mark.slow
def test_killed_run_resumes_with_every_result_exactly_once(tmp_path, small_set):
    script = tmp_path / "slow_run.py"
    script.write_text(SLOW_RUN)
    db, log1, log2 = tmp_path / "r.sqlite", tmp_path / "acted1.txt", tmp_path / "acted2.txt"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(db), str(log1)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    rows = 0
    deadline = time.time() + 120
    while time.time() < deadline and rows < 24:
        time.sleep(0.05)
        if db.exists():
            try:
                with sqlite3.connect(db) as con:
                    rows = con.execute("SELECT COUNT(*) FROM candidates").fetchone()[0]
            except sqlite3.OperationalError:
                rows = 0
    assert proc.poll() is None, "the run finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(db) as con:
        committed = {r[0] for r in con.execute("SELECT DISTINCT puzzle_id FROM candidates")}
        partial = con.execute("SELECT COUNT(*) FROM candidates").fetchone()[0]
    assert 0 < partial < 48 * 3 and partial % 12 == 0  # whole batches only (4 puzzles x k=3)

    out = subprocess.run(
        [sys.executable, str(script), str(db), str(log2)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    added, n_candidates, pass1 = out.stdout.split()
    assert int(added) == 48 * 3 - partial and int(n_candidates) == 48 * 3
    redone = set(log2.read_text().split()) & committed
    assert not redone, f"resumed run redid committed puzzles {sorted(redone)[:3]}"
    with sqlite3.connect(db) as con:
        keys = con.execute("SELECT puzzle_id, sample_index, COUNT(*) FROM candidates GROUP BY 1, 2").fetchall()
    assert len(keys) == 48 * 3 and all(c == 1 for _, _, c in keys)
    # the resumed result equals an uninterrupted run of the same agent
    with ResultStore(tmp_path / "fresh.sqlite") as store:
        fresh = evaluate(small_set, make_agent("random:seed=11"), store, RunOptions(k=3, limit=48, progress=False))
    assert float(pass1) == pytest.approx(fresh.summary.pass_at_1, abs=1e-12)
    assert json.loads(json.dumps(fresh.summary.to_dict()))["n_candidates"] == 144
    assert Path(db).exists()


class _Scripted:
    """An agent whose candidate per puzzle follows a script: 'fail' (an agent error), 'wrong', 'abstain' or
    'right'; records every puzzle id it is asked about."""

    name, config = "scripted", {"v": 1}

    def __init__(self, puzzle_set, script):
        self.puzzle_set, self.script, self.asked = puzzle_set, script, []

    def act(self, puzzles, k):
        out = []
        for p in puzzles:
            self.asked.append(p.id)
            label = self.puzzle_set.label(p)
            what = self.script(p.id)
            if what == "fail":
                cand = Candidate(None, error="TimeoutError: request timed out")
            elif what == "abstain":
                cand = Candidate(None)
            elif what == "wrong":
                cand = Candidate(np.asarray(p.grid))  # the unsolved board: a wrong answer
            else:
                cand = Candidate(label)
            out.append([cand] * k)
        return out


def test_failed_candidates_are_asked_again_on_rerun_and_answers_are_final(small_set, tmp_path):
    """Regression: a rerun treated stored failures (timeouts, refused requests) as results forever. Now a rerun
    asks again for failed candidates only and replaces them; wrong answers and abstentions stay as they were;
    --no-retry-failed (retry_failed=False) keeps the failures."""
    ids = [p.id for p in small_set.puzzles[:12]]
    first = {pid: ("fail", "wrong", "abstain", "right")[i % 4] for i, pid in enumerate(ids)}
    opts = RunOptions(k=2, limit=12, batch_size=5, progress=False)
    with ResultStore(tmp_path / "r.sqlite") as store:
        a = evaluate(small_set, _Scripted(small_set, first.get), store, opts)
        assert a.summary.failed == 6 and a.retried == 0 and a.added == 24
        before = {(r.puzzle_id, r.sample_index): r for r in store.all_records()}

        keep = _Scripted(small_set, lambda pid: "right")
        kept = evaluate(small_set, keep, store, dataclasses.replace(opts, retry_failed=False))
        assert keep.asked == [] and kept.added == 0 and kept.summary.failed == 6

        fixed = _Scripted(small_set, lambda pid: "right")  # the server is back: every answer is now right
        b = evaluate(small_set, fixed, store, opts)
        assert sorted(fixed.asked) == sorted(pid for pid in ids if first[pid] == "fail")  # only the failed ones
        assert b.retried == 6 and b.added == 6 and b.summary.failed == 0
        after = {(r.puzzle_id, r.sample_index): r for r in store.all_records()}
    assert len(after) == 24  # replaced in place: never a second row for a key
    for key, old in before.items():
        new = after[key]
        if first[key[0]] == "fail":
            assert new.ok and new.error is None and new.created_at >= old.created_at
        else:  # wrong answers and abstentions are results: untouched
            assert new == old
    assert b.summary.wrong == 3 * 2 and b.summary.coverage == pytest.approx(18 / 24)


def test_a_failed_replacement_batch_keeps_the_stored_failures(small_set, tmp_path):
    """Replacing a failure is part of the batch's transaction: if the batch cannot be written, the failures it
    was to replace are still there (nothing deleted, nothing half-written)."""
    from arena_harness.records import CandidateRecord

    opts = RunOptions(k=1, limit=4, progress=False)
    with ResultStore(tmp_path / "r.sqlite") as store:
        evaluate(small_set, _Scripted(small_set, lambda pid: "fail"), store, opts)
        stored = store.all_records()
        good = dataclasses.replace(stored[0], answer="[[1]]", ok=True, error=None, reason="")
        bad = CandidateRecord(**{**dataclasses.asdict(stored[1]), "error": None, "q": object()})  # unbindable
        with pytest.raises(sqlite3.Error):
            store.write([good, bad], replace_failed=True)
        assert store.all_records() == stored  # the first row's replacement was rolled back with the batch
        assert store.write([good], replace_failed=True) == 1
        assert store.write([dataclasses.replace(stored[0])], replace_failed=True) == 0  # an answer is never replaced
        assert store.all_records()[0] == good
