// SPDX-License-Identifier: BSD-2-Clause
/* ebee doctor: what this kernel offers ebee, checked by loading and attaching tiny programs. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <linux/capability.h>
#include "core/cmd.h"
#include "core/load.h"
#include "core/out.h"

enum { C_SECTION, C_CHECK, C_OK, C_STATUS, C_DETAIL, C__N };

static const struct out_col cols[C__N] = {
	[C_SECTION] = { "section", "SECTION", OUT_STR, -9 },
	[C_CHECK]   = { "check", "CHECK", OUT_STR, -17 },
	[C_OK]      = { "ok", "OK", OUT_BOOL, 0 },
	[C_STATUS]  = { "status", "STATUS", OUT_STR, -8 },
	[C_DETAIL]  = { "detail", "DETAIL", OUT_STR, -60 },
};

struct report {
	struct out out;
	int missing_required;
};

static void row(struct report *r, const char *section, const char *check, bool ok, bool required,
		const char *detail)
{
	out_str(&r->out, C_SECTION, section);
	out_str(&r->out, C_CHECK, check);
	out_bool(&r->out, C_OK, ok);
	out_str(&r->out, C_STATUS, ok ? "ok" : required ? "MISSING" : "no");
	out_str(&r->out, C_DETAIL, detail);
	out_row(&r->out);
	if (!ok && required)
		r->missing_required++;
}

static void read_line(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\n")] = 0;
}

static void kernel_checks(struct report *r)
{
	struct utsname u;
	char buf[256], detail[300];
	const char *p;
	bool mounted_sec = false;

	uname(&u);
	row(r, "kernel", "release", true, false, u.release);
	row(r, "kernel", "btf", !access("/sys/kernel/btf/vmlinux", R_OK), true,
	    "/sys/kernel/btf/vmlinux (CO-RE relocations, tp_btf)");

	snprintf(detail, sizeof(detail), "CAP_SYS_ADMIN %s, CAP_BPF %s, CAP_PERFMON %s, CAP_NET_ADMIN %s",
		 ebee_have_cap(CAP_SYS_ADMIN) ? "yes" : "no", ebee_have_cap(39) ? "yes" : "no",
		 ebee_have_cap(38) ? "yes" : "no", ebee_have_cap(CAP_NET_ADMIN) ? "yes" : "no");
	row(r, "privilege", "capabilities", ebee_have_cap(CAP_SYS_ADMIN) || (ebee_have_cap(38) && ebee_have_cap(39)), true, detail);
	read_line("/proc/sys/kernel/unprivileged_bpf_disabled", buf, sizeof(buf));
	snprintf(detail, sizeof(detail), "kernel.unprivileged_bpf_disabled = %s", buf[0] ? buf : "?");
	row(r, "privilege", "unprivileged_bpf", true, false, detail);

	/* lockdown lives in securityfs; mount it for the read when nothing has. */
	if (access("/sys/kernel/security/lockdown", R_OK) &&
	    !mount("securityfs", "/sys/kernel/security", "securityfs", 0, NULL))
		mounted_sec = true;
	read_line("/sys/kernel/security/lockdown", buf, sizeof(buf));
	if (mounted_sec)
		umount("/sys/kernel/security");
	if (!buf[0])
		snprintf(buf, sizeof(buf), "unknown (no lockdown LSM, or securityfs unavailable)");
	row(r, "privilege", "lockdown", !strstr(buf, "[confidentiality]"), false, buf);

	p = ebee_tracefs_path();
	row(r, "mount", "tracefs", p != NULL, false,
	    p ? p : "not mounted; ebee mounts it at /sys/kernel/tracing when a command needs it");
	p = ebee_cgroup2_path();
	row(r, "mount", "cgroup2", p != NULL, false, p ? p : "not mounted: --cgroup filters and cgroup hooks unavailable");
	if (ebee_mount_point("bpf", buf, sizeof(buf)))
		buf[0] = 0;
	row(r, "mount", "bpffs", buf[0], false,
	    buf[0] ? buf : "not mounted; ebee mounts it at /sys/fs/bpf when a command needs pins");
	read_line("/proc/sys/kernel/bpf_stats_enabled", buf, sizeof(buf));
	snprintf(detail, sizeof(detail), "kernel.bpf_stats_enabled = %s (ebee holds a BPF_ENABLE_STATS fd instead)",
		 buf[0] ? buf : "?");
	row(r, "kernel", "bpf_stats_sysctl", true, false, detail);
}

/* Each program type / attach kind, loaded and attached for real. Required: what ebee's core
 * cannot do without. */
static void kind_checks(struct report *r)
{
	static const struct {
		enum ebee_kind k;
		bool required;
	} kinds[] = {
		{ KIND_RINGBUF, true }, { KIND_TRACEPOINT, true }, { KIND_RAW_TP, false },
		{ KIND_TP_BTF, false }, { KIND_KPROBE, false }, { KIND_FENTRY, false }, { KIND_LSM, false },
		{ KIND_UPROBE, false }, { KIND_TC, false }, { KIND_TCX, false }, { KIND_XDP, false },
		{ KIND_CGROUP_SKB, false }, { KIND_CGROUP_SOCK_ADDR, false }, { KIND_PERF_EVENT, false },
		{ KIND_BPF_STATS, false },
	};

	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		const struct ebee_probe *p = ebee_probe_kind(kinds[i].k);

		row(r, "bpf", ebee_kind_name(kinds[i].k), p->ok, kinds[i].required, p->detail);
	}
}

/* Which features work and through which fallback: the first usable kind of each list. */
static void feature_checks(struct report *r)
{
	static const struct {
		const char *feature;
		const char *what;
		enum ebee_kind kinds[4];
		int n;
	} feats[] = {
		{ "count", "syscall counters", { KIND_TP_BTF, KIND_RAW_TP, KIND_TRACEPOINT }, 3 },
		{ "tcp", "TCP state tracking", { KIND_TP_BTF, KIND_TRACEPOINT }, 2 },
		{ "netwatch", "ingress monitoring", { KIND_TCX, KIND_TC }, 2 },
		{ "uprobe", "user function tracing", { KIND_UPROBE }, 1 },
		{ "prog", "BPF program profiling", { KIND_BPF_STATS }, 1 },
		{ "enforce", "security enforcement", { KIND_LSM, KIND_CGROUP_SOCK_ADDR, KIND_TRACEPOINT }, 3 },
		{ "netpolicy", "network policy", { KIND_CGROUP_SKB, KIND_TCX, KIND_TC }, 3 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(feats); i++) {
		char detail[300];
		int used = -1;
		size_t n = 0;

		for (int j = 0; j < feats[i].n && used < 0; j++)
			if (ebee_have(feats[i].kinds[j]))
				used = j;
		if (used < 0)
			n = snprintf(detail, sizeof(detail), "%s unavailable: none of", feats[i].what);
		else
			n = snprintf(detail, sizeof(detail), "%s via %s", feats[i].what,
				     ebee_kind_name(feats[i].kinds[used]));
		if (used > 0) {
			n += snprintf(detail + n, sizeof(detail) - n, " (not");
			for (int j = 0; j < used; j++)
				n += snprintf(detail + n, sizeof(detail) - n, " %s",
					      ebee_kind_name(feats[i].kinds[j]));
			n += snprintf(detail + n, sizeof(detail) - n, ": unavailable here)");
		}
		if (used < 0)
			for (int j = 0; j < feats[i].n; j++)
				n += snprintf(detail + n, sizeof(detail) - n, " %s", ebee_kind_name(feats[i].kinds[j]));
		row(r, "feature", feats[i].feature, used >= 0, false, detail);
	}
}

static int doctor_run(struct ebee_ctx *ctx, void *cfg, int argc, char **argv)
{
	struct report r = { 0 };

	out_init(&r.out, stdout, ctx->json ? OUT_JSON : OUT_TABLE, cols, C__N);
	kernel_checks(&r);
	kind_checks(&r);
	feature_checks(&r);
	fflush(stdout);
	if (r.missing_required) {
		ebee_err("%d required check%s failed: ebee cannot run here", r.missing_required,
			 r.missing_required > 1 ? "s" : "");
		return -ENOTSUP;
	}
	return 0;
}

static const struct opt_doc doctor_doc = {
	.synopsis = "[OPTIONS]",
	.description =
		"Checks what this kernel offers ebee, for real: every program type and attach kind\n"
		"ebee may use is loaded (and attached where that touches nothing shared: packet\n"
		"programs are test-run instead), then each feature is shown with the attach kind it\n"
		"will use and the fallbacks it skipped. Also BTF, capabilities, lockdown, and where\n"
		"tracefs, bpffs and cgroup2 are mounted. Exit 0 when everything ebee requires is\n"
		"there (MISSING marks what is not).",
	.examples = "  ebee doctor\n  ebee doctor --json | jq 'select(.ok == false)'",
};

const struct ebee_cmd doctor_cmd = {
	.name = "doctor",
	.summary = "check what this kernel offers ebee and which fallbacks features use",
	.req = REQ_BPF,
	.run = doctor_run,
	.doc = &doctor_doc,
	.max_pos = 0,
};
