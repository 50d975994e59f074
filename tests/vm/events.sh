# Sourced by tests/vm/init.sh (in its checks' subshell; bad/res come from there): the events
# collector on Debian 12's kernel, in the three ways it takes syscalls — by default a tracepoint
# per syscall reading the saved user registers (bpf_task_pt_regs; that kernel has the module
# tracepoints, so guard too), without that helper (EBEE_DISABLE=tp_btf,task_pt_regs) stashing
# the arguments at sys_enter, and the tp_btf sys_exit dispatcher (chosen for module events
# without their tracepoints; forced here with EBEE_DISABLE=tracepoint). ebee exec, open, events
# and guard run (built-in rules) each watch a workload this file runs in a cgroup of its own,
# and the fields of its events are checked.
EVCG=/sys/fs/cgroup/evm
mkdir -p $EVCG
in_cg() {  # ARGV...: runs ARGV inside $EVCG (moved there before the exec) and waits
	/bin/sh -c 'echo $$ > '$EVCG'/cgroup.procs && exec "$@"' sh "$@"
}
# ebee in the background until attached: ARGS...; its stdout in /tmp/ev.out, stderr /tmp/ev.err
ev_start() {
	rm -f /tmp/ev.out /tmp/ev.err
	ebee -v "$@" >/tmp/ev.out 2>/tmp/ev.err &
	EV=$!
	for i in $(seq 1 600); do
		grep -qE "capabilities kept after attaching|guard: .* rules on" /tmp/ev.err 2>/dev/null && return 0
		kill -0 $EV 2>/dev/null || break
		sleep 0.2
	done
	grep -v '^libbpf' /tmp/ev.err | tail -5
	kill -TERM $EV 2>/dev/null; wait $EV
	return 1
}
ev_stop() {
	sleep 1   # the reader drains on a short timer: let the last records arrive
	kill -TERM $EV; wait $EV; EVRC=$?
}
# the line of /tmp/ev.out that holds every one of the fixed strings given
ev_line() {
	local s
	cp /tmp/ev.out /tmp/ev.sel
	for s in "$@"; do grep -F -- "$s" /tmp/ev.sel >/tmp/ev.sel2; mv /tmp/ev.sel2 /tmp/ev.sel; done
	[ -s /tmp/ev.sel ]
}

for variant in dispatch regs stash; do
	case $variant in
	dispatch) export EBEE_DISABLE=tracepoint; kind=task_pt_regs; sys=tp_btf ;;
	regs) unset EBEE_DISABLE; kind=task_pt_regs; sys=tracepoint ;;
	stash) export EBEE_DISABLE=tp_btf,task_pt_regs; kind=tracepoint; sys=tracepoint ;;
	esac
	mark=$variant$$

	if ev_start exec --json --cgroup $EVCG; then
		in_cg /bin/busybox echo "evm-$mark" two >/dev/null
		in_cg "/nonexistent-$mark" x 2>/dev/null
		ev_stop
		grep -q "hook 'syscall_args': using $kind" /tmp/ev.err &&
			grep -q "hook 'sys_exit': using $sys" /tmp/ev.err
		res "events_exec_variant_$variant" "exec: syscalls via $sys, syscall_args via $kind"
		ev_line '"evt.type":"exec"' '"evt.res":0,' '"proc.exepath":"/bin/busybox"' \
			"\"proc.args\":[\"/bin/busybox\",\"echo\",\"evm-$mark\",\"two\"]"
		res "events_exec_$variant" "ebee exec: argv of a successful exec (exit $EVRC)"
		ev_line '"evt.type":"exec"' '"evt.res":-2,' "\"proc.exepath\":\"/nonexistent-$mark\"" \
			"\"proc.args\":[\"/nonexistent-$mark\",\"x\"]" '"evt.errno":"ENOENT"'
		res "events_exec_failed_$variant" "ebee exec: a failed exec with its path and argv"
	else
		bad "events_exec_$variant" "ebee exec did not start"
	fi

	if ev_start open --json --cgroup $EVCG; then
		in_cg /bin/sh -c "echo x > /tmp/evm-$mark && cat /tmp/evm-$mark /tmp/nofile-$mark" >/dev/null 2>&1
		ev_stop
		ev_line '"evt.type":"open"' "\"fd.name\":\"/tmp/evm-$mark\"" \
			'"evt.flags":"O_WRONLY|O_CREAT|O_TRUNC' '"evt.mode":"0666"'
		res "events_open_create_$variant" "ebee open: the create with its path, flags and mode"
		ev_line '"evt.type":"open"' '"proc.comm":"cat"' "\"fd.name\":\"/tmp/evm-$mark\"" \
			'"evt.flags":"O_RDONLY' '"evt.res":3,'
		res "events_open_read_$variant" "ebee open: the read with its path, flags and fd"
		ev_line '"proc.comm":"cat"' "\"fd.name\":\"/tmp/nofile-$mark\"" '"evt.errno":"ENOENT"'
		res "events_open_failed_$variant" "ebee open: a failed open with its errno"
	else
		bad "events_open_$variant" "ebee open did not start"
	fi

	if ev_start events --type exec,open,connect --json --cgroup $EVCG; then
		nc -l -p 4601 >/dev/null 2>&1 &
		L=$!
		sleep 0.5
		echo hi | in_cg nc 127.0.0.1 4601 >/dev/null 2>&1
		kill $L 2>/dev/null; wait $L 2>/dev/null
		ev_stop
		ev_line '"evt.type":"connect"' '"proc.comm":"nc"' '"fd.addr":"127.0.0.1"' '"fd.port":4601' \
			'"evt.res":0'
		res "events_stream_connect_$variant" "ebee events: nc's connect with address, port, result"
		ev_line '"evt.type":"exec"' '"proc.args":["nc","127.0.0.1","4601"]'
		res "events_stream_exec_$variant" "ebee events: nc's exec with its argv"
		ev_line '"type":"summary"' '"collector":"events"' '"lost":0'
		res "events_stream_summary_$variant" "ebee events: the summary line, nothing lost (exit $EVRC)"
	else
		bad "events_stream_$variant" "ebee events did not start"
	fi

	# guard run with its built-in rules: a credentials read and a write below /bin
	echo 'root:*:19000:0:99999:7:::' > /etc/shadow
	if ev_start guard run --json; then
		in_cg /bin/cat /etc/shadow >/dev/null
		in_cg /bin/sh -c "echo x > /bin/evm-$mark"
		# reads no rule can match: the prefilter's path scan keeps them in the kernel on this
		# kernel too (it needs no string kfunc)
		echo x > /tmp/evm-$mark
		in_cg /bin/sh -c "for i in 1 2 3 4 5 6 7 8 9 10; do read l < /tmp/evm-$mark; done"
		ev_stop
		ev_line '"rule":"Read sensitive file"' 'file=/etc/shadow' 'process=cat'
		res "events_guard_read_$variant" "guard run: Read sensitive file for cat /etc/shadow"
		ev_line '"rule":"Write below binary dir"' "file=/bin/evm-$mark" 'O_WRONLY'
		res "events_guard_write_$variant" "guard run: Write below binary dir with file and flags"
		grep -q '"kernel_skipped":[1-9]' /tmp/ev.out
		res "events_guard_prefilter_$variant" "guard run: the kernel prefilter kept opens no rule matches"
	else
		bad "events_guard_$variant" "guard run did not start"
	fi
	rm -f /tmp/evm-$mark /bin/evm-$mark
done
unset EBEE_DISABLE

# The other collectors' programs on this kernel: tcp (the core's ebee_reserve/emit path) and
# count load, attach and see a connection the check makes.
if ev_start tcp states --json; then
	nc -l -p 4602 >/dev/null 2>&1 &
	NCL=$!
	sleep 0.5
	echo hi | nc 127.0.0.1 4602 >/dev/null 2>&1
	kill $NCL 2>/dev/null; wait $NCL 2>/dev/null
	ev_stop
	ev_line '"rport":4602' '"newstate":"ESTABLISHED"'
	res "tcp_states_6_1" "ebee tcp states: the connection to port 4602 reached ESTABLISHED (exit $EVRC)"
else
	bad "tcp_states_6_1" "ebee tcp states did not start"
fi
if ev_start count --all --json; then
	in_cg /bin/busybox true
	ev_stop
	[ "$EVRC" = 0 ] && grep -q '"summary"\|"collector":"count"' /tmp/ev.out
	res "count_6_1" "ebee count --all: ran and summed up (exit $EVRC)"
else
	bad "count_6_1" "ebee count did not start"
fi
rmdir $EVCG 2>/dev/null
