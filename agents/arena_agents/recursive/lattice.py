"""Puzzles as candidate-set lattices, the state of the Lattice Deduction Transformer (LDT).

A lattice is a boolean array [N, S, C]: for each of the S cells, which of its C candidate values are still
alive. Deduction only ever removes bits; a cell with no bit left is a contradiction, a cell with one bit is
decided. The lattice of a puzzle starts with every value alive where the puzzle leaves a choice; givens are
single bits that nothing may remove.

Sudoku (size s): C = s digits; a blank cell starts as all s bits, a given digit d as bit d-1.
Maze (n x n): C = 5 channels in the grid's code order (code - 1): wall, free, start, goal, path; walls, start
and goal are given single bits, every open cell starts as {free, path}, and the answer marks the path.

A codec also maps a decided lattice back to a grid the env verifies, and gives the solutions' lattices for
training (``solutions``): Sudoku has one, the one-hot of its unique solution; a maze has one per shortest
path, since shortest paths are often not unique and the verifier accepts any of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from arena_agents.recursive.data import Dihedral, SudokuSymmetry, random_symmetry
from arena_envs.config import ConfigError
from arena_envs.maze.grid import OPEN, PATH
from arena_envs.maze.search import shortest_paths
from arena_envs.sudoku.shape import SudokuShape


class LatticeCodec(Protocol):
    """How a puzzle family becomes candidate lattices, and decided lattices become answers."""

    family: str
    grid_shape: tuple[int, int]
    channels: int  # C

    def initial(self, grids: np.ndarray) -> np.ndarray: ...  # [N, *grid] -> bool [N, S, C]

    def givens(self, grids: np.ndarray) -> np.ndarray: ...  # [N, *grid] -> bool [N, S]: cells nothing may change

    def solutions(
        self, question: np.ndarray, answer: np.ndarray, limit: int, rng: np.random.Generator
    ) -> np.ndarray: ...  # one puzzle -> one-hot bool [K, S, C], 1 <= K <= limit: answers the verifier accepts

    def decode(self, lattice: np.ndarray) -> np.ndarray: ...  # bool [N, S, C] -> grids [N, *grid]

    def random_transform(self, rng: np.random.Generator) -> SudokuSymmetry | Dihedral: ...

    def cell_permutations(self) -> np.ndarray: ...  # int [G, S]: grid symmetries as cell permutations

    @property
    def permute_channels(self) -> bool: ...  # whether relabelling the values is a symmetry (Sudoku digits)


def dihedral_cell_permutations(n: int, rotations: tuple[int, ...] = (0, 1, 2, 3)) -> np.ndarray:
    """Cell permutations [G, n*n] of an n x n grid: the given quarter turns, each with and without a
    left-right flip. Row i of the result maps new cell j to old cell perm[j]."""
    grid = np.arange(n * n).reshape(n, n)
    perms = []
    for r in rotations:
        turned = np.rot90(grid, r)
        perms += [turned.ravel(), turned[:, ::-1].ravel()]
    return np.unique(np.stack(perms), axis=0)


def _one_hot(values: np.ndarray, channels: int) -> np.ndarray:
    """values [N, S] in 0..channels-1 -> bool [N, S, C]."""
    return np.arange(channels) == values[..., None]


@dataclass(frozen=True)
class SudokuLattice:
    size: int = 9
    family: str = "sudoku"

    @property
    def grid_shape(self) -> tuple[int, int]:
        return (self.size, self.size)

    @property
    def channels(self) -> int:
        return self.size

    def _flat(self, grids: np.ndarray) -> np.ndarray:
        g = np.asarray(grids, dtype=np.int64)
        return g.reshape(g.shape[0], self.size * self.size)

    def initial(self, grids: np.ndarray) -> np.ndarray:
        flat = self._flat(grids)
        return np.where((flat > 0)[..., None], _one_hot(flat - 1, self.size), True)

    def givens(self, grids: np.ndarray) -> np.ndarray:
        return self._flat(grids) > 0

    def solutions(self, question: np.ndarray, answer: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
        """The unique solution's one-hot lattice [1, S, C]."""
        return _one_hot(self._flat(answer[None]) - 1, self.size)

    def decode(self, lattice: np.ndarray) -> np.ndarray:
        lat = np.asarray(lattice, dtype=bool)
        single = lat.sum(-1) == 1
        digits = np.where(single, lat.argmax(-1) + 1, 0)
        return digits.reshape(lat.shape[0], self.size, self.size).astype(np.int8)

    def random_transform(self, rng: np.random.Generator) -> SudokuSymmetry:
        return random_symmetry(SudokuShape.of_size(self.size), rng)

    def cell_permutations(self) -> np.ndarray:
        """D4 when boxes are square; with oblong boxes (6x6: 2x3) only the half turn and the flips keep them."""
        shape = SudokuShape.of_size(self.size)
        return dihedral_cell_permutations(self.size, (0, 1, 2, 3) if shape.box_rows == shape.box_cols else (0, 2))

    @property
    def permute_channels(self) -> bool:
        return True


@dataclass(frozen=True)
class MazeLattice:
    size: int = 30
    family: str = "maze"
    channels: int = 5  # wall, free, start, goal, path = grid code - 1

    @property
    def grid_shape(self) -> tuple[int, int]:
        return (self.size, self.size)

    def _codes(self, grids: np.ndarray) -> np.ndarray:
        g = np.asarray(grids, dtype=np.int64)
        return g.reshape(g.shape[0], self.size * self.size)

    def initial(self, grids: np.ndarray) -> np.ndarray:
        codes = self._codes(grids)
        free_or_path = np.zeros(self.channels, dtype=bool)
        free_or_path[[OPEN - 1, PATH - 1]] = True
        return np.where((codes == OPEN)[..., None], free_or_path, _one_hot(codes - 1, self.channels))

    def givens(self, grids: np.ndarray) -> np.ndarray:
        return self._codes(grids) != OPEN

    def solutions(self, question: np.ndarray, answer: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
        """One lattice per shortest path [K, S, C]: all of them when there are at most ``limit``, else ``limit``
        drawn uniformly (``shortest_paths``). Path cells hold ``path``, the other open cells ``free``. The
        labelled answer stands alone only if the question has no path at all (never for a valid maze)."""
        codes = self._codes(question[None])[0]
        uniforms = rng.random((limit, codes.size))
        masks = shortest_paths(codes.astype(np.int8), self.size, limit, uniforms)  # [K, S]
        if len(masks) == 0:
            return _one_hot(self._codes(answer[None]) - 1, self.channels)
        open_cell = codes == OPEN
        values = np.where(masks & open_cell, PATH - 1, np.where(open_cell, OPEN - 1, codes - 1))  # [K, S]
        return _one_hot(values, self.channels)

    def decode(self, lattice: np.ndarray) -> np.ndarray:
        lat = np.asarray(lattice, dtype=bool)
        single = lat.sum(-1) == 1
        codes = np.where(single, lat.argmax(-1) + 1, OPEN)  # an undecided open cell stays open
        return codes.reshape(lat.shape[0], self.size, self.size).astype(np.int8)

    def random_transform(self, rng: np.random.Generator) -> Dihedral:
        return Dihedral(int(rng.integers(4)), bool(rng.random() < 0.5))

    def cell_permutations(self) -> np.ndarray:
        return dihedral_cell_permutations(self.size)

    @property
    def permute_channels(self) -> bool:
        return False  # wall, free, start, goal, path are not interchangeable


def lattice_codec_for(family: str, grid_shape: tuple[int, ...]) -> LatticeCodec:
    """The lattice codec of a puzzle family at a grid size."""
    if family == "sudoku":
        return SudokuLattice(int(grid_shape[-1]))
    if family == "maze":
        return MazeLattice(int(grid_shape[-1]))
    raise ConfigError(f"LDT has no candidate lattice for the {family!r} family yet")
