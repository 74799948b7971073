"""Durable result store: SQLite in WAL mode, one row per candidate.

Rows are keyed by (env id, data fingerprint, puzzle id, agent hash, sample index) and inserted with
``INSERT OR IGNORE`` inside one transaction per batch, so a run killed at any moment leaves only whole
batches behind, and a rerun skips what exists and never writes a candidate twice. The one exception is a
failed candidate (``error`` set: a timeout, a refused request, output that never validated): a rerun asks
for it again and ``write(..., replace_failed=True)`` replaces it in the same transaction as the rest of the
batch, so the failure stays until its replacement is committed. Answers (right or wrong) and abstentions
are never replaced.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from arena_harness.records import CandidateRecord

SCHEMA = """
CREATE TABLE IF NOT EXISTS agents (
    agent_hash TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    config TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    env_id TEXT NOT NULL,
    split TEXT NOT NULL,
    data_source TEXT NOT NULL,
    data_fingerprint TEXT NOT NULL,
    agent_hash TEXT NOT NULL,
    k INTEGER NOT NULL,
    n_puzzles INTEGER NOT NULL,
    shard TEXT NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL,
    meta TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS candidates (
    env_id TEXT NOT NULL,
    data_fingerprint TEXT NOT NULL,
    puzzle_id TEXT NOT NULL,
    agent_hash TEXT NOT NULL,
    sample_index INTEGER NOT NULL,
    answer TEXT,
    q REAL,
    ok INTEGER NOT NULL,
    abstained INTEGER NOT NULL,
    error TEXT,
    reason TEXT NOT NULL,
    cost TEXT NOT NULL,
    extras TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (env_id, data_fingerprint, puzzle_id, agent_hash, sample_index)
);
"""

_COLUMNS = (
    "env_id, data_fingerprint, puzzle_id, agent_hash, sample_index, answer, q, ok, abstained, error, reason, "
    "cost, extras, created_at"
)
# an upsert that overwrites a stored row only when that row is a failed candidate
_REPLACE_FAILED = (
    "ON CONFLICT (env_id, data_fingerprint, puzzle_id, agent_hash, sample_index) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in ("answer", "q", "ok", "abstained", "error", "reason", "cost"))
    + ", extras = excluded.extras, created_at = excluded.created_at WHERE candidates.error IS NOT NULL"
)


class StoreError(RuntimeError):
    """The result database cannot be opened or is not an arena store."""


class UnknownRunError(ValueError):
    """A run reference that names no run of the store (``arena submit`` and ``arena view`` say it in one line)."""


def check_schema(db: sqlite3.Connection, schema: str, path: Path, what: str) -> None:
    """Refuse a database whose tables are not the ones ``schema`` creates (another program's file, or an
    older layout), naming the first difference, instead of failing later in the middle of a write."""
    reference = sqlite3.connect(":memory:")
    reference.executescript(schema)
    tables = [
        r[0]
        for r in reference.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if r[0] != "sqlite_sequence"
    ]
    for table in tables:
        want = [r[1] for r in reference.execute(f"PRAGMA table_info({table})")]
        have = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
        if have != want:
            raise StoreError(
                f"{path} is not a {what}: its table {table!r} has columns {have}, expected {want}; "
                "pass another path or move the file away"
            )
    reference.close()


class ResultStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), timeout=30.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # a committed batch survives a crash or power loss
            self._db.executescript(SCHEMA)
            check_schema(self._db, SCHEMA, self.path, "result store")
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(
                f"cannot use {self.path} as a result store ({exc}); pass another --db path or move the file away"
            ) from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- agents and runs -------------------------------------------------------------------------
    def put_agent(self, agent_hash: str, name: str, kind: str, config: dict[str, Any]) -> None:
        with self._db:
            self._db.execute(
                "INSERT OR IGNORE INTO agents VALUES (?, ?, ?, ?)",
                (agent_hash, name, kind, json.dumps(config, sort_keys=True, default=str)),
            )

    def agent(self, agent_hash: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT name, kind, config FROM agents WHERE agent_hash = ?", (agent_hash,)).fetchone()
        if row is None:
            return None
        return {"agent_hash": agent_hash, "name": row[0], "kind": row[1], "config": json.loads(row[2])}

    def start_run(
        self,
        *,
        env_id: str,
        split: str,
        data_source: str,
        data_fingerprint: str,
        agent_hash: str,
        k: int,
        n_puzzles: int,
        shard: str,
        meta: dict[str, Any],
    ) -> int:
        with self._db:
            cur = self._db.execute(
                "INSERT INTO runs (env_id, split, data_source, data_fingerprint, agent_hash, k, n_puzzles, shard,"
                " started_at, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    env_id,
                    split,
                    data_source,
                    data_fingerprint,
                    agent_hash,
                    k,
                    n_puzzles,
                    shard,
                    time.time(),
                    json.dumps(meta, sort_keys=True, default=str),
                ),
            )
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int) -> None:
        with self._db:
            self._db.execute("UPDATE runs SET finished_at = ? WHERE run_id = ?", (time.time(), run_id))

    def runs(self) -> list[dict[str, Any]]:
        cur = self._db.execute("SELECT * FROM runs ORDER BY run_id")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def run(self, ref: str | int) -> dict[str, Any]:
        """The run ``ref`` names: a run id, or ``latest`` (the last run started); else :class:`UnknownRunError`."""
        runs = self.runs()
        if not runs:
            raise UnknownRunError(f"{self.path} holds no runs; evaluate an agent first (`arena eval --db {self.path}`)")
        if str(ref) == "latest":
            return runs[-1]
        try:
            run_id = int(ref)
        except ValueError:
            raise UnknownRunError(
                f"RUN must be a run id or 'latest', got {ref!r}; list runs with `arena submit --list --db {self.path}`"
            ) from None
        for run in runs:
            if run["run_id"] == run_id:
                return run
        raise UnknownRunError(f"no run {run_id} in {self.path} (runs {runs[0]['run_id']}..{runs[-1]['run_id']})")

    # -- candidates ----------------------------------------------------------------------------
    def write(self, records: Sequence[CandidateRecord], *, replace_failed: bool = False) -> int:
        """Insert records in one transaction; existing keys are left untouched, except that with
        ``replace_failed`` a stored *failed* candidate (``error`` set) is replaced by the new record of its key.
        Returns rows added or replaced."""
        rows = [
            (
                r.env_id,
                r.data_fingerprint,
                r.puzzle_id,
                r.agent_hash,
                r.sample_index,
                r.answer,
                r.q,
                int(r.ok),
                int(r.abstained),
                r.error,
                r.reason,
                json.dumps(r.cost, sort_keys=True),
                json.dumps(r.extras, sort_keys=True, default=str),
                r.created_at,
            )
            for r in records
        ]
        if replace_failed:
            sql = f"INSERT INTO candidates ({_COLUMNS}) VALUES ({','.join('?' * 14)}) {_REPLACE_FAILED}"
        else:
            sql = f"INSERT OR IGNORE INTO candidates ({_COLUMNS}) VALUES ({','.join('?' * 14)})"
        with self._db:
            before = self._db.total_changes
            self._db.executemany(sql, rows)
            return self._db.total_changes - before

    def sample_indices(
        self, env_id: str, fingerprint: str, agent_hash: str, *, failed: bool | None = None
    ) -> dict[str, set[int]]:
        """puzzle id -> sample indices already stored for this (env, data, agent); ``failed=True`` only those of
        failed candidates (``error`` set), ``failed=False`` only the others (answers and abstentions)."""
        done: dict[str, set[int]] = defaultdict(set)
        where = {None: "", True: " AND error IS NOT NULL", False: " AND error IS NULL"}[failed]
        cur = self._db.execute(
            "SELECT puzzle_id, sample_index FROM candidates WHERE env_id=? AND data_fingerprint=? AND agent_hash=?"
            + where,
            (env_id, fingerprint, agent_hash),
        )
        for pid, idx in cur:
            done[pid].add(int(idx))
        return done

    def records(
        self, env_id: str, fingerprint: str, agent_hash: str, puzzle_ids: Iterable[str] | None = None
    ) -> list[CandidateRecord]:
        cur = self._db.execute(
            f"SELECT {_COLUMNS} FROM candidates WHERE env_id=? AND data_fingerprint=? AND agent_hash=?"
            " ORDER BY puzzle_id, sample_index",
            (env_id, fingerprint, agent_hash),
        )
        wanted = None if puzzle_ids is None else set(puzzle_ids)
        out = []
        for row in cur:
            if wanted is not None and row[2] not in wanted:
                continue
            out.append(_record(row))
        return out

    def all_records(self) -> list[CandidateRecord]:
        cur = self._db.execute(
            f"SELECT {_COLUMNS} FROM candidates ORDER BY env_id, agent_hash, puzzle_id, sample_index"
        )
        return [_record(row) for row in cur]

    def merge_from(self, other: str | Path) -> int:
        """Copy agents, runs and candidates of another store (e.g. a shard's) into this one."""
        src = ResultStore(other)
        try:
            with self._db:
                for row in src._db.execute("SELECT agent_hash, name, kind, config FROM agents"):
                    self._db.execute("INSERT OR IGNORE INTO agents VALUES (?, ?, ?, ?)", row)
                for run in src.runs():
                    run.pop("run_id")
                    cols = ", ".join(run)
                    self._db.execute(
                        f"INSERT INTO runs ({cols}) VALUES ({','.join('?' * len(run))})", tuple(run.values())
                    )
            return self.write(src.all_records())
        finally:
            src.close()


def _record(row: Sequence[Any]) -> CandidateRecord:
    return CandidateRecord(
        env_id=row[0],
        data_fingerprint=row[1],
        puzzle_id=row[2],
        agent_hash=row[3],
        sample_index=int(row[4]),
        answer=row[5],
        q=row[6],
        ok=bool(row[7]),
        abstained=bool(row[8]),
        error=row[9],
        reason=row[10],
        cost=json.loads(row[11]),
        extras=json.loads(row[12]),
        created_at=float(row[13]),
    )
