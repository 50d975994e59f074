/* SPDX-License-Identifier: BSD-2-Clause */
/* ebee http's user side, shared by the collector (http.c) and its RED aggregation (red.c). */
#ifndef EBEE_HTTP_SESSION_H
#define EBEE_HTTP_SESSION_H

#include <limits.h>
#include <linux/types.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/collector.h"
#include "core/out.h"
#include "http/hist.h"
#include "http/http.h"
#include "http/route.h"
#include "uprobe/binary.h"

enum http_side_opt { HTTP_SIDE_BOTH, HTTP_SIDE_SERVER, HTTP_SIDE_CLIENT };

struct http_cfg {
	long long pid;
	const char *exe;
	bool summary;
	double interval;
	double duration;
	unsigned long long max_routes;
	bool raw_routes;
	int side;                       /* enum http_side_opt */
};

#define HTTP_MAX_ROUTES 100             /* --max-routes' default */

/* Methods as OpenTelemetry's http.request.method: the known ones, the rest "_OTHER" (a label
 * value set that clients cannot grow). */
#define HTTP_NMETHODS 10
extern const char *const http_methods[HTTP_NMETHODS];
int http_method_idx(const char *m, size_t n);

/* RED of one (side, method, route): totals since start and the current interval. */
struct http_series {
	uint8_t side;                   /* 0 server, 1 client */
	uint8_t method;                 /* index in http_methods */
	int route;                      /* index in the route set */
	struct hist tot, cur;
	/* per status class (0: none / error, 1..5: 1xx..5xx), for Prometheus */
	uint64_t cls_n[6], cls_sum_ns[6];
	uint64_t cls_le[6][HIST_PROM_N];
	uint64_t errors, cur_errors;    /* server 5xx; client 5xx or no response */
	int cell[6];                    /* the kernel's cell per class + 1 (0: none yet) */
};

struct red {
	struct route_set routes;
	bool collapse;
	struct http_series **slot;      /* open addressing by (side, method, route) */
	unsigned cap, n, max;           /* n series, at most max */
	uint64_t overflow;              /* requests not aggregated: the series table was full */
};

int red_init(struct red *r, int max_routes, bool collapse);   /* 0 or -ENOMEM */
void red_free(struct red *r);
/* Adds a request that crossed as an event; returns its series (NULL: not aggregated, the
 * series table is full) and, in *routed, whether its route is its own (not the guard's
 * /other), i.e. whether its key may be aggregated in the kernel from now on. */
struct http_series *red_add(struct red *r, const struct http_event *e, bool *routed);
/* Status class of a status code (0: none or out of range) and whether it is an error. */
int red_class(uint32_t status);
/* Adds a kernel cell's delta (struct http_cell, summed over CPUs) to series s, class cls. */
void red_add_cell(struct http_series *s, int cls, const struct http_cell *d);
/* Rows of the RED table (totals, or the interval's and then the interval is reset). */
void red_rows(struct red *r, struct out *o, bool interval, double seconds);
void red_metrics(struct red *r, struct prom *p);

/* The collector (http.c). */
extern const struct collector_desc http_collector;

#endif
