/* SPDX-License-Identifier: BSD-2-Clause */
/* cgroup v2 ids (what bpf_get_current_cgroup_id returns) to paths, for display. */
#ifndef EBEE_CGROUP_H
#define EBEE_CGROUP_H

#include <stddef.h>
#include <stdint.h>

struct cgroup_names {
	struct cgroup_name *v;
	size_t n, cap;
	char buf[32];
};

void cgroup_names_init(struct cgroup_names *c);
void cgroup_names_free(struct cgroup_names *c);
/* Path below the cgroup2 mount ("/system.slice/ssh.service", "/" for the root), or the id in
 * decimal when the cgroup is gone. The tree is re-read when an unknown id shows up. */
const char *cgroup_name(struct cgroup_names *c, uint64_t id);

#endif
