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
    tracks = {t["env_id"]: t for t in data["tracks"]}
    assert set(tracks) == {
        "arena/SudokuExtreme-v0",
        "arena/MazeHard-v0",
        "arena/ARC-AGI-1-v0",
        "arena/ARC-AGI-2-v0",
        "arena/PPBench-v0",
    }
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
    budgeted = tracks["arena/SudokuExtreme-v0"]["entries"][1]
    curve = budgeted["curves"]["pass_at_k"]
    assert [j for j, _ in curve] == list(range(1, 9))
    assert curve[0][1] == pytest.approx(budgeted["summary"]["pass_at_1"])
    assert curve[-1][1] == pytest.approx(budgeted["summary"]["pass_at_k"])
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
    assert len(parser.tables) == 5
    head, *rows = parser.tables["t-sudokuextreme-test"]
    assert head[:7] == ["#", "agent", "kind", "params", "k", "pass@1", "pass@k"]
    assert rows[0][1] == "oracle" and rows[0][5] == "1.000" and rows[0][head.index("wrong / answered")] == "0 / 1,000"
    assert rows[1][1] == "budgeted:max_nodes=8,seed=0" and rows[1][4] == "8"
    arc_head = parser.tables["t-arc-agi-1-evaluation"][0]
    assert "ARC pass@2 (per test pair)" in arc_head
    assert page.count('<svg class="plot') == 20
    for kind in ("plot-params", "plot-cost", "plot-passk", "plot-risk"):
        assert page.count(f"plot {kind}") == 5
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
