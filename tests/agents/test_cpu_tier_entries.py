"""The CPU tier tracks' trained entries (Sudoku 6x6 and Maze 10x10): every committed checkpoint loads, is the file
checkpoints/README.md names, is the model benchmarks/results/TRACK.json measured, and reproduces its shipped answers;
every shipped submission passes intake with the numbers of the results file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from arena_agents.registry import make_agent  # noqa: E402
from arena_envs.registry import make_puzzle_set  # noqa: E402
from arena_harness import ResultStore, RunOptions, evaluate  # noqa: E402
from arena_leaderboard.intake import reverify  # noqa: E402
from arena_leaderboard.seed import SHIPPED_ENTRIES, shipped_entries  # noqa: E402
from arena_leaderboard.submission import read_submission  # noqa: E402
from arena_leaderboard.tracks import TrackIndex  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
# track: (env, options) of its test split, as benchmarks/entries.py's TIERS has them
TRACKS = {
    "maze10": ("arena/MazeHard-v0", {"size": 10, "data": "bundled"}),
    "sudoku6": ("arena/SudokuExtreme-v0", {"size": 6, "data": "bundled"}),
}
FAMILIES = {"TRM", "PTRM", "HRM", "GRAM", "LDT"}
MAX_CHECKPOINT_BYTES = 25 * 2**20


def _rows(track: str) -> dict[str, dict]:
    path = ROOT / "benchmarks" / "results" / f"{track}.json"
    return json.loads(path.read_text())["rows"] if path.exists() else {}


ROWS = {track: _rows(track) for track in TRACKS}
MODELS = [(t, key) for t, rows in ROWS.items() for key, row in sorted(rows.items()) if row["kind"] == "recursive"]
SHIPPED = [(t, key) for t, rows in ROWS.items() for key, row in sorted(rows.items()) if row.get("entry")]


def _checkpoint(track: str, key: str) -> Path:
    return ROOT / "checkpoints" / ROWS[track][key]["preset"] / "model.safetensors"


@pytest.mark.parametrize("track", ["maze10"])
def test_every_family_has_a_trained_entry_with_a_committed_checkpoint(track):
    models = [key for t, key in MODELS if t == track]
    assert {ROWS[track][k]["label"] for k in models} == FAMILIES
    for key in models:
        path = _checkpoint(track, key)
        assert path.exists() and path.stat().st_size <= MAX_CHECKPOINT_BYTES, path
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert f"sha256 `{digest}`" in (ROOT / "checkpoints" / "README.md").read_text(), key


@pytest.mark.parametrize(("track", "key"), MODELS)
def test_a_committed_checkpoint_loads_as_the_model_that_was_measured(track, key):
    row = ROWS[track][key]
    agent = make_agent(row["agent"] + ",device=cpu")
    assert agent.parameters == row["parameters"]
    if "train_step" in agent.metadata:
        assert agent.metadata["train_step"] == row["steps"]


@pytest.mark.slow
@pytest.mark.parametrize(("track", "key"), MODELS)
def test_a_committed_checkpoint_reproduces_its_shipped_answers(track, key, tmp_path):
    """The first 10 puzzles again, through the harness: the same verdict for every candidate as the shipped entry
    (the seeds are per puzzle and sample, so a subset reproduces the whole run's candidates)."""
    row = ROWS[track][key]
    shipped = read_submission(SHIPPED_ENTRIES / row["entry"])
    env, options = TRACKS[track]
    puzzles = make_puzzle_set(env, split="test", **options)
    with ResultStore(tmp_path / "r.sqlite") as store:
        run = evaluate(puzzles, make_agent(row["agent"]), store, RunOptions(k=row["k"], limit=10, progress=False))
    again = {(r.puzzle_id, r.sample_index): r.ok for r in run.records}
    before = {(c.puzzle_id, c.sample_index): c.claimed_ok for c in shipped.candidates}
    assert len(again) == 10 * row["k"] and {key: before[key] for key in again} == again


@pytest.mark.parametrize(("track", "key"), SHIPPED)
def test_every_shipped_entry_passes_intake_with_the_measured_numbers(track, key):
    row = ROWS[track][key]
    report = reverify(read_submission(SHIPPED_ENTRIES / row["entry"]), TrackIndex())
    assert report.accepted, report.text()
    summary = report.summary
    assert summary.n_puzzles == 1000 and summary.k == row["k"]
    assert summary.pass_at_1 == row["pass_at_1"] and summary.exact_label_at_1 == row["exact_label_at_1"]
    assert summary.wrong == row["wrong"] and summary.answered == row["answered"]
    assert row["entry"].startswith(f"{track}-")


def test_no_shipped_file_is_left_without_a_results_row():
    assert {p.name for p in shipped_entries()} == {ROWS[t][k]["entry"] for t, k in SHIPPED}
