"""The recursive models by name, and how to build one from a JSON config (checkpoints store it that way)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from torch import nn

from arena_agents.recursive.hrm import HRM, HRMConfig
from arena_agents.recursive.trm import TRM, TRMConfig
from arena_envs.config import ConfigError, build_config

MODELS: dict[str, tuple[type, type[nn.Module]]] = {"trm": (TRMConfig, TRM), "hrm": (HRMConfig, HRM)}


def model_config(kind: str, options: Mapping[str, Any]) -> Any:
    if kind not in MODELS:
        raise ConfigError(f"unknown model {kind!r}; choose one of {sorted(MODELS)}")
    try:
        return build_config(MODELS[kind][0], dict(options), what=f"model {kind!r}")
    except ValueError as exc:
        raise ConfigError(f"model {kind!r}: {exc}") from None


def build_model(kind: str, config: Any) -> nn.Module:
    return MODELS[kind][1](config)


def config_fields(kind: str) -> set[str]:
    return {f.name for f in dataclasses.fields(MODELS[kind][0])}
