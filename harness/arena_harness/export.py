"""``arena export``: one split of an environment as a dataset for RL on language models (TRL, verl, prime-rl).

One row per puzzle (the columns are :mod:`arena_agents.llm.rl_data`'s: the LLM agent's prompt as chat messages
and as plain text, ``puzzle_id``, ``env_id``, ``split``, ``data_options``, ``fingerprint``). ``--out DIR`` gets:

* ``data.jsonl`` (``--format jsonl`` or ``both``): one JSON object per line;
* ``dataset/`` (``--format datasets`` or ``both``): the same rows as a Hugging Face ``datasets`` dataset
  (``datasets.load_from_disk``);
* ``meta.json``: the split (env, split, data options, fingerprint, source), the row count, the files, and the
  reward function to score completions with (:func:`arena_envs.rewards.verifier_reward` and its exact call);
* ``README.md``: the same in words.

Every file and the dataset folder are written beside their final name and renamed into place, so a reader never
sees half an export. :func:`load_reward` builds the reward from ``meta.json``, to score completions offline.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arena_envs.config import ConfigError

FORMATS = ("jsonl", "datasets", "both")
JSONL = "data.jsonl"
DATASET = "dataset"
META = "meta.json"


@dataclass(frozen=True)
class ExportResult:
    """Where an export went, how many rows it holds, and its meta.json."""

    out: Path
    rows: int
    meta: dict[str, Any]


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``arena export`` to the ``arena`` command's subparsers."""
    from arena_harness.cli import DEFAULT_ENV

    ex = subparsers.add_parser(
        "export",
        help="write an environment's split as a prompt dataset for LLM RL (TRL GRPO), with the reward to use",
        description="One row per puzzle: the LLM agent's prompt, puzzle_id, and the split to reload; score "
        "completions with arena_envs.rewards.verifier_reward (meta.json gives the call). See docs/rl-llm.md.",
    )
    ex.add_argument("--env", default=DEFAULT_ENV, help=f"environment id (default {DEFAULT_ENV}); see `arena envs`")
    ex.add_argument("--split", default="train", help="the split to export (default train)")
    ex.add_argument("--data", default=None, help="bundled | generated | hub | PATH (as for arena eval)")
    ex.add_argument(
        "--env-option",
        "-o",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="other data options, e.g. -o size=4 -o count=200",
    )
    ex.add_argument("--limit", type=int, default=None, help="only the first N puzzles of the split")
    ex.add_argument("--out", required=True, help="directory to write data.jsonl / dataset/, meta.json, README.md")
    ex.add_argument("--format", choices=FORMATS, default="both", help="jsonl, datasets (save_to_disk) or both")
    ex.set_defaults(func=cmd_export)
    return ex


def cmd_export(args: argparse.Namespace) -> int:
    """``arena export``: the rows to ``--out``, one summary line on stdout."""
    from arena_harness.cli import _parse_env_options

    options = _parse_env_options(args.env_option)
    if args.data is not None:
        options["data"] = args.data
    result = export(args.env, args.out, split=args.split, data_options=options, limit=args.limit, fmt=args.format)
    meta = result.meta
    print(
        f"{meta['env_id']} split={meta['split']} rows={result.rows} fingerprint={meta['fingerprint'][:19]}...",
        file=sys.stderr,
    )
    print(f"export: {result.out} ({', '.join(meta['files'].values())}); reward: {meta['reward']['call']}")
    return 0


def export(
    env_id: str,
    out: str | Path,
    *,
    split: str = "train",
    data_options: dict[str, Any] | None = None,
    limit: int | None = None,
    fmt: str = "both",
) -> ExportResult:
    """Write the rows of one split (see the module docstring); returns where, how many, and meta.json's content."""
    if fmt not in FORMATS:
        raise ConfigError(f"format must be one of {FORMATS}, got {fmt!r}")
    formats = ("jsonl", "datasets") if fmt == "both" else (fmt,)
    if "datasets" in formats:
        _require_datasets()
    try:
        from arena_agents.llm.rl_data import COLUMNS, load_split, puzzle_rows
    except ImportError as exc:
        raise ConfigError(f"arena export records the LLM agent's prompts: pip install -e '.[llm]' ({exc})") from None

    options = dict(data_options or {})
    if "split" in options:
        raise ConfigError("give the split with --split, not as a data option")
    puzzle_set = load_split(env_id, split, options)
    rows = puzzle_rows(puzzle_set, split, options, limit)
    out = Path(out)
    exported_before = (out / META).is_file()  # only then are data.jsonl / dataset/ ours to replace or remove
    files = {"jsonl": JSONL, "datasets": DATASET}
    meta = _meta(puzzle_set, split, options, len(rows), {f: files[f] for f in formats}, list(COLUMNS))
    if "jsonl" in formats:
        _write_jsonl(out / JSONL, rows)
    if "datasets" in formats:
        _write_dataset(out / DATASET, rows)
    from arena_harness.atomic import write_atomic

    write_atomic(out / "README.md", _readme(meta).encode())
    write_atomic(out / META, (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode())
    if exported_before:
        _remove_stale(out, [files[f] for f in files if f not in formats])
    return ExportResult(out, len(rows), meta)


def reward_call(env_id: str, split: str, data_options: dict[str, Any], partial: bool = False) -> str:
    """The Python call that builds the reward for these rows, e.g. ``verifier_reward('arena/...', split='train')``."""
    args = [repr(env_id), f"split={split!r}", *(f"{k}={v!r}" for k, v in sorted(data_options.items()))]
    if partial:
        args.append("partial=True")
    return f"verifier_reward({', '.join(args)})"


def load_reward(export_dir: str | Path, *, partial: bool = False) -> Any:
    """The reward function for an export's rows, built from its ``meta.json`` (and checked against its fingerprint)."""
    from arena_envs.rewards import verifier_reward

    meta = read_meta(export_dir)
    reward = verifier_reward(meta["env_id"], split=meta["split"], partial=partial, **meta["data_options"])
    if reward.puzzle_set.fingerprint != meta["fingerprint"]:
        raise ConfigError(
            f"{export_dir}: the split loads with fingerprint {reward.puzzle_set.fingerprint[:19]}... but was exported "
            f"with {meta['fingerprint'][:19]}...: its data changed since the export"
        )
    return reward


def read_meta(export_dir: str | Path) -> dict[str, Any]:
    """An export's meta.json (FileNotFoundError when the folder holds none)."""
    path = Path(export_dir) / META
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: not an arena export directory")
    return json.loads(path.read_text())


def read_rows(export_dir: str | Path) -> list[dict[str, Any]]:
    """The rows of an export, from ``data.jsonl`` (or ``dataset/`` when it is the only format written)."""
    meta = read_meta(export_dir)
    if "jsonl" in meta["files"]:
        lines = (Path(export_dir) / JSONL).read_text().splitlines()
        return [json.loads(line) for line in lines if line]
    datasets = _require_datasets()
    return list(datasets.load_from_disk(str(Path(export_dir) / DATASET)))


# --- writing ----------------------------------------------------------------------------------------------------


def _require_datasets() -> Any:
    try:
        import datasets
    except ImportError:
        raise ConfigError(
            "--format datasets needs the datasets package: pip install -e '.[llm-rl]' (or use --format jsonl)"
        ) from None
    return datasets


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    from arena_harness.atomic import write_atomic

    write_atomic(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode())


def _write_dataset(path: Path, rows: list[dict[str, Any]]) -> None:
    """``save_to_disk`` into a folder beside ``path``, then swapped in: the old dataset or the new, never a mix."""
    datasets = _require_datasets()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    old = path.with_name(f".{path.name}.old")
    shutil.rmtree(old, ignore_errors=True)  # left by an export that died between the two renames below
    try:
        datasets.Dataset.from_list(rows).save_to_disk(str(tmp / path.name))
        if path.exists():
            path.rename(old)
        try:
            (tmp / path.name).rename(path)
        except BaseException:
            if old.exists() and not path.exists():
                old.rename(path)  # the previous dataset back in place
            raise
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _remove_stale(out: Path, names: list[str]) -> None:
    """What a previous export wrote in a format this one did not (meta.json, already written, lists the rest)."""
    for name in names:
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


def _meta(
    puzzle_set: Any, split: str, options: dict[str, Any], n_rows: int, files: dict[str, str], columns: list[str]
) -> dict[str, Any]:
    from importlib import metadata

    versions = {}
    for package in ("puzzle-arena", "pydantic-ai-slim", "datasets", "trl", "transformers"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return {
        "env_id": puzzle_set.env_id,
        "split": split,
        "data_options": options,
        "fingerprint": puzzle_set.fingerprint,
        "source": puzzle_set.source,
        "rows": n_rows,
        "puzzles_in_split": len(puzzle_set.puzzles),
        "files": files,
        "columns": columns,
        "prompt": "the messages llm:NAME,base_url=... sends (output=prompted, strategy=direct)",
        "reward": {
            "function": "arena_envs.rewards.verifier_reward",
            "call": reward_call(puzzle_set.env_id, split, options),
            "scores": "1.0 if the env's verifier accepts the completion's answer, else 0.0; partial=True adds "
            "partial credit (docs/rl-llm.md)",
        },
        "versions": versions,
    }


def _readme(meta: dict[str, Any]) -> str:
    files = "\n".join(f"- `{name}` ({fmt})" for fmt, name in meta["files"].items())
    return f"""# {meta["env_id"]} split {meta["split"]}: prompts for LLM RL

{meta["rows"]} rows (of {meta["puzzles_in_split"]} puzzles in the split), written by `arena export`. Source
`{meta["source"]}`, data options `{json.dumps(meta["data_options"], sort_keys=True)}`, fingerprint
`{meta["fingerprint"]}`.

{files}
- `meta.json`: the same facts, machine-readable.

Columns: {", ".join(f"`{c}`" for c in meta["columns"])}. `prompt` holds {meta["prompt"]}, in TRL's
conversational form; `prompt_text` joins their contents with blank lines.

Score completions with the environment's verifier (1.0 if accepted, else 0.0), as TRL's `reward_funcs` takes it:

```python
from arena_envs.rewards import verifier_reward
reward = {meta["reward"]["call"]}
rewards = reward(prompts, completions, puzzle_id=puzzle_ids)
```

or `arena_harness.export.load_reward("THIS_FOLDER")`, which also checks the fingerprint. See docs/rl-llm.md.
"""
