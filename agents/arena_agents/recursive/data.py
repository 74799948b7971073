"""Training data for the recursive models, with the papers' augmentations, streamed (never materialised).

Sudoku (HRM/TRM): every sample is a training puzzle under a fresh random symmetry: digit permutation
(blanks stay blank), transpose (only where boxes are square), a permutation of bands and of the rows
inside each band, and of stacks and the columns inside each stack. The question and the solution get
the same transform, so every augmented pair is a valid puzzle with its solution. Token layout as in
``arena_envs.sudoku.tokens``: PAD 0, blank 1, digit d -> d + 1.

Sampling follows the published trainers' *persistent carry*: a global batch has ``B`` slots, each slot
holds one puzzle until the model halts on it, and only then takes a new one. Here the n-th puzzle a slot
takes is a pure function of (seed, slot, n): which training puzzle, which symmetry, whether it is an
exploration sample. So any split of the slots over data-parallel processes, or a run resumed from a
checkpoint, sees exactly the samples one uninterrupted process would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from arena_envs.config import ConfigError
from arena_envs.protocol import PuzzleSet
from arena_envs.sudoku.shape import SudokuShape
from arena_envs.sudoku.tokens import grids_to_tokens, tokens_to_grids, vocab_size


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

    def invert(self, grids: np.ndarray) -> np.ndarray:
        """The exact inverse of :meth:`apply` (maps a prediction on the transformed puzzle back)."""
        g = np.asarray(grids)[..., np.argsort(self.rows), :][..., :, np.argsort(self.cols)]
        if self.transpose:
            g = np.swapaxes(g, -1, -2)
        return np.argsort(self.digits)[g].astype(np.asarray(grids).dtype)


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


@dataclass(frozen=True)
class Dihedral:
    """One of the 8 rotations/reflections of a square grid (Maze: shortest paths map to shortest paths)."""

    rotations: int  # quarter turns, 0..3
    flip: bool

    def apply(self, grids: np.ndarray) -> np.ndarray:
        g = np.rot90(np.asarray(grids), self.rotations, axes=(-2, -1))
        return np.flip(g, axis=-1).copy() if self.flip else g.copy()

    def invert(self, grids: np.ndarray) -> np.ndarray:
        g = np.flip(np.asarray(grids), axis=-1) if self.flip else np.asarray(grids)
        return np.rot90(g, -self.rotations, axes=(-2, -1)).copy()


class Codec(Protocol):
    """How a puzzle family becomes token sequences for a recursive model, and how predictions come back."""

    family: str
    augment_by_default: bool
    grid_shape: tuple[int, ...]
    vocab_size: int
    seq_len: int

    def encode(self, grids: np.ndarray) -> np.ndarray: ...  # [N, *grid_shape] -> int64 [N, seq_len]

    def decode(self, tokens: np.ndarray) -> np.ndarray: ...  # [N, seq_len] -> [N, *grid_shape]

    def random_transform(self, rng: np.random.Generator) -> SudokuSymmetry | Dihedral: ...


@dataclass(frozen=True)
class SudokuCodec:
    size: int = 9
    family: str = "sudoku"
    augment_by_default: bool = True  # HRM/TRM: 1,000 symmetries of each training puzzle

    @property
    def shape(self) -> SudokuShape:
        return SudokuShape.of_size(self.size)

    @property
    def grid_shape(self) -> tuple[int, ...]:
        return (self.size, self.size)

    @property
    def vocab_size(self) -> int:
        return vocab_size(self.size)

    @property
    def seq_len(self) -> int:
        return self.size * self.size

    def encode(self, grids: np.ndarray) -> np.ndarray:
        return grids_to_tokens(grids)

    def decode(self, tokens: np.ndarray) -> np.ndarray:
        return tokens_to_grids(np.clip(tokens, 0, self.size + 1), self.size)

    def random_transform(self, rng: np.random.Generator) -> SudokuSymmetry:
        return random_symmetry(self.shape, rng)


@dataclass(frozen=True)
class MazeCodec:
    """Maze-Hard in the papers' layout: n*n tokens, PAD 0, '#' 1, ' ' 2, 'S' 3, 'G' 4, 'o' 5 (the grid codes)."""

    size: int = 30
    family: str = "maze"
    augment_by_default: bool = False  # the published Maze recipe trains on the 1,000 mazes as they are

    @property
    def grid_shape(self) -> tuple[int, ...]:
        return (self.size, self.size)

    @property
    def vocab_size(self) -> int:
        return 6

    @property
    def seq_len(self) -> int:
        return self.size * self.size

    def encode(self, grids: np.ndarray) -> np.ndarray:
        g = np.asarray(grids, dtype=np.int64)
        return g.reshape(*g.shape[:-2], self.size * self.size)

    def decode(self, tokens: np.ndarray) -> np.ndarray:
        t = np.asarray(tokens)
        return np.where(t == 0, 2, t).reshape(*t.shape[:-1], self.size, self.size).astype(np.int8)  # PAD -> open

    def random_transform(self, rng: np.random.Generator) -> Dihedral:
        return Dihedral(int(rng.integers(4)), bool(rng.random() < 0.5))


def codec_for(family: str, grid_shape: tuple[int, ...]) -> Codec:
    """The codec of a puzzle family at a grid size; later families (ARC, PPBench) register here."""
    if family == "sudoku":
        return SudokuCodec(int(grid_shape[-1]))
    if family == "maze":
        return MazeCodec(int(grid_shape[-1]))
    raise ConfigError(f"recursive models have no token layout for the {family!r} family yet")


@dataclass(frozen=True)
class TrainingArrays:
    """Questions and solutions of a training split, as grids (no tokens, no copies per augmentation)."""

    questions: np.ndarray  # [N, *grid_shape]
    solutions: np.ndarray  # [N, *grid_shape]
    codec: Codec

    @staticmethod
    def from_puzzle_set(
        puzzle_set: PuzzleSet, codec_factory: Callable[[str, tuple[int, ...]], Codec] | None = None
    ) -> TrainingArrays:
        """The split's questions and solutions, with the codec ``codec_factory`` (default :func:`codec_for`)
        gives for its puzzle family and grid shape."""
        puzzles = list(puzzle_set.puzzles)
        if not puzzles:
            raise ConfigError(f"{puzzle_set.env_id} split {puzzle_set.split!r} has no puzzles to train on")
        labels = [puzzle_set.label(p) for p in puzzles]
        if any(label is None for label in labels):
            raise ConfigError(f"{puzzle_set.env_id} split {puzzle_set.split!r} has puzzles without solutions")
        questions = np.stack([p.grid for p in puzzles])
        codec = (codec_factory or codec_for)(puzzles[0].family, tuple(questions.shape[1:]))
        return TrainingArrays(questions, np.stack(labels), codec)


@dataclass(frozen=True)
class Sample:
    inputs: np.ndarray  # int64 [seq_len]
    labels: np.ndarray  # int64 [seq_len]
    min_steps: int  # exploration: the model may not halt before this many steps (0 = no minimum)


class SlotSampler:
    """The n-th sample of slot g is a pure function of (seed, g, n). See the module docstring."""

    def __init__(self, data: TrainingArrays, *, seed: int, augment: bool, explore_prob: float, max_steps: int) -> None:
        self.data, self.seed, self.augment = data, seed, augment
        self.explore_prob, self.max_steps = explore_prob, max_steps

    def draw(self, slot: int, refill: int) -> Sample:
        rng = np.random.default_rng([self.seed, slot, refill])
        i = int(rng.integers(len(self.data.questions)))
        q, a = self.data.questions[i], self.data.solutions[i]
        if self.augment:
            transform = self.data.codec.random_transform(rng)
            q, a = transform.apply(q), transform.apply(a)
        explore = self.max_steps > 1 and rng.random() < self.explore_prob
        min_steps = int(rng.integers(2, self.max_steps + 1)) if explore else 0
        codec = self.data.codec
        return Sample(codec.encode(q[None])[0], codec.encode(a[None])[0], min_steps)
