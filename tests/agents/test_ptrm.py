"""PTRM: sigma=0 is the TRM itself, noise is seeded per (seed, puzzle, sample), and it reaches the chosen latent."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from arena_agents.recursive.checkpoint import save_weights  # noqa: E402
from arena_agents.recursive.families import FAMILIES  # noqa: E402
from arena_agents.recursive.models import build_model, model_config  # noqa: E402
from arena_agents.registry import make_agent  # noqa: E402
from arena_envs.config import ConfigError  # noqa: E402
from arena_envs.registry import make_puzzle_set  # noqa: E402
from arena_harness import ResultStore, RunOptions, evaluate  # noqa: E402

ENV, DATA = "arena/SudokuExtreme-v0", {"size": 4, "count": 40}


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory):
    """A TRM and an HRM checkpoint for 4x4 Sudoku with random weights, the q head included (a fresh q head
    is constant, and then q could not show whether noise reached the latents)."""
    root = tmp_path_factory.mktemp("ptrm")
    for kind in ("trm", "hrm"):
        config = model_config(kind, {**FAMILIES[kind].test_options, "vocab_size": 6, "seq_len": 16})
        torch.manual_seed(0)
        model = build_model(kind, config)
        with torch.no_grad():
            model.q_head.weight.normal_(0.0, 1.0)
            model.q_head.bias.zero_()
        (root / kind).mkdir()
        path = root / kind / "model.safetensors"
        save_weights(path, kind, dataclasses.asdict(config), model.state_dict(), family="sudoku", grid_shape=[4, 4])
    return root


@pytest.fixture(scope="module")
def puzzles():
    return make_puzzle_set(ENV, split="test", **DATA).puzzles[:6]


def test_sigma_zero_is_the_trm_itself(run_dirs, puzzles):
    trm = make_agent(f"trm:{run_dirs / 'trm'}").act(puzzles, 1)
    ptrm = make_agent(f"ptrm:{run_dirs / 'trm'},sigma=0").act(puzzles, 3)
    for (plain,), rollouts in zip(trm, ptrm):
        assert len(rollouts) == 3
        for r in rollouts:  # every rollout is the TRM's own answer, with its q
            assert np.array_equal(r.answer, plain.answer)
            assert r.q == pytest.approx(plain.q, abs=1e-6)
            assert r.cost.nfe == plain.cost.nfe and r.cost.steps == plain.cost.steps


def test_noise_is_seeded_per_puzzle_and_sample_not_per_batch(run_dirs, puzzles):
    spec = f"ptrm:{run_dirs / 'trm'},sigma=1.0,steps=6"
    together = make_agent(spec).act(puzzles, 4)
    alone = make_agent(spec + ",batch_size=1").act(puzzles[2:3], 4)[0]  # other batches, other neighbours
    assert [c.q for c in alone] == pytest.approx([c.q for c in together[2]], abs=1e-5)
    assert all(np.array_equal(a.answer, b.answer) for a, b in zip(alone, together[2]))
    qs = [c.q for row in together for c in row]
    assert len(set(np.round(qs, 6))) > len(puzzles)  # rollouts of one puzzle differ
    other_seed = make_agent(spec + ",seed=1").act(puzzles, 4)
    assert [c.q for c in other_seed[0]] != pytest.approx([c.q for c in together[0]], abs=1e-6)


def test_noise_goes_into_the_chosen_latent(run_dirs, puzzles):
    """z (the paper's choice), y, or both give different rollouts; each differs from the noise-free TRM."""
    plain = [c.q for c in make_agent(f"ptrm:{run_dirs / 'trm'},sigma=0").act(puzzles[:1], 2)[0]]
    seen = []
    for latent in ("z", "y", "both"):
        agent = make_agent(f"ptrm:{run_dirs / 'trm'},sigma=0.5,latent={latent}")
        assert [agent.model.latent_names[i] for i in agent.noisy] == (["y", "z"] if latent == "both" else [latent])
        qs = [c.q for c in agent.act(puzzles[:1], 2)[0]]
        assert qs != pytest.approx(plain, abs=1e-6)
        seen.append(tuple(np.round(qs, 6)))
    assert len(set(seen)) == 3


def test_a_rerun_through_the_harness_resumes_to_the_same_candidates(run_dirs, tmp_path):
    ps = make_puzzle_set(ENV, split="test", **DATA)
    spec = f"ptrm:{run_dirs / 'trm'},sigma=0.3"
    options = RunOptions(k=4, batch_size=5, limit=10, progress=False)
    with ResultStore(tmp_path / "a.sqlite") as store:
        first = evaluate(ps, make_agent(spec), store, options, agent_kind="recursive")
    with ResultStore(tmp_path / "b.sqlite") as store:  # in two halves, as an interrupted run resumes
        evaluate(ps, make_agent(spec), store, RunOptions(k=4, batch_size=5, limit=5, progress=False))
        second = evaluate(ps, make_agent(spec), store, options, agent_kind="recursive")
    key = lambda r: (r.puzzle_id, r.sample_index)  # noqa: E731
    a, b = sorted(first.records, key=key), sorted(second.records, key=key)
    assert [key(r) for r in a] == [key(r) for r in b] and len(a) == 40
    assert [r.q for r in a] == pytest.approx([r.q for r in b], abs=1e-6)


def test_ptrm_takes_trm_checkpoints_and_checks_its_options(run_dirs):
    with pytest.raises(ConfigError, match="is a hrm checkpoint"):
        make_agent(f"ptrm:{run_dirs / 'hrm'}")
    with pytest.raises(ConfigError, match="sigma"):
        make_agent(f"ptrm:{run_dirs / 'trm'},sigma=-1")
    with pytest.raises(ConfigError, match="latent"):
        make_agent(f"ptrm:{run_dirs / 'trm'},latent=x")
    assert make_agent(f"ptrm:{run_dirs / 'trm'}").name == "ptrm"
