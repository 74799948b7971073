"""``arena rl`` (MaskablePPO on step envs), the SB3 VecEnv adapter and the ``sb3:PATH`` agent.

The learning evidence (a trained policy against the masked random policy on held-out boards) is in
``test_rl_learns.py``; these are the mechanics: the adapter equals SB3's own DummyVecEnv, a run writes a
checkpoint that ``MaskablePPO.load`` opens and ``sb3:PATH`` reads without unpickling, runs resume, a rollout
never takes a masked action, answers are seeded per (seed, puzzle, sample), and bad checkpoints are refused.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("sb3_contrib")

import torch
from gymnasium.vector import AutoresetMode
from sb3_contrib import MaskablePPO
from stable_baselines3.common.vec_env import DummyVecEnv

import arena_envs  # noqa: F401
from arena_agents.registry import make_agent
from arena_agents.rl.policy import read_card
from arena_agents.rl.ppo import PPOConfig, train
from arena_agents.rl.sb3_agent import PolicyRunner
from arena_agents.rl.vec_env import GymnasiumVecEnv
from arena_envs.config import ConfigError
from arena_envs.registry import make_puzzle_set
from arena_harness.cli import main as arena_main

SUDOKU4 = {"size": 4, "mask_conflicts": True}
TINY = {"num_envs": 8, "n_steps": 16, "batch_size": 64, "n_epochs": 1, "eval_puzzles": 10, "net_arch": (32,)}


def _masked_random_actions(masks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.array([rng.choice(np.flatnonzero(m)) if m.any() else 0 for m in masks])


@pytest.mark.parametrize(
    "env_id,options", [("arena/SudokuExtremeStep-v0", SUDOKU4), ("arena/MazeHardStep-v0", {"size": 6})]
)
def test_adapter_equals_sb3_dummy_vec_env(env_id: str, options: dict) -> None:
    """Over SyncVectorEnv and over the native vector env, the adapter gives exactly what SB3's own DummyVecEnv
    of the single envs gives: observations (reset ones after an episode ends), rewards, dones, terminal boards."""
    n, steps = 4, 150
    reference = DummyVecEnv([lambda: gym.make(env_id, **options) for _ in range(n)])
    sync = GymnasiumVecEnv(
        gym.make_vec(
            env_id,
            num_envs=n,
            vectorization_mode="sync",
            vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP},
            **options,
        )
    )
    native = GymnasiumVecEnv(
        gym.make_vec(
            env_id,
            num_envs=n,
            vectorization_mode="vector_entry_point",
            autoreset_mode=AutoresetMode.SAME_STEP,
            **options,
        )
    )
    envs = [reference, sync, native]
    for env in envs:
        env.seed(7)
    obs = [env.reset() for env in envs]
    for o in obs[1:]:
        np.testing.assert_array_equal(o, obs[0])
    rng = np.random.default_rng(0)
    ended = 0
    for _ in range(steps):
        masks = [np.stack(env.env_method("action_masks")) for env in envs]
        for m in masks[1:]:
            np.testing.assert_array_equal(m, masks[0])
        actions = _masked_random_actions(masks[0], rng)
        results = [env.step(actions) for env in envs]
        ref_obs, ref_rew, ref_done, ref_infos = results[0]
        for got_obs, got_rew, got_done, got_infos in results[1:]:
            np.testing.assert_array_equal(got_obs, ref_obs)
            np.testing.assert_allclose(got_rew, ref_rew, rtol=0, atol=1e-6)
            np.testing.assert_array_equal(got_done, ref_done)
            for i in np.flatnonzero(ref_done):
                np.testing.assert_array_equal(
                    got_infos[i]["terminal_observation"], ref_infos[i]["terminal_observation"]
                )
        ended += int(ref_done.sum())
    assert ended > 10  # the comparison crossed many autoresets


def test_adapter_refuses_next_step_autoreset() -> None:
    env = gym.make_vec("arena/SudokuExtremeStep-v0", num_envs=2, vectorization_mode="sync", size=4)
    with pytest.raises(ConfigError, match="SAME_STEP"):
        GymnasiumVecEnv(env)


def test_ppo_config_errors() -> None:
    with pytest.raises(ConfigError, match="not a step env"):
        PPOConfig(env_id="arena/SudokuExtreme-v0")
    with pytest.raises(ConfigError, match="vectorization"):
        PPOConfig(vectorization="async")
    with pytest.raises(ConfigError, match="num_envs"):
        PPOConfig(num_envs=0)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rl") / "run"
    config = PPOConfig(env_options=SUDOKU4, total_timesteps=256, eval_every=128, **TINY)
    result = train(config, out, echo=lambda line: None)
    assert result.timesteps >= 256 and not result.timed_out
    return out


def test_run_directory(tiny_run: Path) -> None:
    """model.zip (an SB3 zip with arena.json), checkpoints, SB3's progress.csv and the verifier evaluations."""
    assert (tiny_run / "model.zip").is_file() and (tiny_run / "config.json").is_file()
    assert sorted(p.name for p in (tiny_run / "checkpoints").iterdir()) == ["model_128.zip", "model_256.zip"]
    assert "train/policy_gradient_loss" in (tiny_run / "progress.csv").read_text().splitlines()[0]
    evals = [json.loads(line) for line in (tiny_run / "eval.jsonl").read_text().splitlines()]
    assert [e["timesteps"] for e in evals] == [128, 256] and all(e["puzzles"] == 10 for e in evals)
    card = read_card(tiny_run / "model.zip")
    assert card.env_id == "arena/SudokuExtremeStep-v0" and card.env_options == SUDOKU4 and card.timesteps == 256


def test_checkpoint_loads_with_maskableppo_load(tiny_run: Path) -> None:
    """SB3 users open it the usual way, and it is the same network the agent reads without unpickling."""
    model = MaskablePPO.load(tiny_run / "model.zip", device="cpu")
    agent = make_agent(f"sb3:{tiny_run / 'model.zip'}")
    for name, tensor in model.policy.state_dict().items():
        torch.testing.assert_close(agent.policy.state_dict()[name], tensor)


def test_resume_continues_the_step_count(tiny_run: Path, tmp_path: Path) -> None:
    import shutil

    out = tmp_path / "run"
    shutil.copytree(tiny_run, out)
    lines: list[str] = []
    config = PPOConfig(env_options=SUDOKU4, total_timesteps=384, eval_every=128, **TINY)
    result = train(config, out, echo=lines.append)
    assert lines[0] == f"resuming {out} at step 256"
    assert result.timesteps >= 384 and read_card(out / "model.zip").timesteps == result.timesteps
    with pytest.raises(ConfigError, match="cannot resume"):
        train(PPOConfig(env_options={"size": 4}, total_timesteps=512, **TINY), out, echo=lines.append)


def test_max_minutes_stops_and_saves(tmp_path: Path) -> None:
    config = PPOConfig(env_options=SUDOKU4, total_timesteps=10**7, eval_every=0, **TINY)
    result = train(config, tmp_path / "run", max_minutes=0.05, echo=lambda line: None)
    assert result.timed_out and 0 < result.timesteps < 10**7
    assert read_card(tmp_path / "run" / "model.zip").timesteps == result.timesteps


def test_arena_rl_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    argv = [
        "rl",
        "-o",
        "size=4",
        "-o",
        "mask_conflicts=true",
        "--total-timesteps",
        "128",
        "--num-envs",
        "8",
        "-s",
        "n_steps=16",
        "-s",
        "batch_size=64",
        "-s",
        "net_arch=32x32",
        "-s",
        "eval_puzzles=5",
        "--out",
        str(out),
    ]
    assert arena_main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["timesteps"] == 128 and printed["eval_puzzles"] == 5
    assert read_card(out / "model.zip").net_arch == (32, 32)
    assert arena_main(["rl", "--env", "arena/SudokuExtreme-v0", "--out", str(tmp_path / "x")]) == 2
    assert "not a step env" in capsys.readouterr().err


def test_sb3_agent_through_the_harness(tiny_run: Path, tmp_path: Path) -> None:
    """sb3:PATH runs in `arena eval` like any agent: one candidate per sample, stored and judged."""
    argv = [
        "eval",
        "--env",
        "arena/SudokuExtreme-v0",
        "-o",
        "size=4",
        "--agent",
        f"sb3:{tiny_run}",
        "-k",
        "2",
        "--limit",
        "12",
        "--db",
        str(tmp_path / "db.sqlite"),
        "--out",
        str(tmp_path / "s"),
        "--json",
        "--no-progress",
    ]
    assert arena_main(argv) == 0
    summary = json.loads(next((tmp_path / "s").glob("*.json")).read_text())
    assert summary["n_puzzles"] == 12 and summary["k"] == 2 and summary["agent_kind"] == "rl"


def test_rollouts_never_take_a_masked_action(tiny_run: Path) -> None:
    """Even a policy that prefers masked actions above all only ever takes legal ones."""
    agent = make_agent(f"sb3:{tiny_run},sampling=sample")
    with torch.no_grad():
        agent.policy.action_net.bias.copy_(torch.linspace(10, -10, agent.policy.action_net.bias.numel()))
    env = gym.make_vec("arena/SudokuExtremeStep-v0", num_envs=16, vectorization_mode="vector_entry_point", **SUDOKU4)
    runner = PolicyRunner(agent.policy, "arena/SudokuExtremeStep-v0", SUDOKU4)
    obs, _ = env.reset(seed=0)
    for _ in range(5):
        masks = env.action_masks()
        actions = runner._actions(obs, masks, [np.random.default_rng(i) for i in range(16)])
        live = np.flatnonzero(masks.any(axis=1))  # an ended episode has no legal action (its action is ignored)
        assert masks[live, actions[live]].all()
        obs, *_ = env.step(actions)


def test_answers_are_seeded_per_puzzle_and_sample(tiny_run: Path) -> None:
    puzzles = make_puzzle_set("arena/SudokuExtreme-v0", split="test", size=4).puzzles[:6]
    agent = make_agent(f"sb3:{tiny_run},sampling=sample,seed=3")
    full = agent.act(puzzles, 3)
    alone = agent.act(puzzles[4:5], 3)
    again = make_agent(f"sb3:{tiny_run},sampling=sample,seed=3").act(puzzles, 3)
    for a, b in zip(full[4], alone[0]):
        assert (a.answer is None) == (b.answer is None) and a.extras == b.extras
        if a.answer is not None:
            np.testing.assert_array_equal(a.answer, b.answer)
    assert [[c.extras for c in row] for row in full] == [[c.extras for c in row] for row in again]
    for row in full:
        for c in row:
            assert 0.0 <= c.q <= 1.0 and c.cost.steps >= 1
            assert (c.answer is None) == ("reason" in c.extras)


def test_bad_checkpoints_are_one_clear_error(tiny_run: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no policy checkpoint"):
        make_agent(f"sb3:{tmp_path / 'missing.zip'}")
    broken = tmp_path / "broken.zip"
    broken.write_bytes((tiny_run / "model.zip").read_bytes()[:500])
    with pytest.raises(ConfigError, match="not a readable policy checkpoint"):
        make_agent(f"sb3:{broken}")
    foreign = tmp_path / "foreign.zip"
    with zipfile.ZipFile(tiny_run / "model.zip") as src, zipfile.ZipFile(foreign, "w") as dst:
        for name in src.namelist():
            if name != "arena.json":
                dst.writestr(name, src.read(name))
    with pytest.raises(ConfigError, match="not written by `arena rl`"):
        make_agent(f"sb3:{foreign}")
    mismatched = tmp_path / "mismatched.zip"
    with zipfile.ZipFile(tiny_run / "model.zip") as src, zipfile.ZipFile(mismatched, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "arena.json":
                card = json.loads(data)
                card["net_arch"] = [64]
                data = json.dumps(card).encode()
            dst.writestr(name, data)
    with pytest.raises(ConfigError, match="do not fit"):
        make_agent(f"sb3:{mismatched}")


def test_arena_rl_with_a_curriculum(tmp_path: Path) -> None:
    """--curriculum trains on one SyncVectorEnv of curriculum envs sharing one Curriculum; the progress line and
    progress.csv report its level."""
    lines: list[str] = []
    config = PPOConfig(env_id="arena/MazeHardStep-v0", env_options={"size": 6}, total_timesteps=256, eval_every=0,
                       curriculum="target=0.6,window=20", **TINY)  # fmt: skip
    result = train(config, tmp_path / "run", echo=lines.append)
    assert result.timesteps >= 256
    assert all(" level " in line for line in lines if line.startswith("steps "))
    assert "curriculum/level" in (tmp_path / "run" / "progress.csv").read_text().splitlines()[0]
