"""Rows for RL on language models: per puzzle, the LLM agent's prompt and what finds the puzzle again.

``arena export`` writes these rows to disk and ``rl/grpo.py`` trains on them; the reward is
:func:`arena_envs.rewards.verifier_reward` built with the rows' ``env_id``, ``split`` and ``data_options``. Columns:

* ``prompt``: TRL's conversational form, the messages ``llm:NAME,base_url=...`` sends for the puzzle
  (:func:`~arena_agents.llm.agent.request_messages`: system messages, then the puzzle as the user message);
* ``prompt_text``: the same messages' contents joined by blank lines, for models without a chat template;
* ``puzzle_id``: the reward's key to the puzzle (TRL passes dataset columns to reward functions);
* ``env_id``, ``family``, ``split``, ``data_options`` (JSON text, so every row has one column type) and
  ``fingerprint``: the split to reload (``make_puzzle_set(env_id, split, **json.loads(data_options))``), and the
  check that it is the same data.
"""

from __future__ import annotations

import json
from typing import Any

from arena_envs.config import ConfigError
from arena_envs.protocol import PuzzleSet

COLUMNS = ("prompt", "prompt_text", "puzzle_id", "env_id", "family", "split", "data_options", "fingerprint")


def load_split(env_id: str, split: str, data_options: dict[str, Any]) -> PuzzleSet:
    """The puzzle set the rows of (env_id, split, data options) come from; one ConfigError for bad options."""
    from arena_envs.registry import make_puzzle_set

    try:
        json.dumps(data_options)
    except TypeError as exc:
        raise ConfigError(f"data options must be JSON values (numbers, strings, booleans), got {data_options}") from exc
    return make_puzzle_set(env_id, split=split, **data_options)


def puzzle_rows(
    puzzle_set: PuzzleSet, split: str, data_options: dict[str, Any], limit: int | None = None
) -> list[dict[str, Any]]:
    """One row per puzzle of ``puzzle_set`` (the first ``limit``), in the split's order.

    Args:
        puzzle_set: the loaded split.
        split: the split as requested (ARC's ``train`` loads ``training``; the requested name reloads it).
        data_options: the options that selected the split (``size``, ``data``, ``count``, ...), without ``split``.
        limit: only the first ``limit`` puzzles (None: all).
    """
    from arena_agents.llm.agent import request_messages

    if limit is not None and limit < 1:
        raise ConfigError(f"limit must be >= 1, got {limit}")
    puzzles = list(puzzle_set.puzzles[:limit] if limit is not None else puzzle_set.puzzles)
    options = json.dumps(data_options, sort_keys=True)
    rows = []
    for puzzle, messages in zip(puzzles, request_messages(puzzles)):
        rows.append(
            {
                "prompt": messages,
                "prompt_text": "\n\n".join(m["content"] for m in messages),
                "puzzle_id": puzzle.id,
                "env_id": puzzle_set.env_id,
                "family": puzzle.family,
                "split": split,
                "data_options": options,
                "fingerprint": puzzle_set.fingerprint,
            }
        )
    return rows
