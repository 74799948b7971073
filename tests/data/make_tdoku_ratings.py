"""Make the fixture ``tdoku_ratings_<version>.json``: tdoku's own guess counts for every bundled puzzle.

The test ``tests/envs/test_sudoku_tdoku.py`` compares ``arena_envs.sudoku.tdoku.rating`` with these numbers, so
they must come from tdoku itself, not from our re-implementation. Run once, where tdoku's source is at hand
(https://github.com/t-dillon/tdoku, BSD-2; needs g++ and an x86 CPU with SSE4/AVX2):

    git clone https://github.com/t-dillon/tdoku /tmp/tdoku
    python tests/data/make_tdoku_ratings.py --tdoku /tmp/tdoku --version sudoku-extreme-synth-v2

A small C++ driver (written here) calls tdoku's ``TdokuSolverDpllTriadSimd(puzzle, limit=1, ...)`` on each line
and prints its ``num_guesses``: the meaning of Sudoku-Extreme's ``rating`` column.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

from arena_envs.sudoku.data import BUNDLED, bundled_path, grid_to_string, read_csv

DRIVER = r"""
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
extern "C" size_t TdokuSolverDpllTriadSimd(const char *puzzle, size_t limit, uint32_t configuration,
                                           char *solution, size_t *num_guesses);
int main() {
    char line[256];
    char solution[82];
    while (fgets(line, sizeof line, stdin)) {
        if (strlen(line) < 81) continue;
        size_t guesses = 0;
        size_t found = TdokuSolverDpllTriadSimd(line, 1, 0, solution, &guesses);
        printf("%zu %zu\n", found, guesses);
    }
    return 0;
}
"""


def build(tdoku: Path, work: Path) -> Path:
    driver, exe = work / "rate.cc", work / "rate"
    driver.write_text(DRIVER)
    sources = [tdoku / "src" / "solver_dpll_triad_simd.cc", tdoku / "src" / "util.cc"]
    command = ["g++", "-O2", "-march=native", "-std=c++17", "-o", str(exe), str(driver), *map(str, sources)]
    subprocess.run(command, check=True)
    return exe


def rate(exe: Path, questions: list[str]) -> list[int]:
    out = subprocess.run([str(exe)], input="\n".join(questions) + "\n", capture_output=True, text=True, check=True)
    ratings = []
    for question, line in zip(questions, out.stdout.splitlines(), strict=True):
        found, guesses = map(int, line.split())
        if found != 1:
            raise SystemExit(f"tdoku found no solution for {question}")
        ratings.append(guesses)
    return ratings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tdoku", type=Path, required=True, help="a checkout of t-dillon/tdoku")
    parser.add_argument("--version", choices=sorted(BUNDLED), required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        exe = build(args.tdoku, Path(tmp))
        fixture = {}
        for split in sorted(BUNDLED[args.version]):
            if not bundled_path(split, args.version).exists():
                print(f"skipping {split}: not bundled yet")
                continue
            arrays = read_csv(bundled_path(split, args.version))
            questions = [grid_to_string(q) for q in arrays.questions]
            fixture[split] = rate(exe, questions)
    out = Path(__file__).parent / f"tdoku_ratings_{args.version.removeprefix('sudoku-extreme-').replace('-', '_')}.json"
    out.write_text(json.dumps(fixture) + "\n")
    print(f"wrote {out} ({', '.join(f'{k}: {len(v)}' for k, v in fixture.items())})")


if __name__ == "__main__":
    main()
