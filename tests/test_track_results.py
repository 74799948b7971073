"""The README's results tables are the results files as `benchmarks/entries.py --table` prints them, and their
baseline rows are reproduced by the command beside them."""

from __future__ import annotations

import importlib.util
import json
import shlex
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _benchmark():
    spec = importlib.util.spec_from_file_location("entries_benchmark", ROOT / "benchmarks" / "entries.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_readme_shows_each_tracks_table_as_the_benchmark_prints_it():
    bench = _benchmark()
    readme = (ROOT / "README.md").read_text()
    shown = [tier for tier in bench.TIERS.values() if tier.results.exists()]
    assert {"maze10", "maze-hard"} <= {tier.name for tier in shown}
    for tier in shown:
        assert bench.table(tier, bench.load_results(tier)) in readme, tier.name


def _tiers_with_results() -> list[str]:
    return [
        name
        for name in ("sudoku6", "maze10", "sudoku", "maze-hard")
        if (ROOT / "benchmarks" / "results" / f"{name}.json").exists()
    ]


@pytest.mark.parametrize("tier_name", _tiers_with_results())
def test_the_baseline_rows_are_what_their_commands_measure(tier_name, tmp_path, monkeypatch):
    from arena_leaderboard.cli import main

    bench = _benchmark()
    tier = bench.TIERS[tier_name]
    rows = {key: row for key, row in bench.load_results(tier)["rows"].items() if row["kind"] == "baseline"}
    assert {"oracle", "random", "copy"} <= set(rows)
    monkeypatch.chdir(ROOT)
    for key, row in rows.items():
        out = tmp_path / key.replace(":", "_")
        args = shlex.split(bench.command(tier, key, row))[1:]
        assert main([*args, "--db", str(tmp_path / "r.sqlite"), "--out", str(out), "--no-progress"]) == 0
        (summary,) = [json.loads(p.read_text()) for p in out.glob("*.json")]
        for metric in ("pass_at_1", "exact_label_at_1", "coverage", "wrong", "answered"):
            assert summary[metric] == row[metric], (key, metric)


def test_every_cpu_tier_entry_trains_a_preset_of_its_own_track():
    """Regression: the 6x6 tier's entries were named after the generated-data presets (trm-sudoku6-cpu), not the
    bundled tier's (trm-sudoku6-bundled-cpu)."""
    from arena_agents.recursive.presets import PRESETS

    bench = _benchmark()
    for tier in bench.TIERS.values():
        for entry in tier.models.values():
            preset = PRESETS[entry.preset]
            assert (preset.env, dict(preset.env_options)) == (tier.env, tier.options), entry.preset
