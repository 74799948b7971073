"""Training recipes and the `arena train` front end: presets build valid configs, the command line overrides them,
unknown names and keys are one error listing the valid ones, `--help` lists every key with its default, and
`--max-minutes` stops within a step with a resumable checkpoint."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from arena_agents.recursive import checkpoint as ckpt  # noqa: E402
from arena_agents.recursive.families import FAMILIES, get_family, load_object, trainable_families  # noqa: E402
from arena_agents.recursive.ldt_train import PRESETS as LDT_PUBLISHED  # noqa: E402
from arena_agents.recursive.ldt_train import LDTTrainConfig  # noqa: E402
from arena_agents.recursive.ldt_train import make_train_config as ldt_train_config  # noqa: E402
from arena_agents.recursive.ldt_train import train as ldt_train  # noqa: E402
from arena_agents.recursive.models import network_class  # noqa: E402
from arena_agents.recursive.presets import PRESETS, Preset, get_preset  # noqa: E402
from arena_agents.recursive.train import TimeLimit, TrainConfig  # noqa: E402
from arena_envs.config import ConfigError, build_config  # noqa: E402
from arena_envs.registry import TASKS  # noqa: E402
from arena_harness.cli import main  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TINY_TRM = {  # a few milliseconds per step
    "hidden": 16,
    "heads": 2,
    "n_latent": 1,
    "t_cycles": 2,
    "max_steps": 3,
    "prefix_len": 2,
    "global_batch": 8,
    "eval_limit": 4,
}
SUDOKU4 = ["-o", "size=4", "-o", "count=40"]


def flags(settings: dict) -> list[str]:
    return [a for k, v in settings.items() for a in ("-s", f"{k}={v}")]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_builds_a_valid_config_for_its_family(name):
    preset = PRESETS[name]
    family = get_family(preset.family, trainable=True)
    assert preset.env in TASKS and preset.hardware in ("cpu", "gpu") and preset.description and preset.expected
    settings_class = load_object(family.train_settings)
    model_class = network_class(preset.family).config_class
    assert set(preset.trainer) <= {f.name for f in dataclasses.fields(settings_class)}
    assert set(preset.model) <= {f.name for f in dataclasses.fields(model_class)}
    build_config(model_class, dict(preset.model))  # the model keys are valid values too
    config = preset.config()  # no data is loaded
    assert isinstance(config, settings_class) and config.model == preset.family and config.env == preset.env
    assert config.env_options == dict(preset.env_options)
    assert config.model_options == dict(preset.model)
    assert all(getattr(config, k) == (tuple(v) if k == "betas" else v) for k, v in preset.trainer.items())
    assert "steps" in preset.trainer or "epochs" in preset.trainer  # the run's length is part of the recipe
    assert f"--model {preset.family}" in preset.command()


def test_every_trainable_family_has_a_cpu_or_gpu_preset_and_a_run_config_class():
    for name in trainable_families():
        assert FAMILIES[name].train_settings is not None
        assert any(p.family == name for p in PRESETS.values())
    tracks = {(p.family, p.env) for p in PRESETS.values() if p.hardware == "gpu"}
    assert tracks == {(f, env) for f in trainable_families() for env in ("arena/SudokuExtreme-v0", "arena/MazeHard-v0")}


def test_the_published_presets_are_the_codes_published_settings():
    """TRM's trainer defaults are its published Sudoku recipe; LDT's per-family settings live in ldt_train."""
    defaults = TrainConfig()
    for name in ("trm-sudoku-mlp-gpu", "trm-sudoku-att-gpu", "trm-maze-att-gpu"):
        trainer = PRESETS[name].trainer
        assert all(getattr(defaults, k) == v for k, v in trainer.items() if k != "compile"), name
        assert PRESETS[name].config().total_steps(1000) == 65_104
    assert PRESETS["hrm-sudoku-gpu"].config().total_steps(1000) == 26_041
    model_defaults = network_class("trm").config_class()
    assert all(
        getattr(model_defaults, k) == v for k, v in PRESETS["trm-sudoku-mlp-gpu"].model.items() if k != "mlp_mixer"
    )
    assert PRESETS["trm-maze-att-gpu"].model["n_latent"] == 4
    hrm_defaults = network_class("hrm").config_class()
    assert all(getattr(hrm_defaults, k) == v for k, v in PRESETS["hrm-maze-gpu"].model.items())
    for name, family in (("ldt-sudoku-gpu", "sudoku"), ("ldt-maze-gpu", "maze")):
        preset = PRESETS[name]
        assert all(preset.model[k] == v for k, v in LDT_PUBLISHED[family]["model"].items())
        assert all(preset.trainer[k] == v for k, v in LDT_PUBLISHED[family]["train"].items())
        ldt = LDTTrainConfig()
        published = LDT_PUBLISHED[family]["train"].keys() | {"checkpoint_every"}  # when to save changes nothing
        assert all(getattr(ldt, k) == v for k, v in preset.trainer.items() if k not in published)


def test_the_cpu_presets_are_the_recipes_of_the_shipped_checkpoint_and_readme():
    shipped = json.loads((ROOT / "benchmarks" / "results" / "ptrm-sudoku6.json").read_text())
    sudoku6 = PRESETS["trm-sudoku6-cpu"]
    assert sudoku6.settings() == shipped["recipe"] and dict(sudoku6.env_options) == shipped["env_options"]
    ldt4 = PRESETS["ldt-sudoku4-cpu"].settings()
    assert {k: ldt4[k] for k in ("dim", "layers", "loops", "global_batch", "steps")} == {
        "dim": 64,
        "layers": 2,
        "loops": 8,
        "global_batch": 128,
        "steps": 400,
    }


def test_settings_overrides_and_epochs_replacing_steps():
    preset = PRESETS["trm-sudoku4-cpu"]
    assert preset.settings({"lr": 1e-2})["lr"] == 1e-2 and preset.settings()["steps"] == 600
    assert "steps" not in preset.settings({"epochs": 3}) and preset.settings({"epochs": 3, "steps": 9})["steps"] == 9
    with pytest.raises(ValueError, match="both model and trainer"):
        Preset("x", "trm", "arena/SudokuExtreme-v0", "cpu", "d", "e", model={"lr": 1}, trainer={"lr": 1})
    with pytest.raises(ValueError, match="hardware"):
        Preset("x", "trm", "arena/SudokuExtreme-v0", "tpu", "d", "e")


@pytest.fixture
def captured(monkeypatch):
    """`arena train` with the trainers replaced by a stand-in that records the config it gets."""
    from arena_agents.recursive import ldt_train, train
    from arena_agents.recursive.train import TrainResult

    seen: dict = {}

    def fake(config, run_dir, *, restart=False, max_seconds=None, echo=None):
        seen.update(config=config, run_dir=str(run_dir), max_seconds=max_seconds)
        return TrainResult(Path(run_dir), 0, None, [])

    monkeypatch.setattr(train, "train", fake)
    monkeypatch.setattr(ldt_train, "train", fake)
    return seen


def test_cli_preset_applies_its_recipe_and_the_command_line_overrides_it(captured, tmp_path):
    out = str(tmp_path / "run")
    assert main(["train", "--preset", "trm-sudoku4-cpu", "-s", "lr=0.01", "--steps", "5", "-o", "count=50"]) == 0
    config = captured["config"]
    assert config.model == "trm" and config.lr == 0.01 and config.steps == 5 and config.ema == 0.99
    assert config.model_options["hidden"] == 64 and config.model_options["mlp_mixer"] is True
    assert config.env_options == {"size": 4, "count": 50} and captured["run_dir"] == "runs/train/trm-sudoku4-cpu"
    assert main(["train", "--preset", "ldt-maze6-cpu", "-s", "dim=32", "--out", out, "--max-minutes", "2"]) == 0
    config = captured["config"]
    assert config.env == "arena/MazeHard-v0" and config.model_options["dim"] == 32 and config.max_solutions == 64
    assert captured["run_dir"] == out and captured["max_seconds"] == 120
    assert main(["train", "--preset", "trm-sudoku6-cpu", "-s", "epochs=3"]) == 0
    assert captured["config"].steps is None and captured["config"].epochs == 3
    assert main(["train", "--preset", "hrm-maze-gpu", "--env", "arena/SudokuExtreme-v0", "-o", "size=4"]) == 0
    assert captured["config"].env == "arena/SudokuExtreme-v0" and captured["config"].ema is None


def test_unknown_presets_and_keys_are_one_error_listing_the_valid_ones(captured, capsys):
    assert main(["train", "--preset", "trm-sudoku4"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did you mean 'trm-sudoku4-cpu'" in err
    assert all(name in err for name in PRESETS)
    assert main(["train", "--preset", "trm-sudoku4-cpu", "--model", "ldt"]) == 2
    assert "drop --model" in capsys.readouterr().err
    assert main(["train", "--preset", "trm-sudoku4-cpu", "-s", "lrr=0.1", "-s", "hiden=3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'lrr' (did you mean 'lr'?)" in err and "'hiden' (did you mean 'hidden'?)" in err
    assert "trainer keys: " in err and "lr_warmup" in err and "model keys: " in err and "mlp_mixer" in err
    with pytest.raises(ConfigError, match=r"'dimm' \(did you mean 'dim'\?\).*eval_chains"):
        ldt_train_config("ldt", "arena/SudokuExtreme-v0", {"dimm": 3}, {})
    with pytest.raises(ConfigError, match=r"'env' \(set with --env\)"):
        ldt_train_config("ldt", "arena/SudokuExtreme-v0", {"env": "x"}, {})
    with pytest.raises(ConfigError, match="choose one of"):
        get_preset("nope")
    assert "config" not in captured  # nothing was trained


def test_help_lists_every_trainer_and_model_key_with_its_default(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for name in trainable_families():
        family = FAMILIES[name]
        for cls in (load_object(family.train_settings), network_class(name).config_class):
            for f in dataclasses.fields(cls):
                if f.name in ("model", "env", "env_options", "model_options"):
                    continue
                default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
                assert any(
                    line.split()[:2] == [f.name, repr(default).split()[0]] for line in text.splitlines() if line
                ), (cls.__name__, f.name)
    assert "--preset" in text and "trm-sudoku4-cpu" in text and "learning rate" in text


def test_list_presets(capsys):
    assert main(["train", "--list-presets"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in PRESETS) and "hardware" in out


def test_time_limit_counts_the_next_step():
    limit = TimeLimit(10.0)
    assert not limit.expired() and not limit.expired(5.0) and limit.expired(11.0)
    assert not TimeLimit(None).expired(1e9)


def test_max_minutes_stops_within_a_step_with_a_resumable_checkpoint(tmp_path, capsys):
    """A preset made tiny from the command line, a million steps, logging, evaluating and saving only every
    million: --max-minutes 0.02 (1.2 s, data included) ends it after about that time (one step on a busy
    machine), the first step is logged at once, and the same command resumes from its checkpoint."""
    run = tmp_path / "run"
    huge = {"log_every": 10**6, "eval_every": 10**6, "checkpoint_every": 10**6}
    argv = ["train", "--preset", "trm-sudoku4-cpu", *SUDOKU4, *flags({**TINY_TRM, **huge}), "--out", str(run)]
    started = time.perf_counter()
    assert main([*argv, "--steps", str(10**6), "--max-minutes", "0.02"]) == 0
    seconds = time.perf_counter() - started
    assert seconds < 30, seconds  # setup and one step on a loaded 2-core machine; a million steps take hours
    err = capsys.readouterr().err
    assert "preset trm-sudoku4-cpu" in err and "stopped by --max-minutes 0.02" in err
    step = int((run / ckpt.LATEST).read_text().strip().removeprefix("ckpt-"))
    assert 1 <= step < 10**6
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in log][:1] == [1] and log[-1]["step"] == step  # the first step at once, the last
    assert not any(e.get("eval") for e in log)  # a time stop skips the final evaluation
    weights = ckpt.load_weights(run)  # the preset's model with the command line's overrides
    assert weights.model_config["mlp_mixer"] is True and weights.model_config["hidden"] == 16
    assert main([*argv, "--steps", str(step + 2)]) == 0  # the same command, longer: resumes
    captured = capsys.readouterr()
    assert f"resumed from {run / f'ckpt-{step:08d}'} at step {step}" in captured.err
    assert (run / ckpt.LATEST).read_text().strip() == f"ckpt-{step + 2:08d}"
    assert json.loads(captured.out)["step"] == step + 2  # a finished run evaluates


def test_ldt_max_seconds_stops_within_a_step_and_resumes(tmp_path):
    options = {"dim": 16, "layers": 1, "loops": 2, "global_batch": 8, "eval_limit": 2, "eval_chains": 2}
    options |= {"eval_max_rounds": 3, "log_every": 10**6, "eval_every": 10**6, "checkpoint_every": 10**6}
    env = {"size": 4, "count": 40}
    config = ldt_train_config("ldt", "arena/SudokuExtreme-v0", {**options, "steps": 10**6}, env)
    started = time.perf_counter()
    result = ldt_train(config, tmp_path / "run", max_seconds=1.0)
    assert time.perf_counter() - started < 1.0 + 10 and 1 <= result.step < 10**6
    assert result.last_eval is None and [e["step"] for e in result.log][:1] == [1]
    resumed = ldt_train(
        ldt_train_config("ldt", "arena/SudokuExtreme-v0", {**options, "steps": result.step + 1}, env), tmp_path / "run"
    )
    assert resumed.step == result.step + 1 and resumed.last_eval is not None
