"""Pictures of boards for ``render_mode="rgb_array"``: uint8 [H, W, 3] arrays drawn with numpy alone.

Every family draws on the same few pieces: a grid of coloured cells with thin grid lines (thick ones where a
family wants them), a tiny built-in 5x7 bitmap font for digits and a few letters, and segments, circles and
triangles for the marks of pencil puzzles. A picture depends only on the state it is given (no randomness, no
fonts from the system), and its size only on the env's configuration, never on the episode's progress, so a
video recorder sees frames of one size.

Layout of a grid picture: a margin of ``MARGIN`` pixels, then cell (r, c) at rows ``MARGIN + r*cell ..
MARGIN + (r+1)*cell`` (its first row and column are the grid line), then a closing line; the picture of an R x C
grid is ``(2*MARGIN + R*cell + 1) x (2*MARGIN + C*cell + 1)``, which :func:`framed` then centres in a frame
whose sides are multiples of 16 (what video codecs want; odd sizes make ffmpeg's yuv420p refuse or rescale).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MARGIN = 3
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
INK = (20, 20, 20)
GRID = (170, 170, 170)
BLUE = (30, 90, 210)
PAPER = (236, 236, 236)  # outside the board

# fmt: off
GLYPHS: dict[str, tuple[str, ...]] = {
    "0": (".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."),
    "1": ("..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "2": (".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"),
    "3": ("#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."),
    "4": ("...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."),
    "5": ("#####", "#....", "####.", "....#", "....#", "#...#", ".###."),
    "6": ("..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."),
    "7": ("#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."),
    "8": (".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."),
    "9": (".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."),
    "?": (".###.", "#...#", "....#", "...#.", "..#..", ".....", "..#.."),
    "S": (".####", "#....", "#....", ".###.", "....#", "....#", "####."),
    "G": (".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".###."),
    "+": (".....", "..#..", "..#..", "#####", "..#..", "..#..", "....."),
}
# fmt: on
_GLYPH_BITS = {ch: np.array([[c == "#" for c in row] for row in rows], dtype=bool) for ch, rows in GLYPHS.items()}

# The standard ARC-AGI palette: 0 black, 1 blue, 2 red, 3 green, 4 yellow, 5 grey, 6 magenta, 7 orange,
# 8 light blue, 9 maroon.
ARC_PALETTE = np.array(
    [
        (0, 0, 0),
        (0, 116, 217),
        (255, 65, 54),
        (46, 204, 64),
        (255, 220, 0),
        (170, 170, 170),
        (240, 18, 190),
        (255, 133, 27),
        (127, 219, 255),
        (135, 12, 37),
    ],
    dtype=np.uint8,
)


# ---------------------------------------------------------------------------------------------------- primitives


def canvas(height: int, width: int, color: Sequence[int] = WHITE) -> np.ndarray:
    img = np.empty((height, width, 3), dtype=np.uint8)
    img[:] = color
    return img


def grid_size(rows: int, cols: int, cell: int) -> tuple[int, int]:
    """The picture size of an R x C grid with ``cell`` pixel cells (margins and the closing line included)."""
    return 2 * MARGIN + rows * cell + 1, 2 * MARGIN + cols * cell + 1


def frame_size(height: int, width: int, block: int = 16) -> tuple[int, int]:
    """``height`` x ``width`` rounded up to multiples of ``block``."""
    return -(-height // block) * block, -(-width // block) * block


def framed(img: np.ndarray, size: tuple[int, int] | None = None, color: Sequence[int] = WHITE) -> np.ndarray:
    """``img`` centred in a frame of ``size`` (default: its own size rounded up to multiples of 16)."""
    h, w = img.shape[:2]
    fh, fw = size or frame_size(h, w)
    if (fh, fw) == (h, w):
        return img
    out = canvas(fh, fw, color)
    top, left = (fh - h) // 2, (fw - w) // 2
    out[top : top + h, left : left + w] = img
    return out


def cell_size(rows: int, cols: int, target: int = 720, lo: int = 10, hi: int = 32) -> int:
    """An even cell size near ``target / max(rows, cols)``, within ``lo..hi`` pixels."""
    side = max(rows, cols, 1)
    return int(max(lo, min(hi, target // side)) // 2 * 2)


def fill_rect(img: np.ndarray, y0: int, x0: int, y1: int, x1: int, color: Sequence[int]) -> None:
    """Fill rows y0..y1-1, columns x0..x1-1, clipped to the picture."""
    h, w = img.shape[:2]
    y0, y1, x0, x1 = max(y0, 0), min(y1, h), max(x0, 0), min(x1, w)
    if y0 < y1 and x0 < x1:
        img[y0:y1, x0:x1] = color


def draw_cells(img: np.ndarray, colors: np.ndarray, cell: int, top: int = MARGIN, left: int = MARGIN) -> None:
    """Paint cell (r, c) with ``colors[r, c]`` (uint8 [R, C, 3]); grid lines are drawn afterwards over them."""
    rows, cols = colors.shape[:2]
    block = np.repeat(np.repeat(colors.astype(np.uint8), cell, axis=0), cell, axis=1)
    img[top : top + rows * cell, left : left + cols * cell] = block


def draw_grid(
    img: np.ndarray,
    rows: int,
    cols: int,
    cell: int,
    color: Sequence[int] = GRID,
    *,
    top: int = MARGIN,
    left: int = MARGIN,
    thick_rows: int = 0,
    thick_cols: int = 0,
    thick_color: Sequence[int] = BLACK,
) -> None:
    """Thin lines between all cells, then 3-pixel lines every ``thick_rows`` rows / ``thick_cols`` columns
    (0: only the outer frame is thick when either is set)."""
    for i in range(rows + 1):
        fill_rect(img, top + i * cell, left, top + i * cell + 1, left + cols * cell + 1, color)
    for j in range(cols + 1):
        fill_rect(img, top, left + j * cell, top + rows * cell + 1, left + j * cell + 1, color)
    if not (thick_rows or thick_cols):
        return
    for i in range(rows + 1):
        if i in (0, rows) or (thick_rows and i % thick_rows == 0):
            y = top + i * cell
            fill_rect(img, y - 1, left - 1, y + 2, left + cols * cell + 2, thick_color)
    for j in range(cols + 1):
        if j in (0, cols) or (thick_cols and j % thick_cols == 0):
            x = left + j * cell
            fill_rect(img, top - 1, x - 1, top + rows * cell + 2, x + 2, thick_color)


def draw_text(
    img: np.ndarray, text: str, y0: int, x0: int, height: int, width: int, color: Sequence[int], fill: float = 0.7
) -> None:
    """``text`` (characters of :data:`GLYPHS`) centred in the box (y0, x0, height, width), drawn with the largest
    whole-pixel scale that keeps it within ``fill`` of the box (at least 1; clipped to the box if even that is
    too big)."""
    text = "".join(ch for ch in text if ch in _GLYPH_BITS)
    if not text:
        return
    n = len(text)
    scale = max(1, min(int(height * fill) // 7, int(width * fill) // (6 * n - 1)))
    bits = np.zeros((7, 6 * n - 1), dtype=bool)
    for i, ch in enumerate(text):
        bits[:, 6 * i : 6 * i + 5] = _GLYPH_BITS[ch]
    bits = np.repeat(np.repeat(bits, scale, axis=0), scale, axis=1)
    th, tw = bits.shape
    ty, tx = y0 + (height - th) // 2, x0 + (width - tw) // 2
    # clip to the box and to the picture
    by0, bx0 = max(ty, y0, 0), max(tx, x0, 0)
    by1, bx1 = min(ty + th, y0 + height, img.shape[0]), min(tx + tw, x0 + width, img.shape[1])
    if by0 >= by1 or bx0 >= bx1:
        return
    mask = bits[by0 - ty : by1 - ty, bx0 - tx : bx1 - tx]
    img[by0:by1, bx0:bx1][mask] = color


def _local(cell: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates inside a cell (its grid line excluded), relative to the cell's centre."""
    inner = np.arange(1, cell) - cell / 2
    return np.meshgrid(inner, inner, indexing="ij")


def draw_disc(
    img: np.ndarray, y0: int, x0: int, cell: int, radius: float, color: Sequence[int], ring: float = 0.0
) -> None:
    """A filled disc (or, with ``ring`` > 0, a ring that thick) centred in the cell whose corner is (y0, x0)."""
    yy, xx = _local(cell)
    d2 = yy**2 + xx**2
    mask = d2 <= radius**2
    if ring:
        mask &= d2 >= (radius - ring) ** 2
    img[y0 + 1 : y0 + cell, x0 + 1 : x0 + cell][mask] = color


def draw_triangle(img: np.ndarray, y0: int, x0: int, cell: int, corner: str, color: Sequence[int]) -> None:
    """Shade the half of a cell on the side of ``corner`` ("bl", "br", "tr", "tl") of its diagonal."""
    i, j = np.meshgrid(np.arange(cell - 1), np.arange(cell - 1), indexing="ij")
    last = cell - 2
    mask = {"bl": j <= i, "br": i + j >= last, "tr": j >= i, "tl": i + j <= last}[corner]
    img[y0 + 1 : y0 + cell, x0 + 1 : x0 + cell][mask] = color


def draw_segment(img: np.ndarray, y0: int, x0: int, y1: int, x1: int, width: int, color: Sequence[int]) -> None:
    """An axis-aligned segment from (y0, x0) to (y1, x1), ``width`` pixels thick."""
    lo = width // 2
    fill_rect(img, min(y0, y1) - lo, min(x0, x1) - lo, max(y0, y1) - lo + width, max(x0, x1) - lo + width, color)


# ------------------------------------------------------------------------------------------------------- families


def sudoku_rgb(board: np.ndarray, givens: np.ndarray, box_rows: int, box_cols: int, cell: int = 32) -> np.ndarray:
    """A Sudoku: given digits black on light grey, placed digits blue on white, cells whose digit repeats in
    their row, column or box tinted red; thin lines between cells, thick ones around boxes."""
    board, givens = np.asarray(board), np.asarray(givens)
    s = board.shape[0]
    given = givens != 0
    clash = _sudoku_clashes(board, box_rows, box_cols)
    colors = np.empty((s, s, 3), dtype=np.uint8)
    colors[:] = WHITE
    colors[given] = (228, 228, 228)
    colors[clash] = (255, 190, 190)
    img = canvas(*grid_size(s, s, cell))
    draw_cells(img, colors, cell)
    draw_grid(img, s, s, cell, thick_rows=box_rows, thick_cols=box_cols)
    for r in range(s):
        for c in range(s):
            if board[r, c]:
                color = INK if given[r, c] else BLUE
                draw_text(
                    img, str(int(board[r, c])), MARGIN + r * cell + 1, MARGIN + c * cell + 1, cell - 1, cell - 1, color
                )
    return framed(img)


def _sudoku_clashes(board: np.ndarray, box_rows: int, box_cols: int) -> np.ndarray:
    """bool [s, s]: a filled cell whose digit another cell of its row, column or box also holds."""
    s = board.shape[0]
    rows, cols = np.indices((s, s))
    boxes = (rows // box_rows) * (s // box_cols) + cols // box_cols
    clash = np.zeros((s, s), dtype=bool)
    for unit in (rows, cols, boxes):
        counts = np.zeros((s, s + 1), dtype=np.int64)
        np.add.at(counts, (unit.ravel(), board.ravel().astype(np.int64)), 1)
        clash |= (counts[unit, board.astype(np.int64)] > 1) & (board != 0)
    return clash


MAZE_COLORS = np.array(
    [WHITE, (40, 44, 52), WHITE, (46, 160, 67), (214, 39, 40), (255, 165, 0)], dtype=np.uint8
)  # by code: (unused 0), wall 1, open 2, start 3, goal 4, path 5


def maze_rgb(board: np.ndarray, cell: int | None = None) -> np.ndarray:
    """A maze: walls dark, open cells white, the path orange, S green and G red (with their letters)."""
    board = np.asarray(board)
    n, m = board.shape
    cell = cell or cell_size(n, m)
    img = canvas(*grid_size(n, m, cell))
    draw_cells(img, MAZE_COLORS[np.clip(board, 0, len(MAZE_COLORS) - 1)], cell)
    draw_grid(img, n, m, cell, color=(200, 200, 200))
    for code, letter in ((3, "S"), (4, "G")):
        for r, c in np.argwhere(board == code):
            draw_text(img, letter, MARGIN + r * cell + 1, MARGIN + c * cell + 1, cell - 1, cell - 1, WHITE)
    return framed(img)


ARC_SIDE = 368  # pixels per side of one ARC grid's panel (grids are at most 30 x 30)
ARC_GAP = 32


def arc_rgb(input_grid: np.ndarray, output_grid: np.ndarray | None) -> np.ndarray:
    """The test input (left), an arrow, and the current output (right; a grey '?' until there is one), each
    centred in a square white panel of fixed size on grey paper, so the picture has one size (368 x 768)
    whatever the grids' sizes; cells of up to 32 pixels, the ARC palette, dark grid lines."""
    side = ARC_SIDE
    img = canvas(side, 2 * side + ARC_GAP, PAPER)
    for k, grid in enumerate((input_grid, output_grid)):
        x0 = k * (side + ARC_GAP)
        fill_rect(img, 0, x0, side, x0 + side, WHITE)
        if grid is None or np.asarray(grid).size == 0:
            draw_text(img, "?", 0, x0, side, side, GRID, fill=0.3)
            continue
        g = np.clip(np.asarray(grid, dtype=np.int64), 0, 9)
        h, w = g.shape
        cell = max(2, min(32, (side - 2 * MARGIN - 1) // max(h, w)))
        top = (side - h * cell - 1) // 2
        left = x0 + (side - w * cell - 1) // 2
        draw_cells(img, ARC_PALETTE[g], cell, top=top, left=left)
        draw_grid(img, h, w, cell, color=(85, 85, 85), top=top, left=left)
    mid, tip = side // 2, side + ARC_GAP - 6
    draw_segment(img, mid, side + 6, mid, tip - 4, 3, GRID)
    for d in range(7):  # the head: d pixels back from the tip, d pixels above and below the shaft's middle
        fill_rect(img, mid - d, tip - d, mid + d + 1, tip - d + 1, GRID)
    return img


SHADE = (45, 45, 45)
LINE = (0, 150, 70)
ANSWER_BORDER = BLUE
BULB = (255, 200, 0)
TRIANGLES = {2: "bl", 3: "br", 4: "tr", 5: "tl"}  # shakashaka's qans: the shaded corner
ARROWS = {1: "up", 2: "down", 3: "left", 4: "right"}  # qdir
WALL_CLUES = frozenset({"lightup", "shakashaka"})  # clue cells are black walls ("?" = a wall with no number)


def tapa_clue(packed: int) -> str:
    """A tapa cell's clue list, packed base 11 with digit n+1 ('?' is 10), as text: 26 -> "13"."""
    digits = []
    while packed > 0:
        packed, d = divmod(packed, 11)
        digits.append("?" if d == 10 else str(d - 1))
    return "".join(reversed(digits))


def ppbench_rgb(
    givens: np.ndarray,
    answer: np.ndarray,
    canvas_layout: tuple[int, int],
    *,
    pid: str = "",
    number_entry: bool = False,
) -> np.ndarray:
    """A pencil puzzle in the (2R+1) x (2C+1) layout of ``ppbench/layout.py``: clue numbers black (tapa's lists,
    '?' and arrows too; white on the black wall cells of light up and shakashaka), grey cells for given cell
    kinds, S and G, shaded answer cells dark (light bulbs yellow, shakashaka's triangles as half cells), numbers
    entered blue, given region borders thick black, borders drawn blue, lines green (along the edges for
    slitherlink, from cell centre to cell centre otherwise), mashu's circles white and black. The frame is
    sized for ``canvas_layout`` (the set's largest board, so every puzzle of an env gives one size); each board
    is drawn as large as fits in it (cells of up to 32 pixels), centred on grey paper."""
    givens, answer = np.asarray(givens), np.asarray(answer)
    h, w = givens.shape[1:]
    rows, cols = (h - 1) // 2, (w - 1) // 2
    max_rows, max_cols = (canvas_layout[0] - 1) // 2, (canvas_layout[1] - 1) // 2
    frame = frame_size(*grid_size(max_rows, max_cols, cell_size(max_rows, max_cols, target=800)))
    fit = min((frame[0] - 2 * MARGIN - 1) // rows, (frame[1] - 2 * MARGIN - 1) // cols)
    cell = max(4, min(32, fit) // 2 * 2)
    img = canvas(*grid_size(rows, cols, cell))
    qnum, qdir, ques, region, start_goal = (givens[i, 1::2, 1::2] if i < 3 else givens[i] for i in range(5))
    values, lines, borders = answer[0, 1::2, 1::2], answer[1], answer[2]
    walls = (qnum != -1) if pid in WALL_CLUES else np.zeros_like(qnum, dtype=bool)

    colors = np.empty((rows, cols, 3), dtype=np.uint8)
    colors[:] = WHITE
    colors[ques > 0] = (200, 200, 200)
    if not number_entry and pid != "lightup":
        colors[(values > 0) & ~np.isin(values, list(TRIANGLES))] = SHADE
    colors[walls] = SHADE
    draw_cells(img, colors, cell)
    draw_grid(img, rows, cols, cell, color=(190, 190, 190))
    for r in range(rows):
        for c in range(cols):
            y0, x0 = MARGIN + r * cell, MARGIN + c * cell
            box = (y0 + 1, x0 + 1, cell - 1, cell - 1)
            value, q = int(values[r, c]), int(qnum[r, c])
            if value and not number_entry:
                if pid == "lightup":
                    draw_disc(img, y0, x0, cell, cell * 0.3, BULB)
                elif value in TRIANGLES:
                    draw_triangle(img, y0, x0, cell, TRIANGLES[value], SHADE)
            ink = WHITE if (colors[r, c] == SHADE).all() else INK
            if start_goal[2 * r + 1, 2 * c + 1]:
                draw_text(img, "SG"[int(start_goal[2 * r + 1, 2 * c + 1]) - 1], *box, ink)
            elif pid == "mashu" and q in (1, 2):
                draw_disc(img, y0, x0, cell, cell * 0.36, INK, ring=0 if q == 2 else max(1.5, cell / 14))
            elif q >= 0 or (q == -2 and not walls[r, c]):
                draw_text(img, "?" if q == -2 else tapa_clue(q) if pid == "tapa" else str(q), *box, ink)
            elif number_entry and value:
                draw_text(img, str(value), *box, BLUE)
            if int(qdir[r, c]) in ARROWS:
                _arrow(img, y0, x0, cell, ARROWS[int(qdir[r, c])], ink)

    def px(q: int) -> int:  # the pixel of a layout coordinate (cells sit at odd ones, edges at even ones)
        return MARGIN + q * cell // 2

    for ya, xa, yb, xb in ((0, 0, 0, w - 1), (h - 1, 0, h - 1, w - 1), (0, 0, h - 1, 0), (0, w - 1, h - 1, w - 1)):
        draw_segment(img, px(ya), px(xa), px(yb), px(xb), 3, BLACK)  # the frame
    # edges: a vertical edge sits at an even x (and odd y), a horizontal one at an even y (and odd x)
    width = max(2, cell // 8)
    for y, x in np.argwhere((np.arange(h)[:, None] % 2) != (np.arange(w)[None, :] % 2)):
        vertical = x % 2 == 0
        along = (y - 1, x, y + 1, x) if vertical else (y, x - 1, y, x + 1)
        if region[y, x] or borders[y, x]:
            ya, xa, yb, xb = along
            draw_segment(img, px(ya), px(xa), px(yb), px(xb), 3, BLACK if region[y, x] else ANSWER_BORDER)
        if lines[y, x]:
            if pid == "slither":
                ya, xa, yb, xb = along
            elif vertical:  # across the edge, centre to centre (cut at the frame)
                ya, xa, yb, xb = y, max(x - 1, 0), y, min(x + 1, w - 1)
            else:
                ya, xa, yb, xb = max(y - 1, 0), x, min(y + 1, h - 1), x
            draw_segment(img, px(ya), px(xa), px(yb), px(xb), width, LINE)
    return framed(img, frame, PAPER)


def _arrow(img: np.ndarray, y0: int, x0: int, cell: int, direction: str, color: Sequence[int]) -> None:
    """A small wedge inside the cell against the side it points to (a clue's arrow), its tip at that side."""
    size, mid = max(2, cell // 6), cell // 2
    for d in range(size):  # d pixels from the tip, the wedge d pixels wide on each side of the middle
        if direction in ("up", "down"):
            y = y0 + 2 + d if direction == "up" else y0 + cell - 2 - d
            fill_rect(img, y, x0 + mid - d, y + 1, x0 + mid + d + 1, color)
        else:
            x = x0 + 2 + d if direction == "left" else x0 + cell - 2 - d
            fill_rect(img, y0 + mid - d, x, y0 + mid + d + 1, x + 1, color)
