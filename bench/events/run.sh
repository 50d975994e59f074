#!/usr/bin/env bash
# ebee exec / open / events --all vs libbpf-tools' execsnoop and opensnoop on the peers' exec and
# open storms, side by side in one run of the peers' harness (../shared/peers/overhead.py).
# Usage: bench/events/run.sh [exec|open|all] [N_EXEC] [N_OPEN] [REPS]
#        bench/events/run.sh hooks [N] [REPS] [CONFIG...]
#   hooks: what one syscall costs under each kind of syscall hook (hookcost.c): open+close and
#   getppid loops pinned to CPU 1, in CPU time, with nothing attached, a do-nothing program on
#   each hook, and `ebee open` / `ebee guard run` (with $EBEE_FALCO_RULES) as they are; more
#   configurations (`cmd:/path/to/other/ebee open`) after REPS.
# Results: bench/results/events-*.json and the console.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ "${1:-}" = hooks ]; then
	make -C "$root" -s all
	b=$root/build/bench
	mkdir -p "$b"
	arch=$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
	clang -g -O2 -target bpf -D__TARGET_ARCH_"$arch" -I"$root/build/gen" \
		-I/usr/include/"$(gcc -print-multiarch)" -c "$root/bench/events/hookcost.bpf.c" -o "$b/hookcost.bpf.o"
	bpftool gen skeleton "$b/hookcost.bpf.o" name hookcost_bpf > "$b/hookcost.skel.h"
	cc -O2 -Wall -I"$b" -o "$b/hookcost" "$root/bench/events/hookcost.c" -lbpf
	n=${2:-200000}
	reps=${3:-8}
	shift $(( $# < 3 ? $# : 3 ))
	ebee=$root/build/ebee
	guard=()
	[ -n "${EBEE_FALCO_RULES:-}" ] && guard=("cmd:$ebee guard run -r $EBEE_FALCO_RULES")
	uptime
	"$b/hookcost" -n "$n" -r "$reps" -s "${SETTLE:-4}" none tp tp_enter btf btf_open raw rawsys "cmd:$ebee open" \
		"${guard[@]}" "$@"
	uptime
	exit 0
fi
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
