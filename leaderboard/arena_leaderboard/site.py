"""``arena leaderboard build``: one self-contained HTML page (opens from file://) plus a JSON export.

Per track: a sortable table and four plots (accuracy vs parameters, accuracy vs cost per puzzle, pass@k
curves, risk-coverage curves). Tables and plots are rendered here, in Python, so the page shows everything
without JavaScript; the small inline script only sorts tables (click a header, or open the page with
``#sort=TABLE:COLUMN:asc|desc``) and records, in ``#render-check``, how many plot marks the browser laid out
with a non-empty box, which the browser test reads back. Every string that comes from a submission is escaped.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arena_harness.atomic import write_atomic
from arena_harness.summary import agent_label, display_name
from arena_leaderboard import plots
from arena_leaderboard.board import Entry, Leaderboard
from arena_leaderboard.plots import Axis, Series, esc
from arena_leaderboard.tracks import Track

EXPORT_FORMAT = "puzzle-arena-leaderboard/1"
METRIC_TITLES = {
    "pass_at_1": "pass@1",
    "pair_score_at_2": "ARC pass@2 (per test pair)",
    "all_pairs_at_2": "ARC tasks, all pairs @2",
    "exact_label_at_1": "exact label @1",
}
METRIC_HELP = {
    "pair_score_at_2": "ARC's official score: a test pair counts when either of the first 2 attempts gets it; a "
    "task scores solved pairs / pairs; mean over the tasks",
    "all_pairs_at_2": "share of tasks whose every test pair is solved within the first 2 attempts",
    "exact_label_at_1": "the papers' Maze-Hard metric: the answer is the stored label, one of the shortest paths "
    "(pass@1 counts any shortest path)",
}


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    numeric: bool = True
    help: str = ""


def ranked(entries: Sequence[Entry], primary: str) -> list[Entry]:
    """Leaderboard order: complete runs before partial ones (fewer puzzles evaluated than the split), then
    primary metric, then pass@k (higher first), then fewer wrong answers, then lower cost per puzzle (unknown
    cost last), then agent name, so equal scores have a stable, explainable order."""

    def key(e: Entry) -> tuple[Any, ...]:
        s = e.summary
        cost = s.get("seconds_per_puzzle")
        return (
            e.partial,
            -(s.get(primary) or 0.0),
            -(s.get("pass_at_k") or 0.0),
            s.get("wrong", 0),
            math.inf if cost is None else cost,
            agent_label(s["agent_name"], s.get("agent_config")),
        )

    return sorted(entries, key=key)


def ranks(entries: Sequence[Entry]) -> list[int | None]:
    """Rank numbers of ``ranked`` entries: complete runs 1..n; partial runs are listed after them, unranked."""
    return [None if e.partial else i for i, e in enumerate(entries, start=1)]


def _display(e: Entry) -> str:
    """The entry's agent as tables and plots show it: the short display name of its spec."""
    s = e.summary
    return display_name(s["agent_name"], s.get("agent_config"), s.get("agent_hash") or e.card.get("config_hash", ""))


def _num(v: float | None, digits: int = 3) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def _params(n: int | None) -> str:
    if n is None:
        return "–"
    for unit, scale in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f}{unit}"
    return str(n)


def _cost_text(s: dict[str, Any]) -> str:
    k = s["k"]
    parts = []
    if s.get("seconds_per_puzzle") is not None:
        parts.append(plots.format_seconds(s["seconds_per_puzzle"]))
    cost = s.get("cost_mean") or {}
    tokens = sum(cost.get(f, 0.0) for f in ("tokens_in", "tokens_out"))
    if tokens:
        parts.append(f"{tokens * k:,.0f} tok")
    if cost.get("dollars") is not None:
        parts.append(plots.format_dollars(cost["dollars"] * k))
    if cost.get("nfe") is not None:
        parts.append(f"{cost['nfe'] * k:,.0f} NFE")
    return ", ".join(parts) or "–"


def _columns(track: Track) -> list[Column]:
    cols = [
        Column("rank", "#"),
        Column("agent", "agent", numeric=False),
        Column("kind", "kind", numeric=False, help="recursive / LLM / baseline / tool-assisted / rl"),
        Column("params", "params", help="learned parameters"),
        Column("k", "k", help="candidates per puzzle"),
        Column(
            "puzzles",
            "puzzles",
            help="puzzles evaluated / puzzles in the split; a partial run (fewer) is listed after the complete "
            "runs, unranked, and its missing puzzles count as unsolved",
        ),
    ]
    for key in dict.fromkeys((track.primary, *track.columns)):  # the primary first, then the track's own metrics
        if key != "pass_at_1":
            cols.append(Column(key, METRIC_TITLES.get(key, key), help=METRIC_HELP.get(key, "")))
    cols += [
        Column("pass_at_1", "pass@1", help="Chen et al. 2021, mean over the split"),
        Column("pass_at_k", "pass@k", help="at the entry's own k"),
        Column("best_q_at_k", "best-Q@k", help="expected correctness of the highest-q of k candidates"),
        Column("coverage", "coverage", help="answered / candidates"),
        Column("wrong", "wrong / answered", help="answered and wrong (0 = sound)"),
        Column("wrong_rate_upper95", "wrong ≤ (95%)", help="exact one-sided Clopper-Pearson bound on wrong rate"),
        Column("cost", "cost / puzzle", help="wall seconds per puzzle (k candidates); tokens, $ and NFE if known"),
        Column("date", "date", numeric=False, help="when the run was evaluated"),
    ]
    return cols


def _cell(col: Column, rank: int | None, e: Entry, position: int) -> tuple[str, str]:
    """(sort value, shown html) for one cell; ``position`` is the row's place in the ranked order."""
    s, card = e.summary, e.card
    if col.key == "rank":
        if rank is None:
            return str(position), '<span title="partial run: not ranked with the complete runs">–</span>'
        return str(rank), str(rank)
    if col.key == "puzzles":
        shown = f"{e.puzzles_evaluated:,} / {e.puzzles_total:,}"
        if e.partial:
            shown += ' <span class="partial-tag">partial</span>'
        return str(e.puzzles_evaluated), shown
    if col.key == "agent":  # a long spec shows its short display name; the tooltip and the export have it whole
        label = _display(e)
        tip = (
            f"{agent_label(s['agent_name'], s.get('agent_config'))}; "
            f"config {card.get('config_hash')}; code {card.get('code_revision')}; "
            f"checkpoint {card.get('checkpoint_sha256') or 'none'}; package {card.get('package_version')}"
        )
        return label.lower(), f'<span class="agent" title="{esc(tip)}">{esc(label)}</span>'
    if col.key == "kind":
        return card["kind"], f'<span class="kind kind-{esc(card["kind"])}">{esc(card["kind"])}</span>'
    if col.key == "params":
        n = card.get("parameters")
        return ("-1" if n is None else str(n)), _params(n)
    if col.key == "k":
        return str(s["k"]), str(s["k"])
    if col.key == "wrong":
        return str(s["wrong"]), f"{s['wrong']:,} / {s['answered']:,}"
    if col.key == "cost":
        v = s.get("seconds_per_puzzle")
        return ("Infinity" if v is None else repr(v)), esc(_cost_text(s))
    if col.key == "date":
        day = (e.evaluated_at or e.submitted_at)[:10]
        return day, esc(day)
    v = s.get(col.key)
    digits = 4 if col.key == "wrong_rate_upper95" else 3
    return ("-Infinity" if v is None else repr(v)), _num(v, digits)


def table_html(track: Track, entries: Sequence[Entry]) -> str:
    cols = _columns(track)
    tid = f"t-{track.slug}"
    head = "".join(
        f'<th data-col="{i}" data-key="{c.key}" data-type="{"num" if c.numeric else "str"}" title="{esc(c.help)}">'
        f'<button type="button">{esc(c.title)}</button></th>'
        for i, c in enumerate(cols)
    )
    rows = []
    for position, (rank, e) in enumerate(zip(ranks(entries), entries), start=1):
        cells = []
        for c in cols:
            value, shown = _cell(c, rank, e, position)
            cells.append(f'<td data-v="{esc(value)}">{shown}</td>')
        partial = ' class="partial"' if e.partial else ""
        rows.append(f'<tr data-agent="{esc(e.summary["agent_name"])}"{partial}>{"".join(cells)}</tr>')
    if not rows:
        rows.append(f'<tr><td colspan="{len(cols)}">no verified entry yet</td></tr>')
    return f'<table id="{tid}" class="board"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def plots_html(track: Track, entries: Sequence[Entry]) -> str:
    """The four plots of a track. Points are coloured by agent kind and labelled with short display names;
    entries without a parameter count or a measured time are listed beside those plots; pass@k curves only for
    entries that drew k > 1 candidates (with k = 1 the curve is one point, already in the table)."""
    primary = track.primary
    y = Axis(METRIC_TITLES.get(primary, primary), lo=0.0, hi=1.0, fmt=lambda v: f"{v:g}")
    env = track.env_id.split("/")[-1].removesuffix("-v0")

    def series(e: Entry, points: list[tuple[float | None, float]]) -> Series:
        return Series(_display(e), plots.plot_kind(e.card), points)

    score = {e.entry_id: float(e.summary.get(primary) or 0.0) for e in entries}
    params = [e.card.get("parameters") for e in entries]
    by_params = [series(e, [(p if p else None, score[e.entry_id])]) for e, p in zip(entries, params)]
    costs = [e.summary.get("seconds_per_puzzle") for e in entries]
    by_cost = [series(e, [(c if c else None, score[e.entry_id])]) for e, c in zip(entries, costs)]
    multi = [e for e in entries if int(e.summary["k"]) > 1]
    k_max = max((int(e.summary["k"]) for e in multi), default=2)
    pass_k = [series(e, [(float(j), float(v)) for j, v in e.curves.get("pass_at_k", [])]) for e in multi]
    rc = [series(e, [(float(c), float(r)) for c, r in e.curves.get("risk_coverage", [])]) for e in entries]
    rc = [s for s in rc if s.points]
    parts = [
        plots.scatter(
            f"{env}: {y.label} vs parameters",
            by_params,
            plots.log_axis(
                "learned parameters (log scale)",
                [p if p else None for p in params],
                fmt=plots.format_count,
                unknown="parameters unknown",
            ),
            y,
            "plot-params",
            "no entries",
            aria=f"{track.env_id}: {y.label} vs learned parameters",
        ),
        plots.scatter(
            f"{env}: {y.label} vs time per puzzle",
            by_cost,
            plots.log_axis(
                "wall time per puzzle, k candidates (log scale)",
                [c if c else None for c in costs],
                fmt=plots.format_seconds,
                unknown="time not measured",
            ),
            y,
            "plot-cost",
            "no entries",
            aria=f"{track.env_id}: {y.label} vs wall time per puzzle",
        ),
        plots.lines(
            f"{env}: pass@k by k (entries with k > 1)",
            pass_k,
            Axis("k (candidates per puzzle)", lo=1.0, hi=float(k_max), fmt=lambda v: f"{v:g}"),
            Axis("pass@k", lo=0.0, hi=1.0, fmt=lambda v: f"{v:g}"),
            "plot-passk",
            "no entry drew more than one candidate per puzzle",
            step=False,
            aria=f"{track.env_id}: pass@k curves",
        ),
        plots.lines(
            f"{env}: risk vs coverage (abstaining by q)",
            rc,
            Axis("coverage (answered / candidates)", lo=0.0, hi=1.0, fmt=lambda v: f"{v:g}"),
            Axis("risk (wrong / answered)", lo=0.0, hi=1.0, fmt=lambda v: f"{v:g}"),
            "plot-risk",
            "no entry reports a confidence q",
            step=True,
            aria=f"{track.env_id}: risk-coverage curves",
        ),
    ]
    return '<div class="plots">' + "".join(f"<figure>{p}</figure>" for p in parts) + "</div>"


STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1d1d1d;background:#fafafa}
header,main{max-width:1400px;margin:0 auto;padding:0 20px}
header{padding-top:16px}
h1{font-size:22px;margin:8px 0} h2{font-size:18px;margin:28px 0 4px}
nav a{margin-right:14px} .meta{color:#555;font-size:12px;word-break:break-all}
.table-wrap{overflow-x:auto}
table.board{border-collapse:collapse;background:#fff;margin:8px 0;font-variant-numeric:tabular-nums}
table.board{font-size:13px}
table.board th,table.board td{border-bottom:1px solid #e3e3e3;padding:3px 7px;text-align:right;white-space:nowrap}
table.board td:nth-child(2),table.board th:nth-child(2){text-align:left}
table.board th button{font:inherit;font-weight:600;border:0;background:none;cursor:pointer;padding:0}
th[aria-sort=ascending] button::after{content:" ▲"} th[aria-sort=descending] button::after{content:" ▼"}
.kind{padding:1px 6px;border-radius:8px;font-size:12px;color:#fff;background:#555}
.kind-recursive{background:#1b7f3b}.kind-llm{background:#1f5fbf}.kind-tool-assisted{background:#8a3fc0}
.kind-baseline{background:#b35900}.kind-rl{background:#a8326e}
tr.partial td{color:#666;font-style:italic}
.partial-tag{padding:0 5px;border-radius:8px;font-size:11px;font-style:normal;background:#f0e0b0;color:#5a4500}
.plots{display:flex;flex-wrap:wrap;gap:10px} figure{margin:0;background:#fff;border:1px solid #e3e3e3}
svg .axis{stroke:#333;fill:none} svg .grid{stroke:#ececec} svg text{font-size:10px;fill:#333}
svg .label{font-size:11px} svg .point-label{font-size:9px;fill:#444} svg .empty{font-size:12px;fill:#888}
"""

SCRIPT = """
(function(){
  function sortTable(table, col, dir){
    var th = table.tHead.rows[0].cells[col], numeric = th.dataset.type === 'num';
    var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
    rows.sort(function(a, b){
      var x = a.cells[col].dataset.v, y = b.cells[col].dataset.v, c;
      if (numeric) { c = parseFloat(x) - parseFloat(y); if (isNaN(c)) c = 0; }
      else { c = x < y ? -1 : x > y ? 1 : 0; }
      return dir === 'asc' ? c : -c;
    });
    rows.forEach(function(r){ body.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function(h){ h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', dir === 'asc' ? 'ascending' : 'descending');
  }
  document.querySelectorAll('table.board').forEach(function(table){
    table.tHead.querySelectorAll('th').forEach(function(th){
      th.querySelector('button').addEventListener('click', function(){
        var now = th.getAttribute('aria-sort');
        var dir = now === 'descending' ? 'asc' : now === 'ascending' ? 'desc' :
                  (th.dataset.type === 'num' ? 'desc' : 'asc');
        sortTable(table, parseInt(th.dataset.col, 10), dir);
      });
    });
  });
  var m = /^#sort=([\\w-]+):([\\w]+):(asc|desc)$/.exec(location.hash);
  if (m) {
    var table = document.getElementById(m[1]);
    var th = table && table.querySelector('th[data-key="' + m[2] + '"]');
    if (th) sortTable(table, parseInt(th.dataset.col, 10), m[3]);
  }
  var check = {plots: 0, plots_with_marks: 0, marks_laid_out: 0};
  document.querySelectorAll('svg.plot').forEach(function(svg){
    check.plots += 1;
    var n = 0;
    svg.querySelectorAll('.mark').forEach(function(el){
      var b = el.getBBox(); if (b.width > 0 || b.height > 0) n += 1;
    });
    check.marks_laid_out += n; if (n > 0) check.plots_with_marks += 1;
  });
  document.getElementById('render-check').textContent = JSON.stringify(check);
})();
"""


def page_html(
    sections: Sequence[tuple[Track, str, list[Entry], int]],
    generated_at: str,
    skipped: Sequence[tuple[Track, str]] = (),
) -> str:
    nav = " ".join(f'<a href="#{esc(t.slug)}">{esc(t.title or t.env_id)}</a>' for t, _, _, _ in sections)
    body = []
    for track, fingerprint, entries, n_puzzles in sections:
        body.append(
            f'<section id="{esc(track.slug)}"><h2>{esc(track.title or track.env_id)}</h2>'
            f'<div class="meta">{esc(track.env_id)} · split {esc(track.split)} · {n_puzzles:,} puzzles · '
            f"data fingerprint {esc(fingerprint)} · ranked by {esc(METRIC_TITLES.get(track.primary, track.primary))}"
            "</div>"
            + '<div class="table-wrap">'
            + table_html(track, entries)
            + "</div>"
            + plots_html(track, entries)
            + "</section>"
        )
    for track, reason in skipped:
        body.append(
            f'<section id="{esc(track.slug)}"><h2>{esc(track.title or track.env_id)}</h2>'
            f'<p class="meta">not built: this install cannot load the track\'s data ({esc(reason)})</p></section>'
        )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        "<title>Puzzle Arena leaderboard</title>"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'; img-src data:\">"
        f"<style>{STYLE}</style></head><body><header><h1>Puzzle Arena leaderboard</h1>"
        "<p>Every number here was recomputed by the arena from raw answers: each submitted answer was re-checked "
        "by the environment's verifier against the split's manifest, a missing puzzle counts as unsolved, and the "
        "metrics come from the harness. A run over only part of a split is marked partial (puzzles evaluated / "
        "total) and listed after the complete runs, unranked. Click a column to sort. Data: "
        '<a href="leaderboard.json">leaderboard.json</a>.</p>'
        f'<nav>{nav}</nav><p class="meta">built {esc(generated_at)}</p></header><main>{"".join(body)}</main>'
        '<output id="render-check" hidden></output>'
        f"<script>{SCRIPT}</script></body></html>"
    )


def _track_keys(track: Track) -> dict[str, Any]:
    """How the export names a track: env, split, its env options, the site anchor and the title."""
    return {
        "env_id": track.env_id,
        "split": track.split,
        "options": dict(track.options),
        "slug": track.slug,
        "title": track.title,
    }


def build_site(board: Leaderboard, out_dir: str | Path) -> dict[str, Path]:
    """Write ``index.html`` and ``leaderboard.json`` for every track of the board's index."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    generated_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    sections, export = [], []
    skipped = []
    for track in board.index.tracks:
        missing = board.index.unavailable(track)
        if missing is not None:
            skipped.append((track, missing))
            export.append({**_track_keys(track), "unavailable": missing})
            continue
        puzzle_set = board.index.puzzle_set(track)
        fp = puzzle_set.fingerprint
        entries = ranked([e for e in board.entries(track.env_id) if e.data_fingerprint == fp], track.primary)
        sections.append((track, fp, entries, len(puzzle_set.puzzles)))
        export.append(
            {
                **_track_keys(track),
                "data_fingerprint": fp,
                "n_puzzles": len(puzzle_set.puzzles),
                "ranked_by": track.primary,
                "entries": [{"rank": r, **e.to_dict()} for r, e in zip(ranks(entries), entries)],
            }
        )
    paths = {"html": out / "index.html", "json": out / "leaderboard.json"}
    payload = {"format": EXPORT_FORMAT, "generated_at": generated_at, "tracks": export}
    write_atomic(paths["json"], json.dumps(payload, indent=1, sort_keys=True, allow_nan=False).encode())
    write_atomic(paths["html"], page_html(sections, generated_at, skipped).encode())
    return paths
