// SPDX-License-Identifier: BSD-2-Clause
/* Fault injection for the integration tests: an LD_PRELOAD shim that makes chosen bpf()
 * commands, or opens of a chosen path, fail (or stall) on demand, so that tests can prove ebee
 * reports and survives what the kernel rarely does on a test machine (ENOMEM on load, a stats
 * fd refused, a sysctl not writable). ebee itself carries no fault code: libbpf reaches the
 * kernel through libc's syscall(), which the shim interposes.
 *
 * EBEE_FAULT="RULE[;RULE...]", RULE = WHAT:ACTION[:skip=N][:count=M]
 *   WHAT    bpf command (prog_load, map_create, link_create, raw_tp_open, map_update,
 *           enable_stats, obj_get_info, any) or open=PATH (opens of PATH for writing)
 *   ACTION  an errno name (ENOMEM, EPERM, EACCES, E2BIG, EINVAL, ENOSPC, EBUSY) or
 *           delay=MS (the call goes through after MS milliseconds)
 *   skip=N  let the first N matching calls through; count=M act on M calls (default all)
 * Each call acted on is logged to stderr as "ebee-fault: WHAT ACTION" so a test can tell the
 * fault fired. Build: cc -shared -fPIC -o libebeefault.so fault.c -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <sys/syscall.h>

#define MAX_RULES 8

struct rule {
	int cmd;             /* bpf command, -1 = any, -2 = open of path */
	char path[256];
	int err;             /* errno to fail with, 0 = delay */
	int delay_ms;
	long skip, count;    /* count < 0: unlimited */
	long seen;
	const char *what, *action;
};

static struct rule rules[MAX_RULES];
static int nrules = -1;

static const struct { const char *name; int cmd; } cmds[] = {
	{ "prog_load", BPF_PROG_LOAD }, { "map_create", BPF_MAP_CREATE },
	{ "link_create", BPF_LINK_CREATE }, { "raw_tp_open", BPF_RAW_TRACEPOINT_OPEN },
	{ "map_update", BPF_MAP_UPDATE_ELEM }, { "enable_stats", BPF_ENABLE_STATS },
	{ "obj_get_info", BPF_OBJ_GET_INFO_BY_FD }, { "any", -1 },
};
static const struct { const char *name; int err; } errs[] = {
	{ "ENOMEM", ENOMEM }, { "EPERM", EPERM }, { "EACCES", EACCES }, { "E2BIG", E2BIG },
	{ "EINVAL", EINVAL }, { "ENOSPC", ENOSPC }, { "EBUSY", EBUSY }, { "EIO", EIO },
};

static void parse(void)
{
	char *spec = getenv("EBEE_FAULT"), *save = NULL, *r;
	static char buf[1024];

	nrules = 0;
	if (!spec)
		return;
	snprintf(buf, sizeof(buf), "%s", spec);
	for (r = strtok_r(buf, ";", &save); r && nrules < MAX_RULES; r = strtok_r(NULL, ";", &save)) {
		struct rule *u = &rules[nrules];
		char *save2 = NULL, *f = strtok_r(r, ":", &save2);
		size_t i;

		memset(u, 0, sizeof(*u));
		u->count = -1;
		u->what = f;
		if (!f)
			continue;
		if (!strncmp(f, "open=", 5)) {
			u->cmd = -2;
			snprintf(u->path, sizeof(u->path), "%s", f + 5);
		} else {
			for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
				if (!strcmp(f, cmds[i].name))
					break;
			if (i == sizeof(cmds) / sizeof(cmds[0])) {
				fprintf(stderr, "ebee-fault: unknown call '%s'\n", f);
				continue;
			}
			u->cmd = cmds[i].cmd;
		}
		while ((f = strtok_r(NULL, ":", &save2))) {
			if (!strncmp(f, "skip=", 5))
				u->skip = atol(f + 5);
			else if (!strncmp(f, "count=", 6))
				u->count = atol(f + 6);
			else if (!strncmp(f, "delay=", 6)) {
				u->delay_ms = atoi(f + 6);
				u->action = f;
			} else {
				for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
					if (!strcmp(f, errs[i].name))
						u->err = errs[i].err;
				u->action = f;
			}
		}
		if (u->err || u->delay_ms)
			nrules++;
	}
}

/* The rule acting on this call, or NULL. */
static struct rule *match(int cmd, const char *path)
{
	if (nrules < 0)
		parse();
	for (int i = 0; i < nrules; i++) {
		struct rule *u = &rules[i];

		if (path ? (u->cmd != -2 || strcmp(u->path, path)) : (u->cmd == -2 || (u->cmd != -1 && u->cmd != cmd)))
			continue;
		if (u->seen++ < u->skip)
			continue;
		if (u->count >= 0 && u->seen - u->skip > u->count)
			continue;
		fprintf(stderr, "ebee-fault: %s %s\n", u->what, u->action);
		if (u->delay_ms) {
			struct timespec ts = { u->delay_ms / 1000, (u->delay_ms % 1000) * 1000000L };

			while (nanosleep(&ts, &ts) && errno == EINTR)
				;
			return NULL;
		}
		return u;
	}
	return NULL;
}

long syscall(long nr, ...)
{
	static long (*real)(long, ...);
	va_list ap;
	long a[6];

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (!real)
		real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	if (nr == __NR_bpf) {
		struct rule *u = match((int)a[0], NULL);

		if (u) {
			errno = u->err;
			return -1;
		}
	}
	return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

static int open_common(const char *name, const char *path, int flags, mode_t mode)
{
	static int (*real[2])(const char *, int, ...);
	int k = !strcmp(name, "open64");

	if ((flags & O_ACCMODE) != O_RDONLY) {
		struct rule *u = match(0, path);

		if (u) {
			errno = u->err;
			return -1;
		}
	}
	if (!real[k])
		real[k] = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, name);
	return real[k](path, flags, mode);
}

/* open and open64 (the same call under two names, either may be what ebee links to). */
#define OPEN_WRAPPER(name)                                          \
	int name(const char *path, int flags, ...)                  \
	{                                                           \
		va_list ap;                                         \
		mode_t mode;                                        \
                                                                    \
		va_start(ap, flags);                                \
		mode = va_arg(ap, mode_t);                          \
		va_end(ap);                                         \
		return open_common(#name, path, flags, mode);       \
	}
OPEN_WRAPPER(open)
OPEN_WRAPPER(open64)
