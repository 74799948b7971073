"""What the harness stores per candidate, and how answers are serialised (portable JSON, no pickle)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from arena_envs.protocol import Candidate, Verdict


def encode_answer(answer: Any) -> str | None:
    """JSON text of an answer grid (nested lists), a list of grids, or a list of move strings; None stays None.

    Float grids keep their values (NaN/inf included, as Python's JSON allows) so re-verification
    sees exactly what the agent returned; anything that is not a numeric array is kept as its repr.
    """
    if answer is None:
        return None
    if isinstance(answer, (list, tuple)) and answer and all(isinstance(m, str) for m in answer):
        return json.dumps(list(answer))  # a list of moves (PPBench), kept as strings
    try:
        arr = np.asarray(answer)
    except (ValueError, TypeError):
        arr = None
    if arr is not None and arr.dtype.kind in "iub":
        return json.dumps(arr.astype(np.int64).tolist())
    if arr is not None and arr.dtype.kind == "f":
        return json.dumps(arr.tolist())
    if arr is None and isinstance(answer, (list, tuple)) and answer:
        # grids of different shapes (ARC: one output per test input) do not stack; keep each one
        try:
            grids = [np.asarray(g) for g in answer]
        except (ValueError, TypeError):
            grids = []
        if grids and all(g.dtype.kind in "iub" for g in grids):
            return json.dumps([g.astype(np.int64).tolist() for g in grids])
    return json.dumps({"unparsed": repr(answer)[:10_000]})


def decode_answer(text: str | None) -> Any:
    """Inverse of :func:`encode_answer`: an int64 ndarray for integer grids, else the raw JSON value."""
    if text is None:
        return None
    value = json.loads(text)
    if isinstance(value, dict) or (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
        return value
    try:
        arr = np.asarray(value)
    except ValueError:
        return value
    return arr.astype(np.int64) if arr.dtype.kind in "iu" else arr if arr.dtype.kind == "f" else value


@dataclass(frozen=True)
class CandidateRecord:
    """One verified candidate, keyed by (env id, data fingerprint, puzzle id, agent hash, sample index)."""

    env_id: str
    data_fingerprint: str
    puzzle_id: str
    agent_hash: str
    sample_index: int
    answer: str | None  # JSON grid, see encode_answer
    q: float | None
    ok: bool
    abstained: bool
    error: str | None
    reason: str
    cost: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    created_at: float = 0.0

    @property
    def answered(self) -> bool:
        return not self.abstained and self.error is None

    @staticmethod
    def build(
        *,
        env_id: str,
        data_fingerprint: str,
        puzzle_id: str,
        agent_hash: str,
        sample_index: int,
        candidate: Candidate,
        verdict: Verdict,
        created_at: float,
    ) -> CandidateRecord:
        q = candidate.q
        if q is not None and not math.isfinite(float(q)):
            q = None  # a NaN confidence is no confidence
        return CandidateRecord(
            env_id=env_id,
            data_fingerprint=data_fingerprint,
            puzzle_id=puzzle_id,
            agent_hash=agent_hash,
            sample_index=sample_index,
            answer=encode_answer(candidate.answer) if candidate.error is None else None,
            q=None if q is None else float(q),
            ok=bool(verdict.ok) and candidate.error is None,
            abstained=candidate.error is None and verdict.abstained,
            error=candidate.error,
            reason=f"agent error: {candidate.error}" if candidate.error is not None else verdict.reason,
            cost=candidate.cost.to_dict(),
            extras={
                "verdict": dict(verdict.extras),
                "violations": len(verdict.violations),
                **candidate.extras,
            },
            created_at=created_at,
        )
