# Shared by the long-run scripts (caltech16_recipes.sh, ablation_cpu.sh, fashion_mnist_d2l.sh, ablation_caltech16.sh);
# source it.
# A script lists its runs with `plan`, then `run_plan` prints the estimated time and trains them, PARALLEL at a time
# (default 2, one OpenMP thread each: the 2-core machine). Every run is resumable: `-o Global.resume=auto` continues
# an interrupted run from its last checkpoint, and a run whose record is already published as finished is skipped,
# so re-running a script after an interruption picks up where it stopped. Each finished run's text record is
# published to $RESULTS_DIR/runs/<page>/<name>/ (`paddle-tricks publish`; default docs/results); runs and logs stay
# in $RUNS_OUT (default output/long_runs/).
# `bash <script> --estimate` prints the estimate and trains nothing. ONLY="name name ..." restricts a script to
# those runs (e.g. the ones that fit in the time a machine is left to itself); the others are left for later.
# THREADS=N gives each run N OpenMP threads (default 1), e.g. PARALLEL=1 THREADS=2 for a run too long for one thread.
# Data: $PADDLE_TRICKS_SHARED/data (default ../shared/data, the shared folder beside the repository).
# Stopping a script (kill PID, Ctrl-C, a closed terminal) stops the runs it started: each keeps its last finished
# epoch, and the same command resumes them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SHARED=${PADDLE_TRICKS_SHARED:-../shared}
PARALLEL=${PARALLEL:-2}
RUNS_OUT=${RUNS_OUT:-output/long_runs}
RESULTS_DIR=${RESULTS_DIR:-docs/results}
ONLY=${ONLY:-}
THREADS=${THREADS:-1}
P_PAGE=() P_NAME=() P_MIN=() P_ARGS=()
ESTIMATE_ONLY=0
if [ "${1:-}" = --estimate ]; then ESTIMATE_ONLY=1; fi

# plan PAGE NAME CPU_MINUTES ARG...: one run (ARG... are `paddle-tricks train` arguments, -c and -o); with ONLY
# set, a run not named in it is left out
plan() {
  if [ -n "$ONLY" ] && [[ " $ONLY " != *" $2 "* ]]; then return 0; fi
  P_PAGE+=("$1") P_NAME+=("$2") P_MIN+=("$3")
  shift 3
  P_ARGS+=("$(printf '%q ' "$@")")
}

record_finished() {  # record_finished PAGE NAME
  grep -qs '"status": "finished"' "$RESULTS_DIR/runs/$1/$2/summary.json"
}

hours() { awk -v m="$1" 'BEGIN { printf "%.1f h", m / 60 }'; }

print_estimate() {  # the estimate of the planned runs: all of them, and those still to run
  local i total=0 left=0 todo=0
  for i in "${!P_NAME[@]}"; do
    total=$(( total + P_MIN[i] ))
    if ! record_finished "${P_PAGE[i]}" "${P_NAME[i]}"; then left=$(( left + P_MIN[i] )); todo=$(( todo + 1 )); fi
  done
  echo "estimated time: ${#P_NAME[@]} runs, $(hours "$total") at 1 thread in all ($(hours $(( total / PARALLEL ))) wall with $PARALLEL parallel runs on an idle machine)"
  echo "still to run: $todo runs, about $(hours $(( left / PARALLEL ))) wall (from timed steps; each script says where and when)"
  if [ "$ESTIMATE_ONLY" = 1 ]; then exit 0; fi
}

train_and_publish() {  # train_and_publish PAGE NAME ARGS: train (resumable), then publish the record
  local page=$1 name=$2 args=$3
  local out="$RUNS_OUT/$page/$name"
  local cmd="OMP_NUM_THREADS=$THREADS python -m paddle_tricks train ${args}-o Global.output_dir=$out -o Global.resume=auto"
  mkdir -p "$RUNS_OUT/$page"
  echo "[$(date -u +%H:%M)] start $name (log: $out.log)"
  if eval "$cmd" >> "$out.log" 2>&1 &&
     python -m paddle_tricks publish "$out" --page "$page" --name "$name" --command "$cmd" \
       --results-dir "$RESULTS_DIR"; then
    echo "[$(date -u +%H:%M)] done $name"
  else
    echo "[$(date -u +%H:%M)] FAILED $name: see $out.log" >&2
    echo "$name" >> "$RUNS_OUT/$page/failed.txt"
  fi
}

descendants() {  # descendants PID: every process below PID, each parent before its children
  local child
  for child in $(ps -o pid= --ppid "$1"); do echo "$child"; descendants "$child"; done
}

stop_runs() {  # stop_runs SIGNAL CODE: stop the runs, the subshells first (so none reports its run as FAILED)
  trap - TERM INT HUP
  local pids pid waited=0
  pids=$(descendants $$) || true
  if [ -n "$pids" ]; then kill -TERM $pids 2>/dev/null || true; fi
  for pid in $pids; do  # a training stops after its current step
    while kill -0 "$pid" 2>/dev/null && (( waited < 120 )); do sleep 1; waited=$(( waited + 1 )); done
  done
  echo "[$(date -u +%H:%M)] stopped by SIG$1: the runs keep their last finished epoch; the same command resumes them" >&2
  exit "$2"
}

run_plan() {  # print the estimate, then train every run not yet published as finished, PARALLEL at a time
  local i
  print_estimate
  trap 'stop_runs TERM 143' TERM
  trap 'stop_runs INT 130' INT
  trap 'stop_runs HUP 129' HUP
  for i in "${!P_PAGE[@]}"; do rm -f "$RUNS_OUT/${P_PAGE[i]}/failed.txt"; done
  for i in "${!P_NAME[@]}"; do
    if record_finished "${P_PAGE[i]}" "${P_NAME[i]}"; then
      echo "skip ${P_NAME[i]}: $RESULTS_DIR/runs/${P_PAGE[i]}/${P_NAME[i]} is finished"
      continue
    fi
    while (( $(jobs -rp | wc -l) >= PARALLEL )); do wait -n || true; done
    train_and_publish "${P_PAGE[i]}" "${P_NAME[i]}" "${P_ARGS[i]}" &
  done
  wait
}

finish_pages() {  # finish_pages PAGE...: regenerate each page's tables from its records, say what to commit
  local page
  for page in "$@"; do
    python -m paddle_tricks report --page "$page" --results-dir "$RESULTS_DIR" || echo "the tables of $RESULTS_DIR/$page.md were not regenerated" >&2
    if [ -s "$RUNS_OUT/$page/failed.txt" ]; then
      echo "failed runs of $page (rerun this script to retry): $(sort -u "$RUNS_OUT/$page/failed.txt" | tr '\n' ' ')" >&2
    fi
    echo "to commit: git add $RESULTS_DIR/runs/$page $RESULTS_DIR/$page.md $RESULTS_DIR/${page}_*.png"
  done
}
