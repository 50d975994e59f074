#!/usr/bin/env bash
# ebee guard's benchmarks:
#   bench/guard/run.sh replay [RULES.yaml ...]  user-space evaluation rate, synthetic replay on one
#                                               core (default: built-in rules, then $EBEE_FALCO_RULES)
#   bench/guard/run.sh storm [N_EXEC] [N_OPEN] [REPS]
#                                               exec and open storms: no tracing vs execsnoop /
#                                               opensnoop vs `ebee guard run` with $EBEE_FALCO_RULES
#                                               (the built-in rules without it), one harness run each
#   bench/guard/run.sh steady [RATE] [SECONDS]  guard's CPU and RSS at a steady event rate
#   bench/guard/run.sh prefilter [N_OPEN] [REPS] the kernel prefilter's ns per open no rule can
#                                               match, per what decides it (bench/guard/prefilter/
#                                               rule files, then $EBEE_FALCO_RULES); BEFORE= as storm
# Results: bench/results/guard-*.json and the console.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
make -s all
what=${1:-replay}
shift || true
rules=${EBEE_FALCO_RULES:-$root/src/guard/default_rules.yaml}
case $what in
replay)
	objs=$(ls build/obj/guard/{cond,cond_parse,rules,fields}.o)
	cc -O2 -Isrc -Ibuild/gen -o build/guard-replay bench/guard/replay.c $objs build/obj/core/log.o \
		$(pkg-config --libs yaml-0.1 libbpf)
	files=("$@")
	[ ${#files[@]} -eq 0 ] && files=(src/guard/default_rules.yaml ${EBEE_FALCO_RULES:-})
	for f in "${files[@]}"; do
		taskset -c 0 build/guard-replay "$f" 2000000
	done
	# instructions per event, which the machine's load does not move (valgrind, when there)
	if command -v valgrind > /dev/null && [ -n "${EBEE_FALCO_RULES:-}" ]; then
		valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect='cond_eval*' \
			build/guard-replay "$EBEE_FALCO_RULES" 100000 2>&1 |
			awk '/Collected/ { printf "cond_eval: %.0f instructions/event\n", $4 / 100000 }'
	fi
	;;
storm)
	peers=${PEERS:-$root/../shared/peers}
	[ -x "$peers/overhead.py" ] || { echo "bench: peers harness not found at $peers" >&2; exit 1; }
	n_exec=${1:-1500}
	n_open=${2:-400000}
	reps=${3:-6}
	mkdir -p bench/results
	stamp=$(date -u +%Y%m%dT%H%M%SZ)
	# events: execs reaching the rules (every exec does: they keep the process table); for
	# opens, the storm's opens the kernel prefilter kept (no rule can match them).
	# BEFORE=/path/to/an/older/ebee: that build runs beside this one in the same run (a
	# side-by-side of a change; the peer tool is left out then)
	exec_peer=(--tracer execsnoop)
	open_peer=(--tracer opensnoop)
	if [ -n "${BEFORE:-}" ]; then
		exec_peer=(--tracer "$BEFORE guard run --json -r $rules" --label before
			   --sum '"events_by_type":\{"exec":(\d+)')
		open_peer=(--tracer "$BEFORE guard run --json -r $rules" --label before
			   --sum '"kernel_skipped":(\d+)')
	fi
	"$peers/overhead.py" --workload exec --n "$n_exec" --reps "$reps" --stable 1.5 \
		--out "bench/results/guard-exec-$stamp.json" \
		"${exec_peer[@]}" \
		--tracer "$root/build/ebee guard run --json -r $rules" --label ebee-guard \
		--sum '"events_by_type":\{"exec":(\d+)'
	"$peers/overhead.py" --workload open --n "$n_open" --reps "$reps" --stable 1.5 \
		--out "bench/results/guard-open-$stamp.json" \
		"${open_peer[@]}" \
		--tracer "$root/build/ebee guard run --json -r $rules" --label ebee-guard \
		--sum '"kernel_skipped":(\d+)'
	;;
prefilter)
	builds=(after="$root/build/ebee")
	[ -n "${BEFORE:-}" ] && builds=(before="$BEFORE" "${builds[@]}")
	d=bench/guard/prefilter
	files=($d/r_write.yaml $d/r_comm.yaml $d/r_dotdot.yaml $d/r_prefix.yaml)
	[ -n "${EBEE_FALCO_RULES:-}" ] && files+=("$EBEE_FALCO_RULES,$d/no_module.yaml" "$EBEE_FALCO_RULES")
	bench/guard/prefilter.py "${1:-100000}" "${2:-5}" "${builds[@]}" -- "${files[@]}"
	;;
steady)
	bench/guard/steady.py build/ebee "$rules" "${1:-5000}" "${2:-10}"
	;;
*)
	echo "usage: bench/guard/run.sh replay|storm|steady|prefilter ..." >&2
	exit 2
	;;
esac
