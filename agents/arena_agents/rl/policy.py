"""The policy network of ``arena rl`` and its checkpoints.

Network: the board (int8 [H, W], values ``low..high``) is one-hot encoded per cell and flattened,
x = onehot(board) : [B, H*W*V], then SB3's actor-critic MLP (``net_arch``, tanh) gives masked action logits
[B, A] and a value [B]. One-hot, not the raw digit, because digit 7 is not "more" than digit 3.

Checkpoint: the zip ``MaskablePPO.save`` writes (so ``MaskablePPO.load`` opens it, as SB3 users expect) with one
more member, ``arena.json``: the env id and options, the spaces, the network settings and the run's progress.
``load_policy`` rebuilds the network from ``arena.json`` and reads only ``policy.pth`` with
``torch.load(weights_only=True)``; it never unpickles the zip's ``data`` member (``MaskablePPO.load`` does:
open only files you trust with it).
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from arena_envs.config import ConfigError

ARENA_MEMBER = "arena.json"
FORMAT = "puzzle-arena-sb3/1"


class OneHotBoard(BaseFeaturesExtractor):
    """int board [B, H, W] (SB3 hands it over as float) -> one-hot features [B, H*W*V], V = high - low + 1."""

    def __init__(self, observation_space: spaces.Box) -> None:
        low, high = int(observation_space.low.min()), int(observation_space.high.max())
        self.low, self.values = low, high - low + 1
        cells = int(np.prod(observation_space.shape))
        super().__init__(observation_space, features_dim=cells * self.values)

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        index = (observations.long() - self.low).clamp_(0, self.values - 1).flatten(1)  # [B, H*W]
        return nn.functional.one_hot(index, self.values).flatten(1).float()  # [B, H*W*V]


def policy_kwargs(net_arch: tuple[int, ...]) -> dict[str, Any]:
    """The ``policy_kwargs`` of every arena policy (shared by training and the safe loader)."""
    return {"net_arch": list(net_arch), "features_extractor_class": OneHotBoard, "ortho_init": True}


@dataclass(frozen=True)
class PolicyCard:
    """What ``arena.json`` records about a trained policy."""

    env_id: str  # the step env it was trained on
    env_options: dict[str, Any]  # its options (size, data, mask_conflicts, ...)
    observation_shape: tuple[int, ...]
    observation_low: int
    observation_high: int
    actions: int  # Discrete(n)
    net_arch: tuple[int, ...]
    timesteps: int  # env steps trained so far
    seed: int
    train_config: dict[str, Any]  # the PPOConfig, for the record and for resuming

    def spaces(self) -> tuple[spaces.Box, spaces.Discrete]:
        obs = spaces.Box(self.observation_low, self.observation_high, shape=self.observation_shape, dtype=np.int8)
        return obs, spaces.Discrete(self.actions)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "env_id": self.env_id,
            "env_options": self.env_options,
            "observation_shape": list(self.observation_shape),
            "observation_low": self.observation_low,
            "observation_high": self.observation_high,
            "actions": self.actions,
            "net_arch": list(self.net_arch),
            "timesteps": self.timesteps,
            "seed": self.seed,
            "train_config": self.train_config,
        }

    @staticmethod
    def from_json(data: dict[str, Any], where: str) -> PolicyCard:
        if data.get("format") != FORMAT:
            raise ConfigError(f"{where}: {ARENA_MEMBER} has format {data.get('format')!r}, expected {FORMAT!r}")
        try:
            return PolicyCard(
                env_id=str(data["env_id"]),
                env_options=dict(data["env_options"]),
                observation_shape=tuple(int(v) for v in data["observation_shape"]),
                observation_low=int(data["observation_low"]),
                observation_high=int(data["observation_high"]),
                actions=int(data["actions"]),
                net_arch=tuple(int(v) for v in data["net_arch"]),
                timesteps=int(data["timesteps"]),
                seed=int(data["seed"]),
                train_config=dict(data["train_config"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: {ARENA_MEMBER} is incomplete or malformed ({exc!r})") from None


def card_for(
    env_id: str,
    env_options: dict[str, Any],
    observation_space: spaces.Box,
    action_space: spaces.Discrete,
    net_arch: tuple[int, ...],
    timesteps: int,
    seed: int,
    train_config: dict[str, Any],
) -> PolicyCard:
    return PolicyCard(
        env_id=env_id,
        env_options=dict(env_options),
        observation_shape=tuple(observation_space.shape),
        observation_low=int(observation_space.low.min()),
        observation_high=int(observation_space.high.max()),
        actions=int(action_space.n),
        net_arch=tuple(net_arch),
        timesteps=int(timesteps),
        seed=int(seed),
        train_config=dict(train_config),
    )


def add_card(zip_path: Path, card: PolicyCard) -> None:
    """Put ``arena.json`` into an SB3 zip (SB3 ignores members it does not know)."""
    with zipfile.ZipFile(zip_path, "a") as archive:
        archive.writestr(ARENA_MEMBER, json.dumps(card.to_json(), indent=1, sort_keys=True))


def read_card(path: str | Path) -> PolicyCard:
    zip_path = Path(path)
    if not zip_path.is_file():
        raise ConfigError(f"no policy checkpoint at {zip_path}: train one with `arena rl --out DIR` (DIR/model.zip)")
    try:
        with zipfile.ZipFile(zip_path) as archive:
            if ARENA_MEMBER not in archive.namelist():
                raise ConfigError(
                    f"{zip_path} has no {ARENA_MEMBER}: it was not written by `arena rl` (an SB3 zip from elsewhere "
                    f"can be loaded with MaskablePPO.load, which unpickles it)"
                )
            data = json.loads(archive.read(ARENA_MEMBER))
    except (zipfile.BadZipFile, json.JSONDecodeError, OSError) as exc:
        raise ConfigError(f"{zip_path} is not a readable policy checkpoint ({exc}); train it again") from None
    return PolicyCard.from_json(data, str(zip_path))


def build_policy(card: PolicyCard) -> MaskableActorCriticPolicy:
    observation_space, action_space = card.spaces()
    return MaskableActorCriticPolicy(observation_space, action_space, lambda _: 0.0, **policy_kwargs(card.net_arch))


def load_policy(path: str | Path, device: torch.device | str = "cpu") -> tuple[MaskableActorCriticPolicy, PolicyCard]:
    """The policy of an ``arena rl`` checkpoint, rebuilt from its card; only tensors are read."""
    card = read_card(path)
    policy = build_policy(card)
    try:
        with zipfile.ZipFile(path) as archive:
            state = torch.load(io.BytesIO(archive.read("policy.pth")), map_location="cpu", weights_only=True)
        policy.load_state_dict(state)
    except (KeyError, RuntimeError, zipfile.BadZipFile, OSError) as exc:
        raise ConfigError(
            f"{path}: its policy weights do not fit the network its {ARENA_MEMBER} describes ({exc})"
        ) from None
    return policy.to(device).eval(), card
