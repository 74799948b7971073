"""Snowflake Sudoku: cvc5's uniqueness proofs in two encodings, and the generator's rate (CPU seconds, one core).

Baseline: the encoding the LDT paper's generator uses, one integer per cell in 1..6 and ``distinct`` per group
under QF_LIA. Ours: one-hot Booleans under QF_UF (``Cvc5Board``). Both prove the same facts about the same minimal
puzzles (each proof asks "is there a second solution?", answered no), so the answers are checked equal and only the
time differs. Then the generator itself: puzzles per CPU second over fresh indices.

    python benchmarks/bench_snowflake.py [--n 20]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from arena_envs.snowflake.generator import Cvc5Board, GeneratedSnowflake, generate
from arena_envs.snowflake.topology import DIGITS, Snowflake, snowflake


class IntegerBoard:
    """The baseline encoding: integer cells with distinct groups, QF_LIA."""

    def __init__(self, board: Snowflake) -> None:
        import cvc5

        self.tm, self.kind = cvc5.TermManager(), cvc5.Kind
        self.solver = cvc5.Solver(self.tm)
        self.solver.setLogic("QF_LIA")
        self.solver.setOption("incremental", "true")
        integer = self.tm.getIntegerSort()
        self.x = [self.tm.mkConst(integer, f"c{i}") for i in range(board.cells)]
        self.digit = [self.tm.mkInteger(d) for d in range(DIGITS + 1)]
        for v in self.x:
            self.solver.assertFormula(self.tm.mkTerm(self.kind.GEQ, v, self.digit[1]))
            self.solver.assertFormula(self.tm.mkTerm(self.kind.LEQ, v, self.digit[DIGITS]))
        for members in board.groups:
            self.solver.assertFormula(self.tm.mkTerm(self.kind.DISTINCT, *[self.x[int(c)] for c in members]))

    def unique(self, question: np.ndarray, solution: np.ndarray) -> bool:
        tm, kind = self.tm, self.kind
        self.solver.push()
        try:
            for c in np.flatnonzero(question):
                self.solver.assertFormula(tm.mkTerm(kind.EQUAL, self.x[int(c)], self.digit[int(question[c])]))
            differs = [
                tm.mkTerm(kind.DISTINCT, self.x[int(c)], self.digit[int(solution[c])])
                for c in np.flatnonzero(question == 0)
            ]
            self.solver.assertFormula(differs[0] if len(differs) == 1 else tm.mkTerm(kind.OR, *differs))
            return self.solver.checkSat().isUnsat()
        finally:
            self.solver.pop()


def timed(check: Callable[[GeneratedSnowflake], bool], puzzles: list[GeneratedSnowflake]) -> tuple[float, list[bool]]:
    started = time.process_time()
    answers = [check(p) for p in puzzles]
    return (time.process_time() - started) / len(puzzles), answers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--seed", type=int, default=424242)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "snowflake.json")
    args = parser.parse_args()
    started = time.process_time()
    puzzles = [generate(args.seed, i, (8, 8)) for i in range(args.n)]  # minimal 8-hexagon puzzles
    generation = (time.process_time() - started) / args.n
    board = snowflake(8)
    ours, baseline = Cvc5Board(board), IntegerBoard(board)
    t_ours, a_ours = timed(lambda p: ours.unique(p.question, p.solution), puzzles)
    t_base, a_base = timed(lambda p: baseline.unique(p.question, p.solution), puzzles)
    assert a_ours == a_base == [True] * args.n, "both encodings must prove every minimal puzzle unique"
    mixed_started = time.process_time()
    for i in range(args.n):
        generate(args.seed + 1, i)
    mixed = (time.process_time() - mixed_started) / args.n
    result = {
        "puzzles": args.n,
        "uniqueness_proof_seconds": {"qf_lia_integers": t_base, "qf_uf_one_hot": t_ours},
        "speedup": t_base / t_ours,
        "generation_seconds_per_puzzle": {"n=8": generation, "n=4..8": mixed},
    }
    print(json.dumps(result, indent=2))
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
