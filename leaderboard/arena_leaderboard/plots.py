"""Inline SVG plots for the static site: no JavaScript library and no network, so file:// pages render.

Every plot has a visible title, axis labels and a legend with one colour per agent kind present (baseline,
recursive model, LLM, RL, other; :func:`plot_kind` derives it from the agent card). Point labels are placed
greedily: each tries positions around its point, then shorter forms of itself, and is left out (its mark keeps
the full name as a tooltip) when none fits inside the plot area without touching other text or marks. The
geometry uses a fixed per-character width estimate (``CHAR_W`` em), so every text box is known here and the
tests check that no two overlap and all lie inside the viewBox. Entries without a value on a log axis (unknown
parameters, a cost of 0) are listed beside the plot instead of being drawn at a made-up position.

Every label that can come from a submission goes through :func:`esc`.
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

WIDTH, HEIGHT = 560, 340
LEFT, RIGHT, BOTTOM = 60, 14, 42
PANEL_W = 150  # the list of entries off a log axis, right of the plot area
CHAR_W = 0.6  # estimated advance of one character, in em (sans-serif digits ~0.55, capitals ~0.65)
ASCENT, DESCENT = 0.8, 0.25  # of a text line, in em, above and below the baseline
FONT = {"title": 12, "label": 11, "tick": 10, "legend": 10, "point-label": 9, "panel": 9, "panel-head": 10, "empty": 11}
MARK_R = 4.5

KINDS = ("baseline", "recursive model", "LLM", "RL", "other")
KIND_COLOURS = {
    "baseline": "#b35900",
    "recursive model": "#1b7f3b",
    "LLM": "#1f5fbf",
    "RL": "#c0392b",
    "other": "#666666",
}
RL_NAMES = frozenset({"rl", "ppo", "maskableppo", "maskable_ppo", "recurrentppo", "dqn", "a2c", "sac", "sb3"})


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def plot_kind(card: Mapping[str, Any]) -> str:
    """The legend kind of an agent card (or a summary with ``agent_kind`` / ``agent_name``).

    The card's kind says baseline / recursive / llm / tool-assisted / rl; an older card without the rl kind is
    still drawn as RL when its name says so (``ppo``, ``sb3``, ``rl-...``, ``dqn``...). Anything else is "other"."""
    kind = str(card.get("kind") or card.get("agent_kind") or "").lower()
    name = str(card.get("name") or card.get("agent_name") or "").lower()
    stem = name.replace("-", "_").split(":")[0]
    if kind == "rl" or stem in RL_NAMES or stem.startswith(("rl_", "ppo_", "maskableppo")):
        return "RL"
    if kind == "baseline":
        return "baseline"
    if kind == "recursive":
        return "recursive model"
    if kind == "llm" or (kind == "tool-assisted" and stem == "llm"):
        return "LLM"
    return "other"


# -- number formats ----------------------------------------------------------------------------------------


def _digits(v: float) -> str:
    """One decimal below 10, none above; a trailing ".0" dropped ("9.7", "12", "1")."""
    text = f"{v:.1f}" if v < 9.95 else f"{v:.0f}"
    return text.removesuffix(".0")


def format_seconds(s: float | None) -> str:
    """Seconds in a readable unit: ``9.7 us``, ``12 ms``, ``1.5 s``, ``2.5 min``, ``1.2 h``; "–" when unknown."""
    if s is None or not math.isfinite(s):
        return "–"
    if s < 0:
        return "-" + format_seconds(-s)
    if s == 0:
        return "0 s"
    if s >= 3600:
        return f"{_digits(s / 3600)} h"
    if s >= 60:
        return f"{_digits(s / 60)} min"
    units = (("ns", 1e-9), ("us", 1e-6), ("ms", 1e-3), ("s", 1.0))
    i = max((j for j, (_, scale) in enumerate(units) if s >= scale * 0.9995), default=0)
    text = _digits(s / units[i][1])
    if float(text) >= 1000 and i + 1 < len(units):  # 999.97 ns rounds to 1000: say 1 us
        i += 1
        text = _digits(s / units[i][1])
    return f"{text} {units[i][0]}"


def format_dollars(d: float | None) -> str:
    """Dollars with two significant digits below $1 (``$0.012``, ``$0.00042``), cents above, "–" when unknown."""
    if d is None or not math.isfinite(d):
        return "–"
    if d < 0:
        return "-" + format_dollars(-d)
    if d == 0:
        return "$0"
    if d >= 1000:
        return f"${d:,.0f}"
    if d >= 1:
        return f"${d:,.2f}"
    if d < 1e-6:
        return "<$0.000001"
    decimals = 1 - math.floor(math.log10(d))
    return f"${d:.{decimals}f}"


def format_count(n: float | None) -> str:
    """A count with k / M / B (parameters, tokens): ``1.5M``, ``106k``, ``7``; "–" when unknown."""
    if n is None or not math.isfinite(n):
        return "–"
    a = abs(n)
    for unit, scale in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if a >= scale:
            v = n / scale
            return (f"{v:.1f}".removesuffix(".0") if abs(v) < 10 else f"{v:.0f}") + unit
    return f"{n:g}"


def _fmt_tick(v: float) -> str:
    if v == 0:
        return "0"
    a = abs(v)
    for unit, scale in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if a >= scale:
            return f"{v / scale:g}{unit}"
    if a >= 0.01:
        return f"{v:g}"
    return f"{v:.0e}"


# -- geometry ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Box) -> bool:
        return self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1

    def inside(self, other: Box) -> bool:
        return self.x0 >= other.x0 and self.y0 >= other.y0 and self.x1 <= other.x1 and self.y1 <= other.y1


VIEW = Box(0.0, 0.0, float(WIDTH), float(HEIGHT))


def text_width(text: str, size: float) -> float:
    return len(text) * CHAR_W * size


def text_box(x: float, y: float, text: str, size: float, anchor: str = "start", *, rotated: bool = False) -> Box:
    """The box a text takes at baseline point (x, y); ``rotated``: turned -90 degrees about (x, y)."""
    w = text_width(text, size)
    start = {"start": 0.0, "middle": -w / 2, "end": -w}[anchor]
    if rotated:  # the text runs upwards from (x, y - start); its ascent points left
        return Box(x - ASCENT * size, y - start - w, x + DESCENT * size, y - start)
    return Box(x + start, y - ASCENT * size, x + start + w, y + DESCENT * size)


def fit(text: str, width: float, size: float) -> str:
    """``text``, cut with an ellipsis to fit ``width`` ("" when not even one character and the ellipsis fit)."""
    if text_width(text, size) <= width:
        return text
    n = int(width / (CHAR_W * size)) - 1
    return text[:n].rstrip() + "…" if n >= 1 else ""


def _abbreviations(label: str) -> list[str]:
    """The label, then shorter forms of it (an agent spec keeps its name and hash suffix when it has one)."""
    out = [label]
    head, sep, tag = label.rpartition("#")
    for n in (16, 10):
        if sep and len(head) > n:
            out.append(head[:n].rstrip() + "…#" + tag)
        if len(label) > n + 1:
            out.append(label[:n].rstrip() + "…")
    return list(dict.fromkeys(out))


class Canvas:
    """SVG parts plus the boxes already taken by text and marks (what a new label must not touch)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.taken: list[Box] = []

    def free(self, box: Box, area: Box = VIEW) -> bool:
        return box.inside(area) and not any(box.overlaps(t) for t in self.taken)

    def text(
        self,
        x: float,
        y: float,
        text: str,
        cls: str,
        anchor: str = "start",
        *,
        rotated: bool = False,
        weight: str = "",
        clamp: bool = True,
    ) -> Box:
        """Draw ``text`` (unescaped here, escaped on output); ``clamp`` shifts it sideways into the viewBox."""
        size = FONT[cls]
        box = text_box(x, y, text, size, anchor, rotated=rotated)
        if clamp and not rotated:
            shift = max(0.0, VIEW.x0 - box.x0) - max(0.0, box.x1 - VIEW.x1)
            x += shift
            box = Box(box.x0 + shift, box.y0, box.x1 + shift, box.y1)
        style = f"font-size:{size}px" + (f";font-weight:{weight}" if weight else "")
        turn = f' transform="rotate(-90 {x:.1f} {y:.1f})"' if rotated else ""
        self.parts.append(
            f'<text class="{cls}" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" style="{style}"{turn}>'
            f"{esc(text)}</text>"
        )
        self.taken.append(box)
        return box

    def mark_box(self, cx: float, cy: float, r: float = MARK_R) -> None:
        self.taken.append(Box(cx - r - 1, cy - r - 1, cx + r + 1, cy + r + 1))

    def place_label(self, cx: float, cy: float, label: str, area: Box, r: float = MARK_R) -> str | None:
        """Greedy placement of a point's label: right, left, above, below and the diagonals, each with the full
        label first and shorter forms after; None when nothing fits (the label is left out)."""
        size = FONT["point-label"]
        gap = r + 2
        mid = cy + (ASCENT - DESCENT) * size / 2  # baseline that centres the text vertically on the point
        spots = (
            (cx + gap, mid, "start"),
            (cx - gap, mid, "end"),
            (cx, cy - gap - DESCENT * size, "middle"),
            (cx, cy + gap + ASCENT * size, "middle"),
            (cx + r - 1, cy - gap - DESCENT * size, "start"),
            (cx + r - 1, cy + gap + ASCENT * size, "start"),
            (cx - r + 1, cy - gap - DESCENT * size, "end"),
            (cx - r + 1, cy + gap + ASCENT * size, "end"),
        )
        for text in _abbreviations(label):
            for x, y, anchor in spots:
                if self.free(text_box(x, y, text, size, anchor), area):
                    self.text(x, y, text, "point-label", anchor, clamp=False)
                    return text
        return None


# -- axes --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Axis:
    label: str
    log: bool = False
    lo: float = 0.0
    hi: float = 1.0
    fmt: Callable[[float], str] = _fmt_tick  # tick and tooltip text
    unknown: str = "no value"  # heading of the list of entries that have no place on a log axis


def log_axis(label: str, values: Sequence[float | None], *, fmt: Callable[[float], str] = _fmt_tick, **kw: Any) -> Axis:
    """A log axis covering the positive values in whole decades (one decade when there are none)."""
    pos = [v for v in values if v is not None and v > 0]
    if pos:
        lo, hi = math.floor(math.log10(min(pos))), math.ceil(math.log10(max(pos)))
        hi = max(hi, lo + 1)
    else:
        lo, hi = 0, 1
    return Axis(label, log=True, lo=10.0**lo, hi=10.0**hi, fmt=fmt, **kw)


def on_axis(axis: Axis, v: float | None) -> bool:
    """Whether ``v`` has a place on ``axis`` (None, NaN and, on a log axis, values <= 0 have none)."""
    return v is not None and math.isfinite(v) and not (axis.log and v <= 0)


class Frame:
    """Maps data to pixels for one plot area and draws its axes."""

    def __init__(self, x: Axis, y: Axis, *, top: float = 44.0, right: float = WIDTH - RIGHT) -> None:
        self.x, self.y = x, y
        self.x0, self.x1 = float(LEFT), float(right)
        self.y0, self.y1 = float(HEIGHT - BOTTOM), float(top)

    @property
    def area(self) -> Box:
        return Box(self.x0 + 1, self.y1, self.x1 - 1, self.y0 - 1)

    def px(self, v: float) -> float:
        if self.x.log:
            v = max(v, 1e-300)
            t = (math.log10(v) - math.log10(self.x.lo)) / (math.log10(self.x.hi) - math.log10(self.x.lo))
        else:
            t = (v - self.x.lo) / ((self.x.hi - self.x.lo) or 1.0)
        return self.x0 + min(max(t, 0.0), 1.0) * (self.x1 - self.x0)

    def py(self, v: float) -> float:
        t = (v - self.y.lo) / ((self.y.hi - self.y.lo) or 1.0)
        return self.y0 - min(max(t, 0.0), 1.0) * (self.y0 - self.y1)

    def axes(self, c: Canvas, *, xticks: bool = True) -> None:
        """Axis lines, grid, ticks and labels; ``xticks=False`` leaves the x scale out (no value lies on it)."""
        c.parts += [
            f'<line class="axis" x1="{self.x0}" y1="{self.y0}" x2="{self.x1}" y2="{self.y0}"/>',
            f'<line class="axis" x1="{self.x0}" y1="{self.y0}" x2="{self.x0}" y2="{self.y1}"/>',
        ]
        for v in self._xticks() if xticks else ():
            x = self.px(v)
            c.parts.append(f'<line class="grid" x1="{x:.1f}" y1="{self.y0}" x2="{x:.1f}" y2="{self.y1}"/>')
            label = self.x.fmt(v)
            for anchor in ("middle", "end", "start"):  # an edge tick turns inwards rather than leave the view
                if c.free(text_box(x, self.y0 + 15, label, FONT["tick"], anchor)):
                    c.text(x, self.y0 + 15, label, "tick", anchor, clamp=False)
                    break
        for i in range(6):
            v = self.y.lo + (self.y.hi - self.y.lo) * i / 5
            y = self.py(v)
            c.parts.append(f'<line class="grid" x1="{self.x0}" y1="{y:.1f}" x2="{self.x1}" y2="{y:.1f}"/>')
            c.text(self.x0 - 5, y + 3.5, self.y.fmt(v), "tick", "end")
        size = FONT["label"]
        c.text((self.x0 + self.x1) / 2, HEIGHT - 7, fit(self.x.label, self.x1 - self.x0, size), "label", "middle")
        ylabel = fit(self.y.label, self.y0 - self.y1, size)
        c.text(14, (self.y0 + self.y1) / 2, ylabel, "label", "middle", rotated=True)

    def _xticks(self) -> list[float]:
        if self.x.log:
            lo, hi = round(math.log10(self.x.lo)), round(math.log10(self.x.hi))
            step = max(1, math.ceil((hi - lo) / 7))
            return [10.0**e for e in range(lo, hi + 1, step)]
        span = self.x.hi - self.x.lo
        if span <= 16 and float(self.x.lo).is_integer() and float(self.x.hi).is_integer():
            step = max(1, math.ceil(span / 8))
            return [float(v) for v in range(int(self.x.lo), int(self.x.hi) + 1, step)]
        return [self.x.lo + span * i / 5 for i in range(6)]


# -- plots -------------------------------------------------------------------------------------------------


@dataclass
class Series:
    label: str
    kind: str  # one of KINDS (see plot_kind); anything else is drawn as "other"
    points: list[tuple[float | None, float]] = field(default_factory=list)

    @property
    def colour(self) -> str:
        return KIND_COLOURS.get(self.kind, KIND_COLOURS["other"])

    @property
    def legend_kind(self) -> str:
        return self.kind if self.kind in KIND_COLOURS else "other"


def _head(c: Canvas, title: str, series: Sequence[Series]) -> float:
    """Title and legend (one entry per kind present, in KINDS order); returns the top of the plot area."""
    c.text(WIDTH / 2, 17, fit(title, WIDTH - 20, FONT["title"]), "title", "middle", weight="600")
    present = {s.legend_kind for s in series}
    kinds = [k for k in KINDS if k in present]
    x, y = float(LEFT), 34.0
    size = FONT["legend"]
    for kind in kinds:
        w = 12 + text_width(kind, size)
        if x + w > WIDTH - RIGHT:
            x, y = float(LEFT), y + 14
        c.parts.append(
            f'<circle class="legend-mark" cx="{x + 4:.1f}" cy="{y - 3.5:.1f}" r="4" fill="{KIND_COLOURS[kind]}"/>'
        )
        c.taken.append(Box(x, y - 8, x + 8, y + 1))
        c.text(x + 11, y, kind, "legend", clamp=False)
        x += w + 14
    return y + 12


def _svg(title: str, c: Canvas, css_class: str, aria: str | None) -> str:
    label = aria or title
    return (
        f'<svg class="plot {css_class}" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{esc(label)}"><title>{esc(label)}</title>' + "".join(c.parts) + "</svg>"
    )


def _empty(c: Canvas, frame: Frame, message: str) -> None:
    area = frame.area
    text = fit(message, area.x1 - area.x0 - 8, FONT["empty"])
    c.text((area.x0 + area.x1) / 2, (area.y0 + area.y1) / 2, text, "empty", "middle")


def _panel(c: Canvas, frame: Frame, heading: str, rows: Sequence[tuple[Series, float]], y: Axis) -> None:
    """The entries without a place on the x axis, listed right of the plot area with their score."""
    x0 = frame.x1 + 12
    width = WIDTH - RIGHT - x0
    c.text(x0, frame.y1 + 8, fit(heading, width, FONT["panel-head"]), "panel-head", weight="600", clamp=False)
    step = 13.0
    first = frame.y1 + 8 + step + 2
    room = int((frame.y0 - first) // step) + 1
    shown = rows if len(rows) <= room else rows[: room - 1]
    for i, (s, score) in enumerate(shown):
        yb = first + i * step
        c.parts.append(
            f'<circle class="mark" cx="{x0 + 4:.1f}" cy="{yb - 3:.1f}" r="4" fill="{s.colour}" fill-opacity="0.85">'
            f"<title>{esc(s.label)}: {esc(frame.x.unknown)}, {esc(y.label)} {esc(y.fmt(score))}</title></circle>"
        )
        c.taken.append(Box(x0, yb - 8, x0 + 8, yb + 2))
        value = y.fmt(score)
        name = fit(s.label, width - 12 - text_width(" " + value, FONT["panel"]), FONT["panel"])
        c.text(x0 + 11, yb, f"{name} {value}".strip(), "panel", clamp=False)
    if len(shown) < len(rows):
        c.text(x0 + 11, first + len(shown) * step, f"+{len(rows) - len(shown)} more", "panel", clamp=False)


def _score(v: float) -> str:
    return f"{v:.3f}"


def scatter(
    title: str,
    series: Sequence[Series],
    x: Axis,
    y: Axis,
    css_class: str,
    empty: str,
    *,
    aria: str | None = None,
) -> str:
    """One labelled point per series (its first point); series whose x has no place on the axis are listed
    beside the plot (``x.unknown`` heads the list)."""
    c = Canvas()
    top = _head(c, title, series)
    first = [(s, s.points[0]) for s in series if s.points]
    placed = [(s, xv, yv) for s, (xv, yv) in first if on_axis(x, xv)]
    off = [(s, yv) for s, (xv, yv) in first if not on_axis(x, xv)]
    right = WIDTH - RIGHT - (PANEL_W + 12 if off else 0)
    frame = Frame(x, y, top=top, right=right)
    frame.axes(c, xticks=bool(placed) or not first)
    coords = [(s, frame.px(xv), frame.py(yv), xv, yv) for s, xv, yv in placed]  # type: ignore[arg-type]
    for s, cx, cy, xv, yv in coords:
        c.parts.append(
            f'<circle class="mark" cx="{cx:.1f}" cy="{cy:.1f}" r="{MARK_R}" fill="{s.colour}" fill-opacity="0.8">'
            f"<title>{esc(s.label)} ({esc(s.legend_kind)}): {esc(x.label)} {esc(x.fmt(xv))}, "
            f"{esc(y.label)} {esc(_score(yv))}</title></circle>"
        )
        c.mark_box(cx, cy)
    for s, cx, cy, _, _ in coords:
        c.place_label(cx, cy, s.label, frame.area)
    if off:
        _panel(c, frame, x.unknown, off, Axis(y.label, fmt=_score))
    if not first:
        _empty(c, frame, empty)
    elif not placed:
        _empty(c, frame, "no entry has a value on this axis")
    return _svg(title, c, css_class, aria)


def lines(
    title: str,
    series: Sequence[Series],
    x: Axis,
    y: Axis,
    css_class: str,
    empty: str,
    *,
    step: bool,
    aria: str | None = None,
) -> str:
    """One polyline per series (a step curve when ``step``); a single point is drawn as a dot. Each line's
    label is placed near its last point."""
    c = Canvas()
    top = _head(c, title, series)
    frame = Frame(x, y, top=top)
    frame.axes(c)
    ends = []
    for s in series:
        pts = [(frame.px(a), frame.py(b)) for a, b in s.points if a is not None]
        if not pts:
            continue
        tip = f"<title>{esc(s.label)} ({esc(s.legend_kind)})</title>"
        if len(pts) == 1:
            c.parts.append(
                f'<circle class="mark" cx="{pts[0][0]:.1f}" cy="{pts[0][1]:.1f}" r="4" fill="{s.colour}">{tip}</circle>'
            )
        else:
            if step:  # horizontal then vertical, so the curve is the right-continuous step function
                path = [pts[0]]
                for (_, ya), (xb, yb) in itertools.pairwise(pts):
                    path += [(xb, ya), (xb, yb)]
                pts = path
            d = " ".join(f"{px:.1f},{py:.1f}" for px, py in pts)
            c.parts.append(
                f'<polyline class="mark" points="{d}" fill="none" stroke="{s.colour}" stroke-width="2" '
                f'stroke-opacity="0.85">{tip}</polyline>'
            )
        c.mark_box(*pts[-1], r=3)
        ends.append((s, pts[-1]))
    for s, (ex, ey) in ends:
        c.place_label(ex, ey, s.label, frame.area, r=3)
    if not ends:
        _empty(c, frame, empty)
    return _svg(title, c, css_class, aria)
