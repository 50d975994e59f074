// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only)
/* ebee http: Go net/http requests from uprobes. serverHandler.ServeHTTP's entry reads the
 * *Request (Go ABIInternal: sh.srv in RAX, the ResponseWriter interface in RBX:RCX, req in RDI)
 * and keeps a half-built event per goroutine; (*response).WriteHeader (receiver RAX, code RBX)
 * records the status on the same goroutine; a uprobe on every RET of ServeHTTP completes and
 * emits it. Where the binary has (*response).finishRequest (HTTP/1, called by conn.serve right
 * after ServeHTTP returns) its entry ends the request instead and the status is read from the
 * response: one emulated trap per request where the RET probe costs two (x86 single-steps RET)
 * and WriteHeader one more. Without lines (--summary, the daemon) the end adds the request to
 * a per-CPU histogram cell found by (side, method, path, status class): no event crosses. The client side is the same with (*Client).do (c in RAX, req in RBX; returns
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
#include "hist_k.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 targ_tgid = 0;           /* 0 = every process running the binary */
const volatile struct http_offsets off = {};
/* The entry probes sit on the stack check's conditional jump (one trap instead of a trap and
 * a single-step); when these EFLAGS bits are set the jump goes to runtime.morestack and the
 * function starts again, so that pass is skipped. 0 = the probe is after the check. */
const volatile __u16 srv_skip_flags = 0;
const volatile __u16 cli_skip_flags = 0;
const volatile __u16 fin_skip_flags = 0;
/* No line per request (--summary, --interval, the daemon): requests are aggregated in cells
 * here, and only those whose key user space has not mapped to a cell yet cross as events;
 * the fields only lines show (goroutine id, remote address, content length) are not read. */
const volatile bool aggregate = false;
/* The *http.Request and *url.URL fields needed lie within [lo, lo + span): each struct is
 * read in one bpf_probe_read_user (span 0: the layout is too wide, fields are read alone). */
const volatile __u16 req_lo = 0, req_span = 0;
const volatile __u16 url_lo = 0, url_span = 0;

EBEE_RINGBUF(events, 1 << 20);

/* Requests between entry and end, one entry per goroutine and side, reused in place by the
 * goroutine's next request (a keep-alive connection is served by one goroutine): no map update
 * or delete per request, time_ns 0 marks it finished. LRU so that goroutines that are gone,
 * and requests that never end (a handler that panics, runtime.Goexit), cannot fill it; an open
 * entry evicted shows as its end's `unmatched`, one overwritten as `unfinished`. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__type(key, struct http_inflight_key);
	__type(value, struct http_event);
} inflight SEC(".maps");

/* (side, class, method, path) -> cell, filled by user space from the events of keys it has not
 * mapped yet (http.c); paths the route guard sends to /other are never mapped, so that they
 * stay counted. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, HTTP_KROUTES);
	__type(key, struct http_rkey);
	__type(value, __u32);
} routes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HTTP_KCELLS);
	__type(key, __u32);
	__type(value, struct http_cell);
} cells SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HTTP_NSTAT);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* the struct copies of one entry (mask + 16: a field at the mask's end still fits) */
struct scratch {
	__u8 req[HTTP_REQ_SPAN_MAX + 16];
	__u8 url[64 + 16];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

static const __u64 prom_le_ns[HIST_PROM_N] = HIST_PROM_LE_NS;

static __always_inline void bump(__u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &stat);

	if (v)
		*v += 1;   /* per-CPU slot: no atomic needed */
}

/* Closes a traced request that will not be reported, counted under stat. */
static __always_inline int drop(struct http_event *e, __u32 stat)
{
	e->hdr.time_ns = 0;
	bump(stat);
	return 0;
}

struct gostr {
	__u64 p, n;
};

/* A field (size bytes at o) of a struct at base, from its copy buf when the struct was read
 * whole (span), else read alone. */
static __always_inline int field(const __u8 *buf, __u16 span, __u16 lo, __u64 base, __u16 o,
				 void *dst, __u32 size, __u32 mask)
{
	if (span) {
		__builtin_memcpy(dst, buf + ((o - lo) & mask), size);
		return 0;
	}
	return bpf_probe_read_user(dst, size, (void *)(base + o));
}

/* The bytes of a Go string into dst (at most cap, a power of two). Returns the length read,
 * or -1 when the memory is unreadable. */
static __always_inline int read_str(const struct gostr *s, char *dst, __u32 cap, __u16 *flags,
				    __u16 cut_flag)
{
	__u64 n = s->n;

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
	if (bpf_probe_read_user(dst, n, (void *)s->p))
		return -1;
	return (int)n;
}

#define REQ(o, dst) field(sc->req, req_span, req_lo, req, (o), (dst), sizeof(*(dst)), \
			  HTTP_REQ_SPAN_MAX - 1)
#define URL(o, dst) field(sc->url, url_span, url_lo, url, (o), (dst), sizeof(*(dst)), 63)

static __always_inline int entry(struct pt_regs *ctx, __u32 side, __u64 req)
{
	struct http_inflight_key k = { .g = ctx->r14, .side = side };
	struct http_event *e;
	struct scratch *sc;
	struct gostr str;
	__u32 zero = 0;
	__u64 url = 0, id;
	int n;

	bump(HTTP_ST_ENTRY);
	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!sc || !req) {
		bump(HTTP_ST_NO_SLOT);
		return 0;
	}
	e = bpf_map_lookup_elem(&inflight, &k);
	if (!e) {   /* the goroutine's first request: an entry made once, then reused */
		struct http_event blank = {};

		bpf_map_update_elem(&inflight, &k, &blank, BPF_ANY);
		e = bpf_map_lookup_elem(&inflight, &k);
		if (!e) {
			bump(HTTP_ST_NO_SLOT);
			return 0;
		}
	} else if (e->hdr.time_ns) {
		/* the goroutine's previous request is still open: its end was never seen */
		bump(HTTP_ST_UNFINISHED);
	}
	/* equal requests must have equal key bytes: the buffers are zero past the lengths */
	__builtin_memset(&e->key, 0, sizeof(e->key));
	e->key.side = side == EV_HTTP_CLIENT;
	e->flags = 0;
	e->status = 0;
	e->addr_len = 0;
	e->content_length = -1;
	/* R14 holds the current g in ABIInternal code */
	e->goid = k.g;
	if (aggregate) {   /* the header of an event that crosses: what RED needs */
		id = bpf_get_current_pid_tgid();
		e->hdr.pid = id >> 32;
		e->hdr.type = side;
		e->hdr.size = sizeof(*e);
		e->hdr.time_ns = bpf_ktime_get_ns();
	} else {
		ebee_event_init(&e->hdr, side, sizeof(*e));
		if (off.g_goid != 0xffff &&
		    bpf_probe_read_user(&e->goid, 8, (void *)(k.g + off.g_goid)))
			goto fault;
	}
	if (req_span && req_span <= HTTP_REQ_SPAN_MAX &&
	    bpf_probe_read_user(sc->req, req_span, (void *)(req + req_lo)))
		goto fault;
	if (REQ(off.req_method, &str))
		goto fault;
	n = read_str(&str, e->key.method, HTTP_METHOD_MAX, NULL, 0);
	if (n < 0)
		goto fault;
	e->key.method_len = n;
	if (REQ(off.req_url, &url))
		goto fault;
	if (url) {
		if (url_span && url_span <= 64 &&
		    bpf_probe_read_user(sc->url, url_span, (void *)(url + url_lo)))
			goto fault;
		if (URL(off.url_path, &str))
			goto fault;
		n = read_str(&str, e->key.path, HTTP_PATH_MAX, &e->flags, HTTP_F_PATH_CUT);
		if (n < 0)
			goto fault;
		e->key.path_len = n;
	}
	if (aggregate)
		return 0;
	n = 0;
	if (side == EV_HTTP_SERVER) {
		if (off.req_content_length != 0xffff && REQ(off.req_content_length, &e->content_length))
			goto fault;
		if (off.req_remote_addr != 0xffff) {
			if (REQ(off.req_remote_addr, &str))
				goto fault;
			n = read_str(&str, e->addr, HTTP_ADDR_MAX, NULL, 0);
		}
	} else if (url && off.url_host != 0xffff) {
		if (URL(off.url_host, &str))
			goto fault;
		n = read_str(&str, e->addr, HTTP_ADDR_MAX, NULL, 0);
	}
	if (n < 0)
		goto fault;
	e->addr_len = n;
	return 0;
fault:
	e->flags |= HTTP_F_FAULT;   /* counted here: its end is not counted again */
	return drop(e, HTTP_ST_FAULT);
}

/* Adds a finished request to its cell when user space has given its key one. */
static __always_inline bool aggregated(struct http_event *e)
{
	struct http_cell *c;
	__u32 *cell, b, i;
	__u64 d = e->dur_ns;

	cell = bpf_map_lookup_elem(&routes, &e->key);
	if (!cell)
		return false;
	c = bpf_map_lookup_elem(&cells, cell);
	if (!c)
		return false;
	c->n++;   /* per-CPU cell: no atomics */
	c->sum_ns += d;
	if (d > c->max_ns)
		c->max_ns = d;
	b = hist_kbucket(d);
	if (b >= HIST_KNB)
		b = HIST_KNB - 1;
	c->b[b]++;
	for (i = 0; i < HIST_PROM_N; i++) {
		if (d <= prom_le_ns[i]) {
			c->le[i]++;
			break;
		}
	}
	return true;
}

/* status: the server's code when the site read it (finishRequest), else 0; fault: the site
 * could not read it (the request is dropped). */
static __always_inline int finish(struct pt_regs *ctx, __u32 side, __u32 status, bool fault)
{
	struct http_inflight_key k = { .g = ctx->r14, .side = side };
	struct http_event *e = bpf_map_lookup_elem(&inflight, &k);

	if (!e) {
		bump(HTTP_ST_UNMATCHED);
		return 0;
	}
	if (!e->hdr.time_ns) {
		/* a request dropped at its entry ends here; any other closed entry means this
		 * request's start was not seen */
		if (!(e->flags & HTTP_F_FAULT))
			bump(HTTP_ST_UNSTARTED);
		e->flags &= ~HTTP_F_FAULT;
		return 0;
	}
	if (fault)
		return drop(e, HTTP_ST_FAULT);
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

		if (resp && bpf_probe_read_user(&code, 8, (void *)(resp + off.resp_status_code)))
			return drop(e, HTTP_ST_FAULT);
		e->status = (__u32)code;   /* 0: no response, the call returned an error */
	}
	e->key.cls = e->status >= 100 && e->status < 600 ? e->status / 100 : 0;
	if (aggregate && aggregated(e))
		return drop(e, HTTP_ST_AGGR);   /* closed: counted in its cell */
	/* the thread that finished it, which may differ from the one that started it */
	e->hdr.tid = (__u32)bpf_get_current_pid_tgid();
	ebee_output(events, e, sizeof(*e));
	bump(HTTP_ST_DONE);
	e->hdr.time_ns = 0;
	return 0;
}

SEC("uprobe")
int ebee_http(struct pt_regs *ctx)
{
	__u32 site = (__u32)bpf_get_attach_cookie(ctx);
	struct http_inflight_key k = { .g = ctx->r14, .side = EV_HTTP_SERVER };
	struct http_event *e;
	__u64 status = 0;
	bool fault;

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
		return finish(ctx, EV_HTTP_SERVER, 0, false);
	case HTTP_SITE_SRV_FINISH:
		if (ctx->flags & fin_skip_flags) {
			bump(HTTP_ST_GROWN);
			return 0;
		}
		/* the receiver (*response, RAX) holds the final status; 0 = nothing written yet */
		fault = bpf_probe_read_user(&status, 8, (void *)(ctx->ax + off.rw_status)) != 0;
		return finish(ctx, EV_HTTP_SERVER, (__u32)status, fault);
	case HTTP_SITE_STATUS:
		/* Go ignores a second WriteHeader (superfluous) but sends 1xx before the final
		 * status: the first code >= 200 is the one the client got */
		e = bpf_map_lookup_elem(&inflight, &k);
		if (e && e->hdr.time_ns && e->status < 200)
			e->status = (__u32)ctx->bx;
		return 0;
	case HTTP_SITE_CLI_ENTRY:
		if (ctx->flags & cli_skip_flags) {
			bump(HTTP_ST_GROWN);
			return 0;
		}
		return entry(ctx, EV_HTTP_CLIENT, ctx->bx);
	case HTTP_SITE_CLI_RET:
		return finish(ctx, EV_HTTP_CLIENT, 0, false);
	}
	return 0;
}
