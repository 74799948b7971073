"""Hard-puzzle generation rate and solver throughput (one core).

Generation: the 9x9 profile ``sudoku-extreme-synth-v1`` for N fresh indices, timed per puzzle (CPU
seconds), split by kind. The reference C generator (tdoku) needs about 2 s per hard puzzle; that is the
yardstick quoted in the README (it is not built here). Solver: the deterministic DPLL search over the
bundled test split, one call per puzzle (baseline) vs one compiled loop over the batch.

    python benchmarks/bench_generation.py [--n 40]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from arena_envs.registry import make_puzzle_set
from arena_envs.sudoku import generator, solver


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--seed", type=int, default=987654)
    args = parser.parse_args()
    generator.generate(args.seed, 10**6)  # compile outside the timing
    times: dict[str, list[float]] = {"hard": [], "easy": []}
    ratings: dict[str, list[int]] = {"hard": [], "easy": []}
    for i in range(args.n):
        t0 = time.process_time()
        g = generator.generate(args.seed, i)
        times[g.kind].append(time.process_time() - t0)
        ratings[g.kind].append(g.rating)

    ps = make_puzzle_set("arena/SudokuExtreme-v0", split="test")
    q = ps.arrays.questions
    solver.solve_batch(q[:2])
    t0 = time.perf_counter()
    for grid in q:
        solver.solve(grid)
    t_single = time.perf_counter() - t0
    t0 = time.perf_counter()
    solver.solve_batch(q)
    t_batch = time.perf_counter() - t0

    result = {
        "generation": {
            kind: {
                "count": len(times[kind]),
                "cpu_seconds_per_puzzle": float(np.mean(times[kind])) if times[kind] else None,
                "puzzles_per_second": float(1 / np.mean(times[kind])) if times[kind] else None,
                "mean_rating": float(np.mean(ratings[kind])) if ratings[kind] else None,
            }
            for kind in times
        },
        "reference_tdoku_seconds_per_hard_puzzle": 2.0,
        "solver": {
            "puzzles": len(q),
            "single_calls_per_s": len(q) / t_single,
            "batched_per_s": len(q) / t_batch,
            "speedup": t_single / t_batch,
        },
    }
    g = result["generation"]
    print(f"{'kind':6s} {'count':>6s} {'s/puzzle':>9s} {'puzzles/s':>10s} {'rating':>7s}")
    for kind, r in g.items():
        if r["count"]:
            print(
                f"{kind:6s} {r['count']:6d} {r['cpu_seconds_per_puzzle']:9.3f} {r['puzzles_per_second']:10.2f} "
                f"{r['mean_rating']:7.1f}"
            )
    s = result["solver"]
    print(
        f"\nsolver on {s['puzzles']} bundled test puzzles: {s['single_calls_per_s']:,.0f}/s one call each, "
        f"{s['batched_per_s']:,.0f}/s batched ({s['speedup']:.1f}x)"
    )
    out = Path(__file__).parent / "results" / "generation.json"
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
