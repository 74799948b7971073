"""Puzzle Arena environments: verifiable puzzles behind one act/verify protocol.

Importing this package registers every env with Gymnasium (``gymnasium.make("arena/SudokuExtreme-v0")``).
"""

from arena_envs.config import ConfigError, DataError
from arena_envs.protocol import Agent, Candidate, Cost, Puzzle, PuzzleSet, Verdict, config_hash, stable_seed
from arena_envs.registry import TASKS, get_spec, make_puzzle_set

__all__ = [
    "TASKS",
    "Agent",
    "Candidate",
    "ConfigError",
    "Cost",
    "DataError",
    "Puzzle",
    "PuzzleSet",
    "Verdict",
    "config_hash",
    "get_spec",
    "make_puzzle_set",
    "stable_seed",
]
__version__ = "0.1.0"
