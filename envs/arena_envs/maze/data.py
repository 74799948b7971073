"""Maze-Hard data: the original CSV, the bundled synthetic split, and on-the-fly generation.

The original (Hugging Face dataset ``sapientinc/maze-30x30-hard-1k``, files ``train.csv`` and ``test.csv``)
has columns ``source,question,answer,rating`` with 900-character mazes in the ``# SGo`` format (see
``grid.py``). Every loaded maze gets its shortest-path length L* from a BFS at load time; it goes into the
puzzle's ``meta["shortest"]`` and is what the verifier compares against.

Regenerate the bundled splits (bit for bit; the sha256 sums are in ``data/SHA256SUMS``)::

    python -m arena_envs.maze.data --split test --out envs/arena_envs/maze/data/maze_hard_synth_v1_test.csv
    python -m arena_envs.maze.data --split train --out envs/arena_envs/maze/data/maze_hard_synth_v1_train.csv
    python -m arena_envs.maze.data --size 10 --split test --out envs/arena_envs/maze/data/maze10_synth_v1_test.csv
    python -m arena_envs.maze.data --size 10 --split train --out envs/arena_envs/maze/data/maze10_synth_v1_train.csv

Besides 30x30 (Maze-Hard's own size) a 10x10 split is bundled: the CPU tier, the same procedure with walls scaled
with the area and the path-length threshold with the side (:meth:`MazeSpec.scaled`), small enough that every model
family trains on a 2-core CPU in minutes.
"""

from __future__ import annotations

import argparse
import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from arena_envs.config import ConfigError, DataError
from arena_envs.datafiles import PUZZLE_CSV_HEADER, RowIndex, csv_rows, file_version, grid_fingerprint, hub_csv
from arena_envs.env_base import band_rows, band_text
from arena_envs.gencache import cached_arrays
from arena_envs.maze import verifier
from arena_envs.maze.generator import PROFILE, MazeSpec, generate_many
from arena_envs.maze.grid import PATH, WALL, parse, to_text
from arena_envs.maze.search import shortest_lengths
from arena_envs.protocol import Puzzle, Verdict

FAMILY = "maze"
HUB_REPO = "sapientinc/maze-30x30-hard-1k"
BUNDLED_VERSION = PROFILE
BUNDLED_FILES = {"test": "maze_hard_synth_v1_test.csv", "train": "maze_hard_synth_v1_train.csv"}
BASE_SEED = 20251122


@dataclass(frozen=True)
class BundledSplit:
    """A bundled set of maze files at one side: ``version`` names its data source (and its puzzle ids)."""

    version: str
    files: dict[str, str]
    base_seed: int


BUNDLED: dict[int, BundledSplit] = {
    30: BundledSplit(BUNDLED_VERSION, BUNDLED_FILES, BASE_SEED),
    10: BundledSplit(
        "maze10-synth-v1", {"test": "maze10_synth_v1_test.csv", "train": "maze10_synth_v1_train.csv"}, 20261203
    ),
}
SPLIT_SEED_OFFSET = {"train": 0, "test": 1, "val": 2}


@dataclass(frozen=True)
class MazeArrays:
    questions: np.ndarray  # int8 [N, size, size] codes
    solutions: np.ndarray  # int8 [N, size, size]: the question with one shortest path marked
    ratings: np.ndarray  # int32 [N]: the file's rating column (ours: L*)
    sources: tuple[str, ...]


def read_csv(source: str | Path | io.TextIOBase, *, size: int = 30, limit: int | None = None) -> MazeArrays:
    """Read a ``source,question,answer,rating`` CSV of mazes (a path or an open text file)."""
    sources, questions, answers, ratings = [], [], [], []
    for line_no, row in csv_rows(source, what="Maze-Hard", limit=limit):
        try:
            q, a = parse(row[1], size), parse(row[2], size)
            rating = int(float(row[3])) if row[3].strip() else 0
        except ValueError as exc:
            raise DataError(f"line {line_no}: {exc}") from None
        if ((q == WALL) != (a == WALL)).any() or (q == PATH).any():
            raise DataError(f"line {line_no}: the answer does not match the question's walls, or the question has 'o'")
        sources.append(row[0])
        questions.append(q)
        answers.append(a)
        ratings.append(rating)
    shape = (0, size, size)
    q_arr = np.stack(questions) if questions else np.zeros(shape, np.int8)
    a_arr = np.stack(answers) if answers else np.zeros(shape, np.int8)
    return MazeArrays(q_arr, a_arr, np.asarray(ratings, np.int32), tuple(sources))


def write_csv(path: str | Path, arrays: MazeArrays) -> None:
    tmp = Path(str(path) + ".tmp")
    with tmp.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(PUZZLE_CSV_HEADER)
        for src, q, a, r in zip(arrays.sources, arrays.questions, arrays.solutions, arrays.ratings):
            writer.writerow([src, to_text(q), to_text(a), int(r)])
    tmp.replace(path)


def generated_arrays(seed: int, count: int, size: int = 30) -> MazeArrays:
    """Mazes made by the seeded generator; made once per machine, then read from the disk cache
    (:mod:`arena_envs.gencache`)."""

    def build() -> dict[str, np.ndarray]:
        made = generate_many(seed, 0, count, MazeSpec.for_size(size))
        return {
            "questions": np.stack([m.question for m in made]).astype(np.int8),
            "solutions": np.stack([m.solution for m in made]).astype(np.int8),
            "lengths": np.asarray([m.length for m in made], np.int32),
            "sources": np.asarray([f"{PROFILE}/walls={m.walls}" for m in made]),
        }

    def complete(arrays: dict[str, np.ndarray]) -> bool:
        shape = (count, size, size)
        return arrays["questions"].shape == arrays["solutions"].shape == shape and len(arrays["sources"]) == count

    arrays = cached_arrays("maze", {"seed": seed, "count": count, "size": size}, Path(__file__).parent, build, complete)
    return MazeArrays(
        arrays["questions"].astype(np.int8),
        arrays["solutions"].astype(np.int8),
        arrays["lengths"].astype(np.int32),
        tuple(str(s) for s in arrays["sources"]),
    )


def fingerprint(questions: np.ndarray, solutions: np.ndarray) -> str:
    return grid_fingerprint(f"{FAMILY}:{questions.shape[-1]}:{len(questions)}", questions, solutions)


@dataclass(frozen=True, eq=False)
class MazeSet(RowIndex):
    """A split of mazes with the rule-based verifier. Implements ``PuzzleSet``."""

    env_id: str
    split: str
    source: str
    arrays: MazeArrays
    id_prefix: str
    fingerprint: str = ""
    shortest: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32), repr=False)
    puzzles: tuple[Puzzle, ...] = field(default=(), repr=False)
    # row numbers in the loaded split of a difficulty band's mazes (None: the whole split), so a maze keeps its
    # id and meta["index"] in every band
    rows: tuple[int, ...] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        a = self.arrays
        n, size = len(a.questions), a.questions.shape[-1]
        lengths = shortest_lengths(np.ascontiguousarray(a.questions, dtype=np.int8).reshape(n, -1), size)
        if (lengths < 0).any():
            raise DataError(f"maze {int(np.argmax(lengths < 0))} of {self.source} has no path from S to G")
        rows = self.rows if self.rows is not None else range(n)
        puzzles = tuple(
            Puzzle(
                id=f"{self.id_prefix}/{self.split}/{row:06d}",
                family=FAMILY,
                grid=a.questions[i],
                meta={
                    "shortest": int(lengths[i]),
                    "rating": int(a.ratings[i]),
                    "walls": int((a.questions[i] == WALL).sum()),
                    "source": a.sources[i],
                    "index": row,
                },
            )
            for i, row in enumerate(rows)
        )
        object.__setattr__(self, "shortest", lengths)
        object.__setattr__(self, "puzzles", puzzles)
        object.__setattr__(self, "fingerprint", fingerprint(a.questions, a.solutions))
        object.__setattr__(self, "_index", {p.id: i for i, p in enumerate(puzzles)})

    def verify(self, puzzle: Puzzle, answer: Any) -> Verdict:
        i = self._row(puzzle)
        a = self.arrays
        return verifier.verify(a.questions[i], answer, label=a.solutions[i], shortest=int(self.shortest[i]))

    def verify_batch(self, puzzles: Sequence[Puzzle], answers: Sequence[Any]) -> list[Verdict]:
        rows = [self._row(p) for p in puzzles]
        a = self.arrays
        return verifier.verify_batch(a.questions[rows], answers, labels=a.solutions[rows], shortest=self.shortest[rows])

    def label(self, puzzle: Puzzle) -> np.ndarray:
        """One shortest path (there are usually several; the verifier accepts any)."""
        return self.arrays.solutions[self._row(puzzle)]


def bundled_path(split: str, size: int = 30) -> Path:
    if size not in BUNDLED:
        raise ConfigError(f"no bundled {size}x{size} mazes; bundled sizes are {sorted(BUNDLED)} (or data='generated')")
    files = BUNDLED[size].files
    if split not in files:
        raise DataError(f"no bundled maze split {split!r}; bundled splits are {sorted(files)}")
    return Path(str(resources.files("arena_envs.maze") / "data" / files[split]))


def hub_path(split: str) -> Path:  # pragma: no cover - needs internet
    return hub_csv(HUB_REPO, split)


def load_set(
    env_id: str,
    split: str = "test",
    size: int = 30,
    data: str | None = None,
    seed: int = 0,
    count: int = 1000,
    limit: int | None = None,
    shortest_min: int | None = None,
    shortest_max: int | None = None,
) -> MazeSet:
    """``data``: ``bundled`` (the default for 30x30; ``size=10`` has a bundled split too, the CPU tier; ``count``
    and ``seed`` do not apply), ``generated`` (default for other sizes: ``count`` mazes from ``seed``), ``hub``
    (the original, needs internet) or the path of a CSV in the original schema. The difficulty band then keeps the
    mazes whose shortest path L* lies in [shortest_min, shortest_max] (None: unbounded); with no band the loaded set
    is returned as it is, so the default splits keep their fingerprints."""
    full = _load_set(env_id, split, size, data, seed, count, limit, file_version(data))
    return _banded(full, (shortest_min, shortest_max))


@lru_cache(maxsize=32)
def _banded(full: MazeSet, shortest: tuple[int | None, int | None]) -> MazeSet:
    """The mazes of ``full`` inside the band: a split of its own (its fingerprint covers only those mazes; its
    source names the band), or ``full`` itself when the band bounds nothing."""
    rows = band_rows({"shortest": full.shortest}, {"shortest": shortest}, what=f"{full.source} split {full.split!r}")
    if rows is None:
        return full
    a = full.arrays
    arrays = MazeArrays(a.questions[rows], a.solutions[rows], a.ratings[rows], tuple(a.sources[i] for i in rows))
    return MazeSet(
        env_id=full.env_id,
        split=full.split,
        source=f"{full.source}:{band_text('shortest', *shortest)}",
        arrays=arrays,
        id_prefix=full.id_prefix,
        rows=tuple(int(i) for i in rows),
    )


@lru_cache(maxsize=16)
def _load_set(
    env_id: str,
    split: str,
    size: int,
    data: str | None,
    seed: int,
    count: int,
    limit: int | None,
    file_stamp: tuple[int, int] | None,  # only part of the cache key: a changed file is read again
) -> MazeSet:
    if split not in SPLIT_SEED_OFFSET:
        raise ConfigError(f"unknown split {split!r}; choose one of {sorted(SPLIT_SEED_OFFSET)}")
    mode = data or ("bundled" if size == 30 else "generated")
    if mode == "bundled":
        version = BUNDLED[size].version if size in BUNDLED else ""
        arrays, source, prefix = read_csv(bundled_path(split, size), size=size, limit=limit), version, version
    elif mode == "generated":
        if count < 1:
            raise ConfigError(f"count must be >= 1, got {count}")
        n = count if limit is None else min(count, limit)
        arrays = generated_arrays(seed * 10 + SPLIT_SEED_OFFSET[split], n, size)
        source, prefix = f"generated:maze{size}:seed={seed}:count={n}", f"maze-{size}-gen-s{seed}"
    elif mode == "hub":  # pragma: no cover - needs internet
        arrays, source, prefix = read_csv(hub_path(split), size=size, limit=limit), "original:hub", "maze-hard"
    else:
        path = Path(mode).expanduser()
        arrays, source, prefix = read_csv(path, size=size, limit=limit), f"original:{path.name}", "maze-hard"
    if len(arrays.questions) == 0:
        raise DataError(f"no mazes in {mode!r} for split {split!r}")
    return MazeSet(env_id=env_id, split=split, source=source, arrays=arrays, id_prefix=prefix)


def bundled_arrays(split: str, size: int = 30, count: int = 1000, workers: int = 1) -> MazeArrays:
    """The mazes of a bundled file, made again from its seed (:meth:`MazeSpec.scaled`); maze i is a pure function
    of (seed, i, size), so ``workers`` processes make the same file."""
    bundle = BUNDLED[size]
    seed, spec = bundle.base_seed * 10 + SPLIT_SEED_OFFSET[split], MazeSpec.scaled(size)
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        chunks = [(seed, start, min(start + 50, count) - start, spec) for start in range(0, count, 50)]
        with ProcessPoolExecutor(workers) as pool:
            made = [m for part in pool.map(_generate_chunk, chunks) for m in part]
    else:
        made = generate_many(seed, 0, count, spec)
    return MazeArrays(
        np.stack([m.question for m in made]).astype(np.int8),
        np.stack([m.solution for m in made]).astype(np.int8),
        np.asarray([m.length for m in made], np.int32),
        tuple(f"{bundle.version}/walls={m.walls}" for m in made),
    )


def _generate_chunk(args: tuple[int, int, int, MazeSpec]) -> list:
    return generate_many(*args)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="make a bundled maze file again, bit for bit")
    parser.add_argument("--split", choices=["train", "test"], required=True)
    parser.add_argument("--size", type=int, choices=sorted(BUNDLED), default=30)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1, help="processes (the file is the same for any number)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    arrays = bundled_arrays(args.split, args.size, args.count, args.workers)
    write_csv(args.out, arrays)
    print(f"{args.out}: {len(arrays.questions)} mazes, {fingerprint(arrays.questions, arrays.solutions)}")


if __name__ == "__main__":
    main()
