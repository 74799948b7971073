"""Data-parallel helpers for the trainer: who this process is under ``torchrun``, barriers and sums."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    """This process's place in a ``torchrun`` job (rank 0 of 1 without one)."""

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


def init_process_group(info: DistInfo, device: str) -> bool:
    """Join the job's process group (NCCL on GPUs, gloo on CPUs); False when there is nothing to join."""
    if info.world_size == 1 or dist.is_initialized():
        return False
    backend = "nccl" if torch.cuda.is_available() and device != "cpu" else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(info.local_rank)
    dist.init_process_group(backend)
    return True


def barrier(info: DistInfo) -> None:
    """Wait for every process (a no-op alone)."""
    if info.world_size > 1:
        dist.barrier()


def sum_over_processes(stats: dict[str, float], info: DistInfo, device: torch.device) -> dict[str, float]:
    """Each key summed over the processes of the job, in float64."""
    if info.world_size == 1:
        return stats
    keys = sorted(stats)
    t = torch.tensor([stats[k] for k in keys], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return dict(zip(keys, t.tolist()))


def any_process(flag: bool, info: DistInfo, device: torch.device) -> bool:
    """True on every process when it is true on one (so all stop together)."""
    if info.world_size == 1:
        return flag
    t = torch.tensor([float(flag)], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())
