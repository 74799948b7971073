"""A trained recursive-model checkpoint as an arena agent (``trm:PATH``, ``hrm:PATH``, any trainable family).

Fixed-step inference: every sequence in a batch runs the same number of supervision steps, so a batch
finishes together (the papers evaluate with all 16 steps). ``q`` is sigmoid(q_halt) after the last step.
The k candidates of a puzzle are folded into the batch; see :class:`RecursiveAgentConfig` for how they
differ. Cost per candidate: NFE (network applications), supervision steps, a forward-FLOPs estimate and
the batch's wall time divided among its sequences. Test-time methods over a family's checkpoints (PTRM)
subclass this and change how candidates are made (:meth:`RecursiveAgent._jobs`) or rolled out
(:meth:`RecursiveAgent._solve`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any, NamedTuple

import numpy as np
import torch

from arena_agents.recursive.agent_config import RecursiveAgentConfig
from arena_agents.recursive.checkpoint import CheckpointError, build_fitted, load_weights, resolve_weights_path
from arena_agents.recursive.families import get_family, load_object
from arena_agents.recursive.models import build_model, model_config
from arena_envs.config import ConfigError
from arena_envs.protocol import Candidate, Cost, Puzzle, stable_seed


def resolve_device(name: str) -> torch.device:
    """``auto`` = the GPU when torch sees one, else the CPU; any other name as torch spells it."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Job(NamedTuple):
    """One candidate to compute: which puzzle, which sample, and the grid the network sees."""

    puzzle: int  # index into the puzzles of this act() call
    sample: int
    transform: Any  # a symmetry whose inverse maps the answer back, or None
    grid: np.ndarray


class RecursiveAgent:
    def __init__(self, config: RecursiveAgentConfig, family: str = "trm") -> None:
        self.family_spec = get_family(family)
        path = resolve_weights_path(config.path)
        digest = file_sha256(path)
        if config.checkpoint_sha256 and config.checkpoint_sha256 != digest:
            raise CheckpointError(f"{path} has sha256 {digest}, not the {config.checkpoint_sha256} asked for")
        weights = load_weights(path)
        if weights.kind not in self.family_spec.loads:
            raise ConfigError(f"{path} is a {weights.kind} checkpoint; use {weights.kind}:{config.path}")
        self.name = family
        self.config = dataclasses.replace(config, checkpoint_sha256=digest)
        self.model_config = model_config(weights.kind, weights.model_config)
        self.model = build_fitted(weights, lambda: build_model(weights.kind, self.model_config), path)
        self.device = resolve_device(config.device)
        self.model.to(self.device).eval()
        self.bf16 = config.bf16 if config.bf16 is not None else self.device.type == "cuda"
        self.family = weights.metadata.get("family", "sudoku")
        self.grid_shape = tuple(weights.metadata.get("grid_shape", ()))
        self.codec = load_object(self.family_spec.codec)(self.family, self.grid_shape)
        self.steps = config.steps or int(self.model_config.max_steps)
        self.parameters = int(self.model.size())
        self.metadata = weights.metadata

    def _check(self, puzzle: Puzzle) -> None:
        if puzzle.family != self.family or tuple(puzzle.grid.shape) != self.grid_shape:
            raise ConfigError(
                f"this checkpoint was trained on {self.family} {self.grid_shape}; puzzle {puzzle.id} is "
                f"{puzzle.family} {tuple(puzzle.grid.shape)}"
            )

    def _jobs(self, puzzles: Sequence[Puzzle], k: int) -> list[Job]:
        """Candidate 0 answers the puzzle as given; candidate s > 0 a random symmetry of it, seeded by
        (seed, puzzle id, s), so a deterministic network still gives k different candidates."""
        jobs = []
        for i, p in enumerate(puzzles):
            jobs.append(Job(i, 0, None, p.grid))
            for sample in range(1, k):
                transform = self.codec.random_transform(
                    np.random.default_rng(stable_seed(self.config.seed, p.id, sample))
                )
                jobs.append(Job(i, sample, transform, transform.apply(p.grid)))
        return jobs

    def _solve(
        self, tokens: torch.Tensor, jobs: Sequence[Job], puzzles: Sequence[Puzzle]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(predicted tokens [B, S], q [B]) for one batch of jobs: fixed-step inference."""
        return self.model.solve(tokens, self.steps)

    @torch.no_grad()
    def act(self, puzzles: Sequence[Puzzle], k: int) -> list[list[Candidate]]:
        for p in puzzles:
            self._check(p)
        jobs = self._jobs(puzzles, k)
        out: list[list[Candidate]] = [[] for _ in puzzles]
        nfe = self.steps * self.model.nfe_per_step()
        flops = float(self.steps * self.model.flops_per_step())
        autocast = torch.autocast("cuda", dtype=torch.bfloat16) if self.bf16 else nullcontext()
        for lo in range(0, len(jobs), self.config.batch_size):
            chunk = jobs[lo : lo + self.config.batch_size]
            started = time.perf_counter()
            tokens = torch.from_numpy(self.codec.encode(np.stack([job.grid for job in chunk]))).to(self.device)
            with autocast:
                predicted_tokens, q_halt = self._solve(tokens, chunk, puzzles)
            predicted = self.codec.decode(predicted_tokens.cpu().numpy())
            q = q_halt.float().cpu().numpy()
            seconds = (time.perf_counter() - started) / len(chunk)
            for job, answer, qi in zip(chunk, predicted, q):
                if job.transform is not None:
                    answer = job.transform.invert(answer)
                cost = Cost(nfe=nfe, steps=self.steps, flops=flops, seconds=seconds)
                out[job.puzzle].append(Candidate(answer.astype(puzzles[job.puzzle].grid.dtype), q=float(qi), cost=cost))
        return out
