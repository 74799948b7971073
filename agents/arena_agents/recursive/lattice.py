"""Puzzles as candidate-set lattices, the state of the Lattice Deduction Transformer (LDT).

A lattice is a boolean array [N, S, C]: for each of the S cells, which of its C candidate values are still
alive. Deduction only ever removes bits; a cell with no bit left is a contradiction, a cell with one bit is
decided. The lattice of a puzzle starts with every value alive where the puzzle leaves a choice; givens are
single bits that nothing may remove.

Sudoku (size s): C = s digits; a blank cell starts as all s bits, a given digit d as bit d-1.
Maze (n x n): C = 5 channels in the grid's code order (code - 1): wall, free, start, goal, path; walls, start
and goal are given single bits, every open cell starts as {free, path}, and the answer marks the path.

Snowflake Sudoku (up to n hexagons): the cells laid out as n rows (hexagons) of 6 (triangles), so the model's
learned row and column embeddings are the hexagon and the triangle's direction; C = 7: the 6 digits, then
"no such cell", the given single bit of every slot beyond a smaller board's 6n cells. The model is never told the
groups: like the published LDT, it learns the rules from solved puzzles.

A codec also maps a decided lattice back to a grid the env verifies, and gives the solutions' lattices for
training (``solutions``): Sudoku has one, the one-hot of its unique solution; a maze has one per shortest
path, since shortest paths are often not unique and the verifier accepts any of them. ``fit`` brings a puzzle's
grid to the codec's fixed ``grid_shape`` (a smaller Snowflake board is padded) and ``answer`` cuts a decoded
grid back to the puzzle's own shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from arena_agents.recursive.data import Dihedral, SudokuSymmetry, random_symmetry
from arena_envs.config import ConfigError
from arena_envs.maze.grid import OPEN, PATH
from arena_envs.maze.search import shortest_paths
from arena_envs.protocol import Puzzle
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

    def fit(self, grid: np.ndarray) -> np.ndarray: ...  # a puzzle's grid -> the codec's grid_shape

    def answer(self, decoded: np.ndarray, puzzle_grid: np.ndarray) -> np.ndarray: ...  # decoded -> the puzzle's shape

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


class _OneShape:
    """A codec of one grid shape: every puzzle already has it, and an answer is the decoded grid itself."""

    grid_shape: tuple[int, int]

    def fit(self, grid: np.ndarray) -> np.ndarray:
        if tuple(np.shape(grid)) != self.grid_shape:
            raise ValueError(f"a {np.shape(grid)} grid is not {self.grid_shape}")
        return np.asarray(grid)

    def answer(self, decoded: np.ndarray, puzzle_grid: np.ndarray) -> np.ndarray:
        return decoded.astype(np.asarray(puzzle_grid).dtype)


@dataclass(frozen=True)
class SudokuLattice(_OneShape):
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
class MazeLattice(_OneShape):
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


@dataclass(frozen=True)
class DigitRelabel:
    """Snowflake's symmetry for augmentation: the digits 1-6 relabelled; blanks (0) and padding (-1) stay."""

    digits: np.ndarray  # [7]: new value of each old value 0..6 (digits[0] == 0)

    def apply(self, grids: np.ndarray) -> np.ndarray:
        g = np.asarray(grids)
        return np.where(g > 0, self.digits[np.clip(g, 0, 6)], g).astype(g.dtype)

    def invert(self, grids: np.ndarray) -> np.ndarray:
        g = np.asarray(grids)
        return np.where(g > 0, np.argsort(self.digits)[np.clip(g, 0, 6)], g).astype(g.dtype)


@dataclass(frozen=True)
class SnowflakeLattice:
    hexagons: int = 8  # the largest board it takes: n rows of 6 cells
    family: str = "snowflake"
    channels: int = 7  # digits 1-6, then "no such cell"
    digits: int = 6

    @property
    def grid_shape(self) -> tuple[int, int]:
        return (self.hexagons, 6)

    def fit(self, grid: np.ndarray) -> np.ndarray:
        """A board's cell vector [6n] -> [hexagons, 6], -1 in the slots of cells it does not have."""
        flat = np.asarray(grid).ravel()
        if flat.size % 6 or flat.size > 6 * self.hexagons:
            raise ValueError(f"a board of {flat.size} cells does not fit {self.hexagons} hexagons of 6")
        out = np.full(6 * self.hexagons, -1, dtype=np.int8)
        out[: flat.size] = flat
        return out.reshape(self.grid_shape)

    def answer(self, decoded: np.ndarray, puzzle_grid: np.ndarray) -> np.ndarray:
        return np.asarray(decoded).ravel()[: np.asarray(puzzle_grid).size].astype(np.asarray(puzzle_grid).dtype)

    def _flat(self, grids: np.ndarray) -> np.ndarray:
        g = np.asarray(grids, dtype=np.int64)
        return g.reshape(g.shape[0], 6 * self.hexagons)

    def initial(self, grids: np.ndarray) -> np.ndarray:
        flat = self._flat(grids)
        values = np.where(flat < 0, self.digits, flat - 1)  # padding -> the "no such cell" channel
        return np.where((flat != 0)[..., None], _one_hot(values, self.channels), np.arange(self.channels) < 6)

    def givens(self, grids: np.ndarray) -> np.ndarray:
        return self._flat(grids) != 0

    def solutions(self, question: np.ndarray, answer: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
        """The unique solution's one-hot lattice [1, S, C] (padding: "no such cell")."""
        flat = self._flat(answer[None])
        return _one_hot(np.where(flat < 0, self.digits, flat - 1), self.channels)

    def decode(self, lattice: np.ndarray) -> np.ndarray:
        lat = np.asarray(lattice, dtype=bool)
        single = lat.sum(-1) == 1
        value = lat.argmax(-1)
        cells = np.where(single, np.where(value == self.digits, -1, value + 1), 0)
        return cells.reshape(lat.shape[0], *self.grid_shape).astype(np.int8)

    def extra_groups(self) -> tuple[tuple[int, ...], ...]:
        """The meeting points of the largest board (its hexagons are the layout's rows): the model's ``groups``."""
        from arena_envs.snowflake.topology import snowflake

        return tuple(tuple(int(c) for c in g) for g in snowflake(self.hexagons).groups[self.hexagons :])

    def random_transform(self, rng: np.random.Generator) -> DigitRelabel:
        return DigitRelabel(np.concatenate([[0], rng.permutation(6) + 1]))

    def cell_permutations(self) -> np.ndarray:
        return np.arange(6 * self.hexagons)[None]  # the ring layout has no symmetry that all its sizes share

    @property
    def permute_channels(self) -> bool:
        return False  # "no such cell" is not a digit; digit relabelling is done on the puzzles (random_transform)


def codec_shape(puzzles: Sequence[Puzzle]) -> tuple[int, ...]:
    """The grid shape a codec needs for these puzzles: a Snowflake codec holds the largest board (n rows of 6);
    the grid families' puzzles share one shape."""
    if puzzles[0].family == "snowflake":
        return (max(int(p.meta["hexagons"]) for p in puzzles), 6)
    return tuple(puzzles[0].grid.shape)


def lattice_codec_for(family: str, grid_shape: tuple[int, ...]) -> LatticeCodec:
    """The lattice codec of a puzzle family at a grid size (Snowflake: (largest n, 6))."""
    if family == "sudoku":
        return SudokuLattice(int(grid_shape[-1]))
    if family == "maze":
        return MazeLattice(int(grid_shape[-1]))
    if family == "snowflake":
        return SnowflakeLattice(int(grid_shape[0]))
    raise ConfigError(f"LDT has no candidate lattice for the {family!r} family yet")
