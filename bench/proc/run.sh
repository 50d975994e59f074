#!/usr/bin/env bash
# The process table alone (feed.c): ns per process and resident MB of an exec storm, this
# tree's table against another's (BEFORE=/path/to/tree, built: its build/obj), interleaved.
# Usage: BEFORE=/work/main bench/proc/run.sh [N] [REPS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-200000}
reps=${2:-5}
out=$root/build/bench
mkdir -p "$out"
pkgs="libbpf libelf zlib libmaxminddb yaml-0.1 libdw json-c ncursesw"
build() {  # $1 tree, $2 output
	cc -O2 -std=gnu11 -D_GNU_SOURCE -I"$1/src" -I"$1/build/gen" -o "$2" "$root/bench/proc/feed.c" \
		$(find "$1/build/obj" -name '*.o' ! -path '*/obj/main.o') $(pkg-config --libs $pkgs) -ldl
}
make -C "$root" -s all
build "$root" "$out/feed-after"
[ -n "${BEFORE:-}" ] && build "$BEFORE" "$out/feed-before"
uptime
for r in $(seq "$reps"); do
	for mode in same distinct; do
		[ -n "${BEFORE:-}" ] && echo "before $("$out/feed-before" "$n" "$mode")"
		echo "after  $("$out/feed-after" "$n" "$mode")"
	done
done
uptime
