// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cgroup.h"
#include "ebee.h"
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

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* The id is the 64-hex component of the last path element that holds one, bare (/docker/ID,
 * kubepods/.../ID) or with a runtime's prefix and ".scope" suffix. */
bool container_id_of_cgroup(const char *path, char out[CONTAINER_ID_LEN + 1])
{
	static const char *const prefixes[] = { "docker-", "cri-containerd-", "crio-", "libpod-", "" };
	const char *end = path + strlen(path);

	while (end > path) {
		const char *start = end;
		size_t len;

		while (start > path && start[-1] != '/')
			start--;
		len = (size_t)(end - start);
		if (len > 6 && !strncmp(end - 6, ".scope", 6))
			len -= 6;
		for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
			size_t pl = strlen(prefixes[i]);

			if (len == pl + 64 && !strncmp(start, prefixes[i], pl) && all_hex(start + pl, 64)) {
				memcpy(out, start + pl, CONTAINER_ID_LEN);
				out[CONTAINER_ID_LEN] = 0;
				return true;
			}
		}
		end = start > path ? start - 1 : path;
	}
	strcpy(out, "host");
	return false;
}

static const char *find_prefix;
static int (*find_cb)(const char *, void *);
static void *find_arg;
static int find_hits;

static int find_visit(const char *path, const struct stat *st, int type, struct FTW *f)
{
	char id[CONTAINER_ID_LEN + 1];
	const char *base = path + f->base;

	if (type != FTW_D || !container_id_of_cgroup(base, id))
		return 0;
	/* Compare against the full id in the name, so prefixes longer than 12 work too. */
	if (!strstr(base, find_prefix))
		return 0;
	find_hits++;
	return find_cb(path, find_arg);
}

int cgroup_find_container(const char *prefix, int (*cb)(const char *path, void *arg), void *arg)
{
	const char *root = ebee_cgroup2_path();
	int err;

	if (!root)
		return -ENOENT;
	find_prefix = prefix;
	find_cb = cb;
	find_arg = arg;
	find_hits = 0;
	err = nftw(root, find_visit, 16, FTW_PHYS | FTW_MOUNT);
	return err < 0 ? -errno : err > 0 ? -err : find_hits;
}
