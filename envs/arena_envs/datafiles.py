"""Pieces every family's data module shares: the hub download, file-change detection for caches, row lookup."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from arena_envs.config import DataError
from arena_envs.protocol import Puzzle

NAMED_SOURCES = (None, "bundled", "generated", "hub")
PUZZLE_CSV_HEADER = ("source", "question", "answer", "rating")


def csv_rows(
    source: str | Path | io.TextIOBase, *, what: str, limit: int | None = None
) -> Iterator[tuple[int, Sequence[str]]]:
    """(line number, fields) of a ``source,question,answer,rating`` CSV (a path or an open text file).

    The file must exist and carry that header, and every row must have 4 fields; each problem is a DataError
    naming the line. ``what`` names the dataset in the message for a missing file (e.g. "Maze-Hard").
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise DataError(
                f"{what} CSV {str(path)!r} not found; pass the path of a {what} train.csv/test.csv "
                "(columns source,question,answer,rating) or use data='bundled'"
            )
        with path.open(newline="") as fh:
            yield from csv_rows(fh, what=what, limit=limit)
        return
    reader = csv.reader(source)
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != PUZZLE_CSV_HEADER:
        raise DataError(f"expected CSV header {','.join(PUZZLE_CSV_HEADER)}, got {header!r}")
    for count, (line_no, row) in enumerate(enumerate(reader, start=2)):
        if limit is not None and count >= limit:
            return
        if len(row) != len(PUZZLE_CSV_HEADER):
            raise DataError(f"line {line_no}: expected 4 fields, got {len(row)}")
        yield line_no, row


def file_version(data: str | None) -> tuple[int, int] | None:
    """(size, mtime) of ``data`` when it names a file, so a cache keyed by it reloads a file that changed."""
    if data in NAMED_SOURCES:
        return None
    path = Path(data).expanduser()  # type: ignore[arg-type]
    if not path.is_file():
        return None
    st = path.stat()
    return (st.st_size, st.st_mtime_ns)


def hub_csv(repo: str, split: str) -> Path:  # pragma: no cover - needs internet
    """Download ``{split}.csv`` of a Hugging Face dataset (needs ``huggingface_hub`` and internet)."""
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        raise DataError(
            "data='hub' needs the huggingface_hub package (pip install huggingface_hub) and internet; "
            f"or download train.csv/test.csv of {repo} and pass data=<path>"
        ) from None
    try:
        return Path(hf_hub_download(repo, f"{split}.csv", repo_type="dataset"))
    except Exception as exc:
        raise DataError(
            f"could not fetch {split}.csv of {repo} from the hub ({exc.__class__.__name__}: {exc}); "
            "without internet download it elsewhere and pass data=<path>"
        ) from exc


class RowIndex:
    """``len()`` and puzzle -> row lookup for a puzzle set that stores ``puzzles`` and an ``_index`` dict."""

    env_id: str
    split: str
    puzzles: tuple[Puzzle, ...]

    def __len__(self) -> int:
        return len(self.puzzles)

    def _row(self, puzzle: Puzzle) -> int:
        try:
            return self._index[puzzle.id]  # type: ignore[attr-defined]
        except KeyError:
            raise KeyError(f"puzzle {puzzle.id!r} is not in {self.env_id} split {self.split!r}") from None


def grid_fingerprint(header: str, questions: np.ndarray, solutions: np.ndarray) -> str:
    """``sha256:`` over a header naming the family and shape, then the int8 question and solution bytes."""
    h = hashlib.sha256()
    h.update(header.encode())
    h.update(np.ascontiguousarray(questions, dtype=np.int8).tobytes())
    h.update(np.ascontiguousarray(solutions, dtype=np.int8).tobytes())
    return "sha256:" + h.hexdigest()
