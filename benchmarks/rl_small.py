"""MaskablePPO (``arena rl``) against the masked random policy on small boards, on 2 CPU cores.

    python benchmarks/rl_small.py                     # about 4 minutes of training, then the evaluations
    python benchmarks/rl_small.py --timesteps 200000  # a quicker look

For 4x4 Sudoku (step mode, conflicting digits masked) and 6x6 mazes, both generated: train on the train split,
then evaluate on the first ``--limit`` test puzzles through ``sb3:PATH`` and the harness:

* ``PPO greedy`` (k=1): the most likely legal action at every step;
* ``PPO sampled`` (k=8): sample 0 greedy, 1..7 drawn from the policy; pass@8 is the share with any right answer;
* ``masked random`` (k=8): ``sampling=uniform``, every legal action equally likely (pass@1 = the mean over samples).

Results go to ``benchmarks/results/rl-small.json`` with exact 95% Clopper-Pearson intervals, and the verifier
evaluations during training to ``benchmarks/results/rl-small-<case>-eval.jsonl`` (the learning curves).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from arena_agents.registry import make_agent
from arena_agents.rl.ppo import PPOConfig, train
from arena_envs.registry import make_puzzle_set
from arena_harness import ResultStore, RunOptions, evaluate
from arena_harness.metrics import clopper_pearson_interval

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
RECIPE = {"num_envs": 128, "n_steps": 32, "batch_size": 1024, "learning_rate": 1e-3, "eval_puzzles": 300}
CASES = {
    "sudoku4": ("arena/SudokuExtremeStep-v0", {"size": 4, "mask_conflicts": True}),
    "maze6": ("arena/MazeHardStep-v0", {"size": 6}),
}


def interval(successes: int, n: int) -> dict[str, object]:
    lower, upper = clopper_pearson_interval(successes, n)
    return {"rate": successes / n, "successes": successes, "ci95": [lower, upper]}


def run_case(name: str, timesteps: int, limit: int, tmp: Path) -> dict[str, object]:
    env_id, options = CASES[name]
    config = PPOConfig(env_id=env_id, env_options=options, total_timesteps=timesteps,
                       eval_every=max(timesteps // 5, 1), **RECIPE)  # fmt: skip
    started = time.perf_counter()
    result = train(config, tmp / name, echo=print)
    seconds = time.perf_counter() - started
    shutil.copy(tmp / name / "eval.jsonl", RESULTS / f"rl-small-{name}-eval.jsonl")
    puzzles = make_puzzle_set(env_id, split="test", **options)  # the answer env's test split of the same data
    model = tmp / name / "model.zip"
    rows = []
    with ResultStore(tmp / f"{name}.sqlite") as store:
        for label, spec, k in (
            ("PPO greedy", f"sb3:{model}", 1),
            ("PPO sampled", f"sb3:{model}", 8),
            ("masked random", f"sb3:{model},sampling=uniform", 8),
        ):
            options_run = RunOptions(k=k, batch_size=64, limit=limit, progress=False)
            run = evaluate(puzzles, make_agent(spec), store, options_run, agent_kind="rl")
            s, n = run.summary, run.summary.n_puzzles
            first = sum(1 for r in run.records if r.sample_index == 0 and r.ok)  # sample 0 alone: greedy, or one draw
            rows.append({
                "label": label, "agent": spec.replace(str(model), "RUN/model.zip"), "k": k, "n_puzzles": n,
                "pass_at_1": s.pass_at_1, "sample_0": interval(first, n),
                "pass_at_k": interval(round(s.pass_at_k * n), n),
                "coverage": s.coverage, "steps_per_candidate": s.cost_mean.get("steps"),
            })  # fmt: skip
            print(f"{name} {label:14s} k={k}  sample 0 {first}/{n}  pass@1 {s.pass_at_1:.3f}  pass@k {s.pass_at_k:.3f}")
    return {"env": env_id, "env_options": options, "timesteps": result.timesteps, "training_seconds": seconds,
            "steps_per_second": result.timesteps / seconds, "recipe": RECIPE, "runs": rows}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timesteps", type=int, default=1_000_000, help="env steps per case (default 1,000,000)")
    parser.add_argument("--limit", type=int, default=1000, help="test puzzles (default 1000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = {name: run_case(name, args.timesteps, args.limit, Path(tmp)) for name in CASES}
    out = RESULTS / "rl-small.json"
    out.write_text(json.dumps({"limit": args.limit, "cases": results}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
