// SPDX-License-Identifier: BSD-2-Clause
/* Route normalisation and the cardinality guard of ebee http. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/route.h"

static bool is_uuid(const char *s, size_t n)
{
	if (n != 36)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

bool route_is_id(const char *s, size_t n)
{
	size_t digits = 0, hex = 0, alnum = 0;

	if (!n)
		return false;
	if (is_uuid(s, n))
		return true;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];

		digits += isdigit(c) != 0;
		hex += isxdigit(c) != 0;
		alnum += isalnum(c) || c == '-' || c == '_';
	}
	if (digits == n)
		return true;                       /* /users/42 */
	if (n >= 16 && hex == n)
		return true;                       /* /blobs/9f86d081884c7d65 */
	/* tokens and base64 ids: long, and digits among the letters (words have none) */
	return n >= 16 && alnum == n && digits > 0;
}

size_t route_normalise(const char *path, size_t len, bool collapse, char *out)
{
	size_t o = 0, i = 0;

	if (!len || path[0] != '/')
		out[o++] = '/';
	while (i < len && o < ROUTE_MAX - 1) {
		size_t j = i, n;

		if (path[i] == '/') {
			out[o++] = '/';
			i++;
			continue;
		}
		while (j < len && path[j] != '/')
			j++;
		n = j - i;
		if (collapse && route_is_id(path + i, n)) {
			if (o + sizeof(ROUTE_ID) - 1 > ROUTE_MAX - 1)
				break;   /* no room for a whole {id}: the route ends here */
			memcpy(out + o, ROUTE_ID, sizeof(ROUTE_ID) - 1);
			o += sizeof(ROUTE_ID) - 1;
		} else {
			if (n > ROUTE_MAX - 1 - o)
				n = ROUTE_MAX - 1 - o;
			/* a route is a C string: a NUL in the path (Go decodes %00) becomes '?' */
			for (size_t k = 0; k < n; k++)
				out[o++] = path[i + k] ? path[i + k] : '?';
		}
		i = j;
	}
	if (o > ROUTE_MAX - 1)
		o = ROUTE_MAX - 1;
	out[o] = 0;
	return o;
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;   /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

int route_set_init(struct route_set *s, int max)
{
	memset(s, 0, sizeof(*s));
	s->max = max;
	s->cap = 16;
	while (s->cap < 2u * (unsigned)max)
		s->cap <<= 1;
	s->name = calloc(max + 1, sizeof(*s->name));
	s->slot = calloc(s->cap, sizeof(*s->slot));
	if (!s->name || !s->slot) {
		route_set_free(s);
		return -ENOMEM;
	}
	strcpy(s->name[max], ROUTE_OTHER);
	return 0;
}

void route_set_free(struct route_set *s)
{
	free(s->name);
	free(s->slot);
	memset(s, 0, sizeof(*s));
}

int route_intern(struct route_set *s, const char *route)
{
	unsigned i = hash(route) & (s->cap - 1);

	for (;; i = (i + 1) & (s->cap - 1)) {
		int k = s->slot[i];

		if (!k)
			break;
		if (!strcmp(s->name[k - 1], route))
			return k - 1;
	}
	if (s->n == s->max) {
		s->overflowed++;
		return s->max;
	}
	snprintf(s->name[s->n], ROUTE_MAX, "%s", route);
	s->slot[i] = ++s->n;
	return s->n - 1;
}

const char *route_name(const struct route_set *s, int idx)
{
	return idx >= 0 && idx <= s->max ? s->name[idx] : ROUTE_OTHER;
}
