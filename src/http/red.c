// SPDX-License-Identifier: BSD-2-Clause
/* ebee http's RED aggregation: requests, errors and duration per (side, method, route), from
 * the events that cross (with lines, all of them) and the deltas of the kernel's cells (without
 * lines: every request whose key has a cell), bounded by the route guard and a fixed series
 * table. Rendered as rows (--summary, --interval) and as
 * Prometheus histograms for the daemon. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "http/session.h"

const char *const http_methods[HTTP_NMETHODS] = { "GET", "HEAD", "POST", "PUT", "DELETE",
						  "CONNECT", "OPTIONS", "TRACE", "PATCH", "_OTHER" };

int http_method_idx(const char *m, size_t n)
{
	for (int i = 0; i < HTTP_NMETHODS - 1; i++)
		if (strlen(http_methods[i]) == n && !memcmp(http_methods[i], m, n))
			return i;
	return HTTP_NMETHODS - 1;
}

int red_init(struct red *r, int max_routes, bool collapse)
{
	int err;

	memset(r, 0, sizeof(*r));
	err = route_set_init(&r->routes, max_routes);
	if (err)
		return err;
	r->collapse = collapse;
	/* every method of every route on both sides could appear; most never do, so series are
	 * allocated when first seen (per new series, never per event) */
	r->max = (unsigned)(max_routes + 1) * 4;
	r->cap = 64;
	while (r->cap < 2 * r->max)
		r->cap <<= 1;
	r->slot = calloc(r->cap, sizeof(*r->slot));
	if (!r->slot) {
		route_set_free(&r->routes);
		return -ENOMEM;
	}
	return 0;
}

void red_free(struct red *r)
{
	for (unsigned i = 0; r->slot && i < r->cap; i++)
		free(r->slot[i]);
	free(r->slot);
	route_set_free(&r->routes);
	memset(r, 0, sizeof(*r));
}

static struct http_series *series(struct red *r, int side, int method, int route)
{
	unsigned h = ((unsigned)route * 31u + (unsigned)method) * 2u + (unsigned)side;
	unsigned i = (h * 2654435761u) & (r->cap - 1);
	struct http_series *s;

	for (;; i = (i + 1) & (r->cap - 1)) {
		s = r->slot[i];
		if (!s)
			break;
		if (s->side == side && s->method == method && s->route == route)
			return s;
	}
	if (r->n == r->max)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->side = side;
	s->method = method;
	s->route = route;
	r->slot[i] = s;
	r->n++;
	return s;
}

int red_class(uint32_t status)
{
	return status >= 100 && status < 600 ? (int)(status / 100) : 0;   /* as http.bpf.c */
}

static bool is_error(int side, int cls)
{
	return cls == 5 || (side && cls == 0);   /* server 5xx; client 5xx or no response */
}

struct http_series *red_add(struct red *r, const struct http_event *e, bool *routed)
{
	char route[ROUTE_MAX];
	int side = e->hdr.type == EV_HTTP_CLIENT, cls, idx, b;
	struct http_series *s;
	bool err;

	route_normalise(e->key.path, e->key.path_len, r->collapse, route);
	idx = route_intern(&r->routes, route);
	if (routed)
		*routed = idx != r->routes.max;
	s = series(r, side, http_method_idx(e->key.method, e->key.method_len), idx);
	if (!s) {
		r->overflow++;
		return NULL;
	}
	hist_add(&s->tot, e->dur_ns);
	hist_add(&s->cur, e->dur_ns);
	cls = red_class(e->status);
	err = is_error(side, cls);
	s->errors += err;
	s->cur_errors += err;
	s->cls_n[cls]++;
	s->cls_sum_ns[cls] += e->dur_ns;
	b = hist_prom_bucket_ns(e->dur_ns);
	if (b < HIST_PROM_N)
		s->cls_le[cls][b]++;   /* made cumulative when written */
	return s;
}

void red_add_cell(struct http_series *s, int cls, const struct http_cell *d)
{
	uint64_t max = d->max_ns;

	if (!d->n)
		return;
	hist_add_counts(&s->tot, d->b, d->n, d->sum_ns, max);
	/* the cell's max is since the start: an interval's is at most its top bucket's end */
	for (int b = HIST_KNB - 1; b >= 0; b--) {
		if (d->b[b]) {
			uint64_t lo, hi;

			hist_range(b, &lo, &hi);
			if (b < HIST_KNB - 1 && hi < max)
				max = hi;
			break;
		}
	}
	hist_add_counts(&s->cur, d->b, d->n, d->sum_ns, max);
	if (is_error(s->side, cls)) {
		s->errors += d->n;
		s->cur_errors += d->n;
	}
	s->cls_n[cls] += d->n;
	s->cls_sum_ns[cls] += d->sum_ns;
	for (int b = 0; b < HIST_PROM_N; b++)
		s->cls_le[cls][b] += d->le[b];
}

static int cmp_series(const void *a, const void *b)
{
	const struct http_series *x = *(struct http_series *const *)a;
	const struct http_series *y = *(struct http_series *const *)b;

	if (x->side != y->side)
		return x->side - y->side;
	if (x->route != y->route)
		return x->route - y->route;
	return x->method - y->method;
}

/* The series in a stable order (side, route by first appearance, method); n returned. */
static unsigned sorted(struct red *r, struct http_series **out)
{
	unsigned n = 0;

	for (unsigned i = 0; i < r->cap; i++)
		if (r->slot[i])
			out[n++] = r->slot[i];
	qsort(out, n, sizeof(*out), cmp_series);
	return n;
}

enum { R_TYPE, R_SIDE, R_METHOD, R_ROUTE, R_REQ, R_RPS, R_ERR, R_P50, R_P90, R_P99, R_MAX };
static const struct out_col red_cols[] = {
	[R_TYPE] = { "type", "TYPE", OUT_STR, 0, 0 },
	[R_SIDE] = { "side", "SIDE", OUT_STR, -6, 0 },
	[R_METHOD] = { "method", "METHOD", OUT_STR, -7, 0 },
	[R_ROUTE] = { "route", "ROUTE", OUT_STR, -32, 0 },
	[R_REQ] = { "requests", "REQS", OUT_U64, 8, 0 },
	[R_RPS] = { "rps", "REQ/S", OUT_F64, 9, 1 },
	[R_ERR] = { "errors", "ERRORS", OUT_U64, 7, 0 },
	[R_P50] = { "p50_ms", "P50ms", OUT_F64, 9, 3 },
	[R_P90] = { "p90_ms", "P90ms", OUT_F64, 9, 3 },
	[R_P99] = { "p99_ms", "P99ms", OUT_F64, 9, 3 },
	[R_MAX] = { "max_ms", "MAXms", OUT_F64, 9, 3 },
};

void red_rows(struct red *r, struct out *o, bool interval, double seconds)
{
	struct http_series **v = calloc(r->n ? r->n : 1, sizeof(*v));
	unsigned n;

	if (!v)
		return;
	out_cols(o, red_cols, ARRAY_SIZE(red_cols));
	n = sorted(r, v);
	out_header(o);
	for (unsigned i = 0; i < n; i++) {
		struct http_series *s = v[i];
		struct hist *h = interval ? &s->cur : &s->tot;

		if (!h->n)
			continue;
		out_str(o, R_TYPE, "route");
		out_str(o, R_SIDE, s->side ? "client" : "server");
		out_str(o, R_METHOD, http_methods[s->method]);
		out_str(o, R_ROUTE, route_name(&r->routes, s->route));
		out_u64(o, R_REQ, h->n);
		if (seconds > 0)
			out_f64(o, R_RPS, h->n / seconds);
		out_u64(o, R_ERR, interval ? s->cur_errors : s->errors);
		out_f64(o, R_P50, hist_quantile(h, 0.50) / 1e6);
		out_f64(o, R_P90, hist_quantile(h, 0.90) / 1e6);
		out_f64(o, R_P99, hist_quantile(h, 0.99) / 1e6);
		out_f64(o, R_MAX, h->max_ns / 1e6);
		out_row(o);
		if (interval) {
			memset(&s->cur, 0, sizeof(s->cur));
			s->cur_errors = 0;
		}
	}
	free(v);
}

void red_metrics(struct red *r, struct prom *p)
{
	static const char *const cls_name[6] = { "none", "1xx", "2xx", "3xx", "4xx", "5xx" };
	static const struct { const char *dur, *total, *what; } fam[2] = {
		{ "ebee_http_server_request_duration_seconds", "ebee_http_server_requests_total",
		  "server requests" },
		{ "ebee_http_client_request_duration_seconds", "ebee_http_client_requests_total",
		  "client requests" },
	};
	struct http_series **v;
	unsigned n;

	v = calloc(r->n ? r->n : 1, sizeof(*v));
	if (!v)
		return;
	n = sorted(r, v);
	for (int side = 0; side < 2; side++) {
		char name[128], help[128], le[32];

		/* histogram: _bucket (cumulative, le), _sum, _count; the OpenTelemetry names
		 * (http.server.request.duration) under ebee's prefix */
		snprintf(help, sizeof(help), "Duration of Go net/http %s, seconds", fam[side].what);
		prom_family(p, fam[side].dur, "histogram", help);
		for (unsigned i = 0; i < n; i++) {
			struct http_series *s = v[i];

			if (s->side != side)
				continue;
			for (int c = 0; c < 6; c++) {
				struct prom_label l[4] = {
					{ "method", http_methods[s->method] },
					{ "route", route_name(&r->routes, s->route) },
					{ "status_class", cls_name[c] }, { "le", le },
				};
				uint64_t cum = 0;

				if (!s->cls_n[c])
					continue;
				snprintf(name, sizeof(name), "%s_bucket", fam[side].dur);
				for (int b = 0; b < HIST_PROM_N; b++) {
					cum += s->cls_le[c][b];
					snprintf(le, sizeof(le), "%g", hist_prom_le_ns[b] / 1e9);
					prom_u64(p, name, l, 4, cum);
				}
				snprintf(le, sizeof(le), "+Inf");
				prom_u64(p, name, l, 4, s->cls_n[c]);
				snprintf(name, sizeof(name), "%s_sum", fam[side].dur);
				prom_f64(p, name, l, 3, s->cls_sum_ns[c] / 1e9);
				snprintf(name, sizeof(name), "%s_count", fam[side].dur);
				prom_u64(p, name, l, 3, s->cls_n[c]);
			}
		}
		snprintf(help, sizeof(help), "Go net/http %s", fam[side].what);
		prom_family(p, fam[side].total, "counter", help);
		for (unsigned i = 0; i < n; i++) {
			struct http_series *s = v[i];

			if (s->side != side)
				continue;
			for (int c = 0; c < 6; c++) {
				struct prom_label l[3] = {
					{ "method", http_methods[s->method] },
					{ "route", route_name(&r->routes, s->route) },
					{ "status_class", cls_name[c] },
				};

				if (s->cls_n[c])
					prom_u64(p, fam[side].total, l, 3, s->cls_n[c]);
			}
		}
	}
	free(v);
}
