// SPDX-License-Identifier: BSD-2-Clause
/* Probe what the kernel allows, choose program variants, mounts, limits, bpf_stats. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/perf_event.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "ebee.h"
#include "load.h"
#include "core/event.h"
#include "core/probe.skel.h"

/* Not in the UAPI headers of Debian 12's linux-libc-dev (6.1); the kernel has it since 6.6. */
#define EBEE_BPF_TCX_INGRESS 46

static const struct {
	const char *name;
	const char *prog;   /* program in probe.bpf.c, NULL when no program is needed */
} kinds[KIND__COUNT] = {
	[KIND_TRACEPOINT]       = { "tracepoint", "probe_tp" },
	[KIND_RAW_TP]           = { "raw_tp", "probe_raw_tp" },
	[KIND_TP_BTF]           = { "tp_btf", "probe_tp_btf" },
	[KIND_KPROBE]           = { "kprobe", "probe_kprobe" },
	[KIND_FENTRY]           = { "fentry", "probe_fentry" },
	[KIND_LSM]              = { "lsm", "probe_lsm" },
	[KIND_UPROBE]           = { "uprobe", "probe_uprobe" },
	[KIND_TC]               = { "tc", "probe_tc" },
	[KIND_TCX]              = { "tcx", "probe_tc" },
	[KIND_XDP]              = { "xdp", "probe_xdp" },
	[KIND_CGROUP_SKB]       = { "cgroup_skb", "probe_cgroup_skb" },
	[KIND_CGROUP_SOCK_ADDR] = { "cgroup_sock_addr", "probe_sock_addr" },
	[KIND_PERF_EVENT]       = { "perf_event", "probe_perf_event" },
	[KIND_RINGBUF]          = { "ringbuf", "probe_ringbuf" },
	[KIND_BPF_STATS]        = { "bpf_stats", NULL },
	[KIND_ITER]             = { "iter", "probe_iter" },
	[KIND_TASK_PT_REGS]     = { "task_pt_regs", "probe_task_pt_regs" },
};

static struct ebee_probe cache[KIND__COUNT];
static bool probed[KIND__COUNT];

const char *ebee_kind_name(enum ebee_kind k)
{
	return k < KIND__COUNT ? kinds[k].name : "?";
}

/* A function of our own for the uprobe probe to attach to. */
__attribute__((noinline, used)) int ebee_uprobe_probe_target(int x)
{
	asm volatile("" ::: "memory");
	return x + 1;
}

static int fail(struct ebee_probe *p, const char *step, int err)
{
	p->ok = false;
	p->err = err;
	snprintf(p->detail, sizeof(p->detail), "%s: %s", step, strerror(-err));
	return err;
}

static int link_err(struct bpf_link *l)
{
	int err = l ? 0 : -errno;

	bpf_link__destroy(l);
	return err;
}

/* Packet programs are loaded and run once with BPF_PROG_TEST_RUN rather than attached: a probe
 * must not touch a real device. */
static int test_run(int fd)
{
	char pkt[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt), .repeat = 1);

	return bpf_prog_test_run_opts(fd, &o) ? -errno : 0;
}

static int attach_cgroup(struct bpf_program *prog)
{
	const char *cg = ebee_cgroup2_path();
	char dir[300];
	int fd, err;

	if (!cg)
		return -ENOENT;
	/* A throw-away child cgroup, so nothing else ever runs under the probe program. */
	snprintf(dir, sizeof(dir), "%s/ebee-probe-%d", cg, getpid());
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	err = fd < 0 ? -errno : link_err(bpf_program__attach_cgroup(prog, fd));
	if (fd >= 0)
		close(fd);
	rmdir(dir);
	return err;
}

static int attach_perf(struct bpf_program *prog)
{
	struct perf_event_attr a = {
		.type = PERF_TYPE_SOFTWARE, .size = sizeof(a), .config = PERF_COUNT_SW_CPU_CLOCK,
		.sample_period = 1000000, .disabled = 1,
	};
	int pfd = syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC), err;

	if (pfd < 0)
		return -errno;
	err = link_err(bpf_program__attach_perf_event(prog, pfd));
	close(pfd);
	return err;
}

static int attach_kind(enum ebee_kind k, struct bpf_program *prog)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = "ebee_uprobe_probe_target");
	int fd;

	switch (k) {
	case KIND_UPROBE:
		return link_err(bpf_program__attach_uprobe_opts(prog, getpid(), "/proc/self/exe", 0, &uo));
	case KIND_TC:
	case KIND_XDP:
		return test_run(bpf_program__fd(prog));
	case KIND_TCX:
		/* fd-based link on lo, closed at once; the program passes every packet on. */
		fd = bpf_link_create(bpf_program__fd(prog), if_nametoindex("lo"), EBEE_BPF_TCX_INGRESS, NULL);
		if (fd < 0)
			return -errno;
		close(fd);
		return 0;
	case KIND_CGROUP_SKB:
	case KIND_CGROUP_SOCK_ADDR:
		return attach_cgroup(prog);
	case KIND_PERF_EVENT:
		return attach_perf(prog);
	default:
		return link_err(bpf_program__attach(prog));
	}
}

static void probe_one(enum ebee_kind k, struct ebee_probe *p)
{
	struct probe_bpf *skel = NULL;
	struct bpf_program *prog, *target = NULL;
	int err, fd;

	if (k == KIND_BPF_STATS) {
		fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (fd < 0) {
			fail(p, "enable", -errno);
			return;
		}
		close(fd);
		p->ok = true;
		snprintf(p->detail, sizeof(p->detail), "BPF_ENABLE_STATS");
		return;
	}
	skel = probe_bpf__open();
	if (!skel) {
		fail(p, "open", -errno);
		return;
	}
	bpf_object__for_each_program(prog, skel->obj) {
		bool me = !strcmp(bpf_program__name(prog), kinds[k].prog);

		bpf_program__set_autoload(prog, me);
		if (me)
			target = prog;
	}
	if (k != KIND_RINGBUF)   /* the ring buffer map is created only for its own probe */
		bpf_map__set_autocreate(skel->maps.probe_rb, false);
	err = probe_bpf__load(skel);
	if (err) {
		fail(p, "load", err);
		goto out;
	}
	err = attach_kind(k, target);
	if (err) {
		fail(p, k == KIND_TC || k == KIND_XDP ? "test run" : "attach", err);
		goto out;
	}
	p->ok = true;
	snprintf(p->detail, sizeof(p->detail), "%s",
		 k == KIND_TC || k == KIND_XDP ? "loaded and test-run (no device touched)" :
		 k == KIND_RINGBUF ? "map created, program loaded" : "loaded and attached");
out:
	probe_bpf__destroy(skel);
}

/* EBEE_DISABLE=tp_btf,raw_tp makes ebee behave as on a kernel without those kinds: how the
 * fallbacks are tested on a kernel that has everything. */
static bool disabled(enum ebee_kind k)
{
	const char *env = getenv("EBEE_DISABLE"), *p;
	size_t n = strlen(kinds[k].name);

	for (p = env; p && (p = strstr(p, kinds[k].name)); p += n)
		if ((p == env || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
	return false;
}

const struct ebee_probe *ebee_probe_kind(enum ebee_kind k)
{
	bool q;

	if (k >= KIND__COUNT)
		return &cache[0];
	if (!probed[k]) {
		q = ebee_log_libbpf_quiet(true);   /* failures here are answers, not errors */
		if (disabled(k)) {
			cache[k].err = -EOPNOTSUPP;
			snprintf(cache[k].detail, sizeof(cache[k].detail), "disabled by EBEE_DISABLE");
		} else if ((k == KIND_TRACEPOINT || k == KIND_RINGBUF || k == KIND_TASK_PT_REGS) &&
			   ebee_mount_tracefs())
			fail(&cache[k], "tracefs", -ENOENT);
		else
			probe_one(k, &cache[k]);
		ebee_log_libbpf_quiet(q);
		probed[k] = true;
		ebee_dbg("probe %s: %s (%s)", kinds[k].name, cache[k].ok ? "ok" : "no", cache[k].detail);
	}
	return &cache[k];
}

int ebee_first_usable(const struct ebee_hook *hk)
{
	for (int i = 0; i < EBEE_MAX_VARIANTS && hk->v[i].prog; i++)
		if (ebee_have(hk->v[i].kind))
			return i;
	return -1;
}

int ebee_choose(struct bpf_object *obj, const struct ebee_hook *hooks, int nhooks, int *chosen)
{
	for (int h = 0; h < nhooks; h++) {
		const struct ebee_hook *hk = &hooks[h];
		char why[400] = "";
		size_t n = 0;
		int *ch = &chosen[h];

		*ch = -1;
		for (int i = 0; i < EBEE_MAX_VARIANTS && hk->v[i].prog; i++) {
			struct bpf_program *p = hk->v[i].prog[0] ?
				bpf_object__find_program_by_name(obj, hk->v[i].prog) : NULL;
			const struct ebee_probe *pr;

			if (!p && hk->v[i].prog[0]) {
				ebee_err("internal: program '%s' not in the object", hk->v[i].prog);
				return -ENOENT;
			}
			if (*ch >= 0) {
				if (p)
					bpf_program__set_autoload(p, false);
				continue;
			}
			pr = ebee_probe_kind(hk->v[i].kind);
			if (pr->ok) {
				*ch = i;
				if (p)
					bpf_program__set_autoload(p, true);
				ebee_info("hook '%s': using %s", hk->name, ebee_kind_name(hk->v[i].kind));
			} else {
				if (p)
					bpf_program__set_autoload(p, false);
				n += snprintf(why + n, n < sizeof(why) ? sizeof(why) - n : 0, "%s%s (%s)",
					      n ? ", " : "", ebee_kind_name(hk->v[i].kind), pr->detail);
				if (n < sizeof(why))
					ebee_info("hook '%s': %s not usable here (%s), trying the next variant",
						  hk->name, ebee_kind_name(hk->v[i].kind), pr->detail);
			}
		}
		if (*ch < 0) {
			ebee_err("no way to attach to '%s' on this kernel: %s (see 'ebee doctor')", hk->name, why);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

int ebee_load_err(const char *what, int err)
{
	ebee_err("cannot load the '%s' BPF programs: %s%s", what, strerror(err < 0 ? -err : err),
		 ebee_verbosity() ? "" : " (run with -v for libbpf's detail and the verifier log)");
	return err < 0 ? err : -err;
}

static bool is_fs(const char *path, long magic)
{
	struct statfs s;

	return !statfs(path, &s) && (long)s.f_type == magic;
}

static int mount_fs(const char *type, const char *path, long magic)
{
	if (is_fs(path, magic))
		return 0;
	if (mount(type, path, type, 0, NULL)) {
		int err = -errno;

		ebee_err("%s is not mounted at '%s' and mounting it failed: %s (try: mount -t %s %s %s)",
			 type, path, strerror(-err), type, type, path);
		return err;
	}
	ebee_info("mounted %s at '%s'", type, path);
	return 0;
}

int ebee_mount_tracefs(void)
{
	/* libbpf looks at /sys/kernel/debug/tracing first when it exists, else /sys/kernel/tracing. */
	if (is_fs("/sys/kernel/debug/tracing", TRACEFS_MAGIC))
		return 0;
	return mount_fs("tracefs", "/sys/kernel/tracing", TRACEFS_MAGIC);
}

const char *ebee_tracefs_path(void)
{
	if (is_fs("/sys/kernel/tracing", TRACEFS_MAGIC))
		return "/sys/kernel/tracing";
	if (is_fs("/sys/kernel/debug/tracing", TRACEFS_MAGIC))
		return "/sys/kernel/debug/tracing";
	return NULL;
}

int ebee_mount_bpffs(void)
{
	return mount_fs("bpf", "/sys/fs/bpf", BPF_FS_MAGIC);
}

int ebee_mount_point(const char *fstype, char *buf, size_t len)
{
	char line[512], dev[64], dir[256], type[64];
	FILE *f = fopen("/proc/self/mounts", "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (err && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %255s %63s", dev, dir, type) == 3 && !strcmp(type, fstype)) {
			snprintf(buf, len, "%s", dir);
			err = 0;
		}
	}
	fclose(f);
	return err;
}

const char *ebee_cgroup2_path(void)
{
	static char path[256];
	static bool done;

	if (!done && ebee_mount_point("cgroup2", path, sizeof(path)))
		path[0] = 0;
	done = true;
	return path[0] ? path : NULL;
}

void ebee_skel_drop_elf(const struct bpf_object_skeleton *s)
{
	long pg = sysconf(_SC_PAGESIZE);
	uintptr_t a, b;

	if (!s || pg <= 0)
		return;
	/* only pages wholly inside the object: its neighbours may be relocated (written) data */
	a = ((uintptr_t)s->data + pg - 1) & ~(uintptr_t)(pg - 1);
	b = ((uintptr_t)s->data + s->data_sz) & ~(uintptr_t)(pg - 1);
	if (b > a)
		madvise((void *)a, b - a, MADV_DONTNEED);
}

int ebee_bump_memlock(void)
{
	/* Kernels >= 5.11 charge BPF memory to the memcg and ignore this limit; older ones need it. */
	struct rlimit r = { RLIM_INFINITY, RLIM_INFINITY };

	return setrlimit(RLIMIT_MEMLOCK, &r) ? -errno : 0;
}

int ebee_cgroup_id(const char *path, uint64_t *id)
{
	struct stat st;

	if (stat(path, &st)) {
		int err = -errno;

		ebee_err("cgroup '%s' not found: %s", path, strerror(-err));
		return err;
	}
	if (!S_ISDIR(st.st_mode) || !is_fs(path, CGROUP2_SUPER_MAGIC)) {
		ebee_err("'%s' is not a cgroup v2 directory (cgroup2 is mounted at '%s')", path,
			 ebee_cgroup2_path() ?: "nowhere");
		return -EINVAL;
	}
	*id = st.st_ino;   /* a cgroup2 directory's inode number is its cgroup id */
	return 0;
}

int ebee_stats_enable(bool *already)
{
	char c = '0';
	int fd = open("/proc/sys/kernel/bpf_stats_enabled", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, &c, 1) != 1)
			c = '0';
		close(fd);
	}
	if (already)
		*already = c == '1';
	fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	return fd < 0 ? -errno : fd;
}

int ebee_ncpus(void)
{
	int n = libbpf_num_possible_cpus();

	return n > 0 ? n : 1;
}

uint64_t ebee_percpu_sum(int map_fd, uint32_t key)
{
	int n = ebee_ncpus();
	uint64_t vals[n], sum = 0;   /* a few hundred CPUs at most: fine on the stack */

	if (bpf_map_lookup_elem(map_fd, &key, vals))
		return 0;
	for (int i = 0; i < n; i++)
		sum += vals[i];
	return sum;
}

uint64_t ebee_ring_settle(struct ring_buffer *rb, int drops_fd, const uint64_t *read,
			  int timeout_ms)
{
	uint64_t t0 = ebee_now_ns(), sent;

	for (;;) {
		ring_buffer__consume(rb);
		sent = ebee_percpu_sum(drops_fd, EBEE_SLOT_SUBMITTED);
		if (*read >= sent)
			return 0;
		if (ebee_now_ns() - t0 > (uint64_t)timeout_ms * 1000000)
			return sent - *read;
		usleep(1000);
	}
}

/* Capabilities from capget: effective set, both 32-bit words. */
bool ebee_have_cap(int cap)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { 0 };

	if (syscall(SYS_capget, &h, d))
		return false;
	return d[cap / 32].effective & (1u << (cap % 32));
}

int ebee_require(unsigned req)
{
	int err;

	if ((req & REQ_BPF) && !ebee_have_cap(CAP_SYS_ADMIN) &&
	    !(ebee_have_cap(38 /* CAP_PERFMON */) && ebee_have_cap(39 /* CAP_BPF */))) {
		ebee_err("this command needs root: CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN (try sudo)");
		return -EPERM;
	}
	if ((req & REQ_NETADM) && !ebee_have_cap(CAP_NET_ADMIN)) {
		ebee_err("this command needs CAP_NET_ADMIN (try sudo)");
		return -EPERM;
	}
	if ((req & REQ_BTF) && access("/sys/kernel/btf/vmlinux", R_OK)) {
		ebee_err("this kernel has no BTF at '/sys/kernel/btf/vmlinux': ebee needs CONFIG_DEBUG_INFO_BTF=y");
		return -ENOTSUP;
	}
	if (req & REQ_BPF)
		ebee_bump_memlock();
	if ((req & REQ_TRACEFS) && (err = ebee_mount_tracefs()))
		return err;
	if ((req & REQ_BPFFS) && (err = ebee_mount_bpffs()))
		return err;
	return 0;
}
