/* SPDX-License-Identifier: BSD-2-Clause */
/* One filter block for every feature that watches processes: --pid (with --children), --uid,
 * --comm, --cgroup, --container. The same struct is parsed from options here, checked in the
 * kernel first (bpf/filter.bpf.h, as a rodata constant plus two small maps), and can be checked
 * again in user space (filter_match) on a process table entry. */
#ifndef EBEE_FILTER_H
#define EBEE_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "core/filter_k.h"
#include "core/opts.h"

/* The options as parsed (strings point into argv). */
struct filter_opts {
	unsigned long long pid;
	bool children;
	const char *uid, *comm, *cgroup, *container;
};

/* Rows of an option table: EBEE_FILTER_OPTS(struct exec_cfg, filter). */
#define EBEE_FILTER_OPTS(T, M)                                                                 \
	{ "pid", 'p', OPT_UINT, offsetof(T, M.pid), "PID", "only this process", NULL, 1, 4194304 },\
	{ "children", 0, OPT_FLAG, offsetof(T, M.children), NULL,                              \
	  "with --pid: its descendants too, those alive now and those it forks later" },        \
	{ "uid", 'u', OPT_STR, offsetof(T, M.uid), "USER", "only this user (name or uid)" },   \
	{ "comm", 'c', OPT_STR, offsetof(T, M.comm), "NAME", "only threads with this comm" },  \
	{ "cgroup", 'g', OPT_STR, offsetof(T, M.cgroup), "PATH",                               \
	  "only tasks in this cgroup v2 directory or below it" },                               \
	{ "container", 0, OPT_STR, offsetof(T, M.container), "ID",                             \
	  "only this container (id or its first 12+ hex characters, from the cgroup path)" }

/* Resolved: what the kernel checks, plus the fds the maps need. */
struct filter {
	struct ebee_filter_k k;
	int cgroup_fds[EBEE_FILTER_CGROUPS];  /* -1 = unused */
	int ncgroups;
	uint32_t follow[4096];                /* --children: the pid and its live descendants */
	int nfollow;
};

/* Checks and resolves options: a missing pid, unknown user, a path that is not a cgroup, a
 * container id that is not hex or matches no cgroup: one error line, -EINVAL. */
int filter_resolve(struct filter *f, const struct filter_opts *o);
void filter_free(struct filter *f);      /* closes the fds; accepts a zeroed or freed f */
bool filter_active(const struct filter *f);
/* After the skeleton's load: fills its cgroup array and follow map (either may be NULL when the
 * object has no such map; then those filters must be off). Returns 0 or -errno, printed. */
struct bpf_map;
int filter_load_maps(const struct filter *f, struct bpf_map *cgroups, struct bpf_map *follow);

/* A user name or number that must exist. */
int filter_parse_uid(const char *s, uint32_t *uid);

#endif
