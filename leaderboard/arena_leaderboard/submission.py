"""The submission format: raw candidates plus an agent card and the split's fingerprint, never just scores.

A submission is one JSON document (optionally gzipped)::

    {"format": "puzzle-arena-submission/1",
     "env_id": "arena/SudokuExtreme-v0", "split": "test", "data_source": "...", "data_fingerprint": "sha256:...",
     "k": 1,                                  # candidates per puzzle the run drew
     "agent": {"name", "kind", "parameters", "config", "config_hash", "checkpoint_sha256",
               "code_revision", "package_version"},
     "evaluated_at": "2026-11-29T19:00:00Z",
     "claimed": {"pass_at_1": 0.673, ...},    # optional: scores the submitter believes (checked, never used)
     "candidates": [{"puzzle_id", "sample_index", "answer", "q", "cost", "error", "claimed_ok", "extras"}]}

``answer`` is the JSON form the harness stores (a grid as nested lists, moves as a list of strings, null for
an abstention); ``claimed_ok`` is the submitter's verdict, compared with the leaderboard's own and otherwise
ignored. Parsing checks every field's type and rejects unknown keys, so a typo cannot silently drop data.

Limits (``LIMITS``): a file breaking one is refused before it can tie up intake, with the limit's name in the
message. The file is read up to ``MAX_FILE_BYTES`` and decompressed as a stream that stops at
``MAX_JSON_BYTES``; nesting is at most ``MAX_DEPTH``; k at most ``MAX_K``; ``parameters`` at most
``MAX_PARAMETERS``; costs finite and >= 0; q in [0, 1]; one candidate's answer at most ``MAX_ANSWER_BYTES``
of JSON and its extras ``MAX_EXTRAS_BYTES``; strings of the card at most ``MAX_TEXT_CHARS``.
"""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from arena_envs.protocol import Cost
from arena_harness.atomic import write_atomic

FORMAT = "puzzle-arena-submission/1"
MAX_FILE_BYTES = 256 * 2**20  # the file as stored, gzipped or not
MAX_JSON_BYTES = 512 * 2**20  # its JSON text (1,000 puzzles x k 64 x a 30x30 grid is about 170 MiB)
MAX_DEPTH = 16  # nesting of arrays and objects (an ARC answer, a list of grids, sits at depth 6)
MAX_K = 64  # candidates per puzzle
MAX_PARAMETERS = 10**13
MAX_ANSWER_BYTES = 2**20  # one candidate's answer as compact JSON
MAX_EXTRAS_BYTES = 64 * 2**10  # one candidate's extras as compact JSON
MAX_TEXT_CHARS = 10_000  # ids, hashes, revisions, versions, dates, error messages
LIMITS = {
    "max_file_bytes": MAX_FILE_BYTES,
    "max_json_bytes": MAX_JSON_BYTES,
    "max_depth": MAX_DEPTH,
    "max_k": MAX_K,
    "max_parameters": MAX_PARAMETERS,
    "max_answer_bytes": MAX_ANSWER_BYTES,
    "max_extras_bytes": MAX_EXTRAS_BYTES,
    "max_text_chars": MAX_TEXT_CHARS,
}
COST_FIELDS = frozenset(f.name for f in fields(Cost))
AGENT_KINDS = ("recursive", "llm", "baseline", "tool-assisted", "rl")
CLAIMABLE = (
    "pass_at_1",
    "pass_at_k",
    "best_q_at_k",
    "vote_at_k",
    "coverage",
    "answered",
    "wrong",
    "wrong_rate_upper95",
    "pair_score_at_2",
    "exact_label_at_1",
    "n_puzzles",
)


class SubmissionFormatError(ValueError):
    """The document is not a well-formed submission; the message names the offending field."""


@dataclass(frozen=True)
class AgentCard:
    name: str
    kind: str  # one of AGENT_KINDS
    config_hash: str
    parameters: int | None = None  # learned parameters; None for agents without weights or when unknown
    config: dict[str, Any] = field(default_factory=dict)
    checkpoint_sha256: str | None = None
    code_revision: str = "unknown"
    package_version: str = "unknown"


@dataclass(frozen=True)
class SubmittedCandidate:
    puzzle_id: str
    sample_index: int
    answer: Any = None  # JSON value as the harness stores it; None = abstained (or failed, see error)
    q: float | None = None
    cost: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    claimed_ok: bool | None = None
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Submission:
    env_id: str
    split: str
    data_source: str
    data_fingerprint: str
    k: int
    agent: AgentCard
    candidates: tuple[SubmittedCandidate, ...]
    evaluated_at: str = ""
    claimed: dict[str, float | None] = field(default_factory=dict)
    format: str = FORMAT

    def to_dict(self) -> dict[str, Any]:
        # shallow field copies: dataclasses.asdict would deep-copy every answer grid, element by element
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["agent"] = {f.name: getattr(self.agent, f.name) for f in fields(self.agent)}
        out["candidates"] = [{f.name: getattr(c, f.name) for f in fields(c)} for c in self.candidates]
        return out

    def to_json_bytes(self) -> bytes:
        """Compact JSON, the form files and the board store (NaN refused: JSON has none)."""
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False).encode()

    @staticmethod
    def from_dict(doc: Any) -> Submission:
        return parse_document(doc)

    def write(self, path: str | Path) -> Path:
        """Write atomically (temporary file, then rename); ``.gz`` paths are gzipped."""
        path = Path(path)
        data = self.to_json_bytes()
        if path.suffix == ".gz":
            data = gzip.compress(data, compresslevel=6, mtime=0)
        return write_atomic(path, data)


def read_submission(path: str | Path) -> Submission:
    """Parse a submission file (JSON, or gzipped JSON); a bad file ends in one SubmissionFormatError, and a
    file over a limit is refused without reading or decompressing more than the limit."""
    path = Path(path)
    if not path.is_file():
        raise SubmissionFormatError(f"{path}: no such file; export a run with `arena submit RUN`")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SubmissionFormatError(f"{path}: {size:,} bytes, over max_file_bytes = {MAX_FILE_BYTES:,}")
        with path.open("rb") as f:
            raw = f.read(2)
            f.seek(0)
            stream = gzip.GzipFile(fileobj=f) if raw == b"\x1f\x8b" else f
            text = stream.read(MAX_JSON_BYTES + 1)
        if len(text) > MAX_JSON_BYTES:
            raise SubmissionFormatError(
                f"{path}: its JSON is over max_json_bytes = {MAX_JSON_BYTES:,} bytes (decompression stopped there)"
            )
        doc = json.loads(text)
    except RecursionError:
        raise SubmissionFormatError(f"{path}: JSON nested deeper than max_depth = {MAX_DEPTH}") from None
    except (OSError, EOFError, UnicodeDecodeError, ValueError) as exc:
        raise SubmissionFormatError(f"{path}: not a JSON (or gzipped JSON) submission: {exc}") from None
    try:
        return parse_document(doc)
    except SubmissionFormatError as exc:
        raise SubmissionFormatError(f"{path}: {exc}") from None


def parse_document(doc: Any) -> Submission:
    """A submission from a parsed JSON document: the depth limit first, then the strict field checks."""
    _check_depth(doc)
    return _parse_submission(doc)


def _check_depth(doc: Any) -> None:
    """Refuse nesting deeper than MAX_DEPTH, walking with an explicit stack (no recursion to overflow)."""
    stack = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (list, dict)):
            if depth > MAX_DEPTH:
                raise SubmissionFormatError(f"JSON nested deeper than max_depth = {MAX_DEPTH}")
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children if isinstance(child, (list, dict)))


# -- strict parsing ------------------------------------------------------------------------------------------


def _keys(obj: Any, where: str, required: set[str], optional: set[str]) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise SubmissionFormatError(f"{where} must be a JSON object, got {type(obj).__name__}")
    missing = required - obj.keys()
    if missing:
        raise SubmissionFormatError(f"{where} lacks {sorted(missing)}")
    unknown = obj.keys() - required - optional
    if unknown:
        raise SubmissionFormatError(f"{where} has unknown keys {sorted(unknown)}; known: {sorted(required | optional)}")
    return obj


def _str(value: Any, where: str, *, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise SubmissionFormatError(f"{where} must be a string, got {type(value).__name__}")
    if len(value) > MAX_TEXT_CHARS:
        raise SubmissionFormatError(f"{where} has {len(value):,} characters, over max_text_chars = {MAX_TEXT_CHARS:,}")
    return value


def _int(value: Any, where: str, *, minimum: int = 0, maximum: int, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        shown = (
            repr(value) if not isinstance(value, int) or abs(value) < 10**30 else f"a {len(str(value))}-digit number"
        )
        raise SubmissionFormatError(f"{where} must be an integer in {minimum}..{maximum:,}, got {shown}")
    return value


def _number(value: Any, where: str, *, low: float = -math.inf, high: float = math.inf) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SubmissionFormatError(f"{where} must be a finite number or null, got {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond float range
        number = math.inf
    if not math.isfinite(number) or not low <= number <= high:
        bounds = f" in [{low:g}, {high:g}]" if math.isfinite(low) or math.isfinite(high) else ""
        raise SubmissionFormatError(f"{where} must be a finite number{bounds} or null, got {number!r}")
    return number


def _json_size(value: Any, where: str, limit: int, name: str) -> None:
    try:
        size = len(json.dumps(value, separators=(",", ":"), allow_nan=False))
    except ValueError:
        raise SubmissionFormatError(f"{where} holds NaN or infinity, which JSON has no form for") from None
    if size > limit:
        raise SubmissionFormatError(f"{where} is {size:,} bytes of JSON, over {name} = {limit:,}")


def _parse_agent(doc: Any) -> AgentCard:
    required = {"name", "kind", "config_hash"}
    optional = {"parameters", "config", "checkpoint_sha256", "code_revision", "package_version"}
    d = _keys(doc, "agent", required, optional)
    kind = _str(d["kind"], "agent.kind")
    if kind not in AGENT_KINDS:
        raise SubmissionFormatError(f"agent.kind must be one of {list(AGENT_KINDS)}, got {kind!r}")
    name = _str(d["name"], "agent.name")
    if not name.strip() or len(name) > 200:
        raise SubmissionFormatError("agent.name must be 1 to 200 characters")
    config = d.get("config", {})
    if not isinstance(config, dict):
        raise SubmissionFormatError("agent.config must be a JSON object")
    return AgentCard(
        name=name,
        kind=kind,
        config_hash=_str(d["config_hash"], "agent.config_hash"),
        parameters=_int(d.get("parameters"), "agent.parameters", maximum=MAX_PARAMETERS, optional=True),
        config=config,
        checkpoint_sha256=_str(d.get("checkpoint_sha256"), "agent.checkpoint_sha256", optional=True),
        code_revision=_str(d.get("code_revision", "unknown"), "agent.code_revision"),
        package_version=_str(d.get("package_version", "unknown"), "agent.package_version"),
    )


def _parse_candidate(doc: Any, i: int) -> SubmittedCandidate:
    where = f"candidates[{i}]"
    d = _keys(doc, where, {"puzzle_id", "sample_index"}, {"answer", "q", "cost", "error", "claimed_ok", "extras"})
    cost = d.get("cost", {})
    if not isinstance(cost, dict):
        raise SubmissionFormatError(f"{where}.cost must be a JSON object")
    unknown_cost = cost.keys() - COST_FIELDS
    if unknown_cost:
        raise SubmissionFormatError(
            f"{where}.cost has unknown fields {sorted(unknown_cost)}; known: {sorted(COST_FIELDS)}"
        )
    claimed_ok = d.get("claimed_ok")
    if claimed_ok is not None and not isinstance(claimed_ok, bool):
        raise SubmissionFormatError(f"{where}.claimed_ok must be true, false or null")
    extras = d.get("extras", {})
    if not isinstance(extras, dict):
        raise SubmissionFormatError(f"{where}.extras must be a JSON object")
    _json_size(d.get("answer"), f"{where}.answer", MAX_ANSWER_BYTES, "max_answer_bytes")
    _json_size(extras, f"{where}.extras", MAX_EXTRAS_BYTES, "max_extras_bytes")
    return SubmittedCandidate(
        puzzle_id=_str(d["puzzle_id"], f"{where}.puzzle_id"),
        sample_index=_int(d["sample_index"], f"{where}.sample_index", maximum=MAX_K - 1),
        answer=d.get("answer"),
        q=_number(d.get("q"), f"{where}.q", low=0.0, high=1.0),
        cost={str(key): _number(v, f"{where}.cost.{key}", low=0.0) for key, v in cost.items()},  # type: ignore[misc]
        error=_str(d.get("error"), f"{where}.error", optional=True),
        claimed_ok=claimed_ok,
        extras=extras,
    )


def _parse_submission(doc: Any) -> Submission:
    required = {"format", "env_id", "split", "data_source", "data_fingerprint", "k", "agent", "candidates"}
    d = _keys(doc, "submission", required, {"evaluated_at", "claimed"})
    if d["format"] != FORMAT:
        raise SubmissionFormatError(f"format must be {FORMAT!r}, got {d['format']!r}")
    if not isinstance(d["candidates"], list):
        raise SubmissionFormatError("candidates must be a JSON list")
    claimed = d.get("claimed", {})
    claimed = _keys(claimed, "claimed", set(), set(CLAIMABLE))
    return Submission(
        env_id=_str(d["env_id"], "env_id"),
        split=_str(d["split"], "split"),
        data_source=_str(d["data_source"], "data_source"),
        data_fingerprint=_str(d["data_fingerprint"], "data_fingerprint"),
        k=_int(d["k"], "k", minimum=1, maximum=MAX_K),
        agent=_parse_agent(d["agent"]),
        candidates=tuple(_parse_candidate(c, i) for i, c in enumerate(d["candidates"])),
        evaluated_at=_str(d.get("evaluated_at", ""), "evaluated_at"),
        claimed={key: _number(v, f"claimed.{key}") for key, v in claimed.items()},
    )
