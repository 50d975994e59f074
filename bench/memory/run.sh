#!/usr/bin/env bash
# Peak RSS (VmHWM, /usr/bin/time %M) of short CLI runs, and where a run's memory is (smaps).
#   bench/memory/run.sh [BINARY]
set -uo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-build/ebee}
for c in "--help" "count -d 1" "tcp states -d 1" "tcp life -d 1" "exec -d 1" "open -d 1"; do
	/usr/bin/time -f "%M" "$bin" $c >/dev/null 2>/tmp/ebee-mem.$$ || true
	printf '%-18s %6s KB peak RSS\n' "$c" "$(tail -1 /tmp/ebee-mem.$$)"
done
rm -f /tmp/ebee-mem.$$
# The biggest mappings of a running `count`, by name.
"$bin" count -d 3 >/dev/null 2>&1 &
pid=$!
sleep 2
echo "count, resident by mapping (KB):"
awk '/^[0-9a-f]+-[0-9a-f]+ /{n=$6; if(n=="")n="[anon]"} /^Rss:/{r[n]+=$2}
     END{for(k in r) if(r[k]>100) printf "  %7d %s\n", r[k], k}' /proc/$pid/smaps | sort -rn | head -12
wait $pid
