"""Checkpoints of the recursive models: weights as safetensors, trainer state as a tensors-only torch file.

Nothing here unpickles arbitrary objects: weights go through ``safetensors`` (with the model kind and config
as JSON metadata) and the trainer state (optimiser moments, carry, slot counters) is loaded with
``torch.load(weights_only=True)``. A checkpoint is a directory, written under a temporary name and renamed
into place, so an interrupted save never leaves a half-written checkpoint behind.

    RUN/
      ckpt-00001000/
        model.safetensors       raw weights
        ema.safetensors         EMA weights (what evaluation uses), when EMA is on
        trainer.pt              step, optimiser states, EMA bookkeeping (rank 0)
        carry-rank0.pt ...      each data-parallel process's slots: latents, samples, step counters
        train_config.json
      latest                    name of the newest complete checkpoint
      model.safetensors         the weights to evaluate (EMA when on), refreshed at every checkpoint
      log.jsonl                 one JSON object per logged step / evaluation
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from arena_envs.config import ConfigError

# v2: the networks equal the published code (golden tests); v1 files (before that) are refused with a reason.
FORMAT = "puzzle-arena-recursive-v2"
MODEL_FILE = "model.safetensors"
EMA_FILE = "ema.safetensors"
TRAINER_FILE = "trainer.pt"
LATEST = "latest"


class CheckpointError(ConfigError):
    """A checkpoint that is missing, corrupt or for another model."""


@dataclass(frozen=True)
class Weights:
    kind: str  # the family that wrote it ("trm", "hrm", ...)
    model_config: dict[str, Any]
    state: dict[str, torch.Tensor]
    metadata: dict[str, Any]  # family, grid shape, training step, eval accuracy ...


def save_weights(
    path: Path, kind: str, model_config: Mapping[str, Any], state: Mapping[str, torch.Tensor], **meta: Any
) -> None:
    """Write a safetensors file atomically, with the model kind and config as metadata."""
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state.items()}
    metadata = {"format": FORMAT, "kind": kind, "model_config": json.dumps(dict(model_config))}
    metadata.update({k: json.dumps(v) for k, v in meta.items()})
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata=metadata)
    os.replace(tmp, path)


def export_weights(source: Path, run_dir: Path) -> Path:
    """Copy a checkpoint's weights to ``RUN/model.safetensors`` atomically (what ``trm:RUN`` evaluates)."""
    target = run_dir / MODEL_FILE
    tmp = run_dir / (MODEL_FILE + ".tmp")
    tmp.write_bytes(source.read_bytes())
    os.replace(tmp, target)
    return target


def resolve_weights_path(path: str | Path) -> Path:
    """A weights file from a path: the file itself, a run directory, or a checkpoint directory."""
    p = Path(path).expanduser()
    if p.is_dir():
        for candidate in (p / EMA_FILE, p / MODEL_FILE):  # a checkpoint directory: its EMA weights first
            if candidate.is_file():
                return candidate
        raise CheckpointError(f"{p} holds no {MODEL_FILE}; pass a run directory, a checkpoint or a .safetensors file")
    if not p.is_file():
        raise CheckpointError(f"checkpoint {p} does not exist; train one with `arena train` or check the path")
    return p


def load_weights(path: str | Path) -> Weights:
    p = resolve_weights_path(path)
    try:
        from safetensors import safe_open

        with safe_open(str(p), framework="pt") as fh:
            raw_meta = fh.metadata() or {}
        state = load_file(str(p))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(
            f"{p} is not a readable safetensors checkpoint ({exc}); re-export or retrain it"
        ) from None
    if raw_meta.get("format") == "puzzle-arena-recursive-v1":
        raise CheckpointError(
            f"{p} was written before the TRM/HRM networks were made equal to the published code (TRM-MLP's "
            "sequence norm, the input scaling): its weights compute something else now; retrain it"
        )
    if raw_meta.get("format") != FORMAT:
        raise CheckpointError(f"{p} was not written by `arena train` (no puzzle-arena metadata)")
    meta = {k: json.loads(v) for k, v in raw_meta.items() if k not in ("format", "kind", "model_config")}
    return Weights(raw_meta["kind"], json.loads(raw_meta["model_config"]), state, meta)


def build_fitted(weights: Weights, build: Callable[[], nn.Module], path: Path) -> nn.Module:
    """The model ``build()`` makes, holding ``weights``; checked before any memory is allocated for it.

    A checkpoint's config is not trusted: the model is first built on the ``meta`` device (shapes only, no
    storage), and its parameters and buffers must have exactly the names and shapes the file holds. So a
    small file whose config asks for a huge network is refused in milliseconds instead of allocating it."""
    try:
        with torch.device("meta"):
            skeleton = build()
    except (ValueError, TypeError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: its model config cannot build a model ({exc})") from None
    expected = {k: tuple(v.shape) for k, v in skeleton.state_dict().items()}
    held = {k: tuple(v.shape) for k, v in weights.state.items()}
    if expected != held:
        missing, unexpected = sorted(expected.keys() - held.keys()), sorted(held.keys() - expected.keys())
        resized = [
            f"{k} {held[k]} (config: {expected[k]})"
            for k in sorted(expected.keys() & held.keys())
            if expected[k] != held[k]
        ]
        config_numel = sum(int(torch.Size(v).numel()) for v in expected.values())
        file_numel = sum(v.numel() for v in weights.state.values())
        details = "; ".join(
            part
            for part in (
                f"missing {missing[:3]}" if missing else "",
                f"unexpected {unexpected[:3]}" if unexpected else "",
                f"resized {resized[:3]}" if resized else "",
            )
            if part
        )
        raise CheckpointError(
            f"{path} does not fit its own model config: the config asks for {config_numel:,} values, the file "
            f"holds {file_numel:,} ({details}); the file is corrupt or was edited: re-export or retrain it"
        )
    model = build()
    model.load_state_dict(weights.state)
    return model


def save_state(path: Path, state: Mapping[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(dict(state), tmp)
    os.replace(tmp, path)


def load_state(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise CheckpointError(f"{path} is missing: the checkpoint is incomplete; delete it to resume from an older one")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt or unsafe files
        raise CheckpointError(f"{path} cannot be loaded safely ({type(exc).__name__}: {exc})") from None


def checkpoint_name(step: int) -> str:
    return f"ckpt-{step:08d}"


def begin_checkpoint(run_dir: Path, step: int) -> Path:
    """A fresh temporary directory for the checkpoint of ``step``."""
    tmp = run_dir / (checkpoint_name(step) + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp


def commit_checkpoint(run_dir: Path, tmp: Path, keep: int) -> Path:
    """Rename the finished checkpoint into place, point ``latest`` at it, and prune old ones."""
    final = tmp.with_name(tmp.name.removesuffix(".tmp"))
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    pointer = run_dir / (LATEST + ".tmp")
    pointer.write_text(final.name + "\n")
    os.replace(pointer, run_dir / LATEST)
    done = sorted(p for p in run_dir.glob("ckpt-*") if p.is_dir() and not p.name.endswith(".tmp"))
    for old in done[:-keep] if keep > 0 else []:
        shutil.rmtree(old, ignore_errors=True)
    return final


def latest_checkpoint(run_dir: Path) -> Path | None:
    pointer = run_dir / LATEST
    if not pointer.is_file():
        return None
    path = run_dir / pointer.read_text().strip()
    if not path.is_dir():
        raise CheckpointError(f"{pointer} names {path.name}, which is missing; delete {pointer} to start over")
    return path


def check_same_run(path: Path, settings: Mapping[str, Any], resumable: frozenset[str], run_dir: Path) -> None:
    """Refuse to resume the checkpoint at ``path`` with settings other than its own (``resumable`` may differ)."""
    saved = json.loads((path / "train_config.json").read_text())
    changed = sorted(k for k in set(saved) | set(settings) if saved.get(k) != settings.get(k) and k not in resumable)
    if changed:
        raise ConfigError(
            f"{run_dir} holds a run with different settings ({', '.join(changed)}); "
            "use another --out directory, or --restart to discard that run"
        )


def clear_run(run_dir: Path) -> None:
    """Remove a run's checkpoints, log and exported weights (``--restart``)."""
    for old in [*run_dir.glob("ckpt-*"), run_dir / LATEST, run_dir / "log.jsonl", run_dir / MODEL_FILE]:
        if old.is_dir():
            shutil.rmtree(old)
        else:
            old.unlink(missing_ok=True)
