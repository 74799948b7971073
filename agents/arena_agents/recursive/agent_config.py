"""The recursive-model agent's config, importable without torch (the registry lists it on every install)."""

from __future__ import annotations

from dataclasses import dataclass

from arena_envs.config import ConfigError


@dataclass(frozen=True)
class RecursiveAgentConfig:
    """``trm:PATH`` / ``hrm:PATH``: a checkpoint written by ``arena train`` (or converted from the official code).

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


@dataclass(frozen=True)
class PTRMAgentConfig(RecursiveAgentConfig):
    """``ptrm:PATH``: Probabilistic TRM (Sghaier et al., 2026) on a TRM checkpoint, at test time only.

    Each of the k candidates of a puzzle is one rollout of the TRM on the puzzle as given, with Gaussian
    noise of scale ``sigma`` added to the chosen latent before every supervision step (the first included).
    ``q`` is sigmoid(q_halt) after the last step, so the harness's best-Q@k is PTRM's answer. The noise of a
    rollout is seeded by (seed, puzzle id, sample): reruns and resumed runs give the same candidates.
    ``sigma=0`` is the TRM itself (every candidate equals ``trm:PATH``'s first).
    """

    sigma: float = 0.3  # noise scale; the latents are RMS-normalised, so 0.3 is about 30% of an element's size
    latent: str = "z"  # the paper's z (reasoning latent, z_L in the published code), "y" (answer), or "both"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.sigma >= 0:
            raise ConfigError(f"sigma must be >= 0, got {self.sigma}")
        if self.latent not in ("z", "y", "both"):
            raise ConfigError(f"latent must be z, y or both, got {self.latent!r}")


@dataclass(frozen=True)
class LDTAgentConfig:
    """``ldt:PATH``: a Lattice Deduction Transformer checkpoint that answers only what its own lattice solves.

    Each candidate runs ``chains`` stochastic chains of the puzzle as one batch: every round is one model call,
    a projection (bits only die) and, where a chain is still open, one branching decision; a chain in
    contradiction restarts from the puzzle. The first chain whose lattice is a full, contradiction-free
    assignment is the answer; after ``max_rounds`` rounds without one the candidate abstains (the reason is
    in its extras). All randomness (branching, dropout, per-round symmetries) is seeded by (seed, puzzle id,
    sample), so a rerun gives the same candidates whatever the batch.
    """

    path: str = ""
    chains: int = 64
    max_rounds: int = 1000
    eval_dropout: float | None = None  # dropout while solving; None = the family default (Sudoku 0.05, Maze 0)
    augment: bool = True  # a fresh symmetry per chain and round (Sudoku: grid + digits; Maze: grid)
    keep_threshold: float | None = None  # None = the checkpoint's (0.10 Sudoku, 0.5 Maze)
    conflict_threshold: float | None = None  # None = the checkpoint's (0.6 Sudoku, 0.53 Maze)
    device: str = "auto"
    seed: int = 0
    checkpoint_sha256: str = ""  # filled in at load, so results of different weights never share a key

    def __post_init__(self) -> None:
        if not self.path:
            raise ConfigError("ldt needs a checkpoint: ldt:PATH (a run directory or .safetensors file)")
        if self.chains < 1 or self.max_rounds < 1:
            raise ConfigError(f"chains and max_rounds must be >= 1, got {self.chains} and {self.max_rounds}")
        if self.eval_dropout is not None and not 0 <= self.eval_dropout < 1:
            raise ConfigError(f"eval_dropout must lie in [0, 1), got {self.eval_dropout}")


GRAM_SELECTIONS = ("value", "vote", "first")


@dataclass(frozen=True)
class GRAMAgentConfig(RecursiveAgentConfig):
    """``gram:PATH``: a GRAM checkpoint; every candidate is chosen among ``n`` sampled trajectories.

    Each trajectory runs the puzzle as given with its own draws of the learned prior noise, seeded by (seed, puzzle
    id, sample, trajectory). ``select`` picks the candidate among the n: ``value`` (the LPRM: the highest value
    head), ``vote`` (the most frequent answer; ties by mean value) or ``first``. ``q`` is the chosen trajectory's
    value (for ``vote``, the winning answer's mean value), so with ``n=1`` and k candidates the harness's best-Q@k
    is LPRM selection over k samples and vote@k is majority voting. The paper's "N = 20" is ``n=20`` with k=1.
    """

    n: int = 1  # trajectories sampled per candidate
    select: str = "value"
    temperature: float = 1.0  # scales the prior's sigma when sampling (1 = the learned prior; 0 = its mean)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.n < 1:
            raise ConfigError(f"n must be >= 1, got {self.n}")
        if self.select not in GRAM_SELECTIONS:
            raise ConfigError(f"select must be one of {GRAM_SELECTIONS}, got {self.select!r}")
        if not self.temperature >= 0:
            raise ConfigError(f"temperature must be >= 0, got {self.temperature}")
