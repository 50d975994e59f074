/* SPDX-License-Identifier: BSD-2-Clause */
/* Routes for ebee http's RED metrics: a request path with its identifiers collapsed, under a
 * cardinality guard so that metrics stay bounded whatever paths clients send. */
#ifndef EBEE_HTTP_ROUTE_H
#define EBEE_HTTP_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ROUTE_MAX 160            /* bytes of a route, NUL included */
#define ROUTE_OTHER "/other"     /* every path past the guard */
#define ROUTE_ID "{id}"

/* Writes the route of path[0..len) into out (ROUTE_MAX bytes): segments that are numbers,
 * UUIDs, or long hex / mixed letter-and-digit tokens (16+ characters) become {id}; the query
 * is not part of a path here (Go's URL.Path has none). With collapse false the path is kept
 * as it is (cut to ROUTE_MAX - 1). An empty path is "/"; NUL bytes become '?'. Returns the
 * route's length. */
size_t route_normalise(const char *path, size_t len, bool collapse, char *out);
bool route_is_id(const char *seg, size_t len);

/* The distinct routes seen, at most max (then ROUTE_OTHER): index by name, O(1). */
struct route_set {
	int max, n;              /* n <= max; index max is ROUTE_OTHER */
	char (*name)[ROUTE_MAX];  /* max + 1 names */
	int *slot;               /* open addressing: route index + 1, 0 = empty */
	unsigned cap;            /* power of two >= 2 * max */
	uint64_t overflowed;     /* requests sent to ROUTE_OTHER by the guard */
};
int route_set_init(struct route_set *s, int max);   /* 0 or -ENOMEM */
void route_set_free(struct route_set *s);          /* accepts a zeroed struct */
/* The route's index (a new one while fewer than max exist), or max for ROUTE_OTHER. */
int route_intern(struct route_set *s, const char *route);
const char *route_name(const struct route_set *s, int idx);

#endif
