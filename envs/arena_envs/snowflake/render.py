"""Snowflake Sudoku as text (for people and LLM prompts) and as a picture (``render_mode="rgb_array"``).

The text lists each hexagon's six triangles in order, then every meeting point with the cells it joins: the whole
board and all of its rules in a form that needs no drawing, where a cell is named ``h<hexagon>t<triangle>``
(both 1-based, as in verdicts).

The picture draws the hexagons (flat-topped, radius ``radius`` pixels) split into their triangles: givens black on
grey, placed digits blue on white, cells whose digit repeats in one of their groups tinted red, thick hexagon
outlines and a dot on each meeting point. Its size depends only on the number of hexagons it is laid out for.
"""

from __future__ import annotations

import numpy as np

from arena_envs.rendering import BLUE, INK, WHITE, canvas, draw_text, framed
from arena_envs.snowflake.topology import CELLS_PER_HEXAGON, DIGITS, Snowflake, hexagon_centre, snowflake

GIVEN = (228, 228, 228)
CLASH = (255, 190, 190)
LINE = (150, 150, 150)
OUTLINE = (40, 40, 40)
POINT = (200, 60, 60)


def cell_text(v: int) -> str:
    return "." if v == 0 else str(int(v))


def render_board(cells: np.ndarray, board: Snowflake | None = None) -> str:
    """The board as lines of text: one line per hexagon, then one per meeting point."""
    cells = np.asarray(cells).ravel()
    board = board or snowflake(len(cells) // CELLS_PER_HEXAGON)
    lines = [
        f"{board.n} hexagons of 6 triangles t1..t6 (counter-clockwise from the east); '.' is an empty cell.",
    ]
    for h, (q, r) in enumerate(board.hexagons):
        values = "  ".join(f"t{j + 1}={cell_text(cells[CELLS_PER_HEXAGON * h + j])}" for j in range(6))
        lines.append(f"hexagon {h + 1} (axial {q},{r}): {values}")
    if len(board.groups) > board.n:
        lines.append("meeting points (3 hexagons meet; these 6 cells also hold 1-6 once each):")
    for g in range(board.n, len(board.groups)):
        members = " ".join(board.cell_name(int(c)) for c in board.groups[g])
        lines.append(f"{board.group_name(g)}: {members}")
    return "\n".join(lines)


def clashes(cells: np.ndarray, board: Snowflake) -> np.ndarray:
    """bool [C]: a filled cell whose digit another cell of one of its groups also holds."""
    out = np.zeros(board.cells, dtype=bool)
    for members in board.groups:
        values = cells[members]
        counts = np.bincount(values, minlength=DIGITS + 1)
        out[members] |= (values > 0) & (counts[values] > 1)
    return out


def _extent(board: Snowflake) -> tuple[float, float, float, float]:
    """(x_min, x_max, y_min, y_max) of the board in hexagon radii."""
    centres = np.array([hexagon_centre(q, r) for q, r in board.hexagons])
    half = np.sqrt(3) / 2
    return centres[:, 0].min() - 1, centres[:, 0].max() + 1, centres[:, 1].min() - half, centres[:, 1].max() + half


def snowflake_rgb(
    cells: np.ndarray, givens: np.ndarray, layout: Snowflake | None = None, radius: int = 40
) -> np.ndarray:
    """The board ``cells`` (givens: the puzzle) as a picture, uint8 [H, W, 3]; ``layout`` (a board of at least
    as many hexagons) fixes the picture's size, so every episode of an env draws frames of one size."""
    cells, givens = np.asarray(cells).ravel(), np.asarray(givens).ravel()
    board = snowflake(len(cells) // CELLS_PER_HEXAGON)
    x0, x1, y0, y1 = _extent(layout or board)
    pad = 6
    height, width = int(np.ceil((y1 - y0) * radius)) + 2 * pad, int(np.ceil((x1 - x0) * radius)) + 2 * pad
    img = canvas(height, width)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    # pixel -> board coordinates (y grows upwards on the board, downwards in the picture)
    bx, by = x0 + (xx - pad) / radius, y1 - (yy - pad) / radius

    def pixel(x: float, y: float) -> tuple[float, float]:
        return pad + (y1 - y) * radius, pad + (x - x0) * radius

    clash = clashes(cells, board)
    edge = np.zeros((height, width), dtype=np.float64) + np.inf  # distance to the nearest triangle side
    outline = np.zeros((height, width), dtype=np.float64) + np.inf  # distance to the nearest hexagon side
    for c in range(board.cells):
        a, b, d = board.triangle(c)
        inside = np.ones((height, width), dtype=bool)
        for (px, py), (qx, qy) in ((a, b), (b, d), (d, a)):
            inside &= (qx - px) * (by - py) - (qy - py) * (bx - px) >= 0  # left of every side: counter-clockwise
        color = CLASH if clash[c] else GIVEN if givens[c] else WHITE
        img[inside] = color
        for (px, py), (qx, qy), sink in ((a, b, edge), (b, d, outline), (d, a, edge)):
            dx, dy = qx - px, qy - py
            t = np.clip(((bx - px) * dx + (by - py) * dy) / (dx * dx + dy * dy), 0, 1)
            dist = np.hypot(bx - px - t * dx, by - py - t * dy) * radius
            np.minimum(sink, dist, out=sink)
    img[edge <= 0.6] = LINE
    img[outline <= 1.3] = OUTLINE
    for x, y in board.meeting_points:
        py, px = pixel(x, y)
        img[(yy - py) ** 2 + (xx - px) ** 2 <= (radius / 12) ** 2] = POINT
    box = int(radius * 0.42)
    for c in range(board.cells):
        if cells[c]:
            a, b, d = board.triangle(c)
            cy, cx = pixel((a[0] + b[0] + d[0]) / 3, (a[1] + b[1] + d[1]) / 3)
            color = INK if givens[c] else BLUE
            draw_text(img, str(int(cells[c])), int(cy) - box // 2, int(cx) - box // 2, box, box, color, fill=0.9)
    return framed(img)
