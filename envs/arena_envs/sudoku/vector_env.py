"""A native vector env for Sudoku step mode: N boards stepped by one compiled call (see :class:`SudokuStepVectorEnv`).

It sits beside :class:`~arena_envs.sudoku.env.SudokuStepEnv` as Gymnasium's ``CartPoleVectorEnv`` sits beside
``CartPoleEnv``: the same options, puzzles, spaces, rewards and masks, with arrays in place of scalars. The
dynamics are numba kernels over a :class:`SudokuState` (what changes) and :class:`SudokuTables` (what does not),
in gymnax's style; they update the state's arrays in place and return it, so a step allocates no new state.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from gymnasium import spaces
from numba import njit

from arena_envs.rendering import sudoku_rgb
from arena_envs.sudoku.data import SudokuSet
from arena_envs.sudoku.env import SudokuStepEnv
from arena_envs.sudoku.render import render_board
from arena_envs.sudoku.solver import tables as unit_tables
from arena_envs.vector_base import PuzzleVectorEnv, draw_puzzles


class SudokuState(NamedTuple):
    """What changes, per env (N envs, C = s*s cells; bit d-1 of a unit mask set = digit d is in that unit)."""

    board: np.ndarray  # int8 [N, C], 0 = blank
    rows: np.ndarray  # int32 [N, s] digit bitmask of each row
    cols: np.ndarray  # int32 [N, s] ... of each column
    boxes: np.ndarray  # int32 [N, s] ... of each box
    blanks: np.ndarray  # int32 [N] empty cells left
    blanks0: np.ndarray  # int32 [N] B = max(1, blanks at reset): a valid placement earns 1/B
    stuck0: np.ndarray  # bool [N] an empty cell had no legal digit at reset (only a broken puzzle has one)
    done: np.ndarray  # bool [N] the episode is over (the next step resets it)
    index: np.ndarray  # int64 [N] the puzzle's row in the set


class SudokuTables(NamedTuple):
    """What does not change: the puzzles and the board geometry."""

    grids: np.ndarray  # int8 [P, C] every puzzle of the set
    cell_row: np.ndarray  # int64 [C]
    cell_col: np.ndarray  # int64 [C]
    cell_box: np.ndarray  # int64 [C]
    peers: np.ndarray  # int64 [C, K] the cells sharing a unit with each cell


def make_tables(puzzle_set: SudokuSet) -> SudokuTables:
    peers, units, _ = unit_tables(puzzle_set.shape)  # units [3s, s]: rows, columns, boxes
    s = puzzle_set.shape.size
    unit_of = np.zeros((3, s * s), dtype=np.int64)  # [kind, cell] -> row / column / box number
    for u in range(3 * s):
        unit_of[u // s, units[u]] = u % s
    # from the puzzles themselves (not the set's arrays), so the rows are exactly what the scalar env indexes
    grids = np.stack([np.asarray(p.grid, dtype=np.int8).ravel() for p in puzzle_set.puzzles])  # [P, C]
    return SudokuTables(grids, unit_of[0].copy(), unit_of[1].copy(), unit_of[2].copy(), peers)


def empty_state(num_envs: int, size: int) -> SudokuState:
    n, c = num_envs, size * size
    i32 = np.int32
    return SudokuState(
        np.zeros((n, c), np.int8),
        *(np.zeros((n, size), i32) for _ in range(3)),
        np.zeros(n, i32),
        np.ones(n, i32),
        np.zeros(n, np.bool_),
        np.ones(n, np.bool_),
        np.zeros(n, np.int64),
    )


# --- compiled kernels --------------------------------------------------------------------------------------------
# The per-env work is written inside each kernel's loop rather than in per-env helpers: every call that passes
# arrays pays a reference-count update per array, which made up most of a step's time.


@njit(cache=True)
def sudoku_reset(state: SudokuState, tables: SudokuTables, puzzles: np.ndarray) -> SudokuState:
    """Env i starts puzzle ``puzzles[i]`` (int64 [N]): its board, unit masks, B, and whether a cell is stuck
    already; envs with -1 are left as they are."""
    board, rows, cols, boxes = state.board, state.rows, state.cols, state.boxes
    cell_row, cell_col, cell_box = tables.cell_row, tables.cell_col, tables.cell_box
    s = rows.shape[1]
    full = (1 << s) - 1
    for i in range(puzzles.shape[0]):
        if puzzles[i] < 0:
            continue
        rows[i, :] = 0
        cols[i, :] = 0
        boxes[i, :] = 0
        blanks = 0
        for cell in range(board.shape[1]):
            v = tables.grids[puzzles[i], cell]
            board[i, cell] = v
            if v == 0:
                blanks += 1
            else:
                bit = np.int32(1 << (v - 1))
                rows[i, cell_row[cell]] |= bit
                cols[i, cell_col[cell]] |= bit
                boxes[i, cell_box[cell]] |= bit
        stuck = False
        for cell in range(board.shape[1]):
            used = rows[i, cell_row[cell]] | cols[i, cell_col[cell]] | boxes[i, cell_box[cell]]
            stuck = stuck or (board[i, cell] == 0 and used == full)
        state.blanks[i] = blanks
        state.blanks0[i] = max(1, blanks)
        state.stuck0[i] = stuck
        state.done[i] = False
        state.index[i] = puzzles[i]
    return state


@njit(cache=True)
def sudoku_step(
    state: SudokuState, tables: SudokuTables, generators: np.ndarray, actions: np.ndarray, same_step: bool
) -> tuple[SudokuState, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Step all N envs: env i places ``actions[i]`` (int64 [N]). Autoresets draw a puzzle from the env's generator
    row (uint64 [N, 6], advanced in place). NEXT_STEP (``same_step`` False): an env whose episode ended at the
    last step is reset instead of stepped (reward 0, not terminated, its action ignored). SAME_STEP: an env whose
    episode ends now is reset at once, after its final board is copied. The rules are the scalar env's, checked
    in its order.

    Returns the state, rewards float64 [N], terminated bool [N], solved bool [N] (a complete valid board) and the
    boards as the step left them, int8 [N, C] (SAME_STEP; [0, C] otherwise).
    """
    board, rows, cols, boxes, blanks = state.board, state.rows, state.cols, state.boxes, state.blanks
    cell_row, cell_col, cell_box, peers = tables.cell_row, tables.cell_col, tables.cell_box, tables.peers
    n, s = actions.shape[0], rows.shape[1]
    full = (1 << s) - 1
    rewards = np.zeros(n, dtype=np.float64)
    terminated = np.zeros(n, dtype=np.bool_)
    solved = np.zeros(n, dtype=np.bool_)
    puzzles = draw_puzzles(generators, state.done, tables.grids.shape[0])  # [N] -1 = no autoreset
    sudoku_reset(state, tables, puzzles)
    for i in range(n):
        if puzzles[i] >= 0:
            continue
        cell, d = actions[i] // s, actions[i] % s
        if board[i, cell] != 0:  # a filled cell
            rewards[i], terminated[i] = -1.0, True
            continue
        r, c, b = cell_row[cell], cell_col[cell], cell_box[cell]
        bit = np.int32(1 << d)
        used = rows[i, r] | cols[i, c] | boxes[i, b]
        board[i, cell] = d + 1  # shown even when it breaks a rule, as the scalar env does
        if used & bit:  # a peer holds the digit
            rewards[i], terminated[i] = -1.0, True
            continue
        rows[i, r] |= bit
        cols[i, c] |= bit
        boxes[i, b] |= bit
        blanks[i] -= 1
        rewards[i] = 1.0 / state.blanks0[i]
        if blanks[i] == 0:
            # full board: valid iff every unit holds all s digits (s cells, s digits: no repeat), the verifier's rule
            ok = True
            for u in range(s):
                ok = ok and rows[i, u] == full and cols[i, u] == full and boxes[i, u] == full
            rewards[i] += 1.0 if ok else 0.0
            terminated[i], solved[i] = True, ok
            continue
        # dead end: only the placed cell's peers lost a candidate, so only they can have become stuck
        stuck = state.stuck0[i]
        for k in range(peers.shape[1]):
            p = peers[cell, k]
            if board[i, p] == 0 and (rows[i, cell_row[p]] | cols[i, cell_col[p]] | boxes[i, cell_box[p]]) == full:
                stuck = True
                break
        terminated[i] = stuck
    state.done[:] = terminated  # an env reset above is not terminated, so not done
    final = board.copy() if same_step else board[:0].copy()
    if same_step:
        sudoku_reset(state, tables, draw_puzzles(generators, terminated, tables.grids.shape[0]))
    return state, rewards, terminated, solved, final


@njit(cache=True)
def sudoku_masks(state: SudokuState, tables: SudokuTables, conflicts: bool) -> np.ndarray:
    """bool [N, C*s]: the scalar env's ``action_masks()`` of every env (all False once its episode is over)."""
    board, rows, cols, boxes, done = state.board, state.rows, state.cols, state.boxes, state.done
    cell_row, cell_col, cell_box = tables.cell_row, tables.cell_col, tables.cell_box
    n, c = board.shape
    s = rows.shape[1]
    out = np.zeros((n, c * s), dtype=np.bool_)
    for i in range(n):
        if done[i]:
            continue
        for cell in range(c):
            if board[i, cell] != 0:
                continue
            used = 0
            if conflicts:
                used = rows[i, cell_row[cell]] | cols[i, cell_col[cell]] | boxes[i, cell_box[cell]]
            for d in range(s):
                out[i, cell * s + d] = ((used >> d) & 1) == 0
    return out


# --- the vector env ----------------------------------------------------------------------------------------------


class SudokuStepVectorEnv(PuzzleVectorEnv):
    """N Sudoku step-mode boards stepped together in one compiled call: ``arena/SudokuExtremeStep-v0`` batched.

    ## Description

    The same puzzles, options, rewards and masks as N :class:`~arena_envs.sudoku.env.SudokuStepEnv`, and the same
    random draws: under one seed it reproduces ``gymnasium.vector.SyncVectorEnv`` of N scalar envs exactly
    (``tests/envs/test_vector_envs.py`` checks obs, rewards, flags and masks step by step). Each env keeps a
    digit bitmask per row, column and box, so a step checks a placement, and a possible dead end among the
    placed cell's peers, in a few operations.

    ## Action Space

    ``MultiDiscrete([s**3] * N)`` (``batch_space`` of the scalar ``Discrete(s**3)``): env i places digit
    ``a % s + 1`` in cell ``a // s`` (row-major). An action outside ``0..s**3-1``, a non-integer array or one that
    is not shaped [N] is a ``ValueError`` (the ignored action of an env being reset is not checked).

    ## Observation Space

    ``Box(0, s, (N, s, s), int8)``: the boards, 0 = blank.

    ## Rewards

    As the scalar env: ``+1/B`` per placement that breaks no rule (B = blanks at reset); ``-1`` for one that
    repeats a digit of its row, column or box, or targets a filled cell; ``+1`` more when the board is complete
    and valid; ``0`` on the step an env is reset.

    ## Starting State

    Each env draws its puzzle from its own generator, ``np_random.integers(len(puzzle_set))`` as the scalar env
    does; ``reset(seed=k)`` seeds env i with ``k + i`` as ``SyncVectorEnv`` does, and autoresets keep drawing from
    the same generators. ``reset(options={"index": i})`` starts every env on puzzle i, and an array of N indices
    one puzzle per env; ``reset(options={"grids": boards})`` (int [N, s, s]) starts env i from ``boards[i]``, any
    board (the puzzles an agent is given), and autoresets then draw among those boards.

    ## Episode End

    Terminated on a placement that breaks a rule or targets a filled cell, on a complete board, or at a dead end
    (an empty cell with no legal digit left). Never truncated. Autoreset is Gymnasium's ``NEXT_STEP`` by default:
    the step after an env's episode ends resets it and ignores its action; until then its ``action_masks()`` row
    is all False, as the scalar env's mask is. With ``autoreset_mode="same_step"`` the ending step resets the env
    at once and puts its last board and step info in ``info["final_obs"]`` / ``info["final_info"]``, as
    ``SyncVectorEnv`` does (SB3's convention).

    ## Info

    Gymnasium's vector form (arrays with ``_key`` masks): ``puzzle_id``, ``index``, ``rating`` and ``clues`` for
    every env, and ``solved`` (a complete valid board) and ``complete`` (every cell filled) as bools masked to
    the envs whose episode just ended (under ``final_info`` with SAME_STEP). Unlike the scalar env there is no
    per-step ``verdict`` with a reason, nor ``cell``/``digit``: building strings would cost more than the step.

    ## Arguments

    | argument | default | meaning |
    |---|---|---|
    | ``num_envs`` | | N, the boards stepped together |
    | ``render_mode`` | ``None`` | ``"ansi"``/``"rgb_array"``: ``render()`` returns N frames; ``"human"`` prints |
    | ``autoreset_mode`` | ``NEXT_STEP`` | ``AutoresetMode.NEXT_STEP`` or ``SAME_STEP`` (or their names) |
    | ``**options`` | | exactly the scalar env's (``size``, ``split``, ``data``, ``count``, ``mask_conflicts``, ...) |

    >>> import gymnasium as gym
    >>> import arena_envs
    >>> envs = gym.make_vec("arena/SudokuExtremeStep-v0", num_envs=8, size=4, count=50)
    >>> obs, info = envs.reset(seed=0)
    >>> obs.shape, envs.action_masks().shape
    ((8, 4, 4), (8, 64))

    ## Version History

    * v0: first version.
    """

    scalar_cls = SudokuStepEnv  # config class, loader and answer id come from here
    puzzle_set: SudokuSet

    def _setup(self) -> None:
        self.shape = self.puzzle_set.shape
        s = self.shape.size
        self.single_observation_space = spaces.Box(0, s, shape=(s, s), dtype=np.int8)
        self.single_action_space = spaces.Discrete(s**3)
        self._tables = make_tables(self.puzzle_set)
        self._state = empty_state(self.num_envs, s)
        puzzles = self.puzzle_set.puzzles
        self._ratings = np.array([p.meta["rating"] for p in puzzles], dtype=np.int64)  # [P]
        self._clues = np.array([p.meta["clues"] for p in puzzles], dtype=np.int64)  # [P]

    def _reset_boards(self, puzzles: np.ndarray) -> None:
        self._state = sudoku_reset(self._state, self._tables, puzzles)

    def _tables_for(self, grids: np.ndarray) -> SudokuTables:
        return self._tables._replace(grids=grids)

    def _step_boards(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], np.ndarray]:
        state, tables, generators = self._state, self._tables, self._generators
        self._state, rewards, terminated, solved, final = sudoku_step(state, tables, generators, actions, self._same)
        s = self.shape.size
        outcomes: dict[str, np.ndarray] = {}
        if terminated.any():
            ended = final if self._same else self._state.board  # [N, C] the boards as the step left them
            complete = (ended != 0).all(axis=1) & terminated  # every cell filled (valid or not)
            outcomes = {"solved": solved, "_solved": terminated.copy(), "complete": complete, "_complete": terminated}
        return rewards, terminated, outcomes, final.reshape(-1, s, s)

    def _obs(self) -> np.ndarray:
        s = self.shape.size
        return self._state.board.reshape(self.num_envs, s, s).copy()  # int8 [N, s, s]

    def _puzzle_index(self) -> np.ndarray:
        return self._state.index

    def _columns(self, index: np.ndarray) -> dict[str, np.ndarray]:
        return {"rating": self._ratings[index], "clues": self._clues[index]}

    def action_masks(self) -> np.ndarray:
        """bool [N, s**3]: row i is env i's ``SudokuStepEnv.action_masks()`` (MaskablePPO's method name)."""
        return sudoku_masks(self._state, self._tables, bool(self.config.mask_conflicts))

    def render(self) -> tuple[Any, ...] | None:
        """One frame per env: text boards (``"ansi"``), pictures uint8 [H, W, 3] (``"rgb_array"``)."""
        if self.render_mode is None:
            return None
        s, boards, grids = self.shape.size, self._obs(), self._tables.grids
        if self.render_mode == "rgb_array":
            box = (self.shape.box_rows, self.shape.box_cols)
            return tuple(sudoku_rgb(b, grids[k].reshape(s, s), *box) for b, k in zip(boards, self._state.index))
        texts = tuple(render_board(b, self.shape) for b in boards)
        if self.render_mode == "human":
            print("\n\n".join(texts))
            return None
        return texts
