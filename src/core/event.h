/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/* One event model for every feature: a fixed header on every record that crosses a ring buffer,
 * filled by one BPF helper (bpf/event.bpf.h: ebee_event_init), and per event type a field table
 * (core/field.h) that output rows, filters and rules all read. Shared by kernel and user space:
 * fixed-width types and explicit padding only. */
#ifndef EBEE_EVENT_H
#define EBEE_EVENT_H

#define EBEE_COMM_LEN 16

/* Slots of a ring buffer's per-CPU counter map NAME_drops (bpf/emit.bpf.h): records that found
 * the ring full, and (objects built with EBEE_COUNT_SUBMITTED) records submitted. */
#define EBEE_SLOT_DROPS     0
#define EBEE_SLOT_SUBMITTED 1

/* Every event type of every feature, numbered once here so that one stream can carry several
 * features' events and a reader dispatches on hdr.type alone. Names (core/field.h tables) are
 * what users type (`ebee events --type exec,open`) and what rules use (evt.type). */
enum ebee_event_type {
	EV_NONE = 0,
	/* process lifecycle (sched tracepoints) */
	EV_EXEC = 1, EV_EXIT, EV_FORK,
	/* files */
	EV_OPEN = 10, EV_UNLINK, EV_RENAME, EV_CHMOD, EV_CHOWN, EV_SYMLINK, EV_LINK, EV_MKDIR,
	EV_CLOSE, EV_DUP, EV_MEMFD, EV_MOUNT, EV_TRUNCATE, EV_CHDIR,
	/* network */
	EV_SOCKET = 30, EV_CONNECT, EV_ACCEPT, EV_BIND, EV_LISTEN, EV_SENDTO,
	/* process control and privilege */
	EV_PTRACE = 50, EV_KILL, EV_SETUID, EV_SETGID, EV_MODULE, EV_BPF, EV_MPROTECT,
	EV_CAPSET, EV_PRCTL,
	/* other features' records that carry the header */
	EV_TCP_STATE = 100, EV_TCP_LIFE,
	EV_POLICY_VERDICT = 110,
	EV_ENFORCE = 112,                       /* an enforcement decision (src/enforce) */
	EV_HTTP_SERVER = 120, EV_HTTP_CLIENT,   /* Go net/http requests (src/http) */
	EV_GRAPH_ALERT = 124,                   /* a detection of the behaviour graph (src/graph) */
	EV_ALERT = 125,                          /* a rule's alert (src/guard: struct guard_alert) */
	EV__MAX = 128
};

/* 56 bytes, first in every record. */
struct ebee_event_hdr {
	__u64 time_ns;              /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) */
	__u64 cgroup_id;            /* cgroup v2 id of the task */
	__u64 start_ns;             /* the process's (thread group leader's) start, ns since boot
				     * (task->start_boottime: /proc/PID/stat field 22 in ticks);
				     * with pid, the identity of a process across pid reuse */
	__u32 pid;                  /* tgid: the process, as ps shows it */
	__u32 tid;
	__u32 uid;                  /* real uid, as seen from the initial user namespace */
	__u16 type;                 /* enum ebee_event_type */
	__u16 size;                 /* the whole record, header included */
	char comm[EBEE_COMM_LEN];
};

#endif
