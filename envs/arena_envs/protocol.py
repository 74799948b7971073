"""The act/verify protocol every environment and agent speaks.

An *agent* receives :class:`Puzzle` objects (never their solutions), returns up to ``k``
:class:`Candidate` answers per puzzle, and the *environment* decides with a :class:`Verdict`
whether each answer satisfies the puzzle's rules. Nothing here imports torch or an LLM client.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = [
    "Agent",
    "Candidate",
    "Cost",
    "Puzzle",
    "PuzzleSet",
    "Verdict",
    "config_hash",
    "config_to_dict",
    "seed_int",
    "stable_seed",
]


def _frozen_array(a: Any, dtype: Any = None) -> np.ndarray:
    arr = np.array(a, dtype=dtype, copy=True)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class Puzzle:
    """One puzzle instance, a pure function of (env id, config, split, index).

    ``grid`` is read-only; ``meta`` carries family extras (rating, clue count, optimal path length,
    ARC demonstration pairs...). The solution is *not* part of a puzzle: the :class:`PuzzleSet`
    keeps labels for its verifier so an agent cannot read them by accident.
    """

    id: str
    family: str
    grid: np.ndarray
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "grid", _frozen_array(self.grid))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Puzzle)
            and self.id == other.id
            and self.family == other.family
            and self.grid.shape == other.grid.shape
            and bool(np.array_equal(self.grid, other.grid))
        )

    def __hash__(self) -> int:
        return hash((self.id, self.family, self.grid.tobytes()))


@dataclass(frozen=True)
class Verdict:
    """The environment's judgement of one answer.

    ``ok`` means the answer satisfies every rule. ``reason`` names the first failing rule in words
    ("abstained", "row 3 has digit 5 twice", ...); ``violations`` lists offending cells/rules as
    plain tuples. ``abstained`` separates a deliberate non-answer from a wrong one (abstention
    metrics need the difference). ``extras`` carries family specifics (Maze ``optimal``/``exact_label``).
    """

    ok: bool
    reason: str = ""
    violations: tuple[tuple[Any, ...], ...] = ()
    abstained: bool = False
    extras: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "reason": self.reason,
            "violations": [list(v) for v in self.violations],
            "abstained": self.abstained,
            "extras": dict(self.extras),
        }

    @staticmethod
    def abstain() -> Verdict:
        return Verdict(ok=False, reason="abstained", abstained=True)

    @staticmethod
    def malformed(reason: str) -> Verdict:
        return Verdict(ok=False, reason=f"malformed answer: {reason}")


@dataclass(frozen=True)
class Cost:
    """What producing one candidate cost. Unknown quantities stay ``None`` (not 0)."""

    nfe: int | None = None  # network function evaluations / solver steps
    steps: int | None = None  # search nodes, env steps, ACT steps
    tokens_in: int | None = None
    tokens_out: int | None = None
    requests: int | None = None
    seconds: float | None = None
    flops: float | None = None
    dollars: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> Cost:
        known = {f.name for f in dataclasses.fields(Cost)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown cost fields {sorted(unknown)}; known: {sorted(known)}")
        return Cost(**dict(d))


@dataclass(frozen=True, eq=False)
class Candidate:
    """One answer an agent commits to.

    ``answer`` is a grid (np.ndarray) or ``None`` to abstain. ``q`` is the agent's own confidence
    that the answer is right (higher = surer, ``None`` if it has none). ``error`` marks a failed
    attempt (LLM timeout, unparseable output...) — it is scored as an abstention-free failure.
    """

    answer: np.ndarray | None
    q: float | None = None
    cost: Cost = field(default_factory=Cost)
    error: str | None = None
    extras: Mapping[str, Any] = field(default_factory=dict)

    @property
    def abstained(self) -> bool:
        return self.answer is None and self.error is None


@runtime_checkable
class Agent(Protocol):
    """Anything that answers puzzles.

    ``config`` fully identifies the agent's behaviour (a frozen dataclass); its hash is recorded with
    every result. ``act`` is batched: one list of up to ``k`` candidates per puzzle, in order. Random
    agents must derive their randomness from (their seed, puzzle id, sample index) — see
    :func:`stable_seed` — so an interrupted and resumed run gives the same answers as one that ran
    straight through.
    """

    name: str
    config: Any

    def act(self, puzzles: Sequence[Puzzle], k: int) -> list[list[Candidate]]: ...


@runtime_checkable
class PuzzleSet(Protocol):
    """A split of an environment: its puzzles, a verifier that knows the labels, and a fingerprint."""

    env_id: str
    split: str
    source: str  # "bundled-synthetic-v1", "original:<path>", "generated:seed=..."; never mixed on boards
    fingerprint: str  # sha256 over the puzzles' canonical bytes (and labels)
    puzzles: Sequence[Puzzle]

    def verify(self, puzzle: Puzzle, answer: Any) -> Verdict: ...

    def verify_batch(self, puzzles: Sequence[Puzzle], answers: Sequence[Any]) -> list[Verdict]: ...

    def label(self, puzzle: Puzzle) -> np.ndarray | None: ...


def _canonical(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {
            "__type__": type(obj).__qualname__,
            **{k: _canonical(v) for k, v in dataclasses.asdict(obj).items()},
        }
    if isinstance(obj, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.integer, np.floating)):
        return obj.item()
    return obj


def config_to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready view of an agent config (dataclass fields plus ``__type__``), as recorded with results."""
    out = _canonical(config)
    return out if isinstance(out, dict) else {"value": out}


def config_hash(name: str, config: Any) -> str:
    """A short stable hash of an agent's identity: its name and full config."""
    payload = json.dumps({"name": name, "config": _canonical(config)}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def seed_int(*parts: int | str) -> int:
    """A non-negative 63-bit integer from :func:`stable_seed` (for generators that take one int, e.g. torch's)."""
    return int(stable_seed(*parts).generate_state(1, np.uint64)[0] >> 1)


def stable_seed(*parts: int | str) -> np.random.SeedSequence:
    """A seed sequence derived from ints/strings, stable across processes (unlike ``hash()``)."""
    ints: list[int] = []
    for p in parts:
        if isinstance(p, str):
            ints.append(int.from_bytes(hashlib.sha256(p.encode()).digest()[:8], "little"))
        else:
            ints.append(int(p))
    return np.random.SeedSequence(ints)
