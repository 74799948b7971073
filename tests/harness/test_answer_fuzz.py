"""Every verifier, fed anything: it never raises, single and batch verdicts agree, and the stored form of an
answer (``encode_answer``) re-verifies to the verdict the harness recorded. Hypothesis draws the answers
(nested lists of ints, huge ints, floats with NaN, booleans, strings, ragged shapes, arrays of every dtype,
masked arrays, objects whose ``__array__`` raises) with a fixed example budget so CI stays fast."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arena_envs.config import DataError
from arena_envs.registry import make_puzzle_set
from arena_harness.records import decode_answer, encode_answer

SETS = {
    "sudoku": ("arena/SudokuExtreme-v0", {"split": "test"}),
    "maze": ("arena/MazeHard-v0", {"split": "test"}),
    "arc": ("arena/ARC-AGI-1-v0", {"split": "evaluation"}),
    "ppbench": ("arena/PPBench-v0", {"split": "golden_30"}),
}
EXAMPLES = {"sudoku": 150, "maze": 150, "arc": 150, "ppbench": 40}  # PPBench verifies through Node: fewer


class ArrayRaises:
    def __array__(self, *args, **kwargs):
        raise RuntimeError("no array here")

    def __repr__(self) -> str:
        return "ArrayRaises()"


@pytest.fixture(scope="module", params=sorted(SETS))
def puzzle_set(request):
    env, options = SETS[request.param]
    try:
        ps = make_puzzle_set(env, **options)
    except DataError as exc:
        if request.param != "ppbench":
            raise
        pytest.skip(f"{env} cannot load here (it needs the ppbench package and Node): {exc}")
    return request.param, ps


scalars = st.one_of(
    st.integers(-20, 20),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=12),
    st.none(),
)
nested = st.recursive(scalars, lambda inner: st.lists(inner, max_size=6), max_leaves=60)


@st.composite
def grid_like(draw, shape: tuple[int, ...]):
    """Arrays near the puzzle's own shape, in every dtype an agent might return."""
    dims = tuple(max(0, d + draw(st.integers(-1, 1))) if draw(st.booleans()) else d for d in shape)
    dtype = draw(st.sampled_from([np.int64, np.int8, np.uint8, np.uint64, np.float64, np.float32, np.bool_]))
    if dtype is np.uint64:
        values = draw(st.sampled_from([0, 1, 5, 2**63 + 3, 2**64 - 1]))
        arr = np.full(dims, values, dtype=np.uint64)
    elif np.issubdtype(dtype, np.floating):
        arr = np.full(dims, draw(st.sampled_from([1.0, 2.5, np.nan, np.inf, -3.0])), dtype=dtype)
    else:
        arr = np.full(dims, draw(st.integers(0, 9)), dtype=dtype)
    if draw(st.booleans()):
        arr = np.ma.masked_array(arr, mask=np.zeros(arr.shape, bool))
    return arr


def answers_for(puzzle):
    shape = tuple(np.asarray(puzzle.grid).shape)
    return st.one_of(
        nested,
        grid_like(shape),
        st.lists(grid_like(shape), max_size=3),
        st.lists(st.text(max_size=30), max_size=5),
        st.just(ArrayRaises()),
        st.just({"not": "a grid"}),
        st.just(np.zeros(shape, dtype=complex)),
        st.just(np.array([1, "a"], dtype=object)),
    )


def _key(verdict):
    return (verdict.ok, verdict.abstained, verdict.reason)


def test_verifiers_never_raise_and_stored_answers_reverify_to_the_same_verdict(puzzle_set):
    name, ps = puzzle_set
    puzzle = next(iter(ps.puzzles))
    label = ps.label(puzzle)

    @settings(
        max_examples=EXAMPLES[name],
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(answer=answers_for(puzzle))
    def check(answer):
        single = ps.verify(puzzle, answer)
        batch = ps.verify_batch([puzzle, puzzle], [answer, label])
        assert _key(batch[0]) == _key(single)  # single and batch paths agree
        assert batch[1].ok
        text = encode_answer(answer)
        if answer is None:
            assert text is None
            return
        json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
        stored = decode_answer(text)
        assert encode_answer(stored) == text  # the stored form is a fixed point
        assert _key(ps.verify(puzzle, stored)) == _key(ps.verify(puzzle, decode_answer(encode_answer(stored))))

    check()


LEGIT = {
    # answers agents really return, whose stored form must verify exactly like the original
    "sudoku": lambda label: [label, label.tolist(), label.astype(np.int8), label.astype(float)],
    "maze": lambda label: [label, label.tolist(), "".join("# SGo"[v - 1] for v in label.ravel())],
    "arc": lambda label: [label, [g.tolist() for g in label], tuple(label)],
    "ppbench": lambda label: [label, "\n".join(label), tuple(label)],
}


def test_every_answer_form_an_env_accepts_is_stored_faithfully(puzzle_set):
    """The documented text forms (a Maze as its 900 characters, PPBench moves one per line) and arrays of any
    integer type are stored untruncated and re-verify as solved; a NaN grid stays a NaN grid."""
    name, ps = puzzle_set
    puzzle = next(iter(ps.puzzles))
    label = ps.label(puzzle)
    for form in LEGIT[name](label):
        assert ps.verify(puzzle, form).ok, (name, type(form))
        assert ps.verify(puzzle, decode_answer(encode_answer(form))).ok, (name, type(form))
    with_nan = np.full(np.asarray(puzzle.grid).shape, np.nan)
    text = encode_answer(with_nan)
    assert "NaN" not in text and np.isnan(np.asarray(decode_answer(text), dtype=float)).all()
