"""Write ``data/README.md`` and ``data/SHA256SUMS`` from the generators' ``*.stats.json`` files.

python -m arena_envs.sudoku.make_data_readme
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from arena_envs.sudoku.data import BUNDLED

HERE = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Version:
    name: str
    stats: str  # the statistics files' name pattern
    command: str  # the generator's command, before the per-split arguments
    counts: tuple[tuple[str, int], ...]  # (split, puzzles)
    text: str
    tdoku: bool  # made by generator_v2 (tdoku's scale; adds the objective column)


VERSIONS = (
    Version(
        "sudoku-extreme-synth-v2",
        "{split}_v2.stats.json",
        "python -m arena_envs.sudoku.generator_v2",
        (("test", 1000), ("train", 1000)),
        """Made by `arena_envs.sudoku.generator_v2`, which searches with tdoku's rating as its objective (see its
docstring): each puzzle is an independent seeded restart (no near-duplicates), every solution is proved unique,
and each puzzle is stored in a fresh random orientation, so the `rating` column (tdoku's guesses before the
first solution, the meaning of Sudoku-Extreme's column) is an unbiased single draw. Sudoku-Extreme itself
averages about 22 on that scale with about 25% of puzzles rated 0-2. "objective" is the search's own measure of
a hard puzzle: its mean rating over 3 orientations. Load it with `-o data=bundled-v2`.""",
        True,
    ),
    Version(
        "sudoku6-synth-v1",
        "{split}_6.stats.json",
        "python -m arena_envs.sudoku.generator_v2 --profile sudoku6-synth-v1",
        (("test", 1000), ("train", 2000)),
        """The CPU tier: 6x6 boards (2x3 boxes), every puzzle climbed by generator v2 on tdoku's 6x6 scale for its
whole budget (random minimal 6x6 puzzles rate about 0.6 there). Load it with `-o size=6 -o data=bundled`.""",
        True,
    ),
    Version(
        "sudoku-extreme-synth-v1",
        "{split}.stats.json",
        "python -m arena_envs.sudoku.generator",
        (("test", 1000), ("train", 1000)),
        """Made by `arena_envs.sudoku.generator` (profile `sudoku-extreme-synth-v1`). Its `rating` column counts the
guesses of this project's simpler solver, not tdoku's; on tdoku's scale v1 averages about 3, far easier than
the original. It is what `data=bundled` loads until v2's train split is bundled; `-o data=bundled-v1` names it.""",
        False,
    ),
)


def _table(stats: list[dict], tdoku: bool) -> list[str]:
    head = "| file | puzzles | seed | sha256 | clues min/mean/max | rating mean / median / max | rated 0-2 | hard "
    rule = "|---|---|---|---|---|---|---|---|"
    if tdoku:
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
        if tdoku:
            row += f" {s['hard_objective_mean']:.1f} |"
        lines.append(row + f" {cpu['all']:.2f} / {cpu['hard']:.2f} |")
    return lines


def main() -> None:
    lines = [
        "# Bundled Sudoku splits",
        "",
        "Synthetic stand-ins for Sudoku-Extreme in the original CSV schema `source,question,answer,rating`",
        "(`.` = blank). Results on these files are recorded with their version as the source and are never mixed",
        "with results on the original data.",
        "",
    ]
    sums: list[str] = []
    for version in VERSIONS:
        paths = {split: HERE / version.stats.format(split=split) for split, _ in version.counts}
        stats = [json.loads(path.read_text()) for path in paths.values() if path.exists()]
        sums += [f"{s['sha256']}  {s['file']}\n" for s in stats]
        lines += [f"## {version.name}", "", version.text, ""]
        lines += ["Regenerate bit for bit (run from this folder; parallel across cores, resumable after a kill):", ""]
        lines.append("```bash")
        for split, count in version.counts:
            lines.append(
                f"{version.command} --split {split} --n {count} --workers 2 "
                f"--out {BUNDLED[version.name][split]} --stats {paths[split].name}"
            )
        lines += ["```", ""]
        lines += [*_table(stats, version.tdoku), ""] if stats else ["(not generated yet)", ""]
    lines += ["Then `python -m arena_envs.sudoku.make_data_readme` and `sha256sum -c SHA256SUMS`."]
    (HERE / "SHA256SUMS").write_text("".join(sums))
    (HERE / "README.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
