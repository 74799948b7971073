"""Seeded generator of Sudoku puzzles with a unique solution, including hard ones.

Random minimal puzzles are far too easy (their mean rating is below 1), so hard puzzles are *searched
for*: start from a random minimal puzzle and hill-climb on the rating — swap a clue for another cell of
the solution, or drop a clue — keeping the solution unique and never letting the rating fall, until a
per-puzzle target rating is reached or the step budget is spent. Budgets are counted in steps, never
in seconds, so a puzzle is a pure function of ``(seed, index, box shape, profile)`` on any machine,
in any order, in parallel or resumed.

Profile ``sudoku-extreme-synth-v1`` (9x9) mirrors the make-up of Sudoku-Extreme: about 75% hard puzzles
(target ratings drawn from a shifted geometric distribution) and 25% easy ones (rating 0-2, more clues),
clues always within 17..36.

Command line (parallel across processes, resumable, writes the original CSV schema)::

    python -m arena_envs.sudoku.generator --split test --n 1000 --workers 2 --out test.csv
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from arena_envs import splitgen
from arena_envs.sudoku.shape import SudokuShape
from arena_envs.sudoku.solver import _from_mask, _search, _to_mask, tables

PROFILE = "sudoku-extreme-synth-v1"
BASE_SEED = 20251122  # the bundled splits use BASE_SEED + SPLIT_OFFSET[split]
SPLIT_OFFSET = {"train": 0, "test": 1}
SUDOKU_COLUMNS = ("source", "question", "answer", "rating")  # the original CSV schema


@dataclass(frozen=True)
class Profile:
    hard_share: float  # probability that an index is a hard puzzle
    target_base: int  # hard targets: base + Geometric(p) - 1
    target_p: float
    max_steps: int  # hill-climbing proposals per hard puzzle
    min_clues: int
    max_clues: int
    easy_clues: tuple[int, int]  # easy puzzles: clue count drawn uniformly from this range
    easy_max_rating: int


PROFILES: dict[str, Profile] = {
    PROFILE: Profile(
        hard_share=0.75,
        target_base=12,
        target_p=1 / 30,
        max_steps=6000,
        min_clues=17,
        max_clues=36,
        easy_clues=(24, 36),
        easy_max_rating=2,
    ),
    # small boards: "hard" = hill-climbed briefly; used for CPU training and tests
    "small": Profile(
        hard_share=0.75,
        target_base=1,
        target_p=0.5,
        max_steps=200,
        min_clues=0,
        max_clues=10**6,
        easy_clues=(0, 0),
        easy_max_rating=2,
    ),
}


@dataclass(frozen=True, eq=False)
class GeneratedPuzzle:
    question: np.ndarray  # int8 [s, s], 0 = blank
    solution: np.ndarray  # int8 [s, s]
    rating: int
    kind: str  # "hard" | "easy"
    steps: int  # search proposals spent


class _Board:
    """Evaluates candidate clue sets against one fixed solution with the compiled search."""

    def __init__(self, shape: SudokuShape, solution: np.ndarray) -> None:
        self.shape = shape
        self.s = shape.size
        self.peers, self.units, self.lines = tables(shape)
        self.solution = solution.ravel().astype(np.int64)
        self._out = np.zeros((2, self.s * self.s), dtype=np.int32)

    def grid(self, clues: np.ndarray) -> np.ndarray:
        return np.where(clues, self.solution, 0).reshape(self.s, self.s)

    def judge(self, clues: np.ndarray) -> tuple[bool, int]:
        """(the solution is unique, rating = guesses before the first solution)."""
        mask = _to_mask(self.grid(clues), self.s)
        found, guesses, _, _ = _search(mask, self.peers, self.units, self.lines, self.s, 2, -1, -1, self._out)
        return found == 1, int(guesses)

    def disagreement(self) -> np.ndarray:
        """After a non-unique ``judge``: the cells where another solution differs from ours."""
        other = [_from_mask(m, self.s).ravel() for m in self._out]
        alt = other[0] if not np.array_equal(other[0], self.solution) else other[1]
        return np.flatnonzero(alt != self.solution)


def _random_solution(shape: SudokuShape, rng: np.random.Generator) -> np.ndarray:
    s = shape.size
    peers, units, lines = tables(shape)
    out = np.zeros((1, s * s), dtype=np.int32)
    full = np.full(s * s, (1 << s) - 1, dtype=np.int32)
    found, _, _, _ = _search(full, peers, units, lines, s, 1, -1, int(rng.integers(2**31 - 1)), out)
    assert found == 1
    return _from_mask(out[0], s)


def _reduce(board: Judge, clues: np.ndarray, rng: np.random.Generator, floor: int) -> np.ndarray:
    """Drop clues in random order while the solution stays unique and more than ``floor`` remain."""
    for cell in rng.permutation(np.flatnonzero(clues)):
        if clues.sum() <= floor:
            break
        clues[cell] = False
        if not board.judge(clues)[0]:
            clues[cell] = True
    return clues


class ClueBounds(Protocol):
    min_clues: int
    max_clues: int


class Judge(Protocol):
    """What the clue moves need of a board: v1's ``_Board`` (cell-branching search) and v2's tdoku judge."""

    def judge(self, clues: np.ndarray) -> tuple[bool, int]: ...  # (the solution is unique, rating)

    def disagreement(self) -> np.ndarray: ...  # after a non-unique judge: cells where a rival solution differs


def _propose(
    board: Judge, clues: np.ndarray, rng: np.random.Generator, prof: ClueBounds
) -> tuple[np.ndarray, int] | None:
    """Drop one or two clues, then repair uniqueness by adding a clue where a rival solution disagrees.

    Returns (the new clue mask, its rating) or None when the repair failed or left the clue bounds."""
    trial = clues.copy()
    for _ in range(1 + int(rng.random() < 0.5)):
        trial[rng.choice(np.flatnonzero(trial))] = False
    for _ in range(4):
        n = int(trial.sum())
        if n > prof.max_clues:
            return None
        unique, rating = board.judge(trial)
        if unique:
            return (trial, rating) if n >= prof.min_clues else None
        trial[rng.choice(board.disagreement())] = True
    return None


def _hill_climb(
    board: _Board, clues: np.ndarray, rng: np.random.Generator, target: int, prof: Profile
) -> tuple[np.ndarray, int, int]:
    unique, rating = board.judge(clues)
    assert unique
    steps = 0
    while rating < target and steps < prof.max_steps:
        steps += 1
        proposal = _propose(board, clues, rng, prof)
        if proposal is None:
            continue
        trial, r = proposal
        if r >= rating:
            clues, rating = trial, r
    return clues, rating, steps


def generate(
    seed: int, index: int, box_rows: int = 3, box_cols: int = 3, profile: str | None = None
) -> GeneratedPuzzle:
    """Puzzle ``index`` of the stream ``seed``: the same arguments give the same puzzle, bit for bit."""
    shape = SudokuShape(box_rows, box_cols)
    name = profile or (PROFILE if shape.size == 9 else "small")
    if name not in PROFILES:
        raise ValueError(f"unknown generator profile {name!r}; known: {sorted(PROFILES)}")
    prof = PROFILES[name]
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(index)]))
    solution = _random_solution(shape, rng)
    board = _Board(shape, solution)
    n_cells = shape.cells
    hard = bool(rng.random() < prof.hard_share)
    if hard:
        clues = _reduce(board, np.ones(n_cells, dtype=bool), rng, floor=prof.min_clues)
        while clues.sum() > prof.max_clues:  # a minimal puzzle this large is rare; draw another order
            clues = _reduce(board, np.ones(n_cells, dtype=bool), rng, floor=prof.min_clues)
        target = prof.target_base + int(rng.geometric(prof.target_p)) - 1
        clues, rating, steps = _hill_climb(board, clues, rng, target, prof)
        kind = "hard"
    else:
        lo, hi = prof.easy_clues
        want = int(rng.integers(lo, hi + 1)) if hi > 0 else 0
        steps = 0
        while True:
            clues = _reduce(board, np.ones(n_cells, dtype=bool), rng, floor=want)
            unique, rating = board.judge(clues)
            # more clues make a puzzle easier: add solution cells back until the rating is small enough,
            # without passing the clue ceiling; if the ceiling is hit first, start over with a new order
            while rating > prof.easy_max_rating and clues.sum() < prof.max_clues:
                clues[rng.choice(np.flatnonzero(~clues))] = True
                unique, rating = board.judge(clues)
                steps += 1
            if rating <= prof.easy_max_rating:
                break
        kind = "easy"
    question = board.grid(clues).astype(np.int8)
    return GeneratedPuzzle(question, solution.astype(np.int8), int(rating), kind, steps)


def generate_many(
    seed: int, start: int, count: int, box_rows: int = 3, box_cols: int = 3, profile: str | None = None
) -> list[GeneratedPuzzle]:
    return [generate(seed, i, box_rows, box_cols, profile) for i in range(start, start + count)]


# -- command line: parallel, resumable generation of a split in the original CSV schema -----------------


def _row(seed: int, index: int) -> dict:
    from arena_envs.sudoku.data import grid_to_string

    t0 = time.process_time()
    g = generate(seed, index)
    return {
        "index": index,
        "source": f"arena-synth-v1/{g.kind}",
        "question": grid_to_string(g.question),
        "answer": grid_to_string(g.solution),
        "rating": g.rating,
        "steps": g.steps,
        "cpu_seconds": round(time.process_time() - t0, 4),
    }


def _work(args: tuple[int, int]) -> dict:
    return _row(*args)


def generate_split(
    out: Path,
    n: int,
    seed: int,
    workers: int = 1,
    progress: bool = True,
    work: Callable[[tuple[int, int]], dict] = _work,
) -> tuple[str, list[dict]]:
    """Write ``out`` in the original CSV schema (``source,question,answer,rating``) atomically, resumable (see
    :mod:`arena_envs.splitgen`); return (sha256, rows). ``work((seed, index))`` makes one row: v1's by default."""
    return splitgen.generate_split(out, n, seed, work, SUDOKU_COLUMNS, workers, progress)


def split_stats(out: Path, sha: str, rows: list[dict], seed: int, profile: str = PROFILE) -> dict:
    """Statistics of a generated split for its README: clues, ratings (tdoku's scale for v2), kinds, CPU time."""
    ratings = np.array([r["rating"] for r in rows])
    clues = np.array([len(r["question"]) - r["question"].count(".") for r in rows])
    cpu = np.array([r["cpu_seconds"] for r in rows])
    hard = np.array([r["source"].endswith("hard") for r in rows])
    stats = {
        "file": out.name,
        "profile": profile,
        "sha256": sha,
        "count": len(rows),
        "distinct_questions": len({r["question"] for r in rows}),
        "seed": seed,
        "clues": {"min": int(clues.min()), "mean": float(clues.mean()), "max": int(clues.max())},
        "rating": {
            "mean": float(ratings.mean()),
            "median": float(np.median(ratings)),
            "max": int(ratings.max()),
            "share_0_to_2": float((ratings <= 2).mean()),
        },
        "hard_share": float(hard.mean()),
        "cpu_seconds_per_puzzle": {
            "all": float(cpu.mean()),
            "hard": float(cpu[hard].mean()) if hard.any() else None,
        },
    }
    if "objective" in rows[0]:
        objective = np.array([r["objective"] for r in rows])[hard]
        stats["hard_objective_mean"] = float(objective.mean()) if hard.any() else None
    return stats


def add_split_arguments(parser: argparse.ArgumentParser, default_seed: int | None) -> None:
    """The command-line arguments both generators share."""
    parser.add_argument("--split", choices=sorted(SPLIT_OFFSET), required=True)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=default_seed, help="base seed; the split adds its offset")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--stats", type=Path, default=None, help="also write statistics as JSON here")


def write_split(
    args: argparse.Namespace, seed: int, work: Callable[[tuple[int, int]], dict] = _work, profile: str = PROFILE
) -> int:
    """Generate (or resume) the split the arguments name, then print and optionally save its statistics."""
    sha, rows = generate_split(args.out, args.n, seed, args.workers, work=work)
    stats = split_stats(args.out, sha, rows, seed, profile=profile)
    print(json.dumps(stats, indent=2))
    if args.stats:
        args.stats.write_text(json.dumps(stats, indent=2) + "\n")
    print(f"sha256 {sha}  {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate a Sudoku-Extreme-like split (9x9, profile v1)")
    add_split_arguments(parser, BASE_SEED)
    args = parser.parse_args(argv)
    return write_split(args, args.seed + SPLIT_OFFSET[args.split])


if __name__ == "__main__":
    sys.exit(main())
