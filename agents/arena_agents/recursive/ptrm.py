"""Probabilistic TRM (PTRM; Sghaier, Parviz and Jolicoeur-Martineau, 2026): test-time noise on a trained TRM.

A deterministic TRM can settle in a wrong basin and stay there. PTRM runs K rollouts of the same trained TRM
on the puzzle as given and, before every supervision step t = 1..D (the first included), perturbs the
latent with absolute Gaussian noise

    z_{t-1} <- z_{t-1} + sigma * eps,  eps ~ N(0, I)    [B, L, D]
    (y_t, z_t) <- one supervision step from (x, y_{t-1}, z_{t-1})

then answers with the rollout whose final halting logit q_halt(y_D) is highest (the TRM's own Q head as a
verifier). No retraining and no augmentation voting. Here each rollout is one candidate with
q = sigmoid(q_halt(y_D)), so the harness's best-Q@k *is* PTRM's answer and pass@k is the oracle ceiling.

Which latent gets the noise: the paper's algorithm perturbs z, the reasoning latent (``z_L`` in the
published TRM code); ``latent=y`` (the answer latent, ``z_H``) and ``latent=both`` are there for ablations.
Noise is drawn per rollout from a generator seeded by (seed, puzzle id, sample) on the model's device, so
reruns and resumed runs give the same candidates on the same kind of device. ``sigma=0`` adds nothing: every
rollout is the TRM's own answer. Reported settings (paper): Sudoku-Extreme K=100, D=64, sigma=0.3; Maze-Hard
K=100, D=16, sigma=1.0; PPBench K=100, D=48, sigma=0.2. Set D with ``steps``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from arena_agents.recursive.agent import Job, RecursiveAgent
from arena_agents.recursive.agent_config import PTRMAgentConfig
from arena_envs.protocol import Puzzle, seed_int


class PTRMAgent(RecursiveAgent):
    config: PTRMAgentConfig

    def __init__(self, config: PTRMAgentConfig, family: str = "ptrm") -> None:
        super().__init__(config, family)
        names = self.model.latent_names  # TRM: ("y", "z")
        chosen = names if config.latent == "both" else (config.latent,)
        self.noisy = [names.index(name) for name in chosen]

    def _jobs(self, puzzles: Sequence[Puzzle], k: int) -> list[Job]:
        """Every rollout sees the puzzle as given: the diversity comes from the noise alone."""
        return [Job(i, sample, None, p.grid) for i, p in enumerate(puzzles) for sample in range(k)]

    def _generators(self, jobs: Sequence[Job], puzzles: Sequence[Puzzle]) -> list[torch.Generator]:
        """One generator per rollout, seeded by (seed, puzzle id, sample)."""
        gens = []
        for job in jobs:
            seed = seed_int(self.config.seed, "ptrm", puzzles[job.puzzle].id, job.sample)
            gens.append(torch.Generator(device=self.device).manual_seed(seed))
        return gens

    def _solve(
        self, tokens: torch.Tensor, jobs: Sequence[Job], puzzles: Sequence[Puzzle]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """K noisy rollouts as one batch: noise before every supervision step, q from the last."""
        sigma = self.config.sigma
        gens = self._generators(jobs, puzzles) if sigma > 0 else []
        carry = list(self.model.initial_carry(tokens.shape[0], tokens.device))
        out = None
        for _ in range(self.steps):
            for i in self.noisy if sigma > 0 else []:
                shape = carry[i].shape[1:]  # [L, D]
                eps = torch.stack([torch.randn(shape, generator=g, device=self.device) for g in gens])
                carry[i] = carry[i] + (sigma * eps).to(carry[i].dtype)
            out = self.model(tokens, tuple(carry))
            carry = list(out.carry)
        assert out is not None
        return out.logits.argmax(-1), torch.sigmoid(out.q_halt.float())
