"""The settings of a training run: :class:`TrainConfig`, and how ``arena train -s KEY=VALUE`` options split
between the run and the model family's own config."""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from arena_agents.recursive.families import DEEP_SUPERVISION, FAMILIES, families_trained_by, get_family, load_object
from arena_agents.recursive.models import config_fields, network_class
from arena_envs.config import ConfigError, build_config


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run. Defaults are TRM's published Sudoku-Extreme settings."""

    model: str = "trm"  # a trainable family of arena_agents.recursive.families
    env: str = "arena/SudokuExtreme-v0"
    env_options: dict[str, Any] = field(default_factory=dict)  # e.g. {"size": 4, "count": 2000}
    model_options: dict[str, Any] = field(default_factory=dict)  # overrides of the family's model config
    train_split: str = "train"  # the env split trained on
    eval_split: str = "test"  # the env split evaluated on (held out)
    eval_limit: int | None = 1000  # held-out puzzles per evaluation (None = the whole split)
    epochs: float = 50_000  # passes over the training puzzles (one sample each); ignored when steps is set
    steps: int | None = None  # optimiser steps; None = epochs * training puzzles / global_batch
    global_batch: int = 768  # samples (carry slots) per optimiser step, over all processes
    optimizer: str = "adam_atan2"  # the papers'; "adamw" = torch.optim.AdamW with the same betas
    lr: float = 1e-4  # peak learning rate of the network
    betas: tuple[float, float] = (0.9, 0.95)  # Adam betas
    weight_decay: float = 1.0  # of the network (decoupled, lr-scaled)
    puzzle_emb_lr: float = 1e-4  # SignSGD learning rate of the puzzle embedding
    puzzle_emb_weight_decay: float = 1.0  # of the puzzle embedding
    lr_warmup: int = 2000  # linear warmup steps
    lr_schedule: str = "constant"  # "constant" (TRM) | "cosine" (HRM)
    lr_min_ratio: float = 1.0  # cosine floor as a fraction of lr
    grad_clip: float | None = None  # max global gradient norm; None = no clipping (the papers)
    ema: float | None = 0.999  # EMA decay of the weights used for evaluation; None = evaluate raw weights
    halt_exploration: float = 0.1  # probability of a minimum of U{2..max_steps} supervision steps
    halt_exploration_draw: str = "step"  # "step": redrawn every optimiser step (published); "sample": once
    augment: bool | None = None  # None = the family's published default (Sudoku yes, Maze no)
    seed: int = 0  # weights, samples, augmentations and exploration draws
    device: str = "auto"  # "auto" | "cpu" | "cuda" | "cuda:N"
    bf16: bool | None = None  # None = on for CUDA, off on CPU
    log_every: int = 50  # steps between log lines (the first step of a run is logged too)
    eval_every: int = 2000  # steps between evaluations (and at the end)
    checkpoint_every: int = 2000  # steps between checkpoints (and at the end or a --max-minutes stop)
    keep_checkpoints: int = 2  # newest checkpoints kept
    eval_batch: int = 256  # puzzles per evaluation batch
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
    run = split_options(options, config_fields(model), {f.name for f in dataclasses.fields(TrainConfig)}, model)
    return build_config(TrainConfig, {"model": model, "env": env, "env_options": dict(env_options), **run})


# Fields of every run config that are not ``-s`` settings: ``--model``, ``--env`` and ``-o`` set them.
NOT_SETTINGS = frozenset({"model", "env", "env_options", "model_options"})


def split_options(
    options: Mapping[str, Any], model_keys: set[str], run_keys: set[str], family: str = "?"
) -> dict[str, Any]:
    """Flat ``key=value`` options as a run config's fields: a key of the run stays there, a key only the
    model config has goes into ``model_options``; any other key is one error naming the valid keys (and the
    closest one). ``betas`` given as a list becomes a tuple."""
    check_option_names(options, model_keys, run_keys, family)
    run = {k: v for k, v in options.items() if k in run_keys or k not in model_keys}
    run["model_options"] = {**run.get("model_options", {}), **{k: v for k, v in options.items() if k in model_keys}}
    if isinstance(run.get("betas"), list):
        run["betas"] = tuple(run["betas"])
    return run


def check_option_names(options: Mapping[str, Any], model_keys: set[str], run_keys: set[str], family: str) -> None:
    """One ConfigError for every ``-s`` key that is neither a trainer nor a model key, with the closest valid
    key for each and the whole list."""
    trainer = sorted(set(run_keys) - NOT_SETTINGS)
    model = sorted(set(model_keys) - NOT_SETTINGS - set(trainer))
    unknown = sorted(set(options) - set(trainer) - set(model))
    if not unknown:
        return
    hints = []
    for key in unknown:
        close = difflib.get_close_matches(key, trainer + model, n=1)
        flag = {"model": "--model", "env": "--env", "env_options": "-o KEY=VALUE"}.get(key)
        hints.append(
            f"{key!r} (did you mean {close[0]!r}?)" if close else f"{key!r} (set with {flag})" if flag else repr(key)
        )
    raise ConfigError(
        f"unknown option(s) {', '.join(hints)} for `arena train --model {family}`; trainer keys: "
        f"{', '.join(trainer)}; model keys: {', '.join(model)} (`arena train --help` lists them with their defaults)"
    )


def field_docs(cls: type) -> dict[str, str]:
    """Each field's one-line help: its ``metadata["help"]``, else the comment after it in the class source."""
    comments: dict[str, str] = {}
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):  # no source (a frozen install): defaults only
        source = ""
    for line in source.splitlines():
        match = re.match(r"\s+(\w+)\s*:[^#]*#\s*(.*)$", line)
        if match:
            comments.setdefault(match.group(1), match.group(2).strip())
    return {f.name: f.metadata.get("help", comments.get(f.name, "")) for f in dataclasses.fields(cls)}


def _default_text(f: dataclasses.Field) -> str:
    if f.default is not dataclasses.MISSING:
        return repr(f.default)
    if f.default_factory is not dataclasses.MISSING:
        return repr(f.default_factory())
    return "(required)"


def describe_fields(cls: type, skip: frozenset[str] = frozenset()) -> list[str]:
    """``  name  default  help`` lines for the fields of a config dataclass."""
    docs = field_docs(cls)
    rows = [(f.name, _default_text(f), docs[f.name]) for f in dataclasses.fields(cls) if f.name not in skip]
    width = max(len(name) for name, _, _ in rows)
    return [f"  {name:<{width}}  {default:<12}  {doc}".rstrip() for name, default, doc in rows]


def settings_help() -> str:
    """Every trainer and model key of every trainable family with its default (``arena train --help``)."""
    lines = [
        "settings (-s KEY=VALUE): defaults below; --preset NAME replaces them with its recipe's values, and -s and",
        "the flags (--steps, --global-batch, --device, --seed) replace the preset's. Model sizes that follow from",
        "the env (vocab_size, seq_len; channels, grid) are filled in from it.",
    ]
    by_trainer: dict[str, list[str]] = {}
    for name in sorted(FAMILIES):
        family = FAMILIES[name]
        if family.trainable and family.train_settings is not None:
            by_trainer.setdefault(family.train_settings, []).append(name)
    for settings, names in by_trainer.items():
        cls = load_object(settings)
        lines += ["", f"trainer keys of {', '.join(names)} ({cls.__name__}):", *describe_fields(cls, NOT_SETTINGS)]
        for name in names:
            config_class = network_class(name).config_class
            lines += ["", f"model keys of {name} ({config_class.__name__}):", *describe_fields(config_class)]
    return "\n".join(lines)
