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


@njit(cache=True)
def shortest_paths(grid: np.ndarray, size: int, limit: int, uniforms: np.ndarray) -> np.ndarray:
    """Shortest S-to-G paths of a flat grid as bool masks [K, size*size] of the cells strictly between S and G.

    Shortest paths are often not unique. When there are at most ``limit`` of them this returns all of them
    (K = their number, in a fixed order); otherwise K = ``limit`` paths drawn uniformly at random, with
    duplicates possible: each step moves to a next cell with probability proportional to the number of
    shortest paths that continue through it, reading ``uniforms[k, t]`` (shape [limit, >= L*], in [0, 1)).
    K = 0 when G is unreachable.
    """
    n = size * size
    s, g = find_code(grid, START), find_code(grid, GOAL)
    if s < 0 or g < 0:
        return np.zeros((0, n), dtype=np.bool_)
    from_start, to_goal = bfs(grid, size, s), bfs(grid, size, g)
    length = from_start[g]
    if length < 0:
        return np.zeros((0, n), dtype=np.bool_)
    on_path = (from_start >= 0) & (to_goal >= 0) & (from_start + to_goal == length)
    # count[c]: shortest paths from c to G (floats: on large open grids the count overflows int64)
    count = np.zeros(n, dtype=np.float64)
    for cell in np.argsort(to_goal):
        if not on_path[cell]:
            continue
        if cell == g:
            count[cell] = 1.0
            continue
        for k in range(4):
            nxt = neighbour(cell, k, size)
            if nxt >= 0 and on_path[nxt] and to_goal[nxt] == to_goal[cell] - 1:
                count[cell] += count[nxt]
    enumerate_all = count[s] <= limit
    paths = int(count[s]) if enumerate_all else limit
    masks = np.zeros((paths, n), dtype=np.bool_)
    for p in range(paths):
        # all paths: path number p, read off the counts (its rank); otherwise a draw weighted by the counts
        rank = float(p) if enumerate_all else 0.0
        cell, t = s, 0
        while cell != g:
            if not enumerate_all:
                rank = uniforms[p, t] * count[cell]
            chosen = -1
            for k in range(4):
                nxt = neighbour(cell, k, size)
                if nxt < 0 or not on_path[nxt] or to_goal[nxt] != to_goal[cell] - 1:
                    continue
                chosen = nxt  # the last candidate also absorbs float rounding of the rank
                if rank < count[nxt]:
                    break
                rank -= count[nxt]
            cell, t = chosen, t + 1
            if cell != g:
                masks[p, cell] = True
    return masks
