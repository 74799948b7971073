"""The full ``arena`` command: the harness's commands plus ``submit`` and ``leaderboard``.

``arena submit RUN`` exports a run of the harness store as a submission file. ``arena leaderboard add FILE``
re-verifies submissions and stores the accepted ones; ``arena leaderboard build`` seeds the baselines where
they are missing and writes the static site and its JSON export.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from arena_harness import cli as harness_cli
from arena_leaderboard.board import Leaderboard, LeaderboardError
from arena_leaderboard.export import ExportError, default_path, export_run, list_runs
from arena_leaderboard.submission import AGENT_KINDS, SubmissionFormatError, read_submission
from arena_leaderboard.tracks import UnknownSplitError

DEFAULT_BOARD = "runs/leaderboard.sqlite"
DEFAULT_SITE = "runs/site"
DEFAULT_SEED_RUNS = "runs/leaderboard-seed-runs.sqlite"


def _log(text: str) -> None:
    print(text, file=sys.stderr)


def cmd_submit(args: argparse.Namespace) -> int:
    from arena_harness.store import ResultStore

    if not Path(args.db).is_file():
        raise FileNotFoundError(f"no result store at {args.db}; run `arena eval --db {args.db}` first")
    with ResultStore(args.db) as store:
        if args.list or args.run is None:
            for run in list_runs(store):
                scope = "" if run["limit"] is None else f" limit={run['limit']}"
                scope += "" if run["shard"] == "0/1" else f" shard={run['shard']}"
                print(
                    f"{run['run_id']:>5}  {run['env_id']:24s} {run['split']:10s} k={run['k']:<3} "
                    f"n={run['n_puzzles']:<6} {run['agent_kind']:13s} {run['agent_name']}{scope}"
                )
            return 0
        submission = export_run(store, args.run, parameters=args.parameters, kind=args.kind)
    path = submission.write(args.out or default_path(submission))
    claims = submission.claimed
    _log(
        f"wrote {path}: {len(submission.candidates)} candidates of {submission.agent.name!r} on "
        f"{submission.env_id} ({submission.split}), claimed pass@1={claims.get('pass_at_1')}; "
        f"add it with `arena leaderboard add {path}`"
    )
    print(path)
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    """Judge each file on its own: a bad file is reported and the next one is still judged."""
    reports = []
    rejected = 0

    def refuse(name: str, code: str, message: str) -> None:
        nonlocal rejected
        print(f"REJECTED: {message}")
        reports.append({"file": name, "accepted": False, "problems": [{"code": code, "message": message}]})
        rejected += 1

    with Leaderboard(args.board) as board:
        for name in args.submissions:
            try:
                submission = read_submission(name)
            except SubmissionFormatError as exc:
                refuse(name, "format", str(exc))
                continue
            try:
                report = board.submit(submission, replace=args.replace)
            except LeaderboardError as exc:
                refuse(name, "board", f"{name}: {exc}")
                continue
            except Exception as exc:  # one file's failure must not stop the judging of the others
                refuse(name, "intake-failed", f"{name}: intake failed ({type(exc).__name__}: {exc}); nothing stored")
                continue
            print(report.text())
            reports.append({"file": name, **report.to_dict()})
            rejected += not report.accepted
    if args.report:
        harness_cli._write_json_atomic(Path(args.report), {"reports": reports})
    return 1 if rejected else 0


def cmd_build(args: argparse.Namespace) -> int:
    from arena_leaderboard.seed import seed
    from arena_leaderboard.site import build_site

    with Leaderboard(args.board) as board:
        if not args.no_seed:
            seed(board, args.seed_runs, log=_log)
        paths = build_site(board, args.out)
    _log(f"site: {paths['html'].resolve().as_uri()} (static; opens with no server), data: {paths['json']}")
    print(paths["html"])
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from arena_leaderboard.seed import seed

    with Leaderboard(args.board) as board:
        reports = seed(board, args.seed_runs, log=_log)
    for report in reports:
        print(report.text())
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    with Leaderboard(args.board) as board:
        entries = board.entries()
    if args.json:
        print(json.dumps([e.to_dict() for e in entries], indent=2))
        return 0
    for e in entries:
        s = e.summary
        print(
            f"{e.entry_id:>4}  {e.env_id:24s} {s['agent_kind']:13s} k={s['k']:<3} pass@1={s['pass_at_1']:.4f} "
            f"wrong={s['wrong']:<6} {s['agent_name']}"
        )
    return 0


def cmd_reverify(args: argparse.Namespace) -> int:
    failing = 0
    with Leaderboard(args.board) as board:
        results = board.reverify_all(update=args.update)
    for entry, report, changed in results:
        name = f"{entry.entry_id:>4} {entry.env_id} {entry.summary['agent_name']!r}"
        if not report.accepted:
            failing += 1
            print(f"{name}: no longer passes intake\n{report.text()}")
        elif changed:
            failing += not args.update
            print(f"{name}: changed {', '.join(changed)}" + (" (updated)" if args.update else " (--update to store)"))
        else:
            print(f"{name}: unchanged")
    return 1 if failing else 0


def cmd_remove(args: argparse.Namespace) -> int:
    with Leaderboard(args.board) as board:
        board.remove(args.entry_id)
    return 0


def cmd_tracks(args: argparse.Namespace) -> int:
    from arena_leaderboard.tracks import TrackIndex

    index = TrackIndex()
    for track in index.tracks:
        ps = index.puzzle_set(track)
        options = "".join(f" -o {key}={value}" for key, value in track.options)  # what `arena eval` needs
        print(
            f"{track.env_id:24s} split={track.split:10s} n={len(ps.puzzles):<6} {ps.fingerprint}  {track.title}"
            + (f"  [{options.strip()}]" if options else "")
        )
    return 0


def extend(sub: argparse._SubParsersAction) -> None:
    sb = sub.add_parser("submit", help="export a run of the result store as a leaderboard submission")
    sb.add_argument("run", nargs="?", help="run id (see --list) or 'latest'")
    sb.add_argument("--db", default=harness_cli.DEFAULT_DB, help=f"result store (default {harness_cli.DEFAULT_DB})")
    sb.add_argument("--out", "-o", default=None, help="submission file (.json or .json.gz; default submissions/...)")
    sb.add_argument("--parameters", type=int, default=None, help="parameter count, if the run did not record it")
    sb.add_argument("--kind", choices=AGENT_KINDS, default=None, help="agent kind, if the run did not record one")
    sb.add_argument("--list", action="store_true", help="list the store's runs")
    sb.set_defaults(func=cmd_submit)

    lb = sub.add_parser("leaderboard", help="verified leaderboard: add submissions, build the static site")
    lsub = lb.add_subparsers(dest="leaderboard_command", required=True)

    def board_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("--board", default=DEFAULT_BOARD, help=f"leaderboard database (default {DEFAULT_BOARD})")

    add = lsub.add_parser("add", help="re-verify submissions and add the accepted ones")
    add.add_argument("submissions", nargs="+")
    add.add_argument("--replace", action="store_true", help="replace an existing entry of the same agent and split")
    add.add_argument("--report", default=None, help="also write the intake reports as JSON here")
    board_arg(add)
    add.set_defaults(func=cmd_add)

    build = lsub.add_parser("build", help="write the static site and JSON export (seeds baselines if missing)")
    build.add_argument("--out", default=DEFAULT_SITE, help=f"site directory (default {DEFAULT_SITE})")
    build.add_argument("--no-seed", action="store_true", help="do not evaluate missing baseline entries first")
    build.add_argument("--seed-runs", default=DEFAULT_SEED_RUNS, help="result store for the baseline runs")
    board_arg(build)
    build.set_defaults(func=cmd_build)

    sd = lsub.add_parser("seed", help="evaluate and add the baseline agents on every track")
    sd.add_argument("--seed-runs", default=DEFAULT_SEED_RUNS, help="result store for the baseline runs")
    board_arg(sd)
    sd.set_defaults(func=cmd_seed)

    ls = lsub.add_parser("list", help="list the board's entries")
    ls.add_argument("--json", action="store_true")
    board_arg(ls)
    ls.set_defaults(func=cmd_list)

    rv = lsub.add_parser("reverify", help="re-verify every stored submission (after a verifier change)")
    rv.add_argument("--update", action="store_true", help="store the recomputed summaries of changed entries")
    board_arg(rv)
    rv.set_defaults(func=cmd_reverify)

    rm = lsub.add_parser("remove", help="remove an entry (by id, see list)")
    rm.add_argument("entry_id", type=int)
    board_arg(rm)
    rm.set_defaults(func=cmd_remove)

    lsub.add_parser("tracks", help="the splits the leaderboard ranks on, with fingerprints").set_defaults(
        func=cmd_tracks
    )


def main(argv: Sequence[str] | None = None) -> int:
    return harness_cli.main(
        argv,
        parser=harness_cli.build_parser(extend),
        user_errors=(LeaderboardError, ExportError, SubmissionFormatError, UnknownSplitError),
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
