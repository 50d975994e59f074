// SPDX-License-Identifier: BSD-2-Clause
/* The verdict stream for `ebee policy flows`; see feed.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/ebee.h"
#include "core/loop.h"
#include "policy/feed.h"

static int sweep(void);

static int on_accept(struct ebee_loop *l, int fd, uint32_t events, void *arg)
{
	struct pol_feed *f = arg;
	int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (c < 0)
		return 0;
	for (int i = 0; i < POL_FEED_MAX; i++)
		if (f->cfd[i] < 0) {
			f->cfd[i] = c;
			return 0;
		}
	close(c);   /* full: the reader sees EOF at once */
	return 0;
}

void pol_feed_open(struct pol_feed *f, struct ebee_loop *l)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	f->lfd = -1;
	for (int i = 0; i < POL_FEED_MAX; i++)
		f->cfd[i] = -1;
	mkdir("/run/ebee", 0755);
	mkdir(POL_FEED_DIR, 0700);
	sweep();
	snprintf(f->path, sizeof(f->path), POL_FEED_DIR "/%d.sock", (int)getpid());
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	unlink(f->path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(f->lfd, 4) ||
	    loop_add_fd(l, f->lfd, 1 /* EPOLLIN */, on_accept, f)) {
		ebee_warn("cannot offer the verdict stream at '%s': %s ('ebee policy flows' will not see this run)",
			  f->path, strerror(errno));
		if (f->lfd >= 0)
			close(f->lfd);
		f->lfd = -1;
		f->path[0] = 0;
	}
}

void pol_feed_line(struct pol_feed *f, const char *line, size_t len)
{
	for (int i = 0; i < POL_FEED_MAX; i++) {
		ssize_t n;

		if (f->cfd[i] < 0)
			continue;
		n = send(f->cfd[i], line, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == (ssize_t)len)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			f->dropped++;
			continue;
		}
		/* gone, or a partial line: a reader must never see half a line, so it goes */
		close(f->cfd[i]);
		f->cfd[i] = -1;
	}
}

bool pol_feed_active(const struct pol_feed *f)
{
	for (int i = 0; f->lfd >= 0 && i < POL_FEED_MAX; i++)
		if (f->cfd[i] >= 0)
			return true;
	return false;
}

void pol_feed_close(struct pol_feed *f)
{
	if (f->lfd < 0)
		return;   /* never opened, or failed to: no client either */
	for (int i = 0; i < POL_FEED_MAX; i++)
		if (f->cfd[i] >= 0)
			close(f->cfd[i]);
	if (f->lfd >= 0)
		close(f->lfd);
	if (f->path[0])
		unlink(f->path);
	if (f->dropped)
		ebee_warn("%llu verdict lines not sent to slow 'ebee policy flows' readers",
			  (unsigned long long)f->dropped);
}

static int connect_path(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Removes sockets of applies that no longer run (a SIGKILL leaves its file) and returns the
 * pid of the newest live one, or 0. */
static int sweep(void)
{
	char path[300];
	struct dirent *e;
	DIR *d = opendir(POL_FEED_DIR);
	int best = 0;
	time_t best_t = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		struct stat st;
		int p = atoi(e->d_name);

		snprintf(path, sizeof(path), POL_FEED_DIR "/%s", e->d_name);
		if (p <= 0 || stat(path, &st))
			continue;
		if (kill(p, 0) && errno == ESRCH) {
			unlink(path);
			continue;
		}
		if (!best || st.st_mtime >= best_t) {
			best = p;
			best_t = st.st_mtime;
		}
	}
	closedir(d);
	return best;
}

int pol_feed_connect(int pid)
{
	char path[300];

	if (!pid)
		pid = sweep();
	if (!pid)
		return -ENOENT;
	snprintf(path, sizeof(path), POL_FEED_DIR "/%d.sock", pid);
	return connect_path(path);
}
