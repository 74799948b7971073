"""Breadth-first search on the 4-connected grid, compiled with numba (single mazes and batches)."""

from __future__ import annotations

import numpy as np
from numba import njit

from arena_envs.maze.grid import GOAL, PATH, START, WALL


@njit(cache=True)
def neighbour(cell: int, k: int, size: int) -> int:
    """The k-th 4-neighbour of a flat cell (0 up, 1 left, 2 right, 3 down), or -1 off the grid."""
    r, c = cell // size, cell % size
    if k == 0:
        r -= 1
    elif k == 1:
        c -= 1
    elif k == 2:
        c += 1
    else:
        r += 1
    if r < 0 or r >= size or c < 0 or c >= size:
        return -1
    return r * size + c


@njit(cache=True)
def bfs(grid: np.ndarray, size: int, source: int) -> np.ndarray:
    """Steps from ``source`` to every cell of a flat grid [size*size] (walls and unreachable cells: -1)."""
    n = size * size
    dist = np.full(n, -1, dtype=np.int32)
    queue = np.empty(n, dtype=np.int32)
    dist[source] = 0
    queue[0] = source
    head, tail = 0, 1
    while head < tail:
        cell = queue[head]
        head += 1
        for k in range(4):
            nxt = neighbour(cell, k, size)
            if nxt < 0 or dist[nxt] >= 0 or grid[nxt] == WALL:
                continue
            dist[nxt] = dist[cell] + 1
            queue[tail] = nxt
            tail += 1
    return dist


@njit(cache=True)
def find_code(grid: np.ndarray, code: int) -> int:
    for i in range(grid.shape[0]):
        if grid[i] == code:
            return i
    return -1


@njit(cache=True)
def shortest_lengths(grids: np.ndarray, size: int) -> np.ndarray:
    """L* (steps from S to G) for a batch of flat grids [B, size*size]; -1 when G is unreachable."""
    out = np.full(grids.shape[0], -1, dtype=np.int32)
    for b in range(grids.shape[0]):
        s, g = find_code(grids[b], START), find_code(grids[b], GOAL)
        if s >= 0 and g >= 0:
            out[b] = bfs(grids[b], size, s)[g]
    return out


@njit(cache=True)
def canonical_path(grid: np.ndarray, size: int) -> np.ndarray:
    """The maze with one shortest path marked ``o``: from S, always the first neighbour (up, left, right,
    down) one step closer to G. Returns a copy; unchanged if G is unreachable."""
    out = grid.copy()
    s, g = find_code(grid, START), find_code(grid, GOAL)
    to_goal = bfs(grid, size, g)
    if s < 0 or to_goal[s] < 0:
        return out
    cell = s
    while to_goal[cell] > 1:
        for k in range(4):
            nxt = neighbour(cell, k, size)
            if nxt >= 0 and to_goal[nxt] == to_goal[cell] - 1:
                cell = nxt
                break
        out[cell] = PATH
    return out
