/* SPDX-License-Identifier: BSD-2-Clause */
/* Loading BPF: probe what this kernel offers, choose one program variant per hook from a table,
 * mounts, BPF run-time statistics. */
#ifndef EBEE_LOAD_H
#define EBEE_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bpf_object;

/* Attach kinds ebee may use; each is probed for real by loading a tiny program and attaching
 * it (then detaching). Results are cached per process. */
enum ebee_kind {
	KIND_TRACEPOINT, KIND_RAW_TP, KIND_TP_BTF, KIND_KPROBE, KIND_FENTRY, KIND_LSM,
	KIND_UPROBE, KIND_TC, KIND_TCX, KIND_XDP, KIND_CGROUP_SKB, KIND_CGROUP_SOCK_ADDR,
	KIND_PERF_EVENT, KIND_RINGBUF, KIND_BPF_STATS, KIND_ITER,
	/* not an attach kind: a tracepoint program reading the caller's saved user registers
	 * through bpf_task_pt_regs(bpf_get_current_task_btf()) (5.15+) */
	KIND_TASK_PT_REGS,
	KIND__COUNT
};

struct ebee_probe {
	bool ok;
	int err;                 /* -errno of the failing step */
	char detail[160];        /* "load: Operation not permitted", "attach: no kprobe_events" */
};

const char *ebee_kind_name(enum ebee_kind k);      /* "tp_btf" */
/* Probes (once; cached) and returns the result; never prints. */
const struct ebee_probe *ebee_probe_kind(enum ebee_kind k);
static inline bool ebee_have(enum ebee_kind k) { return ebee_probe_kind(k)->ok; }

/* Probe-then-choose. A feature lists, per logical hook, its program variants in order of
 * preference; ebee_choose keeps the first whose kind this kernel allows and turns autoload
 * off for the rest. Call between skeleton open and load. The chosen kinds are reported with
 * -v (info). Hook tables are static const data (a collector's desc holds its one table, read by
 * loading, doctor and `prog` attribution); the choice of one run goes into chosen[h], the
 * variant index per hook (-1 if none). */
struct ebee_variant {
	const char *prog;        /* program name in the object; "" = nothing to load, a kernel
				  * facility (bpf_stats) that is the fallback */
	enum ebee_kind kind;
};
#define EBEE_MAX_VARIANTS 4
struct ebee_hook {
	const char *name;                                /* "sys_enter", for messages */
	struct ebee_variant v[EBEE_MAX_VARIANTS];        /* terminated by prog == NULL */
};
/* Returns 0, or -EOPNOTSUPP having printed which hook had no usable variant and why. */
int ebee_choose(struct bpf_object *obj, const struct ebee_hook *hooks, int nhooks, int *chosen);
/* The first variant of a hook this kernel allows (no object needed: doctor), or -1. */
int ebee_first_usable(const struct ebee_hook *hk);

/* Loading a skeleton: wraps <skel>__load so that a verifier failure prints one line plus,
 * with -v, the verifier log. `what` names the feature in messages. */
int ebee_load_err(const char *what, int err);   /* prints "cannot load 'what' BPF programs: ..." */

/* Mounts and limits. */
int ebee_mount_tracefs(void);    /* 0 when mounted (was or now), or -errno */
int ebee_mount_bpffs(void);
const char *ebee_tracefs_path(void);  /* "/sys/kernel/tracing" or debugfs path, NULL if none */
const char *ebee_cgroup2_path(void);  /* where cgroup2 is mounted, NULL if not */
/* First mount point of a filesystem type ("bpf", "cgroup2") into buf; -ENOENT when none. */
int ebee_mount_point(const char *fstype, char *buf, size_t len);
/* An effective capability of this process (CAP_SYS_ADMIN, 39 = CAP_BPF, 38 = CAP_PERFMON). */
bool ebee_have_cap(int cap);
int ebee_bump_memlock(void);
/* After NAME_bpf__open(skel): libbpf has copied what it keeps of the object embedded in the
 * executable (programs, BTF, relocations, initial data) and let go of its ELF view, so those
 * bytes are not read again; dropping their resident pages keeps them out of the peak RSS of the
 * load that follows (1.6 MB for events). They are clean file pages: a read faults them back. */
struct bpf_object_skeleton;
void ebee_skel_drop_elf(const struct bpf_object_skeleton *s);

/* cgroup2 id of a directory (its inode number), or -errno with an error printed. */
int ebee_cgroup_id(const char *path, uint64_t *id);

/* BPF run-time statistics: holds a BPF_ENABLE_STATS fd, so stats switch off again when ebee
 * exits by any path. Returns the fd (>= 0) or -errno. `already` tells whether the
 * kernel.bpf_stats_enabled sysctl was on before. */
int ebee_stats_enable(bool *already);

/* Sum of a per-CPU u64 slot (drop counters, per-CPU array totals); 0 on error. */
uint64_t ebee_percpu_sum(int map_fd, uint32_t key);
int ebee_ncpus(void);   /* possible CPUs, as per-CPU maps size their values */

/* After the programs feeding `rb` are detached: reads what is left in it, waiting up to
 * timeout_ms for records that a program still running at the detach is writing, until the
 * reader's count (*read, kept by its callback) reaches what the kernel side submitted (slot
 * EBEE_SLOT_SUBMITTED of the drops map, objects built with EBEE_COUNT_SUBMITTED). Returns the
 * records submitted but never read: 0 unless something is wrong, and then a loss to report. */
struct ring_buffer;
uint64_t ebee_ring_settle(struct ring_buffer *rb, int drops_fd, const uint64_t *read,
			  int timeout_ms);

#endif
