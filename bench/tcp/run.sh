#!/usr/bin/env bash
# ebee tcp against libbpf-tools' tcpstates and tcplife on a loopback connect storm, side by side
# in one run of the shared peers harness (../shared/peers/overhead.py from the repo root).
#   bench/tcp/run.sh                 # N=12000 connections, the harness's default repetitions
#   N=4000 REPS=4 bench/tcp/run.sh   # quicker
#   EBEE=build/asan/ebee bench/tcp/run.sh
# Needs root, bpftool, libbpf-tools (tcpstates, tcplife). Results: table on stdout, JSON under
# bench/tcp/results/. Events are counted as output lines with the storm's port as a word.
set -euo pipefail
cd "$(dirname "$0")/../.."
# The harness lives next to the repository; from a git worktree, next to the main checkout.
peers=${PEERS:-../shared/peers}
[ -x "$peers/overhead.py" ] || peers="$(git rev-parse --git-common-dir 2>/dev/null)/../../shared/peers"
[ -x "$peers/overhead.py" ] || { echo "bench/tcp: ../shared/peers/overhead.py not found (set PEERS)" >&2; exit 1; }
ebee=$(realpath "${EBEE:-build/ebee}")
[ -x "$ebee" ] || { echo "bench/tcp: '$ebee' not built (make)" >&2; exit 1; }
n=${N:-12000}
reps=()
[ -n "${REPS:-}" ] && reps=(--reps "$REPS")
mkdir -p bench/tcp/results
word='\b{marker}\b'

# states: 5 transitions per side (client closes first) + the listener's 2;
# life: one line per closed socket; count: prints nothing per event, the SYN_SENT total at exit
# is compared with N (other processes' connects add a few).
exec "$peers/overhead.py" --workload tcp --n "$n" "${reps[@]}" --out "bench/tcp/results/tcp-$(date -u +%Y%m%dT%H%M%SZ).json" \
	--tracer tcpstates \
	--tracer tcplife \
	--tracer "$ebee tcp states" --label ebee-tcp-states --per-op 10 --extra 2 --match "$word" \
	--tracer "$ebee tcp life" --label ebee-tcp-life --per-op 2 --match "$word" \
	--tracer "$ebee tcp count --interval 3600" --label ebee-tcp-count --per-op 1 \
	--sum '^SYN_SENT\s+(\d+)' \
	"$@"
