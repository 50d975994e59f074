/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/* Types shared by http.bpf.c and the user side of `ebee http`: Go net/http requests traced with
 * uprobes on serverHandler.ServeHTTP (server), (*response).WriteHeader (its status) and
 * (*Client).do (client). One program is attached at every site; the bpf_cookie says which. */
#ifndef EBEE_HTTP_H
#define EBEE_HTTP_H

#include "core/event.h"
#include "http/offsets_k.h"

#define HTTP_METHOD_MAX  16     /* bytes of the method kept ("OPTIONS" is 7) */
#define HTTP_PATH_MAX    128    /* bytes of URL.Path kept (longer: HTTP_F_PATH_CUT) */
#define HTTP_ADDR_MAX    64     /* bytes of RemoteAddr (server) or URL.Host (client) */

/* What fired: the bpf_cookie of each attachment. */
enum http_site {
	HTTP_SITE_SRV_ENTRY = 0,  /* serverHandler.ServeHTTP entry (see skip_flags) */
	HTTP_SITE_SRV_RET,        /* one of its RET instructions */
	HTTP_SITE_STATUS,         /* (*response).WriteHeader entry: the status code */
	HTTP_SITE_CLI_ENTRY,      /* (*Client).do entry */
	HTTP_SITE_CLI_RET,        /* one of its RET instructions */
	HTTP_SITE_SRV_FINISH,     /* (*response).finishRequest entry: the end, status in the
				   * response (replaces the RET and WriteHeader probes) */
	HTTP_SITE__N
};

#define HTTP_F_PATH_CUT   1     /* URL.Path was longer than HTTP_PATH_MAX */
#define HTTP_F_NO_STATUS  2     /* server: no WriteHeader seen before return (200 implied) */
#define HTTP_F_FAULT      4     /* in-flight only: dropped as a fault (counted once, so its end
				 * is not counted again as unmatched) */

/* The in-flight map's key (http.bpf.c): one entry per goroutine and side, its value the
 * request's half-built struct http_event, hdr.time_ns 0 once finished. User space reads it
 * once at the end: the requests still open then are reported as in_flight. */
struct http_inflight_key {
	__u64 g;        /* runtime.g of the goroutine: stable across stack copies and threads */
	__u32 side;     /* EV_HTTP_SERVER or EV_HTTP_CLIENT: a handler may call a client */
	__u32 pad;
};

/* What a request is aggregated under, as the kernel sees it: the key of the `routes` map
 * (http.bpf.c), which user space fills with the cell of each (side, method, path, status
 * class) it has seen once; zero-padded, so that equal requests have equal bytes. */
struct http_rkey {
	__u8 side;                    /* 0 server, 1 client */
	__u8 cls;                     /* status / 100 (1..5), 0 = none or out of range */
	__u8 method_len, path_len;
	char method[HTTP_METHOD_MAX];
	char path[HTTP_PATH_MAX];
};

/* One request (EV_HTTP_SERVER) or one client call (EV_HTTP_CLIENT); fixed size. */
struct http_event {
	struct ebee_event_hdr hdr;    /* time_ns = entry; 0 in the in-flight map = finished */
	__u64 dur_ns;
	__u64 goid;
	__s64 content_length;         /* server: request body length (-1 unknown) */
	__u32 status;                 /* HTTP status; client 0 = the call failed (error) */
	__u16 flags;
	__u8 addr_len;
	__u8 pad;
	struct http_rkey key;         /* method and path */
	char addr[HTTP_ADDR_MAX];     /* server: RemoteAddr; client: URL.Host */
};

/* Cells of the kernel's aggregation (struct http_cell, hist_k.h): a fixed number per CPU;
 * requests past them cross as events and are aggregated in user space. */
#define HTTP_KCELLS 256
/* Distinct (side, method, path, class) keys the kernel resolves to a cell; paths past it
 * (evicted, least recently used) cross as events until user space maps them again. */
#define HTTP_KROUTES 4096
/* Bytes of a *http.Request read in one go (Method..RemoteAddr: 192 in Go 1.19-1.24); a
 * layout wider than this is read field by field. */
#define HTTP_REQ_SPAN_MAX 256

/* Counters (per-CPU array). Every request whose entry was traced ends in exactly one of DONE,
 * AGGR, FAULT, UNFINISHED, NO_SLOT, or is still open at the end (counted by user space from
 * the in-flight map): the summary's accounting of what was not reported. */
enum http_stat {
	HTTP_ST_ENTRY,      /* ServeHTTP / Client.do entries traced */
	HTTP_ST_DONE,       /* requests completed and offered to the ring (`lost` included) */
	HTTP_ST_UNMATCHED,  /* an end with no in-flight entry for its goroutine: ebee attached
			     * mid-request, or the LRU evicted the entry (16384 open goroutines) */
	HTTP_ST_FAULT,      /* request dropped: its memory could not be read (bad pointer) */
	HTTP_ST_GROWN,      /* entry passes that went to runtime.morestack first (not counted) */
	HTTP_ST_AGGR,       /* requests aggregated in the kernel (no event crossed) */
	HTTP_ST_UNFINISHED, /* request dropped: the goroutine's next entry came and its end was
			     * never seen (a handler that panicked, a hijacked or HTTP/2 request) */
	HTTP_ST_NO_SLOT,    /* request not traced: no in-flight entry could be made */
	HTTP_ST_UNSTARTED,  /* an end whose goroutine's entry is closed: this request's start was
			     * not seen (a missed entry probe), or its end fired twice */
	HTTP_NSTAT
};

#endif
