// SPDX-License-Identifier: BSD-2-Clause
/* guard's field provider: Falco's field names (evt.*, proc.*, thread.*, user.*, group.*,
 * fd.*, container.*) over a struct gevent and the process table, with Falco's semantics:
 * proc.name is the comm, proc.exe argv[0], proc.aname[N] the Nth ancestor (no argument: any
 * ancestor, not the process), proc.tty the tty device number, evt.res an errno name or
 * SUCCESS, evt.arg.flags as O_* names, thread.cap_effective as CAP_* names. Fields Falco has
 * that need a container runtime or Kubernetes are known but always "<NA>" (CF_NA). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "core/ebee.h"
#include "guard/fields.h"
#include "guard/gevent.h"

/* ---- event types ---------------------------------------------------------------------- */

static const struct { const char *name; int src; } evtypes[] = {
	{ "open", EV_OPEN }, { "openat", EV_OPEN }, { "openat2", EV_OPEN }, { "creat", EV_OPEN },
	{ "execve", EV_EXEC }, { "execveat", EV_EXEC },
	{ "clone", EV_FORK }, { "clone3", EV_FORK }, { "fork", EV_FORK }, { "vfork", EV_FORK },
	{ "procexit", EV_EXIT },
	{ "unlink", EV_UNLINK }, { "unlinkat", EV_UNLINK }, { "rmdir", EV_UNLINK },
	{ "rename", EV_RENAME }, { "renameat", EV_RENAME }, { "renameat2", EV_RENAME },
	{ "chmod", EV_CHMOD }, { "fchmod", EV_CHMOD }, { "fchmodat", EV_CHMOD },
	{ "chown", EV_CHOWN }, { "fchown", EV_CHOWN }, { "fchownat", EV_CHOWN }, { "lchown", EV_CHOWN },
	{ "symlink", EV_SYMLINK }, { "symlinkat", EV_SYMLINK },
	{ "link", EV_LINK }, { "linkat", EV_LINK },
	{ "mkdir", EV_MKDIR }, { "mkdirat", EV_MKDIR },
	{ "close", EV_CLOSE },
	{ "dup", EV_DUP }, { "dup2", EV_DUP }, { "dup3", EV_DUP },
	{ "memfd_create", EV_MEMFD },
	{ "mount", EV_MOUNT }, { "umount", EV_MOUNT }, { "umount2", EV_MOUNT },
	{ "truncate", EV_TRUNCATE }, { "ftruncate", EV_TRUNCATE },
	{ "socket", EV_SOCKET }, { "connect", EV_CONNECT },
	{ "accept", EV_ACCEPT }, { "accept4", EV_ACCEPT },
	{ "bind", EV_BIND }, { "listen", EV_LISTEN },
	{ "sendto", EV_SENDTO }, { "sendmsg", EV_SENDTO },
	{ "ptrace", EV_PTRACE },
	{ "kill", EV_KILL }, { "tkill", EV_KILL }, { "tgkill", EV_KILL },
	{ "setuid", EV_SETUID }, { "setresuid", EV_SETUID }, { "setreuid", EV_SETUID },
	{ "setgid", EV_SETGID }, { "setresgid", EV_SETGID }, { "setregid", EV_SETGID },
	{ "init_module", EV_MODULE }, { "finit_module", EV_MODULE }, { "delete_module", EV_MODULE },
	{ "bpf", EV_BPF }, { "mprotect", EV_MPROTECT }, { "capset", EV_CAPSET }, { "prctl", EV_PRCTL },
	/* Falco events ebee does not capture (rules using only these are not evaluable) */
	{ "read", 0 }, { "write", 0 }, { "recvfrom", 0 }, { "recvmsg", 0 }, { "mmap", 0 },
	{ "userfaultfd", 0 }, { "chdir", 0 }, { "fchdir", 0 }, { "setns", 0 }, { "unshare", 0 },
	{ "pipe", 0 }, { "pipe2", 0 }, { "pread", 0 }, { "pwrite", 0 }, { "sendfile", 0 },
	{ "fcntl", 0 }, { "ioctl", 0 }, { "container", 0 }, { "switch", 0 }, { "signaldeliver", 0 },
	{ "io_uring_setup", 0 }, { "io_uring_enter", 0 }, { "io_uring_register", 0 },
	{ "execve_enter", 0 }, { "seccomp", 0 }, { "chroot", 0 }, { "pivot_root", 0 },
	{ "socketpair", 0 }, { "shutdown", 0 }, { "getsockopt", 0 }, { "setsockopt", 0 },
	{ "setrlimit", 0 }, { "prlimit", 0 }, { "mknod", 0 }, { "mknodat", 0 },
	{ "process_vm_readv", 0 }, { "process_vm_writev", 0 }, { "splice", 0 }, { "brk", 0 },
	{ "munmap", 0 }, { "poll", 0 }, { "select", 0 }, { "epoll_create", 0 }, { "nanosleep", 0 },
};

int guard_evtype_index(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(evtypes); i++)
		if (!strcmp(evtypes[i].name, name))
			return (int)i;
	return -1;
}

const char *guard_evtype_name(int i)
{
	return i >= 0 && i < (int)ARRAY_SIZE(evtypes) ? evtypes[i].name : "unknown";
}

int guard_evtype_source(int i)
{
	return i >= 0 && i < (int)ARRAY_SIZE(evtypes) ? evtypes[i].src : 0;
}

int guard_evtype_count(void) { return (int)ARRAY_SIZE(evtypes); }

/* ---- the field table ------------------------------------------------------------------ */

enum fid {
	F_EVT_TYPE, F_EVT_NUM, F_EVT_TIME, F_EVT_RAWTIME, F_EVT_DIR, F_EVT_RES, F_EVT_RAWRES,
	F_EVT_FAILED, F_EVT_OPEN_READ, F_EVT_OPEN_WRITE, F_EVT_OPEN_EXEC, F_EVT_ARG, F_EVT_RAWARG,
	F_EVT_ARGS, F_EVT_HOSTNAME, F_EVT_SOURCE,
	F_PROC_NAME, F_PROC_EXE, F_PROC_EXEPATH, F_PROC_ARGS, F_PROC_CMDLINE, F_PROC_PID,
	F_PROC_PPID, F_PROC_PNAME, F_PROC_PCMDLINE, F_PROC_PEXE, F_PROC_PEXEPATH, F_PROC_ANAME,
	F_PROC_APID, F_PROC_AEXE, F_PROC_AEXEPATH, F_PROC_ACMDLINE, F_PROC_TTY, F_PROC_SID,
	F_PROC_VPGID, F_PROC_SNAME, F_PROC_VPGID_NAME, F_PROC_CWD, F_PROC_DURATION,
	F_PROC_MEMFD, F_PROC_CGROUP, F_PROC_IS_SID_LEADER, F_PROC_IS_VPGID_LEADER,
	F_THREAD_TID, F_THREAD_CAP_EFF, F_THREAD_CAP_PRM, F_THREAD_CAP_INH,
	F_USER_UID, F_USER_NAME, F_USER_LOGINUID, F_USER_LOGINNAME, F_USER_HOMEDIR, F_USER_SHELL,
	F_GROUP_GID, F_GROUP_NAME,
	F_FD_NUM, F_FD_NAME, F_FD_NAMERAW, F_FD_DIRECTORY, F_FD_FILENAME, F_FD_TYPECHAR, F_FD_TYPE,
	F_FD_SIP, F_FD_CIP, F_FD_LIP, F_FD_RIP, F_FD_SPORT, F_FD_CPORT, F_FD_LPORT, F_FD_RPORT,
	F_FD_L4PROTO, F_FD_SOCKFAMILY, F_FD_IP, F_FD_PORT, F_FD_IS_SERVER,
	F_CONTAINER_ID, F_CONTAINER_NAME, F_CONTAINER_INFO,
	F_NA,
};

enum { ARG_NONE, ARG_INDEX, ARG_NAME };   /* which argument a field takes (optional) */

struct fdef {
	const char *name;
	int id;
	enum cond_type type;
	uint8_t flags, kdim, argk;
};

static const struct fdef fdefs[] = {
	{ "evt.type", F_EVT_TYPE, CT_STR, 0, CK_EVTYPE },
	{ "evt.num", F_EVT_NUM, CT_NUM },
	{ "evt.time", F_EVT_TIME, CT_STR },
	{ "evt.time.iso8601", F_EVT_TIME, CT_STR },
	{ "evt.datetime", F_EVT_TIME, CT_STR },
	{ "evt.rawtime", F_EVT_RAWTIME, CT_NUM },
	{ "evt.dir", F_EVT_DIR, CT_STR, CF_MULTI },
	{ "evt.res", F_EVT_RES, CT_STR },
	{ "evt.rawres", F_EVT_RAWRES, CT_NUM },
	{ "evt.failed", F_EVT_FAILED, CT_BOOL },
	{ "evt.is_open_read", F_EVT_OPEN_READ, CT_BOOL },
	{ "evt.is_open_write", F_EVT_OPEN_WRITE, CT_BOOL, 0, CK_WRITE },
	{ "evt.is_open_exec", F_EVT_OPEN_EXEC, CT_BOOL },
	{ "evt.arg", F_EVT_ARG, CT_STR, 0, 0, ARG_NAME },
	{ "evt.rawarg", F_EVT_RAWARG, CT_NUM, 0, 0, ARG_NAME },
	{ "evt.args", F_EVT_ARGS, CT_STR },
	{ "evt.hostname", F_EVT_HOSTNAME, CT_STR },
	{ "evt.source", F_EVT_SOURCE, CT_STR },
	{ "proc.name", F_PROC_NAME, CT_STR, 0, CK_COMM },
	{ "proc.exe", F_PROC_EXE, CT_STR },
	{ "proc.exepath", F_PROC_EXEPATH, CT_STR },
	{ "proc.args", F_PROC_ARGS, CT_STR },
	{ "proc.cmdline", F_PROC_CMDLINE, CT_STR },
	{ "proc.pid", F_PROC_PID, CT_NUM },
	{ "proc.vpid", F_PROC_PID, CT_NUM },
	{ "proc.ppid", F_PROC_PPID, CT_NUM },
	{ "proc.pvpid", F_PROC_PPID, CT_NUM },
	{ "proc.pname", F_PROC_PNAME, CT_STR },
	{ "proc.pcmdline", F_PROC_PCMDLINE, CT_STR },
	{ "proc.pexe", F_PROC_PEXE, CT_STR },
	{ "proc.pexepath", F_PROC_PEXEPATH, CT_STR },
	{ "proc.aname", F_PROC_ANAME, CT_STR, CF_MULTI, 0, ARG_INDEX },
	{ "proc.apid", F_PROC_APID, CT_NUM, CF_MULTI, 0, ARG_INDEX },
	{ "proc.aexe", F_PROC_AEXE, CT_STR, CF_MULTI, 0, ARG_INDEX },
	{ "proc.aexepath", F_PROC_AEXEPATH, CT_STR, CF_MULTI, 0, ARG_INDEX },
	{ "proc.acmdline", F_PROC_ACMDLINE, CT_STR, CF_MULTI, 0, ARG_INDEX },
	{ "proc.tty", F_PROC_TTY, CT_NUM },
	{ "proc.sid", F_PROC_SID, CT_NUM },
	{ "proc.vpgid", F_PROC_VPGID, CT_NUM },
	{ "proc.sname", F_PROC_SNAME, CT_STR },
	{ "proc.sid.exe", F_NA, CT_STR, CF_NA },
	{ "proc.vpgid.name", F_PROC_VPGID_NAME, CT_STR },
	{ "proc.cwd", F_PROC_CWD, CT_STR },
	{ "proc.duration", F_PROC_DURATION, CT_NUM },
	{ "proc.is_exe_from_memfd", F_PROC_MEMFD, CT_BOOL },
	{ "proc.is_sid_leader", F_PROC_IS_SID_LEADER, CT_BOOL },
	{ "proc.is_vpgid_leader", F_PROC_IS_VPGID_LEADER, CT_BOOL },
	{ "proc.cgroup", F_PROC_CGROUP, CT_STR },
	/* need the exec event's overlayfs upper-layer flag / inode times: not in the events yet */
	{ "proc.is_exe_upper_layer", F_NA, CT_BOOL, CF_NA },
	{ "proc.is_exe_writable", F_NA, CT_BOOL, CF_NA },
	{ "proc.exe_ino", F_NA, CT_NUM, CF_NA },
	{ "proc.exe_ino.ctime", F_NA, CT_NUM, CF_NA },
	{ "proc.exe_ino.mtime", F_NA, CT_NUM, CF_NA },
	{ "proc.exe_ino.ctime_duration_proc_start", F_NA, CT_NUM, CF_NA },
	{ "proc.exe_ino.ctime_duration_pidns_start", F_NA, CT_NUM, CF_NA },
	{ "proc.env", F_NA, CT_STR, CF_NA, 0, ARG_NAME },
	{ "proc.loginshellid", F_NA, CT_NUM, CF_NA },
	{ "proc.pid.ts", F_NA, CT_NUM, CF_NA },
	{ "proc.ppid.duration", F_NA, CT_NUM, CF_NA },
	{ "proc.is_container_healthcheck", F_NA, CT_BOOL, CF_NA },
	{ "proc.is_container_liveness_probe", F_NA, CT_BOOL, CF_NA },
	{ "proc.is_container_readiness_probe", F_NA, CT_BOOL, CF_NA },
	{ "thread.tid", F_THREAD_TID, CT_NUM },
	{ "thread.vtid", F_THREAD_TID, CT_NUM },
	{ "thread.cap_effective", F_THREAD_CAP_EFF, CT_STR },
	{ "thread.cap_permitted", F_THREAD_CAP_PRM, CT_STR },
	{ "thread.cap_inheritable", F_THREAD_CAP_INH, CT_STR },
	{ "user.uid", F_USER_UID, CT_NUM },
	{ "user.name", F_USER_NAME, CT_STR },
	{ "user.loginuid", F_USER_LOGINUID, CT_NUM },
	{ "user.loginname", F_USER_LOGINNAME, CT_STR },
	{ "user.homedir", F_USER_HOMEDIR, CT_STR },
	{ "user.shell", F_USER_SHELL, CT_STR },
	{ "group.gid", F_GROUP_GID, CT_NUM },
	{ "group.name", F_GROUP_NAME, CT_STR },
	{ "fd.num", F_FD_NUM, CT_NUM },
	{ "fd.name", F_FD_NAME, CT_STR, 0, CK_PATH },
	{ "fd.nameraw", F_FD_NAMERAW, CT_STR, 0, CK_RAWPATH },
	{ "fd.directory", F_FD_DIRECTORY, CT_STR, 0, CK_PATHDIR },
	{ "fd.filename", F_FD_FILENAME, CT_STR },
	{ "fd.typechar", F_FD_TYPECHAR, CT_STR },
	{ "fd.type", F_FD_TYPE, CT_STR },
	{ "fd.sip", F_FD_SIP, CT_IP }, { "fd.cip", F_FD_CIP, CT_IP },
	{ "fd.lip", F_FD_LIP, CT_IP }, { "fd.rip", F_FD_RIP, CT_IP },
	{ "fd.snet", F_FD_SIP, CT_IP }, { "fd.cnet", F_FD_CIP, CT_IP },
	{ "fd.lnet", F_FD_LIP, CT_IP }, { "fd.rnet", F_FD_RIP, CT_IP },
	{ "fd.ip", F_FD_IP, CT_IP, CF_MULTI }, { "fd.net", F_FD_IP, CT_IP, CF_MULTI },
	{ "fd.sport", F_FD_SPORT, CT_NUM }, { "fd.cport", F_FD_CPORT, CT_NUM },
	{ "fd.lport", F_FD_LPORT, CT_NUM }, { "fd.rport", F_FD_RPORT, CT_NUM },
	{ "fd.port", F_FD_PORT, CT_NUM, CF_MULTI },
	{ "fd.l4proto", F_FD_L4PROTO, CT_STR },
	{ "fd.sockfamily", F_FD_SOCKFAMILY, CT_STR },
	{ "fd.is_server", F_FD_IS_SERVER, CT_BOOL },
	/* need DNS names or per-fd socket state guard does not keep */
	{ "fd.sip.name", F_NA, CT_STR, CF_NA }, { "fd.cip.name", F_NA, CT_STR, CF_NA },
	{ "fd.lip.name", F_NA, CT_STR, CF_NA }, { "fd.rip.name", F_NA, CT_STR, CF_NA },
	{ "fd.connected", F_NA, CT_BOOL, CF_NA }, { "fd.name_changed", F_NA, CT_BOOL, CF_NA },
	{ "fd.types", F_NA, CT_STR, CF_NA, 0, ARG_INDEX }, { "fd.dev", F_NA, CT_NUM, CF_NA },
	{ "fd.ino", F_NA, CT_NUM, CF_NA },
	{ "container.id", F_CONTAINER_ID, CT_STR },
	{ "container.name", F_CONTAINER_NAME, CT_STR },
	{ "container.info", F_CONTAINER_INFO, CT_STR },
};

/* Families of fields that need a container runtime or Kubernetes: known, always <NA>. */
static const char *const na_prefixes[] = { "container.", "k8s.", "kubernetes." };

static const char *const na_why = "needs a container runtime or Kubernetes";

/* What getting a field's value costs (cond.h's cond_field.cost): the order a rule's checks
 * are evaluated in. */
static uint8_t field_cost(int id)
{
	switch (id) {
	case F_PROC_SID: case F_PROC_VPGID: case F_PROC_SNAME: case F_PROC_VPGID_NAME:
	case F_PROC_IS_SID_LEADER: case F_PROC_IS_VPGID_LEADER: case F_THREAD_CAP_EFF:
	case F_THREAD_CAP_PRM: case F_THREAD_CAP_INH: case F_GROUP_GID: case F_GROUP_NAME:
		return 60;   /* /proc files read */
	case F_USER_NAME: case F_USER_HOMEDIR: case F_USER_SHELL: case F_USER_LOGINNAME:
		return 12;   /* the password database */
	case F_PROC_MEMFD: case F_EVT_TIME: case F_EVT_ARG: case F_EVT_ARGS: case F_EVT_RES:
	case F_PROC_ARGS: case F_PROC_CMDLINE: case F_PROC_PCMDLINE: case F_PROC_ACMDLINE:
	case F_PROC_CWD: case F_FD_NAME: case F_EVT_HOSTNAME: case F_CONTAINER_INFO:
		return 5;    /* text made or copied */
	case F_PROC_PNAME: case F_PROC_PEXE: case F_PROC_PEXEPATH: case F_PROC_ANAME:
	case F_PROC_APID: case F_PROC_AEXE: case F_PROC_AEXEPATH:
		return 4;    /* an ancestor's lookup */
	case F_PROC_NAME: case F_PROC_EXE: case F_PROC_EXEPATH: case F_PROC_PPID:
	case F_PROC_TTY: case F_PROC_DURATION: case F_PROC_CGROUP: case F_USER_LOGINUID:
	case F_CONTAINER_ID: case F_CONTAINER_NAME: case F_FD_DIRECTORY: case F_FD_FILENAME:
	case F_FD_NAMERAW:
		return 3;    /* the process's lookup, or a scan of the path */
	default:
		return 1;    /* the event's own data */
	}
}

int guard_field_resolve(void *pv, const char *name, const char *arg, struct cond_field *out,
			char *why, size_t whylen)
{
	char base[64];
	const char *dotarg = NULL;
	snprintf(base, sizeof(base), "%s", name);
	/* evt.arg.flags is evt.arg with the argument "flags" */
	if (!strncmp(name, "evt.arg.", 8) || !strncmp(name, "evt.rawarg.", 11)) {
		char *d = strchr(base + 4, '.');
		*d = 0;
		dotarg = name + (d - base) + 1;
	}
	const struct fdef *fd = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(fdefs); i++)
		if (!strcmp(fdefs[i].name, base)) {
			fd = &fdefs[i];
			break;
		}
	if (!fd) {
		for (size_t i = 0; i < ARRAY_SIZE(na_prefixes); i++)
			if (!strncmp(name, na_prefixes[i], strlen(na_prefixes[i]))) {
				out->id = F_NA;
				out->type = CT_STR;
				out->flags = CF_NA;
				if (!strcmp(name, "container.privileged"))
					out->type = CT_BOOL;
				return 0;
			}
		snprintf(why, whylen, "unknown field '%s'", name);
		return -ENOENT;
	}
	if (dotarg && arg) {
		snprintf(why, whylen, "field '%s' has two arguments", name);
		return -EINVAL;
	}
	if (dotarg)
		arg = dotarg;
	out->id = fd->id;
	out->type = fd->type;
	out->flags = fd->flags;
	out->kdim = fd->kdim;
	out->cost = field_cost(fd->id);
	out->argi = -1;
	out->args[0] = 0;
	if (arg && fd->argk == ARG_NONE) {
		snprintf(why, whylen, "field '%s' takes no argument", name);
		return -EINVAL;
	}
	if (arg && fd->argk == ARG_INDEX) {
		char *end;
		long n = strtol(arg, &end, 10);
		if (*end || !*arg || n < 0 || n > 64) {
			snprintf(why, whylen, "field '%s' needs a number from 0 to 64 as argument, not '%s'",
				 name, arg);
			return -EINVAL;
		}
		out->argi = (int)n;
		out->flags &= ~CF_MULTI;   /* one ancestor */
	}
	if (arg && fd->argk == ARG_NAME) {
		char *end;
		long n = strtol(arg, &end, 10);
		if (!*end && *arg)
			out->argi = (int)n;     /* evt.arg[1] */
		else
			snprintf(out->args, sizeof(out->args), "%s", arg);
	}
	if (fd->argk == ARG_NAME && !arg && fd->id != F_NA) {
		snprintf(why, whylen, "field '%s' needs an argument (%s.NAME or %s[N])", name, name, name);
		return -EINVAL;
	}
	return 0;
}

bool guard_field_na_reason(const struct cond_field *f, char *buf, size_t len)
{
	if (!(f->flags & CF_NA))
		return false;
	if (!strncmp(f->name, "container.", 10) || !strncmp(f->name, "k8s.", 4))
		snprintf(buf, len, "%s", na_why);
	else
		snprintf(buf, len, "not captured by ebee's events yet");
	return true;
}

/* ---- value extraction ------------------------------------------------------------------ */

static const struct proc *anc(const struct gevent *e, int n)
{
	if (!e->procs || !e->hdr)
		return NULL;
	return e->procs->ancestor(e->procs->arg, e->hdr->pid, n);
}

static bool str(struct cond_val *v, const char *s)
{
	if (!s)
		return false;
	v->s = s;
	v->n = strlen(s);
	return true;
}

static bool num(struct cond_val *v, int64_t i)
{
	v->i = i;
	return true;
}

/* argv joined by spaces from a NUL-separated cmdline, skipping the first `skip` args. */
static bool args_text(const struct proc *p, int skip, const char *prefix, struct cond_val *v,
		      char *buf, size_t len)
{
	if (!p)
		return false;
	size_t o = 0;
	if (prefix) {
		o = snprintf(buf, len, "%s", prefix);
		if (o >= len)
			o = len - 1;
	}
	size_t i = 0;
	int a = 0;
	while (i < p->cmdline_len && i < PROC_CMDLINE_LEN) {
		const char *s = p->cmdline + i;
		size_t l = strnlen(s, p->cmdline_len - i);
		if (a >= skip && l) {
			if (o && o < len - 1)
				buf[o++] = ' ';
			size_t c = l < len - 1 - o ? l : len - 1 - o;
			memcpy(buf + o, s, c);
			o += c;
		}
		i += l + 1;
		a++;
	}
	buf[o] = 0;
	v->s = buf;
	v->n = o;
	return true;
}

static const char *argv0(const struct proc *p)
{
	return p && p->cmdline_len ? p->cmdline : p ? p->exe : NULL;
}

/* Falco's proc.tty: the tty device number (major << 8 | minor, as /proc/PID/stat). */
static int64_t tty_nr(const struct proc *p)
{
	unsigned n;
	if (!p->tty[0])
		return 0;
	if (sscanf(p->tty, "pts/%u", &n) == 1)
		return (136 + n / 256) << 8 | (n % 256);
	if (sscanf(p->tty, "tty%u", &n) == 1)
		return 4 << 8 | n;
	if (sscanf(p->tty, "ttyS%u", &n) == 1)
		return 4 << 8 | (64 + n);
	return 1;
}

/* Fields the process table does not keep (session, process group, gid, capabilities):
 * read once per event from /proc when a rule needs them. */
static void extra(struct gevent *e)
{
	if (e->extra_done)
		return;
	e->extra_done = true;
	char path[64], line[512];
	snprintf(path, sizeof(path), "/proc/%u/stat", e->hdr->pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(line, sizeof(line), f)) {
		char *rp = strrchr(line, ')');
		int ppid, pgid, sid;
		char st;
		if (rp && sscanf(rp + 2, "%c %d %d %d", &st, &ppid, &pgid, &sid) == 4) {
			e->extra.pgid = pgid;
			e->extra.sid = sid;
			e->extra.ok = true;
		}
	}
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%u/task/%u/status", e->hdr->pid, e->hdr->tid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long x;
		if (sscanf(line, "Gid: %llu", &x) == 1)
			e->extra.gid = (int64_t)x;
		else if (sscanf(line, "CapEff: %llx", &x) == 1)
			e->extra.cap_eff = x;
		else if (sscanf(line, "CapPrm: %llx", &x) == 1)
			e->extra.cap_prm = x;
		else if (sscanf(line, "CapInh: %llx", &x) == 1)
			e->extra.cap_inh = x;
	}
	fclose(f);
}

static const char *const cap_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

/* Falco's text of a capability set: names joined by spaces. */
static bool caps_text(uint64_t caps, struct cond_val *v, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = 0;
	for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
		if (caps >> i & 1)
			o += snprintf(buf + o, o < len ? len - o : 0, "%s%s", o ? " " : "", cap_names[i]);
	if (o >= len)
		o = len - 1;
	v->s = buf;
	v->n = o;
	return true;
}

static const struct { uint32_t bit; const char *name; } oflags[] = {
	{ O_CREAT, "O_CREAT" }, { O_EXCL, "O_EXCL" }, { O_NOCTTY, "O_NOCTTY" },
	{ O_TRUNC, "O_TRUNC" }, { O_APPEND, "O_APPEND" }, { O_NONBLOCK, "O_NONBLOCK" },
	{ O_DSYNC, "O_DSYNC" }, { O_DIRECT, "O_DIRECT" }, { O_LARGEFILE, "O_LARGEFILE" },
	{ O_DIRECTORY, "O_DIRECTORY" }, { O_NOFOLLOW, "O_NOFOLLOW" }, { O_NOATIME, "O_NOATIME" },
	{ O_CLOEXEC, "O_CLOEXEC" }, { O_PATH, "O_PATH" }, { O_TMPFILE, "O_TMPFILE" },
};

/* Appends s to buf (o bytes used, len in all), truncating; returns the new length. */
static size_t cat(char *buf, size_t o, size_t len, const char *s)
{
	size_t n = strlen(s);
	if (o + n >= len)
		n = o + 1 < len ? len - 1 - o : 0;
	memcpy(buf + o, s, n);
	o += n;
	buf[o] = 0;
	return o;
}

/* Falco's open flags text: O_RDONLY / O_WRONLY / O_RDWR first, then the others by name
 * (rules test it on every open for writing: no printf). */
const char *guard_open_flags(uint32_t fl, char *buf, size_t len)
{
	size_t o = cat(buf, 0, len, (fl & O_ACCMODE) == O_WRONLY ? "O_WRONLY" :
				    (fl & O_ACCMODE) == O_RDWR ? "O_RDWR" : "O_RDONLY");
	for (size_t i = 0; i < ARRAY_SIZE(oflags); i++) {
		if (oflags[i].bit == O_TMPFILE ? (fl & O_TMPFILE) == O_TMPFILE : (fl & oflags[i].bit)) {
			if (oflags[i].bit == O_DIRECTORY && (fl & O_TMPFILE) == O_TMPFILE)
				continue;
			o = cat(buf, o, len, "|");
			o = cat(buf, o, len, oflags[i].name);
		}
	}
	return buf;
}

static const char *const ptrace_reqs[] = {
	[0] = "PTRACE_TRACEME", [1] = "PTRACE_PEEKTEXT", [2] = "PTRACE_PEEKDATA",
	[3] = "PTRACE_PEEKUSR", [4] = "PTRACE_POKETEXT", [5] = "PTRACE_POKEDATA",
	[6] = "PTRACE_POKEUSR", [7] = "PTRACE_CONT", [8] = "PTRACE_KILL",
	[9] = "PTRACE_SINGLESTEP", [12] = "PTRACE_GETREGS", [13] = "PTRACE_SETREGS",
	[14] = "PTRACE_GETFPREGS", [15] = "PTRACE_SETFPREGS", [16] = "PTRACE_ATTACH",
	[17] = "PTRACE_DETACH", [24] = "PTRACE_SYSCALL",
};

static const char *domain_name(int64_t d)
{
	switch (d) {
	case AF_UNIX: return "AF_UNIX";
	case AF_INET: return "AF_INET";
	case AF_INET6: return "AF_INET6";
	case AF_PACKET: return "AF_PACKET";
	case AF_NETLINK: return "AF_NETLINK";
	default: return NULL;
	}
}

static const char *guard_errno_name(int e, char *buf, size_t len)
{
	const char *n = strerrorname_np(e);
	if (n)
		return n;
	snprintf(buf, len, "%d", -e);
	return buf;
}

static const char *evtype_of(const struct gevent *e) { return guard_evtype_name(e->sc); }

/* evt.arg.NAME / evt.arg[N] by Falco's event tables' names. */
static bool evt_arg(const struct gevent *e, const struct cond_field *f, bool raw,
		    struct cond_val *v, char *buf, size_t len)
{
	int src = guard_evtype_source(e->sc);
	const char *n = f->args;
	int idx = f->argi;
	/* positional: the argument order of Falco's tables for the types rules use */
	if (idx >= 0) {
		static const char *const pos[][4] = {
			[EV_SOCKET] = { "domain", "type", "proto" },
			[EV_PTRACE] = { "request", "pid" },
			[EV_OPEN] = { "fd", "name", "flags", "mode" },
			[EV_SYMLINK] = { "res", "target", "linkpath" },
			[EV_LINK] = { "res", "oldpath", "newpath" },
			[EV_DUP] = { "res", "oldfd" },
			[EV_KILL] = { "pid", "sig" },
			[EV_SETUID] = { "uid" },
			[EV_CONNECT] = { "res", "tuple", "fd" },
		};
		if (src >= (int)ARRAY_SIZE(pos) || idx >= 4 || !pos[src][idx])
			return false;
		n = pos[src][idx];
	}
	if (!strcmp(n, "res"))
		return raw ? num(v, e->res) : (snprintf(buf, len, "%lld", (long long)e->res), str(v, buf));
	switch (src) {
	case EV_OPEN:
		if (!strcmp(n, "flags"))
			return raw ? num(v, e->flags) : str(v, guard_open_flags(e->flags, buf, len));
		if (!strcmp(n, "mode"))
			return raw ? num(v, e->mode) : (snprintf(buf, len, "0%o", e->mode), str(v, buf));
		if (!strcmp(n, "name") || !strcmp(n, "path"))
			return str(v, e->path_raw ? e->path_raw : e->path);
		if (!strcmp(n, "fd"))
			return raw ? num(v, e->res) : (snprintf(buf, len, "%lld", (long long)e->res), str(v, buf));
		break;
	case EV_SYMLINK:
		if (!strcmp(n, "target"))
			return str(v, e->path2);
		if (!strcmp(n, "linkpath"))
			return str(v, e->path);
		break;
	case EV_LINK:
	case EV_RENAME:
		if (!strcmp(n, "oldpath"))
			return str(v, e->path);
		if (!strcmp(n, "newpath"))
			return str(v, e->path2);
		break;
	case EV_UNLINK:
	case EV_MKDIR:
	case EV_CHMOD:
	case EV_CHOWN:
	case EV_EXEC:
	case EV_TRUNCATE:
	case EV_MOUNT:
		if (!strcmp(n, "path") || !strcmp(n, "name") || !strcmp(n, "filename") ||
		    !strcmp(n, "dev") || !strcmp(n, "dir"))
			return str(v, e->path);
		if (!strcmp(n, "mode"))
			return raw ? num(v, e->mode) : (snprintf(buf, len, "0%o", e->mode), str(v, buf));
		if (!strcmp(n, "flags"))
			return raw ? num(v, e->flags) : (snprintf(buf, len, "%u", e->flags), str(v, buf));
		break;
	case EV_SOCKET:
		if (!strcmp(n, "domain")) {
			const char *d = domain_name(e->arg[0]);
			if (raw || !d)
				return raw ? num(v, e->arg[0]) : (snprintf(buf, len, "%lld", (long long)e->arg[0]), str(v, buf));
			return str(v, d);
		}
		if (!strcmp(n, "type"))
			return raw ? num(v, e->arg[1]) : (snprintf(buf, len, "%lld", (long long)e->arg[1]), str(v, buf));
		if (!strcmp(n, "proto"))
			return raw ? num(v, e->arg[2]) : (snprintf(buf, len, "%lld", (long long)e->arg[2]), str(v, buf));
		break;
	case EV_PTRACE:
		if (!strcmp(n, "request")) {
			int64_t r = e->arg[0];
			if (raw)
				return num(v, r);
			if (r >= 0 && r < (int64_t)ARRAY_SIZE(ptrace_reqs) && ptrace_reqs[r])
				return str(v, ptrace_reqs[r]);
			if (r == 0x4206)
				return str(v, "PTRACE_SEIZE");
			snprintf(buf, len, "%lld", (long long)r);
			return str(v, buf);
		}
		if (!strcmp(n, "pid"))
			return raw ? num(v, e->arg[1]) : (snprintf(buf, len, "%lld", (long long)e->arg[1]), str(v, buf));
		break;
	case EV_DUP:
		if (!strcmp(n, "oldfd") || !strcmp(n, "fd"))
			return raw ? num(v, e->fd) : (snprintf(buf, len, "%d", e->fd), str(v, buf));
		if (!strcmp(n, "newfd"))
			return raw ? num(v, e->res) : (snprintf(buf, len, "%lld", (long long)e->res), str(v, buf));
		break;
	case EV_KILL:
	case EV_SETUID:
	case EV_SETGID:
	case EV_MODULE:
	case EV_MEMFD:
		if (!strcmp(n, "pid") || !strcmp(n, "uid") || !strcmp(n, "gid"))
			return raw ? num(v, e->arg[0]) : (snprintf(buf, len, "%lld", (long long)e->arg[0]), str(v, buf));
		if (!strcmp(n, "sig") || !strcmp(n, "flags"))
			return raw ? num(v, e->arg[1]) : (snprintf(buf, len, "%lld", (long long)e->arg[1]), str(v, buf));
		if (!strcmp(n, "name") || !strcmp(n, "uargs"))
			return str(v, e->path);
		break;
	case EV_CONNECT:
	case EV_ACCEPT:
	case EV_BIND:
		if (!strcmp(n, "fd"))
			return raw ? num(v, e->fd) : (snprintf(buf, len, "%d", e->fd), str(v, buf));
		break;
	}
	return false;
}

static bool ip_val(struct cond_val *v, const struct gevent *e, bool remote)
{
	if (e->family != 4 && e->family != 6)
		return false;
	v->family = e->family;
	memcpy(v->ip, remote ? e->rip : e->lip, 16);
	return true;
}

static bool is_client(const struct gevent *e)
{
	int src = guard_evtype_source(e->sc);
	return src != EV_ACCEPT && src != EV_BIND && src != EV_LISTEN;
}

static const char *fd_type(char t)
{
	switch (t) {
	case 'f': return "file";
	case 'd': return "directory";
	case '4': return "ipv4";
	case '6': return "ipv6";
	case 'u': return "unix";
	case 'p': return "pipe";
	case 'e': return "event";
	case 's': return "signalfd";
	case 'l': return "eventpoll";
	case 'i': return "inotify";
	case 'b': return "bpf";
	case 'm': return "memfd";
	default: return NULL;
	}
}

static char hostname_buf[256];

/* uid -> passwd entry, cached: the password database is read (a file open and parse) on a
 * miss only, not per event. Direct-mapped; an entry holds until another uid takes its slot. */
#define PW_SLOTS 256
static struct pw_slot {
	uint32_t uid;
	bool used, found;
	char name[64], dir[128], shell[64];
} pw_cache[PW_SLOTS];

static bool user_text(int id, uint32_t uid, struct cond_val *v, char *buf, size_t len)
{
	if (uid == (uint32_t)-1)
		return false;
	struct pw_slot *c = &pw_cache[uid % PW_SLOTS];
	if (!c->used || c->uid != uid) {
		struct passwd pw, *r = NULL;
		char tmp[1024];
		memset(c, 0, sizeof(*c));
		c->used = true;
		c->uid = uid;
		if (!getpwuid_r(uid, &pw, tmp, sizeof(tmp), &r) && r) {
			c->found = true;
			snprintf(c->name, sizeof(c->name), "%s", pw.pw_name);
			snprintf(c->dir, sizeof(c->dir), "%s", pw.pw_dir);
			snprintf(c->shell, sizeof(c->shell), "%s", pw.pw_shell);
		}
	}
	if (!c->found)
		return false;
	(void)buf;
	(void)len;
	return str(v, id == F_USER_HOMEDIR ? c->dir : id == F_USER_SHELL ? c->shell : c->name);
}

bool guard_field_get(void *pv, const void *ev, const struct cond_field *f, int idx,
		     struct cond_val *v, char *buf, size_t len)
{
	struct gevent *e = (struct gevent *)ev;
	const struct ebee_event_hdr *h = e->hdr;
	const struct proc *p, *pp;
	int multi = f->flags & CF_MULTI;
	if (idx > 0 && !multi)
		return false;
	switch (f->id) {
	case F_EVT_TYPE: return str(v, evtype_of(e));
	case F_EVT_NUM: return num(v, (int64_t)e->num);
	case F_EVT_TIME:
		return str(v, ebee_fmt_time(ebee_ktime_to_real(h->time_ns), buf, len));
	case F_EVT_RAWTIME: return num(v, (int64_t)ebee_ktime_to_real(h->time_ns));
	case F_EVT_DIR:
		/* one merged record stands for the syscall's enter and its exit */
		if (idx > 1)
			return false;
		return str(v, idx ? "<" : ">");
	case F_EVT_RES:
		if (e->res >= 0)
			return str(v, "SUCCESS");
		return str(v, guard_errno_name((int)-e->res, buf, len));
	case F_EVT_RAWRES: return num(v, e->res);
	case F_EVT_FAILED: return num(v, e->res < 0);
	case F_EVT_OPEN_READ:
	case F_EVT_OPEN_WRITE:
	case F_EVT_OPEN_EXEC:
		if (guard_evtype_source(e->sc) != EV_OPEN)
			return num(v, 0);
		if (f->id == F_EVT_OPEN_EXEC)
			return num(v, 0);
		if (f->id == F_EVT_OPEN_READ)
			return num(v, (e->flags & O_ACCMODE) != O_WRONLY);
		return num(v, (e->flags & O_ACCMODE) != O_RDONLY || (e->flags & (O_TRUNC | O_CREAT)));
	case F_EVT_ARG: return evt_arg(e, f, false, v, buf, len);
	case F_EVT_RAWARG: return evt_arg(e, f, true, v, buf, len);
	case F_EVT_ARGS: {
		struct cond_field a = *f;
		a.argi = -1;
		snprintf(a.args, sizeof(a.args), "%s",
			 guard_evtype_source(e->sc) == EV_SOCKET ? "domain" :
			 guard_evtype_source(e->sc) == EV_PTRACE ? "request" : "flags");
		return evt_arg(e, &a, false, v, buf, len);
	}
	case F_EVT_HOSTNAME:
		if (!hostname_buf[0])
			gethostname(hostname_buf, sizeof(hostname_buf) - 1);
		return str(v, hostname_buf);
	case F_EVT_SOURCE: return str(v, "syscall");
	case F_PROC_NAME: return str(v, (p = anc(e, 0)) ? p->comm : NULL) || (h && str(v, h->comm));
	case F_PROC_EXE: return str(v, argv0(anc(e, 0)));
	case F_PROC_EXEPATH: return str(v, (p = anc(e, 0)) ? p->exe : NULL);
	case F_PROC_ARGS: return args_text(anc(e, 0), 1, NULL, v, buf, len);
	case F_PROC_CMDLINE: return (p = anc(e, 0)) && args_text(p, 1, p->comm, v, buf, len);
	case F_PROC_PID: return h && num(v, h->pid);
	case F_PROC_PPID: return (p = anc(e, 0)) && num(v, p->ppid);
	case F_PROC_PNAME: return str(v, (p = anc(e, 1)) ? p->comm : NULL);
	case F_PROC_PCMDLINE: return (p = anc(e, 1)) && args_text(p, 1, p->comm, v, buf, len);
	case F_PROC_PEXE: return str(v, argv0(anc(e, 1)));
	case F_PROC_PEXEPATH: return str(v, (p = anc(e, 1)) ? p->exe : NULL);
	case F_PROC_ANAME:
	case F_PROC_APID:
	case F_PROC_AEXE:
	case F_PROC_AEXEPATH:
	case F_PROC_ACMDLINE: {
		int n = f->argi >= 0 ? f->argi : idx + 1;   /* no argument: parent and up */
		if (!(p = anc(e, n)) || (n > 0 && p->pid == 0))
			return false;
		switch (f->id) {
		case F_PROC_ANAME: return str(v, p->comm);
		case F_PROC_APID: return num(v, p->pid);
		case F_PROC_AEXE: return str(v, argv0(p));
		case F_PROC_AEXEPATH: return str(v, p->exe);
		default: return args_text(p, 1, p->comm, v, buf, len);
		}
	}
	case F_PROC_TTY: return (p = anc(e, 0)) && num(v, tty_nr(p));
	case F_PROC_SID:
	case F_PROC_VPGID:
	case F_PROC_IS_SID_LEADER:
	case F_PROC_IS_VPGID_LEADER:
		extra(e);
		if (!e->extra.ok)
			return false;
		switch (f->id) {
		case F_PROC_SID: return num(v, e->extra.sid);
		case F_PROC_VPGID: return num(v, e->extra.pgid);
		case F_PROC_IS_SID_LEADER: return num(v, e->extra.sid == h->pid);
		default: return num(v, e->extra.pgid == h->pid);
		}
	case F_PROC_SNAME:
	case F_PROC_VPGID_NAME: {
		extra(e);
		if (!e->extra.ok)
			return false;
		uint32_t want = f->id == F_PROC_SNAME ? e->extra.sid : e->extra.pgid;
		for (int n = 0; n < 64 && (p = anc(e, n)); n++)
			if (p->pid == want)
				return str(v, p->comm);
		return false;
	}
	case F_PROC_CWD:
		if (!(p = anc(e, 0)) || !p->cwd[0])
			return false;
		/* Falco's proc.cwd ends with a slash */
		snprintf(buf, len, "%s%s", p->cwd, p->cwd[strlen(p->cwd) - 1] == '/' ? "" : "/");
		return str(v, buf);
	case F_PROC_DURATION:
		if (!(p = anc(e, 0)) || !p->start_ns || !h)
			return false;
		return num(v, (int64_t)(h->time_ns - p->start_ns));
	case F_PROC_MEMFD: {
		if (!(p = anc(e, 0)))
			return false;
		if (!strncmp(p->exe, "/memfd:", 7))
			return num(v, 1);
		/* exec'd through /proc/self/fd/N or /dev/fd/N: what the kernel ran */
		if (strncmp(p->exe, "/proc/", 6) && strncmp(p->exe, "/dev/fd/", 8))
			return num(v, 0);
		const char *fdn = strrchr(p->exe, '/') + 1;
		const char *t = e->procs->fd ? e->procs->fd(e->procs->arg, p->pid, atoi(fdn)) : NULL;
		if (t)   /* the fd table from before the exec (memfd_create events) */
			return num(v, !strncmp(t, "/memfd:", 7));
		char link[64], target[64];
		snprintf(link, sizeof(link), "/proc/%u/exe", p->pid);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		return num(v, n > 7 && !strncmp(target, "/memfd:", 7));
	}
	case F_PROC_CGROUP: return str(v, (p = anc(e, 0)) ? p->cgroup : NULL);
	case F_THREAD_TID: return h && num(v, h->tid);
	case F_THREAD_CAP_EFF:
	case F_THREAD_CAP_PRM:
	case F_THREAD_CAP_INH:
		extra(e);
		if (!e->extra.ok)
			return false;
		return caps_text(f->id == F_THREAD_CAP_EFF ? e->extra.cap_eff :
				 f->id == F_THREAD_CAP_PRM ? e->extra.cap_prm : e->extra.cap_inh, v, buf, len);
	case F_USER_UID: return h && num(v, h->uid);
	case F_USER_NAME:
	case F_USER_HOMEDIR:
	case F_USER_SHELL:
		return h && user_text(f->id, h->uid, v, buf, len);
	case F_USER_LOGINUID:
		return (p = anc(e, 0)) && num(v, p->loginuid == (uint32_t)-1 ? -1 : (int64_t)p->loginuid);
	case F_USER_LOGINNAME:
		return (p = anc(e, 0)) && user_text(F_USER_NAME, p->loginuid, v, buf, len);
	case F_GROUP_GID:
		extra(e);
		return e->extra.ok && num(v, e->extra.gid);
	case F_GROUP_NAME: {
		extra(e);
		struct group gr, *r = NULL;
		char tmp[1024];
		if (!e->extra.ok || getgrgid_r((gid_t)e->extra.gid, &gr, tmp, sizeof(tmp), &r) || !r)
			return false;
		snprintf(buf, len, "%s", gr.gr_name);
		return str(v, buf);
	}
	case F_FD_NUM: {
		int src = guard_evtype_source(e->sc);
		if (src == EV_OPEN || src == EV_SOCKET || src == EV_ACCEPT || src == EV_MEMFD)
			return num(v, e->res < 0 ? -1 : e->res);
		if (src == EV_DUP)
			return num(v, e->res < 0 ? -1 : e->res);
		return e->fd >= 0 && num(v, e->fd);
	}
	case F_FD_NAME:
		if (e->path)
			return str(v, e->path);
		if (e->family == 4 || e->family == 6) {
			char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
			int af = e->family == 4 ? AF_INET : AF_INET6;
			inet_ntop(af, e->lip, a, sizeof(a));
			inet_ntop(af, e->rip, b, sizeof(b));
			/* Falco: client:port->server:port */
			if (is_client(e))
				snprintf(buf, len, "%s:%u->%s:%u", a, e->lport, b, e->rport);
			else
				snprintf(buf, len, "%s:%u->%s:%u", b, e->rport, a, e->lport);
			return str(v, buf);
		}
		return false;
	case F_FD_NAMERAW: return str(v, e->path_raw ? e->path_raw : e->path);
	case F_FD_DIRECTORY:
	case F_FD_FILENAME: {
		if (!e->path || (e->typechar && e->typechar != 'f' && e->typechar != 'd'))
			return false;
		const char *sl = strrchr(e->path, '/');
		if (!sl)
			return false;
		if (f->id == F_FD_FILENAME)
			return str(v, sl + 1);
		size_t n = sl == e->path ? 1 : (size_t)(sl - e->path);
		if (n >= len)
			n = len - 1;
		memcpy(buf, e->path, n);
		buf[n] = 0;
		return str(v, buf);
	}
	case F_FD_TYPECHAR:
		if (!e->typechar)
			return false;
		buf[0] = e->typechar;
		buf[1] = 0;
		return str(v, buf);
	case F_FD_TYPE: return str(v, fd_type(e->typechar));
	case F_FD_SIP: return ip_val(v, e, is_client(e));
	case F_FD_CIP: return ip_val(v, e, !is_client(e));
	case F_FD_LIP: return ip_val(v, e, false);
	case F_FD_RIP: return ip_val(v, e, true);
	case F_FD_IP:
		if (idx > 1)
			return false;
		return ip_val(v, e, idx == 0);
	case F_FD_SPORT: return (e->family == 4 || e->family == 6) && num(v, is_client(e) ? e->rport : e->lport);
	case F_FD_CPORT: return (e->family == 4 || e->family == 6) && num(v, is_client(e) ? e->lport : e->rport);
	case F_FD_LPORT: return (e->family == 4 || e->family == 6) && num(v, e->lport);
	case F_FD_RPORT: return (e->family == 4 || e->family == 6) && num(v, e->rport);
	case F_FD_PORT:
		if (idx > 1 || (e->family != 4 && e->family != 6))
			return false;
		return num(v, idx ? e->lport : e->rport);
	case F_FD_L4PROTO:
		if (e->family != 4 && e->family != 6)
			return false;
		return str(v, e->l4proto == IPPROTO_TCP ? "tcp" : e->l4proto == IPPROTO_UDP ? "udp" :
			      e->l4proto == IPPROTO_ICMP ? "icmp" : e->l4proto == IPPROTO_RAW ? "raw" : NULL);
	case F_FD_SOCKFAMILY:
		return str(v, e->family == 4 || e->family == 6 ? "ip" : e->family == 1 ? "unix" : NULL);
	case F_FD_IS_SERVER:
		return (e->family == 4 || e->family == 6) && num(v, !is_client(e));
	case F_CONTAINER_ID:
		return str(v, (p = anc(e, 0)) && p->container_id[0] ? p->container_id : NULL);
	case F_CONTAINER_NAME:
		/* Falco names the host "host"; a container's name needs its runtime */
		return (p = anc(e, 0)) && !strcmp(p->container_id, "host") && str(v, "host");
	case F_CONTAINER_INFO:
		if (!(p = anc(e, 0)) || !p->container_id[0])
			return false;
		snprintf(buf, len, "container_id=%s", p->container_id);
		return str(v, buf);
	default:
		(void)pp;
		return false;
	}
}

int guard_field_evtype(void *pv, const char *name) { return guard_evtype_index(name); }

static int guard_field_evtype_of(void *pv, const void *ev) { return ((const struct gevent *)ev)->sc; }

const struct cond_provider guard_fields = {
	.resolve = guard_field_resolve,
	.get = guard_field_get,
	.evtype = guard_field_evtype,
	.evtype_of = guard_field_evtype_of,
};
