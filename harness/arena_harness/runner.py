"""Run an agent over a puzzle set: batched, verified, written durably, resumable, shardable.

The unit of work is a batch of puzzles. For each batch the agent's ``act`` returns k candidates per
puzzle, the puzzle set's verifier judges them (batched), and the records are committed in one
transaction before the next batch starts. A rerun asks the store what exists and only works on the
puzzles that still miss a sample, so an interrupted run resumes without redoing or losing work.

Failed candidates (``error`` set: a timeout, a refused request, output that never validated, a sample the
agent did not return) are not results: by default a rerun asks for them again and replaces each one in the
batch's transaction (``RunOptions(retry_failed=False)``, ``arena eval --no-retry-failed``, keeps them).
Answers, right or wrong, and abstentions are final. An agent that raises :class:`ConfigError` (a missing or
rejected API key) stops the run with that error; finished batches stay stored.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tqdm.auto import tqdm

from arena_envs.config import ConfigError
from arena_envs.protocol import Agent, Candidate, Puzzle, PuzzleSet, Verdict, config_hash, config_to_dict
from arena_harness.provenance import provenance
from arena_harness.records import CandidateRecord, decode_answer, encode_answer
from arena_harness.store import ResultStore
from arena_harness.summary import Summary, labelled, pair_counts, summarize


class AgentError(RuntimeError):
    """The agent broke the protocol or raised; already stored results are kept."""


@dataclass(frozen=True)
class Shard:
    index: int = 0
    count: int = 1

    @staticmethod
    def parse(text: str) -> Shard:
        """``"i/n"`` with 0 <= i < n."""
        try:
            i, n = (int(x) for x in text.split("/"))
        except ValueError:
            raise ValueError(f"--shard must look like i/n (e.g. 0/4), got {text!r}") from None
        if not (n >= 1 and 0 <= i < n):
            raise ValueError(f"--shard {text!r}: need 0 <= i < n")
        return Shard(i, n)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


@dataclass(frozen=True)
class RunOptions:
    k: int = 1
    batch_size: int = 64
    limit: int | None = None  # evaluate the first N puzzles of the split (before sharding)
    shard: Shard = Shard()
    progress: bool = True
    retry_failed: bool = True  # ask again for stored failed candidates (errors), replacing them

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"k must be >= 1, got {self.k}")
        if self.batch_size < 1:
            raise ValueError(f"batch size must be >= 1, got {self.batch_size}")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"limit must be >= 1, got {self.limit}")


@dataclass(frozen=True)
class RunResult:
    summary: Summary
    records: list[CandidateRecord]
    added: int  # candidates written by this call (0 when everything was already stored), retried ones included
    retried: int = 0  # stored failed candidates of the manifest that this call asked for again


def manifest(puzzle_set: PuzzleSet, options: RunOptions) -> list[Puzzle]:
    """The puzzles this run is scored on: the first ``limit`` of the split, then this shard's share."""
    puzzles = list(puzzle_set.puzzles)
    if options.limit is not None:
        puzzles = puzzles[: options.limit]
    return puzzles[options.shard.index :: options.shard.count]


def run_manifest(puzzle_set: PuzzleSet, run: dict[str, Any]) -> list[Puzzle]:
    """The puzzles of a stored run (a row of ``ResultStore.runs()``): its ``limit`` and shard applied to the
    split it ran on, exactly as :func:`evaluate` chose them."""
    meta = json.loads(run["meta"]) if isinstance(run["meta"], str) else dict(run["meta"])
    limit = meta.get("limit")
    puzzles = manifest(puzzle_set, RunOptions(k=int(run["k"]), limit=limit, shard=Shard.parse(run["shard"])))
    if len(puzzles) != int(run["n_puzzles"]):
        raise ValueError(
            f"run {run.get('run_id')} recorded {run['n_puzzles']} puzzles but limit={limit} and shard {run['shard']} "
            f"select {len(puzzles)} of this split"
        )
    return puzzles


def run_records(store: ResultStore, puzzle_set: PuzzleSet, run: dict[str, Any]) -> list[CandidateRecord]:
    """The candidates that belong to a stored run: its agent's records on its data for the puzzles of its
    manifest (:func:`run_manifest`) with sample index < its k.

    A store shared by several runs of one agent holds more: a run resumed from or extending an earlier one (a
    larger k, a longer limit, another shard) shares the candidates it did not have to compute again, and
    those count for it; samples beyond its k and puzzles outside its manifest are other runs' and do not."""
    puzzles = run_manifest(puzzle_set, run)
    k = int(run["k"])
    ids = [p.id for p in puzzles]
    stored = store.records(run["env_id"], run["data_fingerprint"], run["agent_hash"], puzzle_ids=ids)
    return [r for r in stored if r.sample_index < k]


def _call_agent(agent: Agent, batch: Sequence[Puzzle], k: int) -> list[list[Candidate]]:
    act_async = getattr(agent, "act_async", None)
    if act_async is not None and inspect.iscoroutinefunction(act_async):
        return asyncio.run(act_async(batch, k))
    return agent.act(batch, k)


def _normalise(agent_name: str, batch: Sequence[Puzzle], out: Any, k: int) -> list[list[Candidate]]:
    """Check the agent's reply shape; pad short lists with failed candidates so k stays exact."""
    if not isinstance(out, list) or len(out) != len(batch):
        got = len(out) if isinstance(out, list) else type(out).__name__
        raise AgentError(f"agent {agent_name!r} returned {got} candidate lists for {len(batch)} puzzles")
    fixed = []
    for puzzle, cands in zip(batch, out):
        cands = list(cands)[:k]
        for c in cands:
            if not isinstance(c, Candidate):
                raise AgentError(f"agent {agent_name!r} returned {type(c).__name__} for {puzzle.id}, not Candidate")
        missing = k - len(cands)
        cands += [Candidate(None, error=f"agent returned {k - missing} of {k} candidates")] * missing
        fixed.append(cands)
    return fixed


def evaluate(
    puzzle_set: PuzzleSet,
    agent: Agent,
    store: ResultStore,
    options: RunOptions | None = None,
    *,
    agent_kind: str = "custom",
    extra_meta: dict[str, Any] | None = None,
) -> RunResult:
    """Evaluate ``agent`` on ``puzzle_set``; resume from ``store``; return the summary and records."""
    options = options or RunOptions()
    k = options.k
    agent_hash = config_hash(agent.name, agent.config)
    env_id, fp = puzzle_set.env_id, puzzle_set.fingerprint
    puzzles = manifest(puzzle_set, options)
    store.put_agent(agent_hash, agent.name, agent_kind, config_to_dict(agent.config))
    # parameters: the agent's own count (recursive models count their weights; None when unknown or n/a)
    parameters = getattr(agent, "parameters", None)
    meta = {
        **provenance(),
        "argv": sys.argv,
        "limit": options.limit,
        "parameters": None if parameters is None else int(parameters),
        **(extra_meta or {}),
    }
    run_id = store.start_run(
        env_id=env_id,
        split=puzzle_set.split,
        data_source=puzzle_set.source,
        data_fingerprint=fp,
        agent_hash=agent_hash,
        k=k,
        n_puzzles=len(puzzles),
        shard=str(options.shard),
        meta=meta,
    )
    # failed candidates do not count as done when they are to be retried; their new records replace them
    done = store.sample_indices(env_id, fp, agent_hash, failed=False if options.retry_failed else None)
    failed = store.sample_indices(env_id, fp, agent_hash, failed=True) if options.retry_failed else {}
    retried = sum(len({i for i in failed.get(p.id, ()) if i < k}) for p in puzzles)
    pending = [p for p in puzzles if not set(range(k)) <= done.get(p.id, set())]
    added = 0
    bar = tqdm(
        total=len(puzzles),
        initial=len(puzzles) - len(pending),
        desc=f"{agent.name} on {env_id}",
        unit="puzzle",
        disable=not options.progress or None,  # None: tqdm hides itself when stderr is not a terminal
        file=sys.stderr,
        leave=False,
    )
    try:
        for start in range(0, len(pending), options.batch_size):
            batch = pending[start : start + options.batch_size]
            try:
                raw = _call_agent(agent, batch, k)
            except ConfigError as exc:  # the agent cannot work as configured (e.g. its API key was rejected)
                saved = f"; {added} candidates of this run are saved in {store.path}" if added else ""
                raise ConfigError(f"{exc}{saved}") from exc
            except Exception as exc:
                raise AgentError(
                    f"agent {agent.name!r} raised {exc.__class__.__name__}: {exc} (batch starting at "
                    f"{batch[0].id}); {added} candidates of this run are saved in {store.path}, rerun to resume"
                ) from exc
            cands = _normalise(agent.name, batch, raw, k)
            verified = _verified_records(puzzle_set, agent_hash, batch, cands, done, time.time())
            added += store.write(verified, replace_failed=options.retry_failed)
            bar.update(len(batch))
    finally:
        bar.close()
    store.finish_run(run_id)
    records = store.records(env_id, fp, agent_hash, puzzle_ids=[p.id for p in puzzles])
    summary = summarize(
        records,
        manifest_ids=[p.id for p in puzzles],
        k=k,
        env_id=env_id,
        split=puzzle_set.split,
        data_source=puzzle_set.source,
        data_fingerprint=fp,
        agent_name=agent.name,
        agent_kind=agent_kind,
        agent_hash=agent_hash,
        agent_config=config_to_dict(agent.config),
        extra={"shard": str(options.shard), "limit": options.limit, **meta},
        pair_counts=pair_counts(puzzles),
        exact_labels=labelled(puzzles),
    )
    return RunResult(summary=summary, records=records, added=added, retried=retried)


def _verified_records(
    puzzle_set: PuzzleSet,
    agent_hash: str,
    batch: Sequence[Puzzle],
    cands: list[list[Candidate]],
    done: dict[str, set[int]],
    now: float,
) -> list[CandidateRecord]:
    """Verify every candidate not stored yet (one batched verifier call) and build its record."""
    todo = [(p, i, c) for p, row in zip(batch, cands) for i, c in enumerate(row) if i not in done.get(p.id, set())]
    # the stored form is what gets verified, so a stored answer always re-verifies to the same verdict
    texts = [encode_answer(c.answer) if c.error is None else None for _, _, c in todo]
    to_check = [(p, decode_answer(t)) for (p, _, _), t in zip(todo, texts) if t is not None]
    verdicts = iter(puzzle_set.verify_batch([p for p, _ in to_check], [a for _, a in to_check]))
    records = []
    for (p, i, c), text in zip(todo, texts):
        if c.error is not None:
            verdict = Verdict(ok=False, reason=f"agent error: {c.error}")
        elif c.answer is None:
            verdict = Verdict.abstain()
        else:
            verdict = next(verdicts)
        records.append(
            CandidateRecord.build(
                env_id=puzzle_set.env_id,
                data_fingerprint=puzzle_set.fingerprint,
                puzzle_id=p.id,
                agent_hash=agent_hash,
                sample_index=i,
                candidate=c,
                verdict=verdict,
                created_at=now,
                answer_text=text,
            )
        )
    return records
