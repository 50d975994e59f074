#!/usr/bin/env bash
# ebee exec / open / events --all vs libbpf-tools' execsnoop and opensnoop on the peers' exec and
# open storms, side by side in one run of the peers' harness (../shared/peers/overhead.py).
# Usage: bench/events/run.sh [exec|open|all] [N_EXEC] [N_OPEN] [REPS]
# Results: bench/results/events-*.json and the console.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
peers=${PEERS:-$root/../shared/peers}
[ -x "$peers/overhead.py" ] || { echo "bench: peers harness not found at $peers" >&2; exit 1; }
what=${1:-all}
n_exec=${2:-1500}
n_open=${3:-400000}
reps=${4:-8}
mkdir -p "$root/bench/results"
make -C "$root" -s all
ebee=$root/build/ebee
stamp=$(date -u +%Y%m%dT%H%M%SZ)
# events --all loads ~100 programs: give the harness's "loaded and stable" check more time.
if [ "$what" = exec ] || [ "$what" = all ]; then
	"$peers/overhead.py" --workload exec --n "$n_exec" --reps "$reps" --stable 1.5 \
		--out "$root/bench/results/events-exec-$stamp.json" \
		--tracer execsnoop \
		--tracer "$ebee exec" --label ebee-exec \
		--tracer "$ebee events --all" --label ebee-events-all \
		--match '"evt.type":"exec".*{marker}'
fi
if [ "$what" = open ] || [ "$what" = all ]; then
	"$peers/overhead.py" --workload open --n "$n_open" --reps "$reps" --stable 1.5 \
		--out "$root/bench/results/events-open-$stamp.json" \
		--tracer opensnoop \
		--tracer "$ebee open" --label ebee-open \
		--tracer "$ebee events --all" --label ebee-events-all \
		--match '"evt.type":"open".*{marker}'
fi
