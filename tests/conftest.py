from __future__ import annotations

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
