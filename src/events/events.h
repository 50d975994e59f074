/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/* Records of the process, file and network events (ebee exec/open/events). Shared by
 * events.bpf.c and user space: fixed-width types, explicit padding. Every record starts with
 * struct ebee_event_hdr (core/event.h); its type field says which layout follows.
 *
 * Three layouts:
 *   ev_exec  sched_process_exec (success) and sys_exit_execve/execveat (failure, ret < 0)
 *   ev_task  fork (child pid/start) and exit (exit code)
 *   ev_sys   every syscall event: result, up to four scalar arguments (whose meaning the
 *            type's field table names: flags, mode, fd, signal, uid...), a socket address and
 *            one path; rename/link/symlink also carry a second path (the record is then
 *            EV_SYS_SIZE2 bytes instead of EV_SYS_SIZE1). */
#ifndef EBEE_EVENTS_H
#define EBEE_EVENTS_H

#include "core/event.h"

#define EV_PATH_LEN   256          /* per path; longer paths are cut and EVF_PATH_TRUNC set */
#define EV_ARGS_LEN   1024         /* exec argv bytes (NUL-separated), EVF_ARGS_TRUNC past it */
#define EV_ARGS_MAX   32           /* failed exec: argv pointers read (success reads the mm) */

/* ev_exec.flags / ev_sys.flags */
#define EVF_PATH_TRUNC  (1u << 0)
#define EVF_PATH2_TRUNC (1u << 1)
#define EVF_ARGS_TRUNC  (1u << 2)
#define EVF_PATH_FAULT  (1u << 3)   /* the user pointer could not be read */

struct ev_exec {
	struct ebee_event_hdr hdr;
	__s32 ret;                  /* 0 or -errno */
	__u32 ppid;
	__u32 argc;                 /* the process's argc (bprm), even when args are cut */
	__u32 args_len;             /* bytes in args, NUL-separated, last NUL included */
	__u32 flags;                /* EVF_* */
	__u32 pad;
	char filename[EV_PATH_LEN]; /* as passed to execve (relative stays relative) */
	char args[EV_ARGS_LEN];
};

struct ev_task {
	struct ebee_event_hdr hdr;
	__u32 ppid;                 /* fork: the parent (= hdr.pid); exit: the parent */
	__u32 child;                /* fork: the new process */
	__u64 child_start_ns;
	__s32 code;                 /* exit: exit status as wait(2) encodes it */
	__u32 pad;
};

/* Syscalls we trace, numbered for the per-thread stash (not the kernel's numbers). */
enum ev_sc {
	SC_NONE, SC_EXECVE, SC_EXECVEAT,
	SC_OPEN, SC_OPENAT, SC_OPENAT2, SC_CREAT,
	SC_UNLINK, SC_UNLINKAT, SC_RMDIR, SC_RENAME, SC_RENAMEAT, SC_RENAMEAT2,
	SC_CHMOD, SC_FCHMOD, SC_FCHMODAT, SC_CHOWN, SC_LCHOWN, SC_FCHOWN, SC_FCHOWNAT,
	SC_SYMLINK, SC_SYMLINKAT, SC_LINK, SC_LINKAT, SC_MKDIR, SC_MKDIRAT,
	SC_CHDIR, SC_FCHDIR, SC_CLOSE, SC_DUP, SC_DUP2, SC_DUP3, SC_MEMFD, SC_MOUNT, SC_TRUNCATE,
	SC_SOCKET, SC_CONNECT, SC_ACCEPT, SC_ACCEPT4, SC_BIND, SC_LISTEN,
	SC_PTRACE, SC_KILL, SC_TKILL, SC_TGKILL,
	SC_SETUID, SC_SETREUID, SC_SETRESUID, SC_SETGID, SC_SETREGID, SC_SETRESGID,
	SC_INIT_MODULE, SC_FINIT_MODULE,
	SC_SENDTO, SC_SENDMSG, SC_SENDMMSG,   /* last: recorded streams keep their numbers */
	SC__MAX
};

struct ev_sys {
	struct ebee_event_hdr hdr;
	__s64 ret;                  /* >= 0 result, < 0 -errno */
	__u64 a[4];                 /* scalar arguments; see the type's field table */
	__u16 sc;                   /* enum ev_sc: which syscall of the type */
	__u16 family;               /* sockaddr family (AF_INET/AF_INET6/AF_UNIX), 0 = none */
	__u16 port;                 /* host order */
	__u16 pad;
	__u32 flags;                /* EVF_* */
	__s32 dirfd;                /* *at(): the dirfd the path is relative to */
	__u8 addr[16];              /* v4 in the first 4 bytes */
	char path[EV_PATH_LEN];     /* AF_UNIX sockets: the socket path */
	char path2[EV_PATH_LEN];    /* rename/link/symlink only */
};

#define EV_SYS_SIZE1 ((unsigned)__builtin_offsetof(struct ev_sys, path2))
#define EV_SYS_SIZE2 ((unsigned)sizeof(struct ev_sys))

/* The kernel filters besides core/filter_k.h's block (a rodata constant named ev_cfg). */
struct ev_cfg_k {
	__u8 failed_only;           /* --failed: ret < 0 only */
	__u8 success_only;          /* --success */
	__u8 prefix_len;            /* --path-prefix: absolute paths must start with it; relative
				     * ones pass here and are checked after resolution */
	__u8 dgram_sends;           /* sendto/sendmsg/sendmmsg: not on stream sockets (set by
				     * consumers that count packets, the graph) */
	__u8 pad[4];
	char prefix[EV_PATH_LEN];
};

/* The in-kernel prefilter (events/kfilter.h): per syscall, up to EV_KF_CLAUSES clauses, each
 * a conjunction of "the process name is in a set", "the path starts with one of a set",
 * "the open writes", "the path as passed contains ../"; a record passes when a clause holds.
 * A clause is one consumer's rule (guard); bit i of every mask is clause i. */
#define EV_KF_CLAUSES 32
#define EV_KF_PATH 255             /* path bytes an LPM key holds after the syscall byte */
#define EV_KF_GATE 8               /* first components a prefix set can be gated on */

struct ev_kf_sc {
	__u32 clauses;              /* the clauses in use; 0 = no filter for this syscall */
	__u32 nocomm;               /* clauses without a process-name set */
	__u32 nopath;               /* clauses without a path-prefix set */
	__u32 needwrite;            /* clauses that need O_WRONLY/O_RDWR/O_CREAT/O_TRUNC */
	__u32 needdotdot;           /* clauses that need "../" in the path as passed */
	__u32 ngate;                /* the prefix set's first components (0: no gate) */
	__u64 gword[EV_KF_GATE];    /* "etc/": a component and its '/', kfscan.h kf_first */
	__u64 gmask[EV_KF_GATE];    /* its bytes */
};

struct ev_kf_comm_key {
	char comm[EBEE_COMM_LEN];   /* NUL-padded, as the kernel keeps it */
	__u32 sc;
};

struct ev_kf_path_key {
	__u32 prefixlen;            /* bits: 8 for sc, 8 per path byte */
	__u8 sc;
	char path[EV_KF_PATH];
};

/* Where a path is read for the prefilter: the LPM key, and room for the scan's last word */
struct ev_kf_scratch {
	struct ev_kf_path_key key;
	__u8 pad[4];
};

#endif
