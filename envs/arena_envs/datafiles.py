"""Pieces every family's data module shares: the hub download, file-change detection for caches, row lookup."""

from __future__ import annotations

from pathlib import Path

from arena_envs.config import DataError
from arena_envs.protocol import Puzzle

NAMED_SOURCES = (None, "bundled", "generated", "hub")


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
