/* SPDX-License-Identifier: BSD-2-Clause */
/* Reading what loaded BPF programs cost, shared by `ebee prog`, `ebee top` and `ebee bench`.
 *
 * Three sources, as the kernel offers them:
 *  - BPF_OBJ_GET_INFO_BY_FD on an fd from bpf_prog_get_fd_by_id (walking bpf_prog_get_next_id);
 *  - /proc/PID/fdinfo/FD of any fd on the program (ours or its owner's);
 *  - links (bpf_link_get_next_id) for the attach point, /proc/PTID/fd for the owners.
 * run_cnt/run_time_ns only grow while BPF stats are on (ps_stats_on). */
#ifndef EBEE_PROGSTAT_H
#define EBEE_PROGSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PS_NAME_LEN   16      /* BPF_OBJ_NAME_LEN */
#define PS_MAX_MAPS   16
#define PS_ATTACH_LEN 96
#define PS_OWNERS_LEN 96

/* One program as read at one moment. */
struct ps_prog {
	uint32_t id;
	uint32_t type;              /* enum bpf_prog_type */
	char name[PS_NAME_LEN];     /* may be empty: unnamed programs are listed too */
	char tag[17];               /* hex of the 8-byte tag */
	uint32_t uid;
	uint64_t load_time;         /* CLOCK_BOOTTIME ns, as the kernel reports it */
	uint64_t run_cnt;
	uint64_t run_time_ns;
	uint64_t recursion_misses;
	uint64_t verified_insns;
	uint32_t xlated_len;
	uint32_t jited_len;
	uint32_t nr_map_ids;        /* may exceed PS_MAX_MAPS; only that many kept */
	uint32_t map_ids[PS_MAX_MAPS];
	char attach[PS_ATTACH_LEN]; /* "tracepoint/syscalls/sys_enter_getppid", "xdp eth0", "" */
	uint32_t owner_pid;         /* first process holding an fd on it (0 = none: pinned/link) */
	char owner_comm[16];
	char owners[PS_OWNERS_LEN]; /* "123/foo,456/bar" */
	bool seen;                  /* scratch for ps_collect */
};

/* A set of programs sorted by id. */
struct ps_set {
	struct ps_prog *v;
	int n, cap;
	uint64_t taken_ns;          /* CLOCK_MONOTONIC when collected */
};

enum {
	PS_OWNERS = 1 << 0,         /* scan /proc for the processes holding each program */
	PS_LINKS  = 1 << 1,         /* walk links for attach points */
};

/* Reads every loaded program into s (reusing its storage). Programs that vanish while being
 * read are skipped. Returns the number of programs or -errno (with an error printed). */
int ps_collect(struct ps_set *s, unsigned flags);
/* Reads one program by id into p (flags as above, applied to that program only). */
int ps_read_id(uint32_t id, struct ps_prog *p, unsigned flags);
void ps_set_free(struct ps_set *s);
/* Frees caches (vmlinux BTF for attach names); call once at exit. */
void ps_cleanup(void);
struct ps_prog *ps_find(const struct ps_set *s, uint32_t id);   /* binary search */

/* The same in one pass of a bpf_prog iterator (counters, id, load time), with the static fields
 * taken from prev (the previous sample) or read by id for programs not in it. Open returns
 * -errno quietly when the kernel cannot run it (no BTF, no bpf_prog iterator): callers then
 * use ps_collect. The iterator is itself a loaded program (ebee_prog_iter). */
struct ps_iter;
int ps_iter_open(struct ps_iter **it);
int ps_iter_collect(struct ps_iter *it, struct ps_set *s, const struct ps_set *prev);
void ps_iter_close(struct ps_iter *it);
/* Owners from a task_file iterator pass (instead of the /proc scan); -EOPNOTSUPP when that
 * iterator could not attach. */
bool ps_iter_has_owners(const struct ps_iter *it);
int ps_iter_owners(struct ps_iter *it, struct ps_set *s);
/* owners ("123/foo,456/bar") as a JSON array [{"pid":123,"comm":"foo"},...] */
void ps_owners_json(const char *owners, char *buf, size_t len);
/* Adds "pid/comm" to a program's owners (once per pid). */
void ps_add_owner(struct ps_prog *p, int pid, const char *comm);

/* Resolves "ID", "NAME" (every program with that name) or a pinned path into ids.
 * Returns how many were found (>= 1), or -ENOENT / -EINVAL having printed the error. */
int ps_resolve(const char *what, uint32_t *ids, int max);

/* Owner scan on its own (costly: reads /proc/ * /fd): fills owner fields of the set. */
void ps_fill_owners(struct ps_set *s);
/* Every fd on program `id` in other processes' fd tables (for fdinfo side by side). */
struct ps_owner_fd { int pid; int fd; char comm[16]; };
int ps_owner_fds(uint32_t id, struct ps_owner_fd *out, int max);
/* A perf_event fd of process pid with a program attached the old way (ioctl SET_BPF, as
 * bpftrace does): appends its tracepoint/kprobe/uprobe to that program's attach, like
 * `bpftool perf`. ps_fill_owners does it for every perf_event fd it sees. */
void ps_perf_attach(struct ps_set *s, int pid, int fd);
/* Attach points from links: fills attach of the set (call before ps_fill_owners). */
void ps_fill_attach(struct ps_set *s);

/* /proc/PID/fdinfo parsing (pure: unit tested). Fields missing from the text are left alone;
 * returns how many known keys were found. */
struct ps_fdinfo {
	uint32_t prog_id;
	uint32_t prog_type;
	char tag[17];
	uint64_t run_time_ns;
	uint64_t run_cnt;
	uint64_t recursion_misses;
	uint64_t verified_insns;
	uint64_t memlock;
	int jited;
};
int ps_parse_fdinfo(const char *text, struct ps_fdinfo *fi);
int ps_read_fdinfo(int pid, int fd, struct ps_fdinfo *fi);   /* pid 0 = self */

/* Names. */
const char *ps_type_name(uint32_t type, char *buf, size_t len);  /* "tracepoint" */
/* CLOCK_BOOTTIME ns (prog load_time) to wall-clock ns. */
uint64_t ps_boot_to_real(uint64_t boot_ns);
uint64_t ps_boottime_ns(void);

/* Stats. Holds a BPF_ENABLE_STATS fd; on kernels without it, turns the sysctl on and restores
 * its prior value in ps_stats_off (call it on every exit path; the loop's signalfd makes
 * signals such a path). keep: set kernel.bpf_stats_enabled=1 and leave it on. */
struct ps_stats {
	int fd;                     /* BPF_ENABLE_STATS fd or -1 */
	int sysctl_prev;            /* prior sysctl value to restore, -1 = nothing to restore */
	bool was_on;                /* stats were on before ebee */
	uint64_t since_ns;          /* CLOCK_MONOTONIC when ebee turned them on (0 if was_on) */
};
int ps_stats_on(struct ps_stats *st, bool keep);
void ps_stats_off(struct ps_stats *st);
int ps_stats_sysctl(void);       /* current sysctl value, or -errno */
/* "stats on for 1m02s (enabled by ebee)" for headers. */
const char *ps_stats_describe(const struct ps_stats *st, char *buf, size_t len);

/* Human durations "812ns" / "1.2us" (tables); seconds "1m02s". */
const char *ps_fmt_ns(double ns, char *buf, size_t len);
const char *ps_fmt_dur(double s, char *buf, size_t len);

#endif
