"""What an LLM reads: the rules of a puzzle family, the board with coordinates, and the answer format.

The answer schema per family: Sudoku and Maze answer one ``grid`` (a list of rows), PPBench a list of ``moves``,
ARC a list of ``grids``, one output grid per test input (a task may have several), in the order given.
``example`` is a well-formed answer built from the board alone (never the solution): what ``llm:test``, the
offline example agent, replies, so the whole pipeline runs without a key and the verifier judges a real answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from arena_envs.answers import ANSWER_FIELDS, ANSWER_KINDS  # shared with the reward functions that read replies
from arena_envs.config import ConfigError
from arena_envs.protocol import Puzzle


@dataclass(frozen=True)
class FamilyPrompt:
    """How one puzzle family is put to a language model and how its partial answers are checked."""

    rules: Callable[[Puzzle], str]
    board: Callable[[Puzzle], str]
    answer_format: Callable[[Puzzle], str]
    rule_check: Callable[[Puzzle, list], str]  # the agentic strategy's tool (a grid, or a list of moves)
    values: Callable[[Puzzle], tuple[int, ...]]  # the cell values an answer may hold (fixed in the schema)
    answer_kind: str = "grid"  # ANSWER_KINDS: "grid" (a list of rows) | "moves" (move strings) | "grids" (ARC)
    example: Callable[[Puzzle], dict[str, Any]] | None = None  # llm:test's reply: well formed, from the board only
    board_heading: str = "Board (row and column numbers start at 1):"
    # the (rows, columns) of a "grid" answer; None: the puzzle's grid shape (Snowflake: one row of 6 per hexagon)
    grid_shape: Callable[[Puzzle], tuple[int, int]] | None = None

    def answer_shape(self, puzzle: Puzzle) -> tuple[int, ...]:
        if self.grid_shape is not None:
            return self.grid_shape(puzzle)
        return tuple(int(v) for v in puzzle.grid.shape)


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


def _sudoku_values(p: Puzzle) -> tuple[int, ...]:
    return tuple(range(1, p.grid.shape[0] + 1))


def _maze_rules(p: Puzzle) -> str:
    n = p.grid.shape[0]
    return (
        f"This is a {n}x{n} maze: '#' is a wall, ' ' an open cell, 'S' the start, 'G' the goal. Find a shortest "
        "path from S to G moving up, down, left or right through open cells, and mark every cell of it between "
        "S and G (not S or G themselves). Any shortest path is accepted; a longer one is wrong."
    )


def _maze_board(p: Puzzle) -> str:
    from arena_envs.maze.render import render_maze

    return render_maze(p.grid)


def _maze_format(p: Puzzle) -> str:
    n = p.grid.shape[0]
    return (
        f"`grid`: the whole maze as {n} rows of {n} codes, 1 = wall, 2 = open, 3 = S, 4 = G, 5 = a cell of your "
        "path; copy the maze unchanged except for the 5s."
    )


def _maze_check(p: Puzzle, grid: list[list[int]]) -> str:
    from arena_envs.maze.verifier import verify

    verdict = verify(np.asarray(p.grid), grid)
    return "a shortest path from S to G" if verdict.ok else verdict.reason


def _ppbench_rules(p: Puzzle) -> str:
    m = p.meta
    return (
        f"This is a {m['pid']} puzzle from puzz.link, {m['rows']} rows x {m['cols']} columns. Its rules:\n{m['rules']}"
    )


def _ppbench_board(p: Puzzle) -> str:
    from arena_envs.ppbench import layout

    picture = layout.render_text(np.asarray(p.grid), layout.empty_answer(tuple(p.meta["layout"])))
    return f"{picture}\n\nThe same board in pzpr's file format:\n{p.meta['file']}"


def _ppbench_format(p: Puzzle) -> str:
    m = p.meta
    return (
        "`moves`: the pzpr input moves that solve the puzzle from the empty board, in order, as strings. "
        f"Coordinates are pzpr's: the cell in row r, column c (from 1) is centred at x = 2c-1, y = 2r-1; edges "
        f"between cells have one even coordinate; x runs 0..{2 * m['cols']}, y 0..{2 * m['rows']}. "
        "'mouse,left,x,y' clicks (shades a cell, places a light or a triangle, depending on the puzzle; a second "
        "click changes it again), 'mouse,right,x,y' marks a cell as unshaded, 'mouse,left,x1,y1,x2,y2' drags "
        "(draws a line or a border between two points), 'mouse,left,x,y;key,7' enters 7 in a cell."
    )


def _ppbench_check(p: Puzzle, moves: list) -> str:
    from arena_envs.ppbench.engine import default_worker
    from arena_envs.ppbench.verifier import judge_batch

    verdict, state = judge_batch(default_worker(), [p], [moves], with_state=True)[0]
    if verdict.ok:
        return "solved"
    if state is None:
        return verdict.reason
    broken = "none" if not state["broken"] else ", ".join(sorted(set(state["broken"])))
    return f"not solved yet: {verdict.reason} (rules broken: {broken}; rules not yet met: {len(state['unfinished'])})"


def _snowflake_rules(p: Puzzle) -> str:
    n = int(p.meta["hexagons"])
    return (
        f"This is a Snowflake Sudoku: {n} hexagons, each cut into 6 triangles (t1 to t6, counter-clockwise from the "
        "east). Fill every empty triangle ('.') with a digit from 1 to 6 so that each hexagon holds every digit "
        "exactly once, and each meeting point (a corner where 3 hexagons meet, touched by 6 triangles, listed "
        "below) holds every digit exactly once too. Digits already on the board (the givens) must stay as they are."
    )


def _snowflake_board(p: Puzzle) -> str:
    from arena_envs.snowflake.render import render_board

    return render_board(p.grid)


def _snowflake_format(p: Puzzle) -> str:
    n = int(p.meta["hexagons"])
    return (
        f"`grid`: the solved board as {n} rows, one per hexagon in the order listed, each the 6 digits of its "
        "triangles t1 to t6."
    )


def _snowflake_check(p: Puzzle, grid: list[list[int]]) -> str:
    from arena_envs.snowflake.verifier import check_partial

    return check_partial(np.asarray(p.grid), grid)


def _snowflake_example(p: Puzzle) -> dict[str, Any]:
    g = np.asarray(p.grid)
    return {"grid": np.where(g == 0, 1, g).reshape(-1, 6).tolist()}  # the givens kept, every blank a 1


def _arc_rules(p: Puzzle) -> str:
    n = int(p.meta.get("n_tests", 1))
    return (
        "This is an ARC-AGI task (Abstraction and Reasoning Corpus). Every grid is a rectangle of cells, each a "
        "colour from 0 to 9 (0 is usually the black background), written one row per line. The demonstration "
        "pairs show input grids and their output grids; one hidden transformation turns each input into its "
        f"output. Find it and apply it to {'the test input' if n == 1 else f'each of the {n} test inputs'}. An "
        "output may have another size than its input (1 to 30 rows and columns)."
    )


def _arc_grid(g: Any) -> str:
    a = np.asarray(g)
    return "\n".join(" ".join(str(int(v)) for v in row) for row in a)


def _arc_shape(g: Any) -> str:
    rows, cols = np.asarray(g).shape
    return f"{rows} rows x {cols} columns"


def _arc_board(p: Puzzle) -> str:
    parts = []
    for i, (inp, out) in enumerate(p.meta["train"], start=1):
        parts.append(f"Demonstration {i} input ({_arc_shape(inp)}):\n{_arc_grid(inp)}")
        parts.append(f"Demonstration {i} output ({_arc_shape(out)}):\n{_arc_grid(out)}")
    tests = p.meta.get("test_inputs") or (p.grid,)
    for i, inp in enumerate(tests, start=1):
        parts.append(f"Test input {i} of {len(tests)} ({_arc_shape(inp)}):\n{_arc_grid(inp)}")
    return "\n\n".join(parts)


def _arc_format(p: Puzzle) -> str:
    n = int(p.meta.get("n_tests", 1))
    return (
        f"`grids`: a list of exactly {n} grid(s), one output per test input in order (test input 1 first); each "
        "grid a list of rows from top to bottom, each row a list of integers from 0 to 9, every row of a grid "
        "as long as the others. E.g. two 2x2 outputs: [[[0, 1], [1, 0]], [[3, 3], [3, 3]]]."
    )


def _arc_check(p: Puzzle, grids: list) -> str:
    """ARC has no rules to check: whether the list is a well-formed answer (never whether it is right)."""
    from arena_envs.arc.verifier import coerce_attempt

    n = int(p.meta.get("n_tests", 1))
    got, problem = coerce_attempt(grids, n)
    if got is None:
        return f"not a well-formed answer: {problem}"
    sizes = ", ".join("x".join(map(str, g.shape)) for g in got)
    return f"well formed: {n} grid(s) of size {sizes}; whether they are right is only known after answering"


def _arc_example(p: Puzzle) -> dict[str, Any]:
    tests = p.meta.get("test_inputs") or (p.grid,)
    return {"grids": [np.asarray(g).tolist() for g in tests]}  # every test input copied (the copy baseline)


def _sudoku_example(p: Puzzle) -> dict[str, Any]:
    g = np.asarray(p.grid)
    return {"grid": np.where(g == 0, 1, g).tolist()}  # the givens kept, every blank a 1


FAMILIES: dict[str, FamilyPrompt] = {
    "snowflake": FamilyPrompt(
        _snowflake_rules,
        _snowflake_board,
        _snowflake_format,
        _snowflake_check,
        lambda p: (1, 2, 3, 4, 5, 6),
        example=_snowflake_example,
        board_heading="Board (hexagons, then meeting points; cell names h<hexagon>t<triangle>):",
        grid_shape=lambda p: (int(p.meta["hexagons"]), 6),
    ),
    "sudoku": FamilyPrompt(
        _sudoku_rules, _sudoku_board, _sudoku_format, _sudoku_check, _sudoku_values, example=_sudoku_example
    ),
    "maze": FamilyPrompt(
        _maze_rules,
        _maze_board,
        _maze_format,
        _maze_check,
        lambda p: (1, 2, 3, 4, 5),
        example=lambda p: {"grid": np.asarray(p.grid).tolist()},  # the maze unchanged: no path marked
    ),
    "ppbench": FamilyPrompt(
        _ppbench_rules,
        _ppbench_board,
        _ppbench_format,
        _ppbench_check,
        lambda p: (),
        ANSWER_KINDS["ppbench"],
        example=lambda p: {"moves": ["mouse,left,1,1"]},  # one click on the top-left cell
    ),
    "arc": FamilyPrompt(
        _arc_rules,
        _arc_board,
        _arc_format,
        _arc_check,
        lambda p: tuple(range(10)),
        ANSWER_KINDS["arc"],
        example=_arc_example,
        board_heading="The task:",
    ),
}


def family_prompt(puzzle: Puzzle) -> FamilyPrompt:
    if puzzle.family not in FAMILIES:
        raise ConfigError(f"LLM agents have no prompt for the {puzzle.family!r} family yet")
    return FAMILIES[puzzle.family]


def user_prompt(puzzle: Puzzle, *, tool: bool, confidence: bool) -> str:
    """The whole request for one puzzle."""
    fp = family_prompt(puzzle)
    parts = [fp.rules(puzzle), fp.board_heading, fp.board(puzzle), "Answer with:"]
    parts.append("- " + fp.answer_format(puzzle))
    field = ANSWER_FIELDS[fp.answer_kind]
    parts.append(f"- `abstain`: true only if you choose not to answer (then `{field}` may be empty).")
    if confidence:
        parts.append(f"- `confidence`: your probability, from 0 to 1, that your `{field}` answer is exactly right.")
    if tool and fp.answer_kind == "moves":
        parts.append("You may call `check_rules` with a list of moves to learn whether they solve the puzzle.")
    elif tool and fp.answer_kind == "grids":
        parts.append(
            "You may call `check_rules` with your list of grids to learn whether it is a well-formed answer (one "
            "rectangular grid of colours 0-9 per test input); it cannot tell whether the grids are right."
        )
    elif tool:
        parts.append(
            "You may call `check_rules` with a full or partial grid (0 for cells you have not filled) to learn "
            "which rules it breaks before you answer."
        )
    return "\n".join(parts)
