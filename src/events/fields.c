// SPDX-License-Identifier: BSD-2-Clause
/* The field tables of the process, file and network events (core/field.h), the syscalls each
 * type is made of, and the decoders of their flags. Names follow Falco's where one exists. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>

#include "core/ebee.h"
#include "core/field.h"
#include "events/evtypes.h"

/* ---- decoders ---- */

struct bit { uint64_t bit; const char *name; };

/* Appends "|name" (no '|' first) while it fits whole; the names are copied, not printed:
 * `ebee open` decodes the flags of every line. */
static size_t add_name(char *buf, size_t len, size_t used, const char *name)
{
	size_t n = strlen(name), sep = used > 0;

	if (used + sep + n >= len)
		return used;
	if (sep)
		buf[used] = '|';
	memcpy(buf + used + sep, name, n + 1);
	return used + sep + n;
}

static const char *bits_text(uint64_t v, const struct bit *t,
			     size_t n, char *buf, size_t len, size_t used)
{
	for (size_t i = 0; i < n && used < len; i++)
		if ((v & t[i].bit) == t[i].bit) {   /* whole: O_TMPFILE includes O_DIRECTORY */
			used = add_name(buf, len, used, t[i].name);
			v &= ~t[i].bit;
		}
	if (v && used < len)
		snprintf(buf + used, len - used, "%s0x%llx", used ? "|" : "", (unsigned long long)v);
	return buf;
}

#define B(x) { x, #x }
static const struct bit open_bits[] = {
	B(O_CREAT), B(O_EXCL), B(O_NOCTTY), B(O_TRUNC), B(O_APPEND), B(O_NONBLOCK),
	B(O_TMPFILE), B(O_DIRECTORY), B(O_NOFOLLOW), B(O_CLOEXEC), B(O_SYNC), B(O_DSYNC),
	B(O_DIRECT), B(O_NOATIME), B(O_PATH), B(O_LARGEFILE), B(O_ASYNC),
};

const char *ev_open_flags(uint64_t v, char *buf, size_t len)
{
	static const char *const acc[] = { "O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE" };
	size_t used;

	if (!len)
		return buf;
	buf[0] = 0;
	used = v & O_PATH ? 0 : add_name(buf, len, 0, acc[v & O_ACCMODE]);
	return bits_text(v & ~(uint64_t)O_ACCMODE, open_bits, ARRAY_SIZE(open_bits), buf, len,
			 used);
}

const char *ev_octal(uint64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "0%llo", (unsigned long long)v);
	return buf;
}

const char *ev_hex(uint64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "0x%llx", (unsigned long long)v);
	return buf;
}

static const char *ev_signal(uint64_t v, char *buf, size_t len)
{
	const char *n = v ? sigabbrev_np((int)v) : NULL;

	if (n)
		snprintf(buf, len, "SIG%s", n);
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
	return buf;
}

static const char *ev_family(uint64_t v, char *buf, size_t len)
{
	const char *n = v == AF_UNIX ? "AF_UNIX" : v == AF_INET ? "AF_INET" :
			v == AF_INET6 ? "AF_INET6" : v == AF_NETLINK ? "AF_NETLINK" :
			v == AF_PACKET ? "AF_PACKET" : NULL;

	if (n)
		snprintf(buf, len, "%s", n);
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
	return buf;
}

static const char *ev_socktype(uint64_t v, char *buf, size_t len)
{
	static const char *const t[] = { NULL, "SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW", "SOCK_RDM",
					 "SOCK_SEQPACKET" };
	static const struct bit extra[] = {
		B(SOCK_NONBLOCK), B(SOCK_CLOEXEC) };
	unsigned base = v & 0xf;
	size_t used = base < ARRAY_SIZE(t) && t[base] ? snprintf(buf, len, "%s", t[base]) :
		      base || !(v & ~0xfull) ? snprintf(buf, len, "%u", base) :
		      (buf[0] = 0, 0);   /* accept4 flags: only the extra bits */

	return bits_text(v & ~0xfull, extra, ARRAY_SIZE(extra), buf, len, used);
}

static const char *ev_ptrace_req(uint64_t v, char *buf, size_t len)
{
	static const struct { uint64_t v; const char *n; } r[] = {
		{ PTRACE_TRACEME, "PTRACE_TRACEME" }, { PTRACE_PEEKDATA, "PTRACE_PEEKDATA" },
		{ PTRACE_POKEDATA, "PTRACE_POKEDATA" }, { PTRACE_CONT, "PTRACE_CONT" },
		{ PTRACE_KILL, "PTRACE_KILL" }, { PTRACE_ATTACH, "PTRACE_ATTACH" },
		{ PTRACE_DETACH, "PTRACE_DETACH" }, { PTRACE_SEIZE, "PTRACE_SEIZE" },
		{ PTRACE_GETREGS, "PTRACE_GETREGS" }, { PTRACE_SETREGS, "PTRACE_SETREGS" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(r); i++)
		if (r[i].v == v) {
			snprintf(buf, len, "%s", r[i].n);
			return buf;
		}
	snprintf(buf, len, "%llu", (unsigned long long)v);
	return buf;
}

static const char *ev_at_flags(uint64_t v, char *buf, size_t len)
{
	static const struct bit t[] = {
		B(AT_SYMLINK_NOFOLLOW), B(AT_REMOVEDIR), B(AT_SYMLINK_FOLLOW), B(AT_EMPTY_PATH) };

	buf[0] = 0;
	return bits_text(v, t, ARRAY_SIZE(t), buf, len, 0);
}

static const char *ev_syscall_name(uint64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%s", v < SC__MAX && ev_syscalls[v].name ? ev_syscalls[v].name : "?");
	return buf;
}

/* ---- the syscalls of each type (program names ev_ex_NAME, and ev_en_NAME for the stash) ---- */

const struct ev_syscall ev_syscalls[SC__MAX] = {
#define S(sc, n, t) [sc] = { n, t }
	S(SC_EXECVE, "execve", EV_EXEC), S(SC_EXECVEAT, "execveat", EV_EXEC),
	S(SC_OPEN, "open", EV_OPEN), S(SC_OPENAT, "openat", EV_OPEN),
	S(SC_OPENAT2, "openat2", EV_OPEN), S(SC_CREAT, "creat", EV_OPEN),
	S(SC_UNLINK, "unlink", EV_UNLINK), S(SC_UNLINKAT, "unlinkat", EV_UNLINK),
	S(SC_RMDIR, "rmdir", EV_UNLINK),
	S(SC_RENAME, "rename", EV_RENAME), S(SC_RENAMEAT, "renameat", EV_RENAME),
	S(SC_RENAMEAT2, "renameat2", EV_RENAME),
	S(SC_CHMOD, "chmod", EV_CHMOD), S(SC_FCHMOD, "fchmod", EV_CHMOD),
	S(SC_FCHMODAT, "fchmodat", EV_CHMOD),
	S(SC_CHOWN, "chown", EV_CHOWN), S(SC_LCHOWN, "lchown", EV_CHOWN),
	S(SC_FCHOWN, "fchown", EV_CHOWN), S(SC_FCHOWNAT, "fchownat", EV_CHOWN),
	S(SC_SYMLINK, "symlink", EV_SYMLINK), S(SC_SYMLINKAT, "symlinkat", EV_SYMLINK),
	S(SC_LINK, "link", EV_LINK), S(SC_LINKAT, "linkat", EV_LINK),
	S(SC_MKDIR, "mkdir", EV_MKDIR), S(SC_MKDIRAT, "mkdirat", EV_MKDIR),
	S(SC_CHDIR, "chdir", EV_CHDIR), S(SC_FCHDIR, "fchdir", EV_CHDIR),
	S(SC_CLOSE, "close", EV_CLOSE), S(SC_DUP, "dup", EV_DUP), S(SC_DUP2, "dup2", EV_DUP),
	S(SC_DUP3, "dup3", EV_DUP), S(SC_MEMFD, "memfd_create", EV_MEMFD),
	S(SC_MOUNT, "mount", EV_MOUNT), S(SC_TRUNCATE, "truncate", EV_TRUNCATE),
	S(SC_SOCKET, "socket", EV_SOCKET), S(SC_CONNECT, "connect", EV_CONNECT),
	S(SC_ACCEPT, "accept", EV_ACCEPT), S(SC_ACCEPT4, "accept4", EV_ACCEPT),
	S(SC_BIND, "bind", EV_BIND), S(SC_LISTEN, "listen", EV_LISTEN),
	S(SC_PTRACE, "ptrace", EV_PTRACE), S(SC_KILL, "kill", EV_KILL),
	S(SC_TKILL, "tkill", EV_KILL), S(SC_TGKILL, "tgkill", EV_KILL),
	S(SC_SETUID, "setuid", EV_SETUID), S(SC_SETREUID, "setreuid", EV_SETUID),
	S(SC_SETRESUID, "setresuid", EV_SETUID), S(SC_SETGID, "setgid", EV_SETGID),
	S(SC_SETREGID, "setregid", EV_SETGID), S(SC_SETRESGID, "setresgid", EV_SETGID),
	S(SC_INIT_MODULE, "init_module", EV_MODULE),
	S(SC_FINIT_MODULE, "finit_module", EV_MODULE),
	S(SC_SENDTO, "sendto", EV_SENDTO), S(SC_SENDMSG, "sendmsg", EV_SENDTO),
	S(SC_SENDMMSG, "sendmmsg", EV_SENDTO),
#undef S
};

/* ---- field tables ---- */

#define X(n, k, m, ...) FIELD(n, k, struct ev_exec, m, __VA_ARGS__)
static const struct ebee_field exec_fields[] = {
	X("evt.res", FK_S32, ret, .doc = "0, or -errno of a failed exec"),
	X("proc.ppid", FK_U32, ppid, .doc = "parent process id"),
	X("proc.exepath", FK_STR, filename, .doc = "the path passed to execve"),
	X("proc.argc", FK_U32, argc, .doc = "number of arguments (0 = unknown when cut)"),
};
#undef X
#define T(n, k, m, ...) FIELD(n, k, struct ev_task, m, __VA_ARGS__)
static const struct ebee_field fork_fields[] = {
	T("proc.ppid", FK_U32, ppid, .doc = "the parent (the forking process)"),
	T("child.pid", FK_U32, child, .doc = "the new process"),
	T("child.start", FK_U64, child_start_ns, .doc = "its start, ns since boot"),
};
static const struct ebee_field exit_fields[] = {
	T("proc.ppid", FK_U32, ppid, .doc = "parent process id"),
	T("evt.status", FK_S32, code, .doc = "wait status: exit code << 8, or the signal"),
};
#undef T

#define Y(n, k, m, ...) FIELD(n, k, struct ev_sys, m, __VA_ARGS__)
#define SYS_COMMON \
	Y("evt.res", FK_RET, ret, .doc = "result: fd/value, or -errno"), \
	Y("evt.syscall", FK_ENUM, sc, .decode = ev_syscall_name, .doc = "which syscall")
#define PATH(n, d) Y(n, FK_STR, path, .doc = d), \
	Y("evt.dirfd", FK_S32, dirfd, .doc = "dirfd a relative path is read from (-100 = cwd)")

static const struct ebee_field open_fields[] = { SYS_COMMON,
	PATH("fd.name", "the file, resolved to a full path"),
	Y("evt.flags", FK_FLAGS, a[0], .decode = ev_open_flags, .doc = "open flags"),
	Y("evt.mode", FK_FLAGS, a[1], .decode = ev_octal, .doc = "mode given on create"),
};
static const struct ebee_field unlink_fields[] = { SYS_COMMON,
	PATH("fs.path.name", "the path removed"),
	Y("evt.flags", FK_FLAGS, a[0], .decode = ev_at_flags, .doc = "unlinkat flags"),
};
static const struct ebee_field mkdir_fields[] = { SYS_COMMON,
	PATH("fs.path.name", "the directory made"),
	Y("evt.mode", FK_FLAGS, a[0], .decode = ev_octal, .doc = "mode"),
};
static const struct ebee_field truncate_fields[] = { SYS_COMMON,
	PATH("fs.path.name", "the file"),
	Y("evt.length", FK_U64, a[0], .doc = "new length"),
};
static const struct ebee_field path2_fields[] = { SYS_COMMON,
	PATH("fs.path.target", "the new name (rename, link: new path; symlink: the link)"),
	Y("fs.path.source", FK_STR, path2, .doc = "the old name (symlink: what it points to)"),
	Y("evt.olddirfd", FK_S32, a[1], .doc = "dirfd of the old name (renameat, linkat)"),
	Y("evt.flags", FK_FLAGS, a[0], .decode = ev_hex, .doc = "renameat2/linkat flags"),
};
static const struct ebee_field chmod_fields[] = { SYS_COMMON,
	PATH("fs.path.name", "the file (chmod, fchmodat)"),
	Y("evt.mode", FK_FLAGS, a[0], .decode = ev_octal, .doc = "new mode"),
	Y("fd.num", FK_S32, a[3], .doc = "fchmod: the fd"),
};
static const struct ebee_field chown_fields[] = { SYS_COMMON,
	PATH("fs.path.name", "the file (chown, lchown, fchownat)"),
	Y("evt.uid", FK_S32, a[0], .doc = "new owner (-1 = unchanged)"),
	Y("evt.gid", FK_S32, a[1], .doc = "new group (-1 = unchanged)"),
	Y("fd.num", FK_S32, a[3], .doc = "fchown: the fd"),
};
static const struct ebee_field chdir_fields[] = { SYS_COMMON,
	PATH("fs.path.name", "the new working directory (chdir)"),
	Y("fd.num", FK_S32, a[0], .doc = "fchdir: the directory's fd"),
};
static const struct ebee_field close_fields[] = { SYS_COMMON,
	Y("fd.num", FK_S32, a[0], .doc = "the fd closed"),
};
static const struct ebee_field dup_fields[] = { SYS_COMMON,
	Y("fd.num", FK_S32, a[0], .doc = "the old fd"),
	Y("evt.newfd", FK_S32, a[1], .doc = "dup2/dup3: the fd asked for"),
	Y("evt.flags", FK_FLAGS, a[2], .decode = ev_hex, .doc = "dup3 flags"),
};
static const struct ebee_field memfd_fields[] = { SYS_COMMON,
	Y("fd.name", FK_STR, path, .doc = "the memfd's name"),
	Y("evt.flags", FK_FLAGS, a[0], .decode = ev_hex, .doc = "MFD_* flags"),
};
static const struct ebee_field mount_fields[] = { SYS_COMMON,
	Y("fs.path.target", FK_STR, path, .doc = "mount point"),
	Y("fs.path.source", FK_STR, path2, .doc = "source (device, directory)"),
	Y("fs.type", FK_STR, addr, .doc = "filesystem type (first 15 bytes)"),
	Y("evt.flags", FK_FLAGS, a[0], .decode = ev_hex, .doc = "MS_* flags"),
};
static const struct ebee_field socket_fields[] = { SYS_COMMON,
	Y("socket.domain", FK_ENUM, a[0], .decode = ev_family, .doc = "address family"),
	Y("socket.type", FK_FLAGS, a[1], .decode = ev_socktype, .doc = "socket type"),
	Y("socket.protocol", FK_U64, a[2], .doc = "protocol"),
};
#define SOCKADDR \
	Y("fd.num", FK_S32, a[3], .doc = "the socket"), \
	Y("fd.sockfamily", FK_ENUM, family, .decode = ev_family, .doc = "address family"), \
	Y("fd.addr", FK_ADDR, addr, .aux = offsetof(struct ev_sys, family), \
	  .doc = "IPv4/IPv6 address"), \
	Y("fd.port", FK_U16, port, .doc = "port"), \
	Y("fd.unix_path", FK_STR, path, .doc = "AF_UNIX path")
static const struct ebee_field connect_fields[] = { SYS_COMMON, SOCKADDR };
static const struct ebee_field accept_fields[] = { SYS_COMMON, SOCKADDR,
	Y("evt.flags", FK_FLAGS, a[0], .decode = ev_socktype, .doc = "accept4 flags"),
};
/* send() is sendto() without an address: the connected peer is read from the socket */
static const struct ebee_field sendto_fields[] = { SYS_COMMON, SOCKADDR,
	Y("evt.flags", FK_FLAGS, a[0], .decode = ev_hex, .doc = "MSG_* flags"),
	Y("evt.size", FK_U64, a[1],
	  .doc = "sendto: bytes asked (the result: sent); sendmmsg: messages asked (result: sent)"),
	Y("socket.type", FK_FLAGS, a[2], .decode = ev_socktype,
	  .doc = "the socket's type (0 = not a socket)"),
};
static const struct ebee_field listen_fields[] = { SYS_COMMON,
	Y("fd.num", FK_S32, a[0], .doc = "the socket"),
	Y("evt.backlog", FK_S32, a[1], .doc = "backlog"),
};
static const struct ebee_field ptrace_fields[] = { SYS_COMMON,
	Y("evt.request", FK_ENUM, a[0], .decode = ev_ptrace_req, .doc = "request"),
	Y("evt.target", FK_S32, a[1], .doc = "target pid"),
};
static const struct ebee_field kill_fields[] = { SYS_COMMON,
	Y("evt.target", FK_S32, a[0], .doc = "pid (kill), tid (tkill), tgid (tgkill)"),
	Y("evt.arg1", FK_S64, a[1], .doc = "kill/tkill: the signal; tgkill: the tid"),
	Y("evt.arg2", FK_S64, a[2], .doc = "tgkill: the signal"),
};
static const struct ebee_field setid_fields[] = { SYS_COMMON,
	Y("evt.id", FK_S32, a[0], .doc = "the (real) id asked for"),
	Y("evt.eid", FK_S32, a[1], .doc = "setre*/setres*: effective id (-1 = unchanged)"),
	Y("evt.sid", FK_S32, a[2], .doc = "setres*: saved id (-1 = unchanged)"),
};
static const struct ebee_field module_fields[] = { SYS_COMMON,
	Y("evt.params", FK_STR, path, .doc = "module parameters"),
	Y("fd.num", FK_S32, a[3], .doc = "finit_module: the image's fd"),
	Y("evt.arg1", FK_U64, a[0], .doc = "init_module: image length; finit_module: flags"),
};
#undef Y

#define D(t, n, st, sz, f, d) { .type = t, .name = n, .size = sz, .fields = f, \
				.nfields = ARRAY_SIZE(f), .doc = d }
const struct ebee_event_desc ev_descs[] = {
	D(EV_EXEC, "exec", struct ev_exec, sizeof(struct ev_exec), exec_fields,
	  "a program started (execve/execveat; failures too)"),
	D(EV_EXIT, "exit", struct ev_task, sizeof(struct ev_task), exit_fields, "a process ended"),
	D(EV_FORK, "fork", struct ev_task, sizeof(struct ev_task), fork_fields,
	  "a process was created"),
	D(EV_OPEN, "open", , EV_SYS_SIZE1, open_fields, "open/openat/openat2/creat"),
	D(EV_UNLINK, "unlink", , EV_SYS_SIZE1, unlink_fields, "unlink/unlinkat/rmdir"),
	D(EV_RENAME, "rename", , EV_SYS_SIZE2, path2_fields, "rename/renameat/renameat2"),
	D(EV_CHMOD, "chmod", , EV_SYS_SIZE1, chmod_fields, "chmod/fchmod/fchmodat"),
	D(EV_CHOWN, "chown", , EV_SYS_SIZE1, chown_fields, "chown/lchown/fchown/fchownat"),
	D(EV_SYMLINK, "symlink", , EV_SYS_SIZE2, path2_fields, "symlink/symlinkat"),
	D(EV_LINK, "link", , EV_SYS_SIZE2, path2_fields, "link/linkat"),
	D(EV_MKDIR, "mkdir", , EV_SYS_SIZE1, mkdir_fields, "mkdir/mkdirat"),
	D(EV_TRUNCATE, "truncate", , EV_SYS_SIZE1, truncate_fields, "truncate"),
	D(EV_CHDIR, "chdir", , EV_SYS_SIZE1, chdir_fields, "chdir/fchdir"),
	D(EV_CLOSE, "close", , EV_SYS_SIZE1, close_fields, "close"),
	D(EV_DUP, "dup", , EV_SYS_SIZE1, dup_fields, "dup/dup2/dup3"),
	D(EV_MEMFD, "memfd", , EV_SYS_SIZE1, memfd_fields, "memfd_create"),
	D(EV_MOUNT, "mount", , EV_SYS_SIZE2, mount_fields, "mount"),
	D(EV_SOCKET, "socket", , EV_SYS_SIZE1, socket_fields, "socket"),
	D(EV_CONNECT, "connect", , EV_SYS_SIZE1, connect_fields, "connect"),
	D(EV_ACCEPT, "accept", , EV_SYS_SIZE1, accept_fields, "accept/accept4"),
	D(EV_BIND, "bind", , EV_SYS_SIZE1, connect_fields, "bind"),
	D(EV_LISTEN, "listen", , EV_SYS_SIZE1, listen_fields, "listen"),
	D(EV_SENDTO, "sendto", , EV_SYS_SIZE1, sendto_fields,
	  "sendto/sendmsg/sendmmsg (send too): the destination, or the connected peer"),
	D(EV_PTRACE, "ptrace", , EV_SYS_SIZE1, ptrace_fields, "ptrace"),
	D(EV_KILL, "kill", , EV_SYS_SIZE1, kill_fields, "kill/tkill/tgkill"),
	D(EV_SETUID, "setuid", , EV_SYS_SIZE1, setid_fields, "setuid/setreuid/setresuid"),
	D(EV_SETGID, "setgid", , EV_SYS_SIZE1, setid_fields, "setgid/setregid/setresgid"),
	D(EV_MODULE, "module", , EV_SYS_SIZE1, module_fields, "init_module/finit_module"),
};
#undef D
const int ev_ndescs = ARRAY_SIZE(ev_descs);

void ev_register_all(void)
{
	for (int i = 0; i < ev_ndescs; i++)
		event_register(&ev_descs[i]);
}

/* Kill's signal is the second argument except for tgkill: the text form for tables. */
const char *ev_kill_signal(const struct ev_sys *e, char *buf, size_t len)
{
	return ev_signal(e->sc == SC_TGKILL ? e->a[2] : e->a[1], buf, len);
}
