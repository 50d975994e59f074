// SPDX-License-Identifier: BSD-2-Clause
/* Routing and query parsing for `ebee serve` (route.h): bounded copies into fixed fields, every
 * number range-checked, nothing allocated. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "serve/route.h"

static const char *const prio_names[] = { "emergency", "alert", "critical", "error", "warning",
					  "notice", "informational", "debug", NULL };

int route_prio(const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; prio_names[i]; i++)
		if (!strcasecmp(name, prio_names[i]))
			return i;
	if (!strcasecmp(name, "info"))
		return P_INFO;
	if (!strcasecmp(name, "warn"))
		return P_WARNING;
	return -1;
}

const char *route_prio_name(int prio)
{
	return prio >= 0 && prio <= P_DEBUG ? prio_names[prio] : "none";
}

void route_path(struct route *r, const char *method, const char *url)
{
	static const struct { const char *path; enum route_kind kind; } fixed[] = {
		{ "/", R_PAGE }, { "/index.html", R_PAGE }, { "/healthz", R_HEALTHZ },
		{ "/readyz", R_READYZ }, { "/metrics", R_METRICS }, { "/api/collectors", R_COLLECTORS },
		{ "/api/events", R_EVENTS },
	};

	memset(r, 0, sizeof(*r));
	r->top = -1;
	r->prio = P_NONE;
	r->kind = R_NOT_FOUND;
	r->needs_auth = true;
	if (!method || !url)
		return;
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		r->kind = R_BAD_METHOD;
		return;
	}
	r->head = !strcmp(method, "HEAD");
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (!strcmp(url, fixed[i].path)) {
			r->kind = fixed[i].kind;
			/* Liveness needs no secret; the page is static code with no data in it (the
			 * data comes from /api, which needs the token). */
			r->needs_auth = r->kind != R_HEALTHZ && r->kind != R_PAGE;
			return;
		}
	if (!strncmp(url, "/api/", 5)) {
		const char *n = url + 5;
		size_t len = strlen(n);

		if (!len || len >= ROUTE_NAME)
			return;
		for (size_t i = 0; i < len; i++)
			if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') || n[i] == '_' ||
			      n[i] == '-'))
				return;
		memcpy(r->name, n, len + 1);
		r->kind = R_API;
	}
}

static int fail(struct route *r, const char *why)
{
	r->err = why;
	return -1;
}

static int parse_u64(const char *v, unsigned long long max, unsigned long long *out)
{
	char *end;

	if (!v || *v < '0' || *v > '9')
		return -1;
	errno = 0;
	*out = strtoull(v, &end, 10);
	return errno || *end || *out > max ? -1 : 0;
}

int route_last_id(struct route *r, const char *v)
{
	unsigned long long n;

	if (parse_u64(v, UINT64_MAX - 1, &n))
		return fail(r, "Last-Event-ID must be an event id (a number)");
	r->have_last = true;
	r->last_id = n;
	return 0;
}

int route_arg(struct route *r, const char *key, const char *value)
{
	if (!key)
		return 0;
	if (!strcmp(key, "top")) {
		unsigned long long n;

		if (parse_u64(value, 1000000, &n))
			return fail(r, "top must be a number from 0 to 1000000");
		r->top = (long long)n;
		return 0;
	}
	if (r->kind != R_EVENTS)
		return 0;   /* other arguments of other paths are ignored, as servers do */
	if (!strcmp(key, "type")) {
		const char *p = value;

		if (!p || !*p)
			return fail(r, "type needs event type names (type=exec,open)");
		while (*p) {
			size_t n = strcspn(p, ",");

			if (!n || n >= ROUTE_NAME)
				return fail(r, "bad event type name in type=");
			if (r->ntypes == ROUTE_MAX_TYPES)
				return fail(r, "too many event types in type= (at most 8)");
			memcpy(r->types[r->ntypes], p, n);
			r->types[r->ntypes++][n] = 0;
			p += n + (p[n] == ',');
		}
		return 0;
	}
	if (!strcmp(key, "rule")) {
		if (!value || !*value || strlen(value) >= sizeof(r->rule))
			return fail(r, "rule needs a rule name (at most 127 bytes)");
		strcpy(r->rule, value);
		return 0;
	}
	if (!strcmp(key, "priority")) {
		int p = route_prio(value);

		if (p < 0)
			return fail(r, "priority must be one of emergency, alert, critical, error, warning, notice, informational, debug");
		r->prio = p;
		return 0;
	}
	if (!strcmp(key, "last_event_id"))
		return route_last_id(r, value);
	return 0;
}

bool route_auth(const char *h, const char *token)
{
	size_t n, tn;
	unsigned char diff = 0;

	if (!h || !token || strncasecmp(h, "Bearer ", 7))
		return false;
	h += 7;
	while (*h == ' ')
		h++;
	n = strlen(h);
	tn = strlen(token);
	/* Compare every byte of the expected token whatever the given one is. */
	for (size_t i = 0; i < tn; i++)
		diff |= (unsigned char)token[i] ^ (unsigned char)(i < n ? h[i] : 0);
	return !diff && n == tn && tn > 0;
}
