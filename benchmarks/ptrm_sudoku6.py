"""PTRM against the TRM it runs on, on a TRM-MLP trained on a 2-core CPU for 6x6 Sudoku.

    python benchmarks/ptrm_sudoku6.py              # the shipped checkpoint; about 12 minutes on 2 cores
    python benchmarks/ptrm_sudoku6.py --retrain    # train the TRM again first (about 2.5 minutes)
    python benchmarks/ptrm_sudoku6.py --limit 200  # a quicker look

The TRM is ``checkpoints/trm-mlp-sudoku6-cpu/model.safetensors``: TRM-MLP at width 64 (the preset
``trm-sudoku6-cpu`` of ``arena_agents.recursive.presets``: 1,000 optimiser steps, EMA weights) on the 2,000
generated 6x6 training puzzles. On the first ``--limit`` puzzles of the 6x6 test split (generated with the
same seed, disjoint from training) it evaluates, through the harness and the env's verifier:

* ``trm`` k=1: the TRM's own answer (pass@1), at its training depth (4 supervision steps) and at 16;
* ``trm`` k=16: the TRM on 16 symmetries of each puzzle (digit, band/stack, row/column permutations mapped
  back exactly): best-Q@16 and vote@16, the task-specific augmentation baseline PTRM is meant to replace;
* ``ptrm`` k=16 at several sigma, latents and depths: best-Q@16 is PTRM's answer (the rollout with the
  highest final q), pass@16 the ceiling a perfect verifier would reach.

Every rate comes with its exact 95% Clopper-Pearson interval (with k = n = 16 each puzzle scores 0 or 1; ties
in q make a rare fraction, rounded). Writes ``benchmarks/results/ptrm-sudoku6.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from arena_agents.recursive.presets import PRESETS
from arena_agents.recursive.train import train
from arena_agents.registry import make_agent
from arena_envs.registry import make_puzzle_set
from arena_harness import ResultStore, RunOptions, evaluate
from arena_harness.metrics import clopper_pearson_interval

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINT = ROOT / "checkpoints" / "trm-mlp-sudoku6-cpu"
RESULTS = ROOT / "benchmarks" / "results" / "ptrm-sudoku6.json"
PRESET = PRESETS["trm-sudoku6-cpu"]  # the recipe: `arena train --preset trm-sudoku6-cpu`
ENV, DATA, RECIPE = PRESET.env, dict(PRESET.env_options), PRESET.settings()
K = 16
RUNS = [  # (label, agent spec with CK for the checkpoint, k)
    ("TRM", "trm:CK", 1),
    ("TRM, 16 steps", "trm:CK,steps=16", 1),
    ("TRM, 16 symmetries", "trm:CK", K),
    ("PTRM sigma=0.1", "ptrm:CK,sigma=0.1", K),
    ("PTRM sigma=0.3", "ptrm:CK,sigma=0.3", K),
    ("PTRM sigma=1.0", "ptrm:CK,sigma=1.0", K),
    ("PTRM sigma=0.3, noise in y", "ptrm:CK,sigma=0.3,latent=y", K),
    ("PTRM sigma=0.3, noise in y and z", "ptrm:CK,sigma=0.3,latent=both", K),
    ("PTRM sigma=0.3, 16 steps", "ptrm:CK,sigma=0.3,steps=16", K),
]


def retrain() -> None:
    """Train the TRM with the preset's recipe and copy its EMA weights and log into checkpoints/."""
    with tempfile.TemporaryDirectory() as tmp:
        result = train(PRESET.config(), Path(tmp) / "run", echo=print)
        CHECKPOINT.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(tmp) / "run" / "model.safetensors", CHECKPOINT / "model.safetensors")
        shutil.copy(Path(tmp) / "run" / "log.jsonl", CHECKPOINT / "log.jsonl")
        print(f"trained: {result.last_eval}")


def with_interval(rate: float, n: int) -> dict[str, float]:
    successes = round(rate * n)
    lower, upper = clopper_pearson_interval(successes, n)
    return {"rate": rate, "successes": successes, "ci95": [lower, upper]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--retrain", action="store_true", help="train the TRM again before evaluating")
    parser.add_argument("--limit", type=int, default=1000, help="test puzzles (default 1000)")
    args = parser.parse_args()
    if args.retrain or not (CHECKPOINT / "model.safetensors").is_file():
        retrain()
    puzzles = make_puzzle_set(ENV, split="test", **DATA)
    rows = []
    with tempfile.TemporaryDirectory() as tmp, ResultStore(Path(tmp) / "bench.sqlite") as store:
        for label, spec, k in RUNS:
            agent = make_agent(spec.replace("CK", str(CHECKPOINT)))
            started = time.perf_counter()
            options = RunOptions(k=k, batch_size=64, limit=args.limit, progress=False)
            summary = evaluate(puzzles, agent, store, options, agent_kind="recursive").summary
            seconds = time.perf_counter() - started
            n = summary.n_puzzles
            row = {
                "label": label,
                "agent": spec.replace("CK", "checkpoints/trm-mlp-sudoku6-cpu"),
                "k": k,
                "n_puzzles": n,
                "pass_at_1": with_interval(summary.pass_at_1, n),
                "pass_at_k": with_interval(summary.pass_at_k, n),
                "best_q_at_k": with_interval(summary.best_q_at_k or 0.0, n),
                "vote_at_k": with_interval(summary.vote_at_k, n),
                "nfe_per_candidate": summary.cost_mean.get("nfe"),
                "seconds": seconds,
            }
            rows.append(row)
            print(
                f"{label:36s} k={k:2d}  pass@1 {summary.pass_at_1:.3f}  best-Q@k {row['best_q_at_k']['rate']:.3f} "
                f"{_ci(row['best_q_at_k'])}  pass@k {summary.pass_at_k:.3f} {_ci(row['pass_at_k'])}  "
                f"vote@k {summary.vote_at_k:.3f}  {seconds:.0f} s",
                flush=True,
            )
    RESULTS.write_text(
        json.dumps(
            {
                "env": ENV,
                "env_options": DATA,
                "split": "test",
                "limit": args.limit,
                "checkpoint": "checkpoints/trm-mlp-sudoku6-cpu/model.safetensors",
                "recipe": RECIPE,
                "runs": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS}")


def _ci(entry: dict) -> str:
    lower, upper = entry["ci95"]
    return f"[{lower:.3f}, {upper:.3f}]"


if __name__ == "__main__":
    main()
