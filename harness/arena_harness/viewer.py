"""``arena view RUN``: one self-contained HTML page showing what an agent answered in a stored run.

The page has the run's header (env, split, agent, k, the harness's summary figures), then per puzzle its input
board and each candidate with its verdict (correct; wrong with the verifier's reason; abstained; failed with its
error), q and cost, the answer drawn as a board with the offending cells marked (see ``highlight``). Buttons
(or ``#show=wrong`` in the address) show only one kind of verdict. Everything is inline: no external assets, and
a Content-Security-Policy that forbids any network access and any script but the page's own.

The puzzles are reloaded from the env and split recorded with the run: the split's default options first, then
the options its ``data_source`` names (a generated split), then those of the ``arena eval`` command line stored
in the run's metadata; the first whose fingerprint equals the run's is used. When none does (a CSV that moved,
a package that is missing) the page still shows the stored answers and verdicts, without the input boards.

Every string that reaches the page (answers, reasons, errors, agent names and configs come from agents) goes
through ``html.escape``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from arena_envs.protocol import Puzzle, PuzzleSet
from arena_harness.atomic import write_atomic
from arena_harness.highlight import Board, answer_boards, puzzle_boards
from arena_harness.records import CandidateRecord, Unparsed, decode_answer
from arena_harness.store import ResultStore, UnknownRunError
from arena_harness.summary import Summary, agent_label, labelled, pair_counts, summarize

DEFAULT_LIMIT = 200
STATUSES = ("correct", "wrong", "abstained", "failed")
MAX_TEXT = 4000  # characters of one answer, reason or error shown; the rest is counted, not shown


class ViewError(ValueError):
    """The run cannot be shown (no such run, an empty store, a bad limit)."""


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


# -- choosing the run and its puzzles ----------------------------------------------------------------------
def select_run(store: ResultStore, run_ref: str | int) -> dict[str, Any]:
    """The run ``run_ref`` names: a run id, or 'latest' (the last run started), as ``arena submit`` reads it."""
    try:
        return store.run(run_ref)
    except UnknownRunError as exc:
        raise ViewError(str(exc)) from None


def _run_meta(run: dict[str, Any]) -> dict[str, Any]:
    try:
        meta = json.loads(run["meta"]) if isinstance(run["meta"], str) else dict(run["meta"])
    except (TypeError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


_GENERATED = (
    re.compile(r"generated:(?P<size>\d+)x\d+:seed=(?P<seed>-?\d+):count=(?P<count>\d+)"),  # Sudoku
    re.compile(r"generated:maze(?P<size>\d+):seed=(?P<seed>-?\d+):count=(?P<count>\d+)"),  # Maze
)


def _argv_options(run: dict[str, Any]) -> dict[str, Any] | None:
    """The env options of the ``arena eval`` command line that started the run, when it is one for this env."""
    argv = _run_meta(run).get("argv")
    if not isinstance(argv, list) or "eval" not in argv:
        return None
    parser = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    parser.add_argument("--env", default=None)
    parser.add_argument("--data", default=None)
    parser.add_argument("--env-option", "-o", action="append", default=[])
    try:
        args, _ = parser.parse_known_args([str(a) for a in argv[argv.index("eval") + 1 :]])
    except (argparse.ArgumentError, SystemExit):
        return None
    if args.env is not None and args.env != run["env_id"]:
        return None
    from arena_harness.cli import _parse_env_options

    try:
        options = _parse_env_options(args.env_option)
    except Exception:
        return None
    if args.data is not None:
        options["data"] = args.data
    return options


def _option_candidates(run: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield {}
    for pattern in _GENERATED:
        m = pattern.fullmatch(str(run["data_source"]))
        if m:
            yield {"data": "generated", **{key: int(v) for key, v in m.groupdict().items()}}
    argv = _argv_options(run)
    if argv is not None:
        yield argv


def load_run_puzzles(run: dict[str, Any]) -> tuple[PuzzleSet | None, str]:
    """The run's puzzle set, reloaded and checked against its fingerprint, or (None, why not)."""
    from arena_envs.registry import make_puzzle_set

    tried: list[dict[str, Any]] = []
    problems: list[str] = []
    for options in _option_candidates(run):
        if options in tried:
            continue
        tried.append(options)
        try:
            puzzle_set = make_puzzle_set(run["env_id"], split=run["split"], **options)
        except Exception as exc:  # a missing file or package, an option this version does not know
            problems.append(f"{_options_text(options)}: {type(exc).__name__}: {exc}")
            continue
        if puzzle_set.fingerprint == run["data_fingerprint"]:
            return puzzle_set, ""
        problems.append(f"{_options_text(options)}: another fingerprint ({puzzle_set.source})")
    return None, (
        f"the puzzles of {run['env_id']} split {run['split']!r} ({run['data_source']}) could not be reloaded: "
        + "; ".join(problems)
    )


def _options_text(options: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in options.items()) or "default options"


# -- what the page shows -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CandidateView:
    sample_index: int
    status: str  # one of STATUSES
    reason: str
    record: CandidateRecord | None  # None: a sample the store does not hold
    boards: list[Board] = field(default_factory=list)
    answer_text: str = ""


@dataclass(frozen=True)
class PuzzleView:
    puzzle_id: str
    puzzle: Puzzle | None
    boards: list[Board]
    candidates: list[CandidateView]
    expected: list[Board] = field(default_factory=list)


def status_of(record: CandidateRecord) -> str:
    if record.error is not None:
        return "failed"
    if record.abstained:
        return "abstained"
    return "correct" if record.ok else "wrong"


@dataclass
class RunView:
    run: dict[str, Any]
    agent: dict[str, Any]
    puzzles: list[PuzzleView]
    n_puzzles: int  # puzzles of the run (the manifest), shown or not
    left_out: int
    limit: int | None
    summary: Summary | None
    counts: Counter[str]  # verdicts of every candidate of the run, shown or not
    data_note: str = ""
    puzzle_set: PuzzleSet | None = None


def build_view(store: ResultStore, run_ref: str | int, limit: int | None = DEFAULT_LIMIT) -> RunView:
    """Everything the page shows, for the run ``run_ref`` names (an id or 'latest')."""
    if limit is not None and limit < 0:
        raise ViewError(f"--limit must be >= 0 (0 shows every puzzle), got {limit}")
    run = select_run(store, run_ref)
    agent = store.agent(run["agent_hash"]) or {
        "agent_hash": run["agent_hash"],
        "name": "?",
        "kind": "?",
        "config": {},
    }
    k = int(run["k"])
    puzzle_set, data_note = load_run_puzzles(run)
    puzzles: list[Puzzle] | None = None
    if puzzle_set is not None:
        from arena_harness.runner import run_manifest

        try:
            puzzles = run_manifest(puzzle_set, run)
        except ValueError as exc:
            puzzles, data_note = None, f"the run's puzzles cannot be told apart in the reloaded split: {exc}"
    ids = None if puzzles is None else [p.id for p in puzzles]
    stored = store.records(run["env_id"], run["data_fingerprint"], run["agent_hash"], puzzle_ids=ids)
    # boards for every puzzle of the reloaded split, even when the run's manifest could not be rebuilt
    by_id = {p.id: p for p in puzzle_set.puzzles} if puzzle_set is not None else {}
    records = [r for r in stored if r.sample_index < k]
    if ids is not None:
        manifest_ids = ids
    else:
        manifest_ids = list(dict.fromkeys(r.puzzle_id for r in records))
        data_note += (
            f"; shown without input boards: every stored candidate of this agent on this data ({len(manifest_ids)} "
            f"puzzles; the run itself covered {run['n_puzzles']})"
        )
    grouped: dict[str, dict[int, CandidateRecord]] = {pid: {} for pid in manifest_ids}
    for r in records:
        grouped.setdefault(r.puzzle_id, {})[r.sample_index] = r
    counts: Counter[str] = Counter()
    for samples in grouped.values():
        for i in range(k):
            counts[status_of(samples[i]) if i in samples else "failed"] += 1
    summary = None
    if manifest_ids:
        summary = summarize(
            records,
            manifest_ids=manifest_ids,
            k=k,
            env_id=run["env_id"],
            split=run["split"],
            data_source=run["data_source"],
            data_fingerprint=run["data_fingerprint"],
            agent_name=agent["name"],
            agent_kind=agent["kind"],
            agent_hash=run["agent_hash"],
            agent_config=agent["config"],
            pair_counts=pair_counts(puzzles) if puzzles is not None else None,
            exact_labels=puzzles is not None and labelled(puzzles),
        )
    shown_ids = manifest_ids if not limit else manifest_ids[:limit]
    views = [_puzzle_view(pid, by_id.get(pid), grouped.get(pid, {}), k, puzzle_set, run) for pid in shown_ids]
    return RunView(
        run=run,
        agent=agent,
        puzzles=views,
        n_puzzles=len(manifest_ids),
        left_out=len(manifest_ids) - len(shown_ids),
        limit=limit or None,
        summary=summary,
        counts=counts,
        data_note=data_note,
        puzzle_set=puzzle_set,
    )


def _family(env_id: str) -> str | None:
    try:
        from arena_envs.registry import get_spec

        return get_spec(env_id).family
    except Exception:
        return None


def _puzzle_view(
    pid: str,
    puzzle: Puzzle | None,
    samples: dict[int, CandidateRecord],
    k: int,
    puzzle_set: PuzzleSet | None,
    run: dict[str, Any],
) -> PuzzleView:
    expected = None
    if puzzle is not None and puzzle_set is not None and puzzle.family == "arc":
        try:
            expected = puzzle_set.label(puzzle)
        except Exception:  # a task file without test outputs: nothing to compare with
            expected = None
    family = puzzle.family if puzzle is not None else _family(run["env_id"])
    cands = []
    for i in range(k):
        rec = samples.get(i)
        if rec is None:
            cands.append(
                CandidateView(
                    i, "failed", "missing: the store holds no candidate for this sample (an unfinished run?)", None
                )
            )
            continue
        status = status_of(rec)
        answer = None
        boards: list[Board] = []
        text = ""
        if rec.answer is not None:
            try:
                answer = decode_answer(rec.answer)
            except ValueError:
                answer = Unparsed(rec.answer, "text")
            try:
                boards = answer_boards(puzzle, answer, expected, family=family)
            except Exception as exc:  # drawing must never hide a stored answer
                boards, text = [], f"(cannot draw this answer: {type(exc).__name__}: {exc})\n"
            if not boards:
                text += _answer_text(answer)
        reason = rec.error if status == "failed" and rec.error is not None else rec.reason
        cands.append(CandidateView(i, status, reason, rec, boards, text))
    in_boards = puzzle_boards(puzzle) if puzzle is not None else []
    expected_boards = []
    if expected is not None:
        many = len(expected) > 1
        expected_boards = [
            Board(np.asarray(g), "arc", f"expected output {j + 1}" if many else "expected output")
            for j, g in enumerate(expected)
        ]
    return PuzzleView(pid, puzzle, in_boards, cands, expected_boards)


def _answer_text(answer: Any) -> str:
    if isinstance(answer, Unparsed):
        return f"{answer.type_name}: {answer.text}"
    if isinstance(answer, str):
        return answer
    if isinstance(answer, list) and all(isinstance(a, str) for a in answer):
        return "\n".join(answer)
    if isinstance(answer, np.ndarray):
        answer = answer.tolist()
    try:
        return json.dumps(answer)
    except (TypeError, ValueError):
        return repr(answer)


# -- HTML --------------------------------------------------------------------------------------------------
def _clip(text: str, limit: int = MAX_TEXT) -> str:
    if len(text) <= limit:
        return esc(text)
    return esc(text[:limit]) + f'<span class="clip"> … ({len(text) - limit:,} more characters)</span>'


def _num(v: float | None, digits: int = 3) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def _when(t: float | None) -> str:
    return "–" if t is None else time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(float(t)))


def _cost(cost: dict[str, Any]) -> str:
    parts = []
    for key, v in cost.items():
        if key == "seconds" and isinstance(v, (int, float)):
            parts.append(f"{v:.3g} s")
        elif key == "dollars" and isinstance(v, (int, float)):
            parts.append(f"${v:.4g}")
        else:
            parts.append(f"{key} {v}")
    return ", ".join(parts) or "–"


MAZE_CELLS = {1: ("w", ""), 2: ("", ""), 3: ("s", "S"), 4: ("g", "G"), 5: ("o", "")}


def board_html(board: Board) -> str:
    """A board as a CSS grid of cells; offending cells carry the class ``x``."""
    grid = np.asarray(board.grid)
    if grid.ndim != 2:
        return ""
    rows, cols = grid.shape
    mask = board.mask if board.mask is not None and board.mask.shape == grid.shape else None
    cells = []
    for r in range(rows):
        for c in range(cols):
            v = int(grid[r, c])
            cls: list[str] = []
            text = ""
            if board.kind == "sudoku":
                text = str(v) if v else ""
                br, bc = board.box or (rows, cols)
                if r and r % br == 0:
                    cls.append("bt")
                if c and c % bc == 0:
                    cls.append("bl")
                if board.givens is not None and board.givens[r, c]:
                    cls.append("gv")
                elif v and board.givens is not None:
                    cls.append("f")
            elif board.kind == "maze":
                name, text = MAZE_CELLS.get(v, ("", str(v)))
                if name:
                    cls.append(name)
            elif board.kind == "arc":
                cls.append(f"a{v}" if 0 <= v <= 9 else "")
            else:
                text = str(v)
            if mask is not None and mask[r, c]:
                cls.append("x")
            attr = f' class="{" ".join(c for c in cls if c)}"' if any(cls) else ""
            cells.append(f"<i{attr}>{esc(text)}</i>")
    n_bad = board.n_offending if mask is not None else 0
    checked = "" if mask is None else f' data-bad="{n_bad}"'
    title = esc(board.title)
    if mask is not None:
        title += (
            f' · <span class="{"bad" if n_bad else "good"}">{n_bad} offending cell{"s" if n_bad != 1 else ""}</span>'
        )
    note = f'<figcaption class="note">{esc(board.note)}</figcaption>' if board.note else ""
    return (
        f'<figure class="board-fig"><figcaption>{title}</figcaption>'
        f'<div class="bd {esc(board.kind)}"{checked} style="grid-template-columns:repeat({cols},var(--cell))">'
        + "".join(cells)
        + f"</div>{note}</figure>"
    )


def _candidate_html(c: CandidateView) -> str:
    r = c.record
    facts = [f"sample {c.sample_index}"]
    if r is not None:
        facts.append(f"q {_num(r.q)}")
        facts.append(f"cost {esc(_cost(r.cost))}")
        verdict = r.extras.get("verdict") if isinstance(r.extras, dict) else None
        if isinstance(verdict, dict):
            for key in ("length", "shortest", "solved_pairs", "n_pairs", "exact_label"):
                if key in verdict:
                    facts.append(f"{esc(key)} {esc(verdict[key])}")
    body = []
    if c.reason and c.status != "correct":
        label = {"failed": "error", "wrong": "reason"}.get(c.status, "")
        body.append(f'<div class="reason">{esc(label) + ": " if label else ""}{_clip(c.reason)}</div>')
    elif c.reason:
        body.append(f'<div class="reason ok">{_clip(c.reason)}</div>')
    if c.boards:
        body.append('<div class="boards">' + "".join(board_html(b) for b in c.boards) + "</div>")
    if c.answer_text:
        body.append(f'<pre class="answer">{_clip(c.answer_text)}</pre>')
    return (
        f'<div class="cand st-{c.status}" data-status="{c.status}" data-sample="{c.sample_index}">'
        f'<div class="cand-head"><span class="badge {c.status}">{c.status}</span> '
        f'<span class="facts">{" · ".join(facts)}</span></div>' + "".join(body) + "</div>"
    )


def _puzzle_meta(p: Puzzle | None) -> str:
    if p is None:
        return ""
    shown = []
    for key in ("rating", "clues", "pid", "task_id", "n_tests", "shortest", "width", "height"):
        if key in p.meta and not isinstance(p.meta[key], (dict, list, tuple, np.ndarray)):
            shown.append(f"{key} {p.meta[key]}")
    return " · ".join(shown)


def _puzzle_html(v: PuzzleView) -> str:
    statuses = " ".join(sorted({c.status for c in v.candidates}))
    parts = [
        f'<section class="puzzle" data-puzzle="{esc(v.puzzle_id)}" data-statuses="{esc(statuses)}">'
        f"<h3>{esc(v.puzzle_id)}</h3>"
    ]
    meta = _puzzle_meta(v.puzzle)
    if meta:
        parts.append(f'<div class="meta">{esc(meta)}</div>')
    parts.append('<div class="prow">')
    if v.boards:
        parts.append('<div class="input">' + "".join(board_html(b) for b in v.boards))
        if v.expected:
            parts.append(
                "<details><summary>expected output</summary>"
                + "".join(board_html(b) for b in v.expected)
                + "</details>"
            )
        demos = v.puzzle.meta.get("train") if v.puzzle is not None else None
        if demos:
            figs = []
            for j, (inp, out) in enumerate(demos):
                figs.append(board_html(Board(np.asarray(inp), "arc", f"demo {j + 1} input")))
                if out is not None:
                    figs.append(board_html(Board(np.asarray(out), "arc", f"demo {j + 1} output")))
            summary = f"<summary>{len(demos)} demonstrations</summary>"
            parts.append(f'<details>{summary}<div class="boards">{"".join(figs)}</div></details>')
        parts.append("</div>")
    elif v.puzzle is not None and isinstance(v.puzzle.meta.get("file"), str):
        parts.append(f'<div class="input"><pre class="answer">{_clip(v.puzzle.meta["file"])}</pre></div>')
    parts.append('<div class="cands">' + "".join(_candidate_html(c) for c in v.candidates) + "</div></div></section>")
    return "".join(parts)


def _header_html(view: RunView) -> str:
    run, agent, s = view.run, view.agent, view.summary
    meta = _run_meta(run)
    label = agent_label(str(agent["name"]), agent.get("config") if isinstance(agent.get("config"), dict) else None)
    facts: list[tuple[str, str]] = [
        ("env", f"{run['env_id']} (split {run['split']})"),
        ("data", f"{run['data_source']} · {run['data_fingerprint']}"),
        ("agent", f"{label} ({agent['kind']}, config {run['agent_hash']})"),
        ("k", str(run["k"])),
        ("puzzles", f"{run['n_puzzles']:,}" + (f" (limit {meta['limit']})" if meta.get("limit") else "")),
        ("shard", str(run["shard"])),
        ("started", _when(run.get("started_at"))),
        ("finished", _when(run.get("finished_at")) if run.get("finished_at") else "not finished"),
        ("code", f"{meta.get('git_revision', 'unknown')} · package {meta.get('package_version', 'unknown')}"),
    ]
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in facts)
    metrics = ""
    if s is not None:
        figures = [
            ("pass@1", _num(s.pass_at_1)),
            (f"pass@k (k={s.k})", _num(s.pass_at_k)),
            ("best-Q@k", _num(s.best_q_at_k)),
            ("vote@k", _num(s.vote_at_k)),
            ("coverage", _num(s.coverage)),
            ("wrong / answered", f"{s.wrong:,} / {s.answered:,}"),
            ("wrong ≤ (95%)", _num(s.wrong_rate_upper95, 4)),
            ("failed", f"{s.failed:,}"),
            ("s / puzzle", _num(s.seconds_per_puzzle, 4)),
        ]
        if s.pair_score_at_2 is not None:
            figures.insert(0, ("ARC pass@2 (pairs)", _num(s.pair_score_at_2)))
        metrics = (
            '<table class="metrics"><tr>'
            + "".join(f"<th>{esc(k)}</th>" for k, _ in figures)
            + "</tr><tr>"
            + "".join(f"<td>{esc(v)}</td>" for _, v in figures)
            + "</tr></table>"
        )
    return f'<table class="facts">{rows}</table>{metrics}'


STYLE = """
:root{--cell:18px}
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1d1d1d;background:#fafafa}
header,main{max-width:1400px;margin:0 auto;padding:0 20px}
h1{font-size:21px;margin:14px 0 6px} h3{font-size:14px;margin:0 0 2px;word-break:break-all}
[hidden]{display:none!important}
.meta,.note,.clip{color:#666;font-size:12px}
table.facts th{text-align:left;padding-right:12px;color:#555;font-weight:600;vertical-align:top}
table.facts td{word-break:break-all}
table.metrics{border-collapse:collapse;margin:8px 0;background:#fff;font-variant-numeric:tabular-nums}
table.metrics th,table.metrics td{border:1px solid #e3e3e3;padding:3px 8px;text-align:right}
.notice{background:#fff4d6;border:1px solid #e8cf88;padding:6px 10px;margin:8px 0;word-break:break-word}
#filters{position:sticky;top:0;background:#fafafa;padding:8px 0;border-bottom:1px solid #ddd;z-index:1}
#filters button{font:inherit;margin-right:6px;padding:3px 10px;border:1px solid #bbb;border-radius:12px;
  background:#fff;cursor:pointer}
#filters button[aria-pressed=true]{background:#1d1d1d;color:#fff;border-color:#1d1d1d}
.puzzle{background:#fff;border:1px solid #e3e3e3;margin:12px 0;padding:8px 10px}
.prow{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
.cands{display:flex;flex-wrap:wrap;gap:12px;flex:1}
.cand{border-left:4px solid #999;padding:4px 8px;background:#fcfcfc;max-width:100%}
.st-correct{border-color:#1b7f3b}.st-wrong{border-color:#c62828}.st-abstained{border-color:#888}
.st-failed{border-color:#b35900}
.badge{padding:1px 7px;border-radius:8px;font-size:12px;color:#fff;background:#888}
.badge.correct{background:#1b7f3b}.badge.wrong{background:#c62828}.badge.failed{background:#b35900}
.facts{color:#555;font-size:12px} .reason{margin:3px 0;font-size:13px;word-break:break-word;max-width:600px}
.reason.ok{color:#1b7f3b} .bad{color:#c62828;font-weight:600} .good{color:#1b7f3b}
pre.answer{max-width:600px;max-height:260px;overflow:auto;background:#f3f3f3;padding:4px;font-size:12px;
  white-space:pre-wrap;word-break:break-all}
.boards{display:flex;flex-wrap:wrap;gap:10px}
figure.board-fig{margin:4px 0} figure.board-fig figcaption{font-size:12px;color:#444}
.bd{display:inline-grid;border:2px solid #333;background:#333;gap:1px}
.bd i{display:block;width:var(--cell);height:var(--cell);background:#fff;font-style:normal;font-size:12px;
  line-height:var(--cell);text-align:center;font-variant-numeric:tabular-nums}
.bd.sudoku i.bt{margin-top:1px}.bd.sudoku i.bl{margin-left:1px}
.bd.sudoku{--cell:20px}.bd.sudoku i.gv{font-weight:700}.bd.sudoku i.f{color:#1f5fbf}
.bd.maze{--cell:9px;gap:0}.bd.maze i{font-size:7px;font-weight:700}
.bd.maze i.w{background:#3a3a3a}.bd.maze i.s{background:#2e7dd7;color:#fff}.bd.maze i.g{background:#2ea44f;color:#fff}
.bd.maze i.o{background:#f0c419}
.bd.arc{--cell:12px}
.bd.arc i.a0{background:#000}.bd.arc i.a1{background:#0074d9}.bd.arc i.a2{background:#ff4136}
.bd.arc i.a3{background:#2ecc40}.bd.arc i.a4{background:#ffdc00}.bd.arc i.a5{background:#aaa}
.bd.arc i.a6{background:#f012be}.bd.arc i.a7{background:#ff851b}.bd.arc i.a8{background:#7fdbff}
.bd.arc i.a9{background:#870c25}
.bd i.x{background:#ff8a80;color:#000;box-shadow:inset 0 0 0 2px #c62828}
.bd.maze i.x{background:#e53935;box-shadow:none}
.bd.arc i.x{box-shadow:inset 0 0 0 2px #fff,inset 0 0 0 4px #e53935}
details{margin:4px 0} summary{cursor:pointer;font-size:12px;color:#444}
"""

SCRIPT = """
(function(){
  var buttons = Array.prototype.slice.call(document.querySelectorAll('#filters button'));
  var shown = document.getElementById('shown');
  function show(status){
    document.querySelectorAll('.cand').forEach(function(c){
      c.hidden = status !== 'all' && c.dataset.status !== status;
    });
    var n = 0;
    document.querySelectorAll('.puzzle').forEach(function(p){
      p.hidden = !p.querySelector('.cand:not([hidden])');
      if (!p.hidden) n += 1;
    });
    buttons.forEach(function(b){ b.setAttribute('aria-pressed', String(b.dataset.show === status)); });
    shown.textContent = n + (n === 1 ? ' puzzle' : ' puzzles') + ' shown';
  }
  buttons.forEach(function(b){ b.addEventListener('click', function(){ show(b.dataset.show); }); });
  var m = /^#show=(\\w+)$/.exec(location.hash);
  show(m && buttons.some(function(b){ return b.dataset.show === m[1]; }) ? m[1] : 'all');
})();
"""


def page_html(view: RunView) -> str:
    run, agent = view.run, view.agent
    title = f"run {run['run_id']}: {agent['name']} on {run['env_id']} ({run['split']})"
    on_page: Counter[str] = Counter(c.status for p in view.puzzles for c in p.candidates)
    buttons = [f'<button type="button" data-show="all">all ({sum(on_page.values()):,})</button>']
    buttons += [f'<button type="button" data-show="{s}">{s} ({on_page.get(s, 0):,})</button>' for s in STATUSES]
    notices = []
    if view.data_note:
        notices.append(view.data_note)
    if view.left_out:
        notices.append(
            f"{view.left_out:,} of {view.n_puzzles:,} puzzles left out: this page shows the first "
            f"{len(view.puzzles):,} (pass --limit N for more, --limit 0 for all); the summary and verdict counts "
            "cover every puzzle"
        )
    counts = " · ".join(f"{s} {view.counts.get(s, 0):,}" for s in STATUSES)
    script_hash = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    csp = f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{script_hash}'; img-src data:"
    body = "".join(_puzzle_html(p) for p in view.puzzles) or "<p>no stored candidates for this run</p>"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">'
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body><header>"
        f"<h1>{esc(title)}</h1>{_header_html(view)}"
        f'<p class="verdicts">candidates of the run: <span id="counts">{esc(counts)}</span></p>'
        + "".join(f'<div class="notice">{esc(n)}</div>' for n in notices)
        + f'<div id="filters" role="toolbar" aria-label="show candidates">{"".join(buttons)} '
        f'<span id="shown" class="meta">{len(view.puzzles):,} puzzles shown</span></div>'
        f"</header><main>{body}</main><script>{SCRIPT}</script></body></html>"
    )


def write_run_view(
    store_path: str | Path,
    run_selector: str | int = "latest",
    out_dir: str | Path | None = None,
    *,
    limit: int | None = DEFAULT_LIMIT,
) -> Path:
    """Write ``index.html`` for run ``run_selector`` (an id or 'latest') of the store at ``store_path`` into
    ``out_dir`` (default ``runs/views/run-ID``) and return its path. ``limit``: puzzles shown (0 or None: all)."""
    if not Path(store_path).is_file():
        raise FileNotFoundError(f"no result store at {store_path}; run `arena eval --db {store_path}` first")
    with ResultStore(store_path) as store:
        view = build_view(store, run_selector, limit)
    out = Path(out_dir) if out_dir is not None else Path("runs/views") / f"run-{view.run['run_id']}"
    return write_atomic(out / "index.html", page_html(view).encode())
