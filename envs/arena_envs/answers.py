"""Turning whatever an agent returned into an integer grid, or a clear reason why it cannot be one.

Verifiers call :func:`coerce_grid` first so that malformed answers (None, ragged lists, strings,
floats with NaN or fractions, wrong shape, values out of range) end as ``Verdict(ok=False)`` with a
readable reason instead of an exception from deep inside numpy.

An LLM answers with a JSON object (``{"grid": ..., "abstain": ...}``, ARC's ``grids``, PPBench's ``moves``).
:func:`answer_from_fields` turns the object into what the verifier takes, for the LLM agents (after pydantic-ai has
validated the reply) and for the RL reward functions (:mod:`arena_envs.rewards`), which read raw completions with
:func:`parse_answer_text`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


def coerce_grid(answer: Any, shape: tuple[int, ...], low: int, high: int) -> tuple[np.ndarray | None, str]:
    """Return ``(grid as int64, "")`` or ``(None, reason)``.

    Values must lie in ``[low, high]``; booleans, non-finite and non-integral floats are rejected.
    """
    if answer is None:
        return None, "no answer (None)"
    if isinstance(answer, (str, bytes)):
        return None, f"expected a grid of integers, got {type(answer).__name__}"
    arr = as_array(answer)
    if arr is None:
        return None, "not a rectangular grid (numpy cannot read it as an array)"
    if arr.dtype == object:
        return None, "not a rectangular grid of numbers"
    if arr.dtype.kind == "b":
        return None, "boolean grid; expected integers"
    if arr.dtype.kind not in "iuf":
        return None, f"expected integers, got dtype {arr.dtype}"
    if arr.shape != tuple(shape):
        return None, f"wrong shape {arr.shape}, expected {tuple(shape)}"
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            bad = np.argwhere(~np.isfinite(arr))[0]
            return None, f"non-finite value at {_cell(bad)}"
        if not np.all(arr == np.round(arr)):
            bad = np.argwhere(arr != np.round(arr))[0]
            return None, f"non-integer value {arr[tuple(bad)]} at {_cell(bad)}"
    out_of_range = (arr < low) | (arr > high)
    if np.any(out_of_range):
        bad = np.argwhere(out_of_range)[0]
        return None, f"value {arr[tuple(bad)]:g} at {_cell(bad)} is outside {low}..{high}"
    return arr.astype(np.int64, copy=False), ""


def as_array(answer: Any) -> np.ndarray | None:
    """``np.asarray(answer)`` (a plain ndarray, so a masked array gives its data), or None when numpy cannot
    read it: ragged nested lists, or an object whose ``__array__`` raises (whatever it raises)."""
    try:
        return np.asarray(answer)
    except Exception:  # a hostile answer must end as a verdict, never as an exception in the verifier
        return None


def _cell(index: np.ndarray) -> str:
    """1-based 'r3c5' notation for humans (violations tuples stay 0-based)."""
    if len(index) == 2:
        return f"r{int(index[0]) + 1}c{int(index[1]) + 1}"
    return "(" + ",".join(str(int(i)) for i in index) + ")"


def cell_name(row: int, col: int) -> str:
    return f"r{row + 1}c{col + 1}"


# --- answers written as text: the JSON object the LLM agents' prompts ask for -------------------------------------

ANSWER_KINDS: dict[str, str] = {
    "sudoku": "grid",
    "maze": "grid",
    "arc": "grids",
    "ppbench": "moves",
    "snowflake": "grid",  # one row of 6 digits per hexagon
}
"""How each family answers: one ``grid`` (a list of rows), ARC's list of ``grids`` (one per test input), or
PPBench's list of ``moves`` (pzpr move strings)."""
ANSWER_FIELDS: dict[str, str] = {"grid": "grid", "moves": "moves", "grids": "grids"}
"""The JSON field that holds the answer, per answer kind."""

_FENCE = re.compile(r"```[A-Za-z0-9_-]*[ \t]*\r?\n(.*?)```", re.S)
_MAX_OBJECT_STARTS = 256  # '{' positions tried when a JSON object is embedded in prose (bounds the work per reply)


@dataclass(frozen=True)
class ParsedAnswer:
    """An answer read from a reply: what the verifier gets, or why there is none.

    ``answer`` is an int64 grid (``grid``), a list of grids (``grids``) or a list of moves (``moves``); a
    value of the wrong form is passed on as written, for the verifier to name what is wrong with it.
    ``abstained`` marks ``"abstain": true``; ``problem`` says why nothing could be read ("" when read).
    """

    answer: Any = None
    abstained: bool = False
    problem: str = ""

    @property
    def readable(self) -> bool:
        """An answer to send to the verifier: read, and not an abstention."""
        return not self.abstained and not self.problem


def drop_on_abstention(data: Any, field: str) -> Any:
    """An abstention is final whatever the answer field holds (``[]``, as the prompt allows, or a partial one)."""
    if isinstance(data, dict) and data.get("abstain") is True and field in data:
        return {key: v for key, v in data.items() if key != field}
    return data


def answer_from_fields(data: Mapping[str, Any], kind: str) -> ParsedAnswer:
    """The answer held by a decoded JSON object (``{"grid": ..., "abstain": ...}``) of answer ``kind``.

    Args:
        data: the object's fields. ``"abstain": true`` (JSON ``true`` only) is an abstention whatever the
            answer field holds; a missing answer field is a problem, an empty one an (empty) answer.
        kind: ``grid``, ``grids`` or ``moves`` (:data:`ANSWER_KINDS`).
    """
    if kind not in ANSWER_FIELDS:
        raise ValueError(f"unknown answer kind {kind!r}; known: {sorted(ANSWER_FIELDS)}")
    field = ANSWER_FIELDS[kind]
    if data.get("abstain") is True:
        return ParsedAnswer(abstained=True)
    if field not in data:
        return ParsedAnswer(problem=f"the JSON object has no `{field}`")
    value = data[field]
    if kind == "grid":
        return ParsedAnswer(_int_grid(value))
    if kind == "grids":
        return ParsedAnswer([_int_grid(g) for g in value] if isinstance(value, list) else value)
    return ParsedAnswer(list(value) if isinstance(value, list) else value)


def _int_grid(value: Any) -> Any:
    """A rectangular list of integers as an int64 array; anything else unchanged (the verifier names the fault)."""
    if isinstance(value, list) and value and all(isinstance(row, list) for row in value):
        arr = as_array(value)
        if arr is not None and arr.ndim == 2 and arr.dtype.kind in "iu":
            return arr.astype(np.int64)
    return value


def parse_answer_text(text: str, kind: str) -> ParsedAnswer:
    """Read the answer of kind ``kind`` from a model's reply, as the LLM agents' prompts ask for it.

    The reply should be a JSON object such as ``{"grid": [[1, 2], [2, 1]], "abstain": false}``. It is looked for,
    in this order, and the first object holding the answer field or ``abstain`` wins:

    1. the whole reply (surrounding whitespace ignored);
    2. the body of each fenced block (```` ```json ... ``` ```` or a bare ```` ``` ````), the last block first;
    3. each JSON object embedded in the text, the last one first (so reasoning may come before the answer).

    This accepts everything pydantic-ai accepts from the agents in ``prompted`` mode (a reply that is the object,
    or the object in a fenced block), and more. Never raises: a reply without such an object is a problem.
    """
    if kind not in ANSWER_FIELDS:
        raise ValueError(f"unknown answer kind {kind!r}; known: {sorted(ANSWER_FIELDS)}")
    data = find_answer_object(text, ANSWER_FIELDS[kind]) if isinstance(text, str) else None
    if data is None:
        field = ANSWER_FIELDS[kind]
        return ParsedAnswer(problem=f"no JSON object with `{field}` or `abstain` in the reply")
    return answer_from_fields(data, kind)


def find_answer_object(text: str, field: str) -> dict[str, Any] | None:
    """The JSON object of a reply that holds ``field`` or ``abstain`` (search order: :func:`parse_answer_text`)."""
    for candidate in _json_objects(text):
        if field in candidate or "abstain" in candidate:
            return candidate
    return None


def _json_objects(text: str) -> Iterator[dict[str, Any]]:
    """The JSON objects of ``text``, in :func:`parse_answer_text`'s order (lazily: the first hit ends the search)."""
    whole = _loads_object(text.strip())
    if whole is not None:
        yield whole
    for body in reversed(_FENCE.findall(text)):
        fenced = _loads_object(body.strip())
        if fenced is not None:
            yield fenced
    decoder = json.JSONDecoder()
    starts = [m.start() for m in re.finditer(r"\{", text)][-_MAX_OBJECT_STARTS:]
    for start in reversed(starts):
        try:
            obj, _ = decoder.raw_decode(text, start)
        except (json.JSONDecodeError, RecursionError):
            continue
        if isinstance(obj, dict):
            yield obj


def _loads_object(text: str) -> dict[str, Any] | None:
    if not text.startswith("{"):
        return None
    try:
        obj = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None
