"""``arena submit RUN``: turn a run in the harness store into a submission file.

A run row names (env, data fingerprint, agent hash, k, limit, shard); the submission carries exactly that
run's candidates (``arena_harness.runner.run_records``: the puzzles of its manifest — the first ``limit`` of
the split, then its shard's share — with sample index < its k), never those of other runs of the same agent
in the same store (a k=1 run over the whole split does not leak into a k=8 run over 100 puzzles). It also
carries the agent card (from the store's agents table and the run's provenance) and, as claims, the
harness's own verdicts and summary over the track's full manifest. The claims let intake catch a verifier
that changed since the run; they are never used as scores. A run over fewer puzzles than the split is
exported as it is and shown as partial on the leaderboard.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from arena_harness.runner import run_records
from arena_harness.store import ResultStore, UnknownRunError
from arena_harness.summary import labelled, pair_counts, summarize
from arena_leaderboard.submission import AGENT_KINDS, CLAIMABLE, AgentCard, Submission, SubmittedCandidate
from arena_leaderboard.tracks import TrackIndex


class ExportError(ValueError):
    """The run cannot be exported (unknown run id, no candidates, split not on the leaderboard)."""


def list_runs(store: ResultStore) -> list[dict[str, Any]]:
    """Runs with their agent's name, for ``arena submit --list``."""
    out = []
    for run in store.runs():
        agent = store.agent(run["agent_hash"]) or {"name": "?", "kind": "?"}
        limit = json.loads(run["meta"]).get("limit")
        out.append({**run, "agent_name": agent["name"], "agent_kind": agent["kind"], "limit": limit})
    return out


def _run(store: ResultStore, run_ref: str) -> dict[str, Any]:
    try:
        return store.run(run_ref)
    except UnknownRunError as exc:
        raise ExportError(str(exc)) from None


def export_run(
    store: ResultStore,
    run_ref: str,
    index: TrackIndex | None = None,
    *,
    parameters: int | None = None,
    kind: str | None = None,
) -> Submission:
    """The submission for run ``run_ref`` (an id or 'latest'); ``parameters`` and ``kind`` override what the
    run recorded (runs started from Python without ``agent_kind`` are stored as 'custom')."""
    index = index or TrackIndex()
    run = _run(store, run_ref)
    agent = store.agent(run["agent_hash"])
    if agent is None:
        raise ExportError(f"run {run['run_id']} names agent {run['agent_hash']} that is not in {store.path}")
    meta = json.loads(run["meta"])
    _, puzzle_set = index.find(run["env_id"], run["data_fingerprint"])
    k = int(run["k"])
    try:
        records = run_records(store, puzzle_set, run)
    except ValueError as exc:
        raise ExportError(f"cannot tell which candidates belong to run {run['run_id']}: {exc}") from None
    if not records:
        raise ExportError(f"run {run['run_id']} has no stored candidates to submit")
    config = agent["config"]
    kind = kind or agent["kind"]
    if kind not in AGENT_KINDS:
        raise ExportError(
            f"run {run['run_id']} records agent kind {kind!r}; the leaderboard needs one of {list(AGENT_KINDS)} "
            "(pass --kind)"
        )
    card = AgentCard(
        name=agent["name"],
        kind=kind,
        config_hash=run["agent_hash"],
        parameters=parameters if parameters is not None else meta.get("parameters"),
        config=config,
        checkpoint_sha256=config.get("checkpoint_sha256"),
        code_revision=str(meta.get("git_revision", "unknown")),
        package_version=str(meta.get("package_version", "unknown")),
    )
    manifest_ids = [p.id for p in puzzle_set.puzzles]
    summary = summarize(
        records,
        manifest_ids=manifest_ids,
        k=k,
        env_id=run["env_id"],
        split=run["split"],
        data_source=run["data_source"],
        data_fingerprint=run["data_fingerprint"],
        agent_name=card.name,
        agent_kind=card.kind,
        agent_hash=card.config_hash,
        pair_counts=pair_counts(puzzle_set.puzzles),
        exact_labels=labelled(puzzle_set.puzzles),
    )
    candidates = tuple(
        SubmittedCandidate(
            puzzle_id=r.puzzle_id,
            sample_index=r.sample_index,
            answer=None if r.answer is None else json.loads(r.answer),
            q=r.q,
            cost=dict(r.cost),
            error=r.error,
            claimed_ok=bool(r.ok),
            extras={key: v for key, v in r.extras.items() if key not in ("verdict", "violations")},
        )
        for r in records
    )
    return Submission(
        env_id=run["env_id"],
        split=run["split"],
        data_source=run["data_source"],
        data_fingerprint=run["data_fingerprint"],
        k=k,
        agent=card,
        candidates=candidates,
        evaluated_at=str(meta.get("created_at", "")),
        claimed={key: getattr(summary, key) for key in CLAIMABLE},
    )


def default_path(sub: Submission, directory: str | Path = "submissions") -> Path:
    env = sub.env_id.split("/")[-1]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", sub.agent.name)[:60]  # agent names are free text
    data = sub.data_fingerprint.rpartition(":")[2][:8]  # one env can have several tracks (Maze: 30x30 and 10x10)
    return Path(directory) / f"{env}__{sub.split}__{name}__{sub.agent.config_hash}__k{sub.k}__{data}.json.gz"
