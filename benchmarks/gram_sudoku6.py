"""GRAM against TRM and PTRM on generated 6x6 Sudoku, trained on the same data with the same CPU budget.

    python benchmarks/gram_sudoku6.py               # train GRAM (about 3 minutes on 2 cores), evaluate all three
    python benchmarks/gram_sudoku6.py --limit 200   # a quicker look

TRM is the shipped ``checkpoints/trm-mlp-sudoku6-cpu`` (preset ``trm-sudoku6-cpu``: TRM-MLP at width 64, 1,000
optimiser steps of 64 samples on the 2,000 generated 6x6 training puzzles). GRAM is trained here with the preset
``gram-sudoku6-cpu``: the same network, data, steps, batch and optimiser, plus GRAM's noise heads and value head.
On the first ``--limit`` test puzzles (disjoint from training), through the harness and the env's verifier:

* ``trm`` k=1: the TRM's own answer;
* ``ptrm`` k=16, sigma=1.0: 16 noisy rollouts of that TRM, best-Q@16 = PTRM's pick by the halting head;
* ``gram`` k=16, n=1: 16 sampled trajectories; best-Q@16 is LPRM selection, vote@16 majority voting, pass@16
  the oracle ceiling, pass@1 a single sample; then the same at sampling temperature 2.5 (the prior's sigma
  scaled 2.5x, about PTRM's 1.0).

Results go to ``benchmarks/results/gram-sudoku6.json`` with 95% Clopper-Pearson intervals.
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
from arena_harness.metrics import auroc, clopper_pearson_interval

ROOT = Path(__file__).resolve().parents[1]
TRM_CHECKPOINT = ROOT / "checkpoints" / "trm-mlp-sudoku6-cpu"
RESULTS = ROOT / "benchmarks" / "results" / "gram-sudoku6.json"
PRESET = PRESETS["gram-sudoku6-cpu"]
K = 16


def interval(rate: float, n: int) -> dict[str, object]:
    successes = round(rate * n)
    lower, upper = clopper_pearson_interval(successes, n)
    return {"rate": rate, "successes": successes, "ci95": [lower, upper]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=1000, help="test puzzles (default 1000)")
    parser.add_argument("--gram", default=None, help="an existing GRAM run directory (skips training)")
    parser.add_argument("--keep", default=None, help="copy the trained GRAM run here")
    args = parser.parse_args()
    puzzles = make_puzzle_set(PRESET.env, split="test", **PRESET.env_options)
    with tempfile.TemporaryDirectory() as tmp:
        gram_run = Path(args.gram) if args.gram else Path(tmp) / "gram"
        training_seconds = None
        if args.gram is None:
            started = time.perf_counter()
            trained = train(PRESET.config(), gram_run, echo=print)
            training_seconds = time.perf_counter() - started
            print(f"GRAM trained in {training_seconds:.0f} s: {trained.last_eval}")
        runs = [
            ("TRM", f"trm:{TRM_CHECKPOINT}", 1),
            ("PTRM sigma=1.0", f"ptrm:{TRM_CHECKPOINT},sigma=1.0", K),
            ("GRAM", f"gram:{gram_run}", K),
            ("GRAM temperature 2.5", f"gram:{gram_run},temperature=2.5", K),
        ]
        rows = []
        with ResultStore(Path(tmp) / "bench.sqlite") as store:
            for label, spec, k in runs:
                started = time.perf_counter()
                options = RunOptions(k=k, batch_size=64, limit=args.limit, progress=False)
                run = evaluate(puzzles, make_agent(spec), store, options, agent_kind="recursive")
                s, n = run.summary, run.summary.n_puzzles
                row = {
                    "label": label,
                    "agent": spec.replace(str(TRM_CHECKPOINT), "checkpoints/trm-mlp-sudoku6-cpu").replace(
                        str(gram_run), "GRAM_RUN"
                    ),
                    "k": k,
                    "n_puzzles": n,
                    **{m: interval(getattr(s, m) or 0.0, n) for m in ("pass_at_1", "best_q_at_k", "vote_at_k")},
                    "pass_at_k": interval(s.pass_at_k, n),
                    "q_auroc": auroc([r.q for r in run.records], [r.ok for r in run.records]),
                    "nfe_per_candidate": s.cost_mean.get("nfe"),
                    "seconds": time.perf_counter() - started,
                }
                rows.append(row)
                print(
                    f"{label:16s} k={k:2d}  pass@1 {s.pass_at_1:.3f}  best-Q@k {row['best_q_at_k']['rate']:.3f}  "
                    f"vote@k {s.vote_at_k:.3f}  pass@k {s.pass_at_k:.3f}  q AUROC {row['q_auroc']:.3f}  "
                    f"{row['seconds']:.0f} s",
                    flush=True,
                )
        if args.gram is None:
            shutil.copy(gram_run / "log.jsonl", ROOT / "benchmarks" / "results" / "gram-sudoku6-log.jsonl")
            if args.keep:
                shutil.copytree(gram_run, args.keep, dirs_exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "env": PRESET.env,
                "env_options": dict(PRESET.env_options),
                "split": "test",
                "limit": args.limit,
                "trm_checkpoint": "checkpoints/trm-mlp-sudoku6-cpu/model.safetensors (preset trm-sudoku6-cpu)",
                "gram_preset": PRESET.name,
                "gram_recipe": PRESET.settings(),
                "gram_training_seconds": training_seconds,
                "runs": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
