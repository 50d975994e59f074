// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only)
/* A bpf_prog iterator: one pass over every loaded program per read(), writing its id, load time
 * and run-time stats (summed over CPUs, as BPF_OBJ_GET_INFO_BY_FD does). prog->stats is a
 * per-CPU pointer. Kernels whose BTF lacks the "percpu" type tag (pahole without type tags)
 * do not let bpf_per_cpu_ptr() take it, and without CONFIG_KALLSYMS_ALL neither
 * __per_cpu_offset[] nor per-CPU ksyms resolve. So each CPU's per-CPU offset is measured on
 * a per-CPU array of our own: its raw per-CPU pointer (bpf_array.pptrs[0]) against the
 * address bpf_map_lookup_percpu_elem() returns for that CPU. Reading pointers as numbers
 * needs a privileged loader (ebee runs as root). Where this does not load, `ebee top` reads
 * programs one by one instead. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "progiter.h"

const volatile __u32 nr_cpus = 1;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pcpu SEC(".maps");

__u64 cpu_off[PROGITER_MAX_CPUS];
__u32 ncpu_off;

/* A pointer's value as a number (the verifier keeps pointer types on registers). */
static __always_inline __u64 addr_of(void *p)
{
	__u64 v = 0;
	bpf_probe_read_kernel(&v, sizeof(v), &p);
	return v;
}

static __always_inline void measure_offsets(void)
{
	__u64 raw = 0, maddr = addr_of(&pcpu);
	__u32 zero = 0, n = 0;

	if (bpf_probe_read_kernel(&raw, sizeof(raw), (void *)(maddr + bpf_core_field_offset(struct bpf_array, pptrs))))
		return;
	for (__u32 cpu = 0; cpu < PROGITER_MAX_CPUS && cpu < nr_cpus; cpu++) {
		void *v = bpf_map_lookup_percpu_elem(&pcpu, &zero, cpu);
		if (!v)
			break;
		cpu_off[cpu] = addr_of(v) - raw;
		n = cpu + 1;
	}
	ncpu_off = n;
}

SEC("iter/bpf_prog")
int ebee_prog_iter(struct bpf_iter__bpf_prog *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct bpf_prog *prog = ctx->prog;
	struct progiter_rec r = {};
	const char *stats;
	__u32 cnt_off = bpf_core_field_offset(struct bpf_prog_stats, cnt);
	__u32 ns_off = bpf_core_field_offset(struct bpf_prog_stats, nsecs);
	__u32 miss_off = bpf_core_field_offset(struct bpf_prog_stats, misses);

	if (ctx->meta->seq_num == 0)
		measure_offsets();
	if (!prog)
		return 0;
	r.id = BPF_CORE_READ(prog, aux, id);
	r.type = BPF_CORE_READ(prog, type);
	r.load_time = BPF_CORE_READ(prog, aux, load_time);
	stats = (const char *)BPF_CORE_READ(prog, stats);
	/* bounded by the read-only nr_cpus, which the verifier knows: it walks only that many */
	for (__u32 cpu = 0; cpu < PROGITER_MAX_CPUS && cpu < nr_cpus; cpu++) {
		const char *st;
		__u64 v = 0;

		if (cpu >= ncpu_off)
			break;
		st = stats + cpu_off[cpu];
		if (!bpf_probe_read_kernel(&v, sizeof(v), st + cnt_off))
			r.run_cnt += v;
		if (!bpf_probe_read_kernel(&v, sizeof(v), st + ns_off))
			r.run_time_ns += v;
		if (!bpf_probe_read_kernel(&v, sizeof(v), st + miss_off))
			r.misses += v;
	}
	bpf_seq_write(seq, &r, sizeof(r));
	return 0;
}

/* Owners: every fd of every process (threads sharing a file table are visited once), kept
 * when it is an anon-inode file named "bpf-prog", "bpf_link" or "[perf_event]" — the names
 * /proc shows as anon_inode:bpf-prog — without /proc's readlink and fdinfo per fd. */
static __always_inline bool name_is(const char *n, const char *want, int len)
{
	for (int i = 0; i < len; i++)
		if (n[i] != want[i])
			return false;
	return true;
}

SEC("iter/task_file")
int ebee_prog_owner(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct progiter_owner o = {};
	char name[16] = {};
	const unsigned char *dn;

	if (!task || !file)
		return 0;
	dn = BPF_CORE_READ(file, f_path.dentry, d_name.name);
	if (bpf_probe_read_kernel_str(name, sizeof(name), dn) < 0)
		return 0;
	if (name_is(name, "bpf-prog", 9)) {
		struct bpf_prog *prog = BPF_CORE_READ(file, private_data);
		o.prog_id = BPF_CORE_READ(prog, aux, id);
	} else if (name_is(name, "bpf_link", 9)) {
		struct bpf_link *link = BPF_CORE_READ(file, private_data);
		struct bpf_prog *prog = BPF_CORE_READ(link, prog);
		if (!prog)
			return 0;
		o.prog_id = BPF_CORE_READ(prog, aux, id);
		o.is_link = PROGITER_LINK;
	} else if (name_is(name, "[perf_event]", 13)) {
		o.is_link = PROGITER_PERF;   /* user space asks BPF_TASK_FD_QUERY what is on it */
	} else {
		return 0;
	}
	o.pid = BPF_CORE_READ(task, tgid);
	o.fd = ctx->fd;
	BPF_CORE_READ_STR_INTO(&o.comm, task, group_leader, comm);
	bpf_seq_write(seq, &o, sizeof(o));
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
