"""The recursive-model trainer: exact resume, checkpoints, data parallel equivalence, HRM's ACT loss, the agent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from arena_agents.recursive import checkpoint as ckpt  # noqa: E402
from arena_agents.recursive.agent import RecursiveAgent  # noqa: E402
from arena_agents.recursive.agent_config import RecursiveAgentConfig  # noqa: E402
from arena_agents.recursive.families import DEEP_SUPERVISION, FAMILIES, families_trained_by  # noqa: E402
from arena_agents.recursive.train import DistInfo, Trainer, make_train_config, train  # noqa: E402
from arena_agents.registry import make_agent  # noqa: E402
from arena_envs.config import ConfigError  # noqa: E402
from arena_envs.registry import make_puzzle_set  # noqa: E402

ENV = "arena/SudokuExtreme-v0"
ENV_OPTIONS = {"size": 4, "count": 40}
MODEL = {name: dict(FAMILIES[name].test_options) for name in families_trained_by(DEEP_SUPERVISION)}
TINY = {
    **MODEL["trm"],
    "global_batch": 8,
    "lr": 1e-3,
    "lr_warmup": 2,
    "log_every": 1,
    "eval_every": 1000,
    "eval_limit": 8,
    "keep_checkpoints": 5,
}


def tiny_config(model: str = "trm", **overrides):
    run = {k: v for k, v in TINY.items() if k not in MODEL["trm"]}
    return make_train_config(model, ENV, {**run, **MODEL[model], **overrides}, ENV_OPTIONS)


def losses(result) -> list[float]:
    return [e["loss"] for e in result.log if "loss" in e]


def test_flat_options_split_into_run_and_model_settings():
    cfg = tiny_config(steps=7, mlp_mixer=True)
    assert cfg.steps == 7 and cfg.model_options["mlp_mixer"] is True and cfg.model_options["hidden"] == 16
    with pytest.raises(ConfigError, match="unknown option"):
        tiny_config(not_a_setting=1)
    with pytest.raises(ConfigError, match="lr_schedule"):
        tiny_config(lr_schedule="linear")
    with pytest.raises(ConfigError, match="divisible"):
        Trainer(tiny_config(global_batch=7), "/tmp/unused", info=replace_world(2))


def replace_world(world: int):
    return DistInfo(rank=0, world_size=world)


@pytest.mark.parametrize("model", families_trained_by(DEEP_SUPERVISION))
def test_resume_reproduces_the_uninterrupted_run(tmp_path, model):
    straight = train(tiny_config(model, steps=6, checkpoint_every=100), tmp_path / "straight")
    interrupted = train(tiny_config(model, steps=3, checkpoint_every=3), tmp_path / "resumed")
    # the same run directory, a longer run: resumes from step 3 and must see exactly what the straight run saw
    resumed = train(tiny_config(model, steps=6, checkpoint_every=100), tmp_path / "resumed")
    assert len(losses(interrupted)) == 3 and len(losses(resumed)) == 6
    assert losses(resumed) == losses(straight)  # bit for bit
    assert all(np.isfinite(losses(straight)))
    a = ckpt.load_weights(tmp_path / "straight" / ckpt.MODEL_FILE).state
    b = ckpt.load_weights(tmp_path / "resumed" / ckpt.MODEL_FILE).state
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    log = [json.loads(line) for line in (tmp_path / "resumed" / "log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in log if "loss" in e] == [1, 2, 3, 4, 5, 6]  # no duplicated steps after resume


def test_resume_refuses_a_run_with_other_settings(tmp_path):
    train(tiny_config(steps=2), tmp_path / "run")
    with pytest.raises(ConfigError, match=r"different settings.*lr"):
        train(tiny_config(steps=4, lr=5e-4), tmp_path / "run")
    again = train(tiny_config(steps=2, lr=5e-4), tmp_path / "run", restart=True)
    assert again.step == 2


def test_hrm_trains_the_continue_head_and_trm_does_not(tmp_path):
    for model in ("hrm", "trm"):
        trainer = Trainer(tiny_config(model, steps=3), tmp_path / model)
        stats = [trainer.train_step() for _ in range(3)]
        assert all(("continue_bce" in s) == (model == "hrm") for s in stats)
        weight = trainer.model.q_head.weight
        # q_continue's weights (row 1, zero at init) move only where they have a loss (HRM). Before the last
        # step the target sigmoid(max(q_halt', q_continue')) equals the prediction at init; at the last step
        # (here the 3rd) the target is sigmoid(q_halt') alone.
        assert bool((weight[1] != 0).any()) == (model == "hrm") and bool((weight[0] != 0).any())


def test_halting_exploration_and_refill(tmp_path):
    trainer = Trainer(tiny_config(steps=10, max_steps=3, halt_exploration=1.0), tmp_path / "run")
    for _ in range(3):
        trainer.train_step()
    # q_halt starts at -5 (never halt), so every slot runs all 3 steps, then all take new samples
    assert bool(trainer.halted.all()) and list(trainer.refills) == [1] * 8
    trainer.train_step()
    assert int(trainer.slot_steps.max()) == 1 and list(trainer.refills) == [2] * 8


def test_exploration_minimum_is_redrawn_every_step_as_published(tmp_path):
    """ "step" (default): a fresh U{2..max} minimum for a share p of the slots at every optimiser step;
    "sample": one minimum per sample, kept until it halts."""
    trainer = Trainer(tiny_config(steps=10, max_steps=6, halt_exploration=0.5, global_batch=64), tmp_path / "a")
    draws = []
    for _ in range(4):
        draws.append(trainer._exploration_minimum().tolist())
        trainer.train_step()
    flat = [m for d in draws for m in d]
    assert all(m == 0 or 2 <= m <= 6 for m in flat)
    assert 0.3 < sum(m > 0 for m in flat) / len(flat) < 0.7
    assert len({tuple(d) for d in draws}) == 4  # redrawn at every step
    # drawn from (seed, step) for the global batch: another trainer at the same step draws the same (a process
    # of a data-parallel run takes its block of it; the 2-process test below checks the losses agree)
    again = Trainer(tiny_config(steps=10, max_steps=6, halt_exploration=0.5, global_batch=64), tmp_path / "b")
    assert again._exploration_minimum().tolist() == draws[0]
    per_sample = Trainer(
        tiny_config(steps=10, max_steps=3, halt_exploration=1.0, halt_exploration_draw="sample"), tmp_path / "c"
    )
    per_sample.train_step()
    assert bool((per_sample._exploration_minimum() >= 2).all())  # probability 1: every sample has a minimum
    with pytest.raises(ConfigError, match="halt_exploration_draw"):
        tiny_config(halt_exploration_draw="sometimes")


def test_length_in_epochs_counts_passes_over_the_training_puzzles(tmp_path):
    """The published "epochs": 50,000 passes over 1,000 puzzles at global batch 768 is 65,104 steps."""
    from arena_agents.recursive.train import TrainConfig

    assert TrainConfig().total_steps(1000) == 65_104
    assert TrainConfig(steps=7).total_steps(1000) == 7
    trainer = Trainer(tiny_config(epochs=2, global_batch=8), tmp_path / "run")
    assert len(trainer.data.questions) == 40 and trainer.total_steps == 10
    result = train(tiny_config(epochs=0.4, global_batch=8), tmp_path / "short")  # 0.4 * 40 / 8 = 2 steps
    assert result.step == 2


def test_checkpoint_load_gives_identical_outputs_and_agent_matches_model(tmp_path):
    result = train(tiny_config(steps=3, ema=None), tmp_path / "run")
    trainer = Trainer(tiny_config(steps=3, ema=None), tmp_path / "other")
    trainer.load_checkpoint(ckpt.latest_checkpoint(tmp_path / "run"))
    agent = make_agent(f"trm:{tmp_path / 'run'}")
    assert agent.parameters == trainer.model.size() and result.step == 3
    ps = make_puzzle_set(ENV, split="test", **ENV_OPTIONS)
    puzzles = ps.puzzles[:6]
    tokens = torch.from_numpy(np.stack([p.grid for p in puzzles]).reshape(6, 16).astype(np.int64) + 1)
    predicted, q = trainer.model.eval().solve(tokens)
    rows = agent.act(puzzles, 3)
    for i, row in enumerate(rows):
        assert np.array_equal(row[0].answer.reshape(-1) + 1, predicted[i].numpy())
        assert row[0].q == pytest.approx(float(q[i]), abs=1e-6)
        assert row[0].cost.nfe == 3 * 2 * 2 and row[0].cost.steps == 3 and row[0].cost.flops > 0
    # candidates 1..k-1 answer a symmetry of the puzzle and come back in the puzzle's own frame
    transform = agent.codec.random_transform(np.random.default_rng(_seed(puzzles[0].id, 1)))
    shifted = torch.from_numpy(transform.apply(puzzles[0].grid).reshape(1, 16).astype(np.int64) + 1)
    expect = transform.invert(trainer.model.solve(shifted)[0].numpy().reshape(4, 4) - 1)
    assert np.array_equal(rows[0][1].answer, expect)
    again = make_agent(f"trm:{tmp_path / 'run'}").act(puzzles, 3)
    assert all(np.array_equal(a.answer, b.answer) for ra, rb in zip(rows, again) for a, b in zip(ra, rb))


def _seed(puzzle_id: str, sample: int):
    from arena_envs.protocol import stable_seed

    return stable_seed(0, puzzle_id, sample)


def test_bad_checkpoints_fail_with_one_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        make_agent(f"trm:{tmp_path / 'nothing.safetensors'}")
    with pytest.raises(ConfigError, match="need a checkpoint"):
        make_agent("trm")
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"\x00" * 64)
    with pytest.raises(ckpt.CheckpointError, match="not a readable safetensors"):
        make_agent(f"trm:{corrupt}")
    train(tiny_config("hrm", steps=1), tmp_path / "hrm")
    with pytest.raises(ConfigError, match="is a hrm checkpoint"):
        make_agent(f"trm:{tmp_path / 'hrm'}")
    agent = make_agent(f"hrm:{tmp_path / 'hrm'}")
    nine = make_puzzle_set(ENV, split="test").puzzles[:1]
    with pytest.raises(ConfigError, match="trained on sudoku"):
        agent.act(nine, 1)
    with pytest.raises(ConfigError, match="sha256"):
        RecursiveAgent(RecursiveAgentConfig(path=str(tmp_path / "hrm"), checkpoint_sha256="0" * 64))
    # the trainer state is tensors only: it loads with weights_only=True, and a pickle of an object does not
    evil = tmp_path / "evil.pt"
    torch.save({"x": object()}, evil)
    with pytest.raises(ckpt.CheckpointError, match="cannot be loaded safely"):
        ckpt.load_state(evil)


def test_flops_estimate_matches_torch_flop_counter():
    from torch.utils.flop_counter import FlopCounterMode

    from arena_agents.recursive.hrm import HRM, HRMConfig
    from arena_agents.recursive.trm import TRM, TRMConfig

    for model in (
        TRM(TRMConfig(vocab_size=6, seq_len=16, hidden=32, heads=4, n_latent=2, t_cycles=2, prefix_len=2)),
        TRM(TRMConfig(vocab_size=6, seq_len=16, hidden=32, heads=4, prefix_len=2, mlp_mixer=True, mixer_hidden=24)),
        TRM(TRMConfig(vocab_size=6, seq_len=16, hidden=32, heads=4, prefix_len=2, mlp_mixer=True)),
        HRM(HRMConfig(vocab_size=6, seq_len=16, hidden=32, heads=4, h_layers=2, l_layers=1)),
    ):
        tokens = torch.randint(1, 6, (1, 16))
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            model(tokens, model.initial_carry(1))
        # on CPU the counter does not see inside scaled_dot_product_attention: add QK^T and AV, 2 * 2*L*L*D
        c, length = model.config, 18 if isinstance(model, TRM) else 17
        attention_blocks = 0 if getattr(c, "mlp_mixer", False) else len(_block_calls(model))
        unseen = attention_blocks * 4 * length * length * c.hidden
        assert model.flops_per_step() == counter.get_total_flops() + unseen


@pytest.mark.timeout(300)
@pytest.mark.parametrize("model", ["trm", "gram"])  # GRAM: each process draws its own slots' share of the noise
def test_two_process_ddp_equals_one_process_with_the_same_global_batch(tmp_path, model):
    single = train(tiny_config(model, steps=3), tmp_path / "single")
    args = [f"{k}={v}" for k, v in {**TINY, **MODEL[model], "steps": 3}.items()]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    cmd += ["-m", "arena_harness.cli", "train", "--model", model, "--device", "cpu", "--out", str(tmp_path / "ddp")]
    cmd += [a for pair in (("-o", f"{k}={v}") for k, v in ENV_OPTIONS.items()) for a in pair]
    cmd += [a for s in args for a in ("-s", s)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=280)
    assert done.returncode == 0, done.stderr[-3000:]
    log = [json.loads(line) for line in (tmp_path / "ddp" / "log.jsonl").read_text().splitlines()]
    ddp_losses = [e["loss"] for e in log if "loss" in e]
    assert ddp_losses == pytest.approx(losses(single), rel=1e-5)
    a = ckpt.load_weights(tmp_path / "single" / ckpt.MODEL_FILE).state
    b = ckpt.load_weights(tmp_path / "ddp" / ckpt.MODEL_FILE).state
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-5), key
    assert sorted(p.name for p in (tmp_path / "ddp" / "ckpt-00000003").iterdir() if p.name.startswith("carry")) == [
        "carry-rank0.pt",
        "carry-rank1.pt",
    ]


def test_cli_train_then_eval(tmp_path):
    from arena_harness.cli import main

    run = tmp_path / "run"
    opts = [a for s in (f"{k}={v}" for k, v in {**TINY, "steps": 2}.items()) for a in ("-s", s)]
    env = [a for pair in (("-o", f"{k}={v}") for k, v in ENV_OPTIONS.items()) for a in pair]
    assert main(["train", "--model", "trm", "--out", str(run), *env, *opts]) == 0
    assert (run / "model.safetensors").is_file() and (run / "latest").read_text().strip() == "ckpt-00000002"
    db, out = tmp_path / "r.sqlite", tmp_path / "sum"
    assert (
        main(["eval", "--agent", f"trm:{run}", *env, "--limit", "5", "-k", "2", "--db", str(db), "--out", str(out)])
        == 0
    )
    summary = json.loads(next(Path(out).glob("*.json")).read_text())
    assert summary["n_puzzles"] == 5 and summary["agent_kind"] == "recursive"
    assert main(["train", "--model", "trm", "--out", str(run), *env, "-s", "lr=0.5", "--steps", "3"]) == 2


def _block_calls(model) -> list[int]:
    """Count block applications in one step by hooking every block."""
    from arena_agents.recursive.layers import Block

    calls: list[int] = []
    hooks = [m.register_forward_hook(lambda *_: calls.append(1)) for m in model.modules() if isinstance(m, Block)]
    with torch.no_grad():
        model(torch.randint(1, 6, (1, 16)), model.initial_carry(1))
    for h in hooks:
        h.remove()
    return calls


def test_a_checkpoint_from_before_the_fidelity_fix_is_refused_with_its_reason(tmp_path):
    train(tiny_config(steps=1), tmp_path / "run")
    weights = ckpt.load_weights(tmp_path / "run")
    old = tmp_path / "old.safetensors"
    from safetensors.torch import save_file

    meta = {"format": "puzzle-arena-recursive-v1", "kind": "trm", "model_config": json.dumps(weights.model_config)}
    save_file(dict(weights.state), str(old), metadata=meta)
    with pytest.raises(ckpt.CheckpointError, match="before the TRM/HRM networks were made equal"):
        make_agent(f"trm:{old}")


@pytest.mark.parametrize("kind", ["trm", "ldt"])
def test_a_checkpoint_whose_config_asks_for_a_huge_model_is_refused_before_allocating(tmp_path, kind):
    """The config in a checkpoint is not trusted: hidden = 65536 in a file of a small model would mean a
    multi-GB allocation; the model is sized on the meta device first and the mismatch is one clear error."""
    import dataclasses
    import resource

    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    if kind == "trm":
        source = next(Path("checkpoints/trm-mlp-sudoku6-cpu").glob("*.safetensors"))
        key = "hidden"
    else:
        from arena_agents.recursive.ldt import LDT, LDTConfig

        source = tmp_path / "ldt.safetensors"
        config = LDTConfig(channels=4, grid=4, dim=32, heads=4, layers=1, loops=2)
        ckpt.save_weights(source, "ldt", dataclasses.asdict(config), LDT(config).state_dict(), family="sudoku")
        key = "dim"
    with safe_open(str(source), framework="pt") as fh:
        meta = fh.metadata()
    config = json.loads(meta["model_config"])
    config[key] = 65536
    forged = tmp_path / "forged.safetensors"
    save_file(load_file(str(source)), str(forged), metadata={**meta, "model_config": json.dumps(config)})
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ckpt.CheckpointError, match="does not fit its own model config: the config asks for"):
        make_agent(f"{kind}:{forged}")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 2**20  # KiB: under 1 GiB more
