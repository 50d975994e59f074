#!/usr/bin/env bash
# ebee count vs libbpf-tools' syscount and bpftrace on the same getppid() storm, side by side in
# one run of the peers' harness (../shared/peers/overhead.py, beside this repository).
# Usage: bench/count/run.sh [N] [REPS]     Results: bench/results/count-*.json and the console.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
peers=${PEERS:-$root/../shared/peers}
[ -x "$peers/overhead.py" ] || { echo "bench: peers harness not found at $peers" >&2; exit 1; }
n=${1:-2000000}
reps=${2:-8}
mkdir -p "$root/bench/results"
make -C "$root" -s all
# Both count every syscall by syscall id; the harness sums the getppid row of each at exit.
exec "$peers/overhead.py" --workload syscall --n "$n" --reps "$reps" \
	--out "$root/bench/results/count-$(date -u +%Y%m%dT%H%M%SZ).json" \
	--tracer syscount \
	--tracer bt-syscount \
	--tracer "$root/build/ebee count --all --by syscall --top 0" --label ebee-count \
	--sum '^\s*getppid\s+(\d+)' \
	--tracer "$root/build/ebee count --all --by uid,syscall --top 0" --label ebee-count-uid \
	--sum '^\s*\d+\s+\S+\s+getppid\s+(\d+)'
