"""The SVG plots: kinds and legend, titles and axis labels, label placement checked geometrically, the list of
entries off a log axis, readable units, escaping."""

from __future__ import annotations

import html
import itertools
import re

import pytest

from arena_leaderboard import plots
from arena_leaderboard.plots import Axis, Frame, Series

TEXT = re.compile(
    r'<text class="([\w-]+)" x="(-?[\d.]+)" y="(-?[\d.]+)" text-anchor="(\w+)" style="font-size:([\d.]+)px[^"]*"'
    r'( transform="rotate\(-90 [^"]*\)")?>(.*?)</text>'
)
CIRCLE = re.compile(r'<circle class="[\w-]+" cx="(-?[\d.]+)" cy="(-?[\d.]+)" r="([\d.]+)"')
CHAR_W, ASCENT, DESCENT = 0.6, 0.8, 0.25  # the fixed estimate: em per character, line above / below the baseline


def text_boxes(svg: str) -> list[tuple[str, str, tuple[float, float, float, float]]]:
    """(class, text, (x0, y0, x1, y1)) of every text element, computed here from its attributes alone."""
    out = []
    for cls, x, y, anchor, size, rotated, body in TEXT.findall(svg):
        x, y, size = float(x), float(y), float(size)
        text = html.unescape(body)
        w = len(text) * CHAR_W * size
        start = {"start": 0.0, "middle": -w / 2, "end": -w}[anchor]
        if rotated:  # rotate(-90) about (x, y): the text runs upwards, its ascent points left
            box = (x - ASCENT * size, y - start - w, x + DESCENT * size, y - start)
        else:
            box = (x + start, y - ASCENT * size, x + start + w, y + DESCENT * size)
        out.append((cls, text, box))
    assert len(out) == svg.count("<text "), "a text element the pattern did not read"
    return out


def overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def assert_clean_layout(svg: str) -> list[tuple[str, str, tuple[float, float, float, float]]]:
    """No two texts overlap; every text and circle lies inside the viewBox."""
    width, height = (float(v) for v in re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg).groups())
    boxes = text_boxes(svg)
    for cls, text, (x0, y0, x1, y1) in boxes:
        assert x0 >= 0 and y0 >= 0 and x1 <= width and y1 <= height, (cls, text, (x0, y0, x1, y1))
    for (c1, t1, b1), (c2, t2, b2) in itertools.combinations(boxes, 2):
        assert not overlap(b1, b2), f"{c1} {t1!r} {b1} overlaps {c2} {t2!r} {b2}"
    for cx, cy, r in CIRCLE.findall(svg):
        cx, cy, r = float(cx), float(cy), float(r)
        assert r <= cx <= width - r and r <= cy <= height - r
    return boxes


def crowd(n: int = 24) -> list[Series]:
    """Points piled up where labels collide and clip: equal scores, the top and bottom, the right edge."""
    kinds = itertools.cycle(plots.KINDS)
    out = []
    for i in range(n):
        x = [1e7, 1e7, 2e7, 3e5, 1e5][i % 5] * (1 + i / 100)
        y = [1.0, 1.0, 0.0, 0.5, 0.999][i % 5]
        out.append(Series(f"llm:openai:some-long-model-name-{i}#a1b2c3", next(kinds), [(x, y)]))
    return out


def test_log_axis_covers_whole_decades_and_maps_monotonically():
    axis = plots.log_axis("parameters", [5_028_866, 106_000, None])
    assert (axis.lo, axis.hi, axis.log) == (1e5, 1e7, True)
    frame = Frame(axis, Axis("pass@1"))
    xs = [frame.px(v) for v in (1e5, 106_000, 5_028_866, 1e7)]
    assert xs == sorted(xs) and xs[0] == frame.x0 and xs[-1] == frame.x1
    assert plots.on_axis(axis, 1.0) and not plots.on_axis(axis, None) and not plots.on_axis(axis, 0.0)
    assert plots.on_axis(Axis("k"), 0.0)


def test_scatter_escapes_labels_and_places_points():
    s = Series("<b>x</b> & co", "LLM", [(1e6, 0.5)])
    x = plots.log_axis("p", [1e6])
    svg = plots.scatter("t <i>", [s], x, Axis("acc"), "plot-params", "none")
    assert "<b>" not in svg and "<i>" not in svg and "&lt;b&gt;x&lt;/b&gt; &amp; co" in svg and "t &lt;i&gt;" in svg
    (cy,) = re.findall(r'<circle class="mark" cx="[\d.]+" cy="([\d.]+)"', svg)
    frame = Frame(x, Axis("acc"), top=plots._head(plots.Canvas(), "t", [s]))
    assert float(cy) == round(frame.py(0.5), 1)
    hostile = Series('<script>alert("x")</script>', "<b>kind</b>", [(None, 0.5)])
    svg = plots.scatter("t", [s, hostile], x, Axis("<acc>"), "c", "none", aria="a <aria>")
    assert "<script>" not in svg and "<b>" not in svg and "<acc>" not in svg and "<aria>" not in svg
    assert "&lt;script&gt;" in svg and 'aria-label="a &lt;aria&gt;"' in svg
    empty = plots.scatter("t", [], Axis("x"), Axis("y"), "c", "nothing yet")
    assert "nothing yet" in empty and 'class="mark"' not in empty


def test_step_lines_are_right_continuous():
    s = Series("a", "recursive model", [(0.2, 0.0), (0.5, 0.1)])
    svg = plots.lines("t", [s], Axis("coverage"), Axis("risk"), "plot-risk", "none", step=True)
    (points,) = re.findall(r'<polyline class="mark" points="([^"]+)"', svg)
    assert len(points.split()) == 3  # start, horizontal to the next coverage, then up to its risk


@pytest.mark.parametrize(
    ("card", "kind"),
    [
        ({"name": "oracle", "kind": "baseline"}, "baseline"),
        ({"name": "trm", "kind": "recursive"}, "recursive model"),
        ({"name": "llm", "kind": "llm"}, "LLM"),
        ({"name": "llm", "kind": "tool-assisted"}, "LLM"),
        ({"name": "ppo", "kind": "baseline"}, "RL"),
        ({"name": "rl-sudoku", "kind": "tool-assisted"}, "RL"),
        ({"agent_name": "maskableppo", "agent_kind": "custom"}, "RL"),
        ({"name": "solver-x", "kind": "tool-assisted"}, "other"),
        ({"name": "mystery", "kind": "custom"}, "other"),
    ],
)
def test_plot_kind_from_the_agent_card(card, kind):
    assert plots.plot_kind(card) == kind


def test_legend_lists_each_kind_present_once_with_its_own_colour():
    series = [Series(f"a{i}", k, [(10.0**i, i / 5)]) for i, k in enumerate(plots.KINDS)] + [
        Series("b", "baseline", [(5.0, 0.2)])
    ]
    svg = plots.scatter("all kinds", series, plots.log_axis("p", [1, 1e4]), Axis("acc"), "c", "none")
    legend = [text for cls, text, _ in text_boxes(svg) if cls == "legend"]
    assert legend == list(plots.KINDS)
    dots = re.findall(r'<circle class="legend-mark" [^>]*fill="(#[0-9a-f]{6})"', svg)
    assert len(dots) == len(set(dots)) == 5
    marks = re.findall(r'<circle class="mark" [^>]*fill="(#[0-9a-f]{6})"', svg)
    assert marks[:5] == dots and marks[5] == dots[0]  # each point in its kind's colour
    only = plots.lines("t", [Series("x", "LLM", [(1.0, 0.5), (2.0, 0.7)])], Axis("k"), Axis("y"), "c", "", step=False)
    assert [text for cls, text, _ in text_boxes(only) if cls == "legend"] == ["LLM"]
    odd = plots.scatter("t", [Series("x", "weird", [(1.0, 0.5)])], Axis("x", hi=2), Axis("y"), "c", "")
    assert [text for cls, text, _ in text_boxes(odd) if cls == "legend"] == ["other"]


def test_every_plot_has_a_title_and_two_axis_labels():
    x, y = plots.log_axis("parameters (log scale)", [1e5, 1e6]), Axis("pass@1")
    for svg in (
        plots.scatter("pass@1 vs parameters", crowd(5), x, y, "c", "none"),
        plots.scatter("empty", [], x, y, "c", "no entries"),
        plots.lines("pass@k by k", [Series("a", "LLM", [(1, 0.2), (4, 0.5)])], Axis("k", 1, 4), y, "c", "", step=0),
    ):
        boxes = text_boxes(svg)
        titles = [t for c, t, _ in boxes if c == "title"]
        labels = [t for c, t, _ in boxes if c == "label"]
        assert len(titles) == 1 and titles[0] and len(labels) == 2
        assert ' transform="rotate(-90 ' in svg  # the y label runs along its axis
        assert_clean_layout(svg)


def test_point_labels_never_overlap_or_leave_the_viewbox_and_crowded_ones_are_left_out():
    series = crowd(24)
    svg = plots.scatter("crowded", series, plots.log_axis("p", [1e5, 2e7]), Axis("acc"), "c", "none")
    boxes = assert_clean_layout(svg)
    labels = [t for c, t, _ in boxes if c == "point-label"]
    assert 0 < len(labels) < len(series)  # some placed, the rest left out rather than overprinted
    assert labels[0] == series[0].label  # the first (best-ranked) entry keeps its whole label
    for s in series:  # every entry keeps its full name as the tooltip of its mark
        assert f"<title>{s.label} (" in svg
    # labels abbreviated to fit keep the hash that tells configs apart
    assert all(t in {s.label for s in series} or t.endswith("…#a1b2c3") or t.endswith("…") for t in labels)
    lines = [Series(s.label, s.kind, [(1, 0.1 * (i % 3)), (8, 1.0 - 0.01 * i)]) for i, s in enumerate(series)]
    assert_clean_layout(plots.lines("lines", lines, Axis("k", 1, 8), Axis("pass@k"), "c", "", step=False))


def test_a_single_point_at_each_corner_keeps_its_label_inside():
    for x, y in ((1e5, 0.0), (1e5, 1.0), (1e7, 0.0), (1e7, 1.0)):
        s = Series("a-rather-long-label-for-a-corner", "baseline", [(x, y)])
        svg = plots.scatter("corner", [s], plots.log_axis("p", [1e5, 1e7]), Axis("acc"), "c", "none")
        boxes = assert_clean_layout(svg)
        assert [t for c, t, _ in boxes if c == "point-label"] == [s.label]


def test_entries_without_a_value_on_the_log_axis_are_listed_beside_it_not_drawn_at_zero():
    series = [
        Series("trm:model.safetensors#3f2a91", "recursive model", [(5_000_000, 0.8)]),
        Series("oracle", "baseline", [(None, 1.0)]),
        Series("copy", "baseline", [(0, 0.0)]),
    ]
    x = plots.log_axis("parameters (log scale)", [5_000_000, None, 0], unknown="parameters unknown")
    svg = plots.scatter("params", series, x, Axis("pass@1"), "plot-params", "none")
    boxes = assert_clean_layout(svg)
    panel = [t for c, t, _ in boxes if c == "panel"]
    assert [t for c, t, _ in boxes if c == "panel-head"] == ["parameters unknown"]
    assert panel == ["oracle 1.000", "copy 0.000"]
    frame_right = max(b[2] for c, _, b in boxes if c == "point-label")
    panel_left = min(b[0] for c, _, b in boxes if c.startswith("panel"))
    assert frame_right < panel_left  # the list sits beside the plot area
    ticks = [t for c, t, _ in boxes if c == "tick"]
    assert "1M" in ticks and "10M" in ticks and "0" in ticks  # x decades in counts; y from 0
    many = [Series(f"agent-{i}", "baseline", [(None, i / 40)]) for i in range(40)]
    svg = plots.scatter("many", many, x, Axis("pass@1"), "c", "none")
    assert "+" in svg and " more</text>" in svg and "no entry has a value on this axis" in svg
    assert_clean_layout(svg)


def test_cost_axis_ticks_read_in_units():
    x = plots.log_axis("time", [9.746e-07, 2e-3], fmt=plots.format_seconds)
    svg = plots.scatter("cost", [Series("a", "baseline", [(9.746e-07, 0.5)])], x, Axis("acc"), "c", "")
    ticks = [t for c, t, _ in text_boxes(svg) if c == "tick"]
    assert {"100 ns", "1 us", "10 us", "100 us", "1 ms", "10 ms"} <= set(ticks)
    assert "975 ns" in svg and "e-0" not in svg


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (9.746e-06, "9.7 us"),
        (9.746e-07, "975 ns"),
        (5e-10, "0.5 ns"),
        (999.97e-9, "1 us"),
        (1e-3, "1 ms"),
        (0.0123, "12 ms"),
        (0.25, "250 ms"),
        (1.5, "1.5 s"),
        (42.0, "42 s"),
        (90.0, "1.5 min"),
        (7200.0, "2 h"),
        (0.0, "0 s"),
        (None, "–"),
        (float("nan"), "–"),
    ],
)
def test_format_seconds(seconds, text):
    assert plots.format_seconds(seconds) == text


@pytest.mark.parametrize(
    ("dollars", "text"),
    [
        (0.0123, "$0.012"),
        (0.00042, "$0.00042"),
        (0.5, "$0.50"),
        (1.234, "$1.23"),
        (1234.4, "$1,234"),
        (0.0, "$0"),
        (5e-8, "<$0.000001"),
        (None, "–"),
    ],
)
def test_format_dollars(dollars, text):
    assert plots.format_dollars(dollars) == text


def test_format_count():
    counts = (7, 106_000, 1_500_000, 5_028_866, 27_000_000, 7e9, None)
    assert [plots.format_count(n) for n in counts] == ["7", "106k", "1.5M", "5M", "27M", "7B", "–"]
