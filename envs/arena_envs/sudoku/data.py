"""Sudoku data: the original Sudoku-Extreme CSV, the bundled synthetic split, and on-the-fly generation.

All three end in a :class:`SudokuSet` (a :class:`~arena_envs.protocol.PuzzleSet`) whose ``source``
says where the puzzles came from and whose ``fingerprint`` is a sha256 over the puzzles and their
solutions, so results measured on synthetic stand-ins are never mixed with the original data.

The original schema (Hugging Face dataset ``sapientinc/sudoku-extreme``, files ``train.csv`` and
``test.csv``) is ``source,question,answer,rating`` with 81-character strings, ``.`` for blanks.
"""

from __future__ import annotations

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
from arena_envs.protocol import Puzzle, Verdict
from arena_envs.sudoku import verifier
from arena_envs.sudoku.shape import SudokuShape

FAMILY = "sudoku"
HUB_REPO = "sapientinc/sudoku-extreme"
#: The bundled synthetic splits by version. v2 is rated on tdoku's scale (the original ``rating`` column's) and
#: matches Sudoku-Extreme's difficulty; v1 (rated by the simpler solver) averages about 3 on that scale.
BUNDLED: dict[str, dict[str, str]] = {
    "sudoku-extreme-synth-v1": {
        "test": "sudoku_extreme_synth_v1_test.csv",
        "train": "sudoku_extreme_synth_v1_train.csv",
    },
    "sudoku-extreme-synth-v2": {
        "test": "sudoku_extreme_synth_v2_test.csv",
        "train": "sudoku_extreme_synth_v2_train.csv",
    },
    # the CPU tier: hard 6x6 boards (2x3 boxes), profile sudoku6-synth-v1 of generator_v2
    "sudoku6-synth-v1": {
        "test": "sudoku6_synth_v1_test.csv",
        "train": "sudoku6_synth_v1_train.csv",
    },
}
# what ``data="bundled"`` loads: v1 until v2's train split is bundled too (then the default and the leaderboard's
# Sudoku track move to v2 together)
BUNDLED_VERSION = "sudoku-extreme-synth-v1"
#: the ``data`` option's names for the bundled 9x9 versions; on 6x6 boards ``bundled`` is sudoku6-synth-v1
BUNDLED_OPTIONS = {
    "bundled": BUNDLED_VERSION,
    "bundled-v1": "sudoku-extreme-synth-v1",
    "bundled-v2": "sudoku-extreme-synth-v2",
}
BUNDLED_SMALL = {6: "sudoku6-synth-v1"}  # size -> what data="bundled" loads on small boards


@dataclass(frozen=True)
class SudokuArrays:
    """Column-oriented puzzles: questions/solutions int8 [N, s, s], ratings int32 [N], sources."""

    questions: np.ndarray
    solutions: np.ndarray
    ratings: np.ndarray
    sources: tuple[str, ...]


def strings_to_grids(strings: Sequence[str], size: int) -> np.ndarray:
    """Decode digit strings ('.' or '0' = blank) into int8 [N, size, size]; raise DataError if bad."""
    n = len(strings)
    if n == 0:
        return np.zeros((0, size, size), np.int8)
    lengths = {len(s) for s in strings}
    if lengths != {size * size}:
        bad = next(i for i, s in enumerate(strings) if len(s) != size * size)
        raise DataError(f"row {bad}: expected {size * size} characters, got {len(strings[bad])}")
    raw = np.frombuffer("".join(strings).encode("ascii", "replace"), dtype=np.uint8).reshape(n, size * size)
    raw = np.where(raw == ord("."), ord("0"), raw).astype(np.int16) - ord("0")
    if raw.min() < 0 or raw.max() > size:
        bad_row = int(np.argwhere((raw < 0) | (raw > size))[0][0])
        raise DataError(f"row {bad_row}: characters other than '.', '0'..'{size}' in {strings[bad_row]!r}")
    return raw.reshape(n, size, size).astype(np.int8)


def grid_to_string(grid: np.ndarray) -> str:
    """The original format: row-major digits with '.' for blanks."""
    return "".join("." if v == 0 else str(int(v)) for v in np.asarray(grid).ravel())


def read_csv(source: str | Path | io.TextIOBase, *, size: int = 9, limit: int | None = None) -> SudokuArrays:
    """Read the original ``source,question,answer,rating`` CSV (a path or an open text file)."""
    sources: list[str] = []
    questions: list[str] = []
    answers: list[str] = []
    ratings: list[int] = []
    for line_no, row in csv_rows(source, what="Sudoku-Extreme", limit=limit):
        sources.append(row[0])
        questions.append(row[1])
        answers.append(row[2])
        try:
            ratings.append(int(row[3]))
        except ValueError:
            raise DataError(f"line {line_no}: rating {row[3]!r} is not an integer") from None
    q = strings_to_grids(questions, size)
    a = strings_to_grids(answers, size)
    if (a == 0).any():
        bad = int(np.argwhere((a == 0).reshape(len(a), -1).any(axis=1))[0][0])
        raise DataError(f"row {bad}: the answer has blanks")
    mismatch = ((q != 0) & (q != a)).reshape(len(q), -1).any(axis=1)
    if mismatch.any():
        raise DataError(f"row {int(np.argmax(mismatch))}: the answer contradicts a given of the question")
    return SudokuArrays(q, a, np.asarray(ratings, np.int32), tuple(sources))


def write_csv(path: str | Path, arrays: SudokuArrays) -> None:
    with Path(path).open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(PUZZLE_CSV_HEADER)
        for src, q, a, r in zip(arrays.sources, arrays.questions, arrays.solutions, arrays.ratings):
            writer.writerow([src, grid_to_string(q), grid_to_string(a), int(r)])


def bundled_path(split: str, version: str = BUNDLED_VERSION) -> Path:
    if version not in BUNDLED:
        raise DataError(f"no bundled Sudoku version {version!r}; bundled versions are {sorted(BUNDLED)}")
    if split not in BUNDLED[version]:
        raise DataError(f"no bundled Sudoku split {split!r}; bundled splits are {sorted(BUNDLED[version])}")
    return Path(str(resources.files("arena_envs.sudoku") / "data" / BUNDLED[version][split]))


def hub_path(split: str) -> Path:  # pragma: no cover - needs internet
    return hub_csv(HUB_REPO, split)


def fingerprint(shape: SudokuShape, questions: np.ndarray, solutions: np.ndarray) -> str:
    return grid_fingerprint(f"{FAMILY}:{shape.box_rows}x{shape.box_cols}:{len(questions)}", questions, solutions)


@dataclass(frozen=True, eq=False)
class SudokuSet(RowIndex):
    """A split of Sudoku puzzles with a rule-based verifier. Implements ``PuzzleSet``."""

    env_id: str
    split: str
    source: str
    shape: SudokuShape
    arrays: SudokuArrays
    id_prefix: str
    fingerprint: str = ""
    puzzles: tuple[Puzzle, ...] = field(default=(), repr=False)
    # row numbers in the loaded split of a difficulty band's puzzles (None: the whole split), so a puzzle keeps
    # its id and meta["index"] in every band
    rows: tuple[int, ...] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        a = self.arrays
        rows = self.rows if self.rows is not None else range(len(a.questions))
        puzzles = tuple(
            Puzzle(
                id=f"{self.id_prefix}/{self.split}/{row:06d}",
                family=FAMILY,
                grid=a.questions[i],
                meta={
                    "rating": int(a.ratings[i]),
                    "clues": int((a.questions[i] != 0).sum()),
                    "source": a.sources[i],
                    "box": (self.shape.box_rows, self.shape.box_cols),
                    "index": row,
                },
            )
            for i, row in enumerate(rows)
        )
        object.__setattr__(self, "puzzles", puzzles)
        object.__setattr__(self, "fingerprint", fingerprint(self.shape, a.questions, a.solutions))
        object.__setattr__(self, "_index", {p.id: i for i, p in enumerate(puzzles)})

    def verify(self, puzzle: Puzzle, answer: Any) -> Verdict:
        return verifier.verify(self.arrays.questions[self._row(puzzle)], answer, self.shape)

    def verify_batch(self, puzzles: Sequence[Puzzle], answers: Sequence[Any]) -> list[Verdict]:
        rows = [self._row(p) for p in puzzles]
        return verifier.verify_batch(self.arrays.questions[rows], answers, self.shape)

    def label(self, puzzle: Puzzle) -> np.ndarray:
        """The stored solution (for training and diagnostics; the verifier does not use it)."""
        return self.arrays.solutions[self._row(puzzle)]


def generated_arrays(shape: SudokuShape, seed: int, count: int, profile: str | None = None) -> SudokuArrays:
    """Puzzles made by the seeded generator: index i is a pure function of (seed, i, shape, profile). Made once
    per machine and then read from the disk cache (:mod:`arena_envs.gencache`)."""
    from arena_envs.sudoku import generator

    kwargs: dict[str, Any] = {"box_rows": shape.box_rows, "box_cols": shape.box_cols}
    if profile is not None:
        kwargs["profile"] = profile

    def build() -> dict[str, np.ndarray]:
        made = generator.generate_many(seed, 0, count, **kwargs)
        return {
            "questions": np.stack([g.question for g in made]).astype(np.int8),
            "solutions": np.stack([g.solution for g in made]).astype(np.int8),
            "ratings": np.asarray([g.rating for g in made], np.int32),
            "sources": np.asarray([f"arena-gen/{g.kind}" for g in made]),
        }

    def complete(arrays: dict[str, np.ndarray]) -> bool:
        side = shape.size
        return (
            arrays["questions"].shape == arrays["solutions"].shape == (count, side, side)
            and len(arrays["sources"]) == len(arrays["ratings"]) == count
        )

    params = {"box_rows": shape.box_rows, "box_cols": shape.box_cols, "seed": seed, "count": count, "profile": profile}
    arrays = cached_arrays("sudoku", params, Path(generator.__file__).parent, build, complete)
    return SudokuArrays(
        questions=arrays["questions"].astype(np.int8),
        solutions=arrays["solutions"].astype(np.int8),
        ratings=arrays["ratings"].astype(np.int32),
        sources=tuple(str(s) for s in arrays["sources"]),
    )


SPLIT_SEED_OFFSET = {"train": 0, "test": 1, "val": 2}


def load_set(
    env_id: str,
    split: str = "test",
    size: int = 9,
    data: str | None = None,
    seed: int = 0,
    count: int = 1000,
    limit: int | None = None,
    rating_min: int | None = None,
    rating_max: int | None = None,
    clues_min: int | None = None,
    clues_max: int | None = None,
) -> SudokuSet:
    """Resolve the ``data`` option of the Sudoku envs into a :class:`SudokuSet` (cached per content).

    ``data``: ``"bundled"`` (default for 9x9: ``BUNDLED_VERSION``; ``"bundled-v1"`` and ``"bundled-v2"`` name a
    version), ``"generated"`` (default for other sizes: ``count``
    puzzles from ``seed``), ``"hub"`` (the original dataset, needs internet) or a path to a CSV in
    the original schema. The difficulty bands then keep the puzzles whose ``rating`` (the split's rating
    column) and ``clues`` (givens) lie in [min, max] (None: unbounded); with no band the loaded set is returned
    as it is, so the default splits and their fingerprints do not change.
    """
    # A file may change between calls: its size and mtime are part of the cache key.
    full = _load_set(env_id, split, size, data, seed, count, limit, file_version(data))
    return _banded(full, (rating_min, rating_max), (clues_min, clues_max))


@lru_cache(maxsize=32)
def _banded(full: SudokuSet, rating: tuple[int | None, int | None], clues: tuple[int | None, int | None]) -> SudokuSet:
    """The puzzles of ``full`` inside both bands: a split of its own (its fingerprint covers only those puzzles;
    its source names the bands), or ``full`` itself when no band bounds anything."""
    a = full.arrays
    values = {"rating": a.ratings, "clues": (a.questions != 0).reshape(len(a.questions), -1).sum(axis=1)}
    rows = band_rows(values, {"rating": rating, "clues": clues}, what=f"{full.source} split {full.split!r}")
    if rows is None:
        return full
    shown = ",".join(band_text(k, *b) for k, b in (("rating", rating), ("clues", clues)) if b != (None, None))
    arrays = SudokuArrays(a.questions[rows], a.solutions[rows], a.ratings[rows], tuple(a.sources[i] for i in rows))
    return SudokuSet(
        env_id=full.env_id,
        split=full.split,
        source=f"{full.source}:{shown}",
        shape=full.shape,
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
) -> SudokuSet:
    shape = SudokuShape.of_size(size)
    if split not in SPLIT_SEED_OFFSET:
        raise ConfigError(f"unknown split {split!r}; choose one of {sorted(SPLIT_SEED_OFFSET)}")
    mode = data or ("bundled" if size == 9 else "generated")
    if mode in BUNDLED_OPTIONS:
        if size == 9:
            version = BUNDLED_OPTIONS[mode]
        elif mode == "bundled" and size in BUNDLED_SMALL:
            version = BUNDLED_SMALL[size]
        else:
            sizes = ", ".join(f"{n}x{n}" for n in sorted({9, *BUNDLED_SMALL})) if mode == "bundled" else "9x9"
            raise ConfigError(f"data={mode!r} exists for {sizes} boards; for size={size} use data='generated'")
        arrays = read_csv(bundled_path(split, version), size=size, limit=limit)
        source = prefix = version
    elif mode == "generated":
        if count < 1:
            raise ConfigError(f"count must be >= 1, got {count}")
        gen_seed = seed * 10 + SPLIT_SEED_OFFSET[split]
        n = count if limit is None else min(count, limit)
        arrays = generated_arrays(shape, gen_seed, n)
        source = f"generated:{shape.size}x{shape.size}:seed={seed}:count={n}"
        prefix = f"sudoku-{shape.size}x{shape.size}-gen-s{seed}"
    elif mode == "hub":  # pragma: no cover - needs internet
        arrays, source, prefix = (
            read_csv(hub_path(split), size=size, limit=limit),
            "original:hub",
            "sudoku-extreme",
        )
    else:
        path = Path(mode).expanduser()
        arrays = read_csv(path, size=size, limit=limit)
        source, prefix = f"original:{path.name}", "sudoku-extreme"
    if len(arrays.questions) == 0:
        raise DataError(f"no puzzles in {mode!r} for split {split!r}")
    return SudokuSet(env_id=env_id, split=split, source=source, shape=shape, arrays=arrays, id_prefix=prefix)
