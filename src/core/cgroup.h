/* SPDX-License-Identifier: BSD-2-Clause */
/* cgroup v2 ids (what bpf_get_current_cgroup_id returns) to paths, for display. */
#ifndef EBEE_CGROUP_H
#define EBEE_CGROUP_H

#include <stddef.h>
#include <stdbool.h>
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

/* Container id of a cgroup path, as Falco's container plugin reads it: the 64-hex id in
 * docker-ID.scope, /docker/ID, cri-containerd-ID.scope, crio-ID.scope, libpod-ID.scope or
 * /kubepods/.../ID; the first 12 hex characters are written to out (13 bytes). Returns false
 * (and "host") when the path names no container. */
#define CONTAINER_ID_LEN 12
bool container_id_of_cgroup(const char *path, char out[CONTAINER_ID_LEN + 1]);
/* Visits every cgroup directory below the cgroup2 mount whose container id starts with
 * `prefix` (hex, >= 1 char); returns how many matched (cb gets the absolute path), or -errno. */
int cgroup_find_container(const char *prefix, int (*cb)(const char *path, void *arg), void *arg);
