"""Write ``data/README.md`` and ``data/SHA256SUMS`` from the generator's ``*.stats.json`` files.

python -m arena_envs.sudoku.make_data_readme
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent / "data"


def main() -> None:
    stats = [
        json.loads((HERE / f"{split}.stats.json").read_text())
        for split in ("test", "train")
        if (HERE / f"{split}.stats.json").exists()
    ]
    (HERE / "SHA256SUMS").write_text("".join(f"{s['sha256']}  {s['file']}\n" for s in stats))
    lines = [
        "# Bundled Sudoku split: sudoku-extreme-synth-v1",
        "",
        "Synthetic stand-ins for Sudoku-Extreme, made by `arena_envs.sudoku.generator` (profile",
        "`sudoku-extreme-synth-v1`) in the original CSV schema `source,question,answer,rating` (`.` = blank).",
        "Ratings are guesses of this project's DPLL solver before its first solution (see the top-level README).",
        "Results on these files are recorded with source `sudoku-extreme-synth-v1` and are never mixed with",
        "results on the original data.",
        "",
        "Regenerate bit for bit (run from this folder; parallel across cores, resumable after a kill):",
        "",
        "```bash",
        "python -m arena_envs.sudoku.generator --split test --n 1000 --workers 2 "
        "--out sudoku_extreme_synth_v1_test.csv --stats test.stats.json",
        "python -m arena_envs.sudoku.generator --split train --n 1000 --workers 2 "
        "--out sudoku_extreme_synth_v1_train.csv --stats train.stats.json",
        "python -m arena_envs.sudoku.make_data_readme",
        "sha256sum -c SHA256SUMS",
        "```",
        "",
        "| file | puzzles | seed | sha256 | clues min/mean/max | rating mean / median / max | rated 0-2 | hard "
        "| CPU s/puzzle (all / hard) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in stats:
        c, r, cpu = s["clues"], s["rating"], s["cpu_seconds_per_puzzle"]
        lines.append(
            f"| `{s['file']}` | {s['count']} | {s['seed']} | `{s['sha256'][:16]}...` | {c['min']} / {c['mean']:.1f} / "
            f"{c['max']} | {r['mean']:.1f} / {r['median']:.0f} / {r['max']} | {r['share_0_to_2']:.1%} | "
            f"{s['hard_share']:.1%} | {cpu['all']:.2f} / {cpu['hard']:.2f} |"
        )
    (HERE / "README.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[-4:]))


if __name__ == "__main__":
    main()
