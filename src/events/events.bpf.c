// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only)
/* Process, file and network events. Process lifecycle from sched_process_exec/fork/exit
 * (tp_btf, tracepoint fallback). Syscalls at their exit: one tp_btf program on the raw sys_exit
 * (ev_sys_exit) dispatching on the syscall number to the asked syscalls' bodies; where tp_btf
 * is not allowed, a program per syscall on its sys_exit_X tracepoint (and sys_enter_X when the
 * arguments must be stashed). Either hook sets the syscall-work flag on every task, so every
 * syscall of the machine takes the slow path already; the per-syscall tracepoint then adds
 * perf's trace record (a buffer, the arguments copied) before the program for each traced call,
 * the raw one a direct call on every syscall: bench/events/hookcost.c measures both. The exit
 * emits one fixed-size record with the result, strings read straight into the reserved ring
 * buffer slot (no copy). Only the asked syscalls' code is kept by the verifier. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

/* A syscall's arguments, read at its exit from the caller's saved user registers: the
 * kernel leaves them as they were at entry (only ax changes), so no sys_enter program and no
 * per-thread stash map are needed — half the programs and a hash update+delete per call.
 * Where a tracepoint program cannot reach them (bpf_task_pt_regs is 5.15+; the task_pt_regs
 * probe of core/load.c, EBEE_DISABLE=task_pt_regs to force it), user space sets args_stash:
 * then each traced syscall's sys_enter program checks the filter and stashes the arguments
 * per thread, and the exit takes them from there. A constant: the verifier keeps one path. */
const volatile __u8 args_stash = 0;
/* Where the registers can be read (bpf_task_pt_regs, 5.15+) so can the task as a BTF pointer
 * (bpf_get_current_task_btf, 5.11+): the header is then filled with plain loads. */
#define EBEE_EVENT_TASK_BTF (!args_stash)

#include "core/bpf/event.bpf.h"
#include "core/bpf/emit.bpf.h"
#include "core/bpf/filter.bpf.h"
#include "events.h"
#include "kfscan.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AT_FDCWD_ -100
#define AF_UNIX_ 1
#define AF_INET_ 2
#define AF_INET6_ 10

const volatile struct ev_cfg_k ev_cfg = {};
const volatile __u8 want_exec = 0, want_fork = 0, want_exit = 0;

EBEE_RINGBUF(events, 4 << 20);

/* Set by user space when it stops reading: detaching ~100 tracepoints takes seconds, and what
 * fires meanwhile must neither be emitted nor counted as lost. */
volatile __u32 ev_off = 0;

/* Drops per event type (the core's events_drops counts them all). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EV__MAX);
	__type(key, __u32);
	__type(value, __u64);
} ev_drops SEC(".maps");

struct sysargs {
	__u64 a[6];
};

/* LRU so that a thread that never reaches sys_exit (killed, exec from a non-leader thread)
 * cannot fill it; sized to one entry by user space when the registers are used. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct sysargs);
} stash SEC(".maps");

/* The context of the per-syscall enter tracepoints (and of raw_syscalls): only the arguments
 * the syscall has may be read, or the attach is refused. */
struct sys_enter_ctx {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__u64 args[6];
};

/* The context of the per-syscall exit tracepoints. */
struct sys_exit_ctx {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__s64 ret;
};

/* A record, or NULL (stopping, or the ring buffer is full: the caller counts the drop with
 * ev_drop). Callers test the result once and return: when a helper also tests it and the paths
 * merge, the compiler tests the pointer a second time, and verifiers before 6.4 (Debian 12's
 * 6.1) do not know a reserved record is non-NULL: they walk the impossible NULL branch with the
 * record still held and refuse the program ("Unreleased reference"). */
static __always_inline void *ev_reserve(__u32 size)
{
	return ev_off ? NULL : bpf_ringbuf_reserve(&events, size, 0);
}

/* The path filter, on the absolute path as passed; relative paths pass here and are checked
 * by user space once resolved. */
static __always_inline bool prefix_pass(const char *p)
{
	if (!ev_cfg.prefix_len || p[0] != '/')
		return true;
	for (int i = 0; i < EV_PATH_LEN; i++) {
		if (i >= ev_cfg.prefix_len)
			return true;
		if (p[i] != ev_cfg.prefix[i])
			return false;
	}
	return true;
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[EV_PATH_LEN]);
} path_scratch SEC(".maps");

/* A failed reserve: counted as a drop of its type, unless stopping (ev_off) or, with
 * --path-prefix, unless the event would not have passed anyway: its path (upath, the user
 * pointer; 0 for events without one) is then read into per-CPU scratch and checked. Returns 0
 * for the program to return. */
static __always_inline int ev_drop(__u32 type, __u64 upath)
{
	__u32 zero = 0;
	__u64 *d;
	char *p;

	if (ev_off)
		return 0;
	if (upath && ev_cfg.prefix_len) {
		p = bpf_map_lookup_elem(&path_scratch, &zero);
		if (p && bpf_probe_read_user_str(p, EV_PATH_LEN, (void *)upath) > 0 && !prefix_pass(p))
			return 0;
	}
	ebee_count_drop(&events_drops);
	d = bpf_map_lookup_elem(&ev_drops, &type);
	if (d)
		*d += 1;
	return 0;
}

static __always_inline bool ev_result_pass(__s64 ret)
{
	if (ev_cfg.failed_only && ret >= 0)
		return false;
	if (ev_cfg.success_only && ret < 0)
		return false;
	return true;
}

/* ---- exec ---------------------------------------------------------------------------- */

/* Success: the new image's argv is the mm's arg area, already NUL-separated. bt: the task as
 * a BTF pointer (tp_btf: plain loads), or NULL (the tracepoint: a probe read per field). */
static __always_inline int exec_emit(struct task_struct *bt, const char *kfilename, __u32 argc)
{
	struct task_struct *t;
	struct ev_exec *e;
	__u64 start, end, len;

	if (!want_exec || ev_cfg.failed_only || !ebee_filter_pass())
		return 0;
	e = ev_reserve(sizeof(*e));
	if (!e)
		return ev_drop(EV_EXEC, 0);
	ebee_event_init(&e->hdr, EV_EXEC, sizeof(*e));
	e->ret = 0;
	e->argc = argc;
	e->flags = 0;
	e->pad = 0;
	if (bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), kfilename) < 0)
		e->filename[0] = 0;
	if (bt) {
		e->ppid = bt->real_parent->tgid;
		start = bt->mm->arg_start;
		end = bt->mm->arg_end;
	} else {
		t = (struct task_struct *)bpf_get_current_task();
		e->ppid = BPF_CORE_READ(t, real_parent, tgid);
		start = BPF_CORE_READ(t, mm, arg_start);
		end = BPF_CORE_READ(t, mm, arg_end);
	}
	len = end - start;
	if (len > EV_ARGS_LEN) {
		len = EV_ARGS_LEN;
		e->flags |= EVF_ARGS_TRUNC;
	}
	if (len && bpf_probe_read_user(e->args, len & (2 * EV_ARGS_LEN - 1) , (void *)start) < 0)
		len = 0;
	e->args_len = len;
	ebee_submit(events, e);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(ev_exec_btf, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return exec_emit(p, bprm->filename, bprm->argc);
}

SEC("tracepoint/sched/sched_process_exec")
int ev_exec_tp(struct trace_event_raw_sched_process_exec *ctx)
{
	/* argc is not in this tracepoint: user space counts the args (0 = unknown when cut) */
	return exec_emit(NULL, (const char *)ctx + (ctx->__data_loc_filename & 0xFFFF), 0);
}

/* Failure: the old image is still there, so argv is read through the user's pointers. */
#define EV_ARG_CHUNK 128
static __always_inline int exec_fail(__s64 ret, const struct sysargs *s, bool at)
{
	const char *const *argv = (const char *const *)(at ? s->a[2] : s->a[1]);
	const char *fname = (const char *)(at ? s->a[1] : s->a[0]);
	struct task_struct *t;
	struct ev_exec *e;
	__u32 off = 0;
	int i;

	if (!want_exec || ret >= 0 || ev_cfg.success_only)
		return 0;
	e = ev_reserve(sizeof(*e));
	if (!e)
		return ev_drop(EV_EXEC, 0);
	t = (struct task_struct *)bpf_get_current_task();
	ebee_event_init(&e->hdr, EV_EXEC, sizeof(*e));
	e->ret = ret;
	e->ppid = BPF_CORE_READ(t, real_parent, tgid);
	e->flags = 0;
	e->pad = 0;
	if (bpf_probe_read_user_str(e->filename, sizeof(e->filename), fname) < 0) {
		e->filename[0] = 0;
		e->flags |= EVF_PATH_FAULT;
	}
	/* Straight-line body: every branch inside the loop multiplies what the verifier walks */
	for (i = 0; i < EV_ARGS_MAX; i++) {
		const char *arg = NULL;
		long n;

		if (bpf_probe_read_user(&arg, sizeof(arg), &argv[i]) < 0 || !arg)
			break;
		if (off > EV_ARGS_LEN - EV_ARG_CHUNK)
			break;
		n = bpf_probe_read_user_str(&e->args[off], EV_ARG_CHUNK, arg);
		if (n <= 0)
			break;
		off += n;
	}
	if (i == EV_ARGS_MAX || off > EV_ARGS_LEN - EV_ARG_CHUNK)
		e->flags |= EVF_ARGS_TRUNC;
	e->argc = i;
	e->args_len = off;
	ebee_submit(events, e);
	return 0;
}

/* ---- fork / exit --------------------------------------------------------------------- */

static __always_inline int fork_emit(__u32 ptgid, __u32 ctgid, __u32 ctid, __u64 cstart)
{
	struct ev_task *e;

	if (ctgid != ctid)
		return 0;   /* a new thread, not a process */
	ebee_filter_fork(ptgid, ctgid);
	if (!want_fork || !ebee_filter_pass())
		return 0;
	e = ev_reserve(sizeof(*e));
	if (!e)
		return ev_drop(EV_FORK, 0);
	ebee_event_init(&e->hdr, EV_FORK, sizeof(*e));
	e->ppid = ptgid;
	e->child = ctgid;
	e->child_start_ns = cstart;
	e->code = 0;
	e->pad = 0;
	ebee_submit(events, e);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(ev_fork_btf, struct task_struct *parent, struct task_struct *child)
{
	return fork_emit(parent->tgid, child->tgid, child->pid, child->start_boottime);
}

SEC("tracepoint/sched/sched_process_fork")
int ev_fork_tp(struct trace_event_raw_sched_process_fork *ctx)
{
	/* no task here: a new thread cannot be told from a process; start is read later from
	 * /proc (0 = unknown) */
	__u32 c = ctx->child_pid;

	return fork_emit(bpf_get_current_pid_tgid() >> 32, c, c, 0);
}

static __always_inline int exit_emit(void)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	__u64 id = bpf_get_current_pid_tgid();
	struct ev_task *e;

	if ((__u32)id != id >> 32)
		return 0;   /* a thread (the leader's exit stands for the process) */
	if (want_exit && ebee_filter_pass()) {
		e = ev_reserve(sizeof(*e));
		if (!e) {
			ev_drop(EV_EXIT, 0);
		} else {
			ebee_event_init(&e->hdr, EV_EXIT, sizeof(*e));
			e->ppid = BPF_CORE_READ(t, real_parent, tgid);
			e->child = 0;
			e->child_start_ns = 0;
			e->code = BPF_CORE_READ(t, exit_code);
			e->pad = 0;
			ebee_submit(events, e);
		}
	}
	ebee_filter_exit(id >> 32);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(ev_exit_btf)
{
	return exit_emit();
}

SEC("tracepoint/sched/sched_process_exit")
int ev_exit_tp(void *ctx)
{
	return exit_emit();
}

/* ---- syscalls ------------------------------------------------------------------------ */

static __always_inline void regs_args(struct sysargs *s, struct pt_regs *regs)
{
	/* a BTF pointer: plain loads, no probe_read call per register */
	s->a[0] = PT_REGS_PARM1_SYSCALL(regs);
	s->a[1] = PT_REGS_PARM2_SYSCALL(regs);
	s->a[2] = PT_REGS_PARM3_SYSCALL(regs);
	s->a[3] = PT_REGS_PARM4_SYSCALL(regs);
	s->a[4] = PT_REGS_PARM5_SYSCALL(regs);
	s->a[5] = 0;
}

/* The caller's saved user registers (tracepoint programs; tp_btf/sys_exit has them as its
 * argument) */
static __always_inline struct pt_regs *task_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

static __always_inline void read_path(char *dst, __u64 uptr, struct ev_sys *e, __u32 trunc)
{
	long n = bpf_probe_read_user_str(dst, EV_PATH_LEN, (const void *)uptr);

	if (n < 0) {
		dst[0] = 0;
		e->flags |= EVF_PATH_FAULT;
	} else if (n == EV_PATH_LEN) {
		e->flags |= trunc;
	}
}

static __always_inline void read_sockaddr(struct ev_sys *e, __u64 uptr)
{
	__u16 fam = 0;

	if (!uptr || bpf_probe_read_user(&fam, sizeof(fam), (void *)uptr) < 0)
		return;
	e->family = fam;
	if (fam == AF_INET_) {
		struct sockaddr_in sa;

		if (bpf_probe_read_user(&sa, sizeof(sa), (void *)uptr) == 0) {
			e->port = bpf_ntohs(sa.sin_port);
			__builtin_memcpy(e->addr, &sa.sin_addr, 4);
		}
	} else if (fam == AF_INET6_) {
		struct sockaddr_in6 sa;

		if (bpf_probe_read_user(&sa, sizeof(sa), (void *)uptr) == 0) {
			e->port = bpf_ntohs(sa.sin6_port);
			__builtin_memcpy(e->addr, &sa.sin6_addr, 16);
		}
	} else if (fam == AF_UNIX_) {
		if (bpf_probe_read_user_str(e->path, 108, (void *)(uptr + 2)) < 0)
			e->path[0] = 0;
	}
}

/* The socket behind fd, read from the fd table, or NULL (not a socket). */
static __always_inline struct socket *sock_of(int fd)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;

	if (fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds) ||
	    bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) < 0 || !f)
		return NULL;
	if ((BPF_CORE_READ(f, f_inode, i_mode) & 0170000) != 0140000)   /* S_IFSOCK */
		return NULL;
	return BPF_CORE_READ(f, private_data);
}

/* A send's socket: its type (datagram, raw and stream sends mean different things to a
 * reader: packets or a byte stream) and, for a send without an address (send() on a
 * connected socket), the peer the kernel sends to. */
static __always_inline void send_sock(struct ev_sys *e, struct socket *so)
{
	struct sock *sk;
	__u16 fam;

	if (!so)
		return;
	e->a[2] = (__u16)BPF_CORE_READ(so, type);
	if (e->family)
		return;
	sk = BPF_CORE_READ(so, sk);
	fam = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (fam == AF_INET_) {
		__u32 a = BPF_CORE_READ(sk, __sk_common.skc_daddr);

		if (!a)
			return;
		__builtin_memcpy(e->addr, &a, 4);
	} else if (fam == AF_INET6_) {
		bpf_core_read(e->addr, sizeof(e->addr), &sk->__sk_common.skc_v6_daddr);
	} else {
		return;
	}
	e->family = fam;
	e->port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
}

/* The user pointer of a file event's main path (the one --path-prefix checks). */
static __always_inline __u64 file_path_arg(__u32 sc, const __u64 *a)
{
	switch (sc) {
	case SC_OPEN: case SC_CREAT: case SC_MKDIR: case SC_CHMOD: case SC_TRUNCATE:
	case SC_UNLINK: case SC_RMDIR: case SC_CHOWN: case SC_LCHOWN:
		return a[0];
	case SC_RENAME: case SC_LINK: case SC_SYMLINK:
		return a[1];
	case SC_SYMLINKAT:
		return a[2];
	case SC_RENAMEAT: case SC_RENAMEAT2: case SC_LINKAT:
		return a[3];
	default:
		return a[1];
	}
}

/* ---- the prefilter (events/kfilter.h) --------------------------------------------------- */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SC__MAX);
	__type(key, __u32);
	__type(value, struct ev_kf_sc);
} ev_kf SEC(".maps");

/* process name -> the clauses of that syscall whose name set holds it */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct ev_kf_comm_key);
	__type(value, __u32);
} ev_kf_comm SEC(".maps");

/* syscall byte + path prefix -> the clauses whose prefix set holds that prefix or a shorter one
 * (user space ORs them in, since a lookup returns the longest match only) */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 4096);
	__type(key, struct ev_kf_path_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} ev_kf_path SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ev_kf_scratch);
} ev_kf_scratch SEC(".maps");

/* records the prefilter kept in the kernel, per syscall */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SC__MAX);
	__type(key, __u32);
	__type(value, __u64);
} ev_kf_skipped SEC(".maps");

static __always_inline void kf_count(__u32 sc)
{
	__u64 *n = bpf_map_lookup_elem(&ev_kf_skipped, &sc);

	if (n)
		*n += 1;
}

/* The clauses the process name allows. The thread group leader's name: threads rename
 * themselves (java, browsers), the process table names the process by its exec. */
static __always_inline __u32 kf_comm_bits(const struct ev_kf_sc *k, __u32 sc)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct ev_kf_comm_key key = { .sc = sc };
	__u32 *bits;

	BPF_CORE_READ_STR_INTO(&key.comm, t, group_leader, comm);
	bits = bpf_map_lookup_elem(&ev_kf_comm, &key);
	return (k->nocomm | (bits ? *bits : 0)) & k->clauses;
}

/* The open flags of an open (the creat(2) ones for creat), from its arguments. */
static __always_inline __u64 kf_open_flags(__u32 sc, const __u64 *a)
{
	__u64 fl = 0;

	switch (sc) {
	case SC_OPEN: return a[1];
	case SC_OPENAT: return a[2];
	case SC_CREAT: return 01 | 0100 | 01000;
	case SC_OPENAT2:
		/* struct open_how starts with the flags */
		if (bpf_probe_read_user(&fl, sizeof(fl), (void *)a[2]) < 0)
			return 0;
		return fl;
	default: return 0;
	}
}

/* The user pointer of the path a record's `path` holds (0: none, fchmod/fchown). */
static __always_inline __u64 kf_upath(__u32 sc, const __u64 *a)
{
	if (sc == SC_FCHMOD || sc == SC_FCHOWN)
		return 0;
	return file_path_arg(sc, a);
}

/* Whether the path (len bytes, absolute) can start with a prefix of the set: when every prefix
 * has a complete first component (ngate of them, kfilter.c), a path whose first component is
 * none of them misses the trie; a few compares instead of its walk. */
static __always_inline bool kf_gate(const struct ev_kf_sc *k, const char *p, long len)
{
	__u64 w;

	if (!k->ngate)
		return true;
	w = kf_first(p, len);
	for (int i = 0; i < EV_KF_GATE; i++) {
		if (i >= k->ngate)
			break;
		if ((w & k->gmask[i]) == k->gword[i])
			return true;
	}
	return false;
}

/* The clauses of m the path at user address up leaves: one read of it (what the record would
 * hold, the same bytes) into the LPM key, one scan (kfscan.h) for "../" and for what lexical
 * normalisation would change, then the prefix lookup. A path that is relative, or has "//"
 * or "/." ("/./", "/../", a trailing "/." or "/..", and hidden names like "/.x", which cost
 * only a crossing), is not what user space matches: it passes every prefix set.
 * A global function: the verifier walks its loop once per program, not once per caller (the
 * dispatcher inlines a kf_pass per syscall, and the scan there went past its 1M insns). */
__noinline __u32 kf_path(const struct ev_kf_sc *k, __u32 m, __u32 sc, __u64 up)
{
	struct ev_kf_scratch *s;
	struct ev_kf_path_key *key;
	__u32 zero = 0, *bits, r;
	long n;

	s = bpf_map_lookup_elem(&ev_kf_scratch, &zero);
	if (!s || !k)
		return m;
	key = &s->key;
	n = up ? bpf_probe_read_user_str(key->path, sizeof(key->path), (void *)up) : 0;
	if (n <= 0) {
		/* no path (or a fault): the record's path is empty; no "../", no prefix */
		key->path[0] = 0;
		n = 1;
	}
	r = kf_scan(key->path, n - 1);
	/* a path cut here may have its "../" past the cut: kept */
	if ((m & k->needdotdot) && n < (long)sizeof(key->path) && !(r & KF_DOTDOT))
		m &= ~k->needdotdot;
	if (!(m & ~k->nopath) || key->path[0] != '/' || (r & KF_ODD))
		return m;
	if (!kf_gate(k, key->path, n - 1))
		return m & k->nopath;
	key->sc = sc;
	key->prefixlen = 8 + 8 * (__u32)(n - 1);
	bits = bpf_map_lookup_elem(&ev_kf_path, key);
	return m & (k->nopath | (bits ? *bits : 0));
}

/* Whether a syscall passes the prefilter, decided from its arguments before anything is
 * reserved or filled: a record crosses when one clause may hold. Cheapest first: the flags
 * (registers), then the process name (one hash lookup) or the path (a read, a scan, a trie
 * lookup), the name first only when it can decide alone (every clause left names
 * processes); the other test only for the clauses it can still drop. */
static __always_inline bool kf_pass(const struct ev_kf_sc *k, __u32 sc, const __u64 *a)
{
	__u32 m = k->clauses;

	if ((m & k->needwrite) && !(kf_open_flags(sc, a) & (01 | 02 | 0100 | 01000)))
		m &= ~k->needwrite;   /* O_WRONLY O_RDWR O_CREAT O_TRUNC */
	if (!m)
		return false;
	/* a clause with nothing left to test holds */
	if (m & k->nocomm & k->nopath & ~k->needdotdot)
		return true;
	if (!(m & k->nocomm)) {
		m &= kf_comm_bits(k, sc);
		if (!m)
			return false;
		if (m & k->nopath & ~k->needdotdot)
			return true;
		return kf_path(k, m, sc, kf_upath(sc, a)) != 0;
	}
	m = kf_path(k, m, sc, kf_upath(sc, a));
	if (!m)
		return false;
	if (m & k->nocomm)
		return true;
	return (m & kf_comm_bits(k, sc)) != 0;
}

/* One syscall's record from its result and arguments (s: read from the registers or stashed).
 * The filter block was checked by the caller. */
static __always_inline int sys_emit(__s64 ret, struct sysargs *s, __u32 sc, __u32 type,
				    __u32 size, bool file)
{
	const struct ev_kf_sc *kf;
	struct socket *so = NULL;
	struct ev_sys *e;
	__u32 kfkey;
	__u64 *a = s->a;

	if (!ev_result_pass(ret))
		return 0;
	kfkey = sc;   /* a copy: taking sc's address would make it a stack load, not a constant */
	kf = bpf_map_lookup_elem(&ev_kf, &kfkey);
	if (kf && kf->clauses && !kf_pass(kf, sc, a)) {
		/* decided before reserving: no slot taken, no drop counted */
		kf_count(sc);
		return 0;
	}
	if (sc == SC_SENDTO || sc == SC_SENDMSG || sc == SC_SENDMMSG) {
		/* before the reserve: a stream's sends a consumer did not ask for cost no slot */
		so = sock_of((int)a[0]);
		if (ev_cfg.dgram_sends && so && BPF_CORE_READ(so, type) == 1 /* SOCK_STREAM */)
			return 0;
	}
	e = ev_reserve(size);
	if (!e)
		return ev_drop(type, file ? file_path_arg(sc, a) : 0);
	ebee_event_init(&e->hdr, type, size);
	e->ret = ret;
	e->sc = sc;
	e->family = 0;
	e->port = 0;
	e->pad = 0;
	e->flags = 0;
	e->dirfd = AT_FDCWD_;
	e->a[0] = e->a[1] = e->a[2] = e->a[3] = 0;
	__builtin_memset(e->addr, 0, sizeof(e->addr));
	e->path[0] = 0;
	if (size == EV_SYS_SIZE2)
		e->path2[0] = 0;

	/* sc is a constant in each program: one case survives compilation */
	switch (sc) {
	case SC_OPEN: case SC_CREAT: case SC_MKDIR: case SC_CHMOD: case SC_TRUNCATE:
	case SC_UNLINK: case SC_RMDIR: case SC_CHDIR:
		read_path(e->path, a[0], e, EVF_PATH_TRUNC);
		e->a[0] = a[1];                 /* flags (open), mode (mkdir, chmod), length */
		e->a[1] = a[2];                 /* mode (open) */
		if (sc == SC_CREAT) {
			e->a[1] = a[1];
			e->a[0] = 01 | 0100 | 01000;   /* O_WRONLY|O_CREAT|O_TRUNC */
		}
		break;
	case SC_OPENAT: case SC_UNLINKAT: case SC_MKDIRAT: case SC_FCHMODAT:
		e->dirfd = a[0];
		read_path(e->path, a[1], e, EVF_PATH_TRUNC);
		e->a[0] = a[2];
		e->a[1] = a[3];
		break;
	case SC_OPENAT2: {
		struct open_how how = {};

		e->dirfd = a[0];
		read_path(e->path, a[1], e, EVF_PATH_TRUNC);
		bpf_probe_read_user(&how, sizeof(how), (void *)a[2]);
		e->a[0] = how.flags;
		e->a[1] = how.mode;
		e->a[2] = how.resolve;
		break;
	}
	case SC_CHOWN: case SC_LCHOWN:
		read_path(e->path, a[0], e, EVF_PATH_TRUNC);
		e->a[0] = a[1];
		e->a[1] = a[2];
		break;
	case SC_FCHOWNAT:
		e->dirfd = a[0];
		read_path(e->path, a[1], e, EVF_PATH_TRUNC);
		e->a[0] = a[2];
		e->a[1] = a[3];
		e->a[2] = a[4];
		break;
	case SC_FCHMOD:
		e->a[0] = a[1];
		e->a[3] = a[0];                 /* fd */
		break;
	case SC_FCHOWN:
		e->a[0] = a[1];
		e->a[1] = a[2];
		e->a[3] = a[0];
		break;
	case SC_RENAME: case SC_LINK:
		read_path(e->path2, a[0], e, EVF_PATH2_TRUNC);   /* from */
		read_path(e->path, a[1], e, EVF_PATH_TRUNC);     /* to: the new name */
		break;
	case SC_RENAMEAT: case SC_RENAMEAT2: case SC_LINKAT:
		e->a[1] = a[0];                 /* olddirfd */
		read_path(e->path2, a[1], e, EVF_PATH2_TRUNC);
		e->dirfd = a[2];
		read_path(e->path, a[3], e, EVF_PATH_TRUNC);
		if (sc != SC_RENAMEAT)
			e->a[0] = a[4];         /* flags */
		break;
	case SC_SYMLINK:
		read_path(e->path2, a[0], e, EVF_PATH2_TRUNC);   /* target */
		read_path(e->path, a[1], e, EVF_PATH_TRUNC);     /* the link */
		break;
	case SC_SYMLINKAT:
		read_path(e->path2, a[0], e, EVF_PATH2_TRUNC);
		e->dirfd = a[1];
		read_path(e->path, a[2], e, EVF_PATH_TRUNC);
		break;
	case SC_MEMFD:
		read_path(e->path, a[0], e, EVF_PATH_TRUNC);     /* the name */
		e->a[0] = a[1];
		break;
	case SC_MOUNT:
		read_path(e->path2, a[0], e, EVF_PATH2_TRUNC);   /* source */
		read_path(e->path, a[1], e, EVF_PATH_TRUNC);     /* target */
		if (a[2] && bpf_probe_read_user_str(e->addr, sizeof(e->addr), (void *)a[2]) < 0)
			e->addr[0] = 0;                           /* fstype */
		e->a[0] = a[3];
		break;
	case SC_CONNECT: case SC_BIND: case SC_ACCEPT: case SC_ACCEPT4:
		e->a[3] = a[0];                 /* fd */
		if (sc == SC_ACCEPT4)
			e->a[0] = a[3];         /* flags */
		/* accept: the peer address the kernel wrote (when the caller asked for it) */
		if ((sc != SC_ACCEPT && sc != SC_ACCEPT4) || ret >= 0)
			read_sockaddr(e, a[1]);
		break;
	case SC_SENDTO: case SC_SENDMSG: case SC_SENDMMSG: {
		__u64 name = a[4];

		e->a[3] = a[0];                 /* fd */
		/* MSG_* flags; bytes asked (sendto) or messages asked (sendmmsg: vlen) */
		e->a[0] = sc == SC_SENDTO || sc == SC_SENDMMSG ? a[3] : a[2];
		e->a[1] = sc == SC_SENDMSG ? 0 : a[2];
		/* msghdr.msg_name (sendmmsg: the first message's; mmsghdr starts with a msghdr) */
		if (sc != SC_SENDTO && bpf_probe_read_user(&name, sizeof(name), (void *)a[1]) < 0)
			name = 0;
		read_sockaddr(e, name);
		send_sock(e, so);
		break;
	}
	case SC_INIT_MODULE:
		read_path(e->path, a[2], e, EVF_PATH_TRUNC);     /* module parameters */
		e->a[0] = a[1];                 /* image length */
		break;
	case SC_FINIT_MODULE:
		read_path(e->path, a[1], e, EVF_PATH_TRUNC);
		e->a[0] = a[2];                 /* flags */
		e->a[3] = a[0];                 /* fd of the image */
		break;
	case SC_SETUID: case SC_SETGID: case SC_SETREUID: case SC_SETREGID:
		/* ids not passed print as -1 ("unchanged"), as setresuid(2) spells it */
		e->a[0] = a[0];
		e->a[1] = sc == SC_SETREUID || sc == SC_SETREGID ? a[1] : (__u32)-1;
		e->a[2] = (__u32)-1;
		break;
	default:
		/* scalar-only syscalls: socket, listen, close, dup*, ptrace, kill*, set*id */
		e->a[0] = a[0];
		e->a[1] = a[1];
		e->a[2] = a[2];
		e->a[3] = a[3];
		break;
	}
	if (file && !prefix_pass(e->path)) {
		bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
		return 0;
	}
	ebee_submit(events, e);
	return 0;
}

/* The fallback's enter: filter, then the arguments per thread (nargs is a constant per
 * program: the loop unrolls to the syscall's arguments only). */
static __always_inline int sys_enter(struct sys_enter_ctx *ctx, int nargs)
{
	struct sysargs s;
	__u32 tid;

	if (!ebee_filter_pass())
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	for (int i = 0; i < 6; i++)
		s.a[i] = i < nargs ? ctx->args[i] : 0;
	bpf_map_update_elem(&stash, &tid, &s, BPF_ANY);
	return 0;
}

static __always_inline int sys_exit(__s64 ret, __u32 sc, __u32 type, __u32 size, bool file)
{
	struct sysargs regs, *s;
	__u32 tid;

	if (!args_stash) {
		if (!ebee_filter_pass())
			return 0;
		regs_args(&regs, task_regs());
		return sys_emit(ret, &regs, sc, type, size, file);
	}
	tid = (__u32)bpf_get_current_pid_tgid();
	s = bpf_map_lookup_elem(&stash, &tid);
	if (!s)
		return 0;   /* filtered out at enter, or ebee started mid-call */
	sys_emit(ret, s, sc, type, size, file);
	bpf_map_delete_elem(&stash, &tid);
	return 0;
}

/* The enter programs are loaded only with args_stash. */
#define EV_SYS(name, SC, T, N, SIZE, FILE)                                       \
	SEC("tracepoint/syscalls/sys_enter_" #name)                             \
	int ev_en_##name(struct sys_enter_ctx *ctx) { return sys_enter(ctx, N); } \
	SEC("tracepoint/syscalls/sys_exit_" #name)                              \
	int ev_ex_##name(struct sys_exit_ctx *ctx)                              \
	{ return sys_exit(ctx->ret, SC, T, SIZE, FILE); }

#define S1 EV_SYS_SIZE1
#define S2 EV_SYS_SIZE2

/* execve/execveat: exit only. A failed exec leaves the caller's registers as they were at
 * entry, so the arguments are read from its pt_regs: no enter program and no stash on the
 * exec path (a successful exec costs one early return here). */
static __always_inline int exec_fail_regs(__s64 ret, struct pt_regs *regs, bool at)
{
	struct sysargs s;

	if (ret >= 0 || !want_exec || !ebee_filter_pass())
		return 0;
	regs_args(&s, regs);
	return exec_fail(ret, &s, at);
}

static __always_inline int exec_exit(struct sys_exit_ctx *ctx, bool at)
{
	struct sysargs *st;
	__u32 tid;

	if (!args_stash)
		return exec_fail_regs(ctx->ret, task_regs(), at);
	/* the fallback stashes every exec the filter passes: a successful one only deletes */
	tid = (__u32)bpf_get_current_pid_tgid();
	st = bpf_map_lookup_elem(&stash, &tid);
	if (!st)
		return 0;
	if (ctx->ret < 0)
		exec_fail(ctx->ret, st, at);
	bpf_map_delete_elem(&stash, &tid);
	return 0;
}

static __always_inline int exec_enter(struct sys_enter_ctx *ctx, int nargs)
{
	if (!want_exec || ev_cfg.success_only)
		return 0;
	return sys_enter(ctx, nargs);
}

SEC("tracepoint/syscalls/sys_enter_execve")
int ev_en_execve(struct sys_enter_ctx *ctx) { return exec_enter(ctx, 3); }
SEC("tracepoint/syscalls/sys_enter_execveat")
int ev_en_execveat(struct sys_enter_ctx *ctx) { return exec_enter(ctx, 3); }
SEC("tracepoint/syscalls/sys_exit_execve")
int ev_ex_execve(struct sys_exit_ctx *ctx) { return exec_exit(ctx, false); }
SEC("tracepoint/syscalls/sys_exit_execveat")
int ev_ex_execveat(struct sys_exit_ctx *ctx) { return exec_exit(ctx, true); }

/* The syscalls besides exec: name, enum ev_sc, event type, arguments, record size, whether
 * its path is a file's (--path-prefix). Each gets a tracepoint pair and a case of the
 * dispatcher. */
#define EV_SYSCALLS(X) \
	X(open, SC_OPEN, EV_OPEN, 3, S1, 1) \
	X(openat, SC_OPENAT, EV_OPEN, 4, S1, 1) \
	X(openat2, SC_OPENAT2, EV_OPEN, 4, S1, 1) \
	X(creat, SC_CREAT, EV_OPEN, 2, S1, 1) \
	X(unlink, SC_UNLINK, EV_UNLINK, 1, S1, 1) \
	X(unlinkat, SC_UNLINKAT, EV_UNLINK, 3, S1, 1) \
	X(rmdir, SC_RMDIR, EV_UNLINK, 1, S1, 1) \
	X(rename, SC_RENAME, EV_RENAME, 2, S2, 1) \
	X(renameat, SC_RENAMEAT, EV_RENAME, 4, S2, 1) \
	X(renameat2, SC_RENAMEAT2, EV_RENAME, 5, S2, 1) \
	X(chmod, SC_CHMOD, EV_CHMOD, 2, S1, 1) \
	X(fchmod, SC_FCHMOD, EV_CHMOD, 2, S1, 0) \
	X(fchmodat, SC_FCHMODAT, EV_CHMOD, 3, S1, 1) \
	X(chown, SC_CHOWN, EV_CHOWN, 3, S1, 1) \
	X(lchown, SC_LCHOWN, EV_CHOWN, 3, S1, 1) \
	X(fchown, SC_FCHOWN, EV_CHOWN, 3, S1, 0) \
	X(fchownat, SC_FCHOWNAT, EV_CHOWN, 5, S1, 1) \
	X(symlink, SC_SYMLINK, EV_SYMLINK, 2, S2, 1) \
	X(symlinkat, SC_SYMLINKAT, EV_SYMLINK, 3, S2, 1) \
	X(link, SC_LINK, EV_LINK, 2, S2, 1) \
	X(linkat, SC_LINKAT, EV_LINK, 5, S2, 1) \
	X(mkdir, SC_MKDIR, EV_MKDIR, 2, S1, 1) \
	X(mkdirat, SC_MKDIRAT, EV_MKDIR, 3, S1, 1) \
	X(truncate, SC_TRUNCATE, EV_TRUNCATE, 2, S1, 1) \
	X(chdir, SC_CHDIR, EV_CHDIR, 1, S1, 0) \
	X(fchdir, SC_FCHDIR, EV_CHDIR, 1, S1, 0) \
	X(close, SC_CLOSE, EV_CLOSE, 1, S1, 0) \
	X(dup, SC_DUP, EV_DUP, 1, S1, 0) \
	X(dup2, SC_DUP2, EV_DUP, 2, S1, 0) \
	X(dup3, SC_DUP3, EV_DUP, 3, S1, 0) \
	X(memfd_create, SC_MEMFD, EV_MEMFD, 2, S1, 0) \
	X(mount, SC_MOUNT, EV_MOUNT, 5, S2, 0) \
	X(socket, SC_SOCKET, EV_SOCKET, 3, S1, 0) \
	X(connect, SC_CONNECT, EV_CONNECT, 3, S1, 0) \
	X(accept, SC_ACCEPT, EV_ACCEPT, 3, S1, 0) \
	X(accept4, SC_ACCEPT4, EV_ACCEPT, 4, S1, 0) \
	X(bind, SC_BIND, EV_BIND, 3, S1, 0) \
	X(listen, SC_LISTEN, EV_LISTEN, 2, S1, 0) \
	X(sendto, SC_SENDTO, EV_SENDTO, 6, S1, 0) \
	X(sendmsg, SC_SENDMSG, EV_SENDTO, 3, S1, 0) \
	X(sendmmsg, SC_SENDMMSG, EV_SENDTO, 4, S1, 0) \
	X(ptrace, SC_PTRACE, EV_PTRACE, 4, S1, 0) \
	X(kill, SC_KILL, EV_KILL, 2, S1, 0) \
	X(tkill, SC_TKILL, EV_KILL, 2, S1, 0) \
	X(tgkill, SC_TGKILL, EV_KILL, 3, S1, 0) \
	X(setuid, SC_SETUID, EV_SETUID, 1, S1, 0) \
	X(setreuid, SC_SETREUID, EV_SETUID, 2, S1, 0) \
	X(setresuid, SC_SETRESUID, EV_SETUID, 3, S1, 0) \
	X(setgid, SC_SETGID, EV_SETGID, 1, S1, 0) \
	X(setregid, SC_SETREGID, EV_SETGID, 2, S1, 0) \
	X(setresgid, SC_SETRESGID, EV_SETGID, 3, S1, 0) \
	X(init_module, SC_INIT_MODULE, EV_MODULE, 3, S1, 0) \
	X(finit_module, SC_FINIT_MODULE, EV_MODULE, 3, S1, 0)

EV_SYSCALLS(EV_SYS)

/* A 32-bit process's syscall (ia32 on x86_64, AArch32 on arm64): its numbers are another
 * table's, and the per-syscall tracepoints skip it (trace_get_syscall_nr), so the raw hooks do. */
static __always_inline bool compat_syscall(void)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();

#if defined(__TARGET_ARCH_arm64)
	return BPF_CORE_READ(t, thread_info.flags) & (1ul << 22);   /* TIF_32BIT */
#else
	return BPF_CORE_READ(t, thread_info.status) & 0x0002;       /* TS_COMPAT */
#endif
}

/* ---- the dispatcher: one tp_btf program on the raw sys_exit ----------------------------- */
/* It runs on every syscall of the machine: loaded only where a raw sys_exit program is needed
 * anyway (module events without their tracepoints) or tracepoints are not allowed (ev_open). */

#define EV_NR_MAX 1024   /* core/syscalls.h EBEE_MAX_SYSCALLS */
_Static_assert(SC__MAX <= 64, "ev_sc_on is a 64-bit mask");

/* The traced syscalls, set by user space from its syscall table (the architecture's numbers):
 * kernel number -> enum ev_sc (0: not traced), and a bit per enum ev_sc. */
const volatile __u8 ev_nr_sc[EV_NR_MAX] = {};
const volatile __u64 ev_sc_on = 0;

/* A function per syscall, called from its case once the bit test (a constant) says it is
 * asked: the verifier walks only the asked syscalls' bodies and the rest is dropped. Functions,
 * not inlined bodies: each gets its own stack frame (fifty inlined bodies' locals do not fit in
 * one 512-byte frame). */
#define EV_SC_FN(name, SC, T, N, SIZE, FILE)                                    \
	static __noinline int ev_sc_##name(struct pt_regs *regs, long ret)      \
	{                                                                       \
		struct sysargs s;                                               \
									\
		if (!ebee_filter_pass())                                        \
			return 0;                                               \
		regs_args(&s, regs);                                            \
		return sys_emit(ret, &s, SC, T, SIZE, FILE);                    \
	}
EV_SYSCALLS(EV_SC_FN)

static __noinline int ev_sc_execve(struct pt_regs *regs, long ret)
{
	return exec_fail_regs(ret, regs, false);
}

static __noinline int ev_sc_execveat(struct pt_regs *regs, long ret)
{
	return exec_fail_regs(ret, regs, true);
}

#define EV_CASE(name, SC, T, N, SIZE, FILE)                                     \
	case SC:                                                                \
		return ev_sc_on & (1ull << SC) ? ev_sc_##name(regs, ret) : 0;

/* Every syscall exit of the machine comes here: the number's table entry decides at once; the
 * registers are the argument (no bpf_task_pt_regs, no trace record, no stash). */
SEC("tp_btf/sys_exit")
int BPF_PROG(ev_sys_exit, struct pt_regs *regs, long ret)
{
#if defined(__TARGET_ARCH_arm64)
	__u64 nr = regs->syscallno;
#else
	__u64 nr = regs->orig_ax;
#endif
	__u32 sc;

	if (nr >= EV_NR_MAX)
		return 0;
	sc = ev_nr_sc[nr];
	if (!sc || compat_syscall())
		return 0;
	switch (sc) {
	EV_CASE(execve, SC_EXECVE, EV_EXEC, 3, S1, 0)
	EV_CASE(execveat, SC_EXECVEAT, EV_EXEC, 3, S1, 0)
	EV_SYSCALLS(EV_CASE)
	}
	return 0;
}

/* ---- module loads on the tracepoint fallback ---------------------------------------------- */

/* Where tp_btf is not allowed and this kernel has no sys_enter/exit_(f)init_module tracepoints
 * (their syscall metadata is compiled out without module support, where the call fails with
 * ENOSYS): the raw_syscalls tracepoint, filtered on the number first. Loaded only then and only
 * when module events are asked: it runs on every syscall exit. */
#if defined(__TARGET_ARCH_arm64)
#define NR_INIT_MODULE 105
#define NR_FINIT_MODULE 273
#else
#define NR_INIT_MODULE 175
#define NR_FINIT_MODULE 313
#endif

/* the exit's id is a long where the per-syscall context has an int and padding: the low 32
 * bits either way */
SEC("tracepoint/raw_syscalls/sys_exit")
int ev_raw_exit_tp(struct sys_exit_ctx *ctx)
{
	if (ctx->nr != NR_INIT_MODULE && ctx->nr != NR_FINIT_MODULE)
		return 0;
	if (compat_syscall())
		return 0;
	if (ctx->nr == NR_INIT_MODULE)
		return sys_exit(ctx->ret, SC_INIT_MODULE, EV_MODULE, S1, 0);
	return sys_exit(ctx->ret, SC_FINIT_MODULE, EV_MODULE, S1, 0);
}

/* Its enter, with args_stash only (the same layout: a long id, then the arguments) */
SEC("tracepoint/raw_syscalls/sys_enter")
int ev_raw_enter_tp(struct sys_enter_ctx *ctx)
{
	if ((ctx->nr == NR_INIT_MODULE || ctx->nr == NR_FINIT_MODULE) && !compat_syscall())
		return sys_enter(ctx, 3);
	return 0;
}
