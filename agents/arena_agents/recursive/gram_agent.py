"""``gram:PATH``: a trained GRAM checkpoint as an arena agent.

For each of the k candidates of a puzzle the agent samples ``n`` trajectories of the puzzle as given (all of a
batch's trajectories run together on one device), each with its own draws of the learned prior noise, and keeps
one by ``select`` (see :class:`~arena_agents.recursive.agent_config.GRAMAgentConfig`). A candidate's cost is its
n trajectories' NFE, FLOPs and wall time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import torch

from arena_agents.recursive.agent import Job, RecursiveAgent
from arena_agents.recursive.agent_config import GRAMAgentConfig
from arena_envs.protocol import Candidate, Cost, Puzzle, seed_int


def select_trajectory(answers: Sequence[np.ndarray], values: Sequence[float], how: str) -> tuple[int, float]:
    """(index of the chosen trajectory, its q) among n: the highest value, the most frequent answer (ties by
    mean value, then the first) with its mean value, or the first."""
    if how == "first":
        return 0, float(values[0])
    if how == "value":
        best = int(np.argmax(values))
        return best, float(values[best])
    groups: dict[bytes, list[int]] = defaultdict(list)
    for i, answer in enumerate(answers):
        groups[np.ascontiguousarray(answer).tobytes()].append(i)
    members = max(groups.values(), key=lambda g: (len(g), float(np.mean([values[i] for i in g])), -g[0]))
    return members[0], float(np.mean([values[i] for i in members]))


class GRAMAgent(RecursiveAgent):
    config: GRAMAgentConfig

    def __init__(self, config: GRAMAgentConfig, family: str = "gram") -> None:
        super().__init__(config, family)

    def _jobs(self, puzzles: Sequence[Puzzle], k: int) -> list[Job]:
        """k * n trajectories per puzzle, all on the puzzle as given; job.sample = candidate * n + trajectory."""
        return [Job(i, j, None, p.grid) for i, p in enumerate(puzzles) for j in range(k * self.config.n)]

    def _solve(
        self, tokens: torch.Tensor, jobs: Sequence[Job], puzzles: Sequence[Puzzle]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        n = self.config.n
        gens = []
        for job in jobs:
            seed = seed_int(self.config.seed, "gram", puzzles[job.puzzle].id, job.sample // n, job.sample % n)
            gens.append(torch.Generator(device=self.device).manual_seed(seed))
        return self.model.rollout(tokens, self.steps, gens, self.config.temperature)

    @torch.no_grad()
    def act(self, puzzles: Sequence[Puzzle], k: int) -> list[list[Candidate]]:
        n = self.config.n
        trajectories = super().act(puzzles, k)  # k * n per puzzle, in sample order
        out: list[list[Candidate]] = []
        for per_puzzle in trajectories:
            chosen = []
            for lo in range(0, len(per_puzzle), n):
                group = per_puzzle[lo : lo + n]
                best, q = select_trajectory([c.answer for c in group], [c.q for c in group], self.config.select)
                cost = Cost(
                    nfe=sum(c.cost.nfe for c in group),
                    steps=group[0].cost.steps,
                    flops=sum(c.cost.flops for c in group),
                    seconds=sum(c.cost.seconds for c in group),
                )
                chosen.append(Candidate(group[best].answer, q=q, cost=cost))
            out.append(chosen)
        return out
