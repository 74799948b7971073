"""Snowflake Sudoku data: the bundled synthetic split, on-the-fly generation, and CSV files in the same schema.

A split is a CSV with columns ``source,hexagons,question,answer``: ``hexagons`` is n, ``question`` and ``answer``
are 6n characters, one per cell in the order of :mod:`arena_envs.snowflake.topology` (hexagon by hexagon, each
triangle by triangle), ``.`` for a blank and ``1``-``6`` for a digit. Every loaded row is checked: the lengths
match n, the answer keeps the givens and satisfies every group.

A puzzle's ``grid`` is its cell vector, int8 [6n] (0 = blank); ``meta`` holds ``hexagons``, ``givens`` and the
board's constraint ``groups`` (lists of 6 cell indices: the hexagons, then the meeting points), so an agent that
knows nothing of the topology module still has the whole graph.

Regenerate the bundled splits in ``envs/arena_envs/snowflake/data/`` (bit for bit; the sha256 sums are in its
``SHA256SUMS``)::

    python -m arena_envs.snowflake.generator --split test --n 1000 --out snowflake_synth_v1_test.csv
    python -m arena_envs.snowflake.generator --split train --n 1000 --out snowflake_synth_v1_train.csv
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from arena_envs.config import ConfigError, DataError
from arena_envs.datafiles import RowIndex, file_version
from arena_envs.env_base import band_rows, band_text
from arena_envs.gencache import cached_arrays
from arena_envs.protocol import Puzzle, Verdict
from arena_envs.snowflake import verifier
from arena_envs.snowflake.generator import COLUMNS, HEXAGONS, PROFILE, generate
from arena_envs.snowflake.topology import CELLS_PER_HEXAGON, MAX_HEXAGONS, snowflake

FAMILY = "snowflake"
BUNDLED_VERSION = PROFILE
BUNDLED_FILES = {"test": "snowflake_synth_v1_test.csv", "train": "snowflake_synth_v1_train.csv"}
SPLIT_SEED_OFFSET = {"train": 0, "test": 1, "val": 2}


@dataclass(frozen=True, eq=False)
class SnowflakeRows:
    """The rows of a split: boards of different sizes, so one array per row (int8 [6n], 0 = blank)."""

    hexagons: np.ndarray  # int32 [N]
    questions: tuple[np.ndarray, ...]
    solutions: tuple[np.ndarray, ...]
    sources: tuple[str, ...]

    def take(self, rows: Sequence[int]) -> SnowflakeRows:
        return SnowflakeRows(
            self.hexagons[list(rows)],
            tuple(self.questions[i] for i in rows),
            tuple(self.solutions[i] for i in rows),
            tuple(self.sources[i] for i in rows),
        )


def parse_cells(text: str, cells: int, *, blanks: bool) -> np.ndarray:
    """int8 [cells] from one character per cell ('.' or '0' blank when ``blanks``, '1'-'6' a digit)."""
    text = text.strip()
    if len(text) != cells:
        raise ValueError(f"expected {cells} characters, got {len(text)}")
    allowed = set("123456") | (set(".0") if blanks else set())
    bad = sorted(set(text) - allowed)
    if bad:
        raise ValueError(f"characters other than {''.join(sorted(allowed))}: {''.join(bad)!r}")
    return np.array([0 if ch in ".0" else int(ch) for ch in text], dtype=np.int8)


def read_csv(source: str | Path | io.TextIOBase, limit: int | None = None) -> SnowflakeRows:
    """Read a ``source,hexagons,question,answer`` CSV (a path or an open text file); every problem is a DataError
    naming the line."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise DataError(
                f"Snowflake Sudoku CSV {str(path)!r} not found; pass the path of a CSV with columns "
                f"{','.join(COLUMNS)} or use data='bundled'"
            )
        with path.open(newline="") as fh:
            return read_csv(fh, limit)
    reader = csv.reader(source)
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != COLUMNS:
        raise DataError(f"expected CSV header {','.join(COLUMNS)}, got {header!r}")
    hexagons, questions, solutions, sources = [], [], [], []
    for line_no, row in enumerate(reader, start=2):
        if limit is not None and len(questions) >= limit:
            break
        if len(row) != len(COLUMNS):
            raise DataError(f"line {line_no}: expected {len(COLUMNS)} fields, got {len(row)}")
        try:
            n = int(row[1])
            if not 1 <= n <= MAX_HEXAGONS:
                raise ValueError(f"hexagons must be 1..{MAX_HEXAGONS}, got {n}")
            q = parse_cells(row[2], CELLS_PER_HEXAGON * n, blanks=True)
            a = parse_cells(row[3], CELLS_PER_HEXAGON * n, blanks=False)
        except ValueError as exc:
            raise DataError(f"line {line_no}: {exc}") from None
        verdict = verifier.verify(q, a, snowflake(n))
        if not verdict.ok:
            raise DataError(f"line {line_no}: the answer is not a solution of the question: {verdict.reason}")
        hexagons.append(n)
        questions.append(q)
        solutions.append(a)
        sources.append(row[0])
    return SnowflakeRows(np.asarray(hexagons, np.int32), tuple(questions), tuple(solutions), tuple(sources))


def generated_rows(seed: int, count: int, hexagons: tuple[int, int] = HEXAGONS) -> SnowflakeRows:
    """``count`` puzzles of the seeded generator (about 40 ms each); made once per machine, then read from the disk
    cache (:mod:`arena_envs.gencache`)."""
    width = CELLS_PER_HEXAGON * hexagons[1]

    def build() -> dict[str, np.ndarray]:
        made = [generate(seed, i, hexagons) for i in range(count)]
        pad = np.zeros((count, width), np.int8)
        questions, solutions = pad.copy(), pad.copy()
        for i, p in enumerate(made):
            questions[i, : len(p.question)] = p.question
            solutions[i, : len(p.solution)] = p.solution
        sizes = np.asarray([p.hexagons for p in made], np.int32)
        return {"hexagons": sizes, "questions": questions, "solutions": solutions}

    def complete(arrays: dict[str, np.ndarray]) -> bool:
        return arrays["questions"].shape == arrays["solutions"].shape == (count, width)

    params = {"seed": seed, "count": count, "hexagons": list(hexagons)}
    arrays = cached_arrays("snowflake", params, Path(__file__).parent, build, complete)
    sizes = arrays["hexagons"].astype(np.int32)
    cut = [CELLS_PER_HEXAGON * int(n) for n in sizes]
    return SnowflakeRows(
        sizes,
        tuple(arrays["questions"][i, :c].astype(np.int8) for i, c in enumerate(cut)),
        tuple(arrays["solutions"][i, :c].astype(np.int8) for i, c in enumerate(cut)),
        tuple(f"{PROFILE}/generated" for _ in cut),
    )


def fingerprint(rows: SnowflakeRows) -> str:
    """``sha256:`` over the family name, then every row's n, question and solution bytes."""
    h = hashlib.sha256(f"{FAMILY}:{len(rows.questions)}".encode())
    for n, q, a in zip(rows.hexagons, rows.questions, rows.solutions):
        h.update(int(n).to_bytes(1, "little"))
        h.update(np.ascontiguousarray(q, dtype=np.int8).tobytes())
        h.update(np.ascontiguousarray(a, dtype=np.int8).tobytes())
    return "sha256:" + h.hexdigest()


@dataclass(frozen=True, eq=False)
class SnowflakeSet(RowIndex):
    """A split of Snowflake Sudoku puzzles with the rule-based verifier. Implements ``PuzzleSet``."""

    env_id: str
    split: str
    source: str
    data: SnowflakeRows
    id_prefix: str
    fingerprint: str = ""
    puzzles: tuple[Puzzle, ...] = field(default=(), repr=False)
    # row numbers in the loaded split of a band's puzzles (None: the whole split): a puzzle keeps its id in a band
    rows: tuple[int, ...] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        d = self.data
        rows = self.rows if self.rows is not None else range(len(d.questions))
        puzzles = tuple(
            Puzzle(
                id=f"{self.id_prefix}/{self.split}/{row:06d}",
                family=FAMILY,
                grid=d.questions[i],
                meta={
                    "hexagons": int(d.hexagons[i]),
                    "givens": int(np.count_nonzero(d.questions[i])),
                    "groups": snowflake(int(d.hexagons[i])).groups.tolist(),
                    "source": d.sources[i],
                    "index": row,
                },
            )
            for i, row in enumerate(rows)
        )
        object.__setattr__(self, "puzzles", puzzles)
        object.__setattr__(self, "fingerprint", fingerprint(d))
        object.__setattr__(self, "_index", {p.id: i for i, p in enumerate(puzzles)})

    def verify(self, puzzle: Puzzle, answer: Any) -> Verdict:
        i = self._row(puzzle)
        return verifier.verify(self.data.questions[i], answer, snowflake(int(self.data.hexagons[i])))

    def verify_batch(self, puzzles: Sequence[Puzzle], answers: Sequence[Any]) -> list[Verdict]:
        rows = [self._row(p) for p in puzzles]
        return verifier.verify_batch([self.data.questions[i] for i in rows], answers)

    def label(self, puzzle: Puzzle) -> np.ndarray:
        return self.data.solutions[self._row(puzzle)]


def bundled_path(split: str) -> Path:
    if split not in BUNDLED_FILES:
        raise DataError(f"no bundled Snowflake split {split!r}; bundled splits are {sorted(BUNDLED_FILES)}")
    return Path(str(resources.files("arena_envs.snowflake") / "data" / BUNDLED_FILES[split]))


def load_set(
    env_id: str,
    split: str = "test",
    data: str | None = None,
    seed: int = 0,
    count: int = 1000,
    limit: int | None = None,
    hexagons_min: int | None = None,
    hexagons_max: int | None = None,
) -> SnowflakeSet:
    """``data``: ``bundled`` (the default: 1,000 test / 1,000 train puzzles, n = 4..8), ``generated`` (``count``
    puzzles from ``seed``, with n drawn from the band ``hexagons_min``..``hexagons_max``, default 4..8) or the path
    of a CSV in the same schema. For files the band keeps the puzzles of ``hexagons_min``..``hexagons_max``
    hexagons; with no band the loaded set is returned as it is."""
    if (data or "bundled") == "generated":
        lo, hi = hexagons_min or HEXAGONS[0], hexagons_max or max(HEXAGONS[1], hexagons_min or 0)
        if not 1 <= lo <= hi <= MAX_HEXAGONS:
            raise ConfigError(f"generated boards have 1..{MAX_HEXAGONS} hexagons; got the band {lo}..{hi}")
        return _load_set(env_id, split, data, seed, count, limit, None, (lo, hi))
    full = _load_set(env_id, split, data, seed, count, limit, file_version(data))
    return _banded(full, (hexagons_min, hexagons_max))


@lru_cache(maxsize=16)
def _banded(full: SnowflakeSet, hexagons: tuple[int | None, int | None]) -> SnowflakeSet:
    what = f"{full.source} split {full.split!r}"
    rows = band_rows({"hexagons": full.data.hexagons}, {"hexagons": hexagons}, what=what)
    if rows is None:
        return full
    return SnowflakeSet(
        env_id=full.env_id,
        split=full.split,
        source=f"{full.source}:{band_text('hexagons', *hexagons)}",
        data=full.data.take(rows.tolist()),
        id_prefix=full.id_prefix,
        rows=tuple(int(i) for i in rows),
    )


@lru_cache(maxsize=16)
def _load_set(
    env_id: str,
    split: str,
    data: str | None,
    seed: int,
    count: int,
    limit: int | None,
    file_stamp: tuple[int, int] | None,  # only part of the cache key: a changed file is read again
    hexagons: tuple[int, int] = HEXAGONS,  # generated boards' sizes
) -> SnowflakeSet:
    if split not in SPLIT_SEED_OFFSET:
        raise ConfigError(f"unknown split {split!r}; choose one of {sorted(SPLIT_SEED_OFFSET)}")
    mode = data or "bundled"
    if mode == "bundled":
        rows, source, prefix = read_csv(bundled_path(split), limit), BUNDLED_VERSION, BUNDLED_VERSION
    elif mode == "generated":
        if count < 1:
            raise ConfigError(f"count must be >= 1, got {count}")
        n = count if limit is None else min(count, limit)
        rows = generated_rows(seed * 10 + SPLIT_SEED_OFFSET[split], n, hexagons)
        sizes = "" if hexagons == HEXAGONS else f":hexagons={hexagons[0]}..{hexagons[1]}"
        tag = "" if hexagons == HEXAGONS else f"-n{hexagons[0]}to{hexagons[1]}"
        source, prefix = f"generated:snowflake:seed={seed}:count={n}{sizes}", f"snowflake-gen-s{seed}{tag}"
    elif mode == "hub":
        raise ConfigError(
            "Snowflake Sudoku has no hub copy here; use data='bundled', 'generated' or the path of a CSV "
            f"with columns {','.join(COLUMNS)}"
        )
    else:
        path = Path(mode).expanduser()
        rows, source, prefix = read_csv(path, limit), f"file:{path.name}", "snowflake"
    if len(rows.questions) == 0:
        raise DataError(f"no puzzles in {mode!r} for split {split!r}")
    return SnowflakeSet(env_id=env_id, split=split, source=source, data=rows, id_prefix=prefix)
