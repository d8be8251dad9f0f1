#!/usr/bin/env bash
# The performance suite: writes docs/results/performance.md (see benchmarks/perf/__init__.py).
# Usage: bash benchmarks/run_performance.sh [--quick] [--out PATH] [--data-root CALTECH101] [--only SECTIONS]
# The full run takes about 20 minutes on a 2-core CPU; run it on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export PERF_LAUNCHER="bash benchmarks/run_performance.sh"
exec python -m benchmarks.perf "$@"
