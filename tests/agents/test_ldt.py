"""LDT: exact parameter counts, the projection's invariants, symmetries that map back exactly, the solver's
abstentions and costs, and a training run that resumes exactly."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from arena_agents.recursive.checkpoint import save_weights  # noqa: E402
from arena_agents.recursive.lattice import MazeLattice, SudokuLattice  # noqa: E402
from arena_agents.recursive.ldt import LDT, LDTConfig, LDTOutput, branch, deduce, training_targets  # noqa: E402
from arena_agents.recursive.ldt_agent import call_under_symmetry  # noqa: E402
from arena_agents.recursive.ldt_train import make_train_config, train  # noqa: E402
from arena_agents.registry import make_agent  # noqa: E402
from arena_envs.config import ConfigError  # noqa: E402
from arena_envs.registry import make_puzzle_set  # noqa: E402
from arena_harness import ResultStore, RunOptions, evaluate  # noqa: E402

SUDOKU4 = {"size": 4, "count": 60}
TINY = {"dim": 32, "heads": 4, "layers": 2, "loops": 4}


def test_parameter_counts_match_the_published_models():
    assert LDT(LDTConfig()).size() == 799_635  # Sudoku: dim 128, learned row and column embeddings
    maze = LDTConfig(channels=5, grid=30, dim=192, positions="rope2d")
    assert LDT(maze).size() == 1_783_499  # Maze: dim 192, 2-D RoPE


def test_a_model_call_gives_every_loops_logits():
    model = LDT(LDTConfig(channels=4, grid=4, **TINY))
    lattice = torch.rand(3, 16, 4) > 0.3
    out = model(lattice, all_loops=True)
    assert out.keep.shape == out.value.shape == (4, 3, 16, 4) and out.conflict.shape == (4, 3)
    last = model.eval()(lattice)
    assert last.keep.shape == (1, 3, 16, 4)


def test_deduce_only_removes_alive_non_given_bits_and_flags_contradictions():
    lattice = torch.tensor([[[1, 1, 0], [1, 0, 0], [1, 1, 1]]], dtype=torch.bool)  # [1, S=3, C=3]
    givens = torch.tensor([[False, True, False]])
    keep = torch.tensor([[[-9.0, 9.0, -9.0], [-9.0, -9.0, -9.0], [9.0, -9.0, -9.0]]])
    new, conflict, solved = deduce(lattice, givens, keep, torch.tensor([-9.0]), 0.1, 0.6)
    assert new.tolist() == [[[False, True, False], [True, False, False], [True, False, False]]]
    assert not (new & ~lattice).any()  # nothing comes back
    assert not conflict[0] and solved[0]  # every cell single: the given kept its bit although it "should die"
    _, conflict, solved = deduce(lattice, givens, keep, torch.tensor([9.0]), 0.1, 0.6)
    assert conflict[0] and not solved[0]  # the conflict head fired
    dead = torch.tensor([[[-9.0, -9.0, 9.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]])  # cell 0 loses both alive bits
    _, conflict, _ = deduce(lattice, givens, dead, torch.tensor([-9.0]), 0.1, 0.6)
    assert conflict[0]


def test_branch_pins_one_undecided_cell_to_an_alive_value():
    gen = torch.Generator().manual_seed(0)
    lattice = torch.tensor([[[1, 1, 0], [1, 0, 0], [0, 1, 1]], [[1, 1, 1], [1, 1, 1], [1, 1, 1]]], dtype=torch.bool)
    value = torch.zeros(2, 3, 3)
    for _ in range(20):
        new = branch(lattice, value, torch.tensor([True, False]), 1.5, gen)
        assert torch.equal(new[1], lattice[1])  # a row that is not open is left alone
        changed = (new[0] != lattice[0]).any(-1)
        assert changed.sum() == 1 and not changed[1]  # one undecided cell, never the decided one
        cell = int(torch.nonzero(changed)[0])
        assert new[0, cell].sum() == 1 and (new[0, cell] <= lattice[0, cell]).all()  # pinned to an alive value


class PerBitModel(torch.nn.Module):
    """A stand-in whose outputs depend on each bit alone: a symmetry must change nothing after mapping back."""

    def forward(self, lattice):
        x = lattice.float()
        idx = torch.arange(x.shape[-1], dtype=torch.float32)
        return LDTOutput((x * 3 - 1)[None], (x + idx)[None], x.sum((1, 2))[None])


@pytest.mark.parametrize("codec", [SudokuLattice(4), SudokuLattice(6), MazeLattice(5)], ids=["s4", "s6", "maze5"])
def test_symmetries_map_the_outputs_back_to_the_puzzle_frame(codec):
    s, c = codec.grid_shape[0] ** 2, codec.channels
    lattice = torch.rand(6, s, c) > 0.4
    perms = torch.from_numpy(codec.cell_permutations())
    gen = torch.Generator().manual_seed(1)
    plain = call_under_symmetry(PerBitModel(), lattice, perms, codec.permute_channels, False, gen)
    seen = call_under_symmetry(PerBitModel(), lattice, perms, codec.permute_channels, True, gen)
    assert torch.equal(plain[0], seen[0]) and torch.equal(plain[2], seen[2])
    if not codec.permute_channels:  # the value logits depend on the channel index: equal only without relabelling
        assert torch.equal(plain[1], seen[1])


def test_every_cell_permutation_is_a_symmetry_of_the_puzzle():
    """Applied to a solved grid, each permutation gives another valid solution (6x6: boxes stay 2x3)."""
    for size in (4, 6, 9):
        ps = make_puzzle_set("arena/SudokuExtreme-v0", split="test", size=size, count=3)
        puzzle, solution = ps.puzzles[0], ps.label(ps.puzzles[0])
        br, bc = puzzle.meta["box"]
        for perm in SudokuLattice(size).cell_permutations():
            g = solution.reshape(-1)[perm].reshape(size, size)
            boxes = g.reshape(size // br, br, size // bc, bc).transpose(0, 2, 1, 3).reshape(size, size)
            for units in (g, g.T, boxes):  # every row, column and box holds each digit once
                assert all(sorted(u) == list(range(1, size + 1)) for u in units), (size, perm)


@pytest.fixture(scope="module")
def untrained(tmp_path_factory):
    torch.manual_seed(0)
    config = LDTConfig(channels=4, grid=4, **TINY)
    path = tmp_path_factory.mktemp("ldt") / "model.safetensors"
    model = LDT(config)
    save_weights(path, "ldt", dataclasses.asdict(config), model.state_dict(), family="sudoku", grid_shape=[4, 4])
    return path


def test_an_untrained_ldt_is_unsound_and_the_harness_says_so(untrained, tmp_path):
    """Untrained, nothing dies and the conflict head never fires, so branching pins every cell and the chain
    calls itself solved: wrong answers, which the verifier (afterwards) counts and the summary reports."""
    ps = make_puzzle_set("arena/SudokuExtreme-v0", split="test", **SUDOKU4)
    with ResultStore(tmp_path / "r.sqlite") as store:
        run = evaluate(
            ps,
            make_agent(f"ldt:{untrained},chains=4,max_rounds=50"),
            store,
            RunOptions(k=1, limit=20, progress=False),
            agent_kind="recursive",
        )
    s = run.summary
    assert s.coverage == 1.0 and s.wrong >= 15 and not s.sound and s.wrong_rate_upper95 > 0.5
    record = run.records[0]
    assert record.cost["steps"] >= 1 and record.cost["nfe"] == 4 * record.cost["steps"]
    assert record.extras["chains"] == 4 and record.extras["rounds"] == record.cost["steps"]


def test_a_chain_that_runs_out_of_rounds_abstains_with_its_reason(untrained):
    puzzle = make_puzzle_set("arena/SudokuExtreme-v0", split="test", **SUDOKU4).puzzles[0]
    (candidate,) = make_agent(f"ldt:{untrained},chains=2,max_rounds=1").act([puzzle], 1)[0]
    assert candidate.answer is None and "within 1 rounds" in candidate.extras["reason"]
    assert candidate.cost.steps == 1 and candidate.cost.nfe == 2


def test_solver_runs_are_seeded_per_puzzle_and_sample(untrained):
    ps = make_puzzle_set("arena/SudokuExtreme-v0", split="test", **SUDOKU4)
    agent = make_agent(f"ldt:{untrained},chains=4,max_rounds=30")
    together = agent.act(ps.puzzles[:3], 2)
    alone = make_agent(f"ldt:{untrained},chains=4,max_rounds=30").act(ps.puzzles[2:3], 2)[0]
    assert all(np.array_equal(a.answer, b.answer) for a, b in zip(alone, together[2]))
    assert [c.extras["rounds"] for c in alone] == [c.extras["rounds"] for c in together[2]]


def test_ldt_options_and_checkpoints_are_checked(untrained, tmp_path):
    with pytest.raises(ConfigError, match="chains"):
        make_agent(f"ldt:{untrained},chains=0")
    with pytest.raises(ConfigError, match="trained on sudoku"):
        make_agent(f"ldt:{untrained}").act(make_puzzle_set("arena/SudokuExtreme-v0", split="test").puzzles[:1], 1)
    with pytest.raises(ConfigError, match="invalid value for global_batch"):
        make_train_config("ldt", "arena/SudokuExtreme-v0", {"global_batch": 0}, SUDOKU4)


def test_training_resumes_exactly(tmp_path):
    options = {
        **TINY,
        "global_batch": 8,
        "log_every": 1,
        "eval_every": 1000,
        "eval_limit": 4,
        "eval_chains": 2,
        "eval_max_rounds": 5,
    }
    straight = train(
        make_train_config("ldt", "arena/SudokuExtreme-v0", {**options, "steps": 6}, SUDOKU4), tmp_path / "straight"
    )
    config = make_train_config("ldt", "arena/SudokuExtreme-v0", {**options, "steps": 6}, SUDOKU4)
    interrupted = train(config, tmp_path / "resumed", max_seconds=0.0)  # stops, with a checkpoint, after one step
    assert interrupted.step == 1
    resumed = train(
        make_train_config("ldt", "arena/SudokuExtreme-v0", {**options, "steps": 6}, SUDOKU4), tmp_path / "resumed"
    )
    losses = lambda r: [e["loss"] for e in r.log if "loss" in e]  # noqa: E731
    assert len(losses(resumed)) == 6 and losses(resumed) == losses(straight)  # bit for bit
    assert all(e["pool_samples_drawn"] >= 8 for e in straight.log if "loss" in e)


def test_rope2d_scores_depend_only_on_the_row_and_column_offsets():
    from arena_agents.recursive.ldt import apply_rope2d, rope2d_tables

    torch.manual_seed(3)
    cos, sin = rope2d_tables(5, 16, 10000.0)  # 25 cells + CLS
    q = torch.randn(16).expand(1, 1, 26, 16)
    k = torch.randn(16).expand(1, 1, 26, 16)
    rq, rk = apply_rope2d(q, cos, sin), apply_rope2d(k, cos, sin)
    score = lambda a, b: (rq[0, 0, a] * rk[0, 0, b]).sum().item()  # noqa: E731
    cell = lambda r, c: r * 5 + c  # noqa: E731
    assert score(cell(1, 1), cell(0, 0)) == pytest.approx(score(cell(3, 4), cell(2, 3)), abs=1e-5)
    assert score(cell(1, 1), cell(0, 0)) != pytest.approx(score(cell(1, 1), cell(0, 1)), abs=1e-3)
    assert score(cell(2, 0), cell(0, 0)) != pytest.approx(score(cell(0, 2), cell(0, 0)), abs=1e-3)  # rows != cols
    assert torch.equal(rq[0, 0, 25], q[0, 0, 25])  # CLS is not rotated


def test_the_readme_ldt_commands_run(tmp_path, monkeypatch):
    """Each docs/agents/ldt.md `arena train --model ldt` line and its `arena eval --agent ldt:` line (4x4 Sudoku and 6x6
    mazes), shortened to 2 steps, 3 puzzles and 5 rounds and pointed at a temporary folder."""
    import re
    import shlex
    from pathlib import Path

    from arena_leaderboard.cli import main

    page = (Path(__file__).resolve().parents[2] / "docs/agents/ldt.md").read_text().replace("\\\n", " ")
    lines = [shlex.split(re.sub(r"#.*", "", line))[1:] for line in page.splitlines() if line.startswith("arena ")]
    # the CPU recipes (the page's GPU recipe, marked `# needs: gpu`, has no --steps and is not run here)
    trains = [a for a in lines if a[:3] == ["train", "--model", "ldt"] and "--out" in a and "--steps" in a]
    assert {a[a.index("--out") + 1] for a in trains} == {"runs/ldt4", "runs/ldt-maze6"}
    for train_args in trains:
        name = train_args[train_args.index("--out") + 1]
        eval_args = next(a for a in lines if a[0] == "eval" and f"ldt:{name}," in " ".join(a))
        run = str(tmp_path / Path(name).name)
        train_args = [run if a == name else a for a in train_args]
        train_args[train_args.index("--steps") + 1] = "2"
        assert main([*train_args, "-s", "eval_limit=3", "-s", "eval_chains=2", "-s", "eval_max_rounds=3"]) == 0
        # an untrained model never solves, so every chain would run all max_rounds: 5 are enough here
        eval_args = [a.replace(name, run).replace("max_rounds=100", "max_rounds=5") for a in eval_args]
        eval_args[eval_args.index("--limit") + 1] = "3"
        out = tmp_path / f"summaries-{Path(name).name}"
        assert main([*eval_args, "--db", str(tmp_path / "r.sqlite"), "--out", str(out), "--no-progress"]) == 0
        assert len(list(out.glob("*.json"))) == 1


def test_a_mazes_solutions_are_its_shortest_paths_and_the_verifier_accepts_each():
    """Shortest paths are not unique: a maze's solutions are all of them (up to the limit, then a uniform draw),
    each one an answer the env's verifier accepts, the labelled path among them."""
    ps = make_puzzle_set("arena/MazeHard-v0", split="test", size=6, count=20)
    codec = MazeLattice(6)
    counts = []
    for puzzle in ps.puzzles:
        label = ps.label(puzzle)
        rng = np.random.default_rng(0)
        every = codec.solutions(puzzle.grid, label, 1000, rng)  # [K, S, C]
        assert (every.sum(-1) == 1).all() and (every <= codec.initial(puzzle.grid[None])).all()
        grids = codec.decode(every)
        assert len(np.unique(grids.reshape(len(grids), -1), axis=0)) == len(grids)  # all distinct
        assert all(v.ok for v in ps.verify_batch([puzzle] * len(grids), list(grids)))
        assert any((g == label).all() for g in grids)
        drawn = codec.solutions(puzzle.grid, label, 2, rng)
        assert len(drawn) == min(2, len(every))
        assert all(v.ok for v in ps.verify_batch([puzzle] * len(drawn), list(codec.decode(drawn))))
        counts.append(len(every))
    assert max(counts) > 2  # some mazes have several shortest paths, so the draw above was exercised


def test_training_targets_keep_the_solutions_still_in_the_lattice():
    """The keep target is the union of the solutions the lattice still holds; a lattice that mixes two solutions
    holds none, so its conflict target fires; with one solution it is the published lattice AND solution."""
    one_hot = lambda values: torch.nn.functional.one_hot(torch.tensor(values), 2).bool()  # noqa: E731
    a, b = one_hot([0, 0, 1]), one_hot([1, 0, 0])  # two solutions of 3 cells x 2 values
    solutions = torch.stack([a, b])[None]  # [1, K=2, S=3, C=2]
    solvable = torch.tensor([True])
    cases = {  # lattice -> (expected solution target, lost)
        "open": (torch.ones(3, 2, dtype=torch.bool), a | b, False),
        "only a left": (torch.tensor([[1, 0], [1, 0], [1, 1]]).bool(), a, False),
        "a mix of a and b": (torch.tensor([[1, 0], [1, 0], [1, 0]]).bool(), a | b, True),
    }
    for name, (lattice, solution, lost) in cases.items():
        got, got_lost = training_targets(lattice[None], solutions, solvable)
        assert torch.equal(got[0], solution) and bool(got_lost[0]) == lost, name
    assert training_targets(torch.ones(1, 3, 2, dtype=torch.bool), solutions, torch.tensor([False]))[1].all()
    mixed = torch.tensor([[1, 0], [1, 1], [1, 0]]).bool()[None]
    sudoku_like = training_targets(mixed, a[None, None], solvable)
    assert torch.equal(sudoku_like[0][0], a) and sudoku_like[1].all()  # target = lattice AND solution as published
