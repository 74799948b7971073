"""The static site and its JSON export, built from the seeded board."""

from __future__ import annotations

import itertools
import json
import re
from html.parser import HTMLParser

import pytest

from arena_leaderboard.site import build_site

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(seeded):
    return build_site(seeded.board, seeded.directory / "site")


def _names(track: dict) -> list[str]:
    return [e["agent"]["name"] for e in track["entries"]]


def test_json_export_ranks_every_track(site):
    data = json.loads(site["json"].read_text())
    assert data["format"] == "puzzle-arena-leaderboard/1"
    assert [t["slug"] for t in data["tracks"]] == [
        "sudokuextreme-test",
        "sudoku6-test",
        "mazehard-test",
        "maze10-test",
        "arc-agi-1-evaluation",
        "arc-agi-2-evaluation",
        "ppbench-test",
        "snowflakesudoku-test",
    ]
    tracks = {t["env_id"]: t for t in data["tracks"] if t["slug"] not in ("maze10-test", "sudoku6-test")}
    sudoku6 = next(t for t in data["tracks"] if t["slug"] == "sudoku6-test")
    assert sudoku6["options"] == {"size": 6, "data": "bundled"} and _names(sudoku6)[:2] == ["oracle", "budgeted"]
    maze10 = next(t for t in data["tracks"] if t["slug"] == "maze10-test")
    assert maze10["options"] == {"size": 10, "data": "bundled"} and maze10["n_puzzles"] == 1000
    assert _names(maze10)[0] == "oracle" and {"trm", "ldt"} <= set(_names(maze10))  # the shipped trained models
    sudoku = _names(tracks["arena/SudokuExtreme-v0"])
    assert sudoku[:3] == ["oracle", "budgeted", "greedy"] and set(sudoku[3:]) == {"random", "copy"}
    maze = _names(tracks["arena/MazeHard-v0"])
    assert maze[:3] == ["oracle", "budgeted", "greedy"]  # greedy: 0 solved but 0 wrong, ahead of 1000 wrong
    assert _names(tracks["arena/ARC-AGI-1-v0"]) == ["oracle", "programs", "copy"]
    assert tracks["arena/ARC-AGI-1-v0"]["ranked_by"] == "pair_score_at_2"
    assert _names(tracks["arena/PPBench-v0"])[0] == "oracle"
    for track in data["tracks"]:
        assert [e["rank"] for e in track["entries"]] == list(range(1, len(track["entries"]) + 1))
        for e in track["entries"]:
            assert e["data_fingerprint"] == track["data_fingerprint"]
            assert e["summary"]["n_puzzles"] == track["n_puzzles"]
    oracle = tracks["arena/ARC-AGI-1-v0"]["entries"][0]  # ARC is seeded at its official k = 2
    curve = oracle["curves"]["pass_at_k"]
    assert [j for j, _ in curve] == [1, 2]
    assert curve[0][1] == pytest.approx(oracle["summary"]["pass_at_1"])
    assert curve[-1][1] == pytest.approx(oracle["summary"]["pass_at_k"])
    assert all(a[1] <= b[1] for a, b in itertools.pairwise(curve))


class _Tables(HTMLParser):
    """Rows of every table.board, as lists of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and "board" in (a.get("class") or ""):
            self._table = a["id"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_html_has_a_table_and_four_plots_per_track(site):
    page = site["html"].read_text()
    parser = _Tables()
    parser.feed(page)
    assert len(parser.tables) == 8
    head, *rows = parser.tables["t-sudokuextreme-test"]
    assert head[:8] == ["#", "agent", "kind", "params", "k", "puzzles", "pass@1", "pass@k"]
    assert rows[0][1] == "oracle" and rows[0][6] == "1.000" and rows[0][head.index("wrong / answered")] == "0 / 1,000"
    assert rows[0][5] == "1,000 / 1,000"  # a complete run: every puzzle of the split evaluated
    assert rows[1][1] == "budgeted:max_nodes=8,seed=0" and rows[1][4] == "1"
    arc_head = parser.tables["t-arc-agi-1-evaluation"][0]
    assert "ARC pass@2 (per test pair)" in arc_head
    assert page.count('<svg class="plot') == 32
    for kind in ("plot-params", "plot-cost", "plot-passk", "plot-risk"):
        assert page.count(f"plot {kind}") == 8
    # no external resource of any kind: the page must open from file:// with no network
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)


def test_a_track_whose_data_cannot_load_is_skipped_not_fatal(tmp_path):
    """E.g. PPBench on an install without the ppbench package: seeding and the site go on without it."""
    from arena_leaderboard.board import Leaderboard
    from arena_leaderboard.seed import seed
    from arena_leaderboard.tracks import Track, TrackIndex

    missing = Track("arena/SudokuExtreme-v0", "test", (("data", str(tmp_path / "absent.csv")),), title="absent")
    logged: list[str] = []
    with Leaderboard(tmp_path / "b.sqlite", TrackIndex([missing])) as board:
        assert seed(board, tmp_path / "runs.sqlite", log=logged.append) == []
        paths = build_site(board, tmp_path / "site")
    assert logged and logged[0].startswith("skipping arena/SudokuExtreme-v0 test: ")
    assert "not built: this install cannot load the track's data" in paths["html"].read_text()
    (track,) = json.loads(paths["json"].read_text())["tracks"]
    assert "absent.csv" in track["unavailable"]


# -- plots, short names, ARC columns -------------------------------------------------------------------------


def _sections(page: str) -> dict[str, str]:
    return dict(re.findall(r'<section id="([^"]+)">(.*?)</section>', page, re.S))


def test_every_plot_has_a_title_a_legend_of_kinds_and_a_clean_layout(site):
    from test_plots import assert_clean_layout, text_boxes

    from arena_leaderboard.plots import plot_kind

    page = site["html"].read_text()
    data = {t["slug"]: t for t in json.loads(site["json"].read_text())["tracks"]}
    svgs = re.findall(r"<svg class=\"plot .*?</svg>", page, re.S)
    assert len(svgs) == 4 * len(data) == 32
    for svg in svgs:
        boxes = assert_clean_layout(svg)  # no two texts overlap, everything inside the viewBox
        assert [c for c, _, _ in boxes].count("title") == 1 and [c for c, _, _ in boxes].count("label") == 2
    sections = _sections(page)
    for track in data.values():
        section = sections[track["slug"]]
        params, cost, passk, risk = re.findall(r"<svg class=\"plot .*?</svg>", section, re.S)
        kinds = sorted({plot_kind(e["agent"]) for e in track["entries"]})  # e.g. "LLM" for llm, on maze10
        legend = sorted(t for c, t, _ in text_boxes(params) if c == "legend")
        assert legend == kinds and kinds
        # baselines report no parameter count: listed beside the axis, one row each, not drawn at 0
        unknown = [e for e in track["entries"] if not e["agent"].get("parameters")]
        assert [t for c, t, _ in text_boxes(params) if c == "panel-head"] == ["parameters unknown"]
        assert len([c for c, _, _ in text_boxes(params) if c == "panel"]) == len(unknown)
        assert "e-0" not in cost and re.search(r">\d+(\.\d)? (ns|us|ms|s)</text>", cost)
        multi = [e for e in track["entries"] if e["summary"]["k"] > 1]
        assert passk.count('class="mark"') == len(multi)  # pass@k curves only for entries with k > 1
        if not multi:
            assert "no entry drew more than one candidate per puzzle" in passk
        assert risk.count('class="mark"') == sum(1 for e in track["entries"] if e["curves"].get("risk_coverage"))


def test_arc_tables_show_the_official_per_pair_score_and_the_all_pairs_rate(site):
    page = site["html"].read_text()
    parser = _Tables()
    parser.feed(page)
    data = {t["env_id"]: t for t in json.loads(site["json"].read_text())["tracks"]}
    for version in ("1", "2"):
        table, env = f"t-arc-agi-{version}-evaluation", f"arena/ARC-AGI-{version}-v0"
        head, *rows = parser.tables[table]
        pair, full = head.index("ARC pass@2 (per test pair)"), head.index("ARC tasks, all pairs @2")
        for row, entry in zip(rows, data[env]["entries"]):
            assert row[pair] == f"{entry['summary']['pair_score_at_2']:.3f}"
            assert row[full] == f"{entry['summary']['all_pairs_at_2']:.3f}"
        assert rows[0][1] == "oracle" and rows[0][pair] == "1.000" and rows[0][full] == "1.000"
    assert 'title="ARC&#x27;s official score: a test pair counts when either of the first 2 attempts' in page
    sudoku_head = parser.tables["t-sudokuextreme-test"][0]
    assert not any("ARC" in h for h in sudoku_head)


def test_long_agent_specs_show_a_short_name_with_the_full_spec_in_the_tooltip_and_export(seeded):
    import dataclasses

    from arena_leaderboard.site import plots_html, table_html

    track = seeded.board.index.tracks[0]
    (entry,) = [e for e in seeded.board.entries(track.env_id) if e.summary["agent_name"] == "oracle"][:1]
    config = {"model": "openai:gpt-4o-mini", "api_key_env": "X" * 150, "temperature": 0.7}
    long = dataclasses.replace(
        entry, summary={**entry.summary, "agent_name": "llm", "agent_config": config, "agent_hash": "0123456789abcdef"}
    )
    table = table_html(track, [long])
    assert ">llm:openai:gpt-4o-mini#012345</span>" in table
    assert "api_key_env=" + "X" * 150 in table  # the whole spec, in the agent cell's tooltip
    assert ">llm:openai:gpt-4o-mini#012345</text>" in plots_html(track, [long])
    assert long.to_dict()["summary"]["agent_config"]["api_key_env"] == "X" * 150  # what the JSON export holds
