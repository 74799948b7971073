"""Networks of the trainable families by name, and how to build one from a JSON config (checkpoints store it
that way). The names come from :mod:`arena_agents.recursive.families`; nothing here lists them."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from arena_agents.recursive.base import RecursiveModel
from arena_agents.recursive.families import get_family, load_object
from arena_envs.config import ConfigError, build_config


def network_class(kind: str) -> type[RecursiveModel]:
    """The network class of a family that has one (not a test-time method such as PTRM)."""
    family = get_family(kind)
    if family.network is None:
        raise ConfigError(f"{kind!r} has no network of its own (it runs on {', '.join(family.loads)} checkpoints)")
    return load_object(family.network)


def model_config(kind: str, options: Mapping[str, Any]) -> Any:
    """The family's config dataclass from a mapping; unknown keys and bad values give one ConfigError."""
    config_class = network_class(kind).config_class
    try:
        return build_config(config_class, dict(options), what=f"model {kind!r}")
    except ValueError as exc:
        raise ConfigError(f"model {kind!r}: {exc}") from None


def build_model(kind: str, config: Any) -> RecursiveModel:
    """A freshly initialised network of family ``kind``."""
    return network_class(kind)(config)


def config_fields(kind: str) -> set[str]:
    """The option names of a family's model config."""
    return {f.name for f in dataclasses.fields(network_class(kind).config_class)}
