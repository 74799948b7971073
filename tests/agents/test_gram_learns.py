"""GRAM actually learns: trained for about a minute on the CPU (the preset ``gram-sudoku4-cpu``), it solves
held-out 4x4 Sudoku through ``gram:PATH`` and the harness, and its value head (LPRM) ranks right samples above
wrong ones.

Eight sampled trajectories per puzzle (k=8, n=1): the harness's best-Q@8 is LPRM selection, and the value head's
AUROC is measured over every sample. Training and evaluation go through the public path end to end.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from arena_agents.recursive.presets import PRESETS  # noqa: E402
from arena_agents.recursive.train import train  # noqa: E402
from arena_agents.registry import make_agent  # noqa: E402
from arena_envs.registry import make_puzzle_set  # noqa: E402
from arena_harness import ResultStore, RunOptions, evaluate  # noqa: E402
from arena_harness.metrics import auroc  # noqa: E402

PRESET = PRESETS["gram-sudoku4-cpu"]  # `arena train --preset gram-sudoku4-cpu`
K, LIMIT = 8, 300


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_gram_learns_4x4_sudoku_and_its_value_head_picks_right_samples(tmp_path):
    result = train(PRESET.config(), tmp_path / "run")
    assert result.step == PRESET.settings()["steps"] and result.last_eval is not None

    test_set = make_puzzle_set(PRESET.env, split="test", **PRESET.env_options)
    train_set = make_puzzle_set(PRESET.env, split="train", **PRESET.env_options)
    seen = {q.tobytes() for q in train_set.arrays.questions}
    agent = make_agent(f"gram:{tmp_path / 'run'},{PRESET.agent_options}")
    with ResultStore(tmp_path / "eval.sqlite") as store:
        options = RunOptions(k=K, batch_size=400, limit=LIMIT, progress=False)
        run = evaluate(test_set, agent, store, options, agent_kind="recursive")
    s = run.summary
    held_out = {p.id for p in test_set.puzzles[:LIMIT] if p.grid.tobytes() not in seen}
    assert len(held_out) > 0.9 * LIMIT
    records = [r for r in run.records if r.puzzle_id in held_out]
    distinct = {(r.puzzle_id, str(r.answer)) for r in records}
    assert len(distinct) > len(held_out)  # some puzzles get different samples: the learned noise is not zero
    assert s.best_q_at_k >= 0.90, f"best-Q@{K} {s.best_q_at_k:.3f}"
    assert s.pass_at_k >= s.best_q_at_k >= s.pass_at_1 - 0.02
    value_auroc = auroc([r.q for r in records], [r.ok for r in records])
    wrong = sum(not r.ok for r in records)
    assert wrong >= 5, f"only {wrong} wrong samples: the AUROC would mean little"
    assert value_auroc > 0.8, f"value-head AUROC {value_auroc:.3f} over {len(records)} samples ({wrong} wrong)"
    print(
        f"pass@1 {s.pass_at_1:.3f} best-Q@{K} {s.best_q_at_k:.3f} vote@{K} {s.vote_at_k:.3f} pass@{K} "
        f"{s.pass_at_k:.3f}; value AUROC {value_auroc:.3f} ({wrong} wrong of {len(records)}); {result.last_eval}"
    )
