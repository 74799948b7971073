"""The board of Snowflake Sudoku: n hexagons of 6 triangular cells, and the groups that must hold 1-6 once each.

Layout (the LDT paper's puzzles, lcrh/lattice-deduction-transformers, whose boards come from the ring layout of
santolucito/snowflakesudoku): hexagon i sits at axial coordinates (q, r), filled ring by ring outward from (0, 0).
Ring k starts at (k, -k) and walks its 6 sides; for n <= 8 the hexagons are

    (0, 0), (1, -1), (0, -1), (-1, 0), (-1, 1), (0, 1), (1, 0), (2, -2)

Hexagons are flat-topped with unit circumradius: the centre of (q, r) is (1.5 q, sqrt(3)/2 q + sqrt(3) r) and
its corners lie at 0, 60, ..., 300 degrees. Hexagon i owns cells 6i .. 6i + 5; cell 6i + j is the triangle
between the centre and corners j and j + 1 (the sector from 60 j to 60 (j + 1) degrees). Cells are never
shared, so a board has 6n cells.

Constraint groups, each exactly 6 cells that must hold the digits 1..6 once:

* every hexagon (its 6 triangles);
* every *meeting point*: a corner where 3 hexagons meet, touched by 2 triangles of each (a corner shared by
  only 2 hexagons touches 4 cells and constrains nothing).

n = 4..8 gives 6, 8, 10, 13, 14 groups. The 8th hexagon, (2, -2), touches the first ring along one edge only, so
it joins no meeting point: only its own hexagon group constrains it (a unique puzzle must give 5 of its cells).
Groups are numbered hexagons first (group i = hexagon i), then meeting points in the order their last hexagon
arrives (then by the corner's y and x), so the meeting points of n hexagons are the first ones of n + 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

DIGITS = 6  # every group holds 1..6
CELLS_PER_HEXAGON = 6
MAX_HEXAGONS = 19  # rings 0..2
SQRT3 = math.sqrt(3.0)


def ring_coordinates(n: int) -> tuple[tuple[int, int], ...]:
    """Axial (q, r) of the first ``n`` hexagons of the ring layout."""
    if not 1 <= n <= MAX_HEXAGONS:
        raise ValueError(f"a snowflake has 1..{MAX_HEXAGONS} hexagons, got {n}")
    coords = [(0, 0)]
    # the 6 steps that walk a ring's sides, starting from its corner (k, -k)
    steps = ((-1, 0), (-1, 1), (0, 1), (1, 0), (1, -1), (0, -1))
    k = 1
    while len(coords) < n:
        q, r = k, -k
        for dq, dr in steps:
            for _ in range(k):
                coords.append((q, r))
                q, r = q + dq, r + dr
        k += 1
    return tuple(coords[:n])


def hexagon_centre(q: int, r: int) -> tuple[float, float]:
    """(x, y) of a flat-topped unit hexagon's centre (y grows upwards)."""
    return 1.5 * q, SQRT3 / 2 * q + SQRT3 * r


def corner(q: int, r: int, j: int) -> tuple[float, float]:
    """Corner ``j`` (at 60 j degrees) of hexagon (q, r)."""
    x, y = hexagon_centre(q, r)
    angle = math.radians(60 * (j % 6))
    return x + math.cos(angle), y + math.sin(angle)


@dataclass(frozen=True, eq=False)
class Snowflake:
    """One board shape. ``groups`` is int64 [G, 6] (cell indices); rows ``0 .. n - 1`` are the hexagons."""

    hexagons: tuple[tuple[int, int], ...]
    groups: np.ndarray
    meeting_points: tuple[tuple[float, float], ...]  # (x, y) of each meeting-point group's corner

    @property
    def n(self) -> int:
        return len(self.hexagons)

    @property
    def cells(self) -> int:
        return CELLS_PER_HEXAGON * self.n

    def group_name(self, g: int) -> str:
        """'hexagon 3' or 'meeting point 2' (1-based, as a person counts)."""
        return f"hexagon {g + 1}" if g < self.n else f"meeting point {g - self.n + 1}"

    def groups_of_cell(self) -> list[list[int]]:
        """For each cell, the groups it belongs to: its hexagon, and the meeting points among the two outer
        corners of its triangle (so 1 to 3 groups)."""
        out: list[list[int]] = [[] for _ in range(self.cells)]
        for g, members in enumerate(self.groups):
            for c in members:
                out[int(c)].append(g)
        return out

    def neighbours(self) -> np.ndarray:
        """bool [C, C]: the cells that share a group with each cell (itself excluded)."""
        peers = np.zeros((self.cells, self.cells), dtype=bool)
        for members in self.groups:
            peers[np.ix_(members, members)] = True
        np.fill_diagonal(peers, False)
        return peers

    def cell_name(self, cell: int) -> str:
        """'h3t5': triangle 5 of hexagon 3 (1-based), the name verdicts and prompts use."""
        return f"h{cell // CELLS_PER_HEXAGON + 1}t{cell % CELLS_PER_HEXAGON + 1}"

    def triangle(self, cell: int) -> tuple[tuple[float, float], tuple[float, float], tuple[float, float]]:
        """The (x, y) corners of a cell's triangle: the hexagon's centre and corners j, j + 1."""
        q, r = self.hexagons[cell // CELLS_PER_HEXAGON]
        j = cell % CELLS_PER_HEXAGON
        return hexagon_centre(q, r), corner(q, r, j), corner(q, r, j + 1)


@lru_cache(maxsize=MAX_HEXAGONS)
def snowflake(n: int) -> Snowflake:
    """The board of ``n`` hexagons (ring layout)."""
    hexagons = ring_coordinates(n)
    groups = [[CELLS_PER_HEXAGON * i + j for j in range(CELLS_PER_HEXAGON)] for i in range(n)]
    # pool the corners (rounded: the same point computed from different hexagons differs in the last bits)
    touching: dict[tuple[float, float], list[int]] = {}  # corner -> the cells (triangles) that touch it
    for i, (q, r) in enumerate(hexagons):
        for j in range(CELLS_PER_HEXAGON):
            x, y = corner(q, r, j)
            key = (round(x, 6) + 0.0, round(y, 6) + 0.0)
            # corner j bounds triangle j - 1 (from the left) and triangle j
            touching.setdefault(key, []).extend([CELLS_PER_HEXAGON * i + (j - 1) % 6, CELLS_PER_HEXAGON * i + j])
    points = sorted(
        (key for key, cells in touching.items() if len(cells) == 6),
        key=lambda p: (max(touching[p]) // CELLS_PER_HEXAGON, p[1], p[0]),
    )
    groups += [sorted(touching[p]) for p in points]
    return Snowflake(hexagons, np.asarray(groups, dtype=np.int64), tuple(points))
