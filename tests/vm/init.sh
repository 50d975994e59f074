#!/bin/busybox sh
# /init of the VM tier (tests/vm/run.sh boots it). Every check prints one line
#   EBEE-VM: NAME PASS|FAIL detail
# on the serial console, then EBEE-VM-DONE, then the VM powers off. ebee.mode= on the kernel
# command line says which boot this is: lsm (Debian's default LSM list, bpf in it) or nolsm
# (an lsm= line without bpf: the silent no-op case ebee must refuse).
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing
mount -t bpf bpf /sys/fs/bpf
mount -t securityfs securityfs /sys/kernel/security
mkdir -p /sys/fs/cgroup && mount -t cgroup2 cgroup2 /sys/fs/cgroup
ip link set lo up
mode=$(sed -n 's/.*ebee\.mode=\([a-z]*\).*/\1/p' /proc/cmdline)
printf '#!/bin/sh\necho victim ran\n' > /bin/victim && chmod +x /bin/victim

ok() { echo "EBEE-VM: $1 PASS $2"; }
bad() { echo "EBEE-VM: $1 FAIL $2"; }
check() {  # NAME CONDITION-COMMAND DETAIL
	if eval "$2"; then ok "$1" "$3"; else bad "$1" "$3"; fi
}
# guard run with enforcement in the background until its programs are attached
start_enforcing() {  # FILE...
	rm -f /tmp/alerts /tmp/run.err
	ebee guard run -v --json -r /enf/empty.yaml "$@" >/tmp/alerts 2>/tmp/run.err &
	RUN=$!
	for i in $(seq 1 600); do
		grep -q "guard: .* rules on" /tmp/run.err 2>/dev/null && return 0
		kill -0 $RUN 2>/dev/null || break
		sleep 0.2
	done
	cat /tmp/run.err
	return 1
}
stop_enforcing() {
	kill -INT $RUN; wait $RUN; RC=$?
}
connect_4599() {  # prints nc's error, if any
	nc -l -p 4599 >/dev/null 2>&1 &
	L=$!
	sleep 0.5
	echo | nc 127.0.0.1 4599 2>&1
	kill $L 2>/dev/null; wait $L 2>/dev/null
}

echo "EBEE-VM-START mode=$mode kernel=$(uname -r) lsm=$(cat /sys/kernel/security/lsm)"
ebee doctor >/tmp/doctor 2>&1
cat /tmp/doctor
case "$mode" in
lsm)
	check doctor_lsm "grep -qE '^bpf +lsm +ok' /tmp/doctor" "lsm programs load and attach"
	check doctor_fentry "grep -qE '^bpf +fentry +ok' /tmp/doctor" "fentry available"
	check doctor_kprobe "grep -qE '^bpf +kprobe +ok' /tmp/doctor" "kprobe available"
	check canary "grep -qE '^enforce +exec .*exec: lsm' /tmp/doctor" "the canary passed: exec at level lsm"
	ebee guard check -e /enf/vm.yaml >/tmp/check 2>&1; rc=$?
	cat /tmp/check
	check check_lsm "[ $rc = 0 ] && grep -q 'exec: lsm' /tmp/check && grep -q 'connect: lsm' /tmp/check" "guard check -e: exec and connect by lsm"
	if start_enforcing -e /enf/vm.yaml --enforce; then
		out=$(/bin/victim 2>&1); rc=$?
		check exec_eperm "[ $rc = 126 ] && echo '$out' | grep -q 'Permission denied'" "exec of a denied binary: rc=$rc $out"
		out=$(connect_4599)
		check connect_eperm "echo '$out' | grep -q 'Operation not permitted'" "denied connect: $out"
		out=$(sh -c 'echo ran' 2>&1)
		check others_run "[ '$out' = ran ]" "other execs run"
		stop_enforcing
		check alerts_lsm "grep -q '\"action\":\"denied\",\"mechanism\":\"lsm\"' /tmp/alerts" "alerts say denied by lsm"
		check clean_exit "[ $RC = 0 ] && [ -z \"\$(ls /sys/fs/bpf)\" ]" "exit $RC, nothing pinned"
		out=$(/bin/victim 2>&1)
		check detached "[ '$out' = 'victim ran' ]" "after exit the victim runs again: $out"
	else
		bad enforcing "guard run did not start"
	fi
	;;
nolsm)
	check lsm_list "! grep -q bpf /sys/kernel/security/lsm" "the LSM list lacks bpf: $(cat /sys/kernel/security/lsm)"
	check doctor_fallback "grep -qE '^enforce +exec .*exec: signal.*lacks bpf' /tmp/doctor" "doctor: exec falls back to signal and says why"
	ebee guard check -e /enf/vm.yaml >/tmp/check 2>&1; rc=$?
	cat /tmp/check
	check refuse_lsm "[ $rc = 2 ] && grep -q \"refused: deny of exec needs BPF LSM\" /tmp/check && grep -q 'lacks bpf' /tmp/check" "deny of exec refused (exit $rc)"
	# the canary on its own: told to ignore the list, LSM programs attach and do nothing
	EBEE_ENFORCE_IGNORE_LSM_LIST=1 ebee doctor >/tmp/doctor2 2>&1
	check canary_noop "grep -qE '^enforce +exec .*canary was not refused' /tmp/doctor2" "$(grep -E '^enforce +exec' /tmp/doctor2)"
	if start_enforcing -e /enf/vm-net.yaml --enforce; then
		out=$(connect_4599)
		check connect_cgroup "echo '$out' | grep -q 'Operation not permitted'" "denied connect via the fallback: $out"
		stop_enforcing
		check alerts_cgroup "grep -q '\"action\":\"denied\",\"mechanism\":\"cgroup\"' /tmp/alerts" "alerts say denied by cgroup"
	else
		bad enforcing "guard run did not start"
	fi
	;;
*)
	bad mode "unknown ebee.mode '$mode'"
	;;
esac
echo EBEE-VM-DONE
sync
reboot -f
