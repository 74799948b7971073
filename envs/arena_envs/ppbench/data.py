"""Pencil Puzzle Bench data: the golden sets the ``ppbench`` package ships, or any file in the same jsonl format.

A record (one JSON object per line) has at least ``puzzlink_url`` (or ``puzzle_url``) and ``pid``; its stored
solution is ``solution_enc`` (base64 of the JSON ``{moves_full, moves_required, moves_hint}`` XORed with the
key "ppbench", as published) or a plain ``solution`` object. Other fields (``number_required_moves``, ``source``,
``sort_key``, ...) are kept in the puzzle's meta.

Each puzzle is opened once by pzpr.js at load time: its ``grid`` is the givens in the (2R+1) x (2C+1) layout
(see ``layout.py``) and its meta carries the variety, the size, pzpr's text form of the board and the rules.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from arena_envs.config import ConfigError, DataError
from arena_envs.datafiles import RowIndex, file_version
from arena_envs.env_base import band_rows, band_text
from arena_envs.ppbench import layout
from arena_envs.ppbench.engine import PzprWorker, WorkerPool, default_worker, ppbench_root
from arena_envs.ppbench.verifier import judge_batch
from arena_envs.protocol import Puzzle, Verdict

FAMILY = "ppbench"
XOR_KEY = b"ppbench"
BUNDLED_FILES = {"golden_300": "golden_300.jsonl", "golden_30": "golden_30.jsonl"}
SPLIT_ALIASES = {"test": "golden_300"}


@dataclass(frozen=True)
class Record:
    url: str
    pid: str
    solution: dict[str, list[str]]  # moves_full / moves_required / moves_hint
    fields: dict[str, Any]
    line: int = 0  # line number in its file, for error messages


def decode_solution(encoded: str) -> dict[str, list[str]]:
    """The published obfuscation: base64, then XOR with the repeating key b"ppbench", then JSON."""
    raw = base64.b64decode(encoded)
    plain = bytes(b ^ XOR_KEY[i % len(XOR_KEY)] for i, b in enumerate(raw))
    return json.loads(plain)


def encode_solution(solution: dict[str, list[str]]) -> str:
    """Inverse of :func:`decode_solution` (to write files in the published format)."""
    plain = json.dumps(solution).encode()
    return base64.b64encode(bytes(b ^ XOR_KEY[i % len(XOR_KEY)] for i, b in enumerate(plain))).decode()


def read_jsonl(path: str | Path, limit: int | None = None) -> list[Record]:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"PPBench file {str(path)!r} not found; pass a .jsonl in the ppbench format or data=None")
    records: list[Record] = []
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            if limit is not None and len(records) >= limit:
                break
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
                url = obj.get("puzzlink_url") or obj.get("puzzle_url")
                if not isinstance(url, str) or not isinstance(obj.get("pid"), str):
                    raise ValueError("needs string fields puzzlink_url (or puzzle_url) and pid")
                if "solution_enc" in obj:
                    solution = decode_solution(obj.pop("solution_enc"))
                else:
                    solution = obj.pop("solution", None) or {}
                if not isinstance(solution, dict) or not all(
                    isinstance(solution.get(k, []), list) for k in ("moves_full", "moves_required", "moves_hint")
                ):
                    raise ValueError("solution must hold lists moves_full / moves_required / moves_hint")
            except (ValueError, TypeError, RecursionError) as exc:  # JSONDecodeError, binascii.Error: ValueErrors
                raise DataError(f"{path}:{line_no}: {type(exc).__name__}: {exc}") from None
            records.append(Record(url, obj["pid"], solution, obj, line_no))
    return records


def bundled_path(split: str) -> Path:
    name = SPLIT_ALIASES.get(split, split)
    if name not in BUNDLED_FILES:
        raise ConfigError(f"unknown PPBench split {split!r}; use one of {[*BUNDLED_FILES, *SPLIT_ALIASES]}")
    return ppbench_root() / "bundled" / BUNDLED_FILES[name]


@dataclass
class PPBenchSet(RowIndex):
    env_id: str
    split: str
    source: str
    fingerprint: str
    puzzles: Sequence[Puzzle]
    solutions: Sequence[dict[str, list[str]]] = field(repr=False)
    worker: PzprWorker | WorkerPool = field(repr=False, default_factory=default_worker)

    def __post_init__(self) -> None:
        self._index = {p.id: i for i, p in enumerate(self.puzzles)}

    def label(self, puzzle: Puzzle) -> list[str]:
        """The stored solution's moves (``moves_full``, as published)."""
        return list(self.solutions[self._row(puzzle)]["moves_full"])

    def verify(self, puzzle: Puzzle, answer: Any) -> Verdict:
        return self.verify_batch([puzzle], [answer])[0]

    def verify_batch(self, puzzles: Sequence[Puzzle], answers: Sequence[Any]) -> list[Verdict]:
        """One worker request for the whole batch."""
        return [v for v, _ in judge_batch(self.worker, puzzles, answers)]

    def judge(self, puzzle: Puzzle, answer: Any, board: Any = None) -> tuple[Verdict, dict[str, Any] | None]:
        """Verdict plus the board after the answer (answer layers, broken / unfinished rules); ``board`` is
        an answer grid to start from (the step env's current state) before moves are played."""
        return judge_batch(self.worker, [puzzle], [answer], with_state=True, start=[board])[0]


def _fingerprint(records: Sequence[Record]) -> str:
    return _fingerprint_of([(r.url, r.pid, r.solution) for r in records])


def _fingerprint_of(items: Sequence[tuple[str, str, dict[str, list[str]]]]) -> str:
    """sha256 over (url, pid, published moves) of each puzzle in order."""
    h = hashlib.sha256()
    for url, pid, solution in items:
        h.update(json.dumps([url, pid, solution.get("moves_full", [])], separators=(",", ":")).encode())
    return "sha256:" + h.hexdigest()  # same form as every other env's fingerprint


def _puzzle_id(split: str, index: int, record: Record) -> str:
    digest = hashlib.md5(record.url.encode()).hexdigest()[:8]
    return f"ppbench/{split}/{index:04d}-{record.pid}-{digest}"


@lru_cache(maxsize=8)
def _load(
    path: str, version: Any, split: str, source: str, count: int | None, variety: str | None, env_id: str
) -> PPBenchSet:
    indexed = list(enumerate(read_jsonl(path)))
    if variety is not None:
        indexed = [(i, r) for i, r in indexed if r.pid == variety]
        if not indexed:
            raise ConfigError(
                f"no {variety!r} puzzles in {path}; its varieties: {sorted({r.pid for r in read_jsonl(path)})}"
            )
    indexed = indexed[:count] if count is not None else indexed
    if not indexed:
        raise DataError(f"{path} holds no puzzles")
    records = [r for _, r in indexed]
    worker = default_worker()
    described = worker.batch("describe", [r.url for r in records], key="urls")
    rules = {pid: worker.request("rules", pid=pid) for pid in sorted({r.pid for r in records})}
    puzzles = []
    for (i, record), info in zip(indexed, described):
        if "error" in info:
            raise DataError(f"{path}:{record.line}: puzzle {i + 1} ({record.url[:120]}): {info['error']}")
        if info["pid"] != record.pid:
            raise DataError(
                f"{path}:{record.line}: puzzle {i + 1} says pid {record.pid!r} but its URL opens {info['pid']!r}"
            )
        extras = {k: v for k, v in record.fields.items() if k not in ("puzzlink_url", "puzzle_url", "pid")}
        meta = {
            **extras,  # first: a record's own fields (an extra "url", say) never override the puzzle's identity
            "pid": record.pid,
            "url": record.url,
            "rows": info["rows"],
            "cols": info["cols"],
            "layout": tuple(info["layout"]),
            "file": info["file"],
            "rules": rules[record.pid]["en"],
            "number_entry": info["number_entry"],
            "edge_channel": info["edge_channel"],
            "max_cell_value": info["max_cell_value"],
            "writable": np.asarray(info["writable"], dtype=np.int8),
            "record_index": i,
            "data_path": path,
        }
        puzzles.append(Puzzle(_puzzle_id(split, i, record), FAMILY, layout.givens_array(info["givens"]), meta))
    return PPBenchSet(
        env_id=env_id,
        split=split,
        source=source,
        fingerprint=_fingerprint(records),
        puzzles=puzzles,
        solutions=[r.solution for r in records],
        worker=worker,
    )


def load_set(
    env_id: str = "arena/PPBench-v0",
    split: str = "test",
    data: str | None = None,
    count: int | None = None,
    variety: str | None = None,
    cells_min: int | None = None,
    cells_max: int | None = None,
) -> PPBenchSet:
    """The golden set of the installed ``ppbench`` package (``split`` golden_300 = test, or golden_30), or the
    jsonl file ``data``; ``variety`` keeps one pzpr variety (e.g. "sudoku"), then ``count`` the first puzzles,
    then the board-size band the puzzles with rows x cols in [cells_min, cells_max] (None: unbounded; the size
    is known once pzpr has opened a puzzle). With no band the loaded set is returned as it is."""
    if count is not None and count < 1:
        raise ConfigError(f"count must be >= 1, got {count}")
    if data in (None, "bundled"):
        path = bundled_path(split)
        name = SPLIT_ALIASES.get(split, split)
        source = f"ppbench-0.1.0:{name}"
    else:
        path = Path(data)
        name = split if split != "test" else path.stem
        source = f"original:{path}"
    loaded = (str(path), file_version(str(path)), name, source, count, variety, env_id)
    if cells_min is None and cells_max is None:
        return _load(*loaded)
    return _banded(loaded, (cells_min, cells_max))


@lru_cache(maxsize=16)
def _banded(loaded: tuple[Any, ...], cells: tuple[int | None, int | None]) -> PPBenchSet:
    """The puzzles of the set ``_load(*loaded)`` inside the band, with their own fingerprint (the same formula
    over the kept puzzles) and ids (unchanged: they carry the row in the file). Keyed by the load arguments: a
    PPBenchSet is a mutable dataclass, so not hashable."""
    full = _load(*loaded)
    sizes = np.array([p.meta["rows"] * p.meta["cols"] for p in full.puzzles], dtype=np.int64)
    rows = band_rows({"cells": sizes}, {"cells": cells}, what=full.source)
    if rows is None:
        return full
    puzzles = [full.puzzles[i] for i in rows]
    solutions = [full.solutions[i] for i in rows]
    return PPBenchSet(
        env_id=full.env_id,
        split=full.split,
        source=f"{full.source}:{band_text('cells', *cells)}",
        fingerprint=_fingerprint_of([(p.meta["url"], p.meta["pid"], sol) for p, sol in zip(puzzles, solutions)]),
        puzzles=puzzles,
        solutions=solutions,
        worker=full.worker,
    )


@lru_cache(maxsize=4)
def _solutions(path: str, version: Any) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(r.solution.get("moves_full", [])) for r in read_jsonl(path))


def stored_solution(puzzle: Puzzle) -> list[str]:
    """The published solution of a puzzle loaded by this module (for the oracle), read from its file."""
    path = puzzle.meta.get("data_path")
    if path is None:
        raise DataError(f"{puzzle.id} does not come from a PPBench file")
    return list(_solutions(path, file_version(path))[int(puzzle.meta["record_index"])])
