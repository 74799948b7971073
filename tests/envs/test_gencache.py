"""The disk cache of generated splits: the same arrays as a fresh generation, keyed by parameters and code,
rebuilt when an entry is damaged, and off with ARENA_NO_CACHE=1."""

from __future__ import annotations

import numpy as np
import pytest

from arena_envs import gencache
from arena_envs.sudoku import generator
from arena_envs.sudoku.data import generated_arrays
from arena_envs.sudoku.shape import SudokuShape

SHAPE = SudokuShape.of_size(4)


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ARENA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("ARENA_NO_CACHE", raising=False)
    return tmp_path / "cache"


def _same(a, b) -> bool:
    return (
        np.array_equal(a.questions, b.questions)
        and np.array_equal(a.solutions, b.solutions)
        and np.array_equal(a.ratings, b.ratings)
        and a.sources == b.sources
        and a.questions.dtype == b.questions.dtype == np.int8
    )


def test_a_second_call_reads_the_entry_and_gets_the_same_arrays(cache, monkeypatch):
    fresh = generated_arrays(SHAPE, 3, 12)
    (entry,) = cache.glob("sudoku-*.npz")
    monkeypatch.setattr(generator, "generate_many", lambda *a, **k: pytest.fail("generated again"))
    assert _same(generated_arrays(SHAPE, 3, 12), fresh)
    assert len(list(cache.iterdir())) == 1  # no temporary file left behind


def test_other_parameters_or_other_code_make_another_entry(cache, tmp_path):
    generated_arrays(SHAPE, 3, 12)
    generated_arrays(SHAPE, 4, 12)
    generated_arrays(SHAPE, 3, 13)
    assert len(list(cache.glob("sudoku-*.npz"))) == 3
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "gen.py").write_text("A = 1\n")
    before = gencache.cache_key("x", {"seed": 1}, package)
    (package / "gen.py").write_text("A = 2\n")
    gencache.code_digest.cache_clear()
    assert gencache.cache_key("x", {"seed": 1}, package) != before


@pytest.mark.parametrize("damage", [b"", b"not an npz file", None])
def test_a_damaged_or_mismatched_entry_is_made_again(cache, damage):
    fresh = generated_arrays(SHAPE, 5, 10)
    (entry,) = cache.glob("sudoku-*.npz")
    if damage is None:  # a readable entry with the wrong number of puzzles
        with np.load(entry) as stored:
            arrays = {k: stored[k][:3] for k in stored.files}
        np.savez(entry, **arrays)
    else:
        entry.write_bytes(damage)
    assert _same(generated_arrays(SHAPE, 5, 10), fresh)
    with np.load(entry) as stored:
        assert len(stored["questions"]) == 10  # replaced by the good entry


def test_the_cache_can_be_turned_off(cache, monkeypatch):
    monkeypatch.setenv("ARENA_NO_CACHE", "1")
    generated_arrays(SHAPE, 6, 8)
    assert not cache.exists()
