#!/usr/bin/env bash
# ebee tcp states|life|count vs libbpf-tools' tcpstates and tcplife on the same loopback connect
# storm, side by side in one run of the peers' harness (../shared/peers/overhead.py, beside this
# repository; from a git worktree, beside the main checkout).
# Usage: bench/tcp/run.sh [N] [REPS]     Results: bench/results/tcp-*.json and the console.
# EBEE=path selects the binary (default build/ebee, built first).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
peers=${PEERS:-$root/../shared/peers}
[ -x "$peers/overhead.py" ] || peers="$(git -C "$root" rev-parse --path-format=absolute --git-common-dir 2>/dev/null)/../../shared/peers"
[ -x "$peers/overhead.py" ] || { echo "bench: peers harness not found at $root/../shared/peers (set PEERS)" >&2; exit 1; }
n=${1:-12000}
reps=${2:-12}
if [ -z "${EBEE:-}" ]; then
	make -C "$root" -s all
	EBEE=$root/build/ebee
fi
ebee=$(realpath "$EBEE")
mkdir -p "$root/bench/results"
word='\b{marker}\b'   # the storm's port as a word (not inside a timestamp's digits)
# states: 5 transitions per side (the client closes first) + the listener's 2; life: one line
# per closed socket; count: nothing per event, its SYN_SENT total at exit is compared with N
# (connects by other processes on the machine add a few).
exec "$peers/overhead.py" --workload tcp --n "$n" --reps "$reps" \
	--out "$root/bench/results/tcp-$(date -u +%Y%m%dT%H%M%SZ).json" \
	--tracer tcpstates \
	--tracer tcplife \
	--tracer "$ebee tcp states" --label ebee-tcp-states --per-op 10 --extra 2 --match "$word" \
	--tracer "$ebee tcp life" --label ebee-tcp-life --per-op 2 --match "$word" \
	--tracer "$ebee tcp count --interval 3600" --label ebee-tcp-count --per-op 1 \
	--sum '^SYN_SENT\s+(\d+)'
