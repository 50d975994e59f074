/* SPDX-License-Identifier: BSD-2-Clause */
/* The process table: one view of every process, seeded from /proc and kept by the events
 * (fork/exec/exit, open/socket/accept/dup/close). The events collector (src/events) feeds it;
 * guard, graph, policy and the daemon read it. Single-threaded: call everything from the loop.
 *
 * CONTRACT (the next features build on these names and arguments; extend, do not change)
 *
 *   struct proctab *proctab_new(size_t max_procs);
 *       Everything is allocated here, once: max_procs entries (0 = PROCTAB_DEFAULT), a pid hash
 *       of >= 2*max_procs slots, a pool of max_procs * PROC_FDS_AVG fd records and a text
 *       store of max_procs * PROC_TEXT_PER_PROC bytes (strs.h). NULL + errno.
 *   void proctab_free(struct proctab *);                  NULL is fine.
 *   int  proctab_seed(struct proctab *);
 *       Reads every process in /proc (pid, ppid, uid, euid, loginuid, comm, exe, cmdline, cwd,
 *       tty, cgroup path + id, container id, start time). Returns how many were added, or
 *       -errno when /proc cannot be read. Processes vanishing meanwhile are skipped. fds are
 *       NOT read here (see fd_lookup).
 *
 *   Event feed (ts = the event's time, CLOCK_MONOTONIC ns like hdr.time_ns; start_ns =
 *   hdr.start_ns, the thread group leader's start, ns since boot). No allocation in any of them,
 *   but for an exec into a cgroup id never seen before (its path: core/cgroup.h re-reads the
 *   tree); /proc is read only on a miss.
 *   void proc_on_fork(pt, ppid, pid, start_ns, ts);
 *       The child inherits the parent's context and a copy of its known fds. pid == ppid
 *       (a thread) is ignored. An unknown parent is seeded lazily; failing that the child is.
 *   void proc_on_exec(pt, pid, start_ns, exe, args, args_len, uid, cgroup_id, ts);
 *       args: NUL-separated argv, args_len bytes. Updates exe, cmdline, comm (basename of exe),
 *       uid (euid := uid: the event carries one uid), cgroup. ppid, cwd, tty and fds stay.
 *       An exec from a non-leader thread (de_thread) keeps pid and start_ns: same process.
 *   void proc_on_exit(pt, pid, ts);
 *       Marks the entry exited (exit_ts = ts); it still resolves until reaped, so that events
 *       racing the exit keep their context.
 *   void proc_reap(pt, now);
 *       Frees entries exited more than PROC_GRACE_NS before now (and their fds). Call it from
 *       a timer (loop_add_timer, every second is plenty). O(reaped).
 *   void fd_on_open(pt, pid, fd, path);
 *       Also for socket/connect/accept/dup results: path is any text, e.g.
 *       "socket:tcp 127.0.0.1:80". Replaces what fd held before.
 *   void fd_on_dup(pt, pid, oldfd, newfd);   newfd gets oldfd's path (read lazily if unknown)
 *   void fd_on_close(pt, pid, fd);
 *
 *   Pid reuse: every update carrying start_ns compares it (at clock-tick granularity, since
 *   /proc/PID/stat field 22 is in ticks) with the entry's; a different start means a new
 *   process with a recycled pid, and the old entry (and its fds) is replaced. start_ns 0 means
 *   "unknown" and matches anything.
 *
 *   Lookups: O(1) (open-addressing hash keyed by pid). Returned memory (entries, and the texts
 *   p->exe, p->cmdline, p->cwd, p->cgroup and fd_lookup's, which live in the table's text
 *   store) is never freed before proctab_free, so a pointer never dangles; but any later call
 *   (a lookup too: it may read /proc and evict) may recycle the entry, or a text, for another
 *   process: compare pid and gen, or copy.
 *   const struct proc *proc_lookup(pt, pid);
 *       NULL when the pid is neither in the table nor in /proc. On a miss, reads /proc/PID once
 *       (a process the seed missed, or whose fork event was lost) and counts it in lazy_seeded;
 *       pids that failed are remembered for a second (no /proc storm for dead pids).
 *   const struct proc *proc_ancestor(pt, pid, n);
 *       n = 0 the process itself, 1 its parent, ... NULL when the chain ends (pid 0, unknown,
 *       or a parent whose start is later than its child's: its pid was reused).
 *   const char *fd_lookup(pt, pid, fd);
 *       What the fd refers to, or NULL. Known fds come from the feed; an fd the table has not
 *       seen (older than ebee) is read from /proc/PID/fd/N (readlink text: "/etc/passwd",
 *       "socket:[1234]", "anon_inode:bpf-prog", ...) and remembered.
 *   const char *proc_cwd(pt, pid);        "" when unknown; a deleted cwd ends in " (deleted)"
 *   size_t proctab_size(const struct proctab *);    live + exited-not-yet-reaped entries
 *   void proctab_stats(const struct proctab *, struct proctab_stats *);
 *   void proctab_foreach(pt, cb, arg);    every entry (exited ones too); cb returns != 0 to stop
 *
 * FEEDING IT (the events collector; core/event.h types, hdr = struct ebee_event_hdr):
 *   EV_FORK  -> proc_on_fork(parent tgid, hdr.pid, hdr.start_ns, hdr.time_ns)
 *   EV_EXEC  -> proc_on_exec(hdr.pid, hdr.start_ns, filename, argv, len, hdr.uid, hdr.cgroup_id,
 *               hdr.time_ns)                       (successful execs only)
 *   EV_EXIT  -> proc_on_exit(hdr.pid, hdr.time_ns)  (the thread group's exit, not a thread's)
 *   EV_OPEN, EV_SOCKET, EV_ACCEPT, EV_MEMFD with ret >= 0 -> fd_on_open(pid, ret, text)
 *   EV_DUP -> fd_on_dup;  EV_CLOSE -> fd_on_close
 *   a 1 s timer -> proc_reap(pt, ebee_now_ns())     (the clock of hdr.time_ns)
 *   Feed the event before resolving its context, so that an exec's own line shows the new exe.
 *
 * BOUNDS (memory is fixed at proctab_new; nothing grows with the host)
 *   - entries: max_procs. When full, the oldest exited entry is evicted, else the least
 *     recently created live one; both counted in `evicted`. A live entry evicted this way comes
 *     back through the lazy /proc read on its next lookup.
 *   - strings: the PROC_*_LEN below, including the NUL. Longer values are cut and the entry's
 *     `trunc` bit for that field is set; cmdline keeps whole args up to the cut (the last one
 *     may be cut mid-way), cmdline_len is what is kept, argc what the process had.
 *   - texts: each distinct exe, cmdline, cwd, cgroup and fd path is held once in the text
 *     store, shared by every entry and fd record that has it (a program's processes share
 *     its exe, cwd, cgroup and libraries; a storm of one command line shares that too), and
 *     freed with its last holder. The store is max_procs * PROC_TEXT_PER_PROC bytes, in slots
 *     of size classes (strs.c); a page once given to a class stays with it. When no slot fits
 *     (counted in text_full): an entry's text is "" with its trunc bit set (cmdline_len 0),
 *     and an fd is not recorded (its old record goes; fd_lookup then reads /proc again).
 *   - fds: at most PROC_FDS_PER_PROC per process (the oldest known fd of that process is
 *     dropped first) and max_procs * PROC_FDS_AVG in all (then the oldest fd record of the
 *     whole table goes). Paths longer than PROC_FD_PATH_LEN - 1 end in "...".
 *   With the default 4096 entries: 0.7 MB of entries (176 B) + 1.3 MB of fd records (32768 *
 *   40 B) + 8 MB of text store, all resident only as used: an entry's texts cost nothing
 *   when shared, one slot (32-544 B) each when not.
 */
#ifndef EBEE_PROC_H
#define EBEE_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cgroup.h"

#define PROCTAB_DEFAULT     4096
#define PROC_GRACE_NS       (5ull * 1000000000ull)   /* exited entries live this long */

#define PROC_COMM_LEN       16
#define PROC_EXE_LEN        256
#define PROC_CMDLINE_LEN    512
#define PROC_CWD_LEN        256
#define PROC_CGROUP_LEN     192
#define PROC_TTY_LEN        16      /* "pts/3", "tty1", "" = none */
#define PROC_FD_PATH_LEN    256
#define PROC_FDS_PER_PROC   64
#define PROC_FDS_AVG        8
#define PROC_TEXT_PER_PROC  2048    /* text store bytes per entry: the texts' bound */

/* trunc bits */
enum {
	PROC_TRUNC_EXE     = 1 << 0,
	PROC_TRUNC_CMDLINE = 1 << 1,
	PROC_TRUNC_CWD     = 1 << 2,
	PROC_TRUNC_CGROUP  = 1 << 3,
};

/* Where an entry's data came from. */
enum proc_origin {
	PROC_FROM_SEED = 1,     /* proctab_seed */
	PROC_FROM_LAZY,         /* read from /proc on a miss */
	PROC_FROM_FORK,         /* created by a fork event */
	PROC_FROM_EXEC,         /* created by an exec event for an unknown pid that /proc lacked */
};

struct proc {
	uint32_t pid, ppid;
	uint32_t uid, euid;
	uint32_t loginuid;          /* (uint32_t)-1 = unset */
	uint32_t gen;               /* bumped whenever the pid's entry is (re)created: with pid,
				     * an identity consumers may keep instead of a pointer */
	uint64_t start_ns;          /* ns since boot; tick granularity when read from /proc */
	uint64_t cgroup_id;         /* inode of the cgroup2 directory, 0 = unknown */
	uint64_t exit_ts;           /* ts of the exit event when exited */
	uint64_t created_ts;        /* ts of the event (or the seed time) that made the entry */
	bool exited;
	uint8_t origin;             /* enum proc_origin */
	uint8_t trunc;              /* PROC_TRUNC_* */
	uint16_t nfds;              /* fds known for this process */
	uint32_t argc;              /* args the process had (may exceed what cmdline kept) */
	uint32_t cmdline_len;       /* bytes kept in cmdline (NUL-separated, last NUL included) */
	char comm[PROC_COMM_LEN];
	char tty[PROC_TTY_LEN];
	char container_id[CONTAINER_ID_LEN + 1];   /* 12 hex, "host", or "" = cgroup unknown */
	/* Texts held in the table's text store (strs.h), never NULL ("" = unknown); valid, like
	 * the entry, until a later call recycles it. At most PROC_*_LEN bytes with the NUL. */
	const char *exe;
	const char *cmdline;        /* cmdline_len bytes */
	const char *cwd;
	const char *cgroup;         /* path below the cgroup2 mount, "/" = root */
};

struct proctab_stats {
	uint64_t entries;           /* = proctab_size */
	uint64_t exited;            /* of which exited, not yet reaped */
	uint64_t max;               /* max_procs */
	uint64_t reaped;            /* freed after the grace period */
	uint64_t evicted;           /* freed early because the table was full */
	uint64_t replaced;          /* pid reuse detected: an entry replaced by a new process */
	uint64_t lazy_seeded;       /* entries read from /proc on a miss */
	uint64_t lazy_misses;       /* misses that /proc could not resolve either */
	uint64_t fds;               /* fd records in use */
	uint64_t fds_max;
	uint64_t fds_evicted;       /* dropped by one of the fd bounds */
	uint64_t fds_lazy;          /* fds read from /proc/PID/fd */
	uint64_t texts;             /* distinct texts in the store (exe, cmdline, cwd, cgroup, fds) */
	uint64_t text_bytes;        /* store bytes holding them */
	uint64_t text_max;          /* the store's bound */
	uint64_t text_full;         /* texts not kept: the store was full (see BOUNDS) */
};

struct proctab;

struct proctab *proctab_new(size_t max_procs);
void proctab_free(struct proctab *pt);
int proctab_seed(struct proctab *pt);

void proc_on_fork(struct proctab *pt, uint32_t ppid, uint32_t pid, uint64_t start_ns, uint64_t ts);
void proc_on_exec(struct proctab *pt, uint32_t pid, uint64_t start_ns, const char *exe,
		  const char *args, size_t args_len, uint32_t uid, uint64_t cgroup_id, uint64_t ts);
void proc_on_exit(struct proctab *pt, uint32_t pid, uint64_t ts);
void proc_reap(struct proctab *pt, uint64_t now);

void fd_on_open(struct proctab *pt, uint32_t pid, int fd, const char *path);
void fd_on_dup(struct proctab *pt, uint32_t pid, int oldfd, int newfd);
void fd_on_close(struct proctab *pt, uint32_t pid, int fd);

const struct proc *proc_lookup(struct proctab *pt, uint32_t pid);
const struct proc *proc_ancestor(struct proctab *pt, uint32_t pid, int n);
const char *fd_lookup(struct proctab *pt, uint32_t pid, int fd);
const char *proc_cwd(struct proctab *pt, uint32_t pid);

size_t proctab_size(const struct proctab *pt);
void proctab_stats(const struct proctab *pt, struct proctab_stats *st);
void proctab_foreach(struct proctab *pt, int (*cb)(const struct proc *p, void *arg), void *arg);

/* Same start at /proc's granularity (clock ticks): 0 matches anything. */
bool proc_same_start(uint64_t a_ns, uint64_t b_ns);

/* ---- /proc readers, shared by the table and by the features that walk fds -------------- */

/* Where procfs_read puts the texts p's pointers then name. */
struct proc_text {
	char exe[PROC_EXE_LEN];
	char cmdline[PROC_CMDLINE_LEN];
	char cwd[PROC_CWD_LEN];
	char cgroup[PROC_CGROUP_LEN];
};
/* Fills p from /proc/PID (all fields above but the table's own), its texts in t; false when
 * the process is gone or a kernel thread with no stat. */
bool procfs_read(uint32_t pid, struct proc *p, struct proc_text *t);
/* /proc/PID/comm into comm[PROC_COMM_LEN] ("" if gone). */
void procfs_comm(uint32_t pid, char comm[PROC_COMM_LEN]);

/* The one walk of every process's fd directory (`ss -p`, bpftool's owners): cb gets each fd
 * with its readlink text; dirfd is /proc/PID/fd (openat/readlinkat relative to it),
 * comm is read once per process on first use through procfs_walk_comm. cb returns != 0 to stop
 * the walk. Our own process is skipped when skip_self. Returns processes visited, or -errno. */
struct procfs_fd {
	uint32_t pid;
	int fd;
	int dirfd;
	const char *link;
	char comm_[PROC_COMM_LEN];  /* private: use procfs_walk_comm */
};
const char *procfs_walk_comm(struct procfs_fd *f);
int procfs_walk_fds(bool skip_self, int (*cb)(struct procfs_fd *f, void *arg), void *arg);

#endif
