"""The settings of a training run: :class:`TrainConfig`, and how ``arena train -s KEY=VALUE`` options split
between the run and the model family's own config."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from arena_agents.recursive.families import DEEP_SUPERVISION, families_trained_by, get_family
from arena_agents.recursive.models import config_fields
from arena_envs.config import ConfigError, build_config


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run. Defaults are TRM's published Sudoku-Extreme settings."""

    model: str = "trm"  # a trainable family of arena_agents.recursive.families
    env: str = "arena/SudokuExtreme-v0"
    env_options: dict[str, Any] = field(default_factory=dict)  # e.g. {"size": 4, "count": 2000}
    model_options: dict[str, Any] = field(default_factory=dict)  # overrides of the family's model config
    train_split: str = "train"
    eval_split: str = "test"
    eval_limit: int | None = 1000  # held-out puzzles per evaluation (None = the whole split)
    epochs: float = 50_000  # passes over the training puzzles (one sample each); ignored when steps is set
    steps: int | None = None  # optimiser steps; None = epochs * training puzzles / global_batch
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
    halt_exploration: float = 0.1  # probability of a minimum of U{2..max_steps} supervision steps
    halt_exploration_draw: str = "step"  # "step": redrawn every optimiser step (published); "sample": once
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
            "model": self.model in families_trained_by(DEEP_SUPERVISION),
            "optimizer": self.optimizer in ("adam_atan2", "adamw"),
            "lr_schedule": self.lr_schedule in ("constant", "cosine"),
            "epochs": self.epochs > 0,
            "steps": self.steps is None or self.steps >= 1,
            "global_batch": self.global_batch >= 1,
            "lr": self.lr > 0,
            "lr_warmup": self.lr_warmup >= 0,
            "log_every": self.log_every >= 1,
            "eval_every": self.eval_every >= 1,
            "checkpoint_every": self.checkpoint_every >= 1,
            "ema": self.ema is None or 0 < self.ema < 1,
            "halt_exploration": 0 <= self.halt_exploration <= 1,
            "halt_exploration_draw": self.halt_exploration_draw in ("step", "sample"),
            "grad_clip": self.grad_clip is None or self.grad_clip > 0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ConfigError(f"invalid value for {', '.join(bad)} ({self._values(bad)})")

    def _values(self, names: list[str]) -> str:
        return ", ".join(f"{n}={getattr(self, n)!r}" for n in names)

    def total_steps(self, training_puzzles: int) -> int:
        """Optimiser steps of the run: ``steps``, or int(epochs * puzzles / global_batch) as published."""
        if self.steps is not None:
            return self.steps
        return max(1, int(self.epochs * training_puzzles / self.global_batch))


# Settings that may change when a run is resumed (they do not change what is learned step by step).
RESUMABLE_CHANGES = frozenset(
    {
        "steps",
        "epochs",
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
    get_family(model, trainable=True)
    run = split_options(options, config_fields(model), {f.name for f in dataclasses.fields(TrainConfig)})
    return build_config(TrainConfig, {"model": model, "env": env, "env_options": dict(env_options), **run})


def split_options(options: Mapping[str, Any], model_keys: set[str], run_keys: set[str]) -> dict[str, Any]:
    """Flat ``key=value`` options as a run config's fields: a key of the run stays there, a key only the
    model config has goes into ``model_options``, anything else stays for the run config to reject by name;
    ``betas`` given as a list becomes a tuple."""
    run = {k: v for k, v in options.items() if k in run_keys or k not in model_keys}
    run["model_options"] = {**run.get("model_options", {}), **{k: v for k, v in options.items() if k in model_keys}}
    if isinstance(run.get("betas"), list):
        run["betas"] = tuple(run["betas"])
    return run
