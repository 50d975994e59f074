// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only)
/* ebee uprobe: one generic program attached at every probe site. The bpf_cookie of each
 * attachment names the function (index into `layouts`) and the kind of site. Entries are kept
 * in `inflight` until their return; the return completes the record and emits it. Go returns
 * come from uprobes on RET instructions (never uretprobes: the Go runtime moves stacks and
 * goroutines between threads, a uretprobe's hijacked return address breaks both). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "emit.bpf.h"
#include "uprobe.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 targ_tgid = 0;     /* 0 = every process */
const volatile __u8 aggregate = 0;      /* --count/--hist: counters only, no events */

EBEE_RINGBUF(events, 4 << 20);

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, UP_MAX_FUNCS);
	__type(key, __u32);
	__type(value, struct up_layout);
} layouts SEC(".maps");

/* Calls between entry and return; LRU so calls that never return (panics, Goexit, longjmp)
 * cannot fill it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct up_key);
	__type(value, struct up_event);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct up_key);
	__type(value, __u64);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, UP_MAX_FUNCS * UP_NSTAT);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, UP_MAX_FUNCS * UP_HIST_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} hist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct up_event);
} scratch SEC(".maps");

static __always_inline void add(__u32 fn, __u32 stat, __u64 n)
{
	__u32 k = fn * UP_NSTAT + stat;
	__u64 *v = bpf_map_lookup_elem(&stats, &k);

	if (v)
		*v += n;   /* per-CPU slot: no atomic needed */
}
#define bump(fn, stat) add(fn, stat, 1)

/* The argument registers, copied once: indexing ctx by a variable is refused by the verifier
 * (the compiler turns a switch over ctx fields into ctx + offset). */
struct regs {
	__u64 r[UP_GO_NREGS];
};

static __always_inline void load_regs(struct pt_regs *ctx, __u8 abi, bool is_ret, struct regs *rg)
{
	if (abi == UP_ABI_GO) {
		/* Go ABIInternal (amd64): integer arguments and results in this order */
		rg->r[UP_GO_RAX] = ctx->ax;
		rg->r[UP_GO_RBX] = ctx->bx;
		rg->r[UP_GO_RCX] = ctx->cx;
		rg->r[UP_GO_RDI] = ctx->di;
		rg->r[UP_GO_RSI] = ctx->si;
		rg->r[UP_GO_R8] = ctx->r8;
		rg->r[UP_GO_R9] = ctx->r9;
		rg->r[UP_GO_R10] = ctx->r10;
		rg->r[UP_GO_R11] = ctx->r11;
	} else if (is_ret) {
		rg->r[0] = PT_REGS_RC(ctx);
	} else {
		/* System V: the first six integer arguments */
		rg->r[0] = PT_REGS_PARM1(ctx);
		rg->r[1] = PT_REGS_PARM2(ctx);
		rg->r[2] = PT_REGS_PARM3(ctx);
		rg->r[3] = PT_REGS_PARM4(ctx);
		rg->r[4] = PT_REGS_PARM5(ctx);
		rg->r[5] = ctx->r9;   /* PT_REGS_PARM6 is newer than libbpf 1.1 */
	}
}

static __always_inline __u64 reg(const struct regs *rg, __u8 i)
{
	return i < UP_GO_NREGS ? rg->r[i] : 0;
}

/* Reads one value (slot i) into e: the raw register, and for str/bytes a bounded copy of the
 * memory it points to. Go strings and slices are (ptr, len): read min(len, size) bytes with
 * bpf_probe_read_user, never _str (Go strings are not NUL-terminated). */
static __always_inline void capture(const struct regs *rg, const struct up_arg *a, __u8 abi,
				    struct up_event *e, __u32 i)
{
	__u64 v, n, off;
	long r;

	if (i >= UP_NSLOTS)
		return;
	v = reg(rg, a->reg);
	e->val[i] = v;
	e->got[i] = 0;
	if (a->type != UP_T_STR && a->type != UP_T_BYTES)
		return;
	n = a->size;
	if (a->reg2 != UP_REG_NONE) {
		__u64 len = reg(rg, a->reg2);

		e->len[i] = len;
		if (len < n)
			n = len;
	}
	if (n > UP_SLOT_MAX)
		n = UP_SLOT_MAX;
	if (n == 0 || !v)
		return;
	off = a->off & (UP_DATA_MAX - 1);
	if (abi == UP_ABI_C && a->type == UP_T_STR) {
		r = bpf_probe_read_user_str(e->data + off, n, (void *)v);
		e->got[i] = r > 0 ? r - 1 : UP_GOT_FAULT;
	} else {
		r = bpf_probe_read_user(e->data + off, n, (void *)v);
		e->got[i] = r ? UP_GOT_FAULT : n;
	}
}

/* Events are sent without the unused tail of data (a 64-byte string: 232 bytes, not 936). */
static __always_inline __u64 event_size(const struct up_layout *l)
{
	__u64 n = l->data_len;

	if (n > UP_DATA_MAX)
		n = UP_DATA_MAX;
	return offsetof(struct up_event, data) + n;
}

static __always_inline __u32 hist_slot(__u64 ns)
{
	__u32 s = 0;

	while (ns > 1 && s < UP_HIST_SLOTS - 1) {   /* bounded loop */
		ns >>= 1;
		s++;
	}
	return s;
}

SEC("uprobe")
int ebee_uprobe(struct pt_regs *ctx)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u32 fn = UP_COOKIE_FN(cookie), site = UP_COOKIE_SITE(cookie);
	__u64 id = bpf_get_current_pid_tgid();
	struct up_layout *l;
	struct up_key key = {};
	struct up_event *e;
	struct regs rg = {};
	__u64 now, g = 0;
	__u32 zero = 0;

	if (targ_tgid && (id >> 32) != targ_tgid)
		return 0;
	l = bpf_map_lookup_elem(&layouts, &fn);
	if (!l)
		return 0;
	if (site == UP_SITE_ENTRY && (ctx->flags & l->skip_flags)) {
		bump(fn, UP_ST_GROWN);   /* about to grow the stack: counted on the second pass */
		return 0;
	}

	key.fn = fn;
	if (l->abi == UP_ABI_GO) {
		/* R14 holds the current g in Go ABIInternal code; g.stack.hi is at offset 8.
		 * stack.hi - sp is the same at entry and at RET, even after the stack moved. */
		__u64 hi = 0;

		g = ctx->r14;
		bpf_probe_read_user(&hi, sizeof(hi), (void *)(g + 8));
		key.ctx = g;
		key.depth = hi ? hi - ctx->sp : ctx->sp;
	} else {
		/* The uretprobe sees sp after `ret` popped the return address. */
		key.ctx = id;
		key.depth = site == UP_SITE_CRET ? ctx->sp - 8 : ctx->sp;
	}
	now = bpf_ktime_get_ns();

	if (site == UP_SITE_ENTRY) {
		bump(fn, UP_ST_ENTRY);
		if (aggregate) {
			if (l->has_ret)
				bpf_map_update_elem(&starts, &key, &now, BPF_ANY);
			return 0;
		}
		e = bpf_map_lookup_elem(&scratch, &zero);
		if (!e)
			return 0;
		e->ts = now;
		e->lat_ns = 0;
		e->pid = id >> 32;
		e->tid = (__u32)id;
		e->fn = fn;
		e->flags = 0;
		e->goid = 0;
		if (g) {
			e->goid = g;
			if (l->goid_off)
				bpf_probe_read_user(&e->goid, sizeof(e->goid), (void *)(g + l->goid_off));
		}
		load_regs(ctx, l->abi, false, &rg);
		for (__u32 i = 0; i < UP_NARGS; i++) {
			if (l->a[i].type == UP_T_NONE)
				break;
			capture(&rg, &l->a[i], l->abi, e, i);
		}
		if (l->has_ret)
			bpf_map_update_elem(&inflight, &key, e, BPF_ANY);
		else
			ebee_output(events, e, event_size(l));
		return 0;
	}

	bump(fn, UP_ST_RETURN);
	if (aggregate) {
		__u64 *t = bpf_map_lookup_elem(&starts, &key);
		__u32 k;
		__u64 *c;

		if (!t) {
			bump(fn, UP_ST_UNMATCHED);
			return 0;
		}
		add(fn, UP_ST_LATSUM, now - *t);
		k = fn * UP_HIST_SLOTS + hist_slot(now - *t);
		c = bpf_map_lookup_elem(&hist, &k);
		if (c)
			*c += 1;
		bpf_map_delete_elem(&starts, &key);
		return 0;
	}
	e = bpf_map_lookup_elem(&inflight, &key);
	if (!e) {
		bump(fn, UP_ST_UNMATCHED);
		return 0;
	}
	e->lat_ns = now - e->ts;
	e->flags |= UP_EV_RET;
	if (l->a[UP_RET].type != UP_T_NONE) {
		load_regs(ctx, l->abi, true, &rg);
		capture(&rg, &l->a[UP_RET], l->abi, e, UP_RET);
	}
	ebee_output(events, e, event_size(l));
	bpf_map_delete_elem(&inflight, &key);
	return 0;
}
