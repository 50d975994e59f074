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

bad() { echo "EBEE-VM: $1 FAIL $2"; }
res() {  # NAME DETAIL, after the test command: its status decides
	if [ $? = 0 ]; then echo "EBEE-VM: $1 PASS $2"; else bad "$1" "$2"; fi
}
# guard run with enforcement in the background until its programs are attached
start_enforcing() {  # FILE...
	rm -f /tmp/alerts /tmp/run.err
	ebee guard run -v --json -r /enf/empty.yaml "$@" >/tmp/alerts 2>/tmp/run.err &
	RUN=$!
	for i in $(seq 1 600); do
		# enforce's per-rule lines come once its programs are attached (with -r empty.yaml
		# guard has no events collector, so no "N rules on" line)
		grep -q "^ebee: enforce '" /tmp/run.err 2>/dev/null && return 0
		kill -0 $RUN 2>/dev/null || break
		sleep 0.2
	done
	cat /tmp/run.err
	return 1
}
stop_enforcing() {
	# a background job of a script ignores SIGINT, and ebee honours an ignored SIGINT: TERM
	kill -TERM $RUN; wait $RUN; RC=$?
}
connect_4599() {  # prints nc's error, if any
	nc -l -p 4599 >/dev/null 2>&1 &
	L=$!
	sleep 0.5
	echo | nc 127.0.0.1 4599 2>&1
	kill $L 2>/dev/null; wait $L 2>/dev/null
}

# the checks run in a subshell: a mistake there must not kill init (a panic, no DONE line)
(
echo "EBEE-VM-START mode=$mode kernel=$(uname -r) lsm=$(cat /sys/kernel/security/lsm)"
ebee doctor >/tmp/doctor 2>&1
cat /tmp/doctor
case "$mode" in
lsm)
	grep -qE '^bpf +lsm +ok' /tmp/doctor; res doctor_lsm "lsm programs load and attach"
	grep -qE '^bpf +fentry +ok' /tmp/doctor; res doctor_fentry "fentry available"
	grep -qE '^bpf +kprobe +ok' /tmp/doctor; res doctor_kprobe "kprobe available"
	grep -qE '^enforce +exec .*exec: lsm' /tmp/doctor; res canary "the canary passed: exec at level lsm"
	ebee guard check -e /enf/vm.yaml >/tmp/check 2>&1; rc=$?
	cat /tmp/check
	[ $rc = 0 ] && grep -q 'exec: lsm' /tmp/check && grep -q 'connect: lsm' /tmp/check; res check_lsm "guard check -e: exec and connect by lsm"
	# ---- enforce2: open (file_open) and module loads (kernel_read_file/kernel_load_data) ----
	grep -qE '^enforce +open .*open: lsm' /tmp/doctor; res enforce2_doctor_open "doctor: open at level lsm"
	grep -qE '^enforce +module .*module: lsm' /tmp/doctor; res enforce2_doctor_module "doctor: module at level lsm"
	grep -q 'open: lsm' /tmp/check && grep -q 'module: lsm' /tmp/check; res enforce2_check "guard check -e: open and module by lsm"
	mkdir -p /enf/guarded && echo original > /enf/guarded/f
	# ---- end enforce2 ----
	if start_enforcing -e /enf/vm.yaml --enforce; then
		# ---- enforce2 ----
		out=$(sh -c 'echo x >> /enf/guarded/f' 2>&1); rc=$?
		[ $rc != 0 ] && echo "$out" | grep -qE 'Operation not permitted|Permission denied' && [ "$(cat /enf/guarded/f)" = original ]; res enforce2_open_write_denied "write open under the prefix: rc=$rc $out"
		out=$(cat /enf/guarded/f 2>&1)
		[ "$out" = original ]; res enforce2_open_read_runs "read open under the prefix: $out"
		out=$(sh -c 'echo x > /tmp/other' 2>&1)
		[ $? = 0 ]; res enforce2_open_other_runs "write elsewhere: $out"
		out=$(insmod /enf/crc7.ko 2>&1); rc=$?
		[ $rc != 0 ] && ! grep -q '^crc7 ' /proc/modules; res enforce2_module_denied "insmod of a module: rc=$rc $out"
		# ---- end enforce2 ----
		out=$(/bin/victim 2>&1); rc=$?
		[ $rc = 126 ] && echo "$out" | grep -q 'Operation not permitted'; res exec_eperm "exec of a denied binary: rc=$rc $out"
		out=$(connect_4599)
		echo "$out" | grep -q 'Operation not permitted'; res connect_eperm "denied connect: $out"
		out=$(sh -c 'echo ran' 2>&1)
		[ "$out" = ran ]; res others_run "other execs run"
		stop_enforcing
		grep -q '"action":"denied","mechanism":"lsm"' /tmp/alerts; res alerts_lsm "alerts say denied by lsm"
		# ---- enforce2 ----
		grep '"evt.type":"open"' /tmp/alerts | grep -q '"fd.name":"/enf/guarded/f".*"evt.is_open_write":true.*"action":"denied","mechanism":"lsm"'; res enforce2_alert_open "open alert: denied by lsm, the file's path"
		grep '"evt.type":"module"' /tmp/alerts | grep -q '"action":"denied","mechanism":"lsm"'; res enforce2_alert_module "module alert: denied by lsm"
		# ---- end enforce2 ----
		[ $RC = 0 ] && [ -z "$(ls /sys/fs/bpf)" ]; res clean_exit "exit $RC, nothing pinned"
		out=$(/bin/victim 2>&1)
		[ "$out" = 'victim ran' ]; res detached "after exit the victim runs again: $out"
		# ---- enforce2 ----
		out=$(insmod /enf/crc7.ko 2>&1); rc=$?
		[ $rc = 0 ] && grep -q '^crc7 ' /proc/modules; res enforce2_module_after "after exit the module loads: rc=$rc $out"
		# ---- end enforce2 ----
	else
		bad enforcing "guard run did not start"
	fi
	;;
nolsm)
	! grep -q bpf /sys/kernel/security/lsm; res lsm_list "the LSM list lacks bpf: $(cat /sys/kernel/security/lsm)"
	grep -qE '^enforce +exec .*exec: signal.*lacks bpf' /tmp/doctor; res doctor_fallback "doctor: exec falls back to signal and says why"
	# ---- enforce2: without bpf in the LSM list, open and module loads fall back to the kill ----
	grep -qE '^enforce +open .*open: signal.*lacks bpf' /tmp/doctor; res enforce2_doctor_open_fallback "doctor: open falls back to signal"
	grep -qE '^enforce +module .*module: signal.*lacks bpf' /tmp/doctor; res enforce2_doctor_module_fallback "doctor: module falls back to signal"
	# ---- end enforce2 ----
	ebee guard check -e /enf/vm.yaml >/tmp/check 2>&1; rc=$?
	cat /tmp/check
	[ $rc = 2 ] && grep -q "refused: deny of exec needs BPF LSM" /tmp/check && grep -q 'lacks bpf' /tmp/check; res refuse_lsm "deny of exec refused (exit $rc)"
	# the canary on its own: told to ignore the list, LSM programs attach and do nothing
	EBEE_ENFORCE_IGNORE_LSM_LIST=1 ebee doctor >/tmp/doctor2 2>&1
	grep -qE '^enforce +exec .*canary was not refused' /tmp/doctor2; res canary_noop "$(grep -E '^enforce +exec' /tmp/doctor2)"
	if start_enforcing -e /enf/vm-net.yaml --enforce; then
		out=$(connect_4599)
		echo "$out" | grep -q 'Operation not permitted'; res connect_cgroup "denied connect via the fallback: $out"
		stop_enforcing
		grep -q '"action":"denied","mechanism":"cgroup"' /tmp/alerts; res alerts_cgroup "alerts say denied by cgroup"
	else
		bad enforcing "guard run did not start"
	fi
	;;
bench)
	# bench/enforce/vm.sh: storms with no ebee, then enforcing rules they reach but do not
	# match, under LSM; the ratio is what counts (TCG is slow in absolute terms)
	printf -- '- enforce: bench exec\n  condition: evt.type = execve and fd.name = /nonexistent/victim\n  action: deny\n- enforce: bench connect\n  condition: evt.type = connect and fd.rport = 7 and fd.rip = 127.0.0.1\n  action: deny\n' >/tmp/bench.yaml
	for rep in 1 2; do
		for kind in exec connect; do
			n=50; [ $kind = connect ] && n=5000
			none=$(storm $kind $n | awk '{print $5}')
			start_enforcing -e /tmp/bench.yaml --enforce || bad bench "guard run did not start"
			mech=$(grep -o "bench $kind': deny [a-z]*: [a-z]*" /tmp/run.err)
			enf=$(storm $kind $n | awk '{print $5}')
			stop_enforcing
			echo "EBEE-VM-BENCH: $kind rep=$rep none=$none enforcing=$enf ($mech)"
		done
	done
	;;
events)
	# the events collector in both argument variants (tests/vm/events.sh)
	. /events.sh
	;;
*)
	bad mode "unknown ebee.mode '$mode'"
	;;
esac
)
echo EBEE-VM-DONE
sync
reboot -f
