from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def public_rows():
    from arena_envs.sudoku.data import read_csv

    return read_csv(DATA / "sudoku_extreme_public_rows.csv")


@pytest.fixture(scope="session")
def public_csv() -> Path:
    return DATA / "sudoku_extreme_public_rows.csv"


def pytest_configure(config: pytest.Config) -> None:
    np.set_printoptions(linewidth=120)


# Headless Chromium for the browser tests (the leaderboard site, the run viewer): no GPU, sandbox, network or sync.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium() -> list[str]:
    """The browser command line up to the per-test arguments. Without Chromium the test is skipped, or fails
    when ``ARENA_REQUIRE_BROWSER=1`` (``.ci/run`` sets it)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return [found, *CHROMIUM_FLAGS]
    if os.environ.get("ARENA_REQUIRE_BROWSER") == "1":
        pytest.fail("ARENA_REQUIRE_BROWSER=1 but no chromium on PATH: apt-get install -y chromium")
    pytest.skip("no chromium on PATH (apt-get install -y chromium); set ARENA_REQUIRE_BROWSER=1 to fail instead")
