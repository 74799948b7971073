"""The options of ``sb3:PATH`` (torch-free, so ``arena agents`` lists them without the rl extra)."""

from __future__ import annotations

from dataclasses import dataclass

from arena_envs.config import ConfigError

SAMPLING = ("greedy-first", "greedy", "sample", "uniform")


@dataclass(frozen=True)
class SB3AgentConfig:
    path: str = ""  # an `arena rl` checkpoint: RUN/model.zip (or the run directory)
    sampling: str = "greedy-first"  # greedy-first | greedy | sample | uniform (the masked random baseline)
    seed: int = 0
    max_steps: int = 0  # step cap per rollout; 0 = the board's cell count (enough for any episode)
    device: str = "cpu"

    def __post_init__(self) -> None:
        if not self.path:
            raise ConfigError("sb3 needs a checkpoint: sb3:PATH (a model.zip written by `arena rl`)")
        if self.sampling not in SAMPLING:
            raise ConfigError(f"sampling must be one of {SAMPLING}, got {self.sampling!r}")
        if self.max_steps < 0:
            raise ConfigError(f"max_steps must be >= 0, got {self.max_steps}")
