"""Inline SVG plots for the static site: no JavaScript library and no network, so file:// pages render.

Every label that can come from a submission goes through :func:`esc`. Log axes get a separate "none" slot
left of an axis break for values that cannot sit on a log scale (a baseline without parameters, a cost of 0),
so those entries stay visible instead of silently vanishing.
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

WIDTH, HEIGHT = 460, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 30, 44
KIND_COLOURS = {
    "recursive": "#1b7f3b",
    "llm": "#1f5fbf",
    "tool-assisted": "#8a3fc0",
    "baseline": "#b35900",
}
OTHER_COLOUR = "#555555"


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


@dataclass
class Series:
    label: str
    kind: str
    points: list[tuple[float | None, float]] = field(default_factory=list)  # x None = the "none" slot

    @property
    def colour(self) -> str:
        return KIND_COLOURS.get(self.kind, OTHER_COLOUR)


@dataclass(frozen=True)
class Axis:
    label: str
    log: bool = False
    lo: float = 0.0
    hi: float = 1.0
    none_slot: bool = False  # reserve room left of the axis for x=None values


def _fmt_tick(v: float) -> str:
    if v == 0:
        return "0"
    a = abs(v)
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if a >= scale:
            return f"{v / scale:g}{unit}"
    if a >= 0.01:
        return f"{v:g}"
    return f"{v:.0e}"


def log_axis(label: str, values: Sequence[float | None], *, none_slot: bool = True) -> Axis:
    """A log axis covering the positive values in whole decades (one decade when there are none)."""
    pos = [v for v in values if v is not None and v > 0]
    if pos:
        lo, hi = math.floor(math.log10(min(pos))), math.ceil(math.log10(max(pos)))
        hi = max(hi, lo + 1)
    else:
        lo, hi = 0, 1
    has_none = any(v is None or v <= 0 for v in values)
    return Axis(label, log=True, lo=10.0**lo, hi=10.0**hi, none_slot=none_slot and has_none)


class Frame:
    """Maps data to pixels for one plot and draws its axes."""

    def __init__(self, x: Axis, y: Axis) -> None:
        self.x, self.y = x, y
        self.slot = 34 if x.none_slot else 0  # pixels for the "none" slot
        self.x0 = LEFT + self.slot
        self.x1 = WIDTH - RIGHT
        self.y0 = HEIGHT - BOTTOM
        self.y1 = TOP

    def px(self, v: float | None) -> float:
        if v is None or (self.x.log and v <= 0):
            return LEFT + self.slot / 2 - 4
        if self.x.log:
            t = (math.log10(v) - math.log10(self.x.lo)) / (math.log10(self.x.hi) - math.log10(self.x.lo))
        else:
            t = (v - self.x.lo) / ((self.x.hi - self.x.lo) or 1.0)
        return self.x0 + min(max(t, 0.0), 1.0) * (self.x1 - self.x0)

    def py(self, v: float) -> float:
        t = (v - self.y.lo) / ((self.y.hi - self.y.lo) or 1.0)
        return self.y0 - min(max(t, 0.0), 1.0) * (self.y0 - self.y1)

    def axes(self) -> list[str]:
        out = [
            f'<line class="axis" x1="{self.x0}" y1="{self.y0}" x2="{self.x1}" y2="{self.y0}"/>',
            f'<line class="axis" x1="{self.x0}" y1="{self.y0}" x2="{self.x0}" y2="{self.y1}"/>',
        ]
        for v in self._xticks():
            x = self.px(v)
            out.append(f'<line class="grid" x1="{x:.1f}" y1="{self.y0}" x2="{x:.1f}" y2="{self.y1}"/>')
            out.append(f'<text class="tick" x="{x:.1f}" y="{self.y0 + 14}" text-anchor="middle">{_fmt_tick(v)}</text>')
        for i in range(6):
            v = self.y.lo + (self.y.hi - self.y.lo) * i / 5
            y = self.py(v)
            out.append(f'<line class="grid" x1="{self.x0}" y1="{y:.1f}" x2="{self.x1}" y2="{y:.1f}"/>')
            out.append(f'<text class="tick" x="{self.x0 - 4}" y="{y + 4:.1f}" text-anchor="end">{v:g}</text>')
        if self.x.none_slot:
            mid = LEFT + self.slot / 2 - 4
            out.append(f'<text class="tick" x="{mid:.1f}" y="{self.y0 + 14}" text-anchor="middle">none</text>')
            out.append(
                f'<path class="axis" d="M{self.x0 - 6},{self.y0 + 4} l4,-8 M{self.x0 - 2},{self.y0 + 4} l4,-8"/>'
            )
        out.append(
            f'<text class="label" x="{(self.x0 + self.x1) / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
            f"{esc(self.x.label)}</text>"
        )
        out.append(
            f'<text class="label" transform="translate(14 {(self.y0 + self.y1) / 2:.1f}) rotate(-90)" '
            f'text-anchor="middle">{esc(self.y.label)}</text>'
        )
        return out

    def _xticks(self) -> list[float]:
        if self.x.log:
            lo, hi = round(math.log10(self.x.lo)), round(math.log10(self.x.hi))
            step = max(1, math.ceil((hi - lo) / 6))
            return [10.0**e for e in range(lo, hi + 1, step)]
        span = self.x.hi - self.x.lo
        if span <= 12 and float(self.x.lo).is_integer() and float(self.x.hi).is_integer():
            step = max(1, math.ceil(span / 8))
            return [float(v) for v in range(int(self.x.lo), int(self.x.hi) + 1, step)]
        return [self.x.lo + span * i / 5 for i in range(6)]


def _svg(title: str, body: list[str], css_class: str) -> str:
    return (
        f'<svg class="plot {css_class}" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{esc(title)}"><title>{esc(title)}</title>' + "".join(body) + "</svg>"
    )


def _legend(series: Sequence[Series], frame: Frame) -> list[str]:
    """The kinds present, in one row above the plot area (points carry the agent name as label and tooltip)."""
    kinds = list(dict.fromkeys(s.kind for s in series))
    out = []
    x = float(frame.x0)
    for kind in kinds:
        colour = KIND_COLOURS.get(kind, OTHER_COLOUR)
        out.append(f'<circle cx="{x + 4:.1f}" cy="12" r="4" fill="{colour}"/>')
        out.append(f'<text class="legend" x="{x + 11:.1f}" y="16">{esc(kind)}</text>')
        x += 20 + 6.5 * len(kind)
    return out


def scatter(title: str, series: Sequence[Series], x: Axis, y: Axis, css_class: str, empty: str) -> str:
    """One labelled point per series (its first point)."""
    frame = Frame(x, y)
    body = frame.axes()
    drawn = 0
    for s in series:
        for xv, yv in s.points[:1]:
            cx, cy = frame.px(xv), frame.py(yv)
            shown_x = "none" if xv is None or (x.log and xv <= 0) else _fmt_tick(xv)
            body.append(
                f'<circle class="mark" cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="{s.colour}" fill-opacity="0.8">'
                f"<title>{esc(s.label)}: {esc(x.label)} {shown_x}, {esc(y.label)} {yv:.4f}</title></circle>"
            )
            body.append(f'<text class="point-label" x="{cx + 7:.1f}" y="{cy - 6:.1f}">{esc(s.label[:28])}</text>')
            drawn += 1
    if not drawn:
        body.append(f'<text class="empty" x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">{esc(empty)}</text>')
    return _svg(title, body + _legend(series, frame), css_class)


def lines(title: str, series: Sequence[Series], x: Axis, y: Axis, css_class: str, empty: str, *, step: bool) -> str:
    """One polyline per series (a step curve when ``step``); a single point is drawn as a dot."""
    frame = Frame(x, y)
    body = frame.axes()
    drawn = 0
    for s in series:
        pts = [(frame.px(a), frame.py(b)) for a, b in s.points]
        if not pts:
            continue
        tip = f"<title>{esc(s.label)}</title>"
        if len(pts) == 1:
            body.append(
                f'<circle class="mark" cx="{pts[0][0]:.1f}" cy="{pts[0][1]:.1f}" r="4" fill="{s.colour}">{tip}</circle>'
            )
        else:
            if step:  # horizontal then vertical, so the curve is the right-continuous step function
                path = [pts[0]]
                for (_, ya), (xb, yb) in itertools.pairwise(pts):
                    path += [(xb, ya), (xb, yb)]
                pts = path
            d = " ".join(f"{px:.1f},{py:.1f}" for px, py in pts)
            body.append(
                f'<polyline class="mark" points="{d}" fill="none" stroke="{s.colour}" stroke-width="2" '
                f'stroke-opacity="0.85">{tip}</polyline>'
            )
        end_x, end_y = pts[-1]
        body.append(f'<text class="point-label" x="{end_x + 5:.1f}" y="{end_y - 4:.1f}">{esc(s.label[:28])}</text>')
        drawn += 1
    if not drawn:
        body.append(f'<text class="empty" x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">{esc(empty)}</text>')
    return _svg(title, body + _legend(series, frame), css_class)
