"""Voting over (de-augmented) predictions, as the HRM/TRM ARC evaluation does it.

Identical grids (same shape and cells) pool their votes; the most voted come first, ties broken by the
higher mean ``q`` (a missing q counts below every real one), then by first appearance. The top two are a test
input's two attempts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from arena_envs.arc.augment import ArcTransform


def vote(predictions: Sequence[tuple[np.ndarray, float | None]], top: int = 2) -> list[np.ndarray]:
    groups: dict[tuple, list] = {}
    for order, (grid, q) in enumerate(predictions):
        g = np.asarray(grid, dtype=np.int8)
        key = (g.shape, g.tobytes())
        entry = groups.setdefault(key, [g, 0, [], order])
        entry[1] += 1
        if q is not None:
            entry[2].append(float(q))

    def rank(entry: list) -> tuple:
        mean_q = float(np.mean(entry[2])) if entry[2] else -np.inf
        return (-entry[1], -mean_q, entry[3])

    return [entry[0] for entry in sorted(groups.values(), key=rank)[:top]]


def deaugment_and_vote(
    predictions: Sequence[tuple[np.ndarray, ArcTransform, float | None]], top: int = 2
) -> list[np.ndarray]:
    """Map every prediction back through the inverse of the augmentation it was made under, then vote."""
    return vote([(transform.invert(grid), q) for grid, transform, q in predictions], top)
