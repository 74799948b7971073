"""``sb3:PATH``: a policy trained by ``arena rl`` answering through the act/verify protocol.

One candidate = one rollout of the step env from the puzzle: the policy sees the board, picks one of the
actions ``action_masks()`` allows (a masked action is never taken), the env applies it, until the episode ends
or ``max_steps``. The candidate is the final board when the rollout completed it (every Sudoku cell filled, the
Maze path at G) and an abstention otherwise, with the reason in its extras; the verifier judges it afterwards,
like every agent's answer. All rollouts of a batch step together in the family's native vector env.

Sampling: ``greedy-first`` (default) takes the most likely action in sample 0 and samples the policy in
samples 1..k-1, so pass@1 is the greedy policy and pass@k adds diversity; ``greedy`` and ``sample`` do one of
the two in every sample; ``uniform`` ignores the policy and picks uniformly among the legal actions: the masked
random policy, rolled out the same way, as the baseline a trained policy must beat. A sampled rollout draws
from a generator seeded by (seed, puzzle id, sample) alone, so answers do not depend on the batch.

``q`` = V(s0) / 2, clipped to [0, 1]: the critic's estimate of the return from the puzzle, over the most an
episode can earn (the rule shaping sums to at most 1, the solve bonus is 1). It ranks candidates for best-Q@k;
it is not a calibrated probability. Cost: ``steps`` = ``nfe`` = env steps (one policy call each).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from arena_agents.recursive.agent import file_sha256
from arena_agents.rl.policy import load_policy
from arena_agents.rl.sb3_config import SB3AgentConfig
from arena_envs.config import ConfigError
from arena_envs.protocol import Candidate, Cost, Puzzle, stable_seed


@dataclass
class Rollouts:
    boards: np.ndarray  # int8 [N, H, W]: each board when its episode ended (or at the step cap)
    complete: np.ndarray  # bool [N]: the episode reached a full answer
    steps: np.ndarray  # int [N]: env steps taken
    value0: np.ndarray  # float [N]: V(s0), the critic on the puzzle
    reasons: list[str]  # why an incomplete rollout stopped ("" when complete)


class PolicyRunner:
    """Rolls a policy out from given puzzles in the family's native vector env (one env per batch size)."""

    def __init__(
        self, policy: torch.nn.Module, env_id: str, env_options: dict, max_steps: int = 0, uniform: bool = False
    ) -> None:
        if gym.spec(env_id).vector_entry_point is None:
            raise ConfigError(f"sb3 agents roll out in a native vector env, and {env_id} has none (Sudoku, Maze do)")
        self.policy, self.env_id, self.env_options, self.max_steps = policy, env_id, dict(env_options), max_steps
        self.uniform = uniform  # every legal action equally likely: the masked random policy
        self._envs: dict[int, gym.vector.VectorEnv] = {}

    def _env(self, n: int) -> gym.vector.VectorEnv:
        if n not in self._envs:
            self._envs[n] = gym.make_vec(
                self.env_id, num_envs=n, vectorization_mode="vector_entry_point", **self.env_options
            )
        return self._envs[n]

    @torch.no_grad()
    def run(self, grids: Sequence[np.ndarray], generators: Sequence[np.random.Generator | None] | None) -> Rollouts:
        """Roll out every puzzle once; ``generators[i]`` samples row i's actions (None = greedy)."""
        n = len(grids)
        env = self._env(n)
        obs, _ = env.reset(options={"grids": np.stack([np.asarray(g, dtype=np.int8) for g in grids])})
        cap = self.max_steps or int(np.prod(obs.shape[1:])) + 1
        device = self.policy.device
        value0 = self.policy.predict_values(torch.as_tensor(obs, device=device)).flatten().cpu().numpy()
        boards, steps = obs.copy(), np.zeros(n, dtype=np.int64)
        complete, active = np.zeros(n, dtype=bool), np.ones(n, dtype=bool)
        reasons = ["step cap"] * n
        for _ in range(cap):
            masks = np.asarray(env.action_masks(), dtype=bool)
            actions = self._actions(obs, masks, generators)
            actions[~active] = 0  # finished rows: NEXT_STEP autoreset ignores their action
            obs, _, terminated, truncated, info = env.step(actions)
            ended = active & (terminated | truncated)
            steps[active] += 1
            boards[ended] = obs[ended]
            if ended.any():  # "complete" is in the info only on a step where some episode ended
                complete[ended] = np.asarray(info["complete"], dtype=bool)[ended]
            for i in np.flatnonzero(ended & ~complete):
                reasons[i] = "the episode ended without a complete answer (a rule broken or a dead end)"
            active &= ~ended
            if not active.any():
                break
            boards[active] = obs[active]
        for i in np.flatnonzero(complete):
            reasons[i] = ""
        return Rollouts(boards, complete, steps, value0, reasons)

    def _actions(self, obs: np.ndarray, masks: np.ndarray, generators: Sequence | None) -> np.ndarray:
        """The greedy action of each row, or one drawn from the masked policy with the row's generator."""
        logits = self._masked_logits(obs, masks)  # [N, A], -inf where masked
        legal = masks.any(axis=1)  # rows whose episode is over have no legal action; they get 0, ignored
        logits[~legal] = 0.0
        actions = logits.argmax(axis=1)
        if generators is None:
            return actions
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        cumulative = np.cumsum(probs, axis=1)
        for i, gen in enumerate(generators):
            if gen is not None and legal[i]:
                u = gen.random() * cumulative[i, -1]
                actions[i] = min(int(np.searchsorted(cumulative[i], u, side="right")), logits.shape[1] - 1)
                while not masks[i, actions[i]]:  # float ties at a masked bin's edge: step back to a legal one
                    actions[i] -= 1
        return actions

    @torch.no_grad()
    def _masked_logits(self, obs: np.ndarray, masks: np.ndarray) -> np.ndarray:
        if self.uniform:
            return np.where(masks, 0.0, -np.inf)
        obs_t = torch.as_tensor(obs, device=self.policy.device)
        distribution = self.policy.get_distribution(obs_t, action_masks=masks)
        logits = distribution.distribution.logits.double().cpu().numpy()
        logits[~masks] = -np.inf
        return logits


class SB3Agent:
    """The ``sb3:PATH`` agent (kind ``rl``)."""

    name = "sb3"
    kind = "rl"

    def __init__(self, config: SB3AgentConfig) -> None:
        self.config = config
        path = _resolve(config.path)
        self.policy, self.card = load_policy(path, config.device)
        self.checkpoint_sha256 = file_sha256(path)
        self.parameters = sum(p.numel() for p in self.policy.parameters())
        self.runner = PolicyRunner(
            self.policy, self.card.env_id, self.card.env_options, config.max_steps, config.sampling == "uniform"
        )

    def act(self, puzzles: Sequence[Puzzle], k: int) -> list[list[Candidate]]:
        started = time.perf_counter()
        rows = [(p, s) for p in puzzles for s in range(k)]
        grids = [self._check(p) for p, _ in rows]
        generators = [self._generator(p, s) for p, s in rows]
        out = self.runner.run(grids, None if all(g is None for g in generators) else generators)
        seconds = (time.perf_counter() - started) / max(len(rows), 1)
        candidates: list[list[Candidate]] = [[] for _ in puzzles]
        for i, (puzzle_index, _sample) in enumerate((j, s) for j in range(len(puzzles)) for s in range(k)):
            q = float(np.clip(out.value0[i] / 2.0, 0.0, 1.0))
            cost = Cost(nfe=int(out.steps[i]), steps=int(out.steps[i]), seconds=seconds)
            if out.complete[i]:
                candidates[puzzle_index].append(Candidate(out.boards[i].copy(), q=q, cost=cost))
            else:
                extras = {"reason": f"{out.reasons[i]} after {int(out.steps[i])} steps"}
                candidates[puzzle_index].append(Candidate(None, q=q, cost=cost, extras=extras))
        return candidates

    def _generator(self, puzzle: Puzzle, sample: int) -> np.random.Generator | None:
        mode = self.config.sampling
        if mode == "greedy" or (mode == "greedy-first" and sample == 0):
            return None
        return np.random.default_rng(stable_seed(self.config.seed, puzzle.id, sample))

    def _check(self, puzzle: Puzzle) -> np.ndarray:
        grid = np.asarray(puzzle.grid)
        if grid.shape != self.card.observation_shape:
            raise ConfigError(
                f"sb3 policy {self.config.path} was trained on {self.card.env_id} boards of shape "
                f"{self.card.observation_shape}; puzzle {puzzle.id} is {grid.shape}"
            )
        return grid


def _resolve(path: str) -> str:
    """A run directory stands for its ``model.zip``."""
    return str(Path(path) / "model.zip") if Path(path).is_dir() else path
