// SPDX-License-Identifier: BSD-2-Clause
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cgroup.h"
#include "load.h"

struct cgroup_name {
	uint64_t id;
	char *path;
};

void cgroup_names_init(struct cgroup_names *c)
{
	memset(c, 0, sizeof(*c));
}

void cgroup_names_free(struct cgroup_names *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].path);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

/* nftw has no user argument: the walk in progress. */
static struct cgroup_names *walking;
static size_t root_len;

static int visit(const char *path, const struct stat *st, int type, struct FTW *f)
{
	struct cgroup_names *c = walking;
	struct cgroup_name *nv;

	if (type != FTW_D)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;

		nv = realloc(c->v, cap * sizeof(*nv));
		if (!nv)
			return 1;
		c->v = nv;
		c->cap = cap;
	}
	c->v[c->n].id = st->st_ino;
	c->v[c->n].path = strdup(path[root_len] ? path + root_len : "/");
	if (c->v[c->n].path)
		c->n++;
	return 0;
}

static int by_id(const void *a, const void *b)
{
	const struct cgroup_name *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static void reload(struct cgroup_names *c)
{
	const char *root = ebee_cgroup2_path();

	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].path);
	c->n = 0;
	if (!root)
		return;
	walking = c;
	root_len = strlen(root);
	nftw(root, visit, 16, FTW_PHYS | FTW_MOUNT);
	walking = NULL;
	qsort(c->v, c->n, sizeof(*c->v), by_id);
}

static const char *lookup(struct cgroup_names *c, uint64_t id)
{
	struct cgroup_name k = { .id = id }, *hit;

	hit = c->n ? bsearch(&k, c->v, c->n, sizeof(*c->v), by_id) : NULL;
	return hit ? hit->path : NULL;
}

const char *cgroup_name(struct cgroup_names *c, uint64_t id)
{
	const char *p = lookup(c, id);

	if (!p) {
		reload(c);
		p = lookup(c, id);
	}
	if (p)
		return p;
	snprintf(c->buf, sizeof(c->buf), "%llu", (unsigned long long)id);
	return c->buf;
}
