"""Sudoku verification throughput: one puzzle at a time (baseline) vs the batched, vectorised path.

Both paths judge the same 1,000 bundled test puzzles x (right answer, one cell changed, given
overwritten, ...), and must return identical verdicts. Prints a table and writes
benchmarks/results/verifier.json.

    python benchmarks/bench_verifier.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from arena_envs.registry import make_puzzle_set
from arena_envs.sudoku.verifier import solved_mask, verify, verify_batch


def answers_for(ps, wrong_share: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    q = ps.arrays.questions.astype(np.int64)
    a = ps.arrays.solutions.astype(np.int64).copy()
    for i in np.flatnonzero(rng.random(len(a)) < wrong_share):
        blanks = np.argwhere(q[i] == 0)
        r, c = blanks[rng.integers(len(blanks))]
        a[i, r, c] = a[i, r, c] % 9 + 1
    return q, a


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    ps = make_puzzle_set("arena/SudokuExtreme-v0", split="test")
    rows = []
    for wrong_share in (0.0, 0.1, 1.0):
        q, a = answers_for(ps, wrong_share)
        single = [verify(qi, ai) for qi, ai in zip(q, a)]
        assert verify_batch(q, a) == single, "batched and single verdicts differ"
        n = len(q)
        t_single = best_of(lambda q=q, a=a: [verify(qi, ai) for qi, ai in zip(q, a)], args.repeat)
        t_batch = best_of(lambda q=q, a=a: verify_batch(q, a), args.repeat)
        assert (solved_mask(q, a) == np.array([v.ok for v in single])).all()
        t_mask = best_of(lambda q=q, a=a: solved_mask(q, a), args.repeat)
        rows.append(
            {
                "answers": f"{int(wrong_share * 100)}% wrong",
                "puzzles": n,
                "single_per_s": n / t_single,
                "batched_per_s": n / t_batch,
                "speedup": t_single / t_batch,
                "solved_mask_per_s": n / t_mask,
                "solved_mask_speedup": t_single / t_mask,
            }
        )
    print(
        f"{'answers':12s} {'puzzles':>8s} {'single/s':>12s} {'batched/s':>12s} {'speed-up':>9s} "
        f"{'solved_mask/s':>14s} {'speed-up':>9s}"
    )
    for r in rows:
        print(
            f"{r['answers']:12s} {r['puzzles']:8d} {r['single_per_s']:12,.0f} {r['batched_per_s']:12,.0f} "
            f"{r['speedup']:8.0f}x {r['solved_mask_per_s']:14,.0f} {r['solved_mask_speedup']:8.0f}x"
        )
    out = Path(__file__).parent / "results" / "verifier.json"
    out.write_text(json.dumps({"baseline": "verify() one puzzle at a time", "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
