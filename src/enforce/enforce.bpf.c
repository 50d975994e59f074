// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only)
/* Enforcement in the kernel. One decision body (enf_decide) runs at every hook; each hook knows
 * its action kind (exec, open, connect...) and its mechanism:
 *   lsm     BPF LSM hooks return -EPERM (and send SIGKILL for `kill`): the action never happens
 *   cgroup  cgroup/connect4/6, bind4/6, sendmsg4/6 on the cgroup2 root return 0: EPERM
 *   signal  syscall-entry tracepoints send SIGKILL; the syscall still starts (see docs)
 * A hook acts only for the rules the user side gave its (mechanism, kind) in tables.mask, so
 * one rule is enforced by exactly one mechanism. Audit (no --enforce) emits the same alert and
 * does nothing else. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "core/bpf/emit.bpf.h"
#include "core/bpf/event.bpf.h"
#include "enforce/enforce.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define EPERM_ 1
#define SIGKILL_ 9
#define AF_INET_ 2
#define AF_INET6_ 10

const volatile struct enf_tables tables = {};

/* The LSM canary (user side arms it, opens /dev/null, expects EPERM, disarms). */
__u32 canary_tgid = 0;
__u64 canary_hits = 0;

EBEE_RINGBUF(enf_events, 256 * 1024);

#define LOOKUP_MAP(name, mtype, ktype)                    \
	struct {                                          \
		__uint(type, mtype);                      \
		__uint(max_entries, ENF_MAP_ENTRIES);     \
		__type(key, ktype);                       \
		__type(value, __u64);                     \
	} name SEC(".maps")

LOOKUP_MAP(enf_comm, BPF_MAP_TYPE_HASH, struct enf_comm_key);
LOOKUP_MAP(enf_uid, BPF_MAP_TYPE_HASH, __u32);
LOOKUP_MAP(enf_cgroup, BPF_MAP_TYPE_HASH, __u64);
LOOKUP_MAP(enf_port, BPF_MAP_TYPE_HASH, __u16);

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, ENF_MAP_ENTRIES);
	__type(key, struct enf_path_key);
	__type(value, __u64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} enf_path SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, ENF_MAP_ENTRIES);
	__type(key, struct enf_addr_key);
	__type(value, __u64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} enf_addr SEC(".maps");

/* What a hook knows of the action. */
struct enf_ctx {
	struct enf_path_key pk;      /* path (exec/open), prefixlen = whole buffer */
	struct enf_comm_key comm;    /* the comm the rule compares: exec's new one */
	struct enf_addr_key ak;
	__u16 port;
	__u8 has_path, has_addr;
	__u8 mode;                   /* open: ENF_OPEN_READ | ENF_OPEN_WRITE */
	__s32 target;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct enf_ctx);
} enf_scratch SEC(".maps");

static __always_inline struct enf_ctx *ctx_get(void)
{
	__u32 zero = 0;
	struct enf_ctx *c = bpf_map_lookup_elem(&enf_scratch, &zero);

	if (c) {
		c->has_path = c->has_addr = 0;
		c->mode = 0;
		c->port = 0;
		c->target = 0;
		bpf_get_current_comm(c->comm.comm, sizeof(c->comm.comm));
	}
	return c;
}

static __always_inline __u64 hit(void *map, const void *key)
{
	__u64 *m = bpf_map_lookup_elem(map, key);

	return m ? *m : 0;
}

#define PASS(d, h) (tables.any[d] | ((h) ^ tables.neg[d]))

/* proc.cgroup names a subtree: the rules of the caller's cgroup and of its ancestors. Only
 * when some rule has a cgroup set (all-any costs nothing). */
static __always_inline __u64 cgroup_hit(void)
{
	__u64 h = 0, id;

	if (!~tables.any[DIM_CGROUP])
		return 0;
	for (int level = 0; level <= ENF_CG_LEVELS; level++) {
		id = bpf_get_current_ancestor_cgroup_id(level);
		if (!id)
			break;
		h |= hit(&enf_cgroup, &id);
	}
	return h;
}

/* The rule that matches (lowest index), or -1. */
static __always_inline int enf_match(struct enf_ctx *c, int mech, int kind)
{
	__u64 m = tables.mask[mech][kind];
	__u64 uidgid;
	__u32 uid;
	__u16 port;

	if (!m)
		return -1;
	if ((bpf_get_current_pid_tgid() >> 32) == tables.self_tgid)
		return -1;
	if ((bpf_get_current_pid_tgid() >> 32) == 1)
		return -1;
	/* evt.is_open_read / evt.is_open_write: false for what is not such an open */
	if (!(c->mode & ENF_OPEN_READ))
		m &= ~tables.open_read;
	if (!(c->mode & ENF_OPEN_WRITE))
		m &= ~tables.open_write;
	m &= PASS(DIM_COMM, hit(&enf_comm, &c->comm));
	if (!m)
		return -1;
	uidgid = bpf_get_current_uid_gid();
	uid = (__u32)uidgid;
	m &= PASS(DIM_UID, hit(&enf_uid, &uid));
	m &= PASS(DIM_CGROUP, cgroup_hit());
	if (!m)
		return -1;
	port = c->port;
	m &= PASS(DIM_PORT, c->port ? hit(&enf_port, &port) : 0);
	m &= PASS(DIM_ADDR, c->has_addr ? hit(&enf_addr, &c->ak) : 0);
	if (m && c->has_path) {
		c->pk.prefixlen = ENF_PATH_LEN * 8;
		m &= PASS(DIM_PATH, hit(&enf_path, &c->pk));
	} else {
		m &= PASS(DIM_PATH, 0);
	}
	if (!m)
		return -1;
	/* lowest set bit */
	for (int i = 0; i < ENF_MAX_RULES; i++)
		if (m >> i & 1)
			return i;
	return -1;
}

static __always_inline void enf_emit(struct enf_ctx *c, int rule, int mech, int kind, int action)
{
	struct enf_event *e = ebee_reserve(enf_events, sizeof(*e));

	if (!e) {
		ebee_drop(enf_events);
		return;
	}
	ebee_event_init(&e->hdr, EV_ENFORCE, sizeof(*e));
	e->rule = rule;
	e->kind = kind;
	e->action = action;
	e->mech = mech;
	e->family = c->has_addr ? c->ak.family : 0;
	e->port = c->port;
	e->target = c->target;
	e->mode = c->mode;
	e->pad[0] = e->pad[1] = e->pad[2] = 0;
	__builtin_memcpy(e->addr, c->ak.addr, 16);
	if (c->has_path)
		__builtin_memcpy(e->path, c->pk.path, ENF_PATH_LEN);
	else
		e->path[0] = 0;
	ebee_submit(enf_events, e);
}

/* Decide and act. Returns the action taken (ENF_AUDIT when matched in audit, -1 no match). */
static __always_inline int enf_decide(struct enf_ctx *c, int mech, int kind)
{
	int r = enf_match(c, mech, kind);
	int action;

	if (r < 0 || r >= ENF_MAX_RULES)
		return -1;
	action = tables.action[r];
	if (action == ENF_KILL && mech != MECH_CGROUP)
		bpf_send_signal(SIGKILL_);
	enf_emit(c, r, mech, kind, action);
	return action;
}

struct basename_scan {
	struct enf_ctx *c;
	__u32 last;
};

static long find_slash(__u64 i, void *data)
{
	struct basename_scan *b = data;
	char ch;

	if (i >= ENF_PATH_LEN)
		return 1;
	ch = b->c->pk.path[i & (ENF_PATH_LEN - 1)];
	if (!ch)
		return 1;
	if (ch == '/')
		b->last = i + 1;
	return 0;
}

/* comm of an exec: the basename of the path, as the kernel will set it (15 chars). The scan
 * runs in a bpf_loop callback: verified once, not once per possible position of the '/'. */
static __always_inline void exec_comm(struct enf_ctx *c)
{
	struct basename_scan b = { .c = c, .last = 0 };
	__u32 last;

	bpf_loop(ENF_PATH_LEN, find_slash, &b, 0);
	last = b.last;
	__builtin_memset(c->comm.comm, 0, sizeof(c->comm.comm));
	for (int i = 0; i < 15; i++) {
		__u32 j = last + i;
		char ch;
		if (j >= ENF_PATH_LEN)
			break;
		ch = c->pk.path[j & (ENF_PATH_LEN - 1)];
		if (!ch)
			break;
		c->comm.comm[i] = ch;
	}
}

static __always_inline long read_user_path(struct enf_ctx *c, const char *p)
{
	long n;

	__builtin_memset(c->pk.path, 0, ENF_PATH_LEN);
	n = bpf_probe_read_user_str(c->pk.path, ENF_PATH_LEN, p);
	if (n > 0)
		c->has_path = 1;
	return n;
}

/* ---- signal: syscall-entry tracepoints ------------------------------------------------ */

static __always_inline int tp_exec(const char *filename)
{
	struct enf_ctx *c = ctx_get();

	if (!c)
		return 0;
	read_user_path(c, filename);
	exec_comm(c);
	enf_decide(c, MECH_SIGNAL, ENF_EXEC);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_execve")
int enf_tp_execve(struct trace_event_raw_sys_enter *ctx)
{
	return tp_exec((const char *)ctx->args[0]);
}

SEC("tracepoint/syscalls/sys_enter_execveat")
int enf_tp_execveat(struct trace_event_raw_sys_enter *ctx)
{
	return tp_exec((const char *)ctx->args[1]);
}

#define O_ACCMODE_ 3
#define O_WRONLY_ 1
#define O_RDWR_ 2

/* The access an open's flags ask for (as Falco's evt.is_open_read/write: the access mode) */
static __always_inline __u8 open_mode(__u64 flags)
{
	__u64 acc = flags & O_ACCMODE_;

	return (acc == O_WRONLY_ ? 0 : ENF_OPEN_READ) | (acc == O_WRONLY_ || acc == O_RDWR_ ? ENF_OPEN_WRITE : 0);
}

static __always_inline int tp_open(const char *filename, __u64 flags)
{
	struct enf_ctx *c;

	if (!tables.mask[MECH_SIGNAL][ENF_OPEN])
		return 0;
	c = ctx_get();
	if (!c)
		return 0;
	read_user_path(c, filename);
	c->mode = open_mode(flags);
	enf_decide(c, MECH_SIGNAL, ENF_OPEN);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int enf_tp_openat(struct trace_event_raw_sys_enter *ctx) { return tp_open((const char *)ctx->args[1], ctx->args[2]); }
SEC("tracepoint/syscalls/sys_enter_open")
int enf_tp_open(struct trace_event_raw_sys_enter *ctx) { return tp_open((const char *)ctx->args[0], ctx->args[1]); }
/* creat(2) is open(O_CREAT|O_WRONLY|O_TRUNC) */
SEC("tracepoint/syscalls/sys_enter_creat")
int enf_tp_creat(struct trace_event_raw_sys_enter *ctx) { return tp_open((const char *)ctx->args[0], O_WRONLY_); }

SEC("tracepoint/syscalls/sys_enter_openat2")
int enf_tp_openat2(struct trace_event_raw_sys_enter *ctx)
{
	__u64 flags = 0;   /* struct open_how starts with the flags */

	bpf_probe_read_user(&flags, sizeof(flags), (void *)ctx->args[2]);
	return tp_open((const char *)ctx->args[1], flags);
}

/* Module loads: init_module (an image in memory, no path) and finit_module (an fd: its path is
 * known to the LSM hook only, so a path rule on module loads needs lsm; efile.c refuses it) */
static __always_inline int tp_module(void)
{
	struct enf_ctx *c;

	if (!tables.mask[MECH_SIGNAL][ENF_MODULE])
		return 0;
	c = ctx_get();
	if (c)
		enf_decide(c, MECH_SIGNAL, ENF_MODULE);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_init_module")
int enf_tp_init_module(struct trace_event_raw_sys_enter *ctx) { return tp_module(); }
SEC("tracepoint/syscalls/sys_enter_finit_module")
int enf_tp_finit_module(struct trace_event_raw_sys_enter *ctx) { return tp_module(); }

/* connect/bind from the syscall's sockaddr in user memory */
static __always_inline int tp_sock(const void *uaddr, int kind)
{
	struct enf_ctx *c;
	struct sockaddr_in6 sa = {};

	if (!tables.mask[MECH_SIGNAL][kind])
		return 0;
	c = ctx_get();
	if (!c)
		return 0;
	if (bpf_probe_read_user(&sa, sizeof(sa), uaddr) && bpf_probe_read_user(&sa, sizeof(struct sockaddr_in), uaddr))
		return 0;
	__builtin_memset(&c->ak, 0, sizeof(c->ak));
	if (sa.sin6_family == AF_INET_) {
		struct sockaddr_in *s4 = (void *)&sa;
		c->ak.family = 4;
		__builtin_memcpy(c->ak.addr, &s4->sin_addr, 4);
		c->port = bpf_ntohs(s4->sin_port);
	} else if (sa.sin6_family == AF_INET6_) {
		c->ak.family = 6;
		__builtin_memcpy(c->ak.addr, &sa.sin6_addr, 16);
		c->port = bpf_ntohs(sa.sin6_port);
	} else {
		return 0;
	}
	c->ak.prefixlen = 8 + 128;
	c->has_addr = 1;
	enf_decide(c, MECH_SIGNAL, kind);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_connect")
int enf_tp_connect(struct trace_event_raw_sys_enter *ctx) { return tp_sock((void *)ctx->args[1], ENF_CONNECT); }
SEC("tracepoint/syscalls/sys_enter_bind")
int enf_tp_bind(struct trace_event_raw_sys_enter *ctx) { return tp_sock((void *)ctx->args[1], ENF_BIND); }

SEC("tracepoint/syscalls/sys_enter_ptrace")
int enf_tp_ptrace(struct trace_event_raw_sys_enter *ctx)
{
	struct enf_ctx *c;

	if (!tables.mask[MECH_SIGNAL][ENF_PTRACE])
		return 0;
	c = ctx_get();
	if (!c)
		return 0;
	c->target = (__s32)ctx->args[1];
	enf_decide(c, MECH_SIGNAL, ENF_PTRACE);
	return 0;
}

/* ---- cgroup: sock_addr hooks on the cgroup2 root ---------------------------------------- */

static __always_inline int cg_sock(struct bpf_sock_addr *sa, int kind, int v6)
{
	struct enf_ctx *c = ctx_get();

	if (!c)
		return 1;
	__builtin_memset(&c->ak, 0, sizeof(c->ak));
	if (v6) {
		__u32 w[4];
		w[0] = sa->user_ip6[0];
		w[1] = sa->user_ip6[1];
		w[2] = sa->user_ip6[2];
		w[3] = sa->user_ip6[3];
		c->ak.family = 6;
		__builtin_memcpy(c->ak.addr, w, 16);
	} else {
		__u32 a = sa->user_ip4;
		c->ak.family = 4;
		__builtin_memcpy(c->ak.addr, &a, 4);
	}
	c->ak.prefixlen = 8 + 128;
	c->has_addr = 1;
	c->port = bpf_ntohs((__u16)sa->user_port);
	return enf_decide(c, MECH_CGROUP, kind) == ENF_DENY ? 0 : 1;
}

SEC("cgroup/connect4")
int enf_cg_connect4(struct bpf_sock_addr *sa) { return cg_sock(sa, ENF_CONNECT, 0); }
SEC("cgroup/connect6")
int enf_cg_connect6(struct bpf_sock_addr *sa) { return cg_sock(sa, ENF_CONNECT, 1); }
SEC("cgroup/bind4")
int enf_cg_bind4(struct bpf_sock_addr *sa) { return cg_sock(sa, ENF_BIND, 0); }
SEC("cgroup/bind6")
int enf_cg_bind6(struct bpf_sock_addr *sa) { return cg_sock(sa, ENF_BIND, 1); }
SEC("cgroup/sendmsg4")
int enf_cg_sendmsg4(struct bpf_sock_addr *sa) { return cg_sock(sa, ENF_SENDMSG, 0); }
SEC("cgroup/sendmsg6")
int enf_cg_sendmsg6(struct bpf_sock_addr *sa) { return cg_sock(sa, ENF_SENDMSG, 1); }

/* ---- lsm ------------------------------------------------------------------------------- */

static __always_inline int lsm_ret(int action)
{
	return action == ENF_DENY || action == ENF_KILL ? -EPERM_ : 0;
}

SEC("lsm/bprm_check_security")
int BPF_PROG(enf_lsm_exec, struct linux_binprm *bprm, int ret)
{
	struct enf_ctx *c;
	long n;

	if (ret)
		return ret;
	c = ctx_get();
	if (!c)
		return 0;
	__builtin_memset(c->pk.path, 0, ENF_PATH_LEN);
	n = bpf_probe_read_kernel_str(c->pk.path, ENF_PATH_LEN, BPF_CORE_READ(bprm, filename));
	if (n > 0)
		c->has_path = 1;
	exec_comm(c);
	return lsm_ret(enf_decide(c, MECH_LSM, ENF_EXEC));
}

static __always_inline int lsm_sock(struct sockaddr *address, int kind)
{
	struct enf_ctx *c = ctx_get();
	__u16 fam;

	if (!c)
		return 0;
	fam = BPF_CORE_READ(address, sa_family);
	__builtin_memset(&c->ak, 0, sizeof(c->ak));
	if (fam == AF_INET_) {
		struct sockaddr_in *s4 = (void *)address;
		c->ak.family = 4;
		bpf_probe_read_kernel(c->ak.addr, 4, &s4->sin_addr);
		c->port = bpf_ntohs(BPF_CORE_READ(s4, sin_port));
	} else if (fam == AF_INET6_) {
		struct sockaddr_in6 *s6 = (void *)address;
		c->ak.family = 6;
		bpf_probe_read_kernel(c->ak.addr, 16, &s6->sin6_addr);
		c->port = bpf_ntohs(BPF_CORE_READ(s6, sin6_port));
	} else {
		return 0;
	}
	c->ak.prefixlen = 8 + 128;
	c->has_addr = 1;
	return lsm_ret(enf_decide(c, MECH_LSM, kind));
}

SEC("lsm/socket_connect")
int BPF_PROG(enf_lsm_connect, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	return ret ? ret : lsm_sock(address, ENF_CONNECT);
}

SEC("lsm/socket_bind")
int BPF_PROG(enf_lsm_bind, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	return ret ? ret : lsm_sock(address, ENF_BIND);
}

SEC("lsm/ptrace_access_check")
int BPF_PROG(enf_lsm_ptrace, struct task_struct *child, unsigned int mode, int ret)
{
	struct enf_ctx *c;

	if (ret)
		return ret;
	c = ctx_get();
	if (!c)
		return 0;
	c->target = BPF_CORE_READ(child, tgid);
	return lsm_ret(enf_decide(c, MECH_LSM, ENF_PTRACE));
}

#define FMODE_READ_ 0x1
#define FMODE_WRITE_ 0x2
#define FMODE_EXEC_ 0x20

/* The file's path as the kernel resolved it (absolute, symlinks followed): bpf_d_path is
 * allowed in the hooks that may sleep (file_open, kernel_read_file), also from a non-sleepable
 * program, which keeps the LPM tries usable. */
static __always_inline void file_path(struct enf_ctx *c, struct file *file)
{
	long n;

	__builtin_memset(c->pk.path, 0, ENF_PATH_LEN);
	n = bpf_d_path((struct path *)&file->f_path, c->pk.path, ENF_PATH_LEN);
	if (n > 0)
		c->has_path = 1;
}

SEC("lsm/file_open")
int BPF_PROG(enf_lsm_open, struct file *file, int ret)
{
	struct enf_ctx *c;
	__u32 fmode;

	if (ret)
		return ret;
	fmode = BPF_CORE_READ(file, f_mode);
	/* an exec opens its binary too: exec rules decide those */
	if (fmode & FMODE_EXEC_)
		return 0;
	c = ctx_get();
	if (!c)
		return 0;
	file_path(c, file);
	c->mode = (fmode & FMODE_READ_ ? ENF_OPEN_READ : 0) | (fmode & FMODE_WRITE_ ? ENF_OPEN_WRITE : 0);
	return lsm_ret(enf_decide(c, MECH_LSM, ENF_OPEN));
}

SEC("lsm/kernel_read_file")
int BPF_PROG(enf_lsm_module_file, struct file *file, enum kernel_read_file_id id, bool contents, int ret)
{
	struct enf_ctx *c;

	if (ret)
		return ret;
	if (id != bpf_core_enum_value(enum kernel_read_file_id, READING_MODULE))
		return 0;
	c = ctx_get();
	if (!c)
		return 0;
	file_path(c, file);
	return lsm_ret(enf_decide(c, MECH_LSM, ENF_MODULE));
}

SEC("lsm/kernel_load_data")
int BPF_PROG(enf_lsm_module_data, enum kernel_load_data_id id, bool contents, int ret)
{
	struct enf_ctx *c;

	if (ret)
		return ret;
	if (id != bpf_core_enum_value(enum kernel_load_data_id, LOADING_MODULE))
		return 0;
	c = ctx_get();
	return c ? lsm_ret(enf_decide(c, MECH_LSM, ENF_MODULE)) : 0;
}

/* The canary: while armed, ebee's own opens are refused. If the kernel lets the open through,
 * the bpf LSM is not active (the silent no-op of an lsm= line without bpf). */
SEC("lsm/file_open")
int BPF_PROG(enf_lsm_canary, struct file *file, int ret)
{
	if (ret)
		return ret;
	if (canary_tgid && (bpf_get_current_pid_tgid() >> 32) == canary_tgid) {
		__sync_fetch_and_add(&canary_hits, 1);
		return -EPERM_;
	}
	return 0;
}
