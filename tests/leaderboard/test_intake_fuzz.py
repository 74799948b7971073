"""Hostile submissions, drawn by Hypothesis: the parser either returns a Submission or raises one
SubmissionFormatError, and intake either accepts or rejects with a report; neither ever raises anything else,
and each document is judged quickly. A fixed example budget keeps CI fast."""

from __future__ import annotations

import copy
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arena_envs.protocol import config_hash
from arena_envs.registry import make_puzzle_set
from arena_leaderboard.intake import reverify
from arena_leaderboard.submission import FORMAT, SubmissionFormatError, parse_document

SETTINGS = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)


def json_like(finite: bool):
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**80), max_value=2**80),
        st.floats(allow_nan=not finite, allow_infinity=not finite),
        st.text(max_size=20),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=8), inner, max_size=5)),
        max_leaves=40,
    )


json_values = json_like(finite=False)  # what Python's json.loads can return, NaN included


@pytest.fixture(scope="module")
def sudoku():
    return make_puzzle_set("arena/SudokuExtreme-v0", split="test")


def _valid_doc(puzzle_set, answers):
    agent = {"name": "fuzz", "kind": "baseline", "config": {}, "config_hash": config_hash("fuzz", {})}
    return {
        "format": FORMAT,
        "env_id": puzzle_set.env_id,
        "split": puzzle_set.split,
        "data_source": puzzle_set.source,
        "data_fingerprint": puzzle_set.fingerprint,
        "k": 1,
        "agent": agent,
        "candidates": [
            {"puzzle_id": p.id, "sample_index": 0, "answer": a} for p, a in zip(puzzle_set.puzzles, answers)
        ],
    }


def _paths(doc, prefix=()):
    """Every (path, value) in a JSON document."""
    yield prefix, doc
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, (*prefix, i))


@SETTINGS
@given(doc=json_values)
def test_the_parser_refuses_any_json_that_is_not_a_submission_with_one_error(doc):
    with pytest.raises(SubmissionFormatError):
        parse_document(doc)


@SETTINGS
@given(data=st.data())
def test_a_submission_with_any_field_replaced_parses_or_fails_cleanly_and_intake_never_raises(
    data, sudoku, track_index
):
    answers = [sudoku.label(p).tolist() for p in sudoku.puzzles[:3]]
    doc = _valid_doc(sudoku, answers)
    paths = [p for p, _ in _paths(doc) if p]
    path = data.draw(st.sampled_from(paths))
    mutated = copy.deepcopy(doc)
    target = mutated
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = data.draw(json_values)
    started = time.perf_counter()
    try:
        submission = parse_document(mutated)
    except SubmissionFormatError:
        return
    report = reverify(submission, track_index)  # accepted or rejected with problems, never an exception
    assert report.accepted or report.problems
    assert time.perf_counter() - started < 30


@SETTINGS
@given(answers=st.lists(json_like(finite=True), min_size=3, max_size=3))
def test_any_answers_are_judged_and_none_is_called_correct_by_accident(answers, sudoku, track_index):
    report = reverify(parse_document(_valid_doc(sudoku, answers)), track_index)
    assert report.accepted and report.summary.n_missing == 997  # the manifest's other puzzles
    assert report.summary.pass_at_1 == 0.0  # random JSON never solves a Sudoku
