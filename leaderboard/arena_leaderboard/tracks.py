"""The splits the leaderboard ranks on ("tracks"), and how a submission's fingerprint finds its split.

A submission names its env and the sha256 fingerprint of the split it ran on. Intake only trusts the split
it loads itself: the fingerprint must equal that of one of the env's tracks, whose puzzles (the manifest)
and verifier then judge every answer. A split the leaderboard does not know is refused, not guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from arena_envs.protocol import PuzzleSet
from arena_leaderboard.submission import MAX_K


class UnknownSplitError(ValueError):
    """No track of the leaderboard has this env id and fingerprint."""


@dataclass(frozen=True)
class Track:
    """One ranked split: ``make_puzzle_set(env_id, split=split, **options)``.

    ``primary`` is the metric the table is ordered by (ARC ranks on its official two-attempt pair score);
    ``k`` the track's official candidates per puzzle, the k its primary metric is defined at (ARC: the two
    attempts of "ARC pass@2"; pass@1 tracks: 1) — the single source the seeds use and intake checks against;
    ``max_k`` the most candidates per puzzle a submission may bring (it bounds intake's work); ``columns`` the
    summary metrics the site's table shows for this track besides the primary and the common ones (ARC: its
    official per-pair score and the all-pairs rate); ``name`` the site anchor when an env has several tracks;
    ``seed_agents`` the baseline agent specs seeded on it (empty:
    its family's, ``seed.SEED_AGENTS``), for a track whose puzzles need another search budget."""

    env_id: str
    split: str
    options: tuple[tuple[str, Any], ...] = ()
    title: str = ""
    primary: str = "pass_at_1"
    max_k: int = MAX_K
    k: int = 1
    columns: tuple[str, ...] = ()
    seed_agents: tuple[str, ...] = ()
    name: str = ""  # the site anchor of a track whose env has several (default: env and split)

    @property
    def slug(self) -> str:
        return self.name or self.env_id.split("/")[-1].removesuffix("-v0").lower() + f"-{self.split}"


ARC_COLUMNS = ("pair_score_at_2", "all_pairs_at_2")  # ARC's official two-attempt per-pair score, then all-pairs
MAZE_COLUMNS = ("exact_label_at_1",)  # the papers' convention beside ours (pass@1 accepts any shortest path)

DEFAULT_TRACKS: tuple[Track, ...] = (
    # the default split (v1); it moves to sudoku-extreme-synth-v2 together with data=bundled, once v2's train split
    # is bundled too, so that `arena eval` without options keeps producing submissions this track accepts
    Track("arena/SudokuExtreme-v0", "test", title="Sudoku-Extreme (bundled test split, 1,000 puzzles)"),
    Track(
        "arena/SudokuExtreme-v0",
        "test",
        options=(("size", 6), ("data", "bundled")),
        name="sudoku6-test",
        title="Sudoku 6x6, the CPU tier (bundled hard test split, 1,000 puzzles)",
        seed_agents=("oracle", "budgeted:max_nodes=3", "greedy", "random", "copy"),
    ),
    Track("arena/MazeHard-v0", "test", title="Maze-Hard (bundled test split, 1,000 mazes)", columns=MAZE_COLUMNS),
    Track(
        "arena/MazeHard-v0",
        "test",
        options=(("size", 10), ("data", "bundled")),
        name="maze10-test",
        title="Maze 10x10, the CPU tier (bundled test split, 1,000 mazes)",
        columns=MAZE_COLUMNS,
        seed_agents=("oracle", "budgeted:max_nodes=60", "greedy", "random", "copy"),
    ),
    Track(
        "arena/ARC-AGI-1-v0",
        "evaluation",
        title="ARC-AGI-1 (public evaluation set, 400 tasks)",
        primary="pair_score_at_2",
        k=2,
        columns=ARC_COLUMNS,
    ),
    Track(
        "arena/ARC-AGI-2-v0",
        "evaluation",
        title="ARC-AGI-2 (public evaluation set, 120 tasks)",
        primary="pair_score_at_2",
        k=2,
        columns=ARC_COLUMNS,
    ),
    Track("arena/PPBench-v0", "test", title="Pencil Puzzle Bench (golden set, 300 puzzles, 20 varieties)"),
    Track(
        "arena/SnowflakeSudoku-v0",
        "test",
        title="Snowflake Sudoku (bundled test split, 1,000 puzzles of 4-8 hexagons)",
        seed_agents=("oracle", "budgeted:max_nodes=30", "greedy", "random", "copy"),
    ),
)


@dataclass
class TrackIndex:
    """Loads each track's puzzle set once (lazily) and finds tracks by (env id, fingerprint)."""

    tracks: Sequence[Track] = DEFAULT_TRACKS
    _loaded: dict[Track, PuzzleSet] = field(default_factory=dict)

    def puzzle_set(self, track: Track) -> PuzzleSet:
        if track not in self._loaded:
            from arena_envs.registry import make_puzzle_set

            self._loaded[track] = make_puzzle_set(track.env_id, split=track.split, **dict(track.options))
        return self._loaded[track]

    def unavailable(self, track: Track) -> str | None:
        """Why this install cannot load the track's data (e.g. PPBench without the ``ppbench`` package), or
        None when it can. Seeding and the site skip such tracks and say so instead of failing as a whole."""
        from arena_envs.config import ConfigError, DataError

        try:
            self.puzzle_set(track)
        except (DataError, ConfigError) as exc:
            return str(exc)
        return None

    def for_env(self, env_id: str) -> list[Track]:
        return [t for t in self.tracks if t.env_id == env_id]

    def find(self, env_id: str, fingerprint: str) -> tuple[Track, PuzzleSet]:
        """The track of ``env_id`` whose split has ``fingerprint``; UnknownSplitError says which ones exist."""
        candidates = self.for_env(env_id)
        if not candidates:
            known = ", ".join(sorted({t.env_id for t in self.tracks}))
            raise UnknownSplitError(f"env {env_id!r} has no leaderboard track; tracks exist for: {known}")
        for track in candidates:
            puzzle_set = self.puzzle_set(track)
            if puzzle_set.fingerprint == fingerprint:
                return track, puzzle_set
        known = "; ".join(f"split {t.split!r} = {self.puzzle_set(t).fingerprint}" for t in candidates)
        raise UnknownSplitError(
            f"data fingerprint {fingerprint!r} is not a known split of {env_id} ({known}); evaluate on the "
            "track's split (see `arena leaderboard tracks`) and submit that run"
        )

    def envs(self) -> Iterable[str]:
        return dict.fromkeys(t.env_id for t in self.tracks)
