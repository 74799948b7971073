"""tdoku-faithful Sudoku rating and solver: a numba re-implementation of tdoku's DPLL "triad" search.

(``arena_envs.sudoku.solver`` is the simpler cell-branching search the v1 generator used; this module is
the one whose ``rating`` means what the ``rating`` column of Sudoku-Extreme means.)

Why this design: Sudoku-Extreme's ``rating`` column is the number of guesses tdoku's
``solver_dpll_triad_simd`` makes before it finds the first solution. A guess count is only comparable
when the propagation, the branching choice and the order of work are the same, so this module mirrors
that solver's model and message order (scalar numba instead of SIMD; written from a reading of the
algorithm, not a port of its code).

Model (boxes of ``br x bc`` cells, ``s = br * bc``; every set below is a bitmask over the values):

* A **box** holds its cells, one *negative triad* ``H_i`` per minirow (the values *not* in minirow
  ``i``) and one ``V_j`` per minicol. For each value, exactly one of {cells of minirow i, H_i} and
  exactly one of {cells of minicol j, V_j} is true. A cell keeps >= 1 candidate; H_i keeps
  >= s - bc values (a minirow holds bc values), V_j keeps >= s - br. A lane at its minimum is asserted,
  and so is a value left in exactly one lane of a row/column group (naked and hidden singles, box-local).
* A **band** (a row or column of boxes) stores, per value, which of the n! *configurations* are still
  possible: a configuration says in which minirow (minicol) of each of the band's n boxes the value sits.
  Applying eliminations to a band recomputes its positive triads (values that may sit in minirow e of
  box p), asserts once the triads that have exactly as many values as a minirow has cells ("3/" rule),
  and restricts the band's boxes to its triads.
* Boxes and bands exchange elimination messages depth-first in tdoku's order: a box iterates to its own
  fixpoint, then messages its two bands (the one of the other orientation first); a band messages its
  boxes starting after the one that sent to it. The call recursion is replayed with an explicit stack
  (a preorder walk, which is exactly the recursive order because every call's arguments are fixed when
  the caller runs). The order matters because, like tdoku, the propagation is not closed (the "3/" rule
  runs once per band update) so the state a guess sees depends on it.

Branching (tdoku's): the band with the fewest remaining configurations among those not yet fixed
(ties: horizontal bands first, then lowest index); in it the lowest value with exactly 2
configurations, else exactly 3, else the lowest with 4 or more; the value is first tried in its
lowest-numbered configuration — that try is one **guess** — and on failure that configuration is
removed, which is a deduction, not a guess. With a seed the value and configuration are drawn at random
instead (for random full grids and randomised baselines). Configurations of a 3-box band are numbered as
in tdoku (the three cyclic shifts, then the three transpositions), which fixes "lowest-numbered".

``rating(grid)`` is the number of guesses made before the first solution (tdoku's ``num_guesses`` with
``limit=1``). It reproduces the stored ratings of the three public Sudoku-Extreme rows (18, 1, 60).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numba import njit

from arena_envs.sudoku.shape import SudokuShape

# -- geometry vector: scalar facts about a board shape, passed to compiled code as one int64 array ---------
G_S, G_BR, G_BC, G_NH, G_NV, G_LANES, G_P, G_NCH, G_NCV, G_CONF, G_ELIM, G_STATE, G_CAP, G_NBOX = range(14)
N_GEO = 14

_BAND, _BOX = 0, 1  # kinds of queued propagation calls


@dataclass(frozen=True)
class SolveResult:
    solution: np.ndarray | None  # int8 [s, s]; None when unsolvable or the node budget ran out
    guesses: int  # branch decisions before the first solution (all of them when there is none)
    nodes: int  # propagations run: the root plus one per branch taken
    exhausted: bool  # max_nodes ran out before a solution was found
    unsolvable: bool  # the search proved that no solution exists


@dataclass(frozen=True, eq=False)
class Layout:
    """Index tables of one box shape for the compiled search (all int64 except ``pop``)."""

    geo: np.ndarray  # [N_GEO] sizes and offsets, indexed by the G_* constants
    place: np.ndarray  # [2, P, n]: for band orientation, configuration, box peer -> minirow/minicol
    cell_box: np.ndarray  # [s*s, 3]: box, lane (cell within box), minirow i, minicol j -> (box, i, j)
    pop: np.ndarray  # uint8 [2**s]: popcount table


def _configurations(n: int) -> list[tuple[int, ...]]:
    """Configurations of an n-box band: tuple[p] = minirow (minicol) of the value in the band's box p."""
    if n == 3:
        # tdoku's numbering: cyclic shifts first, then the transpositions; "lowest config first" depends on it
        return [(0, 1, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0), (0, 2, 1), (1, 0, 2)]
    return list(itertools.permutations(range(n)))


def _check_shape(box_rows: int, box_cols: int) -> None:
    if not all(isinstance(v, (int, np.integer)) and 2 <= v <= 4 for v in (box_rows, box_cols)):
        raise ValueError(f"box shape must be two integers in 2..4, got ({box_rows!r}, {box_cols!r})")


@lru_cache(maxsize=16)
def layout(box_rows: int = 3, box_cols: int = 3) -> Layout:
    """The compiled search's tables for boxes of ``box_rows x box_cols`` (cached)."""
    _check_shape(box_rows, box_cols)
    br, bc = int(box_rows), int(box_cols)
    s = br * bc
    nh, nv = bc, br  # horizontal bands = rows of boxes (s / br of them); vertical = s / bc
    conf_h, conf_v = _configurations(br), _configurations(bc)  # a row of boxes holds br boxes
    p_max = max(len(conf_h), len(conf_v))
    n_max = max(br, bc)
    place = np.zeros((2, p_max, n_max), np.int64)
    for k, cfg in enumerate(conf_h):
        place[0, k, :br] = cfg
    for k, cfg in enumerate(conf_v):
        place[1, k, :bc] = cfg
    lanes = br * bc + br + bc  # cells, then H_0..H_{br-1}, then V_0..V_{bc-1}
    n_box = s
    n_band = nh + nv
    conf_off = n_box * lanes
    elim_off = conf_off + n_band * p_max
    state = elim_off + n_band * p_max
    # every queued call that does work removes at least one candidate bit and queues at most n_max calls
    cap = (n_box * lanes + n_band * p_max) * s * n_max + 4 * n_band + 8
    geo = np.zeros(N_GEO, np.int64)
    geo[[G_S, G_BR, G_BC, G_NH, G_NV, G_LANES, G_P, G_NCH, G_NCV]] = (
        s,
        br,
        bc,
        nh,
        nv,
        lanes,
        p_max,
        len(conf_h),
        len(conf_v),
    )
    geo[[G_CONF, G_ELIM, G_STATE, G_CAP, G_NBOX]] = conf_off, elim_off, state, cap, n_box
    cell_box = np.zeros((s * s, 3), np.int64)
    for cell in range(s * s):
        r, c = divmod(cell, s)
        cell_box[cell] = ((r // br) * br + c // bc, r % br, c % bc)
    pop = np.array([bin(x).count("1") for x in range(1 << s)], np.uint8)
    for arr in (geo, place, cell_box, pop):
        arr.setflags(write=False)
    return Layout(geo, place, cell_box, pop)


@lru_cache(maxsize=8)
def tables(shape: SudokuShape) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit tables for rule checks elsewhere (verifier, env): ``(peers, units, lines)``, int64.

    ``units`` [3s, s]: rows, then columns, then boxes (box b = row-major). ``peers`` [s*s, 3s-br-bc-1]: the
    other cells sharing a unit with each cell, sorted. ``lines`` [K, 3, s]: for each box/line intersection,
    its cells, the rest of the box and the rest of the line (padded with -1).
    """
    s, br, bc = shape.size, shape.box_rows, shape.box_cols
    idx = np.arange(s * s).reshape(s, s)
    boxes = [idx[r : r + br, c : c + bc].ravel() for r in range(0, s, br) for c in range(0, s, bc)]
    units = np.concatenate([idx, idx.T, np.stack(boxes)]).astype(np.int64)
    member = [set(u.tolist()) for u in units]
    peers = []
    for cell in range(s * s):
        r, c = divmod(cell, s)
        b = (r // br) * br + c // bc
        peers.append(sorted((member[r] | member[s + c] | member[2 * s + b]) - {cell}))

    def pad(cells: set[int]) -> list[int]:
        return sorted(cells) + [-1] * (s - len(cells))

    lines = [
        [pad(member[2 * s + b] & member[u]), pad(member[2 * s + b] - member[u]), pad(member[u] - member[2 * s + b])]
        for b in range(s)
        for u in range(2 * s)
        if member[2 * s + b] & member[u]
    ]
    return np.asarray(peers, np.int64), units, np.asarray(lines, np.int64)


# -- compiled propagation ----------------------------------------------------------------------------------


@njit(cache=True)
def _triads(st: np.ndarray, co: int, ncf: int, place_o: np.ndarray, n: int, tri: np.ndarray) -> None:
    """Positive triads of a band: tri[p, e] = values that may still sit in minirow/minicol e of box p."""
    for p in range(n):
        for e in range(n):
            tri[p, e] = 0
    for k in range(ncf):
        m = st[co + k]
        if m:
            for p in range(n):
                tri[p, place_o[k, p]] |= m


@njit(cache=True)
def _band_step(
    st: np.ndarray,
    vert: int,
    bidx: int,
    frm: int,
    geo: np.ndarray,
    place: np.ndarray,
    pop: np.ndarray,
    tri: np.ndarray,
    calls: np.ndarray,
    masks: np.ndarray,
    top: int,
) -> int:
    """Apply a band's pending eliminations and queue restrictions of its boxes; returns the new stack top."""
    br, bc, p_max, kall = geo[G_BR], geo[G_BC], geo[G_P], (1 << geo[G_S]) - 1
    g = bidx + (geo[G_NH] if vert else 0)
    n = bc if vert else br  # boxes in the band = minicols (minirows) per box
    ncf = geo[G_NCV] if vert else geo[G_NCH]
    width = br if vert else bc  # values one minicol (minirow) holds
    co = geo[G_CONF] + g * p_max
    eo = geo[G_ELIM] + g * p_max
    pending = False
    for k in range(ncf):
        if st[co + k] & st[eo + k]:
            pending = True
    if not pending:  # nothing new for this band: tdoku returns before touching its boxes
        return top
    for k in range(ncf):
        st[co + k] &= ~st[eo + k]
    place_o = place[vert]
    _triads(st, co, ncf, place_o, n, tri)
    # "3/" rule, applied once: a triad with exactly `width` values holds exactly those values, so each of
    # them loses the configurations that put it elsewhere in that box
    for k in range(ncf):
        drop = 0
        for p in range(n):
            own = place_o[k, p]
            for e in range(n):
                if e != own and pop[tri[p, e]] == width:
                    drop |= tri[p, e]
        st[co + k] &= ~drop
    _triads(st, co, ncf, place_o, n, tri)
    lanes, ncell = geo[G_LANES], br * bc
    # queue the boxes in reverse so the box after the sender runs first and the sender last
    for step in range(n - 1, -1, -1):
        p = (frm + 1 + step) % n
        box = p * br + bidx if vert else bidx * br + p
        mask = masks[top]
        for lane in range(lanes):
            mask[lane] = kall
        for i in range(br):
            for j in range(bc):
                mask[i * bc + j] = tri[p, j] if vert else tri[p, i]
        for e in range(n):
            others = 0
            for f in range(n):
                if f != e:
                    others |= tri[p, f]
            # the value is absent from line e exactly when it sits in another line of the box
            mask[ncell + (br + e if vert else e)] = others
        calls[top, 0] = _BOX
        calls[top, 1] = box
        calls[top, 2] = vert
        top += 1
    return top


@njit(cache=True)
def _box_step(
    st: np.ndarray,
    box: int,
    from_vert: int,
    mask: np.ndarray,
    geo: np.ndarray,
    place: np.ndarray,
    pop: np.ndarray,
    asserted: np.ndarray,
    removing: np.ndarray,
    calls: np.ndarray,
    top: int,
) -> int:
    """Restrict a box to ``mask``, iterate its local rules to a fixpoint, queue its two bands.

    Returns the new stack top, or -1 on a contradiction.
    """
    s, br, bc, lanes, p_max = geo[G_S], geo[G_BR], geo[G_BC], geo[G_LANES], geo[G_P]
    kall = (1 << s) - 1
    ncell = br * bc
    bo = box * lanes
    new = False
    for lane in range(lanes):
        removing[lane] = st[bo + lane] & ~mask[lane]
        if removing[lane]:
            new = True
    if not new:
        return top
    b_i, b_j = box // br, box % br  # box row = horizontal band, box column = vertical band
    ho = geo[G_ELIM] + b_i * p_max
    vo = geo[G_ELIM] + (geo[G_NH] + b_j) * p_max
    while True:
        for lane in range(lanes):
            st[bo + lane] &= ~removing[lane]
        # minimums; a lane at its minimum asserts what it has left
        for lane in range(lanes):
            x = st[bo + lane]
            need = 1 if lane < ncell else (s - bc if lane < ncell + br else s - br)
            c = pop[x]
            if c < need:
                return -1
            asserted[lane] = x if c == need else 0
        # a value left in one lane of a group {minirow i, H_i} / {minicol j, V_j} is asserted there
        for i in range(br):
            once = st[bo + ncell + i]
            twice = 0
            for j in range(bc):
                x = st[bo + i * bc + j]
                twice |= once & x
                once |= x
            asserted[ncell + i] |= st[bo + ncell + i] & ~twice
            for j in range(bc):
                asserted[i * bc + j] |= st[bo + i * bc + j] & ~twice
        for j in range(bc):
            once = st[bo + ncell + br + j]
            twice = 0
            for i in range(br):
                x = st[bo + i * bc + j]
                twice |= once & x
                once |= x
            asserted[ncell + br + j] |= st[bo + ncell + br + j] & ~twice
            for i in range(br):
                asserted[i * bc + j] |= st[bo + i * bc + j] & ~twice
        # eliminations inside the box: an asserted cell value leaves the other cells and its lines'
        # negative triads; an asserted cell keeps only what was asserted in it
        boxwide = 0
        for lane in range(ncell):
            boxwide |= asserted[lane]
        for lane in range(ncell):
            a = asserted[lane]
            removing[lane] |= (kall & ~a) if a else boxwide
        for i in range(br):
            row = 0
            for j in range(bc):
                row |= asserted[i * bc + j]
            removing[ncell + i] |= row
            # band messages: an asserted H_i rules out configurations placing the value in minirow i of this
            # box; a value asserted in a cell of minirow i rules out those placing it elsewhere
            neg = asserted[ncell + i]
            for k in range(geo[G_NCH]):
                st[ho + k] |= neg if place[0, k, b_j] == i else row
        for j in range(bc):
            col = 0
            for i in range(br):
                col |= asserted[i * bc + j]
            removing[ncell + br + j] |= col
            neg = asserted[ncell + br + j]
            for k in range(geo[G_NCV]):
                st[vo + k] |= neg if place[1, k, b_i] == j else col
        more = False
        for lane in range(lanes):
            if removing[lane] & st[bo + lane]:
                more = True
        if not more:
            break
    # tdoku messages the band of the other orientation than the sender's first; the stack is LIFO
    first_vert = 0 if from_vert else 1
    for second in range(2):
        v = first_vert if second else 1 - first_vert
        calls[top, 0] = _BAND
        calls[top, 1] = v
        calls[top, 2] = b_j if v else b_i
        calls[top, 3] = b_i if v else b_j
        top += 1
    return top


@njit(cache=True)
def _run_calls(
    st: np.ndarray,
    top: int,
    geo: np.ndarray,
    place: np.ndarray,
    pop: np.ndarray,
    calls: np.ndarray,
    masks: np.ndarray,
    tri: np.ndarray,
    asserted: np.ndarray,
    removing: np.ndarray,
) -> bool:
    """Run queued calls depth-first until none is left; False as soon as a box is contradictory."""
    while top > 0:
        top -= 1
        if calls[top, 0] == _BAND:
            top = _band_step(st, calls[top, 1], calls[top, 2], calls[top, 3], geo, place, pop, tri, calls, masks, top)
        else:
            top = _box_step(
                st, calls[top, 1], calls[top, 2], masks[top], geo, place, pop, asserted, removing, calls, top
            )
            if top < 0:
                return False
    return True


@njit(cache=True)
def _init_state(st: np.ndarray, givens: np.ndarray, geo: np.ndarray, place: np.ndarray, cell_box: np.ndarray) -> None:
    """Everything possible, then each given's box-local and band eliminations (tdoku's InitClue)."""
    s, br, bc, lanes, p_max = geo[G_S], geo[G_BR], geo[G_BC], geo[G_LANES], geo[G_P]
    kall = (1 << s) - 1
    ncell = br * bc
    for x in range(geo[G_STATE]):
        st[x] = 0
    for x in range(geo[G_NBOX] * lanes):
        st[x] = kall
    for g in range(geo[G_NH] + geo[G_NV]):
        ncf = geo[G_NCV] if g >= geo[G_NH] else geo[G_NCH]
        for k in range(ncf):
            st[geo[G_CONF] + g * p_max + k] = kall
    for cell in range(givens.shape[0]):
        d = givens[cell]
        if d == 0:
            continue
        bit = 1 << (d - 1)
        box, i, j = cell_box[cell, 0], cell_box[cell, 1], cell_box[cell, 2]
        bo = box * lanes
        keep = st[bo + i * bc + j] & bit  # empty if an earlier given of this box had the same digit
        for lane in range(ncell):
            st[bo + lane] &= ~bit
        st[bo + i * bc + j] = keep
        st[bo + ncell + i] &= ~bit
        st[bo + ncell + br + j] &= ~bit
        b_i, b_j = box // br, box % br
        ho = geo[G_ELIM] + b_i * p_max
        vo = geo[G_ELIM] + (geo[G_NH] + b_j) * p_max
        for k in range(geo[G_NCH]):
            if place[0, k, b_j] != i:
                st[ho + k] |= bit
        for k in range(geo[G_NCV]):
            if place[1, k, b_i] != j:
                st[vo + k] |= bit


@njit(cache=True)
def _push_initial(geo: np.ndarray, calls: np.ndarray) -> int:
    """tdoku's start-up order: band 0 across, band 0 down, band 1 across, ... each "from" the next box."""
    top = 0
    nh, nv = geo[G_NH], geo[G_NV]
    order = np.empty((nh + nv, 3), np.int64)
    m = 0
    for k in range(max(nh, nv)):
        if k < nh:
            order[m, 0], order[m, 1], order[m, 2] = 0, k, (k + 1) % geo[G_BR]
            m += 1
        if k < nv:
            order[m, 0], order[m, 1], order[m, 2] = 1, k, (k + 1) % geo[G_BC]
            m += 1
    for x in range(m - 1, -1, -1):
        calls[top, 0] = _BAND
        calls[top, 1] = order[x, 0]
        calls[top, 2] = order[x, 1]
        calls[top, 3] = order[x, 2]
        top += 1
    return top


@njit(cache=True)
def _next_random(rng: np.ndarray) -> int:
    """xorshift64* (own generator so seeded searches do not depend on numba's RNG implementation)."""
    x = rng[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    rng[0] = x
    return int((x * np.uint64(2685821657736338717)) >> np.uint64(33))


@njit(cache=True)
def _choose(st: np.ndarray, geo: np.ndarray, pop: np.ndarray, rng: np.ndarray, randomise: bool) -> tuple[int, int, int]:
    """(band, value bit, configuration) to branch on; band -1 when every band is fixed."""
    s, p_max = geo[G_S], geo[G_P]
    best_g, best_c = -1, 1 << 30
    for g in range(geo[G_NH] + geo[G_NV]):
        co = geo[G_CONF] + g * p_max
        c = 0
        for k in range(p_max):
            c += pop[st[co + k]]
        if s < c < best_c:  # more than one configuration per value somewhere: not fixed
            best_g, best_c = g, c
    if best_g < 0:
        return -1, 0, 0
    co = geo[G_CONF] + best_g * p_max
    ncf = geo[G_NCV] if best_g >= geo[G_NH] else geo[G_NCH]
    # tdoku: lowest value with exactly 2 configurations, else exactly 3, else the lowest with 4 or more
    pick, pick_rank, n_open = 0, 4, 0
    for v in range(s):
        bit = 1 << v
        c = 0
        for k in range(ncf):
            if st[co + k] & bit:
                c += 1
        if c < 2:
            continue
        n_open += 1
        if randomise:
            if _next_random(rng) % n_open == 0:  # reservoir sampling: uniform over open values
                pick = bit
        else:
            rank = min(c, 4) - 2
            if rank < pick_rank:
                pick, pick_rank = bit, rank
    first, n_conf = -1, 0
    for k in range(ncf):
        if st[co + k] & pick:
            n_conf += 1
            if first < 0 or (randomise and _next_random(rng) % n_conf == 0):
                first = k
    return best_g, pick, first


@njit(cache=True)
def _extract(st: np.ndarray, geo: np.ndarray, cell_box: np.ndarray, out: np.ndarray) -> bool:
    """Write the digits of a fixed state into ``out`` (flat); False if it is not a valid full grid."""
    s, bc, lanes = geo[G_S], geo[G_BC], geo[G_LANES]
    for cell in range(s * s):
        x = st[cell_box[cell, 0] * lanes + cell_box[cell, 1] * bc + cell_box[cell, 2]]
        if x == 0 or x & (x - 1):
            return False
        d = 1
        while not x & 1:
            x >>= 1
            d += 1
        out[cell] = d
    # a fixed state is a solution by construction; this re-check only guards degenerate states in which an
    # undetected contradiction leaves every band looking fixed (tdoku would count those as solutions)
    br = geo[G_BR]
    full = (1 << s) - 1
    for u in range(s):
        row = col = bx = 0
        for t in range(s):
            row |= 1 << (out[u * s + t] - 1)
            col |= 1 << (out[t * s + u] - 1)
            r = (u // br) * br + t // bc
            c = (u % br) * bc + t % bc
            bx |= 1 << (out[r * s + c] - 1)
        if row != full or col != full or bx != full:
            return False
    return True


@njit(cache=True)
def _search(
    givens: np.ndarray,
    geo: np.ndarray,
    place: np.ndarray,
    pop: np.ndarray,
    cell_box: np.ndarray,
    limit: int,
    max_nodes: int,
    seed: int,
    out: np.ndarray,
) -> tuple[int, int, int, bool]:
    """tdoku's depth-first search, iterative. Returns (solutions found, <= limit; guesses before the first
    solution, or all guesses if none; nodes; budget exhausted). Solution j is written to ``out[j]`` for
    j < len(out). ``seed`` < 0: deterministic branching; otherwise random values and configurations.
    """
    size, p_max = geo[G_STATE], geo[G_P]
    depth_cap = (geo[G_NH] + geo[G_NV]) * geo[G_S] + 2  # each guess fixes one (band, value) on its path
    states = np.empty((depth_cap, size), np.int32)
    frame = np.empty((depth_cap, 3), np.int64)  # the pending negation: band, value bit, configuration
    cap = geo[G_CAP]
    lanes = geo[G_LANES]
    calls = np.empty((cap, 4), np.int64)  # every slot is written before it is read
    masks = np.empty((cap, lanes), np.int32)
    n_max = max(geo[G_BR], geo[G_BC])
    tri = np.zeros((n_max, n_max), np.int32)
    asserted = np.zeros(lanes, np.int32)
    removing = np.zeros(lanes, np.int32)
    grid = np.zeros(geo[G_S] * geo[G_S], np.int8)
    rng = np.zeros(1, np.uint64)
    randomise = seed >= 0
    if randomise:
        rng[0] = np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(0x2545F4914F6CDD1D)
        if rng[0] == 0:
            rng[0] = np.uint64(1)

    _init_state(states[0], givens, geo, place, cell_box)
    top = _push_initial(geo, calls)
    alive = _run_calls(states[0], top, geo, place, pop, calls, masks, tri, asserted, removing)
    depth, nodes, guesses, first_guesses, found = 0, 1, 0, -1, 0
    while True:
        if alive:
            g, bit, k0 = _choose(states[depth], geo, pop, rng, randomise)
            if g < 0:
                if _extract(states[depth], geo, cell_box, grid):
                    if found == 0:
                        first_guesses = guesses
                    if found < out.shape[0]:
                        out[found] = grid
                    found += 1
                    if found >= limit:
                        return found, first_guesses, nodes, False
                alive = False
                continue
            if 0 < max_nodes <= nodes:
                return found, first_guesses if found else guesses, nodes, True
            # guess: copy the state, keep only configuration k0 for this value in the band
            guesses += 1
            nodes += 1
            frame[depth, 0], frame[depth, 1], frame[depth, 2] = g, bit, k0
            child = states[depth + 1]
            child[:] = states[depth]
            eo = geo[G_ELIM] + g * p_max
            co = geo[G_CONF] + g * p_max
            for k in range(p_max):
                if k != k0 and child[co + k] & bit:
                    child[eo + k] |= bit
            depth += 1
            vert = 1 if g >= geo[G_NH] else 0
            calls[0, 0], calls[0, 1], calls[0, 2], calls[0, 3] = _BAND, vert, g - vert * geo[G_NH], 0
            alive = _run_calls(child, 1, geo, place, pop, calls, masks, tri, asserted, removing)
        else:
            # the node at `depth` is finished: take the negation pending at its parent, which is not a guess
            depth -= 1
            if depth < 0:
                return found, first_guesses if found else guesses, nodes, False
            if 0 < max_nodes <= nodes:
                return found, first_guesses if found else guesses, nodes, True
            nodes += 1
            g, bit, k0 = frame[depth, 0], frame[depth, 1], frame[depth, 2]
            node = states[depth]
            node[geo[G_ELIM] + g * p_max + k0] |= bit
            vert = 1 if g >= geo[G_NH] else 0
            calls[0, 0], calls[0, 1], calls[0, 2], calls[0, 3] = _BAND, vert, g - vert * geo[G_NH], 0
            alive = _run_calls(node, 1, geo, place, pop, calls, masks, tri, asserted, removing)


@njit(cache=True)
def _search_many(
    givens: np.ndarray,
    geo: np.ndarray,
    place: np.ndarray,
    pop: np.ndarray,
    cell_box: np.ndarray,
    max_nodes: int,
    out: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First solutions of N puzzles in one compiled loop: (guesses [N], found [N], nodes [N])."""
    n = givens.shape[0]
    guesses = np.zeros(n, np.int64)
    found = np.zeros(n, np.bool_)
    nodes = np.zeros(n, np.int64)
    for x in range(n):
        f, gss, nd, _ = _search(givens[x], geo, place, pop, cell_box, 1, max_nodes, -1, out[x : x + 1])
        guesses[x], found[x], nodes[x] = gss, f > 0, nd
    return guesses, found, nodes


# -- Python entry points: validate here, never inside numba -------------------------------------------------


def parse_grid(text: str, box_rows: int = 3, box_cols: int = 3) -> np.ndarray:
    """Decode the row-major string form ('.' or '0' for blanks, digits 1..s; s <= 9) into int8 [s, s]."""
    _check_shape(box_rows, box_cols)
    s = box_rows * box_cols
    chars = text.strip()
    if len(chars) != s * s:
        raise ValueError(f"expected {s * s} characters for a {s}x{s} grid, got {len(chars)}")
    if s > 9:
        raise ValueError("the string form only covers boards up to 9x9; pass an array")
    bad = sorted({ch for ch in chars if ch not in ".0123456789"[: s + 2]})
    if bad:
        raise ValueError(f"unexpected characters {bad!r}: use '.' or '0' for blanks and digits 1..{s}")
    return np.array([0 if ch == "." else int(ch) for ch in chars], np.int8).reshape(s, s)


def check_grid(grid: object, box_rows: int = 3, box_cols: int = 3) -> np.ndarray:
    """Validate one puzzle: an s x s integer grid (or its string form) with values 0..s and no repeated given.

    Returns it as int8. Raises ValueError with the first problem found.
    """
    _check_shape(box_rows, box_cols)
    if isinstance(grid, str):
        return check_grid(parse_grid(grid, box_rows, box_cols), box_rows, box_cols)
    s = box_rows * box_cols
    arr = np.asarray(grid)
    if arr.shape != (s, s):
        raise ValueError(f"expected a {s}x{s} grid for {box_rows}x{box_cols} boxes, got shape {arr.shape}")
    if arr.dtype.kind not in "iu":
        raise ValueError(f"expected an integer grid, got dtype {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() > s):
        raise ValueError(f"grid values must lie in 0..{s} (0 = blank), found {arr.min()}..{arr.max()}")
    arr = arr.astype(np.int8)
    units = tables(SudokuShape(box_rows, box_cols))[1]
    flat = arr.ravel()
    for u, cells in enumerate(units):
        vals = flat[cells]
        vals = vals[vals > 0]
        if len(vals) != len(np.unique(vals)):
            digit = int(next(v for v in vals if (vals == v).sum() > 1))
            kind = ("row", "column", "box")[u // s]
            raise ValueError(f"the givens repeat digit {digit} in {kind} {u % s + 1}, so no solution can exist")
    return arr


def _check_batch(grids: object, box_rows: int, box_cols: int) -> np.ndarray:
    arr = np.asarray(grids)
    s = box_rows * box_cols
    if arr.ndim != 3 or arr.shape[1:] != (s, s):
        raise ValueError(f"expected grids of shape [N, {s}, {s}], got {arr.shape}")
    out = np.empty(arr.shape, np.int8)
    for x, g in enumerate(arr):
        try:
            out[x] = check_grid(g, box_rows, box_cols)
        except ValueError as err:
            raise ValueError(f"grid {x}: {err}") from None
    return out


def _seed_int(seed: int | None) -> int:
    """-1 for deterministic branching; otherwise a non-negative 63-bit seed."""
    return -1 if seed is None else int(seed) % (2**63 - 1)


def solve(
    grid: object, box_rows: int = 3, box_cols: int = 3, *, max_nodes: int = -1, seed: int | None = None
) -> SolveResult:
    """First solution of the search (tdoku's branching order with ``seed=None``; random with a seed).

    ``max_nodes`` > 0 bounds the propagations; when it runs out first the result is ``exhausted``.
    """
    arr = check_grid(grid, box_rows, box_cols)
    lay = layout(box_rows, box_cols)
    s = box_rows * box_cols
    out = np.zeros((1, s * s), np.int8)
    found, guesses, nodes, exhausted = _search(
        arr.ravel(), lay.geo, lay.place, lay.pop, lay.cell_box, 1, int(max_nodes), _seed_int(seed), out
    )
    return SolveResult(
        solution=out[0].reshape(s, s).copy() if found else None,
        guesses=int(guesses),
        nodes=int(nodes),
        exhausted=bool(exhausted),
        unsolvable=not found and not exhausted,
    )


def count_solutions(grid: object, limit: int = 2, box_rows: int = 3, box_cols: int = 3) -> int:
    """Number of solutions; counting stops at ``limit`` (``limit=2`` answers "is it unique?")."""
    if int(limit) < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    arr = check_grid(grid, box_rows, box_cols)
    lay = layout(box_rows, box_cols)
    out = np.zeros((0, arr.size), np.int8)
    found, _, _, _ = _search(arr.ravel(), lay.geo, lay.place, lay.pop, lay.cell_box, int(limit), -1, -1, out)
    return int(found)


def rating(grid: object, box_rows: int = 3, box_cols: int = 3) -> int:
    """Guesses before the first solution (the meaning of Sudoku-Extreme's ``rating``; module docstring)."""
    result = solve(grid, box_rows, box_cols)
    if result.solution is None:
        raise ValueError("the puzzle has no solution, so it has no rating")
    return result.guesses


def solve_batch(
    grids: object, box_rows: int = 3, box_cols: int = 3, *, max_nodes: int = -1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Solve N puzzles in one compiled loop: (solutions int8 [N,s,s] (zeros where none), guesses [N], ok [N])."""
    _check_shape(box_rows, box_cols)
    arr = _check_batch(grids, box_rows, box_cols)
    lay = layout(box_rows, box_cols)
    n, s = arr.shape[0], box_rows * box_cols
    out = np.zeros((n, s * s), np.int8)
    guesses, found, _ = _search_many(
        arr.reshape(n, s * s), lay.geo, lay.place, lay.pop, lay.cell_box, int(max_nodes), out
    )
    return out.reshape(n, s, s), guesses, found


def rating_batch(grids: object, box_rows: int = 3, box_cols: int = 3) -> np.ndarray:
    """Ratings of N puzzles (int64 [N]); ValueError if one has no solution."""
    _, guesses, found = solve_batch(grids, box_rows, box_cols)
    if not found.all():
        raise ValueError(f"puzzle {int(np.argmin(found))} has no solution, so it has no rating")
    return guesses
