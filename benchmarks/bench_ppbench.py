"""PPBench verification throughput: our batched Node worker against the published package's path.

Baseline (measured in the same run): ``ppbench`` 0.1.0's own one-puzzle-at-a-time path, as its gym env and
harness use it: ``Puzzle.from_url(url)``, ``send_move`` for every move, ``is_complete()``, each a call across its
JSPyBridge bridge to Node. It needs the bridge package: ``pip install --no-deps 'javascript==1!1.2.6'``.
Ours: ``PPBenchSet.verify_batch`` on the same puzzles and the same stored solutions (``moves_full``), in one
worker request; "cold" is a fresh worker that must open every puzzle, "warm" reuses the opened puzzles (what
every batch after the first sees); "grid" checks the same solutions written as answer grids.
Every path must call every solution solved, or the benchmark fails.
Writes benchmarks/results/ppbench.json.

    python benchmarks/bench_ppbench.py [--baseline-puzzles 300] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

from arena_envs.ppbench.data import load_set
from arena_envs.ppbench.engine import PzprWorker, WorkerPool
from arena_envs.ppbench.verifier import judge_batch


def published_path(urls: list[str], solutions: list[list[str]]) -> tuple[float, int]:
    """Seconds and solved count for the published package, one puzzle at a time."""
    from ppbench.puzzle import Puzzle  # starts the JSPyBridge Node process on import

    warm = Puzzle.from_url(urls[0])  # bridge start-up is not billed to the puzzles
    warm.is_complete()
    t0 = time.perf_counter()
    solved = 0
    for url, moves in zip(urls, solutions):
        puzzle = Puzzle.from_url(url)
        for move in moves:
            puzzle.send_move(move)
        solved += bool(puzzle.is_complete())
    return time.perf_counter() - t0, solved


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline-puzzles", type=int, default=300, help="puzzles for the slow published path")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    golden = load_set()
    puzzles = list(golden.puzzles)
    answers = [golden.label(p) for p in puzzles]
    # the baseline's puzzles: spread over all 20 varieties
    step = max(1, len(puzzles) // args.baseline_puzzles)
    sample = list(range(0, len(puzzles), step))[: args.baseline_puzzles]

    base_seconds, base_solved = published_path([puzzles[i].meta["url"] for i in sample], [answers[i] for i in sample])
    assert base_solved == len(sample), f"the published path solved {base_solved}/{len(sample)}"

    rates = {"published_one_at_a_time": len(sample) / base_seconds}
    for label, make in (("one_worker", PzprWorker), ("pool", WorkerPool)):
        rates.update(ours(label, make, puzzles, answers, args.repeat))
    base_rate = rates["published_one_at_a_time"]
    n = len(puzzles)
    pool_size = len(WorkerPool().workers)
    result = {
        "what": "verifications/s of the stored golden_300 solutions (moves_full), pzpr.js in Node",
        "baseline": f"ppbench 0.1.0 Puzzle.from_url + send_move + is_complete over JSPyBridge, {len(sample)} puzzles",
        "ours": f"verify_batch over all {n} puzzles, one worker or a pool of {pool_size} (one per core), best of "
        f"{args.repeat}",
        "verifications_per_second": {k: round(v, 2) for k, v in rates.items()},
        "speedup_vs_published": {
            k: round(v / base_rate, 1) for k, v in rates.items() if k != "published_one_at_a_time"
        },
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }
    out = Path(__file__).parent / "results" / "ppbench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


def ours(label: str, make, puzzles, answers, repeat: int) -> dict[str, float]:
    cold_times, warm_times, grid_times = [], [], []
    for _ in range(repeat):
        with make() as worker:
            for w in getattr(worker, "workers", [worker]):
                w.request("ping")  # process start-up is not billed to the puzzles
            t0 = time.perf_counter()
            verdicts = judge_batch(worker, puzzles, answers)
            cold_times.append(time.perf_counter() - t0)
            assert all(v.ok for v, _ in verdicts)
            t0 = time.perf_counter()
            verdicts = judge_batch(worker, puzzles, answers)
            warm_times.append(time.perf_counter() - t0)
            assert all(v.ok for v, _ in verdicts)
            states = judge_batch(worker, puzzles, answers, with_state=True)
            grids = [state["answer"] for _, state in states]
            t0 = time.perf_counter()
            verdicts = judge_batch(worker, puzzles, grids)
            grid_times.append(time.perf_counter() - t0)
            assert all(v.ok for v, _ in verdicts)

    n = len(puzzles)
    return {
        f"{label}_cold": n / min(cold_times),
        f"{label}_warm": n / min(warm_times),
        f"{label}_grid_warm": n / min(grid_times),
    }


if __name__ == "__main__":
    main()
