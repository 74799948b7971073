"""The recursive model families by name: the one list that the trainer, the CLI, the agent registry and the tests
read. Adding a family is one :func:`register_family` call here and its own model file; nothing else names it.

This module imports no torch (the agent registry lists every family on a base install): an entry names its
network, agent and codec by import path, loaded only when used.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from arena_agents.recursive.agent_config import (
    GRAMAgentConfig,
    LDTAgentConfig,
    PTRMAgentConfig,
    RecursiveAgentConfig,
)
from arena_envs.config import ConfigError


def load_object(path: str) -> Any:
    """The object at ``"package.module:Name"``."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class ModelFamily:
    """One recursive model family.

    name: what ``arena train --model``, the agent spec ``NAME:PATH`` and a checkpoint's ``kind`` say.
    network: ``"module:Class"`` of its :class:`~arena_agents.recursive.base.RecursiveModel` (whose
    ``config_class`` is the model config, and which owns its loss and halting rule); None for a test-time
    method over another family's checkpoints (PTRM). checkpoint_kinds: the checkpoints its agent loads
    (default: its own). codec: ``"module:function"`` mapping (puzzle family, grid shape) to the
    :class:`~arena_agents.recursive.data.Codec` that turns puzzles into model inputs. agent / agent_config:
    the agent class (``"module:Class"``, built from an agent_config) and its torch-free config dataclass.
    trainer / train_config: ``"module:function"`` of its training loop ``train(config, run_dir, *, restart,
    max_seconds, echo)`` and of ``make_train_config(model, env, options, env_options)``; None = not trainable
    (``arena train --model`` offers the families that have one). train_settings: ``"module:Class"`` of the run
    config dataclass that ``make_train_config`` returns (``arena train --help`` lists its fields). test_options:
    model settings small enough for the test suite's smoke runs.
    """

    name: str
    title: str
    description: str
    agent_config: type
    agent: str = "arena_agents.recursive.agent:RecursiveAgent"
    network: str | None = None
    checkpoint_kinds: tuple[str, ...] = ()
    codec: str = "arena_agents.recursive.data:codec_for"
    trainer: str | None = None
    train_config: str | None = None
    train_settings: str | None = None
    test_options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def trainable(self) -> bool:
        """Whether ``arena train --model NAME`` exists."""
        return self.trainer is not None

    @property
    def loads(self) -> tuple[str, ...]:
        """The checkpoint kinds this family's agent accepts."""
        return self.checkpoint_kinds or (self.name,)


FAMILIES: dict[str, ModelFamily] = {}


def register_family(family: ModelFamily) -> None:
    """Add a family; names are unique."""
    if family.name in FAMILIES:
        raise ValueError(f"model family {family.name!r} is registered twice")
    FAMILIES[family.name] = family


def get_family(name: str, *, trainable: bool = False) -> ModelFamily:
    """The family called ``name``, or one clear error listing those that exist."""
    choices = trainable_families() if trainable else sorted(FAMILIES)
    if name not in choices:
        what = "trainable model" if trainable else "model family"
        raise ConfigError(f"unknown {what} {name!r}; choose one of {choices}")
    return FAMILIES[name]


def trainable_families() -> list[str]:
    """Names of the families ``arena train`` can train, sorted."""
    return sorted(name for name, f in FAMILIES.items() if f.trainable)


def families_trained_by(trainer: str) -> list[str]:
    """Names of the families whose training loop is ``trainer`` ("module:function"), sorted."""
    return sorted(name for name, f in FAMILIES.items() if f.trainer == trainer)


# The deep-supervision trainer of TRM, HRM and any other RecursiveModel (arena_agents.recursive.train).
DEEP_SUPERVISION = "arena_agents.recursive.train:train"
DEEP_SUPERVISION_CONFIG = "arena_agents.recursive.train_config:make_train_config"
DEEP_SUPERVISION_SETTINGS = "arena_agents.recursive.train_config:TrainConfig"


register_family(
    ModelFamily(
        name="trm",
        title="Tiny Recursive Model",
        description="Tiny Recursive Model checkpoint: trm:PATH",
        agent_config=RecursiveAgentConfig,
        network="arena_agents.recursive.trm:TRM",
        trainer=DEEP_SUPERVISION,
        train_config=DEEP_SUPERVISION_CONFIG,
        train_settings=DEEP_SUPERVISION_SETTINGS,
        test_options=MappingProxyType(
            {"hidden": 16, "heads": 2, "n_latent": 1, "t_cycles": 2, "max_steps": 3, "prefix_len": 2}
        ),
    )
)
register_family(
    ModelFamily(
        name="hrm",
        title="Hierarchical Reasoning Model",
        description="Hierarchical Reasoning Model checkpoint: hrm:PATH",
        agent_config=RecursiveAgentConfig,
        network="arena_agents.recursive.hrm:HRM",
        trainer=DEEP_SUPERVISION,
        train_config=DEEP_SUPERVISION_CONFIG,
        train_settings=DEEP_SUPERVISION_SETTINGS,
        test_options=MappingProxyType(
            {"hidden": 16, "heads": 2, "h_layers": 1, "l_layers": 1, "h_cycles": 2, "l_cycles": 2, "max_steps": 3}
        ),
    )
)
register_family(
    ModelFamily(
        name="ptrm",
        title="Probabilistic TRM",
        description="Probabilistic TRM on a TRM checkpoint: ptrm:PATH,sigma=0.3 (k noisy rollouts, pick by q)",
        agent_config=PTRMAgentConfig,
        agent="arena_agents.recursive.ptrm:PTRMAgent",
        checkpoint_kinds=("trm",),
    )
)
register_family(
    ModelFamily(
        name="gram",
        title="GRAM",
        description="GRAM checkpoint (TRM with learned latent noise and a value head): gram:PATH,n=8 (pick by value)",
        agent_config=GRAMAgentConfig,
        agent="arena_agents.recursive.gram_agent:GRAMAgent",
        network="arena_agents.recursive.gram:GRAM",
        trainer=DEEP_SUPERVISION,
        train_config=DEEP_SUPERVISION_CONFIG,
        train_settings=DEEP_SUPERVISION_SETTINGS,
        test_options=MappingProxyType(
            {"hidden": 16, "heads": 2, "n_latent": 1, "t_cycles": 2, "max_steps": 3, "prefix_len": 2}
        ),
    )
)
register_family(
    ModelFamily(
        name="ldt",
        title="Lattice Deduction Transformer",
        description="Lattice Deduction Transformer checkpoint: ldt:PATH (chains, max_rounds); abstains unless solved",
        agent_config=LDTAgentConfig,
        agent="arena_agents.recursive.ldt_agent:LDTAgent",
        network="arena_agents.recursive.ldt:LDT",
        codec="arena_agents.recursive.lattice:lattice_codec_for",
        trainer="arena_agents.recursive.ldt_train:train",
        train_config="arena_agents.recursive.ldt_train:make_train_config",
        train_settings="arena_agents.recursive.ldt_train:LDTTrainConfig",
        test_options=MappingProxyType({"dim": 32, "heads": 4, "layers": 2, "loops": 4}),
    )
)
