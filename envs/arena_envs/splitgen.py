"""Writing a generated split: puzzles made in parallel processes, saved as they finish, resumed after a kill.

Every generator of the arena makes puzzle ``index`` of a stream ``seed`` as a pure function of the two, so a
split can be made by any number of workers in any order. :func:`generate_split` hands out the indices, appends
each finished row to ``OUT.partial.jsonl`` (a killed run resumes from it), and writes the CSV atomically once
every row exists: a reader never sees half a file.
"""

from __future__ import annotations

import csv
import hashlib
import json
import multiprocessing as mp
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path


def read_partial(path: Path) -> dict[int, dict]:
    """The rows already made (by index); a line cut short by a kill is skipped and made again."""
    done: dict[int, dict] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            done[int(row["index"])] = row
    return done


def generate_split(
    out: Path,
    n: int,
    seed: int,
    work: Callable[[tuple[int, int]], dict],
    columns: Sequence[str],
    workers: int = 1,
    progress: bool = True,
) -> tuple[str, list[dict]]:
    """Write ``out``, a CSV of ``columns`` with rows ``work((seed, i))`` for i in 0..n-1; return (sha256, rows).

    ``work`` must be a picklable module-level function when ``workers > 1`` (processes are spawned)."""
    partial = out.with_name(out.name + ".partial.jsonl")
    done = read_partial(partial)
    todo = [(seed, i) for i in range(n) if i not in done]
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    with partial.open("a") as fh:
        results: Iterator[dict]
        if workers > 1 and todo:
            pool = mp.get_context("spawn").Pool(workers)
            results = pool.imap_unordered(work, todo, chunksize=1)
        else:
            pool = None
            results = map(work, todo)
        try:
            for k, row in enumerate(results, 1):
                done[row["index"]] = row
                fh.write(json.dumps(row) + "\n")
                fh.flush()
                if progress and (k % 25 == 0 or k == len(todo)):
                    rate = k / max(time.time() - t0, 1e-9)
                    print(f"{len(done)}/{n} puzzles ({rate:.2f}/s)", file=sys.stderr, flush=True)
        finally:
            if pool is not None:
                pool.close()
                pool.join()
    rows = [done[i] for i in range(n)]
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(list(columns))
        for r in rows:
            writer.writerow([r[c] for c in columns])
    os.replace(tmp, out)
    partial.unlink(missing_ok=True)
    return hashlib.sha256(out.read_bytes()).hexdigest(), rows
