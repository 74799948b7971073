"""Baseline agents: an exact solver (oracle), a budgeted solver that abstains, random, and copy-input.

They prove the verifier and the harness: the oracle must score 100%, random and copy-input what they
really score (about 0 on Sudoku), and the budgeted solver shows coverage below 1 with no wrong answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from arena_agents.baselines.families import COPY, GREEDY, PROGRAM_SEARCH, RANDOM_ANSWER, lookup, search_for
from arena_envs.config import ConfigError
from arena_envs.protocol import Candidate, Cost, Puzzle, stable_seed


@dataclass(frozen=True)
class OracleConfig:
    """Exact search without budget; deterministic, so all k candidates are the same answer."""


@dataclass(frozen=True)
class BudgetedConfig:
    max_nodes: int = 64  # search nodes per candidate before giving up (abstaining)
    seed: int = 0  # randomises the branching order per (puzzle, sample)

    def __post_init__(self) -> None:
        if self.max_nodes < 1:
            raise ConfigError(f"max_nodes must be >= 1, got {self.max_nodes}")


@dataclass(frozen=True)
class RandomConfig:
    seed: int = 0


@dataclass(frozen=True)
class GreedyConfig:
    """Deterministic: all k candidates are the same walk (or the same abstention)."""


@dataclass(frozen=True)
class ProgramSearchConfig:
    """Deterministic: every attempt is the same program's output (or the same abstention)."""


@dataclass(frozen=True)
class CopyInputConfig:
    """Returns the puzzle grid unchanged: fills nothing."""


class OracleAgent:
    name = "oracle"

    def __init__(self, config: OracleConfig | None = None) -> None:
        self.config = config or OracleConfig()

    def act(self, puzzles: Sequence[Puzzle], k: int) -> list[list[Candidate]]:
        out = []
        for p in puzzles:
            search = search_for(p.family, self.name)
            t0 = time.perf_counter()
            found = search(p, -1, None)
            cost = Cost(nfe=found.nodes, steps=found.guesses, seconds=time.perf_counter() - t0)
            q = 1.0 if found.answer is not None else None
            # the search ran once: the copies of its answer cost nothing more
            repeat = Candidate(found.answer, q=q, cost=Cost(nfe=0, steps=0, seconds=0.0))
            out.append([Candidate(found.answer, q=q, cost=cost)] + [repeat] * (k - 1))
        return out


class BudgetedSolverAgent:
    """Exact search with a node budget: answers only what it proved, abstains when the budget runs out."""

    name = "budgeted"

    def __init__(self, config: BudgetedConfig | None = None) -> None:
        self.config = config or BudgetedConfig()

    def act(self, puzzles: Sequence[Puzzle], k: int) -> list[list[Candidate]]:
        out = []
        for p in puzzles:
            search = search_for(p.family, self.name)
            row = []
            for sample in range(k):
                seed = int(stable_seed(self.config.seed, p.id, sample).generate_state(1)[0])
                t0 = time.perf_counter()
                found = search(p, self.config.max_nodes, seed)
                cost = Cost(nfe=found.nodes, steps=found.guesses, seconds=time.perf_counter() - t0)
                row.append(Candidate(found.answer, q=None if found.answer is None else 1.0, cost=cost))
            out.append(row)
        return out


class RandomAgent:
    """Fills every blank uniformly at random (per family); it has no confidence (q = None)."""

    name = "random"

    def __init__(self, config: RandomConfig | None = None) -> None:
        self.config = config or RandomConfig()

    def act(self, puzzles: Sequence[Puzzle], k: int) -> list[list[Candidate]]:
        out = []
        for p in puzzles:
            fill = lookup(RANDOM_ANSWER, p.family, self.name)
            row = []
            for sample in range(k):
                t0 = time.perf_counter()
                rng = np.random.default_rng(stable_seed(self.config.seed, p.id, sample))
                answer = fill(p, rng)
                row.append(Candidate(answer, q=None, cost=Cost(nfe=1, seconds=time.perf_counter() - t0)))
            out.append(row)
        return out


class CopyInputAgent:
    name = "copy"

    def __init__(self, config: CopyInputConfig | None = None) -> None:
        self.config = config or CopyInputConfig()

    def act(self, puzzles: Sequence[Puzzle], k: int) -> list[list[Candidate]]:
        out = []
        for p in puzzles:
            t0 = time.perf_counter()
            answer = COPY[p.family](p) if p.family in COPY else np.array(p.grid)
            out.append([Candidate(answer, q=None, cost=Cost(nfe=0, seconds=time.perf_counter() - t0))] * k)
        return out


class _OneAnswerAgent:
    """A deterministic per-family function of the puzzle: it runs once, and its answer (or abstention, None)
    fills all k candidates; the repeats cost nothing."""

    name: ClassVar[str]
    table: ClassVar[dict[str, Callable[[Puzzle], Any]]]
    config_cls: ClassVar[type]

    def __init__(self, config: Any = None) -> None:
        self.config = config or self.config_cls()

    def act(self, puzzles: Sequence[Puzzle], k: int) -> list[list[Candidate]]:
        out = []
        for p in puzzles:
            run = lookup(self.table, p.family, self.name)
            t0 = time.perf_counter()
            answer = run(p)
            first = Candidate(answer, q=None, cost=Cost(nfe=1, seconds=time.perf_counter() - t0))
            out.append([first] + [Candidate(answer, q=None, cost=Cost(nfe=0, seconds=0.0))] * (k - 1))
        return out


class GreedyAgent(_OneAnswerAgent):
    """Local moves without search (Maze: always towards G; Sudoku: naked singles); abstains when stuck.

    On Sudoku it is sound (every single is forced); on Maze a walk that reaches G may still be longer than
    the shortest path, which the verifier rejects as not optimal.
    """

    name = "greedy"
    table = GREEDY
    config_cls = GreedyConfig


class ProgramSearchAgent(_OneAnswerAgent):
    """ARC: the first of a handful of grid transformations (+ colour map) consistent with every demonstration;
    abstains when none is. See ``arena_agents.baselines.arc_programs``."""

    name = "programs"
    table = PROGRAM_SEARCH
    config_cls = ProgramSearchConfig
