"""A DPLL-style Sudoku solver on candidate bitmasks, compiled with numba, for any box shape.

State: one int32 bitmask of candidates per cell (bit d-1 set = digit d still possible).

Propagation (repeated until nothing changes), the deductions tdoku's DPLL solver also makes:
  * naked singles: a cell with one candidate removes it from its peers;
  * hidden singles: a digit with one possible cell in a unit goes there;
  * locked candidates (tdoku's "triads"): a digit confined to one row/column inside a box is removed
    from the rest of that row/column, and a digit confined to one box inside a row/column is removed
    from the rest of that box.
An empty cell, or a digit with no place in a unit, is a contradiction.

Branching: the first cell (row-major) with the fewest candidates; the lowest digit is tried first
(``seed=None``) or a random one (with a seed). Trying a value is a *guess*; when it fails, the value is
removed from the parent and propagation continues there, so the last remaining value of a cell is a
deduction, not a guess. The **rating** of a puzzle is the number of guesses made before the first
solution is found — the meaning of the ``rating`` column of Sudoku-Extreme (tdoku counts the same
thing; its branching order differs in details, see README).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numba import njit

from arena_envs.sudoku.shape import SudokuShape


@dataclass(frozen=True)
class SolveResult:
    solution: np.ndarray | None  # int8 [s, s]; None when unsolvable or the budget ran out
    guesses: int  # branch decisions taken (see module docstring)
    nodes: int  # propagation calls (search nodes)
    exhausted: bool  # stopped by max_nodes before finding a solution
    unsolvable: bool  # proved to have no solution


@lru_cache(maxsize=8)
def tables(shape: SudokuShape) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index tables for the compiled search, as int64 arrays.

    ``peers`` [cells, P]: the cells sharing a unit with each cell. ``units`` [3s, s]: rows, then
    columns, then boxes. ``lines`` [K, 3, s]: for every non-empty (box, row/column) intersection, the
    cells of the intersection, the rest of the box, and the rest of the line (each padded with -1).
    """
    s, br, bc = shape.size, shape.box_rows, shape.box_cols
    idx = np.arange(s * s).reshape(s, s)
    units = []
    units += [idx[r, :] for r in range(s)]
    units += [idx[:, c] for c in range(s)]
    for b in range(s):
        r0, c0 = (b // (s // bc)) * br, (b % (s // bc)) * bc
        units.append(idx[r0 : r0 + br, c0 : c0 + bc].ravel())
    units_arr = np.asarray(units, dtype=np.int64)
    peers = []
    for cell in range(s * s):
        r, c = divmod(cell, s)
        b = (r // br) * (s // bc) + c // bc
        group = set(units_arr[r]) | set(units_arr[s + c]) | set(units_arr[2 * s + b])
        group.discard(cell)
        peers.append(sorted(group))
    peers_arr = np.asarray(peers, dtype=np.int64)

    def padded(cells: set[int]) -> list[int]:
        return sorted(cells) + [-1] * (s - len(cells))

    lines = []
    for b in range(s):
        box = set(units_arr[2 * s + b].tolist())
        for u in range(2 * s):
            line = set(units_arr[u].tolist())
            inter = box & line
            if inter:
                lines.append([padded(inter), padded(box - inter), padded(line - inter)])
    return peers_arr, units_arr, np.asarray(lines, dtype=np.int64)


@njit(cache=True)
def _popcount(x: int) -> int:
    n = 0
    while x:
        x &= x - 1
        n += 1
    return n


@njit(cache=True)
def _union(cand: np.ndarray, cells: np.ndarray) -> int:
    m = 0
    for c in cells:
        if c >= 0:
            m |= cand[c]
    return m


@njit(cache=True)
def _remove(cand: np.ndarray, cells: np.ndarray, bits: int) -> bool:
    """Clear ``bits`` from ``cells``; True if anything changed."""
    changed = False
    for c in cells:
        if c >= 0 and cand[c] & bits:
            cand[c] &= ~bits
            changed = True
    return changed


@njit(cache=True)
def _propagate(cand: np.ndarray, peers: np.ndarray, units: np.ndarray, lines: np.ndarray, s: int) -> bool:
    """Apply the deductions until a fixpoint. Returns False on a contradiction. Mutates ``cand``."""
    full = (1 << s) - 1
    n_cells = cand.shape[0]
    changed = True
    while changed:
        changed = False
        # naked singles
        for cell in range(n_cells):
            m = cand[cell]
            if m == 0:
                return False
            if m & (m - 1) == 0:
                for p in peers[cell]:
                    if cand[p] & m:
                        cand[p] &= ~m
                        if cand[p] == 0:
                            return False
                        changed = True
        if changed:
            continue
        # hidden singles: digits seen exactly once in a unit; a digit seen nowhere is a contradiction
        for u in range(units.shape[0]):
            once = 0
            twice = 0
            for cell in units[u]:
                twice |= once & cand[cell]
                once |= cand[cell]
            if once != full:
                return False
            singles = once & ~twice
            if singles:
                for cell in units[u]:
                    hit = cand[cell] & singles
                    if hit:
                        if hit & (hit - 1):
                            return False  # two digits need this very cell
                        if cand[cell] != hit:
                            cand[cell] = hit
                            changed = True
        if changed:
            continue
        # locked candidates (box/line intersections)
        for k in range(lines.shape[0]):
            inter = _union(cand, lines[k, 0])
            box_rest = _union(cand, lines[k, 1])
            line_rest = _union(cand, lines[k, 2])
            pointing = inter & ~box_rest  # confined to the intersection within the box
            if pointing & line_rest:
                changed |= _remove(cand, lines[k, 2], pointing)
            claiming = inter & ~line_rest  # confined to the intersection within the line
            if claiming & box_rest:
                changed |= _remove(cand, lines[k, 1], claiming)
    return True


@njit(cache=True)
def _choose_cell(cand: np.ndarray, randomise: bool) -> int:
    """The first cell with the fewest (>1) candidates, or a random one among them; -1 when all fixed."""
    best, best_n, ties = -1, 1 << 30, 0
    for cell in range(cand.shape[0]):
        n = _popcount(cand[cell])
        if n > 1:
            if n < best_n:
                best, best_n, ties = cell, n, 1
            elif n == best_n and randomise:
                ties += 1
                if np.random.randint(ties) == 0:  # reservoir sampling over tied cells
                    best = cell
    return best


@njit(cache=True)
def _pick_value(mask: int, randomise: bool) -> int:
    if not randomise:
        return mask & -mask
    k = np.random.randint(_popcount(mask))
    while k:
        mask &= mask - 1
        k -= 1
    return mask & -mask


@njit(cache=True)
def _search(
    cand0: np.ndarray,
    peers: np.ndarray,
    units: np.ndarray,
    lines: np.ndarray,
    s: int,
    limit: int,
    max_nodes: int,
    seed: int,
    out: np.ndarray,
) -> tuple[int, int, int, bool]:
    """Depth-first search. Returns (solutions found up to ``limit``, guesses before the first, nodes, exhausted).

    ``out`` [m, cells]: row j receives the masks of the (j+1)-th solution found, for j < m.
    """
    randomise = seed >= 0
    if randomise:
        np.random.seed(seed)
    n_cells = cand0.shape[0]
    stack = np.empty((n_cells + 2, n_cells), dtype=np.int32)
    stack[0] = cand0
    depth = 0
    nodes = 1
    guesses = 0
    first_guesses = -1
    found = 0
    ok = _propagate(stack[0], peers, units, lines, s)
    while True:
        if ok:
            cell = _choose_cell(stack[depth], randomise)
            if cell < 0:  # every cell fixed and consistent: a solution
                if found == 0:
                    first_guesses = guesses
                if found < out.shape[0]:
                    out[found] = stack[depth]
                found += 1
                if found >= limit:
                    return found, first_guesses, nodes, False
                ok = False
            else:
                if max_nodes > 0 and nodes >= max_nodes:
                    return found, first_guesses if found else guesses, nodes, True
                value = _pick_value(stack[depth, cell], randomise)
                # parent keeps the alternative (value removed); child tries the value
                stack[depth + 1] = stack[depth]
                stack[depth, cell] &= ~value
                stack[depth + 1, cell] = value
                depth += 1
                guesses += 1
                nodes += 1
                ok = _propagate(stack[depth], peers, units, lines, s)
                continue
        # backtrack: return to the parent, whose alternative is now a deduction
        if depth == 0:
            return found, first_guesses if found else guesses, nodes, False
        if max_nodes > 0 and nodes >= max_nodes:
            return found, first_guesses if found else guesses, nodes, True
        depth -= 1
        nodes += 1
        ok = _propagate(stack[depth], peers, units, lines, s)


def _to_mask(grid: np.ndarray, s: int) -> np.ndarray:
    full = (1 << s) - 1
    flat = grid.astype(np.int64).ravel()
    return np.where(flat == 0, full, np.left_shift(1, np.maximum(flat - 1, 0))).astype(np.int32)


def _from_mask(mask: np.ndarray, s: int) -> np.ndarray:
    digits = np.zeros(mask.shape, dtype=np.int8)
    for d in range(s):
        digits[mask == (1 << d)] = d + 1
    return digits.reshape(s, s)


def check_grid(grid: np.ndarray, shape: SudokuShape) -> np.ndarray:
    """Validate a puzzle for the solver: shape, integer values 0..s, no clashing givens."""
    arr = np.asarray(grid)
    s = shape.size
    if arr.shape != (s, s):
        raise ValueError(f"expected a {s}x{s} grid for box {shape.box_rows}x{shape.box_cols}, got shape {arr.shape}")
    if arr.dtype.kind not in "iu":
        raise ValueError(f"expected an integer grid, got dtype {arr.dtype}")
    if arr.min() < 0 or arr.max() > s:
        raise ValueError(f"grid values must lie in 0..{s} (0 = blank)")
    _, units, _ = tables(shape)
    flat = arr.ravel()
    for u, cells in enumerate(units):
        vals = flat[cells]
        vals = vals[vals > 0]
        if len(vals) != len(np.unique(vals)):
            kind = ("row", "column", "box")[u // s]
            raise ValueError(f"the givens repeat a digit in {kind} {u % s + 1}")
    return arr


def solve(
    grid: np.ndarray, box_rows: int = 3, box_cols: int = 3, *, max_nodes: int = -1, seed: int | None = None
) -> SolveResult:
    """Find the first solution (deterministic with ``seed=None``; random branching with a seed)."""
    shape = SudokuShape(box_rows, box_cols)
    arr = check_grid(grid, shape)
    peers, units, lines = tables(shape)
    s = shape.size
    out = np.zeros((1, s * s), dtype=np.int32)
    seed_int = -1 if seed is None else int(seed) % (2**31 - 1)
    found, guesses, nodes, exhausted = _search(_to_mask(arr, s), peers, units, lines, s, 1, max_nodes, seed_int, out)
    return SolveResult(
        solution=_from_mask(out[0], s) if found else None,
        guesses=int(guesses),
        nodes=int(nodes),
        exhausted=bool(exhausted),
        unsolvable=not found and not exhausted,
    )


def count_solutions(grid: np.ndarray, limit: int = 2, box_rows: int = 3, box_cols: int = 3) -> int:
    """Number of solutions, counting stops at ``limit`` (2 answers "is it unique?")."""
    shape = SudokuShape(box_rows, box_cols)
    arr = check_grid(grid, shape)
    peers, units, lines = tables(shape)
    s = shape.size
    out = np.zeros((1, s * s), dtype=np.int32)
    found, _, _, _ = _search(_to_mask(arr, s), peers, units, lines, s, limit, -1, -1, out)
    return int(found)


def rating(grid: np.ndarray, box_rows: int = 3, box_cols: int = 3) -> int:
    """Guesses of the deterministic search before its first solution (Sudoku-Extreme's ``rating``)."""
    result = solve(grid, box_rows, box_cols)
    if result.solution is None:
        raise ValueError("the puzzle has no solution, so it has no rating")
    return result.guesses


@njit(cache=True)
def _solve_many(
    masks: np.ndarray, peers: np.ndarray, units: np.ndarray, lines: np.ndarray, s: int, max_nodes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n = masks.shape[0]
    out = np.zeros_like(masks)
    guesses = np.zeros(n, dtype=np.int64)
    nodes = np.zeros(n, dtype=np.int64)
    found = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        f, g, nd, _ = _search(masks[i].copy(), peers, units, lines, s, 1, max_nodes, -1, out[i : i + 1])
        found[i] = f > 0
        guesses[i] = g
        nodes[i] = nd
    return out, guesses, nodes, found


def solve_batch(
    grids: np.ndarray, box_rows: int = 3, box_cols: int = 3, *, max_nodes: int = -1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Solve N puzzles in one compiled loop: (solutions int8 [N,s,s] (0s where none), guesses [N], found [N])."""
    shape = SudokuShape(box_rows, box_cols)
    arr = np.asarray(grids)
    if arr.ndim != 3:
        raise ValueError(f"expected grids of shape [N, s, s], got {arr.shape}")
    for g in arr:
        check_grid(g, shape)
    s = shape.size
    peers, units, lines = tables(shape)
    masks = np.stack([_to_mask(g, s) for g in arr]) if len(arr) else np.zeros((0, s * s), np.int32)
    out, guesses, _, found = _solve_many(masks, peers, units, lines, s, max_nodes)
    sols = np.stack([_from_mask(m, s) for m in out]) if len(arr) else np.zeros((0, s, s), np.int8)
    sols[~found] = 0
    return sols, guesses, found


def rating_batch(grids: np.ndarray, box_rows: int = 3, box_cols: int = 3) -> np.ndarray:
    _, guesses, found = solve_batch(grids, box_rows, box_cols)
    if not found.all():
        raise ValueError(f"puzzle {int(np.argmin(found))} has no solution, so it has no rating")
    return guesses
