#!/usr/bin/env bash
# bench/graph: ingest rate of the graph builder from a recorded event stream, memory per node
# and edge, and the live overhead of `ebee graph run` on an exec+open+connect+sendto storm.
#   bench/graph/run.sh [REPS]
# 1. record: `ebee graph run --record` while storm.py runs (its own pid and children only);
# 2. ingest: `ebee graph run --replay` of that stream repeated to >= 1 M events, pinned to one
#    core (taskset -c 1); the rate printed is events / time inside graph_ingest's loop;
# 3. memory: mem_bytes of the summary with two table sizes, divided by the difference;
# 4. overhead: storm.py alone vs under `ebee graph run` (system-wide, no filter), REPS each.
set -euo pipefail
cd "$(dirname "$0")/../.."
EBEE=${EBEE:-build/ebee}
REPS=${1:-3}
tmp=$(mktemp -d /tmp/ebee-bench-graph.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
PY=/usr/bin/python3
# ready: the tracer's fds (programs, links, maps) stopped growing for a second
ready() {
	local prev=-1 n
	while :; do
		n=$(ls /proc/$1/fdinfo 2>/dev/null | wc -l)
		[ "$n" -gt 40 ] && [ "$n" = "$prev" ] && return
		prev=$n; sleep 1
	done
}
STORM="bench/graph/storm.py 2000 20000 20000 $tmp/files 20000"

echo "== record"
mkdir -p "$tmp/files"
# the storm waits for the tracer: started stopped (SIGSTOP) and continued once attached
( kill -STOP $BASHPID; exec $PY bench/graph/storm.py 2000 20000 20000 "$tmp/files" 20000 >/dev/null ) &
sp=$!; pids+=("$sp")
"$EBEE" graph run --pid "$sp" --children --record "$tmp/stream" --json > "$tmp/rec.json" 2>"$tmp/rec.err" &
gp=$!; pids+=("$gp")
ready "$gp"
kill -CONT "$sp"; wait "$sp" || true
sleep 1; kill -TERM "$gp"; wait "$gp" || true
n=$(grep -o '"events":[0-9]*' "$tmp/rec.json" | tail -1 | cut -d: -f2)
lost=$(grep -o '"lost":[0-9]*' "$tmp/rec.json" | tail -1 | cut -d: -f2)
echo "recorded $n events (lost $lost), $(stat -c %s "$tmp/stream") bytes"

echo "== ingest (one core)"
# the stream repeated to >= 1 M events: later passes hit existing nodes/edges (counts), the
# first pass makes them
reps=$(( (1000000 + n - 1) / n ))
{ head -c 8 "$tmp/stream"; for i in $(seq "$reps"); do tail -c +9 "$tmp/stream"; done; } > "$tmp/big"
for r in $(seq "$REPS"); do
	taskset -c 1 "$EBEE" graph run --replay "$tmp/big" -v 2>&1 >/dev/null | grep replayed
done
# the first pass alone: every event new to the graph
for r in $(seq "$REPS"); do
	taskset -c 1 "$EBEE" graph run --replay "$tmp/stream" -v 2>&1 >/dev/null | grep replayed
done

echo "== memory"
m1=$("$EBEE" graph run --replay "$tmp/stream" --json --max-nodes 65536 --max-edges 131072 | grep -o '"mem_bytes":[0-9]*' | cut -d: -f2)
m2=$("$EBEE" graph run --replay "$tmp/stream" --json --max-nodes 131072 --max-edges 131072 | grep -o '"mem_bytes":[0-9]*' | cut -d: -f2)
m3=$("$EBEE" graph run --replay "$tmp/stream" --json --max-nodes 65536 --max-edges 262144 | grep -o '"mem_bytes":[0-9]*' | cut -d: -f2)
echo "default bound: $m1 bytes ($((m1 >> 20)) MB); per node $(( (m2 - m1) / 65536 )) B, per edge $(( (m3 - m1) / 131072 )) B (tables + indexes)"

echo "== live overhead (storm: 2000 execs, 20000 opens, 20000 connects, 20000 datagrams)"
base=(); traced=()
for r in $(seq "$REPS"); do
	base+=("$($PY $STORM | grep -o '[0-9.]*}' | tr -d '}')")
	"$EBEE" graph run --json > "$tmp/live.json" 2>/dev/null &
	gp=$!; pids+=("$gp")
	ready "$gp"
	traced+=("$($PY $STORM | grep -o '[0-9.]*}' | tr -d '}')")
	kill -TERM "$gp"; wait "$gp" || true
	echo "rep $r: alone ${base[-1]} s, traced ${traced[-1]} s, $(grep -o '"events":[0-9]*,"lost":[0-9]*' "$tmp/live.json")"
done
$PY - "${base[*]}" "${traced[*]}" <<'PY'
import statistics, sys
b = [float(x) for x in sys.argv[1].split()]
t = [float(x) for x in sys.argv[2].split()]
print("slowdown (median traced / median alone): %.2f" % (statistics.median(t) / statistics.median(b)))
PY
