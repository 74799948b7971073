"""The GPU scripts under benchmarks/gpu/ run end to end, at toy size on the CPU, as their headers show: a device
session has minutes, so a script must not first fail there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_maze_hard_script_trains_evaluates_and_writes_its_outputs(tmp_path):
    out, run = tmp_path / "out", tmp_path / "run"
    env = {
        **os.environ,
        "OUT": str(out),
        "RUN": str(run),
        "MINUTES": "2",
        "LIMIT": "3",
        "AGENT_OPTIONS": "chains=2,max_rounds=2",
        "PYTHON": sys.executable,
    }
    toy = "-s dim=32 -s layers=1 -s loops=2 -s global_batch=4 --steps 2 -s eval_limit=2 -s eval_chains=2"
    command = ["bash", "benchmarks/gpu/maze_hard.sh", *toy.split(), "-s", "eval_max_rounds=2"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    written = {p.name for p in out.iterdir()}
    assert written >= {"train.log", "eval.log", "summary.json", "model.safetensors", "log.jsonl"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["env_id"] == "arena/MazeHard-v0" and summary["n_puzzles"] == 3
    assert summary["exact_label_at_1"] is not None  # the papers' metric is reported beside ours
    assert (out / "ldt-maze-gpu.json.gz").exists()  # the submission (a partial run: 3 of 1,000 mazes)
    # a second call resumes the run it left instead of starting over
    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "resum" in (out / "train.log").read_text().lower()
