"""Training the Lattice Deduction Transformer on an on-policy pool of lattices.

The pool holds ``global_batch * pool_mult`` lattices, each a state the solver itself reached from a training
sample. Every optimiser step:

1. draws ``global_batch`` pool entries, puts each under a random symmetry, and trains on them: the loss of
   ``LDT.loss`` (weighted BCE of keep logits against lattice AND solution, value CE, conflict BCE, every
   loop supervised). A maze has as many solutions as shortest paths: the pool keeps up to ``max_solutions``
   of them per entry, and the target is the union of those still consistent with the entry's lattice
   (``training_targets``);
2. advances those entries one solver round without gradient (deduce with the training conflict threshold,
   then branch where still open) and ages them;
3. replaces the entries that are solved, truly contradicted (the conflict head or an empty cell fired and
   no solution is left in the lattice), or older than ``max_age`` rounds, with fresh samples.

A fresh Sudoku sample is a training puzzle under a random symmetry: as it is (20%), with a random share of its
blanks filled with the true digits (``hint_fraction``, 55%), or deliberately unsolvable (``unsat_fraction``,
25%: some blanks filled, some of those with wrong digits; its target is the empty lattice and its conflict
target 1). Maze samples are the mazes under a dihedral symmetry, start and goal swapped half the time.
Optimiser: AdamW (lr 3e-3, betas 0.9/0.95, weight decay 0.1), clip 1.0, linear warmup over the first 10% then
cosine to 1% of the peak.

Every random draw is a pure function of (seed, step) or (seed, sample number): a checkpoint holds the weights,
the optimiser and the pool, and a resumed run continues exactly (tested).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from arena_agents.recursive import checkpoint as ckpt
from arena_agents.recursive.agent import resolve_device
from arena_agents.recursive.agent_config import LDTAgentConfig
from arena_agents.recursive.lattice import LatticeCodec, codec_shape, lattice_codec_for
from arena_agents.recursive.ldt import LDT, LDTConfig, branch, deduce, training_targets
from arena_agents.recursive.ldt_agent import LatticeSolver, call_under_symmetry, random_symmetries
from arena_agents.recursive.optim import lr_factor
from arena_agents.recursive.runlog import RunLog
from arena_agents.recursive.train import TimeLimit, TrainResult
from arena_agents.recursive.train_config import split_options
from arena_envs.config import ConfigError, build_config
from arena_envs.maze.grid import GOAL, START
from arena_envs.protocol import config_to_dict, seed_int
from arena_envs.registry import make_puzzle_set

# Per puzzle family: model settings and training settings of the published runs (None in a config = these).
PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "sudoku": {
        "model": {"dim": 128, "positions": "learned", "keep_threshold": 0.10, "conflict_threshold": 0.6},
        "train": {
            "global_batch": 512,
            "steps": 4000,
            "pool_mult": 1.0,
            "unsat_fraction": 0.25,
            "hint_fraction": 0.55,
            "max_solutions": 1,
        },
    },
    "maze": {
        "model": {"dim": 192, "positions": "rope2d", "keep_threshold": 0.5, "conflict_threshold": 0.53},
        "train": {
            "global_batch": 192,
            "steps": 20000,
            "pool_mult": 2.0,
            "unsat_fraction": 0.0,
            "hint_fraction": 0.0,
            "max_solutions": 256,
        },
    },
    # the LDT paper's Snowflake run (experiments/snowflake of lcrh/lattice-deduction-transformers): Sudoku's model
    # and sample mix (20% puzzles as given, 55% with extra hints, 25% with deliberate errors), 1,000 steps
    "snowflake": {
        "model": {"dim": 128, "positions": "learned", "keep_threshold": 0.10, "conflict_threshold": 0.6},
        "train": {
            "global_batch": 512,
            "steps": 1000,
            "pool_mult": 1.0,
            "unsat_fraction": 0.25,
            "hint_fraction": 0.55,
            "max_solutions": 1,
        },
    },
}


@dataclass(frozen=True)
class LDTTrainConfig:
    """Everything that decides an LDT training run; None = the puzzle family's published setting (PRESETS)."""

    model: str = "ldt"
    env: str = "arena/SudokuExtreme-v0"
    env_options: dict[str, Any] = field(default_factory=dict)
    model_options: dict[str, Any] = field(default_factory=dict)  # overrides of LDTConfig
    train_split: str = "train"  # the env split trained on
    eval_split: str = "test"  # the env split evaluated on (held out)
    eval_limit: int | None = 200  # held-out puzzles per evaluation (None = the whole split)
    steps: int | None = None  # Sudoku 4,000, Maze 20,000
    global_batch: int | None = None  # Sudoku 512, Maze 192
    pool_mult: float | None = None  # pool = global_batch * pool_mult (Sudoku 1, Maze 2)
    unsat_fraction: float | None = None  # deliberately unsolvable samples (Sudoku 0.25, Maze 0)
    hint_fraction: float | None = None  # samples with true digits filled in (Sudoku 0.55, Maze 0)
    max_solutions: int | None = None  # solutions kept per sample (Sudoku 1, its unique one; Maze 256 shortest paths)
    max_age: int = 100  # solver rounds a pool entry may live
    lr: float = 3e-3  # AdamW peak learning rate
    betas: tuple[float, float] = (0.9, 0.95)  # AdamW betas
    weight_decay: float = 0.1  # AdamW weight decay
    warmup_fraction: float = 0.1  # share of the steps in linear warmup, then cosine
    lr_min_ratio: float = 0.01  # cosine floor as a fraction of lr
    grad_clip: float = 1.0  # max global gradient norm
    train_conflict_threshold: float = 0.5  # the conflict head's threshold while advancing the pool
    augment: bool = True  # a random symmetry per sample and per pool step
    seed: int = 0  # weights, samples and every draw of the pool
    device: str = "auto"  # "auto" | "cpu" | "cuda" | "cuda:N"
    log_every: int = 50  # steps between log lines (the first step of a run is logged too)
    eval_every: int = 1000  # steps between solver evaluations (and at the end)
    checkpoint_every: int = 1000  # steps between checkpoints (and at the end or a --max-minutes stop)
    keep_checkpoints: int = 2  # newest checkpoints kept
    eval_chains: int = 16  # solver chains per puzzle in the trainer's evaluation
    eval_max_rounds: int = 200  # solver rounds before abstaining in the trainer's evaluation

    def __post_init__(self) -> None:
        checks = {
            "model": self.model == "ldt",
            "steps": self.steps is None or self.steps >= 1,
            "global_batch": self.global_batch is None or self.global_batch >= 1,
            "pool_mult": self.pool_mult is None or self.pool_mult >= 1,
            "unsat_fraction": self.unsat_fraction is None or 0 <= self.unsat_fraction <= 1,
            "hint_fraction": self.hint_fraction is None or 0 <= self.hint_fraction <= 1,
            "max_solutions": self.max_solutions is None or self.max_solutions >= 1,
            "lr": self.lr > 0,
            "warmup_fraction": 0 <= self.warmup_fraction < 1,
            "max_age": self.max_age >= 1,
            "log_every": self.log_every >= 1,
            "eval_every": self.eval_every >= 1,
            "checkpoint_every": self.checkpoint_every >= 1,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ConfigError(
                f"invalid value for {', '.join(bad)} ({', '.join(f'{n}={getattr(self, n)!r}' for n in bad)})"
            )

    def resolved(self, family: str) -> LDTTrainConfig:
        """This config with every None replaced by the family's published setting."""
        preset = PRESETS.get(family, PRESETS["sudoku"])["train"]
        return dataclasses.replace(self, **{k: v for k, v in preset.items() if getattr(self, k) is None})


RESUMABLE_CHANGES = frozenset(
    {
        "steps",
        "log_every",
        "eval_every",
        "checkpoint_every",
        "keep_checkpoints",
        "eval_limit",
        "device",
        "eval_chains",
        "eval_max_rounds",
    }
)


def make_train_config(
    model: str, env: str, options: Mapping[str, Any], env_options: Mapping[str, Any]
) -> LDTTrainConfig:
    """A config from flat ``key=value`` options: LDTConfig keys go to the model, the rest to the run."""
    model_keys = {f.name for f in dataclasses.fields(LDTConfig)}
    run = split_options(options, model_keys, {f.name for f in dataclasses.fields(LDTTrainConfig)}, model)
    return build_config(LDTTrainConfig, {"model": model, "env": env, "env_options": dict(env_options), **run})


# -- samples ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    lattice: np.ndarray  # bool [S, C]: the sample's starting lattice
    givens: np.ndarray  # bool [S]
    solutions: np.ndarray  # bool [K, S, C], K = max_solutions: answers the verifier accepts, the last repeated
    solvable: bool


def make_sample(
    codec: LatticeCodec, question: np.ndarray, answer: np.ndarray, rng: np.random.Generator, config: LDTTrainConfig
) -> Sample:
    """A training sample from one puzzle: a random symmetry, then hints or deliberate errors (Sudoku)."""
    q, a = question, answer
    if config.augment:
        transform = codec.random_transform(rng)
        q, a = transform.apply(q), transform.apply(a)
        if codec.family == "maze" and rng.random() < 0.5:  # start and goal swapped: the same shortest paths
            q, a = (np.where(g == START, GOAL, np.where(g == GOAL, START, g)).astype(g.dtype) for g in (q, a))
    grid, solvable = q.copy(), True
    # hints and deliberate errors where the puzzle has digits to give (Sudoku, Snowflake); a maze has none
    blanks = np.flatnonzero(q.reshape(-1) == 0) if codec.family != "maze" else np.zeros(0, dtype=np.int64)
    digits = getattr(codec, "digits", codec.channels)
    u = rng.random()
    flat, truth = grid.reshape(-1), a.reshape(-1)
    if blanks.size and u < config.unsat_fraction:
        filled = rng.choice(blanks, max(1, int(rng.uniform(0.1, 1.0) * blanks.size)), replace=False)
        flat[filled] = truth[filled]
        wrong = rng.choice(filled, max(1, int(rng.uniform(0.01, 0.3) * filled.size)), replace=False)
        flat[wrong] = (truth[wrong] - 1 + rng.integers(1, digits, wrong.size)) % digits + 1
        solvable = False
    elif blanks.size and u < config.unsat_fraction + config.hint_fraction:
        filled = rng.choice(blanks, int(rng.random() * blanks.size), replace=False)
        flat[filled] = truth[filled]
    solutions = codec.solutions(q, a, config.max_solutions, rng)  # of the puzzle: hints and errors change none
    padded = solutions[np.minimum(np.arange(config.max_solutions), len(solutions) - 1)]
    return Sample(codec.initial(grid[None])[0], codec.givens(grid[None])[0], padded, solvable)


# -- the pool --------------------------------------------------------------------------------------------------


class Pool:
    """The lattices being trained on, as tensors on the device, refilled from a stream of samples."""

    FIELDS = ("lattice", "givens", "solutions", "solvable", "age")

    def __init__(self, size: int, codec: LatticeCodec, questions, answers, config: LDTTrainConfig, device) -> None:
        self.codec, self.questions, self.answers, self.config, self.device = codec, questions, answers, config, device
        s, c = codec.grid_shape[0] * codec.grid_shape[1], codec.channels
        self.lattice = torch.zeros(size, s, c, dtype=torch.bool, device=device)
        self.givens = torch.zeros(size, s, dtype=torch.bool, device=device)
        self.solutions = torch.zeros(size, config.max_solutions, s, c, dtype=torch.bool, device=device)
        self.solvable = torch.ones(size, dtype=torch.bool, device=device)
        self.age = torch.zeros(size, dtype=torch.long, device=device)
        self.drawn = 0  # samples taken so far: sample n is a pure function of (seed, n)
        self.refill(torch.arange(size, device=device))

    def refill(self, slots: torch.Tensor) -> None:
        """Fresh samples into ``slots``."""
        samples = []
        for _ in range(len(slots)):
            rng = np.random.default_rng([self.config.seed, 1, self.drawn])
            i = int(rng.integers(len(self.questions)))
            samples.append(make_sample(self.codec, self.questions[i], self.answers[i], rng, self.config))
            self.drawn += 1
        if not samples:
            return
        to = self.device
        self.lattice[slots] = torch.from_numpy(np.stack([x.lattice for x in samples])).to(to)
        self.givens[slots] = torch.from_numpy(np.stack([x.givens for x in samples])).to(to)
        self.solutions[slots] = torch.from_numpy(np.stack([x.solutions for x in samples])).to(to)
        self.solvable[slots] = torch.tensor([x.solvable for x in samples], device=to)
        self.age[slots] = 0

    def state(self) -> dict[str, Any]:
        return {**{k: getattr(self, k).cpu() for k in self.FIELDS}, "drawn": self.drawn}

    def load(self, state: Mapping[str, Any]) -> None:
        for k in self.FIELDS:
            setattr(self, k, state[k].to(self.device))
        self.drawn = int(state["drawn"])


# -- the trainer -----------------------------------------------------------------------------------------------


class LDTTrainer:
    def __init__(self, config: LDTTrainConfig, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.device = resolve_device(config.device)
        train_set = make_puzzle_set(config.env, split=config.train_split, **config.env_options)
        puzzles = list(train_set.puzzles)
        if not puzzles:
            raise ConfigError(f"{config.env} split {config.train_split!r} has no puzzles to train on")
        self.codec = lattice_codec_for(puzzles[0].family, codec_shape(puzzles))
        self.config = c = config.resolved(self.codec.family)
        self.questions = np.stack([self.codec.fit(p.grid) for p in puzzles])
        self.answers = np.stack([self.codec.fit(train_set.label(p)) for p in puzzles])
        preset = PRESETS.get(self.codec.family, PRESETS["sudoku"])["model"]
        rows, cols = self.codec.grid_shape
        shape = {"grid": rows, **({"cols": cols} if cols != rows else {})}
        if hasattr(self.codec, "extra_groups"):  # a board whose groups are not rows and columns (Snowflake)
            shape["groups"] = self.codec.extra_groups()
        options = {"channels": self.codec.channels, **shape, **preset, **c.model_options}
        self.model_config = build_config(LDTConfig, options, what="model 'ldt'")
        torch.manual_seed(c.seed)
        self.model = LDT(self.model_config).to(self.device)
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=c.lr, betas=c.betas, weight_decay=c.weight_decay)
        self.pool = Pool(int(c.global_batch * c.pool_mult), self.codec, self.questions, self.answers, c, self.device)
        self.cell_perms = torch.from_numpy(self.codec.cell_permutations()).to(self.device)
        self.step = 0
        self._eval_set = None

    def _set_lr(self) -> float:
        c = self.config
        factor = lr_factor(
            self.step,
            warmup=int(c.warmup_fraction * c.steps),
            total=c.steps,
            schedule="cosine",
            min_ratio=c.lr_min_ratio,
        )
        for group in self.opt.param_groups:
            group["lr"] = c.lr * factor
        return c.lr * factor

    def train_step(self) -> dict[str, float]:
        """One optimiser step on a draw from the pool, then one solver round for the drawn entries."""
        c, pool = self.config, self.pool
        gen = torch.Generator(device=self.device).manual_seed(seed_int(c.seed, "ldt-step", self.step))
        torch.manual_seed(seed_int(c.seed, "ldt-dropout", self.step))
        idx = torch.randperm(len(pool.age), generator=gen, device=self.device)[: c.global_batch]
        lattice, givens, solutions, solvable = (
            pool.lattice[idx],
            pool.givens[idx],
            pool.solutions[idx],
            pool.solvable[idx],
        )
        solution, lost = training_targets(lattice, solutions, solvable)
        lr = self._set_lr()
        # ---- train on the drawn states, each under its own symmetry ----
        self.model.train()
        self.model.dropout_p = self.model_config.dropout
        cells, values = random_symmetries(
            len(idx), self.cell_perms, self.codec.permute_channels, self.model_config.channels, c.augment, gen
        )
        rows = torch.arange(len(idx), device=self.device)[:, None]
        seen = lambda t: t[rows[:, :, None], cells[:, :, None], values[:, None, :]]  # noqa: E731
        out = self.model(seen(lattice), all_loops=True)
        loss, metrics = self.model.loss(out, seen(lattice), seen(solution), givens[rows, cells], solvable, lost)
        loss.backward()
        grad_norm = float(nn.utils.clip_grad_norm_(self.model.parameters(), c.grad_clip))
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        # ---- advance the drawn states one solver round (no gradient), replace finished ones ----
        self.model.eval()
        with torch.no_grad():
            keep, value, conflict_logits = call_under_symmetry(
                self.model, lattice, self.cell_perms, self.codec.permute_channels, c.augment, gen
            )
            lattice, conflict, solved = deduce(
                lattice, givens, keep, conflict_logits, self.model_config.keep_threshold, c.train_conflict_threshold
            )
            truth_gone = training_targets(lattice, solutions, solvable)[1]
            lattice = branch(lattice, value, ~conflict & ~solved, self.model_config.branch_temperature, gen)
        pool.lattice[idx] = lattice
        pool.age[idx] += 1
        done = solved | (conflict & truth_gone) | (pool.age[idx] > c.max_age)
        pool.refill(idx[done])
        self.step += 1
        return {
            "loss": float(loss.detach()),
            "lr": lr,
            "grad_norm": grad_norm,
            "solved": float(solved.float().mean()),
            "true_conflicts": float((conflict & truth_gone).float().mean()),
            **{k: float(v) for k, v in metrics.items()},
        }

    # -- evaluation -------------------------------------------------------------------------------------------

    def evaluate(self) -> dict[str, Any]:
        """The solver (chains, rounds as configured) on held-out puzzles, judged by the env's verifier."""
        c = self.config
        if self._eval_set is None:
            self._eval_set = make_puzzle_set(c.env, split=c.eval_split, **c.env_options)
        puzzles = list(self._eval_set.puzzles)[: c.eval_limit]
        agent_config = LDTAgentConfig(
            path="(training)", chains=c.eval_chains, max_rounds=c.eval_max_rounds, seed=c.seed
        )
        solver = LatticeSolver(copy.deepcopy(self.model), self.codec, agent_config, self.device)
        started = time.perf_counter()
        candidates = [solver.solve(p, 0) for p in puzzles]
        answered = [(p, cand) for p, cand in zip(puzzles, candidates) if cand.answer is not None]
        verdicts = self._eval_set.verify_batch([p for p, _ in answered], [cand.answer for _, cand in answered])
        right = sum(v.ok for v in verdicts)
        n = len(puzzles)
        return {
            "step": self.step,
            "eval_puzzles": n,
            "coverage": len(answered) / n,
            "exact_accuracy": right / n,
            "wrong": len(answered) - right,
            "mean_rounds": float(np.mean([cand.cost.steps for cand in candidates])),
            "eval_puzzles_per_second": n / (time.perf_counter() - started),
        }

    # -- checkpoints ------------------------------------------------------------------------------------------

    def save_checkpoint(self, last_eval: Mapping[str, Any] | None) -> Path:
        tmp = ckpt.begin_checkpoint(self.run_dir, self.step)
        meta = {
            "family": self.codec.family,
            "grid_shape": list(self.codec.grid_shape),
            "env": self.config.env,
            "env_options": dict(self.config.env_options),
            "train_step": self.step,
            "last_eval": dict(last_eval) if last_eval else None,
            "train_config": config_to_dict(self.config),
        }
        ckpt.save_weights(
            tmp / ckpt.MODEL_FILE, "ldt", dataclasses.asdict(self.model_config), self.model.state_dict(), **meta
        )
        ckpt.save_state(
            tmp / ckpt.TRAINER_FILE, {"step": self.step, "optimizer": self.opt.state_dict(), "pool": self.pool.state()}
        )
        (tmp / "train_config.json").write_text(json.dumps(config_to_dict(self.config), indent=2))
        final = ckpt.commit_checkpoint(self.run_dir, tmp, self.config.keep_checkpoints)
        ckpt.export_weights(final / ckpt.MODEL_FILE, self.run_dir)
        return final

    def load_checkpoint(self, path: Path) -> None:
        ckpt.check_same_run(path, config_to_dict(self.config), RESUMABLE_CHANGES, self.run_dir)
        self.model.load_state_dict(ckpt.load_weights(path / ckpt.MODEL_FILE).state)
        state = ckpt.load_state(path / ckpt.TRAINER_FILE)
        self.opt.load_state_dict(state["optimizer"])
        self.pool.load(state["pool"])
        self.step = int(state["step"])


def train(
    config: LDTTrainConfig,
    run_dir: str | Path,
    *,
    restart: bool = False,
    max_seconds: float | None = None,
    echo: Callable[[str], None] | None = None,
) -> TrainResult:
    """Train (or resume) an LDT run in ``run_dir``; one process (no data parallel). ``max_seconds`` limits the
    wall time of this call as in :func:`arena_agents.recursive.train.train`: checked after every step, a stop
    saves a checkpoint and skips the final evaluation."""
    deadline = TimeLimit(max_seconds)
    report = echo or (lambda _msg: None)
    run_dir = Path(run_dir)
    if restart:
        ckpt.clear_run(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    trainer = LDTTrainer(config, run_dir)
    c = trainer.config
    log = RunLog(run_dir / "log.jsonl", True)
    latest = ckpt.latest_checkpoint(run_dir)
    if latest is not None:
        trainer.load_checkpoint(latest)
        log.resume_at(trainer.step)
        report(f"resumed from {latest} at step {trainer.step} of {c.steps}")
    else:
        report(
            f"training ldt ({trainer.model.size():,} parameters) on {c.env} [{len(trainer.questions)} puzzles], "
            f"batch {c.global_batch}, pool {len(trainer.pool.age)}, {c.steps} steps on {trainer.device}"
        )
    started = window = time.perf_counter()
    sums: dict[str, float] = {}
    count, last_eval, stop, first_step = 0, None, False, trainer.step + 1
    while trainer.step < c.steps and not stop:
        step_started = time.perf_counter()
        for k, v in trainer.train_step().items():
            sums[k] = sums.get(k, 0.0) + v
        count += 1
        step = trainer.step
        stop = deadline.expired(time.perf_counter() - step_started) and step < c.steps  # every step
        final = step == c.steps or stop
        if step % c.log_every == 0 or final or step == first_step:  # the first step at once
            entry = {
                "step": step,
                **{k: v / count for k, v in sums.items()},
                "samples_per_second": count * c.global_batch / (time.perf_counter() - window),
                "seconds": time.perf_counter() - started,
                "pool_samples_drawn": trainer.pool.drawn,
            }
            log.write(entry)
            report(
                f"step {step:>6d}  loss {entry['loss']:.4f}  wrong kills {entry['wrong_kill_rate']:.3f}  "
                f"solved {entry['solved']:.3f}  {entry['samples_per_second']:.0f} samples/s"
            )
            sums, count, window = {}, 0, time.perf_counter()
        if not stop and (step % c.eval_every == 0 or final):  # not after a time stop
            last_eval = trainer.evaluate()
            log.write({"eval": True, **last_eval})
            report(
                f"eval step {step}: coverage {last_eval['coverage']:.3f}, exact {last_eval['exact_accuracy']:.3f}, "
                f"wrong {last_eval['wrong']} of {last_eval['eval_puzzles']}"
            )
        if step % c.checkpoint_every == 0 or final:
            trainer.save_checkpoint(last_eval)
    if stop:
        report(deadline.report(trainer.step, c.steps))
    return TrainResult(run_dir, trainer.step, last_eval, log.entries)
