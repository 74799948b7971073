"""LDT actually learns, and stays sound: trained on a 2-core CPU, it solves held-out 4x4 Sudoku and 6x6 mazes
through ``ldt:PATH`` and the harness, answering almost every puzzle and none wrongly. Mazes learn with the
lattice-conditioned target (the shortest paths still in the lattice, ``training_targets``); see docs/agents/ldt.md.

Soundness is the model's own: the solver answers when its lattice is a full, contradiction-free assignment,
and only afterwards does the env's verifier judge it; the harness counts the wrong answers.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from arena_agents.recursive.ldt_train import train  # noqa: E402
from arena_agents.recursive.presets import PRESETS  # noqa: E402
from arena_agents.registry import make_agent  # noqa: E402
from arena_envs.registry import make_puzzle_set  # noqa: E402
from arena_harness import ResultStore, RunOptions, evaluate  # noqa: E402

CASES = {"sudoku4": "ldt-sudoku4-cpu", "maze6": "ldt-maze6-cpu"}  # `arena train --preset NAME`


@pytest.mark.slow
@pytest.mark.timeout(1200)
@pytest.mark.parametrize("case", sorted(CASES))
def test_ldt_learns_and_answers_held_out_puzzles_soundly(case, tmp_path):
    preset = PRESETS[CASES[case]]
    env, data, solver = preset.env, dict(preset.env_options), preset.agent_options
    result = train(preset.config(), tmp_path / "run")
    assert result.step == preset.trainer["steps"]
    test_set = make_puzzle_set(env, split="test", **data)
    train_set = make_puzzle_set(env, split="train", **data)
    seen = {p.grid.tobytes() for p in train_set.puzzles}
    agent = make_agent(f"ldt:{tmp_path / 'run'},{solver}")
    with ResultStore(tmp_path / "eval.sqlite") as store:
        run = evaluate(test_set, agent, store, RunOptions(k=1, limit=300, progress=False), agent_kind="recursive")
    grids = {p.id: p.grid.tobytes() for p in test_set.puzzles}
    held_out = [r for r in run.records if grids[r.puzzle_id] not in seen]
    assert len(held_out) >= 250
    answered = [r for r in held_out if r.answered]
    wrong = [r for r in answered if not r.ok]
    coverage = len(answered) / len(held_out)
    print(f"{case}: coverage {coverage:.3f}, wrong {len(wrong)} of {len(answered)}, summary {run.summary.to_dict()}")
    assert coverage >= 0.95, f"coverage {coverage:.3f}"
    assert not wrong, f"{len(wrong)} wrong answers, e.g. {wrong[0].reason}"
    assert all(r.cost["steps"] >= 1 and r.cost["nfe"] == 16 * r.cost["steps"] for r in held_out)
