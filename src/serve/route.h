/* SPDX-License-Identifier: BSD-2-Clause */
/* The daemon's request router and query parser, pure functions of their text (no server, no
 * collectors): what serve.c answers is decided here, and tests/fuzz/fuzz_serve.c drives these
 * with any bytes. */
#ifndef EBEE_SERVE_ROUTE_H
#define EBEE_SERVE_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum route_kind {
	R_NOT_FOUND, R_BAD_METHOD, R_PAGE, R_HEALTHZ, R_READYZ, R_METRICS, R_COLLECTORS, R_EVENTS,
	R_API,
};

#define ROUTE_MAX_TYPES 8
#define ROUTE_NAME 32

/* Falco's priorities, most severe first: ?priority=warning keeps warning and above. */
enum route_prio { P_EMERGENCY, P_ALERT, P_CRITICAL, P_ERROR, P_WARNING, P_NOTICE, P_INFO, P_DEBUG,
		  P_NONE = 127 };

struct route {
	enum route_kind kind;
	bool head;
	bool needs_auth;                 /* every path but /healthz and the static page */
	char name[ROUTE_NAME];           /* R_API: the collector */
	long long top;                   /* ?top=N, -1 = not given */
	int ntypes;                      /* ?type=exec,open */
	char types[ROUTE_MAX_TYPES][ROUTE_NAME];
	char rule[128];                  /* ?rule=NAME (exact) */
	int prio;                        /* ?priority=P: at least this severe; P_NONE = any */
	bool have_last;                  /* Last-Event-ID header or ?last_event_id= */
	uint64_t last_id;
	const char *err;                 /* why a query was refused (400) */
};

/* The route of a method and path (no query string). */
void route_path(struct route *r, const char *method, const char *url);
/* One query argument (value may be NULL: "?x"). 0, or -1 with r->err set: a 400. */
int route_arg(struct route *r, const char *key, const char *value);
/* The Last-Event-ID header (or its query twin). 0 or -1 with r->err set. */
int route_last_id(struct route *r, const char *v);
/* "Bearer TOKEN" against the expected token, in time independent of where they differ. */
bool route_auth(const char *authorization, const char *token);
/* A priority's rank from its name (Falco's, case-insensitive; "info" too), or -1. */
int route_prio(const char *name);
const char *route_prio_name(int prio);

#endif
