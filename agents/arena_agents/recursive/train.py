"""Training loop shared by the recursive models (TRM, HRM; the later models reuse it).

Deep supervision with a persistent carry, as in the published HRM/TRM trainers: the global batch has B
slots; every optimiser step advances each slot by one supervision (ACT) step, computes the loss of that
step, and then decides per slot whether to halt. A halted slot takes a fresh puzzle and fresh latents at
the next optimiser step; the others keep their (detached) carry. So one puzzle gets up to ``max_steps``
optimiser steps of supervision, each on a better answer than the last.

Per step and slot (paper symbols: y_hat answer logits, q_halt / q_continue halting logits):

    loss = mean_tokens CE_stablemax(y_hat, y) + 0.5 * BCE(q_halt, y_hat exactly right)
           [+ 0.5 * BCE(q_continue, sigmoid(max(q_halt', q_continue')))   HRM only; primes = next step]

summed over slots and divided by the global batch. Halting: always after ``max_steps``; before that when
q_halt > 0 (TRM) or q_halt > q_continue (HRM), but a sample drawn for exploration (probability 0.1) may not
halt before its minimum of U{2..max_steps} steps.

Optimisers: the papers' AdamATan2 for the network (``optimizer="adamw"`` swaps in torch's AdamW) and
SignSGD with its own learning rate for the puzzle embedding; linear warmup then constant (TRM) or cosine
(HRM) learning rate; EMA of the weights for evaluation; bf16 autocast on CUDA; optional gradient clipping.
Data parallel under ``torchrun`` (DDP, NCCL on GPUs, gloo on CPUs): each process owns a contiguous block of
slots, so a run on W processes sees the same samples as one process with the same global batch.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from arena_agents.recursive import checkpoint as ckpt
from arena_agents.recursive.data import SlotSampler, TrainingArrays
from arena_agents.recursive.losses import supervision_loss
from arena_agents.recursive.models import build_model, config_fields, model_config
from arena_agents.recursive.optim import EMA, AdamATan2, SignSGD, lr_factor
from arena_envs.config import ConfigError, build_config
from arena_envs.protocol import PuzzleSet, config_to_dict
from arena_envs.registry import make_puzzle_set
from arena_harness.metrics import auroc


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run. Defaults are TRM's Sudoku-Extreme settings."""

    model: str = "trm"  # "trm" | "hrm"
    env: str = "arena/SudokuExtreme-v0"
    env_options: dict[str, Any] = field(default_factory=dict)  # e.g. {"size": 4, "count": 2000}
    model_options: dict[str, Any] = field(default_factory=dict)  # overrides of TRMConfig / HRMConfig
    train_split: str = "train"
    eval_split: str = "test"
    eval_limit: int | None = 1000  # held-out puzzles per evaluation (None = the whole split)
    steps: int = 50_000  # optimiser steps
    global_batch: int = 768
    optimizer: str = "adam_atan2"  # the papers'; "adamw" = torch.optim.AdamW with the same betas
    lr: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.95)
    weight_decay: float = 1.0
    puzzle_emb_lr: float = 1e-4
    puzzle_emb_weight_decay: float = 1.0
    lr_warmup: int = 2000
    lr_schedule: str = "constant"  # "constant" (TRM) | "cosine" (HRM)
    lr_min_ratio: float = 1.0  # cosine floor as a fraction of lr
    grad_clip: float | None = None  # max global gradient norm; None = no clipping (the papers)
    ema: float | None = 0.999  # EMA decay of the weights used for evaluation; None = evaluate raw weights
    halt_weight: float = 0.5
    halt_exploration: float = 0.1
    augment: bool | None = None  # None = the family's published default (Sudoku yes, Maze no)
    seed: int = 0
    device: str = "auto"  # "auto" | "cpu" | "cuda" | "cuda:N"
    bf16: bool | None = None  # None = on for CUDA, off on CPU
    log_every: int = 50
    eval_every: int = 2000
    checkpoint_every: int = 2000
    keep_checkpoints: int = 2
    eval_batch: int = 256
    compile: bool = False  # torch.compile each block stack (worth it on GPUs for long runs)

    def __post_init__(self) -> None:
        checks = {
            "model": self.model in ("trm", "hrm"),
            "optimizer": self.optimizer in ("adam_atan2", "adamw"),
            "lr_schedule": self.lr_schedule in ("constant", "cosine"),
            "steps": self.steps >= 1,
            "global_batch": self.global_batch >= 1,
            "lr": self.lr > 0,
            "lr_warmup": self.lr_warmup >= 0,
            "log_every": self.log_every >= 1,
            "eval_every": self.eval_every >= 1,
            "checkpoint_every": self.checkpoint_every >= 1,
            "ema": self.ema is None or 0 < self.ema < 1,
            "halt_exploration": 0 <= self.halt_exploration <= 1,
            "grad_clip": self.grad_clip is None or self.grad_clip > 0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ConfigError(f"invalid value for {', '.join(bad)} ({self._values(bad)})")

    def _values(self, names: list[str]) -> str:
        return ", ".join(f"{n}={getattr(self, n)!r}" for n in names)


# Settings that may change when a run is resumed (they do not change what is learned step by step).
RESUMABLE_CHANGES = frozenset(
    {
        "steps",
        "log_every",
        "eval_every",
        "checkpoint_every",
        "keep_checkpoints",
        "eval_limit",
        "eval_batch",
        "device",
        "compile",
    }
)


def make_train_config(model: str, env: str, options: Mapping[str, Any], env_options: Mapping[str, Any]) -> TrainConfig:
    """A config from flat ``key=value`` options: train keys go to the run, model keys to the model config."""
    model_keys = config_fields(model) if model in ("trm", "hrm") else set()
    train_keys = {f.name for f in dataclasses.fields(TrainConfig)}
    run = {k: v for k, v in options.items() if k in train_keys or k not in model_keys}
    run["model_options"] = {**run.get("model_options", {}), **{k: v for k, v in options.items() if k in model_keys}}
    if "betas" in run and isinstance(run["betas"], list):
        run["betas"] = tuple(run["betas"])
    return build_config(TrainConfig, {"model": model, "env": env, "env_options": dict(env_options), **run})


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @staticmethod
    def from_environment() -> DistInfo:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        return DistInfo(int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0")))


def _device(config: TrainConfig, info: DistInfo) -> torch.device:
    if config.device == "auto":
        return torch.device(f"cuda:{info.local_rank}") if torch.cuda.is_available() else torch.device("cpu")
    if config.device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device={config.device!r} but torch sees no CUDA GPU; use device=cpu or auto")
    if config.device == "cuda":
        return torch.device(f"cuda:{info.local_rank}")
    return torch.device(config.device)


@dataclass
class TrainResult:
    run_dir: Path
    step: int
    last_eval: dict[str, Any] | None
    log: list[dict[str, Any]]


class Trainer:
    def __init__(self, config: TrainConfig, run_dir: str | Path, info: DistInfo | None = None) -> None:
        self.config, self.run_dir = config, Path(run_dir)
        self.info = info or DistInfo()
        if config.global_batch % self.info.world_size:
            raise ConfigError(
                f"global_batch {config.global_batch} is not divisible by {self.info.world_size} processes"
            )
        self.device = _device(config, self.info)
        self.bf16 = config.bf16 if config.bf16 is not None else self.device.type == "cuda"
        train_set = make_puzzle_set(config.env, split=config.train_split, **config.env_options)
        self.data = TrainingArrays.from_puzzle_set(train_set)
        codec = self.data.codec
        derived = {"vocab_size": codec.vocab_size, "seq_len": codec.seq_len}
        self.model_config = model_config(config.model, {**derived, **config.model_options})
        torch.manual_seed(config.seed)
        self.model = build_model(config.model, self.model_config).to(self.device)
        self.max_steps = int(self.model_config.max_steps)
        if config.compile:
            compile_stacks(self.model)
        self.net: nn.Module = self.model
        if self.info.world_size > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        emb = [p for n, p in self.model.named_parameters() if n.endswith("puzzle_emb")]
        rest = [p for n, p in self.model.named_parameters() if not n.endswith("puzzle_emb")]
        if config.optimizer == "adam_atan2":
            self.opt: torch.optim.Optimizer = AdamATan2(
                rest, lr=config.lr, betas=config.betas, weight_decay=config.weight_decay
            )
        else:
            self.opt = torch.optim.AdamW(rest, lr=config.lr, betas=config.betas, weight_decay=config.weight_decay)
        self.emb_opt = SignSGD(emb, lr=config.puzzle_emb_lr, weight_decay=config.puzzle_emb_weight_decay)
        self.ema = EMA(self.model, config.ema) if config.ema is not None else None
        self.sampler = SlotSampler(
            self.data,
            seed=config.seed,
            augment=config.augment if config.augment is not None else self.data.codec.augment_by_default,
            explore_prob=config.halt_exploration,
            max_steps=self.max_steps,
        )
        self.local_batch = config.global_batch // self.info.world_size
        self.first_slot = self.info.rank * self.local_batch
        b, s = self.local_batch, codec.seq_len
        self.inputs = torch.zeros(b, s, dtype=torch.long, device=self.device)
        self.labels = torch.zeros(b, s, dtype=torch.long, device=self.device)
        self.slot_steps = torch.zeros(b, dtype=torch.long, device=self.device)
        self.min_steps = torch.zeros(b, dtype=torch.long, device=self.device)
        self.refills = np.zeros(b, dtype=np.int64)  # samples each slot has taken so far
        self.halted = torch.ones(b, dtype=torch.bool, device=self.device)
        self.carry = self.model.initial_carry(b, self.device)
        self.step = 0
        self._eval_set: PuzzleSet | None = None
        self._eval_model: nn.Module | None = None

    # -- one optimiser step --------------------------------------------------------------------------------

    def _autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16) if self.bf16 else nullcontext()

    def _refill(self) -> None:
        """Halted slots take their next sample and restart from the initial latents."""
        idx = torch.nonzero(self.halted).flatten().tolist()
        if not idx:
            return
        samples = [self.sampler.draw(self.first_slot + i, int(self.refills[i])) for i in idx]
        self.refills[idx] += 1
        where = torch.tensor(idx, device=self.device)
        self.inputs[where] = torch.from_numpy(np.stack([x.inputs for x in samples])).to(self.device)
        self.labels[where] = torch.from_numpy(np.stack([x.labels for x in samples])).to(self.device)
        self.min_steps[where] = torch.tensor([x.min_steps for x in samples], device=self.device)
        self.slot_steps[where] = 0
        fresh = self.model.initial_carry(len(idx), self.device)
        self.carry = tuple(c.index_put((where,), f.to(c.dtype)) for c, f in zip(self.carry, fresh))

    def _set_lr(self) -> float:
        c = self.config
        factor = lr_factor(
            self.step, warmup=c.lr_warmup, total=c.steps, schedule=c.lr_schedule, min_ratio=c.lr_min_ratio
        )
        for group in self.opt.param_groups:
            group["lr"] = c.lr * factor
        for group in self.emb_opt.param_groups:
            group["lr"] = c.puzzle_emb_lr * factor
        return c.lr * factor

    def train_step(self) -> dict[str, float]:
        """Advance every slot one supervision step and take one optimiser step. Returns local sums."""
        c = self.config
        self._refill()
        lr = self._set_lr()
        self.net.train()
        with self._autocast():
            out = self.net(self.inputs, self.carry)
        steps = self.slot_steps + 1
        loss, metrics = supervision_loss(out.logits, self.labels, out.q_halt, halt_weight=c.halt_weight)
        stats = {
            "lm_halt_loss": float(loss.detach()),
            "exact_accuracy": float(metrics["exact_accuracy"]) * self.local_batch,
            "token_accuracy": float(metrics["token_accuracy"]) * self.local_batch,
        }
        if out.q_continue is not None:  # HRM's ACT: the continue target comes from a second, no-grad step
            with torch.no_grad(), self._autocast():
                nxt = self.model(self.inputs, out.carry)
            best_next = torch.where(steps >= self.max_steps, nxt.q_halt, torch.maximum(nxt.q_halt, nxt.q_continue))
            target = torch.sigmoid(best_next.float())
            cont = F.binary_cross_entropy_with_logits(out.q_continue.float(), target, reduction="sum")
            loss = loss + c.halt_weight * cont.to(loss.dtype)
            stats["continue_bce"] = float(cont.detach())
        (loss / self.local_batch).backward()  # DDP averages over processes: total / global batch
        if c.grad_clip is not None:
            stats["grad_norm"] = float(nn.utils.clip_grad_norm_(self.model.parameters(), c.grad_clip))
        self.opt.step()
        self.emb_opt.step()
        self.opt.zero_grad(set_to_none=True)
        self.emb_opt.zero_grad(set_to_none=True)
        if self.ema is not None:
            self.ema.update(self.model)
        with torch.no_grad():
            halted = steps >= self.max_steps
            if self.max_steps > 1:
                wants = out.q_halt > 0 if out.q_continue is None else out.q_halt > out.q_continue
                halted |= wants & (steps >= self.min_steps)
        stats["halted"] = float(halted.sum())
        stats["halted_steps"] = float(steps[halted].sum())
        self.carry, self.slot_steps, self.halted = out.carry, steps, halted
        self.step += 1
        stats["lr"] = lr
        return stats

    # -- evaluation ---------------------------------------------------------------------------------------

    def eval_model(self) -> nn.Module:
        """The model evaluation uses: a copy holding the EMA weights (or the raw weights without EMA)."""
        if self._eval_model is None:
            self._eval_model = copy.deepcopy(self.model)
        self._eval_model.load_state_dict(self.ema.state_dict() if self.ema is not None else self.model.state_dict())
        return self._eval_model.eval()

    @torch.no_grad()
    def evaluate(self) -> dict[str, Any]:
        """Exact accuracy of the evaluation weights on held-out puzzles, judged by the env's own verifier.

        Runs all ``max_steps`` steps (a batch finishes together). ``q_auroc`` measures how well the final
        sigmoid(q_halt) separates right from wrong answers; ``q_auroc_all_steps`` does the same over every
        (puzzle, step) prediction, which stays defined when every final answer is right.
        """
        c = self.config
        if self._eval_set is None:
            options = dict(c.env_options)
            self._eval_set = make_puzzle_set(c.env, split=c.eval_split, **options)
        puzzles = list(self._eval_set.puzzles)[: c.eval_limit]
        model, codec = self.eval_model(), self.data.codec
        started = time.perf_counter()
        final_ok, final_q, step_ok, step_q = [], [], [], []
        for lo in range(0, len(puzzles), c.eval_batch):
            chunk = puzzles[lo : lo + c.eval_batch]
            tokens = torch.from_numpy(codec.encode(np.stack([p.grid for p in chunk]))).to(self.device)
            carry = model.initial_carry(len(chunk), self.device)
            for step in range(self.max_steps):
                with self._autocast():
                    out = model(tokens, carry)
                carry = out.carry
                answers = codec.decode(out.logits.argmax(-1).cpu().numpy())
                ok = [v.ok for v in self._eval_set.verify_batch(chunk, list(answers))]
                q = torch.sigmoid(out.q_halt.float()).cpu().numpy().tolist()
                step_ok += ok
                step_q += q
                if step == self.max_steps - 1:
                    final_ok += ok
                    final_q += q
        seconds = time.perf_counter() - started
        n = len(final_ok)
        return {
            "step": self.step,
            "eval_puzzles": n,
            "exact_accuracy": sum(final_ok) / n,
            "q_auroc": _nan_to_none(auroc(final_q, final_ok)),
            "q_auroc_all_steps": _nan_to_none(auroc(step_q, step_ok)),
            "mean_q": float(np.mean(final_q)),
            "eval_puzzles_per_second": n / seconds,
        }

    # -- checkpoints --------------------------------------------------------------------------------------

    def _config_dict(self) -> dict[str, Any]:
        return config_to_dict(self.config)

    def save_checkpoint(self, last_eval: Mapping[str, Any] | None = None) -> Path | None:
        info = self.info
        tmp = self.run_dir / (ckpt.checkpoint_name(self.step) + ".tmp")
        if info.is_main:
            ckpt.begin_checkpoint(self.run_dir, self.step)
        _barrier(info)
        ckpt.save_state(
            tmp / f"carry-rank{info.rank}.pt",
            {
                "world_size": info.world_size,
                "step": self.step,
                "carry": [t.detach().cpu() for t in self.carry],
                "inputs": self.inputs.cpu(),
                "labels": self.labels.cpu(),
                "slot_steps": self.slot_steps.cpu(),
                "min_steps": self.min_steps.cpu(),
                "refills": torch.from_numpy(self.refills.copy()),
                "halted": self.halted.cpu(),
            },
        )
        _barrier(info)
        final = None
        if info.is_main:
            kind, mcfg = self.config.model, dataclasses.asdict(self.model_config)
            meta = self._weights_meta(last_eval)
            ckpt.save_weights(tmp / ckpt.MODEL_FILE, kind, mcfg, self.model.state_dict(), **meta)
            if self.ema is not None:
                ckpt.save_weights(tmp / ckpt.EMA_FILE, kind, mcfg, self.ema.state_dict(), **meta)
            ckpt.save_state(
                tmp / ckpt.TRAINER_FILE,
                {"step": self.step, "optimizer": self.opt.state_dict(), "emb_optimizer": self.emb_opt.state_dict()},
            )
            (tmp / "train_config.json").write_text(json.dumps(self._config_dict(), indent=2))
            final = ckpt.commit_checkpoint(self.run_dir, tmp, self.config.keep_checkpoints)
            best = final / (ckpt.EMA_FILE if self.ema is not None else ckpt.MODEL_FILE)
            export = self.run_dir / (ckpt.MODEL_FILE + ".tmp")
            export.write_bytes(best.read_bytes())
            os.replace(export, self.run_dir / ckpt.MODEL_FILE)
        _barrier(info)
        return final

    def _weights_meta(self, last_eval: Mapping[str, Any] | None) -> dict[str, Any]:
        codec = self.data.codec
        return {
            "family": codec.family,
            "grid_shape": list(codec.grid_shape),
            "env": self.config.env,
            "env_options": dict(self.config.env_options),
            "train_step": self.step,
            "last_eval": dict(last_eval) if last_eval else None,
            "train_config": self._config_dict(),
        }

    def load_checkpoint(self, path: Path) -> None:
        saved = json.loads((path / "train_config.json").read_text())
        now = self._config_dict()
        changed = sorted(k for k in set(saved) | set(now) if saved.get(k) != now.get(k) and k not in RESUMABLE_CHANGES)
        if changed:
            raise ConfigError(
                f"{self.run_dir} holds a run with different settings ({', '.join(changed)}); "
                "use another --out directory, or --restart to discard that run"
            )
        weights = ckpt.load_weights(path / ckpt.MODEL_FILE)
        self.model.load_state_dict(weights.state)
        if self.ema is not None:
            self.ema.load_state_dict(
                {k: v.to(self.device) for k, v in ckpt.load_weights(path / ckpt.EMA_FILE).state.items()}
            )
        trainer = ckpt.load_state(path / ckpt.TRAINER_FILE)
        self.opt.load_state_dict(trainer["optimizer"])
        self.emb_opt.load_state_dict(trainer["emb_optimizer"])
        slots = ckpt.load_state(path / f"carry-rank{self.info.rank}.pt")
        if slots["world_size"] != self.info.world_size:
            raise ConfigError(
                f"{path} was written by {slots['world_size']} processes; resume it with the same number "
                f"(got {self.info.world_size})"
            )
        to = self.device
        self.carry = tuple(t.to(to) for t in slots["carry"])
        self.inputs, self.labels = slots["inputs"].to(to), slots["labels"].to(to)
        self.slot_steps, self.min_steps = slots["slot_steps"].to(to), slots["min_steps"].to(to)
        self.refills = slots["refills"].numpy().copy()
        self.halted = slots["halted"].to(to)
        self.step = int(trainer["step"])


def compile_stacks(model: nn.Module) -> None:
    """torch.compile every block stack in place (parameter names and checkpoints stay the same)."""
    from arena_agents.recursive.layers import Stack

    for module in model.modules():
        if isinstance(module, Stack):
            module.compile()


def _nan_to_none(x: float) -> float | None:
    return None if math.isnan(x) else x


def _barrier(info: DistInfo) -> None:
    if info.world_size > 1:
        dist.barrier()


def _reduce_sums(stats: dict[str, float], info: DistInfo, device: torch.device) -> dict[str, float]:
    if info.world_size == 1:
        return stats
    keys = sorted(stats)
    t = torch.tensor([stats[k] for k in keys], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return dict(zip(keys, t.tolist()))


class RunLog:
    """``log.jsonl``: one JSON object per line, flushed as written; trimmed to the checkpoint on resume."""

    def __init__(self, path: Path, enabled: bool) -> None:
        self.path, self.enabled = path, enabled
        self.entries: list[dict[str, Any]] = []

    def resume_at(self, step: int) -> None:
        if not self.enabled or not self.path.is_file():
            return
        kept = [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]
        kept = [e for e in kept if e.get("step", 0) <= step]
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text("".join(json.dumps(e) + "\n" for e in kept))
        os.replace(tmp, self.path)
        self.entries = kept

    def write(self, entry: dict[str, Any]) -> None:
        if not self.enabled:
            return
        self.entries.append(entry)
        with self.path.open("a") as fh:
            fh.write(json.dumps(entry) + "\n")
            fh.flush()


def train(
    config: TrainConfig,
    run_dir: str | Path,
    *,
    restart: bool = False,
    max_seconds: float | None = None,
    echo: Callable[[str], None] | None = None,
) -> TrainResult:
    """Train (or resume) a run in ``run_dir``; under ``torchrun`` every process calls this.

    Resumes from ``run_dir/latest`` when it exists (settings must match, except those in
    ``RESUMABLE_CHANGES``). ``max_seconds`` stops early, after a checkpoint, once that much wall time has
    passed — the step count then depends on the machine.
    """
    info = DistInfo.from_environment()
    owns_group = False
    if info.world_size > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() and config.device != "cpu" else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(info.local_rank)
        dist.init_process_group(backend)
        owns_group = True
    try:
        return _train(config, Path(run_dir), info, restart, max_seconds, echo)
    finally:
        if owns_group:
            dist.destroy_process_group()


def _train(
    config: TrainConfig,
    run_dir: Path,
    info: DistInfo,
    restart: bool,
    max_seconds: float | None,
    echo: Callable[[str], None] | None,
) -> TrainResult:
    say = echo if echo is not None and info.is_main else (lambda _msg: None)
    if info.is_main:
        if restart:
            for old in [
                *run_dir.glob("ckpt-*"),
                run_dir / ckpt.LATEST,
                run_dir / "log.jsonl",
                run_dir / ckpt.MODEL_FILE,
            ]:
                if old.is_dir():
                    shutil.rmtree(old)
                else:
                    old.unlink(missing_ok=True)
        run_dir.mkdir(parents=True, exist_ok=True)
    _barrier(info)
    trainer = Trainer(config, run_dir, info)
    log = RunLog(run_dir / "log.jsonl", info.is_main)
    latest = ckpt.latest_checkpoint(run_dir)
    if latest is not None:
        trainer.load_checkpoint(latest)
        log.resume_at(trainer.step)
        say(f"resumed from {latest} at step {trainer.step}")
    else:
        say(
            f"training {config.model} ({trainer.model.size():,} parameters) on {config.env} "
            f"[{len(trainer.data.questions)} puzzles] on {trainer.device}, global batch {config.global_batch}"
            + (f" over {info.world_size} processes" if info.world_size > 1 else "")
        )
    started = time.perf_counter()
    window_start, window_steps = time.perf_counter(), 0
    sums: dict[str, float] = {}
    last_eval = None
    stop = False
    while trainer.step < config.steps and not stop:
        stats = trainer.train_step()
        window_steps += 1
        for k, v in stats.items():
            sums[k] = sums.get(k, 0.0) + v
        step = trainer.step
        if step % config.log_every == 0 or step == config.steps:
            if trainer.device.type == "cuda":
                torch.cuda.synchronize(trainer.device)
            elapsed = time.perf_counter() - window_start
            sums["lr"] = sums.get("lr", 0.0) / info.world_size  # every process adds the same lr
            total = _reduce_sums(sums, info, trainer.device)
            per = config.global_batch * window_steps
            entry = {
                "step": step,
                "loss": total["lm_halt_loss"] / per + config.halt_weight * total.get("continue_bce", 0.0) / per,
                "train_exact_accuracy": total["exact_accuracy"] / per,
                "train_token_accuracy": total["token_accuracy"] / per,
                "mean_halt_steps": total["halted_steps"] / max(1.0, total["halted"]),
                "lr": total["lr"] / window_steps,
                "samples_per_second": per / elapsed,
                "seconds": time.perf_counter() - started,
            }
            if "grad_norm" in total:
                entry["grad_norm"] = total["grad_norm"] / window_steps / info.world_size
            log.write(entry)
            say(
                f"step {step:>7d}  loss {entry['loss']:.4f}  train exact {entry['train_exact_accuracy']:.3f}  "
                f"halt@{entry['mean_halt_steps']:.1f}  {entry['samples_per_second']:.0f} samples/s"
            )
            sums, window_start, window_steps = {}, time.perf_counter(), 0
            if max_seconds is not None:
                flag = torch.tensor([float(time.perf_counter() - started > max_seconds)], device=trainer.device)
                if info.world_size > 1:
                    dist.all_reduce(flag, op=dist.ReduceOp.MAX)
                stop = bool(flag.item())
        final = step == config.steps or stop
        if step % config.eval_every == 0 or final:
            if info.is_main:
                last_eval = trainer.evaluate()
                log.write({"eval": True, **last_eval})
                say(
                    f"eval step {step}: exact accuracy {last_eval['exact_accuracy']:.4f} on "
                    f"{last_eval['eval_puzzles']} held-out puzzles, q AUROC {last_eval['q_auroc']}"
                )
            _barrier(info)
        if step % config.checkpoint_every == 0 or final:
            trainer.save_checkpoint(last_eval)
    return TrainResult(run_dir, trainer.step, last_eval, log.entries)


def main_echo(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
