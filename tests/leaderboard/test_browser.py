"""The built site in a real headless Chromium (Debian's `chromium`, installed by `.ci/run`), from file://.

Chromium dumps the DOM after the page's script ran: the table rows in the order the browser shows them
(after a sort requested through the URL), and ``#render-check``, where the page records how many plot marks
the browser laid out with a non-empty box. A full-page screenshot is kept as a test artifact in
``artifacts/`` (or ``$ARENA_TEST_ARTIFACTS``).

Without Chromium the test is skipped, unless ``ARENA_REQUIRE_BROWSER=1`` (set by `.ci/run`) makes that a failure.
"""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from arena_leaderboard.site import build_site

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _run(chromium: list[str], args: list[str], profile: Path) -> str:
    cmd = [*chromium, f"--user-data-dir={profile}", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


@pytest.fixture(scope="module")
def site_url(seeded) -> str:
    return build_site(seeded.board, seeded.directory / "browser-site")["html"].resolve().as_uri()


def _rows(dom: str, table_id: str) -> list[str]:
    table = re.search(rf'<table id="{table_id}".*?</table>', dom, re.S)
    assert table, table_id
    return re.findall(r'<tr data-agent="([^"]*)"', table.group(0))


def test_the_browser_shows_the_seeded_agents_in_order_and_lays_out_the_plots(site_url, tmp_path, chromium):
    dom = _run(chromium, ["--dump-dom", site_url], tmp_path / "profile-1")
    sudoku = _rows(dom, "t-sudokuextreme-test")
    assert sudoku[:3] == ["oracle", "budgeted", "greedy"] and set(sudoku[3:]) == {"random", "copy"}
    assert _rows(dom, "t-arc-agi-1-evaluation") == ["oracle", "programs", "copy"]
    assert _rows(dom, "t-ppbench-test")[0] == "oracle"
    check = json.loads(re.search(r'<output id="render-check" hidden="">(.*?)</output>', dom).group(1))
    page = Path(unquote(urlparse(site_url).path))
    tracks = json.loads((page.parent / "leaderboard.json").read_text())["tracks"]
    entries = [t["entries"] for t in tracks]
    # parameter and cost plots show every entry (drawn, or listed beside the axis when it has no value there);
    # pass@k curves only entries with k > 1; risk-coverage only entries with a confidence q
    passk = [sum(e["summary"]["k"] > 1 for e in es) for es in entries]
    risk = [sum(bool(e["curves"].get("risk_coverage")) for e in es) for es in entries]
    with_marks = sum(2 * bool(es) + bool(p) + bool(r) for es, p, r in zip(entries, passk, risk))
    assert check["plots"] == 32 and check["plots_with_marks"] == with_marks
    assert check["marks_laid_out"] == sum(2 * len(es) for es in entries) + sum(passk) + sum(risk)


def test_the_browser_sorts_a_table_on_request(site_url, tmp_path, chromium):
    dom = _run(chromium, ["--dump-dom", site_url + "#sort=t-sudokuextreme-test:agent:asc"], tmp_path / "profile-2")
    assert _rows(dom, "t-sudokuextreme-test") == ["budgeted", "copy", "greedy", "oracle", "random"]
    assert re.search(r'<th [^>]*data-key="agent"[^>]*aria-sort="ascending"', dom)
    dom = _run(chromium, ["--dump-dom", site_url + "#sort=t-sudokuextreme-test:pass_at_1:asc"], tmp_path / "profile-3")
    assert _rows(dom, "t-sudokuextreme-test")[-1] == "oracle"


def test_a_screenshot_of_the_site_is_saved(site_url, tmp_path, chromium):
    artifacts = Path(os.environ.get("ARENA_TEST_ARTIFACTS", ROOT / "artifacts"))
    artifacts.mkdir(parents=True, exist_ok=True)
    shot = artifacts / "leaderboard.png"
    shot.unlink(missing_ok=True)
    args = ["--window-size=1400,2400", "--hide-scrollbars", f"--screenshot={shot}", site_url]
    _run(chromium, args, tmp_path / "profile-4")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1400, 2400)
    assert len(data) > 50_000  # a blank page compresses to a few kB; tables and plots do not
