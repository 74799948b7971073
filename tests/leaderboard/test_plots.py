"""The SVG plot helpers: log axes with a "none" slot, escaping, and marks where the data says."""

from __future__ import annotations

import re

from arena_leaderboard import plots
from arena_leaderboard.plots import Axis, Frame, Series


def test_log_axis_covers_whole_decades_and_keeps_a_slot_for_values_off_the_scale():
    axis = plots.log_axis("parameters", [5_028_866, 106_000, None])
    assert (axis.lo, axis.hi, axis.none_slot) == (1e5, 1e7, True)
    frame = Frame(axis, Axis("pass@1"))
    xs = [frame.px(v) for v in (1e5, 106_000, 5_028_866, 1e7)]
    assert xs == sorted(xs) and xs[0] == frame.x0 and xs[-1] == frame.x1
    assert frame.px(None) < frame.x0 and frame.px(0.0) == frame.px(None)
    assert not plots.log_axis("cost", [0.5, 2.0]).none_slot


def test_scatter_escapes_labels_and_places_points():
    s = Series("<b>x</b>", "llm", [(1e6, 0.5)])
    svg = plots.scatter("t", [s], plots.log_axis("p", [1e6]), Axis("acc"), "plot-params", "none")
    assert "<b>" not in svg and "&lt;b&gt;x&lt;/b&gt;" in svg
    (cy,) = re.findall(r'<circle class="mark" cx="[\d.]+" cy="([\d.]+)"', svg)
    frame = Frame(plots.log_axis("p", [1e6]), Axis("acc"))
    assert float(cy) == round(frame.py(0.5), 1)
    empty = plots.scatter("t", [], Axis("x"), Axis("y"), "c", "nothing yet")
    assert "nothing yet" in empty and 'class="mark"' not in empty


def test_step_lines_are_right_continuous():
    s = Series("a", "recursive", [(0.2, 0.0), (0.5, 0.1)])
    svg = plots.lines("t", [s], Axis("coverage"), Axis("risk"), "plot-risk", "none", step=True)
    (points,) = re.findall(r'<polyline class="mark" points="([^"]+)"', svg)
    assert len(points.split()) == 3  # start, horizontal to the next coverage, then up to its risk
