"""Training data for the recursive models, with the papers' augmentations, streamed (never materialised).

Sudoku (HRM/TRM): every sample is a training puzzle under a fresh random symmetry: digit permutation
(blanks stay blank), transpose (only where boxes are square), a permutation of bands and of the rows
inside each band, and of stacks and the columns inside each stack. The question and the solution get
the same transform, so every augmented pair is a valid puzzle with its solution. Token layout as in
``arena_envs.sudoku.tokens``: PAD 0, blank 1, digit d -> d + 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from arena_envs.sudoku.shape import SudokuShape
from arena_envs.sudoku.tokens import grids_to_tokens


@dataclass(frozen=True)
class SudokuSymmetry:
    """One element of the Sudoku symmetry group used for augmentation."""

    digits: np.ndarray  # [s + 1]: new value of each old value (digits[0] == 0 keeps blanks)
    transpose: bool
    rows: np.ndarray  # [s]: new row r takes old row rows[r]
    cols: np.ndarray  # [s]

    def apply(self, grids: np.ndarray) -> np.ndarray:
        """grids [..., s, s] -> transformed copy."""
        g = self.digits[grids]
        if self.transpose:
            g = np.swapaxes(g, -1, -2)
        return g[..., self.rows, :][..., :, self.cols]


def _nested_permutation(rng: np.random.Generator, groups: int, size: int) -> np.ndarray:
    """Permute the groups (bands or stacks) and the lines inside each group."""
    order = rng.permutation(groups)
    return np.concatenate([g * size + rng.permutation(size) for g in order])


def random_symmetry(shape: SudokuShape, rng: np.random.Generator) -> SudokuSymmetry:
    s, br, bc = shape.size, shape.box_rows, shape.box_cols
    digits = np.concatenate([[0], rng.permutation(s) + 1])
    transpose = br == bc and bool(rng.random() < 0.5)
    rows = _nested_permutation(rng, s // br, br)
    cols = _nested_permutation(rng, s // bc, bc)
    return SudokuSymmetry(digits, transpose, rows, cols)


def sudoku_stream(
    questions: np.ndarray,
    solutions: np.ndarray,
    *,
    seed: int,
    batch_size: int,
    augment: bool = True,
    rank: int = 0,
    world_size: int = 1,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Endless batches of (input tokens [B, s*s], label tokens [B, s*s]) as int64.

    Each process of a data-parallel run draws its own stream (the seed is combined with its rank), so
    ``world_size`` processes with ``batch_size`` each see a global batch of ``world_size * batch_size``.
    """
    questions = np.asarray(questions)
    solutions = np.asarray(solutions)
    shape = SudokuShape.of_size(questions.shape[-1])
    rng = np.random.default_rng(np.random.SeedSequence([seed, rank, world_size]))
    while True:
        idx = rng.integers(len(questions), size=batch_size)
        q, a = questions[idx].copy(), solutions[idx].copy()
        if augment:
            for i in range(batch_size):
                sym = random_symmetry(shape, rng)
                q[i], a[i] = sym.apply(q[i]), sym.apply(a[i])
        yield grids_to_tokens(q), grids_to_tokens(a)
