"""What an LLM reads: the rules of a puzzle family, the board with coordinates, and the answer format."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from arena_envs.config import ConfigError
from arena_envs.protocol import Puzzle


@dataclass(frozen=True)
class FamilyPrompt:
    """How one puzzle family is put to a language model and how its partial answers are checked."""

    rules: Callable[[Puzzle], str]
    board: Callable[[Puzzle], str]
    answer_format: Callable[[Puzzle], str]
    rule_check: Callable[[Puzzle, list[list[int]]], str]  # the agentic strategy's tool


def _sudoku_rules(p: Puzzle) -> str:
    s = p.grid.shape[0]
    br, bc = p.meta.get("box", (round(s**0.5), round(s**0.5)))
    return (
        f"This is a {s}x{s} Sudoku with boxes of {br} rows x {bc} columns. Fill every empty cell ('.') with a "
        f"digit from 1 to {s} so that each row, each column and each box contains every digit exactly once. "
        "Digits already on the board (the givens) must stay as they are."
    )


def _sudoku_board(p: Puzzle) -> str:
    from arena_envs.sudoku.render import render_board

    return render_board(p.grid)


def _sudoku_format(p: Puzzle) -> str:
    s = p.grid.shape[0]
    return f"`grid`: the whole solved board as {s} rows (top to bottom), each a list of {s} integers from 1 to {s}."


def _sudoku_check(p: Puzzle, grid: list[list[int]]) -> str:
    from arena_envs.sudoku.verifier import check_partial

    return check_partial(np.asarray(p.grid), grid)


FAMILIES: dict[str, FamilyPrompt] = {
    "sudoku": FamilyPrompt(_sudoku_rules, _sudoku_board, _sudoku_format, _sudoku_check),
}


def family_prompt(puzzle: Puzzle) -> FamilyPrompt:
    if puzzle.family not in FAMILIES:
        raise ConfigError(f"LLM agents have no prompt for the {puzzle.family!r} family yet")
    return FAMILIES[puzzle.family]


def user_prompt(puzzle: Puzzle, *, tool: bool, confidence: bool) -> str:
    """The whole request for one puzzle."""
    fp = family_prompt(puzzle)
    parts = [fp.rules(puzzle), "Board (row and column numbers start at 1):", fp.board(puzzle), "Answer with:"]
    parts.append("- " + fp.answer_format(puzzle))
    parts.append("- `abstain`: true only if you choose not to answer (then `grid` may be empty).")
    if confidence:
        parts.append("- `confidence`: your probability, from 0 to 1, that your grid is exactly right.")
    if tool:
        parts.append(
            "You may call `check_rules` with a full or partial grid (0 for cells you have not filled) to learn "
            "which rules it breaks before you answer."
        )
    return "\n".join(parts)
