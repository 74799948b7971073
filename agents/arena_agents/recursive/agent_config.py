"""The recursive-model agent's config, importable without torch (the registry lists it on every install)."""

from __future__ import annotations

from dataclasses import dataclass

from arena_envs.config import ConfigError


@dataclass(frozen=True)
class RecursiveAgentConfig:
    """``trm:PATH`` / ``hrm:PATH``: a checkpoint written by ``arena train``.

    Candidate 0 answers the puzzle as given; candidates 1..k-1 answer a random symmetry of it (the
    training augmentation, seeded by (seed, puzzle id, sample)) and map the answer back exactly, so the k
    candidates differ and best-Q@k / vote@k mean something for a deterministic network.
    """

    path: str = ""
    steps: int | None = None  # supervision steps at inference (None = the model's max_steps, 16)
    batch_size: int = 256  # sequences per forward pass; k is folded into the batch
    device: str = "auto"
    bf16: bool | None = None  # None = on for CUDA
    seed: int = 0
    checkpoint_sha256: str = ""  # filled in at load, so results of different weights never share a key

    def __post_init__(self) -> None:
        if not self.path:
            raise ConfigError("recursive agents need a checkpoint: trm:PATH (a run directory or .safetensors file)")
        if self.steps is not None and self.steps < 1:
            raise ConfigError(f"steps must be >= 1, got {self.steps}")
        if self.batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {self.batch_size}")
