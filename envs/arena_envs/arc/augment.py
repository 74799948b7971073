"""ARC augmentations with exact inverses: the 8 dihedral transforms x colour permutations that keep 0.

(Translations live in token space, see ``tokens.encode(offset=...)``: moving a grid inside the 30x30 canvas
pads with PAD tokens, which are not a colour, whereas padding a grid would invent colour-0 cells.)
A prediction made on an augmented task maps back with :meth:`ArcTransform.invert`; voting over de-augmented
predictions is in ``vote.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COLOURS = 10


@dataclass(frozen=True, eq=False)
class ArcTransform:
    dihedral: int  # 0..7: rotate by (dihedral % 4) quarter turns, then transpose-flip when dihedral >= 4
    colours: np.ndarray  # [10] new colour of each old colour; colours[0] == 0

    def __post_init__(self) -> None:
        c = np.asarray(self.colours)
        if not 0 <= self.dihedral < 8 or sorted(c.tolist()) != list(range(COLOURS)) or c[0] != 0:
            raise ValueError("dihedral must be 0..7 and colours a permutation of 0..9 that keeps 0")

    def apply(self, grid: np.ndarray) -> np.ndarray:
        g = np.rot90(np.asarray(grid), self.dihedral % 4)
        if self.dihedral >= 4:
            g = g.T
        return np.asarray(self.colours)[g].astype(np.int8)

    def invert(self, grid: np.ndarray) -> np.ndarray:
        g = np.argsort(self.colours)[np.asarray(grid)]
        if self.dihedral >= 4:
            g = g.T
        return np.rot90(g, -(self.dihedral % 4)).astype(np.int8)

    @staticmethod
    def identity() -> ArcTransform:
        return ArcTransform(0, np.arange(COLOURS))


def random_transform(rng: np.random.Generator, *, dihedral: bool = True, colours: bool = True) -> ArcTransform:
    d = int(rng.integers(8)) if dihedral else 0
    perm = np.concatenate([[0], rng.permutation(np.arange(1, COLOURS))]) if colours else np.arange(COLOURS)
    return ArcTransform(d, perm)
