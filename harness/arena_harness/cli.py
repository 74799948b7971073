"""The ``arena`` command.

``arena eval`` with no options evaluates the baseline agents on the bundled Sudoku-Extreme test split
and prints a summary table; every candidate goes into a SQLite store (``--db``) as soon as it is
verified, so rerunning an interrupted command resumes it. Summaries are written as JSON (``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from arena_agents.recursive.families import trainable_families

DEFAULT_ENV = "arena/SudokuExtreme-v0"
DEFAULT_DB = "runs/arena.sqlite"
DEFAULT_OUT = "runs/summaries"


def _parse_env_options(pairs: Sequence[str], flag: str = "--env-option") -> dict[str, Any]:
    from arena_envs.config import parse_pairs

    return parse_pairs(pairs, flag)


def _write_json_atomic(path: Path, payload: dict[str, Any]) -> None:
    """Write via a temporary file and rename, so a crash never leaves half a JSON file."""
    from arena_harness.atomic import write_atomic

    write_atomic(path, json.dumps(payload, indent=2, sort_keys=True).encode())


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def format_table(summaries: Sequence[Any]) -> str:
    """A plain-text table, one row per agent (a long agent spec is shown by its short display name; the JSON
    summary keeps the full spec)."""
    from arena_harness.summary import display_name

    head = [
        "agent",
        "n",
        "k",
        "pass@1",
        "pass@k",
        "bestQ@k",
        "vote@k",
        "coverage",
        "wrong",
        "wrong<=95%",
        "s/puzzle",
    ]
    rows = [
        [
            display_name(s.agent_name, s.agent_config, s.agent_hash),
            str(s.n_puzzles),
            str(s.k),
            _fmt(s.pass_at_1),
            _fmt(s.pass_at_k),
            _fmt(s.best_q_at_k),
            _fmt(s.vote_at_k),
            _fmt(s.coverage),
            str(s.wrong),
            _fmt(s.wrong_rate_upper95, 4),
            _fmt(s.seconds_per_puzzle, 4),
        ]
        for s in summaries
    ]
    if any(getattr(s, "exact_label_at_1", None) is not None for s in summaries):  # Maze: the papers' metric too
        head.insert(4, "label@1")
        for r, s in zip(rows, summaries):
            r.insert(4, _fmt(s.exact_label_at_1))
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    line = "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(head, widths)))
    out = [line, "-" * len(line)]
    for r in rows:
        out.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(out)


def cmd_eval(args: argparse.Namespace) -> int:
    from arena_agents.registry import DEFAULT_AGENTS, agent_kind, make_agent
    from arena_envs.registry import make_puzzle_set
    from arena_harness.runner import RunOptions, Shard, evaluate
    from arena_harness.store import ResultStore

    specs = args.agent or list(DEFAULT_AGENTS)
    agents = [make_agent(spec) for spec in specs]  # fail on a bad spec before any work starts
    options = RunOptions(
        k=args.k,
        batch_size=args.batch_size,
        limit=args.limit,
        shard=Shard.parse(args.shard),
        progress=not args.no_progress,
        retry_failed=not args.no_retry_failed,
    )
    env_options = _parse_env_options(args.env_option)
    if args.data is not None:
        env_options["data"] = args.data
    puzzle_set = make_puzzle_set(args.env, split=args.split, **env_options)
    print(
        f"{puzzle_set.env_id} split={puzzle_set.split} source={puzzle_set.source} "
        f"puzzles={len(puzzle_set.puzzles)} fingerprint={puzzle_set.fingerprint[:19]}...",
        file=sys.stderr,
    )
    summaries = []
    with ResultStore(args.db) as store:
        for agent in agents:
            result = evaluate(puzzle_set, agent, store, options, agent_kind=agent_kind(agent))
            if result.retried:
                print(f"{agent.name}: asked again for {result.retried} failed candidates", file=sys.stderr)
            s = result.summary
            summaries.append(s)
            slug = f"{s.env_id.replace('/', '_')}__{s.split}__{s.agent_name}__{s.agent_hash}"
            if options.shard.count > 1:
                slug += f"__shard{options.shard.index}of{options.shard.count}"
            _write_json_atomic(Path(args.out) / f"{slug}.json", s.to_dict())
    if args.json:
        print(json.dumps([s.to_dict() for s in summaries], indent=2))
    else:
        print(format_table(summaries))
        print(f"\nresults: {args.db} (candidates), {args.out}/ (summaries)", file=sys.stderr)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from arena_agents.recursive.families import get_family, load_object
    from arena_agents.recursive.presets import format_presets, get_preset
    from arena_envs.config import ConfigError

    if args.list_presets:
        print(format_presets())
        print("\narena train --preset NAME [-s KEY=VALUE ...]; docs/training.md has each recipe and its result")
        return 0
    preset = get_preset(args.preset) if args.preset is not None else None
    if preset is not None and args.model is not None and args.model != preset.family:
        raise ConfigError(f"preset {preset.name!r} trains {preset.family!r}, not {args.model!r}; drop --model")
    model = args.model or (preset.family if preset is not None else "trm")
    family = get_family(model, trainable=True)
    try:
        make_train_config = load_object(family.train_config)
        train = load_object(family.trainer)
        main_echo = load_object("arena_agents.recursive.train:main_echo")
    except ImportError as exc:
        raise ValueError(
            f"`arena train` needs torch and safetensors: pip install 'puzzle-arena[models]' ({exc})"
        ) from None

    options = _parse_env_options(args.set, "--set")
    for key in ("steps", "global_batch", "device", "seed"):
        if getattr(args, key) is not None:
            options[key] = getattr(args, key)
    env_options = {**(preset.env_options if preset is not None else {}), **_parse_env_options(args.env_option)}
    if args.data is not None:
        env_options["data"] = args.data
    env = args.env or (preset.env if preset is not None else DEFAULT_ENV)
    if preset is not None:
        options = preset.settings(options)  # the command line's values replace the preset's
    config = make_train_config(model, env, options, env_options)
    if preset is not None:
        main_echo(f"preset {preset.name}: {preset.description}; expected: {preset.expected}")
    out = args.out or f"runs/train/{preset.name if preset is not None else model}"
    result = train(
        config, out, restart=args.restart, max_seconds=args.max_minutes and args.max_minutes * 60, echo=main_echo
    )
    if os.environ.get("RANK", "0") != "0":
        return 0  # under torchrun only the first process reports
    if result.last_eval is not None:
        print(json.dumps(result.last_eval, indent=2))
    agent = f"{model}:{out}" + (f",{preset.agent_options}" if preset is not None and preset.agent_options else "")
    print(f"run: {out} (log.jsonl, checkpoints; evaluate with --agent {agent})", file=sys.stderr)
    return 0


class _TrainHelp(argparse.Action):
    """``arena train --help``: the options, then every trainer and model key with its default (torch is
    imported only here, so other commands stay light)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: Any, values: Any, option_string: Any = None):
        try:
            from arena_agents.recursive.presets import PRESETS
            from arena_agents.recursive.train_config import settings_help

            parser.epilog = settings_help() + f"\n\npresets (--preset NAME; --list-presets): {', '.join(PRESETS)}"
        except ImportError as exc:
            parser.epilog = (
                f"(the -s keys are listed once torch is installed: pip install 'puzzle-arena[models]'; {exc})"
            )
        parser.print_help()
        parser.exit()


def cmd_rl(args: argparse.Namespace) -> int:
    from arena_envs.config import ConfigError, build_config
    from arena_envs.registry import answer_env_id

    try:
        from arena_agents.rl.ppo import PPOConfig, train
    except ImportError as exc:
        raise ConfigError(
            f"`arena rl` needs stable-baselines3 and sb3-contrib: pip install 'puzzle-arena[rl]' ({exc})"
        ) from None
    settings = _parse_env_options(args.set, "--set")
    env_options = _parse_env_options(args.env_option)
    if args.data is not None:
        env_options["data"] = args.data
    for key in ("env_id", "env_options"):
        if key in settings:
            raise ConfigError(f"set {key} with --env / -o KEY=VALUE, not -s")
    if "net_arch" in settings:
        arch = settings["net_arch"]
        settings["net_arch"] = (
            tuple(int(w) for w in str(arch).replace("x", " ").split()) if isinstance(arch, str) else (int(arch),)
        )
    for key in ("total_timesteps", "num_envs", "seed", "device", "curriculum"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    config = build_config(PPOConfig, {"env_id": args.env, "env_options": env_options, **settings}, what="arena rl")
    out = args.out or f"runs/rl/{args.env.split('/')[-1]}"
    result = train(config, out, restart=args.restart, max_minutes=args.max_minutes)
    print(
        json.dumps(
            {
                "out": str(result.out),
                "timesteps": result.timesteps,
                "timed_out": result.timed_out,
                "eval_solved": result.last_eval.solved,
                "eval_puzzles": result.last_eval.puzzles,
            },
            indent=2,
        )
    )
    data = "".join(f" -o {k}={v}" for k, v in env_options.items() if k != "mask_conflicts")  # dynamics-only option
    print(
        f"evaluate with: arena eval --env {answer_env_id(args.env)}{data} --agent sb3:{out}/model.zip", file=sys.stderr
    )
    return 0


class _RLHelp(argparse.Action):
    """``arena rl --help``: the options, then every -s key with its default and what it does."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: Any, values: Any, option_string: Any = None):
        try:
            from arena_agents.rl.ppo import settings_help

            parser.epilog = settings_help()
        except ImportError as exc:
            parser.epilog = (
                f"(the -s keys are listed once the rl extra is installed: pip install 'puzzle-arena[rl]'; {exc})"
            )
        parser.print_help()
        parser.exit()


def cmd_envs(args: argparse.Namespace) -> int:
    from arena_envs.registry import TASKS

    for spec in TASKS.values():
        print(f"{spec.env_id:32s} {spec.mode:7s} {spec.description}")
    return 0


def cmd_agents(args: argparse.Namespace) -> int:
    import dataclasses

    from arena_agents.registry import AGENTS

    for entry in AGENTS.values():
        opts = ", ".join(f"{f.name}={f.default!r}" for f in dataclasses.fields(entry.config_cls))
        print(f"{entry.name:10s} {entry.kind:10s} {entry.description}" + (f"  [{opts}]" if opts else ""))
    return 0


def cmd_merge(args: argparse.Namespace) -> int:
    from arena_harness.store import ResultStore

    with ResultStore(args.output) as out:
        for src in args.inputs:
            if not Path(src).is_file():
                raise FileNotFoundError(f"shard store {src!r} does not exist")
            added = out.merge_from(src)
            print(f"{src}: {added} new candidates", file=sys.stderr)
    return 0


def cmd_view(args: argparse.Namespace) -> int:
    from arena_harness.viewer import write_run_view

    path = write_run_view(args.db, args.run, args.out, limit=args.limit)
    print(f"run viewer: {path.resolve().as_uri()} (static; opens with no server)", file=sys.stderr)
    print(path)
    return 0


def build_parser(
    extend: Callable[[argparse._SubParsersAction], None] | None = None,
) -> argparse.ArgumentParser:
    """The ``arena`` parser; ``extend`` adds subcommands (the leaderboard package adds its own)."""
    parser = argparse.ArgumentParser(prog="arena", description="Puzzle Arena: evaluate agents on verifiable puzzles")
    sub = parser.add_subparsers(dest="command")

    ev = sub.add_parser("eval", help="evaluate agents on an environment's split (default: baselines on Sudoku)")
    ev.add_argument("--env", default=DEFAULT_ENV, help=f"environment id (default {DEFAULT_ENV}); see `arena envs`")
    ev.add_argument("--agent", action="append", help="agent spec NAME[:k=v,...], repeatable (default: all baselines)")
    ev.add_argument("-k", type=int, default=1, help="candidates per puzzle (default 1)")
    ev.add_argument("--limit", type=int, default=None, help="only the first N puzzles of the split")
    ev.add_argument("--split", default="test")
    ev.add_argument("--data", default=None, help="bundled | generated | hub | PATH.csv (original format)")
    ev.add_argument(
        "--env-option",
        "-o",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="other env options, e.g. -o size=4 -o count=200",
    )
    ev.add_argument("--batch-size", type=int, default=64)
    ev.add_argument("--shard", default="0/1", help="evaluate only shard i of n (i/n); merge stores afterwards")
    ev.add_argument("--db", default=DEFAULT_DB, help=f"SQLite result store (default {DEFAULT_DB})")
    ev.add_argument("--out", default=DEFAULT_OUT, help=f"directory for summary JSON (default {DEFAULT_OUT})")
    ev.add_argument("--json", action="store_true", help="print summaries as JSON instead of a table")
    ev.add_argument("--no-progress", action="store_true")
    ev.add_argument(
        "--no-retry-failed",
        action="store_true",
        help="keep stored failed candidates (errors) as results; by default a rerun asks for them again",
    )
    ev.set_defaults(func=cmd_eval)

    tr = sub.add_parser(
        "train",
        help="train a recursive model (TRM, HRM, ...) on an environment's training split",
        description="Train a recursive model; --preset NAME applies a whole recipe (--list-presets lists them).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=False,
    )
    tr.add_argument("-h", "--help", action=_TrainHelp, help="show this help with every -s key and its default")
    tr.add_argument("--preset", default=None, help="a named recipe: env, env options, model and trainer settings")
    tr.add_argument("--list-presets", action="store_true", help="list the presets and exit")
    tr.add_argument("--model", choices=trainable_families(), default=None, help="model family (default trm)")
    tr.add_argument("--env", default=None, help=f"environment id (default: the preset's, else {DEFAULT_ENV})")
    tr.add_argument("--data", default=None, help="bundled | generated | hub | PATH.csv (original format)")
    tr.add_argument("--env-option", "-o", action="append", default=[], metavar="KEY=VALUE", help="e.g. -o size=4")
    tr.add_argument(
        "--set",
        "-s",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a training or model setting, e.g. -s lr=3e-4 -s mlp_mixer=true -s hidden=128",
    )
    tr.add_argument(
        "--steps",
        type=int,
        default=None,
        help="optimiser steps (default: the preset's, else epochs=50000 passes over the training puzzles)",
    )
    tr.add_argument("--global-batch", type=int, default=None, help="samples per optimiser step (default 768)")
    tr.add_argument("--device", default=None, help="auto | cpu | cuda")
    tr.add_argument("--seed", type=int, default=None)
    tr.add_argument(
        "--out", default=None, help="run directory (default runs/train/PRESET or MODEL); an existing run resumes"
    )
    tr.add_argument("--restart", action="store_true", help="discard the run in --out instead of resuming it")
    tr.add_argument(
        "--max-minutes",
        type=float,
        default=None,
        help="wall-time limit, checked every step: stop before the next step would pass it, with a checkpoint",
    )
    tr.set_defaults(func=cmd_train)

    rl = sub.add_parser(
        "rl",
        help="train an RL policy (MaskablePPO) on a step env, the verifier's rules as reward",
        description="Train MaskablePPO on a step env; the run directory resumes when it exists.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=False,
    )
    rl.add_argument("-h", "--help", action=_RLHelp, help="show this help with every -s key and its default")
    rl.add_argument("--env", default="arena/SudokuExtremeStep-v0", help="a step env (default Sudoku step mode)")
    rl.add_argument("--data", default=None, help="bundled | generated | hub | PATH.csv")
    rl.add_argument("--env-option", "-o", action="append", default=[], metavar="KEY=VALUE", help="e.g. -o size=4")
    rl.add_argument(
        "--set", "-s", action="append", default=[], metavar="KEY=VALUE", help="a PPO setting, e.g. -s ent_coef=0.02"
    )
    rl.add_argument("--total-timesteps", type=int, default=None, help="env steps to train for (default 200,000)")
    rl.add_argument("--num-envs", type=int, default=None, help="boards stepped side by side (default 64)")
    rl.add_argument("--curriculum", default=None, help="a curriculum spec, e.g. target=0.7 (docs/rl-curricula.md)")
    rl.add_argument("--seed", type=int, default=None)
    rl.add_argument("--device", default=None, help="cpu | cuda")
    rl.add_argument("--out", default=None, help="run directory (default runs/rl/ENV); an existing run resumes")
    rl.add_argument("--restart", action="store_true", help="discard the run in --out instead of resuming it")
    rl.add_argument("--max-minutes", type=float, default=None, help="wall-time limit; the policy is saved on stopping")
    rl.set_defaults(func=cmd_rl)

    from arena_harness import export

    export.add_parser(sub)

    sub.add_parser("envs", help="list environments").set_defaults(func=cmd_envs)
    sub.add_parser("agents", help="list agents and their options").set_defaults(func=cmd_agents)

    mg = sub.add_parser("merge", help="merge shard stores into one")
    mg.add_argument("output")
    mg.add_argument("inputs", nargs="+")
    mg.set_defaults(func=cmd_merge)

    vw = sub.add_parser("view", help="write a static HTML page showing every answer and verdict of a stored run")
    vw.add_argument("run", help="run id or 'latest' (list runs with `arena submit --list`)")
    vw.add_argument("--db", default=DEFAULT_DB, help=f"result store (default {DEFAULT_DB})")
    vw.add_argument("--out", default=None, help="directory for index.html (default runs/views/run-ID)")
    vw.add_argument("--limit", type=int, default=200, help="puzzles shown (default 200; 0 shows all)")
    vw.set_defaults(func=cmd_view)
    if extend is not None:
        extend(sub)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    parser: argparse.ArgumentParser | None = None,
    user_errors: tuple[type[BaseException], ...] = (),
) -> int:
    """Run one command; errors a user can cause (``user_errors`` adds more) end in one line and exit code 2."""
    parser = parser or build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    from arena_envs.config import ConfigError, DataError
    from arena_harness.runner import AgentError
    from arena_harness.store import StoreError

    try:
        return int(args.func(args))
    except (ConfigError, DataError, StoreError, AgentError, FileNotFoundError, ValueError, *user_errors) as exc:
        print(f"arena: error: {exc}", file=sys.stderr)
        return 2
    except (sqlite3.Error, OSError) as exc:  # a database or path that failed mid-command: full, read-only, ...
        where = f" ({exc.filename})" if isinstance(exc, OSError) and exc.filename else ""
        print(
            f"arena: error: {type(exc).__name__}{where}: {exc}; nothing half-written was kept (finished batches "
            "are saved): free space, fix permissions or choose another --db/--out path, then rerun to resume",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print(
            "\narena: interrupted; finished batches are saved, rerun the same command to resume",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
