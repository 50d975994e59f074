// SPDX-License-Identifier: BSD-2-Clause
/* Reading processes from /proc: one reader for the table's seed and lazy misses, one walk of
 * every fd directory for the features that need fds older than ebee (tcp's listener owners,
 * prog's program holders). See proc.h. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "core/ebee.h"
#include "core/load.h"
#include "proc/proc.h"

/* Reads a small /proc file whole (NUL-terminated); bytes read or -errno. */
static ssize_t slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, got = 0;

	if (fd < 0)
		return -errno;
	while ((size_t)got < len - 1 && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += n;
	close(fd);
	buf[got] = '\0';
	return got;
}

/* readlink into buf; true when it fitted, *cut set when it did not (buf then holds the start). */
static bool read_link(const char *path, char *buf, size_t len, bool *cut)
{
	ssize_t n = readlink(path, buf, len - 1);

	*cut = false;
	if (n < 0) {
		buf[0] = '\0';
		return false;
	}
	buf[n] = '\0';
	*cut = (size_t)n == len - 1;   /* readlink does not say; a full buffer is treated as cut */
	return true;
}

static uint64_t ns_per_tick(void)
{
	static uint64_t v;

	if (!v) {
		long hz = sysconf(_SC_CLK_TCK);
		v = 1000000000ull / (uint64_t)(hz > 0 ? hz : 100);
	}
	return v;
}

bool proc_same_start(uint64_t a, uint64_t b)
{
	return !a || !b || a / ns_per_tick() == b / ns_per_tick();
}

/* tty_nr (stat field 7) as ps names it. */
static void tty_name(unsigned int nr, char *out, size_t len)
{
	unsigned int maj = major(nr), min = minor(nr);

	if (!nr)
		out[0] = '\0';
	else if (maj >= 136 && maj <= 143)
		snprintf(out, len, "pts/%u", min + (maj - 136) * 256);
	else if (maj == 4 && min < 64)
		snprintf(out, len, "tty%u", min);
	else if (maj == 4)
		snprintf(out, len, "ttyS%u", min - 64);
	else
		snprintf(out, len, "%u:%u", maj, min);
}

/* stat: "pid (comm) S ppid pgrp session tty_nr tpgid flags ... starttime(22)"; comm may hold
 * spaces and parentheses, so fields are counted from the last ')'. */
static bool read_stat(uint32_t pid, struct proc *p)
{
	char path[64], buf[1024], *open_, *close_;
	unsigned long long start;
	unsigned int ppid, tty;
	size_t clen;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	if (slurp(path, buf, sizeof(buf)) <= 0)
		return false;
	open_ = strchr(buf, '(');
	close_ = strrchr(buf, ')');
	if (!open_ || !close_ || close_ < open_)
		return false;
	clen = (size_t)(close_ - open_ - 1);
	if (clen >= PROC_COMM_LEN)
		clen = PROC_COMM_LEN - 1;
	memcpy(p->comm, open_ + 1, clen);
	p->comm[clen] = '\0';
	/* fields 3.. : state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
	 * utime stime cutime cstime priority nice num_threads itrealvalue starttime */
	if (sscanf(close_ + 2, "%*c %u %*d %*d %u %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
		   &ppid, &tty, &start) != 3)
		return false;
	p->ppid = ppid;
	tty_name(tty, p->tty, sizeof(p->tty));
	p->start_ns = start * ns_per_tick();
	return true;
}

/* False for a thread id (/proc/TID answers although readdir does not list it): the table
 * holds processes only. */
static bool read_status(uint32_t pid, struct proc *p)
{
	char path[64], buf[2048], *l;
	unsigned int r, e;

	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	if (slurp(path, buf, sizeof(buf)) <= 0)
		return false;
	if ((l = strstr(buf, "\nTgid:")) && strtoul(l + 6, NULL, 10) != pid)
		return false;
	if ((l = strstr(buf, "\nUid:")) && sscanf(l + 5, "%u %u", &r, &e) == 2) {
		p->uid = r;
		p->euid = e;
	}
	return true;
}

/* Keeps the first PROC_CMDLINE_LEN bytes (the last arg may be cut there); argc counts every
 * arg (the file is read to its end). */
static void read_cmdline(uint32_t pid, struct proc *p, char *cmdline)
{
	const size_t cap = PROC_CMDLINE_LEN;
	char path[64], chunk[4096];
	size_t kept = 0, total = 0;
	bool last_nul = true;
	ssize_t n;
	int fd;

	p->argc = 0;
	p->cmdline_len = 0;
	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		size_t c = (size_t)n < cap - kept ? (size_t)n : cap - kept;

		memcpy(cmdline + kept, chunk, c);
		kept += c;
		total += (size_t)n;
		for (ssize_t i = 0; i < n; i++)
			p->argc += chunk[i] == '\0';
		last_nul = chunk[n - 1] == '\0';
	}
	close(fd);
	if (!total)
		return;   /* kernel thread or zombie */
	if (!last_nul)   /* a process that rewrote its argv without the final NUL */
		p->argc++;
	if (total > cap || (total == cap && !last_nul)) {
		p->trunc |= PROC_TRUNC_CMDLINE;
		cmdline[cap - 1] = '\0';
	} else if (!last_nul) {
		cmdline[kept++] = '\0';
	}
	p->cmdline_len = (uint32_t)kept;
}

/* "0::/path" of the unified hierarchy; id = the directory's inode under the cgroup2 mount. */
static void read_cgroup(uint32_t pid, struct proc *p, char *cgroup)
{
	char path[64], buf[4096], full[PATH_MAX];
	const char *root = ebee_cgroup2_path();
	char *l, *end;
	struct stat st;
	size_t len;

	cgroup[0] = '\0';
	strcpy(p->container_id, "host");
	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	if (slurp(path, buf, sizeof(buf)) <= 0)
		return;
	if (!strncmp(buf, "0::", 3))
		l = buf + 3;
	else if ((l = strstr(buf, "\n0::")))
		l += 4;
	else
		return;
	end = strchr(l, '\n');
	if (end)
		*end = '\0';
	container_id_of_cgroup(l, p->container_id);
	len = strlen(l);
	if (len >= PROC_CGROUP_LEN) {
		p->trunc |= PROC_TRUNC_CGROUP;
		len = PROC_CGROUP_LEN - 1;
	}
	memcpy(cgroup, l, len);
	cgroup[len] = '\0';
	if (root && snprintf(full, sizeof(full), "%s%s", root, strcmp(l, "/") ? l : "") < (int)sizeof(full) &&
	    !stat(full, &st))
		p->cgroup_id = st.st_ino;
}

bool procfs_read(uint32_t pid, struct proc *p, struct proc_text *t)
{
	char path[64], buf[32];
	bool cut;

	memset(p, 0, sizeof(*p));
	t->exe[0] = t->cwd[0] = t->cgroup[0] = '\0';
	p->exe = t->exe;
	p->cmdline = t->cmdline;
	p->cwd = t->cwd;
	p->cgroup = t->cgroup;
	p->pid = pid;
	p->loginuid = (uint32_t)-1;
	if (!read_stat(pid, p) || !read_status(pid, p))
		return false;
	snprintf(path, sizeof(path), "/proc/%u/loginuid", pid);
	if (slurp(path, buf, sizeof(buf)) > 0)
		p->loginuid = (uint32_t)strtoul(buf, NULL, 10);
	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	if (read_link(path, t->exe, sizeof(t->exe), &cut) && cut)
		p->trunc |= PROC_TRUNC_EXE;
	snprintf(path, sizeof(path), "/proc/%u/cwd", pid);
	if (read_link(path, t->cwd, sizeof(t->cwd), &cut) && cut)
		p->trunc |= PROC_TRUNC_CWD;
	read_cmdline(pid, p, t->cmdline);
	read_cgroup(pid, p, t->cgroup);
	return true;
}

void procfs_comm(uint32_t pid, char comm[PROC_COMM_LEN])
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	if (slurp(path, comm, PROC_COMM_LEN) <= 0)
		comm[0] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
}

const char *procfs_walk_comm(struct procfs_fd *f)
{
	if (!f->comm_[0]) {
		procfs_comm(f->pid, f->comm_);
		if (!f->comm_[0])
			snprintf(f->comm_, sizeof(f->comm_), "?");
	}
	return f->comm_;
}

int procfs_walk_fds(bool skip_self, int (*cb)(struct procfs_fd *f, void *arg), void *arg)
{
	uint32_t self = (uint32_t)getpid();
	struct dirent *de, *fe;
	int visited = 0, stop = 0;
	DIR *proc = opendir("/proc");

	if (!proc)
		return -errno;
	while (!stop && (de = readdir(proc))) {
		struct procfs_fd f = { 0 };
		char path[64], link[PROC_FD_PATH_LEN];
		DIR *fds;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		f.pid = (uint32_t)strtoul(de->d_name, NULL, 10);
		if (skip_self && f.pid == self)
			continue;
		snprintf(path, sizeof(path), "/proc/%u/fd", f.pid);
		if (!(fds = opendir(path)))
			continue;   /* gone, or not ours to read */
		visited++;
		f.dirfd = dirfd(fds);
		while (!stop && (fe = readdir(fds))) {
			ssize_t n;

			if (fe->d_name[0] == '.')
				continue;
			n = readlinkat(f.dirfd, fe->d_name, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			f.fd = atoi(fe->d_name);
			f.link = link;
			stop = cb(&f, arg);
		}
		closedir(fds);
	}
	closedir(proc);
	return visited;
}
