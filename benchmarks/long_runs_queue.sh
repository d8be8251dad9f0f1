#!/usr/bin/env bash
# Every long run of the results pages, one script after the other, for a machine left to itself:
#   nohup bash benchmarks/long_runs_queue.sh > output/long_runs/queue.log 2>&1 &
# caltech16_recipes.sh (improved against tutorial recipe), ablation_cpu.sh (the toy-set ablation, re-recorded),
# fashion_mnist_d2l.sh (the d2l table), ablation_caltech16.sh (the ablation on real images). Each script resumes
# its interrupted runs and skips the finished ones, so after an interruption the same command goes on where it
# stopped. Records land in $RESULTS_DIR (default docs/results); then, per page, `paddle-tricks report --page P`,
# the notebook that shows it (`python notebooks/_build.py --execute --only 04|05`) and one commit.
# `bash benchmarks/long_runs_queue.sh --estimate` prints each script's estimate and trains nothing.
set -uo pipefail
cd "$(dirname "$0")/.."
# Stopping the queue stops the script it is in (which stops its runs); in the background, so that the trap runs
# at once rather than when that script ends.
child=""
trap 'if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null; wait "$child"; fi; exit 143' TERM INT HUP
for script in caltech16_recipes.sh ablation_cpu.sh fashion_mnist_d2l.sh ablation_caltech16.sh; do
  if [ "${1:-}" = --estimate ]; then
    echo "== $script"; bash "benchmarks/$script" --estimate; continue
  fi
  echo "[$(date -u +%H:%M)] === $script"
  bash "benchmarks/$script" & child=$!
  wait "$child" || echo "[$(date -u +%H:%M)] $script ended with exit code $?" >&2
  child=""
done
