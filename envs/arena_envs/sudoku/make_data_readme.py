"""Write ``data/README.md`` and ``data/SHA256SUMS`` from the generators' ``*.stats.json`` files.

python -m arena_envs.sudoku.make_data_readme
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent / "data"
SPLITS = ("test", "train")
#: (version, stats file name pattern, generator module): v2 first, as it is the default
VERSIONS = (
    ("sudoku-extreme-synth-v2", "{split}_v2.stats.json", "generator_v2"),
    ("sudoku-extreme-synth-v1", "{split}.stats.json", "generator"),
)

V2_TEXT = """Made by `arena_envs.sudoku.generator_v2`, which searches with tdoku's rating as its objective (see its
docstring): each puzzle is an independent seeded restart (no near-duplicates), every solution is proved unique,
and each puzzle is stored in a fresh random orientation, so the `rating` column (tdoku's guesses before the
first solution, the meaning of Sudoku-Extreme's column) is an unbiased single draw. Sudoku-Extreme itself
averages about 22 on that scale with about 25% of puzzles rated 0-2. "objective" is the search's own measure of
a hard puzzle: the mean rating over 3 orientations."""

V1_TEXT = """Made by `arena_envs.sudoku.generator` (profile `sudoku-extreme-synth-v1`). Its `rating` column counts the
guesses of this project's simpler solver, not tdoku's; on tdoku's scale v1 averages about 3, far easier than
the original. Load it with `-o data=bundled-v1`."""


def _table(stats: list[dict], v2: bool) -> list[str]:
    head = "| file | puzzles | seed | sha256 | clues min/mean/max | rating mean / median / max | rated 0-2 | hard "
    rule = "|---|---|---|---|---|---|---|---|"
    if v2:
        head += "| hard objective mean "
        rule += "---|"
    lines = [head + "| CPU s/puzzle (all / hard) |", rule + "---|"]
    for s in stats:
        c, r, cpu = s["clues"], s["rating"], s["cpu_seconds_per_puzzle"]
        row = (
            f"| `{s['file']}` | {s['count']} | {s['seed']} | `{s['sha256'][:16]}...` | {c['min']} / {c['mean']:.1f} / "
            f"{c['max']} | {r['mean']:.1f} / {r['median']:.0f} / {r['max']} | {r['share_0_to_2']:.1%} | "
            f"{s['hard_share']:.1%} |"
        )
        if v2:
            row += f" {s['hard_objective_mean']:.1f} |"
        lines.append(row + f" {cpu['all']:.2f} / {cpu['hard']:.2f} |")
    return lines


def main() -> None:
    lines = [
        "# Bundled Sudoku splits",
        "",
        "Synthetic stand-ins for Sudoku-Extreme in the original CSV schema `source,question,answer,rating`",
        "(`.` = blank). Results on these files are recorded with their version as the source and are never mixed",
        "with results on the original data. `data=bundled` (the default for 9x9) loads v2.",
        "",
    ]
    sums: list[str] = []
    for version, pattern, module in VERSIONS:
        stats = [
            json.loads((HERE / pattern.format(split=split)).read_text())
            for split in SPLITS
            if (HERE / pattern.format(split=split)).exists()
        ]
        sums += [f"{s['sha256']}  {s['file']}\n" for s in stats]
        v2 = module == "generator_v2"
        lines += [f"## {version}", "", V2_TEXT if v2 else V1_TEXT, ""]
        lines += ["Regenerate bit for bit (run from this folder; parallel across cores, resumable after a kill):", ""]
        lines.append("```bash")
        for split in SPLITS:
            name = f"sudoku_extreme_synth_{version[-2:]}_{split}.csv"
            lines.append(
                f"python -m arena_envs.sudoku.{module} --split {split} --n 1000 --workers 2 "
                f"--out {name} --stats {pattern.format(split=split)}"
            )
        lines += ["```", ""]
        lines += [*_table(stats, v2), ""]
    lines += ["Then `python -m arena_envs.sudoku.make_data_readme` and `sha256sum -c SHA256SUMS`."]
    (HERE / "SHA256SUMS").write_text("".join(sums))
    (HERE / "README.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
