"""Breadth-first search on the 4-connected grid, compiled with numba (single mazes and batches)."""

from __future__ import annotations

import numpy as np
from numba import njit

from arena_envs.maze.grid import GOAL, PATH, START, WALL


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
        r, c = cell // size, cell % size
        for k in range(4):
            rr, cc = r, c
            if k == 0:
                rr -= 1
            elif k == 1:
                cc -= 1
            elif k == 2:
                cc += 1
            else:
                rr += 1
            if rr < 0 or rr >= size or cc < 0 or cc >= size:
                continue
            nxt = rr * size + cc
            if dist[nxt] >= 0 or grid[nxt] == WALL:
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
        r, c = cell // size, cell % size
        for k in range(4):
            rr, cc = r, c
            if k == 0:
                rr -= 1
            elif k == 1:
                cc -= 1
            elif k == 2:
                cc += 1
            else:
                rr += 1
            if 0 <= rr < size and 0 <= cc < size and to_goal[rr * size + cc] == to_goal[cell] - 1:
                cell = rr * size + cc
                break
        out[cell] = PATH
    return out
