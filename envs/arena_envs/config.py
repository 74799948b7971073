"""Dataclass configs that reject unknown keys with a message saying what is allowed."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def parse_pairs(items: Sequence[str], flag: str = "--env-option") -> dict[str, Any]:
    """``KEY=VALUE`` command-line items as a dict of parsed values (``flag`` names the option in the error)."""
    options: dict[str, Any] = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise ConfigError(f"{flag} expects KEY=VALUE, got {item!r}")
        options[key.strip()] = parse_value(value.strip())
    return options


def parse_value(text: str) -> Any:
    """A command-line option value: bool, None, int, float, else the string itself."""
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


class ConfigError(ValueError):
    """A user-supplied configuration is invalid; the message says how to fix it."""


def build_config(cls: type[T], values: Mapping[str, Any], *, what: str | None = None) -> T:
    """Instantiate the dataclass ``cls`` from ``values``, naming unknown keys and the known ones."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    known = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(values) - known)
    label = what or cls.__name__
    if unknown:
        raise ConfigError(f"{label}: unknown option(s) {unknown}; known options are {sorted(known)}")
    try:
        return cls(**dict(values))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{label}: {exc}") from exc


class DataError(ValueError):
    """Puzzle data could not be found or parsed; the message says what to do."""
