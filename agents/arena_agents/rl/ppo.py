"""MaskablePPO (sb3-contrib) on an arena step env: ``arena rl``.

Laid out like cleanrl's ``ppo.py``: the config (a docstring under each field), ``make_env``, then the loop,
which is SB3's ``learn`` with one callback doing the arena's part every rollout (progress line, wall-time
limit, evaluation judged by the env's verifier, checkpoints).

Data flow, per rollout of ``n_steps`` x ``num_envs`` env steps:

    obs [N, H, W] int8 --OneHotBoard--> [N, H*W*V] --MLP--> masked logits [N, A], value [N]
    action ~ Categorical(logits masked by env.action_masks())   (a masked action is never sampled)
    the env's dense rule reward (+1/B per valid placement, +1 solved, ...; see docs/rl.md)
    then ``n_epochs`` passes of clipped-surrogate PPO over minibatches of ``batch_size``

Run directory (``--out``): ``model.zip`` (the latest policy; ``MaskablePPO.load`` opens it, ``sb3:PATH`` reads it
without unpickling), ``checkpoints/model_<steps>.zip``, ``progress.csv`` (SB3's ``rollout/``, ``train/`` and
``time/`` metrics), ``eval.jsonl`` (one line per verifier evaluation), ``config.json``. An existing run resumes:
the weights, optimiser state and step count come back; the env state and the rollout buffer start afresh.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from sb3_contrib import MaskablePPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import configure
from stable_baselines3.common.vec_env import VecMonitor

from arena_agents.rl.policy import add_card, card_for, policy_kwargs, read_card
from arena_agents.rl.vec_env import GymnasiumVecEnv
from arena_envs.config import ConfigError
from arena_envs.registry import TASKS

VECTORIZATION = ("native", "sync")


@dataclass(frozen=True)
class PPOConfig:
    env_id: str = "arena/SudokuExtremeStep-v0"
    """A step env (``arena envs`` marks them ``step``)."""
    env_options: dict[str, Any] = field(default_factory=dict)
    """The env's options (``size``, ``data``, ``mask_conflicts``, difficulty bands, ...); training uses its
    ``train`` split, evaluation the ``test`` split of the same data."""
    num_envs: int = 128
    """Boards stepped side by side."""
    vectorization: str = "native"
    """``native``: the family's compiled vector env (Sudoku, Maze); ``sync``: Gymnasium's SyncVectorEnv of
    single envs (any step env; what a curriculum uses)."""
    total_timesteps: int = 200_000
    """Env steps to train for (all boards together)."""
    n_steps: int = 32
    """Steps per board per rollout (a rollout is ``n_steps * num_envs`` transitions)."""
    batch_size: int = 1024
    """Minibatch size of the PPO update."""
    n_epochs: int = 4
    """Passes over each rollout."""
    learning_rate: float = 1e-3
    """The recipe measured in docs/rl.md (128 boards, 32 steps, minibatch 1,024, 1e-3) is the default."""
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_range: float = 0.2
    ent_coef: float = 0.01
    """Entropy bonus: keeps the masked policy exploring early on."""
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    net_arch: tuple[int, ...] = (256, 256)
    """Hidden widths of the actor and critic MLPs (on the one-hot board)."""
    seed: int = 0
    device: str = "cpu"
    """``cpu`` or ``cuda`` (small MLPs are usually fastest on the CPU)."""
    eval_every: int = 50_000
    """Env steps between verifier evaluations (and checkpoints); 0 = only at the end."""
    eval_puzzles: int = 200
    """Held-out test puzzles per evaluation (greedy policy, judged by the env's verifier)."""
    curriculum: str | None = None
    """A curriculum spec (docs/rl-curricula.md), e.g. ``target=0.7``; implies ``vectorization=sync``."""

    def __post_init__(self) -> None:
        if self.env_id not in TASKS:
            raise ConfigError(f"unknown env {self.env_id!r}; step envs: {', '.join(step_env_ids())}")
        if TASKS[self.env_id].mode != "step":
            raise ConfigError(f"{self.env_id} is not a step env; RL trains on: {', '.join(step_env_ids())}")
        if self.vectorization not in VECTORIZATION:
            raise ConfigError(f"vectorization must be one of {VECTORIZATION}, got {self.vectorization!r}")
        for name in ("num_envs", "total_timesteps", "n_steps", "batch_size", "n_epochs", "eval_puzzles"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.eval_every < 0:
            raise ConfigError(f"eval_every must be >= 0, got {self.eval_every}")
        if not self.net_arch or any(int(w) < 1 or int(w) > 65_536 for w in self.net_arch):
            raise ConfigError(f"net_arch must be 1 to 65,536 units per layer, got {self.net_arch}")
        if not (0 < self.learning_rate < 1 and 0 < self.gamma <= 1 and 0 <= self.gae_lambda <= 1):
            raise ConfigError("learning_rate must be in (0, 1), gamma in (0, 1], gae_lambda in [0, 1]")

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["net_arch"] = list(self.net_arch)
        return data


def settings_help() -> str:
    """Every ``-s`` key of ``arena rl`` with its default and the line that documents it."""
    import ast
    import inspect

    source = ast.parse(inspect.getsource(PPOConfig))
    body = source.body[0].body
    docs: dict[str, str] = {}
    for node, after in itertools.pairwise(body):
        if isinstance(node, ast.AnnAssign) and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
            docs[node.target.id] = " ".join(str(after.value.value).replace("``", "`").split())
    lines = ["settings (-s KEY=VALUE), defaults in brackets:"]
    for f in dataclasses.fields(PPOConfig):
        if f.name in ("env_id", "env_options"):
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        lines.append(f"  {f.name} [{default!r}]" + (f": {docs[f.name]}" if f.name in docs else ""))
    return "\n".join(lines)


def step_env_ids() -> list[str]:
    return sorted(env_id for env_id, spec in TASKS.items() if spec.mode == "step")


def make_env(config: PPOConfig, split: str) -> GymnasiumVecEnv:
    """The training boards as an SB3 VecEnv (sub-envs reset in the same step, as SB3 expects)."""
    options = {**config.env_options, "split": split}
    curriculum = None
    if config.curriculum is not None:
        from arena_envs.curriculum import Curriculum, make_curriculum_env

        curriculum = Curriculum.from_spec(config.curriculum, env_id=config.env_id, **options)
        thunks = [make_curriculum_env(config.env_id, curriculum, **options) for _ in range(config.num_envs)]
        vector = gym.vector.SyncVectorEnv(thunks, autoreset_mode=AutoresetMode.SAME_STEP)
    elif config.vectorization == "native":
        if gym.spec(config.env_id).vector_entry_point is None:
            raise ConfigError(f"{config.env_id} has no native vector env; use -s vectorization=sync")
        vector = gym.make_vec(
            config.env_id,
            num_envs=config.num_envs,
            vectorization_mode="vector_entry_point",
            autoreset_mode=AutoresetMode.SAME_STEP,
            **options,
        )
    else:
        vector = gym.make_vec(
            config.env_id,
            num_envs=config.num_envs,
            vectorization_mode="sync",
            vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP},
            **options,
        )
    env = GymnasiumVecEnv(vector)
    env.curriculum = curriculum  # the progress line reports its level (None without a curriculum)
    env.seed(config.seed)
    return VecMonitor(env, info_keywords=("is_success",))


def build_model(config: PPOConfig, env: Any, log_dir: Path) -> MaskablePPO:
    model = MaskablePPO(
        "MlpPolicy",
        env,
        learning_rate=config.learning_rate,
        n_steps=config.n_steps,
        batch_size=config.batch_size,
        n_epochs=config.n_epochs,
        gamma=config.gamma,
        gae_lambda=config.gae_lambda,
        clip_range=config.clip_range,
        ent_coef=config.ent_coef,
        vf_coef=config.vf_coef,
        max_grad_norm=config.max_grad_norm,
        policy_kwargs=policy_kwargs(config.net_arch),
        seed=config.seed,
        device=config.device,
        verbose=0,
    )
    formats = ["csv"]
    try:
        import tensorboard  # noqa: F401

        formats.append("tensorboard")
    except ImportError:
        pass
    model.set_logger(configure(str(log_dir), formats))
    return model


def save_model(model: MaskablePPO, config: PPOConfig, path: Path) -> None:
    """Write ``path`` atomically: SB3's zip plus ``arena.json``, renamed into place only when complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".partial.zip")
    model.save(tmp)
    card = card_for(
        config.env_id,
        config.env_options,
        model.observation_space,
        model.action_space,
        config.net_arch,
        model.num_timesteps,
        config.seed,
        config.to_json(),
    )
    add_card(tmp, card)
    os.replace(tmp, path)


@dataclass
class EvalRecord:
    timesteps: int
    solved: int
    answered: int
    puzzles: int
    seconds: float

    @property
    def solve_rate(self) -> float:
        return self.solved / self.puzzles


class ArenaCallback(BaseCallback):
    """Every rollout: a progress line, the wall-time limit, and every ``eval_every`` steps a verifier evaluation
    and a checkpoint. Stopping for time is SB3's way: ``_on_step`` returns False."""

    def __init__(self, config: PPOConfig, out: Path, deadline: float | None, evaluate: Callable[[], EvalRecord],
                 echo: Callable[[str], None]) -> None:  # fmt: skip
        super().__init__()
        self.config, self.out, self.deadline, self.evaluate, self.echo = config, out, deadline, evaluate, echo
        self.next_eval = config.eval_every or math.inf
        self.started = time.monotonic()
        self.steps_at_start = 0
        self.timed_out = False
        self.last_eval: EvalRecord | None = None

    def _on_training_start(self) -> None:
        self.steps_at_start = self.model.num_timesteps
        while self.next_eval <= self.steps_at_start:
            self.next_eval += self.config.eval_every

    def _on_step(self) -> bool:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            self.timed_out = True
            return False
        return True

    def _on_rollout_end(self) -> None:
        steps = self.model.num_timesteps
        fps = (steps - self.steps_at_start) / max(time.monotonic() - self.started, 1e-9)
        buffer = self.model.ep_info_buffer or []
        ret = np.mean([e["r"] for e in buffer]) if buffer else float("nan")
        solved = np.mean([float(e.get("is_success", 0.0)) for e in buffer]) if buffer else float("nan")
        line = f"steps {steps:,}/{self.config.total_timesteps:,}  {fps:,.0f} steps/s  return {ret:.3f}"
        line += f"  solved (last 100 episodes) {solved:.2f}"
        curriculum = getattr(getattr(self.training_env, "venv", None), "curriculum", None)
        if curriculum is not None:
            self.logger.record("curriculum/level", curriculum.level)
            line += f"  level {curriculum.level + 1}/{len(curriculum.levels)}"
        if steps >= self.next_eval:
            while self.next_eval <= steps:
                self.next_eval += self.config.eval_every
            record = self.run_eval()
            line += f"  eval {record.solved}/{record.puzzles}"
            save_model(self.model, self.config, self.out / "checkpoints" / f"model_{steps}.zip")
            save_model(self.model, self.config, self.out / "model.zip")
        self.echo(line)

    def run_eval(self) -> EvalRecord:
        record = self.evaluate()
        self.last_eval = record
        self.logger.record("eval/solve_rate", record.solve_rate)
        self.logger.record("eval/answered", record.answered / record.puzzles)
        with open(self.out / "eval.jsonl", "a") as fh:
            fh.write(json.dumps({**dataclasses.asdict(record), "solve_rate": record.solve_rate}) + "\n")
        return record


def evaluator(config: PPOConfig, model: MaskablePPO) -> Callable[[], EvalRecord]:
    """The current greedy policy on the first ``eval_puzzles`` test puzzles, each answer judged by the verifier."""
    from arena_agents.rl.sb3_agent import PolicyRunner
    from arena_envs.registry import make_puzzle_set

    # the answer env's test split of the same data (make_puzzle_set keeps only the options that pick data)
    puzzle_set = make_puzzle_set(config.env_id, split="test", **config.env_options)
    puzzles = list(puzzle_set.puzzles[: config.eval_puzzles])
    runner = PolicyRunner(model.policy, config.env_id, config.env_options)  # model.policy is updated in place

    def evaluate() -> EvalRecord:
        started = time.monotonic()
        rollouts = runner.run([p.grid for p in puzzles], generators=None)
        answers = [board if done else None for board, done in zip(rollouts.boards, rollouts.complete)]
        verdicts = puzzle_set.verify_batch(puzzles, answers)
        solved = sum(v.ok for v in verdicts)
        return EvalRecord(model.num_timesteps, solved, int(rollouts.complete.sum()), len(puzzles),
                          time.monotonic() - started)  # fmt: skip

    return evaluate


@dataclass
class TrainResult:
    out: Path
    timesteps: int
    timed_out: bool
    last_eval: EvalRecord | None


def train(config: PPOConfig, out: str | Path, *, restart: bool = False, max_minutes: float | None = None,
          echo: Callable[[str], None] = lambda line: print(line, file=sys.stderr)) -> TrainResult:  # fmt: skip
    """Train (or resume) a run in ``out``; returns where it stopped. The policy is saved on every exit path
    that has trained anything, so a time limit or Ctrl-C never loses finished steps."""
    out = Path(out)
    deadline = None if max_minutes is None else time.monotonic() + max_minutes * 60
    resume = (out / "model.zip").exists() and not restart
    if resume:
        check_resumable(config, out / "model.zip")
    elif restart:
        for stale in ("model.zip", "eval.jsonl", "progress.csv"):
            (out / stale).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(config.to_json(), indent=2, sort_keys=True))
    env = make_env(config, "train")
    model = build_model(config, env, out)
    if resume:
        model.set_parameters(str(out / "model.zip"), exact_match=True, device=config.device)
        model.num_timesteps = read_card(out / "model.zip").timesteps
        echo(f"resuming {out} at step {model.num_timesteps:,}")
    callback = ArenaCallback(config, out, deadline, evaluator(config, model), echo)
    remaining = config.total_timesteps - model.num_timesteps
    try:
        if remaining > 0:
            model.learn(remaining, callback=callback, reset_num_timesteps=not resume)
    finally:
        save_model(model, config, out / "model.zip")
        env.close()
    if callback.last_eval is None or callback.last_eval.timesteps != model.num_timesteps:
        callback.run_eval()
        model.logger.dump(model.num_timesteps)
    record = callback.last_eval
    echo(f"eval at step {record.timesteps:,}: solved {record.solved}/{record.puzzles} held-out puzzles")
    return TrainResult(out, model.num_timesteps, callback.timed_out, record)


def check_resumable(config: PPOConfig, path: Path) -> None:
    """A run resumes only with the settings that shape its network and data."""
    card = read_card(path)
    mismatches = [
        f"{name}: run has {have!r}, asked {want!r}"
        for name, have, want in (
            ("env_id", card.env_id, config.env_id),
            ("env_options", card.env_options, config.env_options),
            ("net_arch", card.net_arch, tuple(config.net_arch)),
        )
        if have != want
    ]
    if mismatches:
        raise ConfigError(f"{path} cannot resume with these settings ({'; '.join(mismatches)}); use --restart")
