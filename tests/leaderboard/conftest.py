"""One seeded leaderboard per test session: every baseline on every track, run by the harness, exported,
re-verified and stored exactly as `arena leaderboard build` does it (about a minute on 2 cores)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from arena_leaderboard.board import Leaderboard
from arena_leaderboard.tracks import TrackIndex


@dataclass
class Seeded:
    board: Leaderboard
    runs_db: Path
    directory: Path


@pytest.fixture(scope="session")
def track_index() -> TrackIndex:
    return TrackIndex()


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory, track_index: TrackIndex) -> Iterator[Seeded]:
    from arena_leaderboard.seed import seed

    directory = tmp_path_factory.mktemp("leaderboard")
    board = Leaderboard(directory / "board.sqlite", track_index)
    seed(board, directory / "seed-runs.sqlite")
    yield Seeded(board, directory / "seed-runs.sqlite", directory)
    board.close()
