"""Learning evidence for ``arena rl``: MaskablePPO beats the masked random policy on held-out boards.

Trained on the train split of generated 4x4 Sudoku (step mode with conflicting digits masked) and of generated
6x6 mazes, then evaluated through ``sb3:PATH`` and the harness on the first 200 puzzles of the test split,
greedy, against ``sampling=uniform`` (the same rollout with every legal action equally likely). The claim is
that the trained policy's exact 95% Clopper-Pearson interval lies wholly above the random policy's.
Measured on 2 cores (``benchmarks/rl_small.py`` runs the same recipe longer; docs/rl.md has its figures).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("sb3_contrib")

from arena_harness.cli import main as arena_main
from arena_harness.metrics import clopper_pearson_interval

RECIPE = ["--num-envs", "128", "-s", "n_steps=32", "-s", "batch_size=1024", "-s", "learning_rate=1e-3"]
CASES = {
    "sudoku4": (
        "arena/SudokuExtremeStep-v0",
        "arena/SudokuExtreme-v0",
        ["-o", "size=4"],
        ["-o", "mask_conflicts=true"],
    ),
    "maze6": ("arena/MazeHardStep-v0", "arena/MazeHard-v0", ["-o", "size=6"], []),
}


def _solved(tmp_path: Path, answer_env: str, data: list[str], agent: str, tag: str) -> int:
    out = tmp_path / f"summaries-{tag}"
    argv = ["eval", "--env", answer_env, *data, "--agent", agent, "--limit", "200", "--db", str(tmp_path / "db"),
            "--out", str(out), "--no-progress"]  # fmt: skip
    assert arena_main(argv) == 0
    summary = json.loads(next(out.glob("*.json")).read_text())
    assert summary["n_puzzles"] == 200
    return round(summary["pass_at_1"] * 200)


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_ppo_beats_the_masked_random_policy(case: str, tmp_path: Path) -> None:
    step_env, answer_env, data, dynamics = CASES[case]
    run = tmp_path / "run"
    argv = ["rl", "--env", step_env, *data, *dynamics, "--total-timesteps", "150000", *RECIPE,
            "-s", "eval_every=0", "-s", "eval_puzzles=50", "--seed", "0", "--out", str(run)]  # fmt: skip
    assert arena_main(argv) == 0
    trained = _solved(tmp_path, answer_env, data, f"sb3:{run}/model.zip", "ppo")
    random = _solved(tmp_path, answer_env, data, f"sb3:{run}/model.zip,sampling=uniform", "uniform")
    low, _ = clopper_pearson_interval(trained, 200)
    _, high = clopper_pearson_interval(random, 200)
    print(f"{case}: PPO {trained}/200 (low {low:.3f}), masked random {random}/200 (high {high:.3f})")
    assert low > high, (trained, random)
