"""Where a result came from: package version, git revision, Python, platform, time."""

from __future__ import annotations

import platform
import subprocess
import time
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any


@lru_cache(maxsize=1)
def package_version() -> str:
    try:
        return metadata.version("puzzle-arena")
    except metadata.PackageNotFoundError:
        return "unknown"


@lru_cache(maxsize=1)
def git_revision() -> str:
    """The checkout's HEAD (with '+dirty' when tracked files changed), or 'unknown' outside git."""
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return rev + ("+dirty" if dirty else "")


def provenance() -> dict[str, Any]:
    return {
        "package_version": package_version(),
        "git_revision": git_revision(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
