"""Named training recipes: ``arena train --preset NAME`` (``arena train --list-presets`` lists them).

The one place a recipe lives: the env and its options, the model's settings, the trainer's settings (the run's
length included) and what the recipe is known to reach. The CLI, the benchmarks and the learning tests read
them from here. Two kinds:

* ``cpu``: small recipes measured to learn on a 2-core CPU in minutes (their ``expected`` says what they reached
  and how long they took);
* ``gpu``: the published recipes at paper size (TRM, HRM, LDT on Sudoku-Extreme and Maze-Hard, from the
  papers' public code; their ``expected`` quotes the published figure, not a measurement here).

``-s KEY=VALUE`` and the CLI flags override a preset's values. This module imports no torch.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from arena_agents.recursive.families import get_family, load_object
from arena_envs.config import ConfigError

SUDOKU = "arena/SudokuExtreme-v0"
MAZE = "arena/MazeHard-v0"
HARDWARE = ("cpu", "gpu")


def _frozen(values: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    return MappingProxyType(dict(values or {}))


@dataclass(frozen=True)
class Preset:
    """One training recipe.

    name: what ``--preset`` says. family: the trainable model family (``--model``). env / env_options: the
    environment and its data options (``--env``, ``-o``). model: model-config keys; trainer: the trainer's keys,
    the run's length (``steps`` or ``epochs``) included; both are ``-s KEY=VALUE`` settings. hardware: "cpu" (learns
    in minutes on a 2-core CPU) or "gpu" (a published paper-size recipe). expected: what the recipe reaches,
    measured here or published. agent_options: the ``FAMILY:RUN,...`` options to evaluate its run with.
    """

    name: str
    family: str
    env: str
    hardware: str
    description: str
    expected: str
    env_options: Mapping[str, Any] = field(default_factory=_frozen)
    model: Mapping[str, Any] = field(default_factory=_frozen)
    trainer: Mapping[str, Any] = field(default_factory=_frozen)
    agent_options: str = ""

    def __post_init__(self) -> None:
        if self.hardware not in HARDWARE:
            raise ValueError(f"preset {self.name!r}: hardware must be one of {HARDWARE}, got {self.hardware!r}")
        overlap = sorted(set(self.model) & set(self.trainer))
        if overlap:
            raise ValueError(f"preset {self.name!r}: {overlap} are both model and trainer keys")
        for name in ("env_options", "model", "trainer"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    def settings(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The flat ``-s`` settings of the recipe (trainer and model keys), ``overrides`` replacing its values.

        An override of ``epochs`` without ``steps`` drops the preset's ``steps`` (which would otherwise win)."""
        overrides = dict(overrides or {})
        merged = {**self.trainer, **self.model}
        if "epochs" in overrides and "steps" not in overrides:
            merged.pop("steps", None)
        return {**merged, **overrides}

    def config(
        self,
        overrides: Mapping[str, Any] | None = None,
        env_options: Mapping[str, Any] | None = None,
        env: str | None = None,
    ) -> Any:
        """The family's training config for this recipe (needs torch); ``overrides`` and ``env_options``
        replace the preset's values, ``env`` its environment."""
        make_train_config = load_object(get_family(self.family, trainable=True).train_config)
        options = {**self.env_options, **dict(env_options or {})}
        return make_train_config(self.family, env or self.env, self.settings(overrides), options)

    def command(self, out: str | None = None) -> str:
        """The equivalent ``arena train`` command line without the preset."""
        parts = ["arena train", f"--model {self.family}"]
        if self.env != SUDOKU:
            parts.append(f"--env {self.env}")
        parts += [f"-o {k}={_text(v)}" for k, v in self.env_options.items()]
        parts += [f"-s {k}={_text(v)}" for k, v in self.settings().items()]
        parts.append(f"--out {out or f'runs/train/{self.name}'}")
        return " ".join(parts)


def _text(value: Any) -> str:
    return "none" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


PRESETS: dict[str, Preset] = {}


def register_preset(preset: Preset) -> None:
    """Add a preset; names are unique, its family must be trainable."""
    if preset.name in PRESETS:
        raise ValueError(f"preset {preset.name!r} is registered twice")
    get_family(preset.family, trainable=True)
    PRESETS[preset.name] = preset


def get_preset(name: str) -> Preset:
    """The preset called ``name``, or one error listing every preset (and the closest name)."""
    if name not in PRESETS:
        close = difflib.get_close_matches(name, PRESETS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(
            f"unknown preset {name!r}{hint}; choose one of {sorted(PRESETS)} (`arena train --list-presets`)"
        )
    return PRESETS[name]


def format_presets() -> str:
    """The ``arena train --list-presets`` table: name, family, env, hardware, description."""
    rows = [("preset", "family", "env", "hardware", "description")]
    for p in sorted(PRESETS.values(), key=lambda p: (p.hardware, p.family, p.name)):
        env = p.env + "".join(f" {k}={_text(v)}" for k, v in p.env_options.items())
        rows.append((p.name, p.family, env, p.hardware, p.description))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:4], widths)) + "  " + r[4] for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


# -- CPU recipes: measured to learn on a 2-core CPU ------------------------------------------------------------

# TRM-MLP at toy width (the paper's better Sudoku variant; attention with 1-D RoPE learns small Sudoku far slower)
_TRM_CPU_MODEL = {
    "mlp_mixer": True,
    "hidden": 64,
    "heads": 4,
    "n_latent": 2,
    "t_cycles": 2,
    "max_steps": 4,
    "prefix_len": 1,
}
_TRM_CPU_TRAINER = {
    "global_batch": 64,
    "lr": 3e-3,
    "lr_warmup": 100,
    "weight_decay": 0.1,
    "puzzle_emb_lr": 1e-3,
    "puzzle_emb_weight_decay": 0.1,
    "ema": 0.99,
    "log_every": 100,
}
_LDT_CPU_MODEL = {"dim": 64, "heads": 4, "layers": 2, "loops": 8}
_LDT_CPU_EVAL = {"log_every": 100, "eval_limit": 50, "eval_chains": 8, "eval_max_rounds": 50}

register_preset(
    Preset(
        name="trm-sudoku4-cpu",
        family="trm",
        env=SUDOKU,
        env_options={"size": 4, "count": 1000},
        model={**_TRM_CPU_MODEL, "mixer_hidden": 64},
        trainer={**_TRM_CPU_TRAINER, "steps": 600, "eval_every": 600, "eval_limit": 500},
        hardware="cpu",
        description="TRM-MLP, width 64, on 1,000 generated 4x4 Sudoku; about 1 minute",
        expected=(
            "99.7% of the held-out 4x4 test puzzles through trm:RUN (trainer eval 99.8%, q AUROC 1.00); "
            "about 50 s on 2 CPU cores (tests/agents/test_trm_learns.py)"
        ),
    )
)
register_preset(
    Preset(
        name="trm-sudoku6-cpu",
        family="trm",
        env=SUDOKU,
        env_options={"size": 6, "count": 2000},
        model=_TRM_CPU_MODEL,
        trainer={**_TRM_CPU_TRAINER, "steps": 1000, "eval_every": 1000, "eval_limit": 1000, "checkpoint_every": 1000},
        hardware="cpu",
        description="TRM-MLP, width 64, on 2,000 generated 6x6 Sudoku: the shipped checkpoints/trm-mlp-sudoku6-cpu",
        expected=(
            "87.3% of 1,000 held-out 6x6 puzzles (q AUROC 0.9986; PTRM sigma=1.0 on it: 98.9%); "
            "113 s of training on 2 CPU cores (benchmarks/ptrm_sudoku6.py)"
        ),
    )
)
# GRAM: the TRM-MLP recipes above with GRAM's noise heads and value head (its defaults), same data and budget
register_preset(
    Preset(
        name="gram-sudoku4-cpu",
        family="gram",
        env=SUDOKU,
        env_options={"size": 4, "count": 1000},
        model={**_TRM_CPU_MODEL, "mixer_hidden": 64},
        trainer={**_TRM_CPU_TRAINER, "steps": 600, "eval_every": 600, "eval_limit": 500},
        hardware="cpu",
        description="GRAM on the trm-sudoku4-cpu recipe (TRM-MLP, width 64, 1,000 generated 4x4 Sudoku); 1 minute",
        expected=(
            "on 300 test puzzles with k=8 samples: pass@1 0.988, best-Q@8 (value head) 0.997, vote@8 0.987, value "
            "AUROC 0.92; about 45 s on 2 CPU cores (tests/agents/test_gram_learns.py)"
        ),
    )
)
register_preset(
    Preset(
        name="gram-sudoku6-cpu",
        family="gram",
        env=SUDOKU,
        env_options={"size": 6, "count": 2000},
        model=_TRM_CPU_MODEL,
        trainer={**_TRM_CPU_TRAINER, "steps": 1000, "eval_every": 1000, "eval_limit": 1000, "checkpoint_every": 1000},
        hardware="cpu",
        description="GRAM on the trm-sudoku6-cpu recipe (the shipped TRM's data, steps and batch)",
        expected=(
            "on 1,000 test puzzles with k=16 samples: pass@1 0.870, best-Q@16 (value head) 0.921, vote@16 0.901, "
            "pass@16 0.925 (TRM 0.873; PTRM sigma=1.0 best-Q@16 0.989); 169-186 s of training on 2 CPU cores "
            "(benchmarks/gram_sudoku6.py)"
        ),
    )
)
register_preset(
    Preset(
        name="ldt-sudoku4-cpu",
        family="ldt",
        env=SUDOKU,
        env_options={"size": 4, "count": 1000},
        model=_LDT_CPU_MODEL,
        trainer={**_LDT_CPU_EVAL, "global_batch": 128, "steps": 400, "eval_every": 400, "checkpoint_every": 400},
        hardware="cpu",
        description="LDT, width 64, 2 layers, 8 loops, on 1,000 generated 4x4 Sudoku; about 2 minutes",
        expected=(
            "coverage 1.000 and 0 wrong on 299 held-out puzzles (16 chains, 100 rounds); "
            "75 s of training on 2 CPU cores (tests/agents/test_ldt_learns.py)"
        ),
        agent_options="chains=16,max_rounds=100",
    )
)
register_preset(
    Preset(
        name="ldt-snowflake4-cpu",
        family="ldt",
        env="arena/SnowflakeSudoku-v0",
        env_options={"data": "generated", "count": 1000, "hexagons_min": 4, "hexagons_max": 4},
        model=_LDT_CPU_MODEL,
        trainer={**_LDT_CPU_EVAL, "global_batch": 128, "steps": 400, "eval_every": 400, "checkpoint_every": 400},
        hardware="cpu",
        description="LDT, width 64, 2 layers, 8 loops, on 1,000 generated 4-hexagon Snowflake Sudoku, 400 steps",
        expected=(
            "not sound yet: after 400 steps the trainer's evaluation answered 100 of 100 held-out boards, 28 right "
            "(with the meeting points as group embeddings; 1 right without); a longer recipe is to be measured"
        ),
        agent_options="chains=16,max_rounds=100",
    )
)
register_preset(
    Preset(
        name="ldt-maze6-cpu",
        family="ldt",
        env=MAZE,
        env_options={"size": 6, "count": 1000},
        model=_LDT_CPU_MODEL,
        trainer={
            **_LDT_CPU_EVAL,
            "global_batch": 64,
            "steps": 1500,
            "max_solutions": 64,
            "eval_every": 1500,
            "checkpoint_every": 500,
        },
        hardware="cpu",
        description="LDT, width 64, 2 layers, 8 loops, on 1,000 generated 6x6 mazes; about 15 minutes",
        expected=(
            "coverage 1.000 and 0 wrong on 300 held-out mazes (16 chains, 100 rounds); "
            "about 15 minutes of training on 2 CPU cores (tests/agents/test_ldt_learns.py)"
        ),
        agent_options="chains=16,max_rounds=100",
    )
)

# -- The CPU tier maze track: the bundled 10x10 split (1,000 training mazes, path longer than 36 steps) ---------
# Every family trains on it within 20 minutes on 2 CPU cores; `benchmarks/entries.py --track maze10` trains each
# preset, evaluates it on the 1,000 test mazes through the harness and writes the entry the leaderboard ships.
MAZE10 = {"size": 10, "data": "bundled"}
# TRM on mazes: attention and 16 supervision steps as published for Maze-Hard; width 64, n = 2, T = 2 and one prefix
# token for CPU time; the 8 dihedral symmetries on, because 1,000 mazes are memorised without them (measured: 20%
# of training mazes exact, 0 of 200 held-out, after 800 steps)
_TRM_MAZE10_MODEL = {
    "hidden": 64,
    "heads": 4,
    "layers": 2,
    "n_latent": 2,
    "t_cycles": 2,
    "max_steps": 16,
    "prefix_len": 1,
}
_TRM_MAZE10_TRAINER = {
    **_TRM_CPU_TRAINER,
    "augment": True,
    "steps": 2000,
    "eval_every": 1000,
    "eval_limit": 200,
    "checkpoint_every": 500,
}
_MAZE10_RECIPES = {  # family: (model, trainer, description); GRAM is TRM's recipe with its heads at their defaults
    "trm": (
        _TRM_MAZE10_MODEL,
        _TRM_MAZE10_TRAINER,
        "TRM (attention, width 64) on the 1,000 bundled 10x10 training mazes",
    ),
    "hrm": (
        {"hidden": 64, "heads": 4, "h_layers": 2, "l_layers": 2, "h_cycles": 2, "l_cycles": 2, "max_steps": 16},
        {**_TRM_MAZE10_TRAINER, "ema": None},
        "HRM at width 64 (2 + 2 blocks) on the 1,000 bundled 10x10 training mazes",
    ),
    "gram": (_TRM_MAZE10_MODEL, _TRM_MAZE10_TRAINER, "GRAM on the trm-maze10-cpu recipe (same data, steps and batch)"),
}


def _register_cpu_tier(stem: str, env: str, options: Mapping[str, Any], track: str, recipes: Mapping) -> None:
    """The presets ``FAMILY-STEM`` of a CPU tier track, one per family of ``recipes`` (model, trainer, description);
    ``benchmarks/entries.py --track TRACK`` trains and measures them."""
    for family, (model, trainer, description) in recipes.items():
        register_preset(
            Preset(
                name=f"{family}-{stem}",
                family=family,
                env=env,
                env_options=options,
                model=model,
                trainer=trainer,
                hardware="cpu",
                description=f"{description}, {trainer['steps']:,} steps",
                expected=(
                    f"see benchmarks/results/{track}.json "
                    f"(python benchmarks/entries.py --track {track} --entry {family})"
                ),
            )
        )


_register_cpu_tier("maze10-cpu", MAZE, MAZE10, "maze10", _MAZE10_RECIPES)
register_preset(
    Preset(
        name="ldt-maze10-cpu",
        family="ldt",
        env=MAZE,
        env_options=MAZE10,
        model=_LDT_CPU_MODEL,
        trainer={
            **_LDT_CPU_EVAL,
            "log_every": 50,
            "eval_limit": 20,
            "global_batch": 32,
            "steps": 1500,
            "max_solutions": 64,
            "eval_every": 1200,
            "checkpoint_every": 200,
        },
        hardware="cpu",
        description="LDT, width 64, 2 layers, 8 loops, on the 1,000 bundled 10x10 training mazes, 1,500 steps",
        expected="see benchmarks/results/maze10.json (python benchmarks/entries.py --track maze10 --entry ldt)",
        agent_options="chains=4,max_rounds=24",
    )
)

# -- The CPU tier Sudoku track: the bundled hard 6x6 split (2,000 training puzzles, 2x3 boxes, tdoku mean 2.0) ----
# The shipped trm-sudoku6-cpu recipe (TRM-MLP, width 64) run for the 20-minute budget on the bundled puzzles, with
# their symmetries (digit relabelling, band and stack shuffles: a 6x6 box is not square, so no transpose); GRAM is
# the same recipe with its heads; HRM has attention only (no MLP mixer in the published model) and ACT over 8 steps.
# `benchmarks/entries.py --track sudoku6` trains each preset, evaluates it on the 1,000 test puzzles, ships the entry.
SUDOKU6 = {"size": 6, "data": "bundled"}
_SUDOKU6_TRAINER = {
    **_TRM_CPU_TRAINER,
    "augment": True,
    "eval_every": 2000,
    "eval_limit": 200,
    "checkpoint_every": 500,
}
_SUDOKU6_RECIPES = {  # family: (model, trainer, description)
    "trm": (
        _TRM_CPU_MODEL,
        {**_SUDOKU6_TRAINER, "steps": 9000},
        "TRM-MLP, width 64, on the 2,000 bundled hard 6x6 training puzzles",
    ),
    "hrm": (
        {"hidden": 64, "heads": 4, "h_layers": 2, "l_layers": 2, "h_cycles": 2, "l_cycles": 2, "max_steps": 8},
        {**_SUDOKU6_TRAINER, "ema": None, "steps": 6000},
        "HRM at width 64 (2 + 2 blocks, attention) on the 2,000 bundled hard 6x6 training puzzles",
    ),
    "gram": (
        _TRM_CPU_MODEL,
        {**_SUDOKU6_TRAINER, "steps": 6000},
        "GRAM on the trm-sudoku6-cpu recipe (TRM-MLP, width 64) on the same puzzles",
    ),
}
_register_cpu_tier("sudoku6-bundled-cpu", SUDOKU, SUDOKU6, "sudoku6", _SUDOKU6_RECIPES)
register_preset(
    Preset(
        name="ldt-sudoku6-bundled-cpu",
        family="ldt",
        env=SUDOKU,
        env_options=SUDOKU6,
        model=_LDT_CPU_MODEL,
        trainer={**_LDT_CPU_EVAL, "global_batch": 64, "steps": 3000, "eval_every": 3000, "checkpoint_every": 250},
        hardware="cpu",
        description="LDT, width 64, 2 layers, 8 loops, on the 2,000 bundled hard 6x6 training puzzles, 3,000 steps",
        expected="see benchmarks/results/sudoku6.json (python benchmarks/entries.py --track sudoku6 --entry ldt)",
        agent_options="chains=8,max_rounds=50",
    )
)

# -- GPU recipes: the published paper-size runs (1,000 training puzzles, the bundled 9x9 / 30x30 splits) -------

# TRM (SamsungSAILMontreal/TinyRecursiveModels): AdamATan2 lr 1e-4, puzzle embedding SignSGD 1e-4, weight decay
# 1.0 for both, 2,000 warmup steps then constant, EMA 0.999, global batch 768, 50,000 epochs of 1,000 puzzles.
_TRM_PAPER_MODEL = {"hidden": 512, "heads": 8, "layers": 2, "t_cycles": 3, "max_steps": 16, "prefix_len": 16}
_TRM_PAPER_TRAINER = {
    "epochs": 50_000,
    "global_batch": 768,
    "optimizer": "adam_atan2",
    "lr": 1e-4,
    "lr_warmup": 2000,
    "lr_schedule": "constant",
    "weight_decay": 1.0,
    "puzzle_emb_lr": 1e-4,
    "puzzle_emb_weight_decay": 1.0,
    "ema": 0.999,
    "halt_exploration": 0.1,
    "compile": True,
}
# HRM (sapientinc/HRM README, "Small-sample (1K)"): epochs 20,000, lr and puzzle-embedding lr 1e-4, weight decay 1.0
# for both, global batch 768, 2,000 warmup steps, cosine with lr_min_ratio 1.0 (so constant), no EMA.
_HRM_PAPER_MODEL = {
    "hidden": 512,
    "heads": 8,
    "h_layers": 4,
    "l_layers": 4,
    "h_cycles": 2,
    "l_cycles": 2,
    "max_steps": 16,
    "prefix_len": 1,
}
_HRM_PAPER_TRAINER = {
    **_TRM_PAPER_TRAINER,
    "epochs": 20_000,
    "lr_schedule": "cosine",
    "lr_min_ratio": 1.0,
    "ema": None,
}
# LDT (lcrh/lattice-deduction-transformers): AdamW lr 3e-3, betas (0.9, 0.95), weight decay 0.1, clip 1.0, 10%
# warmup then cosine to 1%; the per-family settings equal ldt_train.PRESETS (tested).
_LDT_PAPER_TRAINER = {"lr": 3e-3, "weight_decay": 0.1, "warmup_fraction": 0.1, "lr_min_ratio": 0.01, "grad_clip": 1.0}

register_preset(
    Preset(
        name="trm-sudoku-mlp-gpu",
        family="trm",
        env=SUDOKU,
        model={**_TRM_PAPER_MODEL, "mlp_mixer": True, "n_latent": 6},
        trainer=_TRM_PAPER_TRAINER,
        hardware="gpu",
        description="TRM-MLP (5.0M parameters) on Sudoku-Extreme, the published recipe (65,104 steps)",
        expected="published: 87.4% on the Sudoku-Extreme test split, 18-20 h on one L40S (not run here yet)",
    )
)
register_preset(
    Preset(
        name="trm-sudoku-att-gpu",
        family="trm",
        env=SUDOKU,
        model={**_TRM_PAPER_MODEL, "mlp_mixer": False, "n_latent": 6},
        trainer=_TRM_PAPER_TRAINER,
        hardware="gpu",
        description="TRM with attention (6.8M parameters) on Sudoku-Extreme, the published recipe",
        expected="published: 74.7% (75% +- 2) on the Sudoku-Extreme test split (not run here yet)",
    )
)
register_preset(
    Preset(
        name="trm-maze-att-gpu",
        family="trm",
        env=MAZE,
        model={**_TRM_PAPER_MODEL, "mlp_mixer": False, "n_latent": 4},
        trainer=_TRM_PAPER_TRAINER,
        hardware="gpu",
        description="TRM with attention on Maze-Hard 30x30 (900 tokens, no augmentation), the published recipe",
        expected=(
            "published: 85.3% on Maze-Hard, < 24 h on 4 L40S (torchrun); the released checkpoint scores 83.8% "
            "exact-label / 90.7% any shortest path (not run here yet)"
        ),
    )
)
register_preset(
    Preset(
        name="hrm-sudoku-gpu",
        family="hrm",
        env=SUDOKU,
        model=_HRM_PAPER_MODEL,
        trainer=_HRM_PAPER_TRAINER,
        hardware="gpu",
        description="HRM (27M parameters) on Sudoku-Extreme, the published 1K recipe (26,041 steps)",
        expected=(
            "published: 55.0% on Sudoku-Extreme, about 10 minutes on 8 GPUs; the authors advise stopping early "
            "once training accuracy nears 100% (not run here yet)"
        ),
    )
)
register_preset(
    Preset(
        name="hrm-maze-gpu",
        family="hrm",
        env=MAZE,
        model=_HRM_PAPER_MODEL,
        trainer=_HRM_PAPER_TRAINER,
        hardware="gpu",
        description="HRM (27M parameters) on Maze-Hard 30x30, the published 1K recipe",
        expected=(
            "published: 74.5% on Maze-Hard, about 1 h on 8 GPUs; the released checkpoint scores 74.4% "
            "exact-label / 81.6% any shortest path (not run here yet)"
        ),
    )
)
register_preset(
    Preset(
        name="ldt-sudoku-gpu",
        family="ldt",
        env=SUDOKU,
        model={"dim": 128, "layers": 4, "heads": 4, "loops": 16, "positions": "learned"}
        | {"keep_threshold": 0.10, "conflict_threshold": 0.6},
        trainer={
            **_LDT_PAPER_TRAINER,
            "global_batch": 512,
            "steps": 4000,
            "pool_mult": 1.0,
            "unsat_fraction": 0.25,
            "hint_fraction": 0.55,
            "max_solutions": 1,
            "checkpoint_every": 250,
        },
        hardware="gpu",
        description="LDT (799,635 parameters) on Sudoku-Extreme, the published recipe (4,000 steps)",
        expected=(
            "published: 99.96% of the full Sudoku-Extreme test split, 15 minutes on one B200 "
            "(benchmarks/gpu/ldt_sudoku.sh runs it; not run here yet)"
        ),
    )
)
register_preset(
    Preset(
        name="ldt-maze-gpu",
        family="ldt",
        env=MAZE,
        model={"dim": 192, "layers": 4, "heads": 4, "loops": 16, "positions": "rope2d"}
        | {"keep_threshold": 0.5, "conflict_threshold": 0.53},
        trainer={
            **_LDT_PAPER_TRAINER,
            "global_batch": 192,
            "steps": 20_000,
            "pool_mult": 2.0,
            "unsat_fraction": 0.0,
            "hint_fraction": 0.0,
            "max_solutions": 256,
        },
        hardware="gpu",
        description="LDT (1,783,499 parameters) on Maze-Hard 30x30, the published recipe (20,000 steps)",
        expected="published: 99.9% of Maze-Hard (not run here yet)",
    )
)

# GRAM (arXiv 2605.19376; no public code): TRM's published recipes with GRAM's heads at their defaults. The paper's
# own hyperparameters are not published, so these are the TRM settings it builds on, not a reproduction of its run.
register_preset(
    Preset(
        name="gram-sudoku-gpu",
        family="gram",
        env=SUDOKU,
        model={**_TRM_PAPER_MODEL, "mlp_mixer": True, "n_latent": 6},
        trainer=_TRM_PAPER_TRAINER,
        hardware="gpu",
        description="GRAM on TRM-MLP's published Sudoku-Extreme recipe (GRAM's own settings are unpublished)",
        expected="published: 97.0% on Sudoku-Extreme with N = 20 samples at 16 steps (not run here yet)",
        agent_options="n=20",
    )
)
register_preset(
    Preset(
        name="gram-maze-gpu",
        family="gram",
        env=MAZE,
        model={**_TRM_PAPER_MODEL, "mlp_mixer": False, "n_latent": 4},
        trainer=_TRM_PAPER_TRAINER,
        hardware="gpu",
        description="GRAM on TRM's published Maze-Hard recipe (attention, 900 tokens, no augmentation)",
        expected="no Maze-Hard figure is published for GRAM (not run here yet)",
        agent_options="n=20",
    )
)
