"""What the harness stores per candidate, and how answers are serialised (portable JSON, no pickle)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from arena_envs.protocol import Candidate, Verdict


def encode_answer(answer: Any) -> str | None:
    """Strict JSON text of whatever an agent returned; None stays None. Nothing is truncated.

    The form is canonical, so equal answers get equal text (majority votes compare it), and
    ``decode_answer`` gives back a value every verifier judges exactly as the harness judged the answer
    (the runner verifies the decoded value, so this holds by construction):

    * grids of integers (arrays of any integer type, or nested lists) -> nested JSON lists of integers;
    * float grids -> nested lists of floats, NaN and infinities as ``{"float": "nan"}`` (JSON has no NaN);
    * boolean arrays -> ``{"ndarray": nested lists, "dtype": "bool"}`` (verifiers refuse booleans as digits);
    * strings (a Maze answer as text, PPBench moves one per line) and lists of strings -> themselves;
    * anything else (objects, dicts, complex numbers, generators, arrays that cannot be read) ->
      ``{"unparsed": repr, "type": type name}``, which every verifier calls malformed.
    """
    if answer is None:
        return None
    try:
        return json.dumps(_to_json(answer), separators=(",", ":"), allow_nan=False)
    except (_Unencodable, ValueError, TypeError, RecursionError):
        return json.dumps({"unparsed": _safe_repr(answer), "type": type(answer).__name__}, separators=(",", ":"))


class _Unencodable(Exception):
    pass


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception:  # a hostile __repr__ still leaves a record
        return f"<{type(value).__name__} whose repr failed>"


def _float(value: float) -> Any:
    return value if math.isfinite(value) else {"float": repr(value)}  # 'nan', 'inf', '-inf'


def _to_json(value: Any) -> Any:
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, np.generic):
        if value.dtype.kind not in "biufU":
            raise _Unencodable
        return _to_json(value.item())
    if isinstance(value, np.ndarray):
        arr = np.asarray(value)  # a masked array's data, as every verifier reads it
        if arr.dtype.kind == "b":
            return {"ndarray": arr.tolist(), "dtype": "bool"}
        if arr.dtype.kind in "iuU":
            return arr.tolist()
        if arr.dtype.kind == "f":
            return _floats(arr.astype(np.float64).tolist())
        raise _Unencodable
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    if isinstance(value, Unparsed):  # a stored answer read back keeps its stored form
        return {"unparsed": value.text, "type": value.type_name}
    raise _Unencodable


def _floats(value: Any) -> Any:
    return [_floats(v) for v in value] if isinstance(value, list) else _float(value)


class Unparsed:
    """A stored answer that was not a grid, text or list (see ``encode_answer``); verifiers call it malformed."""

    def __init__(self, text: str, type_name: str) -> None:
        self.text, self.type_name = text, type_name

    def __repr__(self) -> str:
        return f"Unparsed({self.type_name}: {self.text[:200]})"


def decode_answer(text: str | None) -> Any:
    """Inverse of :func:`encode_answer` (and of the older stores' forms: plain nested lists, NaN tokens,
    ``{"unparsed": repr}``)."""
    if text is None:
        return None
    return _from_json(json.loads(text))


def _from_json(value: Any) -> Any:
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"float"}:
            return float(value["float"])
        if set(value) == {"ndarray", "dtype"} and value["dtype"] == "bool":
            return np.asarray(value["ndarray"], dtype=bool)
        return Unparsed(str(value.get("unparsed", value)), str(value.get("type", "dict")))
    return value


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
        answer_text: str | None = None,
    ) -> CandidateRecord:
        """``answer_text``: the candidate's ``encode_answer``, when the caller already made it."""
        q = candidate.q
        if q is not None and not math.isfinite(float(q)):
            q = None  # a NaN confidence is no confidence
        return CandidateRecord(
            env_id=env_id,
            data_fingerprint=data_fingerprint,
            puzzle_id=puzzle_id,
            agent_hash=agent_hash,
            sample_index=sample_index,
            answer=(answer_text or encode_answer(candidate.answer)) if candidate.error is None else None,
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
