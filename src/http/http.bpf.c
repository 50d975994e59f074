// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only)
/* ebee http: Go net/http requests from uprobes. serverHandler.ServeHTTP's entry reads the
 * *Request (Go ABIInternal: sh.srv in RAX, the ResponseWriter interface in RBX:RCX, req in RDI)
 * and keeps a half-built event per goroutine; (*response).WriteHeader (receiver RAX, code RBX)
 * records the status on the same goroutine; a uprobe on every RET of ServeHTTP completes and
 * emits it. Where the binary has (*response).finishRequest (HTTP/1, called by conn.serve right
 * after ServeHTTP returns) its entry ends the request instead and the status is read from the
 * response: one emulated trap per request where the RET probe costs two (x86 single-steps RET)
 * and WriteHeader one more. The client side is the same with (*Client).do (c in RAX, req in RBX; returns
 * *Response in RAX). Never uretprobes: Go moves goroutine stacks and goroutines between
 * threads, a hijacked return address breaks both. Requests whose memory cannot be read are
 * dropped and counted, never sent half-filled. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "event.bpf.h"
#include "emit.bpf.h"
#include "http.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 targ_tgid = 0;           /* 0 = every process running the binary */
const volatile struct http_offsets off = {};
/* The entry probes sit on the stack check's conditional jump (one trap instead of a trap and
 * a single-step); when these EFLAGS bits are set the jump goes to runtime.morestack and the
 * function starts again, so that pass is skipped. 0 = the probe is after the check. */
const volatile __u16 srv_skip_flags = 0;
const volatile __u16 cli_skip_flags = 0;
const volatile __u16 fin_skip_flags = 0;

EBEE_RINGBUF(events, 1 << 20);

struct inflight_key {
	__u64 g;        /* runtime.g of the goroutine: stable across stack copies and threads */
	__u32 side;     /* EV_HTTP_SERVER or EV_HTTP_CLIENT: a handler may call a client */
	__u32 pad;
};

/* Requests between entry and return; LRU so that requests that never return (a handler that
 * panics, runtime.Goexit) cannot fill it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__type(key, struct inflight_key);
	__type(value, struct http_event);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HTTP_NSTAT);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct http_event);
} scratch SEC(".maps");

static __always_inline void bump(__u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &stat);

	if (v)
		*v += 1;   /* per-CPU slot: no atomic needed */
}

/* A Go string field (ptr, len) at base+field_off, copied into dst (at most cap bytes, cap a
 * power of two). Returns the length read, or -1 when the memory is unreadable. */
static __always_inline int read_gostr(__u64 base, __u16 field_off, char *dst, __u32 cap,
				      __u16 *flags, __u16 cut_flag)
{
	struct { __u64 p, n; } s;
	__u64 n;

	if (field_off == 0xffff)
		return 0;
	if (bpf_probe_read_user(&s, sizeof(s), (void *)(base + field_off)))
		return -1;
	n = s.n;
	if (n > cap) {
		n = cap;
		if (flags)
			*flags |= cut_flag;
	}
	if (!n)
		return 0;
	n &= (cap << 1) - 1;   /* bound for the verifier: n <= cap already */
	if (n > cap)
		return -1;
	if (bpf_probe_read_user(dst, n, (void *)s.p))
		return -1;
	return (int)n;
}

static __always_inline int entry(struct pt_regs *ctx, __u32 side, __u64 req)
{
	struct inflight_key k = { .g = ctx->r14, .side = side };
	struct http_event *e;
	__u32 zero = 0;
	__u64 url = 0;
	int n;

	bump(HTTP_ST_ENTRY);
	e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e || !req)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	ebee_event_init(&e->hdr, side, sizeof(*e));
	e->content_length = -1;
	/* R14 holds the current g in ABIInternal code */
	e->goid = k.g;
	if (off.g_goid != 0xffff && bpf_probe_read_user(&e->goid, 8, (void *)(k.g + off.g_goid)))
		goto fault;
	n = read_gostr(req, off.req_method, e->method, HTTP_METHOD_MAX, NULL, 0);
	if (n < 0)
		goto fault;
	e->method_len = n;
	if (bpf_probe_read_user(&url, 8, (void *)(req + off.req_url)))
		goto fault;
	if (url) {
		n = read_gostr(url, off.url_path, e->path, HTTP_PATH_MAX, &e->flags, HTTP_F_PATH_CUT);
		if (n < 0)
			goto fault;
		e->path_len = n;
	}
	if (side == EV_HTTP_SERVER) {
		if (off.req_content_length != 0xffff &&
		    bpf_probe_read_user(&e->content_length, 8, (void *)(req + off.req_content_length)))
			goto fault;
		n = read_gostr(req, off.req_remote_addr, e->addr, HTTP_ADDR_MAX, NULL, 0);
	} else {
		n = url ? read_gostr(url, off.url_host, e->addr, HTTP_ADDR_MAX, NULL, 0) : 0;
	}
	if (n < 0)
		goto fault;
	e->addr_len = n;
	bpf_map_update_elem(&inflight, &k, e, BPF_ANY);
	return 0;
fault:
	bump(HTTP_ST_FAULT);
	return 0;
}

/* status: the server's code when the site read it (finishRequest), else 0 */
static __always_inline int finish(struct pt_regs *ctx, __u32 side, __u32 status)
{
	struct inflight_key k = { .g = ctx->r14, .side = side };
	struct http_event *e = bpf_map_lookup_elem(&inflight, &k);

	if (!e) {
		bump(HTTP_ST_UNMATCHED);
		return 0;
	}
	e->dur_ns = bpf_ktime_get_ns() - e->hdr.time_ns;
	if (side == EV_HTTP_SERVER) {
		if (status)
			e->status = status;
		if (!e->status) {
			/* the handler wrote nothing: finishRequest writes 200 after we return */
			e->status = 200;
			e->flags |= HTTP_F_NO_STATUS;
		}
	} else {
		__u64 resp = ctx->ax, code = 0;

		if (resp && bpf_probe_read_user(&code, 8, (void *)(resp + off.resp_status_code))) {
			bump(HTTP_ST_FAULT);
			bpf_map_delete_elem(&inflight, &k);
			return 0;
		}
		e->status = (__u32)code;   /* 0: no response, the call returned an error */
	}
	/* the thread that finished it, which may differ from the one that started it */
	e->hdr.tid = (__u32)bpf_get_current_pid_tgid();
	ebee_output(events, e, sizeof(*e));
	bump(HTTP_ST_DONE);
	bpf_map_delete_elem(&inflight, &k);
	return 0;
}

SEC("uprobe")
int ebee_http(struct pt_regs *ctx)
{
	__u32 site = (__u32)bpf_get_attach_cookie(ctx);
	struct inflight_key k = { .g = ctx->r14, .side = EV_HTTP_SERVER };
	struct http_event *e;
	__u64 status = 0;

	if (targ_tgid && (bpf_get_current_pid_tgid() >> 32) != targ_tgid)
		return 0;
	switch (site) {
	case HTTP_SITE_SRV_ENTRY:
		if (ctx->flags & srv_skip_flags) {
			bump(HTTP_ST_GROWN);
			return 0;
		}
		return entry(ctx, EV_HTTP_SERVER, ctx->di);
	case HTTP_SITE_SRV_RET:
		return finish(ctx, EV_HTTP_SERVER, 0);
	case HTTP_SITE_SRV_FINISH:
		if (ctx->flags & fin_skip_flags) {
			bump(HTTP_ST_GROWN);
			return 0;
		}
		/* the receiver (*response, RAX) holds the final status; 0 = nothing written yet */
		if (bpf_probe_read_user(&status, 8, (void *)(ctx->ax + off.rw_status))) {
			bump(HTTP_ST_FAULT);
			bpf_map_delete_elem(&inflight, &k);
			return 0;
		}
		return finish(ctx, EV_HTTP_SERVER, (__u32)status);
	case HTTP_SITE_STATUS:
		/* Go ignores a second WriteHeader (superfluous) but sends 1xx before the final
		 * status: the first code >= 200 is the one the client got */
		e = bpf_map_lookup_elem(&inflight, &k);
		if (e && e->status < 200)
			e->status = (__u32)ctx->bx;
		return 0;
	case HTTP_SITE_CLI_ENTRY:
		if (ctx->flags & cli_skip_flags) {
			bump(HTTP_ST_GROWN);
			return 0;
		}
		return entry(ctx, EV_HTTP_CLIENT, ctx->bx);
	case HTTP_SITE_CLI_RET:
		return finish(ctx, EV_HTTP_CLIENT, 0);
	}
	return 0;
}
