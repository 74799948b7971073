"""PPBench verification: pzpr.js's own checker, run by the Node worker on a whole batch at once.

An answer takes one of two forms:

* moves (LLM agents): a list of pzpr move strings, played in order on a cleared board, e.g.
  ``["mouse,left,3,5", "mouse,left,1,1,1,5", "mouse,left,1,1;key,7"]``; a single string with one move per line
  works too. Only play moves exist (``mouse``, ``key``, ``cursor``): a move that would edit the question is
  malformed, as is one with bad coordinates.
* a grid (neural agents): int [3, 2R+1, 2C+1] answer channels (``layout.py``), or the same padded with -9 to a
  larger canvas; written onto a cleared board through pzpr's setters, then checked.

``Verdict.ok`` is pzpr's "Complete!". Otherwise ``reason`` is pzpr's message for the first failing rule (the
variety's own order, as puzz.link shows it) and ``extras["code"]`` its failure code. pzpr cannot tell an
unfinished board from a wrong one in that message; the step env separates the two (see ``env.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from arena_envs.answers import as_array, coerce_grid
from arena_envs.ppbench import layout
from arena_envs.ppbench.engine import PzprWorker, WorkerPool
from arena_envs.protocol import Puzzle, Verdict

# Limits checked before the Node worker sees an answer (the golden set's longest solution: 857 moves, 16,150
# characters, 22 per move); the worker also stops one answer after MOVE_BUDGET_SECONDS (worker.js).
MAX_MOVES = 20_000
MAX_MOVE_CHARS = 4_000  # one move
MAX_TOTAL_MOVE_CHARS = 200_000  # all moves of one answer
MOVE_BUDGET_SECONDS = 10


def coerce_moves(answer: Any) -> tuple[list[str] | None, str]:
    """A list of move strings, or (None, reason). A string holds one move per line."""
    if isinstance(answer, str):
        moves = [m.strip() for m in answer.splitlines() if m.strip()]
    elif isinstance(answer, np.ndarray) and answer.dtype.kind == "U":
        moves = [str(m) for m in answer.ravel()]
    elif isinstance(answer, (list, tuple)):
        moves = list(answer)
    else:
        return None, f"expected a list of pzpr moves or an answer grid, got {type(answer).__name__}"
    for i, move in enumerate(moves):
        if not isinstance(move, str):
            return None, f"move {i + 1} is a {type(move).__name__}, not a string like 'mouse,left,1,1'"
    if len(moves) > MAX_MOVES:
        return None, f"{len(moves)} moves; at most {MAX_MOVES} are checked"
    longest = max((len(m) for m in moves), default=0)
    if longest > MAX_MOVE_CHARS:
        return None, f"a move of {longest:,} characters; a move has at most {MAX_MOVE_CHARS:,}"
    total = sum(len(m) for m in moves)
    if total > MAX_TOTAL_MOVE_CHARS:
        return None, f"{total:,} characters of moves; an answer has at most {MAX_TOTAL_MOVE_CHARS:,}"
    return moves, ""


def is_moves(answer: Any) -> bool:
    if isinstance(answer, str):
        return True
    if isinstance(answer, np.ndarray):
        return answer.dtype.kind == "U"
    return isinstance(answer, (list, tuple)) and (len(answer) == 0 or isinstance(answer[0], str))


def coerce_answer_grid(answer: Any, puzzle: Puzzle) -> tuple[np.ndarray | None, str]:
    """The answer channels at the puzzle's own layout size, or (None, reason)."""
    h, w = puzzle.meta["layout"]
    arr = as_array(answer)
    if arr is None:  # ragged nested lists, or an object numpy cannot read
        return None, "not a rectangular grid"
    if arr.dtype.kind in "iuf" and arr.ndim == 3 and arr.shape[0] == 3 and arr.shape[1:] != (h, w):
        if arr.shape[1] < h or arr.shape[2] < w:
            return None, f"wrong shape {arr.shape}, expected (3, {h}, {w}) or a larger canvas padded with {layout.PAD}"
        outside = np.ones(arr.shape[1:], dtype=bool)
        outside[:h, :w] = False
        if (arr[:, outside] != layout.PAD).any():
            return None, f"a padded answer must hold {layout.PAD} outside the {h}x{w} board"
        arr = arr[:, :h, :w]
    high = max(int(puzzle.meta["max_cell_value"]), 1)
    grid, problem = coerce_grid(arr, (3, h, w), 0, high)
    if grid is None:
        return None, problem
    if (grid[1:] > 1).any():
        c, y, x = np.argwhere(grid[1:] > 1)[0]
        return None, f"{layout.ANSWER_CHANNELS[c + 1]} at (y {y}, x {x}) is {grid[c + 1, y, x]}; edges take 0 or 1"
    top = int(puzzle.meta["max_cell_value"])
    if (grid[0] > top).any():
        y, x = np.argwhere(grid[0] > top)[0]
        return None, f"cell (y {y}, x {x}) is {grid[0, y, x]}; a {puzzle.meta['pid']} cell takes 0..{top}"
    return grid, ""


def judge_batch(
    worker: PzprWorker | WorkerPool,
    puzzles: Sequence[Puzzle],
    answers: Sequence[Any],
    *,
    with_state: bool = False,
    start: Sequence[np.ndarray | None] | None = None,
) -> list[tuple[Verdict, dict[str, Any] | None]]:
    """Verdicts (and, with ``with_state``, the board afterwards) for many answers in one worker request.

    ``start`` optionally gives each puzzle an answer grid to write before the moves are played.
    """
    out: list[tuple[Verdict, dict[str, Any] | None] | None] = [None] * len(puzzles)
    items, where, forms = [], [], []
    for i, (puzzle, answer) in enumerate(zip(puzzles, answers)):
        if answer is None:
            out[i] = (Verdict.abstain(), None)
            continue
        item: dict[str, Any] = {"url": puzzle.meta["url"]}
        if is_moves(answer):
            moves, problem = coerce_moves(answer)
            item["moves"], form = moves, "moves"
        elif (arr := as_array(answer)) is None or arr.ndim == 0 or arr.dtype == object:
            grid, problem = None, f"expected a list of pzpr moves or an answer grid, got {type(answer).__name__}"
        else:
            grid, problem = coerce_answer_grid(answer, puzzle)
            item["grid"], form = (layout.answer_layers(grid) if grid is not None else None), "grid"
        if problem:
            out[i] = (Verdict.malformed(problem), None)
            continue
        if start is not None and start[i] is not None:
            if "grid" in item:
                raise ValueError("a starting board only goes with moves")
            item["grid"] = layout.answer_layers(np.asarray(start[i]))
        items.append(item)
        where.append(i)
        forms.append(form)
    if items:
        results = worker.batch("state" if with_state else "verify", items)
        for i, form, item, result in zip(where, forms, items, results):
            out[i] = _verdict(puzzles[i], form, len(item.get("moves") or []), result)
    return out  # type: ignore[return-value]


def _verdict(puzzle: Puzzle, form: str, n_moves: int, result: dict[str, Any]) -> tuple[Verdict, dict[str, Any] | None]:
    if "error" in result:
        return Verdict.malformed(result["error"]), None
    extras = {"pid": puzzle.meta["pid"], "form": form, "code": result["code"], "reason_ja": result["ja"]}
    if form == "moves":
        extras["moves"] = n_moves
    state = None
    if "answer" in result:
        state = {
            "answer": layout.answer_array(result["answer"]),
            "broken": list(result["broken"]),
            "unfinished": list(result["unfinished"]),
        }
    return Verdict(bool(result["complete"]), result["en"], extras=extras), state
