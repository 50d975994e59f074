// SPDX-License-Identifier: BSD-2-Clause
/* ebee tcp: owners of listening sockets older than ebee. A socket accepted from a listener is
 * born in softirq, where the current task says nothing about who will own it; the BPF side
 * learns a listener's owner at listen(), and for listeners that were already there this file
 * finds it the way `ss -p` does: listening sockets' inodes from /proc/net/tcp{,6}, then the
 * process holding an fd on that inode. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <linux/types.h>
#include <bpf/bpf.h>

#include "core/ebee.h"
#include "proc/proc.h"
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

struct seed {
	struct lsock *ls;
	int n, found, map_fd;
	__u32 netns;
};

static int seed_fd(struct procfs_fd *f, void *arg)
{
	struct seed *s = arg;
	struct lsock key, *hit;

	if (strncmp(f->link, "socket:[", 8))
		return 0;
	key.inode = strtoul(f->link + 8, NULL, 10);
	hit = bsearch(&key, s->ls, s->n, sizeof(*s->ls), by_inode);
	if (!hit || hit->done)
		return 0;
	struct tcp_listener_key k = { .port = hit->port, .netns = s->netns };
	struct tcp_owner o = { .pid = f->pid };

	snprintf(o.comm, sizeof(o.comm), "%s", procfs_walk_comm(f));
	/* a listener that closed meanwhile leaves a harmless entry (LRU) */
	if (!bpf_map_update_elem(s->map_fd, &k, &o, BPF_NOEXIST))
		ebee_dbg("listener port %u owned by %u (%s)", k.port, o.pid, o.comm);
	hit->done = 1;
	return ++s->found == s->n;   /* all owners known: stop walking */
}

int tcp_seed_listeners(int map_fd)
{
	struct seed s = { .map_fd = map_fd };
	struct stat nst;
	int err;

	if (stat("/proc/self/ns/net", &nst))
		return -errno;
	s.netns = (__u32)nst.st_ino;
	s.ls = calloc(MAX_LISTENERS, sizeof(*s.ls));
	if (!s.ls)
		return -ENOMEM;
	s.n = read_listeners("/proc/net/tcp", s.ls, s.n);
	s.n = read_listeners("/proc/net/tcp6", s.ls, s.n);
	if (s.n) {
		qsort(s.ls, s.n, sizeof(*s.ls), by_inode);
		/* the shared walk of every process's fds (src/proc): listeners found at start have
		 * no event in any process table, only an fd in some /proc/PID/fd */
		err = procfs_walk_fds(false, seed_fd, &s);
		if (err < 0)
			s.found = err;
	}
	free(s.ls);
	return s.found;
}
