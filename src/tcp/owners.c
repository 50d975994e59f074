// SPDX-License-Identifier: BSD-2-Clause
/* ebee tcp: owners of listening sockets older than ebee. A socket accepted from a listener is
 * born in softirq, where the current task says nothing about who will own it; the BPF side
 * learns a listener's owner at listen(), and for listeners that were already there this file
 * finds it the way `ss -p` does: listening sockets' inodes from /proc/net/tcp{,6}, then the
 * process holding an fd on that inode. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/types.h>
#include <bpf/bpf.h>

#include "core/ebee.h"
#include "tcp/owners.h"
#include "tcp/tcp.h"

#define TCP_LISTEN_ST 0x0a
#define MAX_LISTENERS 4096

struct lsock {
	unsigned long inode;
	__u32 port;
	int done;
};

static int by_inode(const void *a, const void *b)
{
	const struct lsock *x = a, *y = b;

	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

static int read_listeners(const char *path, struct lsock *ls, int n)
{
	char line[512];
	FILE *f = fopen(path, "re");

	if (!f)
		return n;   /* no IPv6 */
	while (n < MAX_LISTENERS && fgets(line, sizeof(line), f)) {
		unsigned int port, st;
		unsigned long inode;

		if (sscanf(line, " %*d: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x %*x:%*x %*x:%*x %*x %*u %*u %lu",
			   &port, &st, &inode) != 3)
			continue;   /* the header */
		if (st != TCP_LISTEN_ST || !inode)
			continue;
		ls[n].inode = inode;
		ls[n].port = port;
		ls[n].done = 0;
		n++;
	}
	fclose(f);
	return n;
}

static void read_comm(const char *pid, char *comm)
{
	char path[64];
	ssize_t r;
	int fd;

	memset(comm, 0, TCP_COMM_LEN);
	snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	r = read(fd, comm, TCP_COMM_LEN - 1);
	close(fd);
	if (r > 0 && comm[r - 1] == '\n')
		comm[r - 1] = 0;
}

int tcp_seed_listeners(int map_fd)
{
	struct lsock *ls;
	struct stat nst;
	struct dirent *p, *d;
	DIR *proc;
	int n = 0, found = 0;

	if (stat("/proc/self/ns/net", &nst))
		return -errno;
	ls = calloc(MAX_LISTENERS, sizeof(*ls));
	if (!ls)
		return -ENOMEM;
	n = read_listeners("/proc/net/tcp", ls, n);
	n = read_listeners("/proc/net/tcp6", ls, n);
	if (!n)
		goto out;
	qsort(ls, n, sizeof(*ls), by_inode);

	proc = opendir("/proc");
	if (!proc) {
		found = -errno;
		goto out;
	}
	while (found < n && (p = readdir(proc))) {
		char path[300], link[64];
		DIR *fds;

		if (!isdigit((unsigned char)p->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", p->d_name);
		fds = opendir(path);
		if (!fds)
			continue;   /* gone, or a kernel thread */
		while ((d = readdir(fds))) {
			struct lsock key, *hit;
			ssize_t r;

			if (d->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/fd/%s", p->d_name, d->d_name);
			r = readlink(path, link, sizeof(link) - 1);
			if (r <= 8 || strncmp(link, "socket:[", 8))
				continue;
			link[r] = 0;
			key.inode = strtoul(link + 8, NULL, 10);
			hit = bsearch(&key, ls, n, sizeof(*ls), by_inode);
			if (!hit || hit->done)
				continue;
			struct tcp_listener_key k = { .port = hit->port, .netns = (__u32)nst.st_ino };
			struct tcp_owner o = { .pid = (__u32)strtoul(p->d_name, NULL, 10) };

			read_comm(p->d_name, o.comm);
			/* a listener that closed meanwhile leaves a harmless entry (LRU) */
			if (!bpf_map_update_elem(map_fd, &k, &o, BPF_NOEXIST))
				ebee_dbg("listener port %u owned by %u (%s)", k.port, o.pid, o.comm);
			hit->done = 1;
			found++;
		}
		closedir(fds);
	}
	closedir(proc);
out:
	free(ls);
	return found;
}
