"""Re-verification on intake: the leaderboard's numbers come from its own verifier, never from the submitter.

For a submission it (1) finds the split by fingerprint among the known tracks, (2) checks the candidates
against that split's manifest (unknown puzzles, duplicate (puzzle, sample) keys and sample indices outside
0..k-1 are refused), (3) re-verifies every answer with the env's verifier, (4) recomputes every metric with
the harness's ``summarize`` (a manifest puzzle without candidates counts as unsolved) and (5) compares what the
submitter claimed, per candidate and per metric, with what it found. Any problem rejects the whole
submission with a report that lists them all; nothing of a rejected submission is stored.

A submission with candidates for fewer puzzles than the split (``arena eval --limit``, one shard) is accepted
as *partial*: its summary's ``meta`` records ``puzzles_evaluated`` and ``puzzles_total``, and the site shows
it as such and ranks it after the complete runs.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from arena_envs.protocol import Candidate, Cost, PuzzleSet, Verdict, config_hash
from arena_harness import metrics
from arena_harness.records import CandidateRecord, decode_answer
from arena_harness.summary import Summary, labelled, pair_counts, summarize
from arena_leaderboard.submission import CLAIMABLE, Submission
from arena_leaderboard.tracks import Track, TrackIndex, UnknownSplitError

CLAIM_TOLERANCE = 1e-9  # claims are floats that went through JSON; anything beyond rounding is a different number
VERIFY_CHUNK = 1024  # answers per verifier call, so a large submission never holds every decoded grid at once
CURVE_POINTS = 200  # risk-coverage points kept for the site (the curve is subsampled, ends included)
EXAMPLES = 5  # offending puzzle ids quoted per problem


@dataclass(frozen=True)
class Problem:
    code: str  # unknown-split | split-mismatch | config-hash | k-range | duplicate | unknown-puzzle |
    #            sample-range | verdict-mismatch | claim-mismatch
    message: str


@dataclass
class IntakeReport:
    """What intake found. ``accepted`` is True only when there is no problem."""

    env_id: str
    agent_name: str
    data_fingerprint: str
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    summary: Summary | None = None
    curves: dict[str, Any] = field(default_factory=dict)
    track: Track | None = None

    @property
    def accepted(self) -> bool:
        return not self.problems and self.summary is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "env_id": self.env_id,
            "agent_name": self.agent_name,
            "data_fingerprint": self.data_fingerprint,
            "problems": [{"code": p.code, "message": p.message} for p in self.problems],
            "notes": list(self.notes),
            "summary": None if self.summary is None else self.summary.to_dict(),
        }

    def text(self) -> str:
        head = "ACCEPTED" if self.accepted else "REJECTED"
        lines = [f"{head}: {self.agent_name!r} on {self.env_id} ({self.data_fingerprint})"]
        lines += [f"  problem [{p.code}]: {p.message}" for p in self.problems]
        lines += [f"  note: {n}" for n in self.notes]
        s = self.summary
        if s is not None and self.accepted:
            at_k = f" pass@{s.k}={s.pass_at_k:.4f}" if s.k > 1 else ""
            lines.append(
                f"  re-verified: pass@1={s.pass_at_1:.4f}{at_k} coverage={s.coverage:.4f} "
                f"wrong={s.wrong} of {s.answered} answered, n={s.n_puzzles}"
            )
        return "\n".join(lines)


def _examples(ids: Sequence[str]) -> str:
    shown = ", ".join(repr(i) for i in list(ids)[:EXAMPLES])
    return shown + (f" and {len(ids) - EXAMPLES} more" if len(ids) > EXAMPLES else "")


def _check_keys(sub: Submission, manifest: set[str], report: IntakeReport) -> None:
    keys = Counter((c.puzzle_id, c.sample_index) for c in sub.candidates)
    dupes = sorted({f"{pid}#{i}" for (pid, i), n in keys.items() if n > 1})
    if dupes:
        report.problems.append(
            Problem("duplicate", f"{len(dupes)} (puzzle, sample) keys occur more than once: {_examples(dupes)}")
        )
    unknown = sorted({c.puzzle_id for c in sub.candidates if c.puzzle_id not in manifest})
    if unknown:
        report.problems.append(
            Problem("unknown-puzzle", f"{len(unknown)} puzzle ids are not in the split: {_examples(unknown)}")
        )
    out_of_range = sorted({f"{c.puzzle_id}#{c.sample_index}" for c in sub.candidates if c.sample_index >= sub.k})
    if out_of_range:
        report.problems.append(
            Problem("sample-range", f"k={sub.k} but sample indices >= k occur: {_examples(out_of_range)}")
        )


def _verify(puzzle_set: PuzzleSet, sub: Submission) -> list[Verdict | None]:
    """The env verifier's verdict per candidate (None for agent errors), in submission order, chunked."""
    by_id = {p.id: p for p in puzzle_set.puzzles}
    verdicts: list[Verdict | None] = [None] * len(sub.candidates)
    todo = [i for i, c in enumerate(sub.candidates) if c.error is None and c.puzzle_id in by_id]
    for start in range(0, len(todo), VERIFY_CHUNK):
        chunk = todo[start : start + VERIFY_CHUNK]
        pending = []
        for i in chunk:
            c = sub.candidates[i]
            if c.answer is None:
                verdicts[i] = Verdict.abstain()
            else:
                pending.append(i)
        answers = [decode_answer(json.dumps(sub.candidates[i].answer)) for i in pending]
        puzzles = [by_id[sub.candidates[i].puzzle_id] for i in pending]
        for i, verdict in zip(pending, puzzle_set.verify_batch(puzzles, answers)):
            verdicts[i] = verdict
    return verdicts


def _records(sub: Submission, verdicts: Sequence[Verdict | None]) -> list[CandidateRecord]:
    """Harness records built from the leaderboard's verdicts by the runner's own ``CandidateRecord.build``."""
    out = []
    for c, verdict in zip(sub.candidates, verdicts):
        if c.error is not None:
            verdict = Verdict(ok=False, reason=f"agent error: {c.error}")
        assert verdict is not None
        candidate = Candidate(
            answer=decode_answer(None if c.answer is None else json.dumps(c.answer)),
            q=c.q,
            cost=Cost.from_dict({key: v for key, v in c.cost.items() if v is not None}),
            error=c.error,
        )
        out.append(
            CandidateRecord.build(
                env_id=sub.env_id,
                data_fingerprint=sub.data_fingerprint,
                puzzle_id=c.puzzle_id,
                agent_hash=sub.agent.config_hash,
                sample_index=c.sample_index,
                candidate=candidate,
                verdict=verdict,
                created_at=0.0,
            )
        )
    return out


def _check_verdicts(sub: Submission, records: Sequence[CandidateRecord], report: IntakeReport) -> None:
    claimed_right = [
        f"{r.puzzle_id}#{r.sample_index}" for c, r in zip(sub.candidates, records) if c.claimed_ok and not r.ok
    ]
    claimed_wrong = [
        f"{r.puzzle_id}#{r.sample_index}" for c, r in zip(sub.candidates, records) if c.claimed_ok is False and r.ok
    ]
    if claimed_right:
        first = next(r for c, r in zip(sub.candidates, records) if c.claimed_ok and not r.ok)
        report.problems.append(
            Problem(
                "verdict-mismatch",
                f"{len(claimed_right)} candidates are claimed correct but the verifier rejects them: "
                f"{_examples(claimed_right)} (first: {first.reason})",
            )
        )
    if claimed_wrong:
        report.problems.append(
            Problem(
                "verdict-mismatch",
                f"{len(claimed_wrong)} candidates are claimed wrong but verify as correct: {_examples(claimed_wrong)}",
            )
        )


def _check_claims(sub: Submission, summary: Summary, report: IntakeReport) -> None:
    for key in CLAIMABLE:
        if key not in sub.claimed:
            continue
        claimed, actual = sub.claimed[key], getattr(summary, key)
        same = (claimed is None and actual is None) or (
            claimed is not None
            and actual is not None
            and math.isclose(claimed, actual, rel_tol=0, abs_tol=CLAIM_TOLERANCE)
        )
        if not same:
            report.problems.append(Problem("claim-mismatch", f"claimed {key}={claimed!r}, re-verified {actual!r}"))


def curves(records: Sequence[CandidateRecord], manifest_ids: Sequence[str], k: int) -> dict[str, Any]:
    """Plot data: the pass@j curve for j = 1..k (mean over the manifest) and the risk-coverage curve.

    Both use the summary's conventions: a missing sample is a failed, unanswered candidate."""
    by_puzzle: dict[str, dict[int, CandidateRecord]] = {}
    for r in records:
        by_puzzle.setdefault(r.puzzle_id, {})[r.sample_index] = r
    correct_counts = [sum(bool(r.ok) for r in by_puzzle.get(pid, {}).values()) for pid in manifest_ids]
    pass_curve = [
        [j, math.fsum(metrics.pass_at_k(k, c, j) for c in correct_counts) / len(manifest_ids)] for j in range(1, k + 1)
    ]
    q, answered, correct = [], [], []
    for pid in manifest_ids:
        samples = by_puzzle.get(pid, {})
        for i in range(k):
            r = samples.get(i)
            q.append(None if r is None else r.q)
            answered.append(r is not None and r.answered)
            correct.append(r is not None and r.ok)
    have_q = any(a and v is not None for a, v in zip(answered, q))
    risk_coverage: list[list[float]] = []
    if have_q:
        cov, risk = metrics.risk_coverage_curve(q, answered, correct)
        step = max(1, math.ceil(len(cov) / CURVE_POINTS))
        keep = sorted(set(range(0, len(cov), step)) | {len(cov) - 1})
        risk_coverage = [[float(cov[i]), float(risk[i])] for i in keep]
    return {"pass_at_k": pass_curve, "risk_coverage": risk_coverage}


def puzzles_evaluated(candidates: Sequence[Any], manifest_ids: Sequence[str]) -> int:
    """Puzzles of the manifest with at least one candidate (answered, abstained or failed) in the submission."""
    manifest = set(manifest_ids)
    return len({c.puzzle_id for c in candidates if c.puzzle_id in manifest})


def reverify(submission: Submission, index: TrackIndex) -> IntakeReport:
    """Judge a submission; the report is accepted only when nothing is wrong with it."""
    sub = submission
    report = IntakeReport(env_id=sub.env_id, agent_name=sub.agent.name, data_fingerprint=sub.data_fingerprint)
    try:
        track, puzzle_set = index.find(sub.env_id, sub.data_fingerprint)
    except UnknownSplitError as exc:
        report.problems.append(Problem("unknown-split", str(exc)))
        return report
    report.track = track
    if sub.k > track.max_k:
        report.problems.append(Problem("k-range", f"k={sub.k}, but this track takes at most k={track.max_k}"))
        return report  # checked before anything that costs k x puzzles
    if (sub.split, sub.data_source) != (puzzle_set.split, puzzle_set.source):
        report.problems.append(
            Problem(
                "split-mismatch",
                f"the fingerprint is {puzzle_set.env_id} split {puzzle_set.split!r} from {puzzle_set.source!r}, "
                f"but the submission says split {sub.split!r} from {sub.data_source!r}",
            )
        )
    expected_hash = config_hash(sub.agent.name, sub.agent.config)
    if sub.agent.config_hash != expected_hash:
        report.problems.append(
            Problem(
                "config-hash",
                f"agent.config_hash {sub.agent.config_hash!r} is not the hash of the card's name and config "
                f"({expected_hash!r}); export the run again with `arena submit`",
            )
        )
    manifest_ids = [p.id for p in puzzle_set.puzzles]
    _check_keys(sub, set(manifest_ids), report)
    if sub.k < track.k:
        report.notes.append(
            f"k={sub.k} is below this track's official k={track.k}: the {track.primary} score counts only "
            f"{sub.k} candidate(s) per puzzle"
        )
    if any(p.code in ("duplicate", "unknown-puzzle", "sample-range") for p in report.problems):
        return report  # scores over ambiguous or foreign keys mean nothing; stop before verifying
    records = _records(sub, _verify(puzzle_set, sub))
    _check_verdicts(sub, records, report)
    summary = summarize(
        records,
        manifest_ids=manifest_ids,
        k=sub.k,
        env_id=sub.env_id,
        split=puzzle_set.split,
        data_source=puzzle_set.source,
        data_fingerprint=puzzle_set.fingerprint,
        agent_name=sub.agent.name,
        agent_kind=sub.agent.kind,
        agent_hash=sub.agent.config_hash,
        agent_config=sub.agent.config,
        extra={
            "parameters": sub.agent.parameters,
            "evaluated_at": sub.evaluated_at,
            "puzzles_evaluated": puzzles_evaluated(sub.candidates, manifest_ids),
            "puzzles_total": len(manifest_ids),
        },
        pair_counts=pair_counts(puzzle_set.puzzles),
        exact_labels=labelled(puzzle_set.puzzles),
    )
    report.summary = summary
    _check_claims(sub, summary, report)
    missing = len(manifest_ids) - puzzles_evaluated(sub.candidates, manifest_ids)
    if missing:
        report.notes.append(f"{missing} of {len(manifest_ids)} puzzles have no candidate; they count as unsolved")
        report.notes.append(
            f"partial run: {len(manifest_ids) - missing} of {len(manifest_ids)} puzzles evaluated; the site marks it "
            "partial and ranks it after complete runs"
        )
    if summary.n_missing > 0:
        report.notes.append(f"{summary.n_missing} of {len(manifest_ids) * sub.k} samples are missing (failed)")
    report.curves = curves(records, manifest_ids, sub.k)
    return report
