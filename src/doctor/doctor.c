// SPDX-License-Identifier: BSD-2-Clause
/* ebee doctor: what this kernel offers ebee, checked by loading and attaching tiny programs. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <linux/capability.h>
#include "core/priv.h"
#include "core/cmd.h"
#include "core/collector.h"
#include "core/json.h"
#include "core/load.h"
#include "core/out.h"
#include "enforce/enforcer.h"

enum { C_SECTION, C_CHECK, C_OK, C_STATUS, C_DETAIL, C_HOOKS, C__N };

static const struct out_col cols[C__N] = {
	[C_SECTION] = { "section", "SECTION", OUT_STR, -9 },
	[C_CHECK]   = { "check", "CHECK", OUT_STR, -17 },
	[C_OK]      = { "ok", "OK", OUT_BOOL, 0 },
	[C_STATUS]  = { "status", "STATUS", OUT_STR, -8 },
	[C_DETAIL]  = { "detail", "DETAIL", OUT_STR, -60 },
	/* features: [{"hook", "kind" (the one used, null if none), "variants" (in order)}] */
	[C_HOOKS]   = { "hooks", "HOOKS", OUT_NEST, 0 },
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

	/* Not mainline: a sandbox kernel's switch (docs/hardening.md). When on, bpf_trace_run*
	 * and trace_call_bpf skip every program PID 1 did not load while a thread of PID 1 is
	 * current (softirq work on top of it too), before the recursion guard: no `missed`. */
	read_line("/proc/sys/kernel/init_private", buf, sizeof(buf));
	if (buf[0]) {
		bool on = !strcmp(buf, "1");

		snprintf(detail, sizeof(detail), "kernel.init_private = %s%s", buf,
			 on ? ": events while PID 1 runs (softirq on top of it too) reach no ebee "
			      "program and are not counted" : "");
		row(r, "kernel", "init_private", !on, false, detail);
	}
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
		{ KIND_BPF_STATS, false }, { KIND_ITER, false }, { KIND_TASK_PT_REGS, false },
	};

	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		const struct ebee_probe *p = ebee_probe_kind(kinds[i].k);

		row(r, "bpf", ebee_kind_name(kinds[i].k), p->ok, kinds[i].required, p->detail);
	}
}

/* Which features work and through which fallback: the registry's collectors, each hook's
 * first usable variant and the ones skipped before it, from the same hook tables loading uses
 * (so doctor cannot list a feature or a fallback ebee does not have). */
static void feature_checks(struct report *r)
{
	for (const struct collector_desc *const *d = ebee_collectors; *d; d++) {
		char detail[640];
		size_t n = snprintf(detail, sizeof(detail), "%s", (*d)->what);
		bool ok = true;
		struct jw *w = out_nest(&r->out, C_HOOKS);

		jw_arr_begin(w);
		for (int h = 0; h < (*d)->nhooks; h++) {
			const struct ebee_hook *hk = &(*d)->hooks[h];
			int used = ebee_first_usable(hk);

			ok &= used >= 0;
			jw_obj_begin(w);
			jw_kstr(w, "hook", hk->name);
			jw_key(w, "kind");
			if (used >= 0)
				jw_str(w, ebee_kind_name(hk->v[used].kind));
			else
				jw_null(w);
			jw_key(w, "variants");
			jw_arr_begin(w);
			for (int i = 0; i < EBEE_MAX_VARIANTS && hk->v[i].prog; i++)
				jw_str(w, ebee_kind_name(hk->v[i].kind));
			jw_arr_end(w);
			jw_obj_end(w);

			if ((*d)->nhooks > 1)
				n += snprintf(detail + n, n < sizeof(detail) ? sizeof(detail) - n : 0,
					      "%s %s", h ? ";" : ":", hk->name);
			if (used >= 0)
				n += snprintf(detail + n, n < sizeof(detail) ? sizeof(detail) - n : 0,
					      " via %s", ebee_kind_name(hk->v[used].kind));
			else
				n += snprintf(detail + n, n < sizeof(detail) ? sizeof(detail) - n : 0,
					      " unavailable: none of");
			/* The variants skipped (all of them when none is usable). */
			for (int i = 0; i < EBEE_MAX_VARIANTS && hk->v[i].prog && (used < 0 || i < used); i++)
				n += snprintf(detail + n, n < sizeof(detail) ? sizeof(detail) - n : 0, "%s%s",
					      used < 0 ? " " : i ? " " : " (not ", ebee_kind_name(hk->v[i].kind));
			if (used > 0)
				n += snprintf(detail + n, n < sizeof(detail) ? sizeof(detail) - n : 0,
					      ": unavailable here)");
		}
		jw_arr_end(w);
		if ((*d)->doctor && n < sizeof(detail)) {
			char extra[200];

			ok &= (*d)->doctor(extra, sizeof(extra));
			snprintf(detail + n, sizeof(detail) - n, "; %s", extra);
		}
		row(r, "feature", (*d)->name, ok, false, detail);
	}
}

/* What ebee holds now, and what each collector keeps once a long-running command (serve,
 * netwatch, guard run) has attached and dropped the rest (core/priv.h). */
static void priv_checks(struct report *r)
{
	uint64_t eff = 0, prm = 0, bnd = 0;
	char buf[512], detail[600];

	if (!ebee_caps_read(&eff, &prm, &bnd)) {
		/* root holds all of them: say so rather than list forty names */
		if (eff == bnd && __builtin_popcountll(eff) > 32)
			snprintf(detail, sizeof(detail), "effective: all %d of the bounding set",
				 __builtin_popcountll(eff));
		else
			snprintf(detail, sizeof(detail), "effective %s", ebee_caps_fmt(eff, buf, sizeof(buf)));
		row(r, "privilege", "caps_now", true, false, detail);
	}
	for (const struct collector_desc *const *d = ebee_collectors; *d; d++) {
		char check[64];

		snprintf(check, sizeof(check), "after_attach:%s", (*d)->name);
		if ((*d)->caps_run)
			snprintf(detail, sizeof(detail), "keeps %s once attached (the rest dropped, no_new_privs)",
				 ebee_caps_fmt((*d)->caps_run & ~(1ULL << 63), buf, sizeof(buf)));
		else
			snprintf(detail, sizeof(detail), "not declared: a daemon running it keeps every capability");
		row(r, "privilege", check, true, false, detail);
	}
}

/* Enforcement: the live level per action kind (lsm, cgroup, signal or audit), the LSM level
 * only after its canary passed. */
static void enforce_row(void *arg, const char *kind, const char *level, const char *detail)
{
	char d[600];

	snprintf(d, sizeof(d), "%s: %s (%s)", kind, level, detail);
	row(arg, "enforce", kind, true, false, d);
}

static int doctor_run(struct ebee_ctx *ctx, void *cfg, int argc, char **argv)
{
	struct report r = { 0 };

	out_init(&r.out, stdout, ctx->json ? OUT_JSON : OUT_TABLE, cols, C__N);
	kernel_checks(&r);
	kind_checks(&r);
	feature_checks(&r);
	priv_checks(&r);
	enforce_doctor_levels(enforce_row, &r);
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
