"""``ldt:PATH``: a Lattice Deduction Transformer that answers only when its own lattice says "solved".

One candidate = one solver run of ``chains`` chains over the puzzle, batched. Each round:

    x'   = symmetry_r(x)                      a fresh grid symmetry (and digit relabelling) per chain
    out  = LDT(x')  mapped back               keep / value / conflict logits in the puzzle's frame
    x, conflict, solved = deduce(x, out)      alive non-given bits below the keep threshold die
    stop at the first solved chain            its lattice, decoded, is the answer
    x[conflict] = puzzle                      a contradicted chain restarts
    x = branch(x, out.value)                  open chains pin one random undecided cell

and after ``max_rounds`` rounds with no solved chain the candidate abstains, with the reason in its extras.
The env's verifier judges the answer only afterwards: whether LDT is sound is measured, not enforced.
Cost: ``steps`` = rounds, ``nfe`` = rounds x chains model calls (each ``loops`` backbone passes), ``flops``
not estimated. The run of (puzzle, sample) is seeded by (seed, puzzle id, sample) alone.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

import torch

from arena_agents.recursive.agent import file_sha256, resolve_device
from arena_agents.recursive.agent_config import LDTAgentConfig
from arena_agents.recursive.checkpoint import CheckpointError, build_fitted, load_weights, resolve_weights_path
from arena_agents.recursive.lattice import LatticeCodec, lattice_codec_for
from arena_agents.recursive.ldt import LDT, LDTConfig, branch, deduce
from arena_envs.config import ConfigError, build_config
from arena_envs.protocol import Candidate, Cost, Puzzle, seed_int

EVAL_DROPOUT = {"sudoku": 0.05, "maze": 0.0, "snowflake": 0.05}  # the published solvers' settings


def load_ldt(path: str, device: torch.device) -> tuple[LDT, LatticeCodec, dict, str]:
    """(model, lattice codec, metadata, sha256) of an ``ldt`` checkpoint."""
    weights_path = resolve_weights_path(path)
    weights = load_weights(weights_path)
    if weights.kind != "ldt":
        raise ConfigError(f"{weights_path} is a {weights.kind} checkpoint; use {weights.kind}:{path}")
    config = build_config(LDTConfig, weights.model_config, what="ldt checkpoint config")
    model = build_fitted(weights, lambda: LDT(config), weights_path)
    meta = weights.metadata
    codec = lattice_codec_for(meta.get("family", "sudoku"), tuple(meta.get("grid_shape", (config.grid,) * 2)))
    return model.to(device), codec, meta, file_sha256(weights_path)


def random_symmetries(
    rows: int, cell_perms: torch.Tensor, permute_channels: bool, channels: int, augment: bool, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row a cell permutation [R, S] drawn from ``cell_perms`` [G, S] and a value permutation [R, C]
    (identities when not augmenting, or for the values when they are not interchangeable)."""
    device = cell_perms.device
    s = cell_perms.shape[1]
    if augment:
        cells = cell_perms[torch.randint(len(cell_perms), (rows,), generator=gen, device=device)]
    else:
        cells = torch.arange(s, device=device).expand(rows, s)
    if augment and permute_channels:
        values = torch.argsort(torch.rand(rows, channels, generator=gen, device=device), dim=-1)
    else:
        values = torch.arange(channels, device=device).expand(rows, channels)
    return cells, values


def call_under_symmetry(
    model: LDT,
    lattice: torch.Tensor,
    cell_perms: torch.Tensor,
    permute_channels: bool,
    augment: bool,
    gen: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One model call on lattices [R, S, C], each row seen under its own fresh symmetry; returns the last
    loop's keep and value logits [R, S, C] mapped back to the puzzle's frame, and the conflict logits [R].

    Row r sees seen[r, i, v] = lattice[r, cells[r, i], values[r, v]], so its outputs go back to the same places.
    """
    cells, values = random_symmetries(lattice.shape[0], cell_perms, permute_channels, lattice.shape[-1], augment, gen)
    rows = torch.arange(lattice.shape[0], device=lattice.device)[:, None, None]
    where = (rows, cells[:, :, None], values[:, None, :])
    out = model(lattice[where])
    keep, value = torch.empty_like(out.keep[-1]), torch.empty_like(out.value[-1])
    keep[where] = out.keep[-1]
    value[where] = out.value[-1]
    return keep, value, out.conflict[-1]


class LatticeSolver:
    """The chain solver around an LDT model (used by the ``ldt:`` agent and by the trainer's evaluation).

    Solving sets the model's dropout to ``eval_dropout`` (train mode when it is above 0: the published
    Sudoku solver searches with dropout 0.05) and restores nothing: give it a model of its own.
    """

    def __init__(self, model: LDT, codec: LatticeCodec, config: LDTAgentConfig, device: torch.device) -> None:
        self.model, self.codec, self.config, self.device = model, codec, config, device
        c = model.config
        self.keep_threshold = config.keep_threshold if config.keep_threshold is not None else c.keep_threshold
        self.conflict_threshold = (
            config.conflict_threshold if config.conflict_threshold is not None else c.conflict_threshold
        )
        dropout = config.eval_dropout if config.eval_dropout is not None else EVAL_DROPOUT.get(codec.family, 0.0)
        self.dropout = dropout
        self.cell_perms = torch.from_numpy(codec.cell_permutations()).to(device)  # [G, S]

    def _check(self, puzzle: Puzzle) -> None:
        try:
            fits = puzzle.family == self.codec.family and self.codec.fit(puzzle.grid) is not None
        except ValueError:
            fits = False
        if not fits:
            raise ConfigError(
                f"this checkpoint was trained on {self.codec.family} {self.codec.grid_shape}; puzzle {puzzle.id} "
                f"is {puzzle.family} {tuple(puzzle.grid.shape)}"
            )

    @torch.no_grad()
    def solve(self, puzzle: Puzzle, sample: int) -> Candidate:
        """One solver run: the first solved chain's answer, or an abstention after max_rounds."""
        c = self.config
        self.model.dropout_p = self.dropout
        self.model.train(self.dropout > 0)
        seed = seed_int(c.seed, "ldt", puzzle.id, sample)
        gen = torch.Generator(device=self.device).manual_seed(seed)
        started = time.perf_counter()
        grid = self.codec.fit(puzzle.grid)[None]
        start = torch.from_numpy(self.codec.initial(grid)).to(self.device).expand(c.chains, -1, -1).clone()
        givens = torch.from_numpy(self.codec.givens(grid)).to(self.device).expand(c.chains, -1)
        lattice = start.clone()
        restarts = 0
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            torch.manual_seed(seed)  # dropout draws from the global generator
            for rounds in range(1, c.max_rounds + 1):
                keep, value, conflict_logits = call_under_symmetry(
                    self.model, lattice, self.cell_perms, self.codec.permute_channels, c.augment, gen
                )
                lattice, conflict, solved = deduce(
                    lattice, givens, keep, conflict_logits, self.keep_threshold, self.conflict_threshold
                )
                if solved.any():
                    chain = int(torch.nonzero(solved)[0])
                    decoded = self.codec.decode(lattice[chain : chain + 1].cpu().numpy())[0]
                    answer = self.codec.answer(decoded, puzzle.grid)
                    extras = {"chains": c.chains, "rounds": rounds, "restarts": restarts, "solved_chain": chain}
                    return Candidate(answer, cost=self._cost(rounds, started), extras=extras)
                restarts += int(conflict.sum())
                lattice = torch.where(conflict[:, None, None], start, lattice)
                lattice = branch(lattice, value, ~conflict, self.model.config.branch_temperature, gen)
        reason = f"no chain solved the puzzle within {c.max_rounds} rounds ({c.chains} chains, {restarts} restarts)"
        extras = {"chains": c.chains, "rounds": c.max_rounds, "restarts": restarts, "reason": reason}
        return Candidate(None, cost=self._cost(c.max_rounds, started), extras=extras)

    def _cost(self, rounds: int, started: float) -> Cost:
        return Cost(nfe=rounds * self.config.chains, steps=rounds, seconds=time.perf_counter() - started)

    def act(self, puzzles: Sequence[Puzzle], k: int) -> list[list[Candidate]]:
        for p in puzzles:
            self._check(p)
        return [[self.solve(p, sample) for sample in range(k)] for p in puzzles]


class LDTAgent(LatticeSolver):
    def __init__(self, config: LDTAgentConfig, family: str = "ldt") -> None:
        device = resolve_device(config.device)
        model, codec, self.metadata, digest = load_ldt(config.path, device)
        if config.checkpoint_sha256 and config.checkpoint_sha256 != digest:
            raise CheckpointError(f"{config.path} has sha256 {digest}, not the {config.checkpoint_sha256} asked for")
        super().__init__(model, codec, dataclasses.replace(config, checkpoint_sha256=digest), device)
        self.name = family
        self.parameters = model.size()
