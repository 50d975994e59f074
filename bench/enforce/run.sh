#!/usr/bin/env bash
# Cost of enforcement on exec and connect storms: the same storm with no ebee, then with ebee
# enforcing rules the storm reaches but does not match (every hook runs its whole decision:
# comm, uid, cgroup, port/address or path lookups), reported as a slowdown ratio.
#   bench/enforce/run.sh [EXECS] [CONNECTS] [REPS]
# On this kernel: exec by the signal mechanism (sys_enter_execve), connect by cgroup-bpf.
# In the VM tier's kernel (BPF LSM): tests/vm/run.sh bench runs the same storm under LSM.
set -euo pipefail
cd "$(dirname "$0")/../.."
EBEE=${EBEE:-build/ebee}
execs=${1:-3000} connects=${2:-200000} reps=${3:-3}
out=build/bench-enforce
mkdir -p "$out"
gcc -O2 -o "$out/storm" bench/enforce/storm.c
cg=$(mount -t cgroup2 | awk '{print $3; exit}')
cat > "$out/enforce.yaml" <<YAML
- enforce: bench exec
  condition: evt.type = execve and fd.name = /nonexistent/bench-victim
  action: kill
- enforce: bench connect
  condition: evt.type = connect and fd.rport = 7 and fd.rip = 127.0.0.1
  action: deny
YAML
: > "$out/empty.yaml"
rate() { "$out/storm" "$@" | awk '{print $5}'; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for kind in exec connect; do
	n=$([ $kind = exec ] && echo "$execs" || echo "$connects")
	base=() enf=()
	for r in $(seq "$reps"); do
		base+=("$(rate $kind "$n")")
		"$EBEE" guard run -q -r "$out/empty.yaml" -e "$out/enforce.yaml" --enforce >/dev/null 2>&1 &
		pid=$!
		# ready once its links exist
		for i in $(seq 100); do ls -l /proc/$pid/fd 2>/dev/null | grep -q 'anon_inode:bpf_link' && break; sleep 0.1; done
		sleep 0.3
		enf+=("$(rate $kind "$n")")
		kill -TERM $pid; wait $pid || true   # a script's background job ignores SIGINT
	done
	b=$(printf '%s\n' "${base[@]}" | median) e=$(printf '%s\n' "${enf[@]}" | median)
	echo "$kind: none ${b} ops/s, enforcing ${e} ops/s, slowdown $(awk -v b="$b" -v e="$e" 'BEGIN{printf "%.3f", b/e}') (median of $reps; runs: none ${base[*]} / enforcing ${enf[*]})"
done
