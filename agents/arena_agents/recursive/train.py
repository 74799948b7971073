"""Training loop shared by every trainable recursive model family (TRM, HRM, and later ones).

Deep supervision with a persistent carry, as in the published HRM/TRM trainers: the global batch has B
slots; every optimiser step advances each slot by one supervision (ACT) step, computes the loss of that
step, and then decides per slot whether to halt. A halted slot takes a fresh puzzle and fresh latents at
the next optimiser step; the others keep their (detached) carry. So one puzzle gets up to ``max_steps``
optimiser steps of supervision, each on a better answer than the last.

The model owns everything model-specific (:class:`arena_agents.recursive.base.RecursiveModel`): its loss
(summed over slots; here divided by the global batch) and its halting rule. Halting: always after
``max_steps``; before that when the model wants to, but not before an exploration minimum: with probability
``halt_exploration`` a slot must reach U{2..max_steps} steps; as in the published code that minimum is drawn
anew at every optimiser step (``halt_exploration_draw="sample"`` draws it once per sample instead).

Optimisers: the papers' AdamATan2 for the network (``optimizer="adamw"`` swaps in torch's AdamW) and
SignSGD with its own learning rate for the puzzle embedding; linear warmup then constant (TRM) or cosine
(HRM) learning rate; EMA of the trainable weights for evaluation; bf16 autocast on CUDA; optional gradient
clipping. Length: ``epochs`` passes over the training puzzles, one sample of each per pass, as the published
configs count them (50,000 epochs of 1,000 puzzles at global batch 768 = 65,104 steps), or ``steps``.
Data parallel under ``torchrun`` (DDP, NCCL on GPUs, gloo on CPUs): each process owns a contiguous block of
slots, so a run on W processes sees the same samples as one process with the same global batch.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import sys
import time
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from arena_agents.recursive import checkpoint as ckpt
from arena_agents.recursive.base import SupervisionBatch
from arena_agents.recursive.data import SlotSampler, TrainingArrays
from arena_agents.recursive.distributed import DistInfo, any_process, barrier, init_process_group, sum_over_processes
from arena_agents.recursive.families import get_family, load_object
from arena_agents.recursive.models import build_model, model_config
from arena_agents.recursive.optim import EMA, AdamATan2, SignSGD, lr_factor
from arena_agents.recursive.runlog import RunLog
from arena_agents.recursive.train_config import RESUMABLE_CHANGES, TrainConfig, make_train_config
from arena_envs.config import ConfigError
from arena_envs.protocol import PuzzleSet, config_to_dict, seed_int
from arena_envs.registry import make_puzzle_set
from arena_harness.metrics import auroc

__all__ = ["DistInfo", "TrainConfig", "TrainResult", "Trainer", "make_train_config", "train"]


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
    """One process's share of a run: the model, its optimisers and EMA, and its block of carry slots."""

    def __init__(self, config: TrainConfig, run_dir: str | Path, info: DistInfo | None = None) -> None:
        self.config, self.run_dir = config, Path(run_dir)
        self.info = info or DistInfo()
        if config.global_batch % self.info.world_size:
            raise ConfigError(
                f"global_batch {config.global_batch} is not divisible by {self.info.world_size} processes"
            )
        self.device = _device(config, self.info)
        self.bf16 = config.bf16 if config.bf16 is not None else self.device.type == "cuda"
        codec_for = load_object(get_family(config.model).codec)
        train_set = make_puzzle_set(config.env, split=config.train_split, **config.env_options)
        self.data = TrainingArrays.from_puzzle_set(train_set, codec_for)
        self.total_steps = config.total_steps(len(self.data.questions))
        self.model_config = model_config(
            config.model,
            {"vocab_size": self.data.codec.vocab_size, "seq_len": self.data.codec.seq_len, **config.model_options},
        )
        torch.manual_seed(config.seed)
        self.model = build_model(config.model, self.model_config).to(self.device)
        self.max_steps = int(self.model_config.max_steps)
        if config.compile:
            compile_stacks(self.model)
        self.net: nn.Module = self.model
        if self.info.world_size > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        self._make_optimisers()
        self.sampler = SlotSampler(
            self.data,
            seed=config.seed,
            augment=config.augment if config.augment is not None else self.data.codec.augment_by_default,
            explore_prob=config.halt_exploration,
            max_steps=self.max_steps,
        )
        self.local_batch = config.global_batch // self.info.world_size
        self.first_slot = self.info.rank * self.local_batch
        b, s = self.local_batch, self.data.codec.seq_len
        self.inputs = torch.zeros(b, s, dtype=torch.long, device=self.device)
        self.labels = torch.zeros(b, s, dtype=torch.long, device=self.device)
        self.slot_steps = torch.zeros(b, dtype=torch.long, device=self.device)
        self.min_steps = torch.zeros(b, dtype=torch.long, device=self.device)  # "sample" draw: per sample
        self.refills = np.zeros(b, dtype=np.int64)  # samples each slot has taken so far
        self.halted = torch.ones(b, dtype=torch.bool, device=self.device)
        self.carry = self.model.initial_carry(b, self.device)
        self.step = 0
        self._eval_set: PuzzleSet | None = None
        self._eval_model: nn.Module | None = None

    def _make_optimisers(self) -> None:
        """AdamATan2 (or AdamW) for the network, SignSGD for the puzzle embedding, and the EMA."""
        c = self.config
        emb = [p for n, p in self.model.named_parameters() if n.endswith("puzzle_emb")]
        rest = [p for n, p in self.model.named_parameters() if not n.endswith("puzzle_emb")]
        optimiser = AdamATan2 if c.optimizer == "adam_atan2" else torch.optim.AdamW
        self.opt: torch.optim.Optimizer = optimiser(rest, lr=c.lr, betas=c.betas, weight_decay=c.weight_decay)
        self.emb_opt = SignSGD(emb, lr=c.puzzle_emb_lr, weight_decay=c.puzzle_emb_weight_decay)
        self.ema = EMA(self.model, c.ema) if c.ema is not None else None

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

    def _exploration_minimum(self) -> torch.Tensor:
        """[B] the fewest steps each slot may halt at, this optimiser step (0 = no minimum).

        "step": with probability p a slot gets U{2..max_steps} for this step only, drawn for the global batch
        from (seed, step) so that any split over processes, and a resumed run, draws the same.
        """
        if self.config.halt_exploration_draw == "sample":
            return self.min_steps
        rng = np.random.default_rng([self.config.seed, 0x5EED, self.step])
        g = self.config.global_batch
        explore = rng.random(g) < self.config.halt_exploration
        minimum = np.where(explore, rng.integers(2, self.max_steps + 1, g), 0)
        local = minimum[self.first_slot : self.first_slot + self.local_batch]
        return torch.from_numpy(local).to(self.device)

    def _noise(self) -> torch.Tensor:
        """[local B, L, D] standard normal: drawn for the global batch from (seed, step), this process's slots."""
        shape = (self.config.global_batch, *self.carry[-1].shape[1:])
        g = torch.Generator(device=self.device).manual_seed(seed_int(self.config.seed, "noise", self.step))
        full = torch.randn(shape, generator=g, device=self.device)
        return full[self.first_slot : self.first_slot + self.local_batch]

    def _set_lr(self) -> float:
        c = self.config
        factor = lr_factor(
            self.step, warmup=c.lr_warmup, total=self.total_steps, schedule=c.lr_schedule, min_ratio=c.lr_min_ratio
        )
        for group in self.opt.param_groups:
            group["lr"] = c.lr * factor
        for group in self.emb_opt.param_groups:
            group["lr"] = c.puzzle_emb_lr * factor
        return c.lr * factor

    def train_step(self) -> dict[str, float]:
        """Advance every slot one supervision step and take one optimiser step. Returns local sums."""
        self._refill()
        lr = self._set_lr()
        self.net.train()
        steps = self.slot_steps + 1
        batch = SupervisionBatch(self.inputs, self.labels, steps, self.max_steps, optimizer_step=self.step)
        with self._autocast():
            out = self.net(self.inputs, self.carry, **self.model.training_inputs(batch, self._noise))
            loss, sums = self.model.loss(out, batch)
        (loss / self.local_batch).backward()  # DDP averages over processes: total / global batch
        stats = {"loss": float(loss.detach()), **{k: float(v) for k, v in sums.items()}}
        if self.config.grad_clip is not None:
            stats["grad_norm"] = float(nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip))
        for opt in (self.opt, self.emb_opt):
            opt.step()
            opt.zero_grad(set_to_none=True)
        if self.ema is not None:
            self.ema.update(self.model)
        with torch.no_grad():
            halted = steps >= self.max_steps
            if self.max_steps > 1:
                halted |= self.model.wants_halt(out) & (steps >= self._exploration_minimum())
        stats["halted"] = float(halted.sum())
        stats["halted_steps"] = float(steps[halted].sum())
        self.carry, self.slot_steps, self.halted = out.carry, steps, halted
        self.step += 1
        stats["lr"] = lr
        return stats

    # -- evaluation ---------------------------------------------------------------------------------------

    def eval_model(self) -> nn.Module:
        """The model evaluation uses: a copy with the EMA averages (or the raw weights without EMA)."""
        if self._eval_model is None:
            self._eval_model = copy.deepcopy(self.model)
        self._eval_model.load_state_dict(self.model.state_dict())
        if self.ema is not None:
            self.ema.copy_to(self._eval_model)
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
            self._eval_set = make_puzzle_set(c.env, split=c.eval_split, **c.env_options)
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

    def save_checkpoint(self, last_eval: Mapping[str, Any] | None = None) -> Path | None:
        """Write ``ckpt-STEP/`` atomically (every process its slots, the main process the rest)."""
        info = self.info
        tmp = self.run_dir / (ckpt.checkpoint_name(self.step) + ".tmp")
        if info.is_main:
            ckpt.begin_checkpoint(self.run_dir, self.step)
        barrier(info)
        slots = {
            "world_size": info.world_size,
            "step": self.step,
            "carry": [t.detach().cpu() for t in self.carry],
            "inputs": self.inputs.cpu(),
            "labels": self.labels.cpu(),
            "slot_steps": self.slot_steps.cpu(),
            "min_steps": self.min_steps.cpu(),
            "refills": torch.from_numpy(self.refills.copy()),
            "halted": self.halted.cpu(),
        }
        ckpt.save_state(tmp / f"carry-rank{info.rank}.pt", slots)
        barrier(info)
        final = None
        if info.is_main:
            kind, config = self.config.model, dataclasses.asdict(self.model_config)
            meta = self._weights_meta(last_eval)
            ckpt.save_weights(tmp / ckpt.MODEL_FILE, kind, config, self.model.state_dict(), **meta)
            if self.ema is not None:
                ckpt.save_weights(tmp / ckpt.EMA_FILE, kind, config, self.ema.averaged_state(self.model), **meta)
            ckpt.save_state(
                tmp / ckpt.TRAINER_FILE,
                {"step": self.step, "optimizer": self.opt.state_dict(), "emb_optimizer": self.emb_opt.state_dict()},
            )
            (tmp / "train_config.json").write_text(json.dumps(config_to_dict(self.config), indent=2))
            final = ckpt.commit_checkpoint(self.run_dir, tmp, self.config.keep_checkpoints)
            ckpt.export_weights(final / (ckpt.EMA_FILE if self.ema is not None else ckpt.MODEL_FILE), self.run_dir)
        barrier(info)
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
            "train_config": config_to_dict(self.config),
        }

    def load_checkpoint(self, path: Path) -> None:
        """Resume from a checkpoint directory; settings must match except ``RESUMABLE_CHANGES``."""
        ckpt.check_same_run(path, config_to_dict(self.config), RESUMABLE_CHANGES, self.run_dir)
        self.model.load_state_dict(ckpt.load_weights(path / ckpt.MODEL_FILE).state)
        if self.ema is not None:
            self.ema.load_state_dict(ckpt.load_weights(path / ckpt.EMA_FILE).state)
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
    ``RESUMABLE_CHANGES``). ``max_seconds`` limits the wall time of this call (data loading included): after
    every optimiser step, once the next step would end past it, the run stops with a checkpoint and without the
    final evaluation (rerun to resume) — the step count then depends on the machine.
    """
    deadline = TimeLimit(max_seconds)
    info = DistInfo.from_environment()
    owns_group = init_process_group(info, config.device)
    try:
        return _train(config, Path(run_dir), info, restart, deadline, echo)
    finally:
        if owns_group:
            torch.distributed.destroy_process_group()


def _start(config: TrainConfig, run_dir: Path, info: DistInfo, restart: bool) -> Trainer:
    """The run directory (emptied on restart) and a trainer for it."""
    if info.is_main:
        if restart:
            ckpt.clear_run(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
    barrier(info)
    return Trainer(config, run_dir, info)


class TimeLimit:
    """``--max-minutes``: a wall-clock budget from construction, checked after every optimiser step.

    ``expired(step_seconds)`` is true once the budget is spent or the next step (as long as the last one) would
    end past it, so a run with slow steps stops before its limit rather than one step after it."""

    def __init__(self, max_seconds: float | None) -> None:
        self.max_seconds, self.started = max_seconds, time.perf_counter()

    def expired(self, step_seconds: float = 0.0) -> bool:
        if self.max_seconds is None:
            return False
        return time.perf_counter() - self.started + step_seconds > self.max_seconds

    def report(self, step: int, total: int) -> str:
        minutes = (time.perf_counter() - self.started) / 60
        return (
            f"stopped by --max-minutes {self.max_seconds / 60:g} after {minutes:.2f} min at step {step} of {total}, "
            "with a checkpoint (no final evaluation); run the same command again to resume"
        )


def _train(
    config: TrainConfig,
    run_dir: Path,
    info: DistInfo,
    restart: bool,
    deadline: TimeLimit,
    echo: Callable[[str], None] | None,
) -> TrainResult:
    report = echo if echo is not None and info.is_main else (lambda _msg: None)
    trainer = _start(config, run_dir, info, restart)
    log = RunLog(run_dir / "log.jsonl", info.is_main)
    latest = ckpt.latest_checkpoint(run_dir)
    if latest is not None:
        trainer.load_checkpoint(latest)
        log.resume_at(trainer.step)
        report(f"resumed from {latest} at step {trainer.step} of {trainer.total_steps}")
    else:
        report(
            f"training {config.model} ({trainer.model.size():,} parameters) on {config.env} "
            f"[{len(trainer.data.questions)} puzzles] on {trainer.device}, global batch {config.global_batch}, "
            f"{trainer.total_steps} steps" + (f" over {info.world_size} processes" if info.world_size > 1 else "")
        )
    started = window_start = time.perf_counter()
    window_steps, sums, last_eval, stop, first_step = 0, {}, None, False, trainer.step + 1
    while trainer.step < trainer.total_steps and not stop:
        # ---- one optimiser step; metrics are sums over this process's slots ----
        step_started = time.perf_counter()
        for k, v in trainer.train_step().items():
            sums[k] = sums.get(k, 0.0) + v
        window_steps += 1
        step = trainer.step
        if deadline.max_seconds is not None:  # every step: a slow configuration must not run far past the limit
            expired = deadline.expired(time.perf_counter() - step_started)  # train_step synchronised (float(loss))
            stop = any_process(expired, info, trainer.device) and step < trainer.total_steps
        final = step == trainer.total_steps or stop
        # ---- log: per-sample means over the window, summed over processes (the first step at once) ----
        if step % config.log_every == 0 or final or step == first_step:
            if trainer.device.type == "cuda":
                torch.cuda.synchronize(trainer.device)
            entry = _log_entry(
                sum_over_processes(sums, info, trainer.device),
                config,
                info,
                step,
                window_steps,
                time.perf_counter() - window_start,
                time.perf_counter() - started,
            )
            log.write(entry)
            report(
                f"step {step:>7d}  loss {entry['loss']:.4f}  train exact {entry['train_exact_accuracy']:.3f}  "
                f"halt@{entry['mean_halt_steps']:.1f}  {entry['samples_per_second']:.0f} samples/s"
            )
            sums, window_start, window_steps = {}, time.perf_counter(), 0
        # ---- evaluate the EMA weights on held-out puzzles (main process; not after a time stop) ----
        if not stop and (step % config.eval_every == 0 or final):
            if info.is_main:
                last_eval = trainer.evaluate()
                log.write({"eval": True, **last_eval})
                report(
                    f"eval step {step}: exact accuracy {last_eval['exact_accuracy']:.4f} on "
                    f"{last_eval['eval_puzzles']} held-out puzzles, q AUROC {last_eval['q_auroc']}"
                )
            barrier(info)
        if step % config.checkpoint_every == 0 or final:
            trainer.save_checkpoint(last_eval)
    if stop:
        report(deadline.report(trainer.step, trainer.total_steps))
    return TrainResult(run_dir, trainer.step, last_eval, log.entries)


def _log_entry(
    total: dict[str, float], config: TrainConfig, info: DistInfo, step: int, steps: int, window: float, elapsed: float
) -> dict[str, Any]:
    """One log line from summed metrics: every model metric as ``train_<name>``, a mean per sample."""
    per = config.global_batch * steps
    entry: dict[str, Any] = {"step": step, "loss": total.pop("loss") / per}
    halted, halted_steps = total.pop("halted"), total.pop("halted_steps")
    lr = total.pop("lr") / info.world_size / steps  # every process adds the same lr
    grad_norm = total.pop("grad_norm", None)
    entry.update({f"train_{name}": value / per for name, value in sorted(total.items())})
    entry.update(
        {
            "mean_halt_steps": halted_steps / max(1.0, halted),
            "lr": lr,
            "samples_per_second": per / window,
            "seconds": elapsed,
        }
    )
    if grad_norm is not None:
        entry["grad_norm"] = grad_norm / steps / info.world_size
    return entry


def main_echo(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
