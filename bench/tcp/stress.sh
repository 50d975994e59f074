#!/usr/bin/env bash
# The TCP tests N times in a row (default 20) under two CPU hogs, no reruns: the check that the
# transitions once missing under load (a client's FIN_WAIT1 -> FIN_WAIT2 -> CLOSE) stay found.
#   bench/tcp/stress.sh [N] [BINARY]      (not in CI: several minutes)
# Prints one line per run and a last line "tcp stress: N runs, N passed, N failed"; the log of
# a failed run is kept in build/tcp-stress/run-I.log.
set -uo pipefail
cd "$(dirname "$0")/../.."
n=${1:-20}
bin=${2:-$PWD/build/ebee}
out=build/tcp-stress
mkdir -p "$out"
hogs=()
for _ in 1 2; do
	( while :; do :; done ) &
	hogs+=($!)
done
trap 'kill "${hogs[@]}" 2>/dev/null' EXIT
echo "tcp stress: $n runs of tests/integration/test_tcp.py with 2 CPU hogs ($(nproc) CPUs), $(uname -r)"
ok=0 bad=0
for i in $(seq 1 "$n"); do
	t0=$(date +%s)
	EBEE="$bin" /usr/bin/python3 -m pytest -q -p no:cacheprovider -rs tests/integration/test_tcp.py \
		>"$out/run-$i.log" 2>&1
	rc=$?
	last=$(grep -E '(passed|failed|error)' "$out/run-$i.log" | tail -1)
	printf 'run %2d: rc=%d %ss load %s  %s\n' "$i" "$rc" "$(($(date +%s) - t0))" \
		"$(cut -d' ' -f1 /proc/loadavg)" "$last"
	# a skip names the kernel's cause: keep it in the record
	grep -E '^SKIPPED' "$out/run-$i.log" | sed 's/^/        /'
	if [ "$rc" -eq 0 ]; then ok=$((ok + 1)); rm -f "$out/run-$i.log"; else bad=$((bad + 1)); fi
done
echo "tcp stress: $n runs, $ok passed, $bad failed"
[ "$bad" -eq 0 ]
