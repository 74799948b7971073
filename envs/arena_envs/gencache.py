"""A disk cache for generated puzzle sets, so a seeded split is made once per machine, not once per process.

Generated splits are pure functions of their parameters and the generator's code (4x4 Sudoku: about 11 s per
1,000 puzzles; 6x6: 23 s per 2,000), and the same split is asked for by ``arena train``, every ``arena eval`` of
it, and many tests. The cache key is the sha256 of the parameters and of every source file of the family's package,
so any change to the generator (or anything next to it) makes new entries; stale ones are never read.

Entries are ``.npz`` files read with ``allow_pickle=False`` and written to a temporary name, then renamed: a
killed writer leaves no half entry, and an unreadable or mismatched entry is made again and replaced. Location:
``$ARENA_CACHE_DIR``, else ``$XDG_CACHE_HOME/puzzle-arena/generated``, else ``~/.cache/puzzle-arena/generated``;
``ARENA_NO_CACHE=1`` turns the cache off.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np


def cache_dir() -> Path | None:
    """Where entries go, or None when the cache is off."""
    if os.environ.get("ARENA_NO_CACHE") == "1":
        return None
    if os.environ.get("ARENA_CACHE_DIR"):
        return Path(os.environ["ARENA_CACHE_DIR"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "puzzle-arena" / "generated"


@cache
def code_digest(package_dir: str) -> str:
    """sha256 over the names and bytes of every .py file of a package directory (sorted)."""
    h = hashlib.sha256()
    for path in sorted(Path(package_dir).glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def cache_key(kind: str, params: Mapping[str, Any], package_dir: str | Path) -> str:
    text = json.dumps({"kind": kind, "params": dict(params), "code": code_digest(str(package_dir))}, sort_keys=True)
    return f"{kind}-{hashlib.sha256(text.encode()).hexdigest()[:32]}"


def cached_arrays(
    kind: str,
    params: Mapping[str, Any],
    package_dir: str | Path,
    build: Callable[[], dict[str, np.ndarray]],
    check: Callable[[dict[str, np.ndarray]], bool] = lambda arrays: True,
) -> dict[str, np.ndarray]:
    """``build()`` once per (kind, params, code); later calls read the stored arrays (``check`` must accept
    them, else they are built again and replaced)."""
    directory = cache_dir()
    if directory is None:
        return build()
    path = directory / f"{cache_key(kind, params, package_dir)}.npz"
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        if check(arrays):
            return arrays
    except (OSError, ValueError, KeyError, EOFError):  # absent, truncated, not an npz: make it again
        pass
    arrays = build()
    temporary = None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=path.stem, suffix=".tmp", delete=False) as fh:
            temporary = fh.name
            np.savez(fh, **arrays)
        os.replace(temporary, path)
    except OSError:  # a read-only or full disk only costs the next process the generation time
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
    return arrays
