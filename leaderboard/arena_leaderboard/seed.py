"""Seed the board with the baseline agents on every track and the project's trained models, through the same
door as any submission.

Each baseline is evaluated by the harness into a run store, exported with :func:`export_run` and submitted, so its
entry is re-verified like everyone else's. The trained models' entries are submission files that ship in
``entries/`` (made once by ``benchmarks/entries.py`` from a committed checkpoint; the command of each is in
``checkpoints/README.md``): evaluating them again would take minutes, re-verifying them takes seconds. Every seed
runs at its track's official k (``Track.k`` in ``tracks.py``, the single source: 1 for the pass@1 tracks, 2 for ARC,
whose "ARC pass@2" column is the official two attempts), over the whole split. Seeding skips entries the board
already has, so running it again (or ``arena leaderboard build`` on a seeded board) costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from arena_envs.protocol import config_hash
from arena_envs.registry import TASKS
from arena_harness.runner import RunOptions, evaluate
from arena_harness.store import ResultStore
from arena_leaderboard.board import Leaderboard, LeaderboardError
from arena_leaderboard.export import export_run
from arena_leaderboard.intake import IntakeReport
from arena_leaderboard.submission import read_submission
from arena_leaderboard.tracks import Track

# the project's own trained models: submission files, re-verified by intake when the board is seeded
SHIPPED_ENTRIES = Path(__file__).parent / "entries"

# agent specs per family; k is the track's (Track.k). Budgets are picked so the budgeted solver lands between the
# oracle and 0.
SEED_AGENTS: dict[str, tuple[str, ...]] = {
    "sudoku": ("oracle", "budgeted:max_nodes=8", "greedy", "random", "copy"),
    "maze": ("oracle", "budgeted:max_nodes=400", "greedy", "random", "copy"),
    "arc": ("oracle", "programs", "copy"),
    "ppbench": ("oracle", "random", "copy"),
}


def seed_agents(track: Track) -> tuple[str, ...]:
    """The baseline specs seeded on ``track``: its own list, else its family's."""
    family = TASKS[track.env_id].family
    if not track.seed_agents and family not in SEED_AGENTS:
        raise LeaderboardError(f"no seed baselines are listed for family {family!r} ({track.env_id})")
    return track.seed_agents or SEED_AGENTS[family]


def seed(board: Leaderboard, runs_db: str | Path, *, log: Callable[[str], None] = lambda _: None) -> list[IntakeReport]:
    """Evaluate, export and submit every missing baseline entry; a baseline that fails intake is a bug."""
    from arena_agents.registry import agent_kind, make_agent

    reports = []
    with ResultStore(runs_db) as store:
        for track in board.index.tracks:
            specs = seed_agents(track)
            missing = board.index.unavailable(track)
            if missing is not None:
                log(f"skipping {track.env_id} {track.split}: {missing}")
                continue
            puzzle_set = board.index.puzzle_set(track)
            k = track.k
            for spec in specs:
                agent = make_agent(spec)
                if board.has(puzzle_set.fingerprint, config_hash(agent.name, agent.config), k):
                    continue
                log(f"seeding {spec} (k={k}) on {track.env_id} {track.split}")
                evaluate(puzzle_set, agent, store, RunOptions(k=k, progress=False), agent_kind=agent_kind(agent))
                report = board.submit(export_run(store, "latest", board.index))
                if not report.accepted:
                    raise LeaderboardError(f"a seed baseline failed re-verification:\n{report.text()}")
                reports.append(report)
    return reports + add_shipped(board, log=log)


def shipped_entries(directory: Path = SHIPPED_ENTRIES) -> list[Path]:
    return sorted(directory.glob("*.json.gz"))


def add_shipped(
    board: Leaderboard, *, directory: Path = SHIPPED_ENTRIES, log: Callable[[str], None] = lambda _: None
) -> list[IntakeReport]:
    """Submit every shipped entry the board lacks; an entry whose track this install cannot load is skipped and
    said, one that fails intake is a bug (its model, the verifier or a metric changed: remake the file)."""
    reports = []
    for path in shipped_entries(directory):
        submission = read_submission(path)
        if board.has(submission.data_fingerprint, submission.agent.config_hash, submission.k):
            continue
        tracks = [t for t in board.index.for_env(submission.env_id) if board.index.unavailable(t) is None]
        if not any(board.index.puzzle_set(t).fingerprint == submission.data_fingerprint for t in tracks):
            log(f"skipping {path.name}: no loadable track of {submission.env_id} has its split")
            continue
        log(f"adding {path.name} ({submission.agent.name}, k={submission.k})")
        report = board.submit(submission)
        if not report.accepted:
            raise LeaderboardError(f"a shipped entry failed re-verification ({path.name}):\n{report.text()}")
        reports.append(report)
    return reports
