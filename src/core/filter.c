// SPDX-License-Identifier: BSD-2-Clause
/* The filter block: options resolved once, checked in the kernel (bpf/filter.bpf.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "ebee.h"
#include "cgroup.h"
#include "filter.h"
#include "load.h"

int filter_parse_uid(const char *s, uint32_t *uid)
{
	struct passwd *pw;
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s && !*end && !errno && v <= 0xfffffffful) {
		pw = getpwuid(v);
		if (!pw) {
			ebee_err("uid '%s' does not exist (no passwd entry)", s);
			return -EINVAL;
		}
	} else {
		pw = getpwnam(s);
		if (!pw) {
			ebee_err("user '%s' does not exist", s);
			return -EINVAL;
		}
	}
	*uid = pw->pw_uid;
	return 0;
}

static int add_cgroup(struct filter *f, const char *path)
{
	uint64_t id;
	int fd;

	if (f->ncgroups >= EBEE_FILTER_CGROUPS) {
		ebee_err("more than %d cgroups match the filter", EBEE_FILTER_CGROUPS);
		return -E2BIG;
	}
	if (ebee_cgroup_id(path, &id))
		return -EINVAL;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		ebee_err("cannot open cgroup '%s': %s", path, strerror(errno));
		return -EINVAL;
	}
	f->cgroup_fds[f->ncgroups++] = fd;
	return 0;
}

static int container_cb(const char *path, void *arg)
{
	return add_cgroup(arg, path) ? 1 : 0;
}

/* Parent pid of a process from /proc/PID/stat (after the last ')': comm may hold anything). */
static int ppid_of(uint32_t pid)
{
	char path[64], buf[512], *p;
	int fd, ppid = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (p && sscanf(p + 1, " %*c %d", &ppid) != 1)
		ppid = -1;
	return ppid;
}

/* The pid and every live descendant: repeated passes over /proc until no new child shows up
 * (a child's pid may be lower than its parent's after wrap-around). */
static void seed_follow(struct filter *f)
{
	bool grew = true;

	f->follow[f->nfollow++] = f->k.pid;
	while (grew && f->nfollow < (int)ARRAY_SIZE(f->follow)) {
		DIR *d = opendir("/proc");
		struct dirent *de;

		grew = false;
		if (!d)
			return;
		while ((de = readdir(d)) && f->nfollow < (int)ARRAY_SIZE(f->follow)) {
			char *end;
			unsigned long pid = strtoul(de->d_name, &end, 10);
			int ppid, i;
			bool known = false, parent = false;

			if (*end || !pid)
				continue;
			for (i = 0; i < f->nfollow; i++)
				known |= f->follow[i] == pid;
			if (known || (ppid = ppid_of(pid)) <= 0)
				continue;
			for (i = 0; i < f->nfollow; i++)
				parent |= f->follow[i] == (uint32_t)ppid;
			if (parent) {
				f->follow[f->nfollow++] = pid;
				grew = true;
			}
		}
		closedir(d);
	}
}

static bool is_hex(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

int filter_resolve(struct filter *f, const struct filter_opts *o)
{
	char proc[32];
	int err;

	memset(f, 0, sizeof(*f));
	for (int i = 0; i < EBEE_FILTER_CGROUPS; i++)
		f->cgroup_fds[i] = -1;
	if (o->children && !o->pid) {
		ebee_err("--children needs --pid");
		return -EINVAL;
	}
	if (o->pid) {
		snprintf(proc, sizeof(proc), "/proc/%llu", o->pid);
		if (o->pid > 0x7fffffff || access(proc, F_OK)) {
			ebee_err("process '%llu' not found", o->pid);
			return -EINVAL;
		}
		f->k.pid = o->pid;
		f->k.pid_on = 1;
		f->k.children = o->children;
		if (o->children)
			seed_follow(f);
	}
	if (o->uid) {
		err = filter_parse_uid(o->uid, &f->k.uid);
		if (err)
			return err;
		f->k.uid_on = 1;
	}
	if (o->comm) {
		if (strlen(o->comm) >= sizeof(f->k.comm)) {
			ebee_err("comm '%s' is longer than the kernel's %zu characters", o->comm,
				 sizeof(f->k.comm) - 1);
			return -EINVAL;
		}
		strcpy(f->k.comm, o->comm);
		f->k.comm_on = 1;
	}
	if (o->cgroup && (err = add_cgroup(f, o->cgroup)))
		goto fail;
	if (o->container) {
		if (!is_hex(o->container) || strlen(o->container) > 64) {
			ebee_err("container id '%s' is not hex (docker ps shows it, e.g. 3f2a9c0b1d4e)",
				 o->container);
			err = -EINVAL;
			goto fail;
		}
		err = cgroup_find_container(o->container, container_cb, f);
		if (err == 0) {
			ebee_err("no cgroup of container '%s' (see 'ebee events --type exec' for ids)", o->container);
			err = -EINVAL;
		}
		if (err < 0)
			goto fail;
	}
	f->k.ncgroups = f->ncgroups;
	return 0;
fail:
	filter_free(f);
	return err < 0 ? err : -EINVAL;
}

void filter_free(struct filter *f)
{
	for (int i = 0; i < f->ncgroups; i++)
		if (f->cgroup_fds[i] >= 0)
			close(f->cgroup_fds[i]);
	f->ncgroups = 0;
}

bool filter_active(const struct filter *f)
{
	return f->k.pid_on || f->k.uid_on || f->k.comm_on || f->k.ncgroups;
}

int filter_load_maps(const struct filter *f, struct bpf_map *cgroups, struct bpf_map *follow)
{
	__u8 one = 1;

	for (__u32 i = 0; i < (__u32)f->ncgroups; i++)
		if (!cgroups || bpf_map_update_elem(bpf_map__fd(cgroups), &i, &f->cgroup_fds[i], BPF_ANY)) {
			ebee_err("cannot set the cgroup filter: %s", cgroups ? strerror(errno) : "no map");
			return -EINVAL;
		}
	for (int i = 0; i < f->nfollow; i++)
		if (!follow || bpf_map_update_elem(bpf_map__fd(follow), &f->follow[i], &one, BPF_ANY)) {
			ebee_err("cannot set the --children filter: %s", follow ? strerror(errno) : "no map");
			return -EINVAL;
		}
	return 0;
}
