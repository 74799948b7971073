"""The leaderboard's own store (SQLite): accepted entries with their re-verified summary and plot data.

Only :func:`add` writes, and only what :func:`~arena_leaderboard.intake.reverify` accepted. Each entry also
keeps the submission it came from (gzipped JSON), so the whole board can be re-verified later against a
newer verifier. One entry per (split fingerprint, agent config hash, k): a second submission of the same
agent on the same split replaces the first only when asked to.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arena_harness.store import StoreError, check_schema
from arena_leaderboard.intake import IntakeReport, reverify
from arena_leaderboard.submission import Submission
from arena_leaderboard.tracks import TrackIndex

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    entry_id INTEGER PRIMARY KEY AUTOINCREMENT,
    env_id TEXT NOT NULL,
    split TEXT NOT NULL,
    data_fingerprint TEXT NOT NULL,
    agent_name TEXT NOT NULL,
    agent_kind TEXT NOT NULL,
    agent_hash TEXT NOT NULL,
    k INTEGER NOT NULL,
    card TEXT NOT NULL,
    summary TEXT NOT NULL,
    curves TEXT NOT NULL,
    evaluated_at TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    submission_sha256 TEXT NOT NULL,
    submission BLOB NOT NULL,
    UNIQUE (data_fingerprint, agent_hash, k)
);
"""


class LeaderboardError(RuntimeError):
    """The leaderboard database cannot be used, or an entry cannot be added."""


@dataclass(frozen=True)
class Entry:
    entry_id: int
    env_id: str
    split: str
    data_fingerprint: str
    card: dict[str, Any]
    summary: dict[str, Any]
    curves: dict[str, Any]
    evaluated_at: str
    submitted_at: str
    submission_sha256: str
    puzzles_evaluated: int = 0  # puzzles of the split with at least one candidate in the submission
    puzzles_total: int = 0  # puzzles in the split (the track's manifest)

    @property
    def partial(self) -> bool:
        """Fewer puzzles evaluated than the split holds (``--limit``, one shard): ranked after complete runs."""
        return self.puzzles_evaluated < self.puzzles_total

    def to_dict(self) -> dict[str, Any]:
        return {
            "entry_id": self.entry_id,
            "env_id": self.env_id,
            "split": self.split,
            "data_fingerprint": self.data_fingerprint,
            "agent": self.card,
            "summary": self.summary,
            "curves": self.curves,
            "evaluated_at": self.evaluated_at,
            "submitted_at": self.submitted_at,
            "submission_sha256": self.submission_sha256,
            "puzzles_evaluated": self.puzzles_evaluated,
            "puzzles_total": self.puzzles_total,
            "partial": self.partial,
        }


class Leaderboard:
    def __init__(self, path: str | Path, index: TrackIndex | None = None) -> None:
        self.path = Path(path)
        self.index = index or TrackIndex()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), timeout=30.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(SCHEMA)
            check_schema(self._db, SCHEMA, self.path, "leaderboard database")
        except (sqlite3.Error, OSError, StoreError) as exc:
            raise LeaderboardError(
                f"cannot use {self.path} as a leaderboard database ({exc}); pass another --board path"
            ) from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Leaderboard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit(self, submission: Submission, *, replace: bool = False) -> IntakeReport:
        """Re-verify and, when accepted, store. A rejected submission leaves the board untouched."""
        report = reverify(submission, self.index)
        if report.accepted:
            self._store(submission, report, replace=replace)
        return report

    def has(self, data_fingerprint: str, agent_hash: str, k: int) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM entries WHERE data_fingerprint=? AND agent_hash=? AND k=?", (data_fingerprint, agent_hash, k)
        ).fetchone()
        return row is not None

    def _store(self, sub: Submission, report: IntakeReport, *, replace: bool) -> None:
        assert report.summary is not None
        s = report.summary
        if self.has(s.data_fingerprint, s.agent_hash, s.k) and not replace:
            raise LeaderboardError(
                f"{s.agent_name!r} (config {s.agent_hash}, k={s.k}) is already on the {s.env_id} board for this "
                "split; pass --replace to replace that entry with this submission"
            )
        raw = sub.to_json_bytes()
        card = dataclasses.asdict(sub.agent)
        row = (
            s.env_id,
            s.split,
            s.data_fingerprint,
            s.agent_name,
            s.agent_kind,
            s.agent_hash,
            s.k,
            json.dumps(card, sort_keys=True),
            json.dumps(s.to_dict(), sort_keys=True, default=str),
            json.dumps(report.curves),
            sub.evaluated_at,
            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            hashlib.sha256(raw).hexdigest(),
            gzip.compress(raw, compresslevel=6, mtime=0),
        )
        with self._db:  # one transaction: the old entry goes only if the new one is written
            self._db.execute(
                "DELETE FROM entries WHERE data_fingerprint=? AND agent_hash=? AND k=?",
                (s.data_fingerprint, s.agent_hash, s.k),
            )
            self._db.execute(
                "INSERT INTO entries (env_id, split, data_fingerprint, agent_name, agent_kind, agent_hash, k, card,"
                " summary, curves, evaluated_at, submitted_at, submission_sha256, submission)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )

    def entries(self, env_id: str | None = None) -> list[Entry]:
        query = (
            "SELECT entry_id, env_id, split, data_fingerprint, card, summary, curves, evaluated_at, submitted_at,"
            " submission_sha256 FROM entries"
        )
        args: tuple[Any, ...] = ()
        if env_id is not None:
            query += " WHERE env_id = ?"
            args = (env_id,)
        out = []
        for row in self._db.execute(query + " ORDER BY entry_id", args).fetchall():
            summary = json.loads(row[5])
            evaluated = (summary.get("meta") or {}).get("puzzles_evaluated")
            if evaluated is None:  # an entry stored before intake recorded it: count its submission's puzzles
                evaluated = len({c.puzzle_id for c in self.submission(row[0]).candidates})
            out.append(
                Entry(
                    entry_id=row[0],
                    env_id=row[1],
                    split=row[2],
                    data_fingerprint=row[3],
                    card=json.loads(row[4]),
                    summary=summary,
                    curves=json.loads(row[6]),
                    evaluated_at=row[7],
                    submitted_at=row[8],
                    submission_sha256=row[9],
                    puzzles_evaluated=int(evaluated),
                    puzzles_total=int(summary["n_puzzles"]),
                )
            )
        return out

    def submission(self, entry_id: int) -> Submission:
        row = self._db.execute("SELECT submission FROM entries WHERE entry_id = ?", (entry_id,)).fetchone()
        if row is None:
            raise LeaderboardError(f"no entry {entry_id} in {self.path}")
        return Submission.from_dict(json.loads(gzip.decompress(row[0])))

    def reverify_all(self, *, update: bool = False) -> list[tuple[Entry, IntakeReport, list[str]]]:
        """Judge every stored submission again (after a verifier or metric change): per entry, the new report
        and the summary fields whose value changed. ``update`` stores the new summaries of entries that are
        still accepted; an entry that no longer passes intake is reported, never silently dropped."""
        out = []
        for entry in self.entries():
            sub = self.submission(entry.entry_id)
            report = reverify(sub, self.index)
            changed: list[str] = []
            if report.summary is not None:
                new = json.loads(json.dumps(report.summary.to_dict(), sort_keys=True, default=str))
                changed = sorted(
                    key for key in new if key not in ("meta", "agent_config") and new[key] != entry.summary.get(key)
                )
                if update and report.accepted and changed:
                    with self._db:
                        self._db.execute(
                            "UPDATE entries SET summary = ?, curves = ? WHERE entry_id = ?",
                            (json.dumps(new, sort_keys=True), json.dumps(report.curves), entry.entry_id),
                        )
            out.append((entry, report, changed))
        return out

    def remove(self, entry_id: int) -> None:
        with self._db:
            cur = self._db.execute("DELETE FROM entries WHERE entry_id = ?", (entry_id,))
        if cur.rowcount == 0:
            raise LeaderboardError(f"no entry {entry_id} in {self.path}")
