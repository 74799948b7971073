"""Maze-Hard verification and generation throughput.

Verification: the 1,000 bundled test mazes with (a) their labels, (b) a path broken in the middle; the
baseline is ``verify()`` one maze at a time, against ``verify_batch`` (verdicts with reasons) and
``solved_mask`` (booleans only). Generation: hard 30x30 mazes per CPU second; the baseline is the plain
rejection sampler (one BFS per (S, G) draw) timed in the same run, against the shipped generator that reuses
each BFS for many G draws and each wall layout for many S draws.
Writes benchmarks/results/maze.json.

    python benchmarks/bench_maze.py [--repeat 3] [--mazes 20]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from bench_verifier import best_of  # the same timing loop as the Sudoku benchmark (run from benchmarks/)
from numba import njit

from arena_envs.maze.generator import MazeSpec, generate_many
from arena_envs.maze.grid import OPEN, PATH, WALL
from arena_envs.maze.search import bfs
from arena_envs.maze.verifier import solved_mask, verify, verify_batch
from arena_envs.registry import make_puzzle_set


@njit(cache=True)
def _plain_rejection(seed: int, size: int, min_walls: int, max_walls: int, min_length: int) -> int:
    """The textbook procedure: draw walls, S and G, one BFS per draw, until a path is long enough."""
    np.random.seed(seed)
    n = size * size
    tries = 0
    while True:
        tries += 1
        walls = np.random.randint(min_walls, max_walls + 1)
        order = np.random.permutation(n)
        grid = np.full(n, OPEN, dtype=np.int8)
        grid[order[:walls]] = WALL
        s, g = order[walls + np.random.randint(n - walls)], order[walls + np.random.randint(n - walls)]
        if s != g and bfs(grid, size, s)[g] >= min_length:
            return tries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mazes", type=int, default=20)
    args = parser.parse_args()
    ps = make_puzzle_set("arena/MazeHard-v0", split="test")
    q, labels, shortest = ps.arrays.questions, ps.arrays.solutions, ps.shortest
    broken = labels.copy()
    for i in range(len(broken)):
        cells = np.argwhere(broken[i] == PATH)
        broken[i][tuple(cells[len(cells) // 2])] = OPEN
    results: dict[str, dict] = {}
    for name, answers in (("all right", labels), ("all broken", broken)):
        verify_batch(q[:2], list(answers[:2]), labels=labels[:2], shortest=shortest[:2])  # compile
        solved_mask(q[:2], answers[:2], shortest[:2])
        one = best_of(
            lambda a=answers: [verify(q[i], a[i], labels[i], int(shortest[i])) for i in range(len(q))], args.repeat
        )
        batch = best_of(lambda a=answers: verify_batch(q, list(a), labels=labels, shortest=shortest), args.repeat)
        mask = best_of(lambda a=answers: solved_mask(q, a, shortest), args.repeat)
        n = len(q)
        results[name] = {
            "one_at_a_time_per_s": n / one,
            "verify_batch_per_s": n / batch,
            "solved_mask_per_s": n / mask,
            "verify_batch_speedup": one / batch,
            "solved_mask_speedup": one / mask,
        }
        print(name, {k: round(v, 1) for k, v in results[name].items()}, flush=True)
    spec = MazeSpec()
    _plain_rejection(1, spec.size, spec.min_walls, spec.max_walls, spec.min_length)  # compile
    generate_many(0, 0, 1)
    t0 = time.process_time()
    tries = [_plain_rejection(s, spec.size, spec.min_walls, spec.max_walls, spec.min_length) for s in range(args.mazes)]
    plain = (time.process_time() - t0) / args.mazes
    t0 = time.process_time()
    generate_many(1, 0, args.mazes)
    shipped = (time.process_time() - t0) / args.mazes
    results["generation"] = {
        "plain_rejection_cpu_s_per_maze": plain,
        "plain_rejection_mean_tries": float(np.mean(tries)),
        "generator_cpu_s_per_maze": shipped,
        "speedup": plain / shipped,
    }
    print("generation", {k: round(v, 4) for k, v in results["generation"].items()}, flush=True)
    path = Path(__file__).parent / "results" / "maze.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
