// SPDX-License-Identifier: BSD-2-Clause
/* `ebee prog list|show|snapshot|diff`: what every loaded BPF program is and what it cost. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "commands.h"
#include "core/out.h"
#include "prog/collect.h"
#include "prog/progstat.h"
#include "prog/snap.h"

static enum out_fmt fmt_of(const struct ebee_ctx *ctx) { return ctx->json ? OUT_JSON : OUT_TABLE; }

/* Stats are not switched on for a one-shot read (they would be off again before anything
 * ran); --keep-stats turns the sysctl on for later reads. Says what the numbers mean. */
static int stats_note(bool keep)
{
	struct ps_stats st;
	int on = ps_stats_sysctl();

	if (keep)
		return ps_stats_on(&st, true);
	if (on == 1)
		ebee_info("bpf stats: on (kernel.bpf_stats_enabled=1)");
	else
		ebee_info("bpf stats: off unless a process holds a BPF_ENABLE_STATS fd: run_cnt/run_time_ns "
			  "only grow while stats are on (--keep-stats, or 'ebee top')");
	return 0;
}

/* ---- list ----------------------------------------------------------------------------- */

struct list_cfg {
	bool keep_stats;
	bool no_owners;
};

enum { L_ID, L_TYPE, L_NAME, L_TAG, L_ATTACH, L_LOADED, L_UID, L_MAPS, L_XLATED, L_JITED,
       L_RUNS, L_RUNTIME, L_AVG, L_MISSES, L_OWNERS, L_OWNERS_JSON, L_COLLECTOR, L__N };

static const struct out_col list_cols[L__N] = {
	[L_ID]      = { "id", "ID", OUT_U64, 6 },
	[L_TYPE]    = { "type", "TYPE", OUT_STR, -14 },
	[L_NAME]    = { "name", "NAME", OUT_STR, -16 },
	[L_TAG]     = { "tag", "TAG", OUT_STR, 0 },
	[L_ATTACH]  = { "attach", "ATTACH", OUT_STR, -34 },
	[L_LOADED]  = { "loaded_at", "LOADED_AT", OUT_STR, 0 },
	[L_UID]     = { "uid", "UID", OUT_U64, 0 },
	[L_MAPS]    = { "map_ids", "MAPS", OUT_RAW, 0 },
	[L_XLATED]  = { "xlated", "XLATED", OUT_U64, 0 },
	[L_JITED]   = { "jited", "JITED", OUT_U64, 7 },
	[L_RUNS]    = { "run_cnt", "RUNS", OUT_U64, 10 },
	[L_RUNTIME] = { "run_time_ns", "RUN_NS", OUT_U64, 12 },
	[L_AVG]     = { "avg_ns", "AVG_NS", OUT_F64, 8, 0 },
	[L_MISSES]  = { "recursion_misses", "MISSES", OUT_U64, 0 },
	[L_OWNERS]  = { "owners_text", "OWNERS", OUT_STR, -24 },
	[L_OWNERS_JSON] = { "owners", "OWNERS", OUT_RAW, 0 },
	[L_COLLECTOR] = { "collector", "COLLECTOR", OUT_STR, 0 },   /* JSON: ebee's own programs */
};

static void emit_prog(struct out *o, const struct ps_prog *p)
{
	char buf[OUT_CELL], t[40];

	out_u64(o, L_ID, p->id);
	out_str(o, L_TYPE, ps_type_name(p->type, buf, sizeof(buf)));
	out_str(o, L_NAME, p->name);
	out_str(o, L_TAG, p->tag);
	if (p->attach[0])
		out_str(o, L_ATTACH, p->attach);
	out_str(o, L_LOADED, ebee_fmt_time(ps_boot_to_real(p->load_time), t, sizeof(t)));
	out_u64(o, L_UID, p->uid);
	size_t n = snprintf(buf, sizeof(buf), "[");
	for (uint32_t i = 0; i < p->nr_map_ids && i < PS_MAX_MAPS && n < sizeof(buf); i++)
		n += snprintf(buf + n, sizeof(buf) - n, "%s%u", i ? "," : "", p->map_ids[i]);
	if (n < sizeof(buf))
		snprintf(buf + n, sizeof(buf) - n, "]");
	out_raw(o, L_MAPS, buf);
	out_u64(o, L_XLATED, p->xlated_len);
	out_u64(o, L_JITED, p->jited_len);
	out_u64(o, L_RUNS, p->run_cnt);
	out_u64(o, L_RUNTIME, p->run_time_ns);
	out_f64(o, L_AVG, p->run_cnt ? (double)p->run_time_ns / p->run_cnt : 0);
	out_u64(o, L_MISSES, p->recursion_misses);
	if (o->fmt == OUT_TABLE) {
		if (p->owners[0])
			out_str(o, L_OWNERS, p->owners);
	} else {
		ps_owners_json(p->owners, buf, sizeof(buf));
		out_raw(o, L_OWNERS_JSON, buf);
	}
	if (prog_collector_of(p))
		out_str(o, L_COLLECTOR, prog_collector_of(p));
	out_row(o);
}

static int list_run(struct ebee_ctx *ctx, void *cfgp, int argc, char **argv)
{
	struct list_cfg *cfg = cfgp;
	struct ps_set s = { 0 };
	struct out o;
	int n;

	if ((n = stats_note(cfg->keep_stats)) < 0)
		return n;
	n = ps_collect(&s, PS_LINKS | (cfg->no_owners ? 0 : PS_OWNERS));
	if (n < 0)
		goto out;
	out_init(&o, stdout, fmt_of(ctx), list_cols, L__N);
	out_hide(&o, o.fmt == OUT_TABLE ? L_OWNERS_JSON : L_OWNERS, true);
	if (cfg->no_owners)   /* not looked up: absent rather than empty */
		out_hide(&o, o.fmt == OUT_TABLE ? L_OWNERS : L_OWNERS_JSON, true);
	out_header(&o);
	for (int i = 0; i < s.n; i++)
		emit_prog(&o, &s.v[i]);
	n = 0;
out:
	ps_set_free(&s);
	ps_cleanup();
	return n;
}

static const struct opt list_opts[] = {
	{ "keep-stats", 0, OPT_FLAG, offsetof(struct list_cfg, keep_stats), NULL,
	  "turn kernel.bpf_stats_enabled on and leave it on, so counters grow from now on" },
	{ "no-owners", 0, OPT_FLAG, offsetof(struct list_cfg, no_owners), NULL,
	  "skip the /proc scan for the processes holding each program" },
	OPT_END,
};

static const struct opt_doc list_doc = {
	.synopsis = "[OPTIONS]",
	.description =
		"Lists every loaded BPF program, named or not: id, type, name, tag, attach point (from\n"
		"its links), load time, uid, maps, sizes, run count and run time with the average per\n"
		"run, and the processes holding it (from /proc/*/fd). Counters only grow while BPF\n"
		"run-time stats are on (kernel.bpf_stats_enabled, or a process such as 'ebee top'\n"
		"holding a BPF_ENABLE_STATS fd); -v says which.",
	.examples = "  ebee prog list\n  ebee prog list --json | jq 'select(.run_cnt > 0)'",
};

static const struct ebee_cmd prog_list_cmd = {
	.name = "list", .summary = "list loaded BPF programs with their run-time stats",
	.req = REQ_BPF, .run = list_run, .opts = list_opts, .cfg_size = sizeof(struct list_cfg),
	.doc = &list_doc, .min_pos = 0, .max_pos = 0,
};

/* ---- show ----------------------------------------------------------------------------- */

struct show_cfg {
	const char *source;
};

enum { S_ID, S_NAME, S_SOURCE, S_TYPE, S_TAG, S_RUNS, S_RUNTIME, S_AVG, S_MISSES, S_INSNS,
       S_ATTACH, S_OWNERS, S__N };

static const struct out_col show_cols[S__N] = {
	[S_ID]      = { "id", "ID", OUT_U64, 6 },
	[S_NAME]    = { "name", "NAME", OUT_STR, -16 },
	[S_SOURCE]  = { "source", "SOURCE", OUT_STR, -30 },
	[S_TYPE]    = { "type", "TYPE", OUT_STR, -14 },
	[S_TAG]     = { "tag", "TAG", OUT_STR, -16 },
	[S_RUNS]    = { "run_cnt", "RUNS", OUT_U64, 10 },
	[S_RUNTIME] = { "run_time_ns", "RUN_NS", OUT_U64, 12 },
	[S_AVG]     = { "avg_ns", "AVG_NS", OUT_F64, 8, 0 },
	[S_MISSES]  = { "recursion_misses", "MISSES", OUT_U64, 7 },
	[S_INSNS]   = { "verified_insns", "INSNS", OUT_U64, 7 },
	[S_ATTACH]  = { "attach", "ATTACH", OUT_STR, 0 },
	[S_OWNERS]  = { "owners", "OWNERS", OUT_RAW, 0 },
};

static void show_row(struct out *o, const struct ps_prog *p, const char *source, uint32_t type,
		     const char *tag, uint64_t runs, uint64_t ns, uint64_t misses, uint64_t insns)
{
	char buf[40];

	out_u64(o, S_ID, p->id);
	out_str(o, S_NAME, p->name);
	out_str(o, S_SOURCE, source);
	out_str(o, S_TYPE, ps_type_name(type, buf, sizeof(buf)));
	out_str(o, S_TAG, tag);
	out_u64(o, S_RUNS, runs);
	out_u64(o, S_RUNTIME, ns);
	out_f64(o, S_AVG, runs ? (double)ns / runs : 0);
	out_u64(o, S_MISSES, misses);
	out_u64(o, S_INSNS, insns);
	if (p->attach[0])
		out_str(o, S_ATTACH, p->attach);
	if (o->fmt == OUT_JSON) {
		char buf[OUT_CELL];
		ps_owners_json(p->owners, buf, sizeof(buf));
		out_raw(o, S_OWNERS, buf);
	}
	out_row(o);
}

static void show_fdinfo(struct out *o, const struct ps_prog *p, const char *source,
			const struct ps_fdinfo *fi)
{
	show_row(o, p, source, fi->prog_type, fi->tag, fi->run_cnt, fi->run_time_ns,
		 fi->recursion_misses, fi->verified_insns);
}

/* Reads one program through each source, back to back so that a busy program's counters move
 * as little as possible between the rows. */
static int show_one(struct out *o, uint32_t id, bool info, bool fdinfo)
{
	struct ps_prog p;
	struct ps_fdinfo self_fi;
	struct ps_owner_fd fds[8];
	int fd = bpf_prog_get_fd_by_id(id), err, nfds = 0;
	char src[48];

	if (fd < 0) {
		ebee_err("BPF program %u not found: %s", id, strerror(errno));
		return -ENOENT;
	}
	if ((err = ps_read_id(id, &p, PS_LINKS | PS_OWNERS))) {
		ebee_err("cannot read BPF program %u: %s", id, strerror(-err));
		goto out;
	}
	if (fdinfo)
		nfds = ps_owner_fds(id, fds, ARRAY_SIZE(fds));
	/* the reads that are compared: as close together as possible */
	struct bpf_prog_info bi;
	uint32_t len = sizeof(bi);
	memset(&bi, 0, sizeof(bi));
	if (bpf_obj_get_info_by_fd(fd, &bi, &len)) {
		err = -errno;
		ebee_err("cannot read BPF program %u: %s", id, strerror(errno));
		goto out;
	}
	if (fdinfo && (err = ps_read_fdinfo(0, fd, &self_fi))) {
		ebee_err("cannot read /proc/self/fdinfo/%d: %s", fd, strerror(-err));
		goto out;
	}
	if (info)
		show_row(o, &p, "info", bi.type, p.tag, bi.run_cnt, bi.run_time_ns, bi.recursion_misses,
			 bi.verified_insns);
	if (fdinfo) {
		show_fdinfo(o, &p, "fdinfo", &self_fi);
		for (int i = 0; i < nfds; i++) {
			struct ps_fdinfo fi;
			if (ps_read_fdinfo(fds[i].pid, fds[i].fd, &fi))
				continue;   /* the owner closed it meanwhile */
			snprintf(src, sizeof(src), "fdinfo %d/%s fd %d", fds[i].pid, fds[i].comm, fds[i].fd);
			show_fdinfo(o, &p, src, &fi);
		}
	}
	err = 0;
out:
	close(fd);
	return err;
}

static int show_run(struct ebee_ctx *ctx, void *cfgp, int argc, char **argv)
{
	struct show_cfg *cfg = cfgp;
	bool info = true, fdinfo = true;
	uint32_t ids[64];
	struct out o;
	int n, err = 0;

	if (!strcmp(cfg->source, "info"))
		fdinfo = false;
	else if (!strcmp(cfg->source, "fdinfo"))
		info = false;
	else if (strcmp(cfg->source, "all")) {
		ebee_err("invalid --source '%s' (info, fdinfo or all)", cfg->source);
		return -EINVAL;
	}
	stats_note(false);
	if ((n = ps_resolve(argv[0], ids, ARRAY_SIZE(ids))) < 0)
		return n == -EINVAL ? -EINVAL : n;
	out_init(&o, stdout, fmt_of(ctx), show_cols, S__N);
	out_header(&o);
	for (int i = 0; i < n && !err; i++)
		err = show_one(&o, ids[i], info, fdinfo);
	ps_cleanup();
	return err;
}

static const struct opt show_opts[] = {
	{ "source", 's', OPT_STR, offsetof(struct show_cfg, source), "SRC",
	  "where to read counters: info (BPF_OBJ_GET_INFO_BY_FD), fdinfo (/proc/PID/fdinfo) or all",
	  "all" },
	OPT_END,
};

static const struct show_cfg show_default = { .source = "all" };

static const struct opt_doc show_doc = {
	.synopsis = "[OPTIONS] ID|NAME|PINNED-PATH",
	.description =
		"Shows one program (or every program with that name) with its counters read through\n"
		"BPF_OBJ_GET_INFO_BY_FD and through /proc/PID/fdinfo — ebee's own fd and each fd the\n"
		"owning processes hold — one row per source, read back to back, so they can be compared.",
	.examples = "  ebee prog show 42\n  ebee prog show --source fdinfo count_sys_enter\n"
		    "  ebee prog show /sys/fs/bpf/my_prog",
};

static const struct ebee_cmd prog_show_cmd = {
	.name = "show", .summary = "one program's counters from BPF_OBJ_GET_INFO_BY_FD and fdinfo",
	.req = REQ_BPF, .run = show_run, .opts = show_opts, .cfg_size = sizeof(struct show_cfg),
	.cfg_default = &show_default, .doc = &show_doc, .min_pos = 1, .max_pos = 1,
};

/* ---- snapshot ------------------------------------------------------------------------- */

struct snapshot_cfg {
	bool keep_stats;
};

enum { N_FILE, N_PROGS, N_STATS, N__N };
static const struct out_col snapshot_cols[N__N] = {
	[N_FILE]  = { "file", "FILE", OUT_STR, -30 },
	[N_PROGS] = { "programs", "PROGRAMS", OUT_U64, 8 },
	[N_STATS] = { "stats_on", "STATS_ON", OUT_BOOL, 8 },
};

static int snapshot_run(struct ebee_ctx *ctx, void *cfgp, int argc, char **argv)
{
	struct snapshot_cfg *cfg = cfgp;
	struct snap s = { 0 };
	char tmp[4096];
	struct out o;
	FILE *f = NULL;
	int err;

	if ((err = stats_note(cfg->keep_stats)) < 0)
		return err;
	if (ps_stats_sysctl() != 1)
		ebee_warn("BPF stats are off (kernel.bpf_stats_enabled=0): counters will not grow until "
			  "they are on (--keep-stats turns them on)");
	if ((err = ps_collect(&s.set, 0)) < 0)
		goto out;
	snap_boot_id(s.boot_id, sizeof(s.boot_id));
	s.taken_real_ns = ebee_realtime_ns();
	/* written next to the target and renamed: a crash never leaves half a snapshot */
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", argv[0], getpid());
	f = fopen(tmp, "we");
	if (!f) {
		err = -errno;
		ebee_err("cannot write snapshot '%s': %s", argv[0], strerror(errno));
		goto out;
	}
	err = snap_write(f, &s);
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, argv[0]))
		err = -errno;
	if (err) {
		unlink(tmp);
		ebee_err("cannot write snapshot '%s': %s", argv[0], strerror(-err));
		goto out;
	}
	out_init(&o, stdout, fmt_of(ctx), snapshot_cols, N__N);
	out_header(&o);
	out_str(&o, N_FILE, argv[0]);
	out_u64(&o, N_PROGS, s.set.n);
	out_bool(&o, N_STATS, ps_stats_sysctl() == 1);
	out_row(&o);
out:
	snap_free(&s);
	return err;
}

static const struct opt snapshot_opts[] = {
	{ "keep-stats", 0, OPT_FLAG, offsetof(struct snapshot_cfg, keep_stats), NULL,
	  "turn kernel.bpf_stats_enabled on and leave it on until the diff" },
	OPT_END,
};

static const struct opt_doc snapshot_doc = {
	.synopsis = "[OPTIONS] FILE",
	.description =
		"Saves every program's run count and run time to FILE (JSON) for a later\n"
		"'ebee prog diff FILE', e.g. before and after a deploy. Counters grow only while stats\n"
		"are on in between: --keep-stats sets kernel.bpf_stats_enabled=1 (and leaves it).",
	.examples = "  ebee prog snapshot --keep-stats /tmp/before.json\n  ebee prog diff /tmp/before.json",
};

static const struct ebee_cmd prog_snapshot_cmd = {
	.name = "snapshot", .summary = "save every program's counters to a file",
	.req = REQ_BPF, .run = snapshot_run, .opts = snapshot_opts,
	.cfg_size = sizeof(struct snapshot_cfg), .doc = &snapshot_doc, .min_pos = 1, .max_pos = 1,
};

/* ---- diff ----------------------------------------------------------------------------- */

struct diff_cfg {
	bool all;
};

enum { D_ID, D_TYPE, D_NAME, D_STATUS, D_RUNS, D_NS, D_AVG, D__N };
static const struct out_col diff_cols[D__N] = {
	[D_ID]     = { "id", "ID", OUT_U64, 6 },
	[D_TYPE]   = { "type", "TYPE", OUT_STR, -14 },
	[D_NAME]   = { "name", "NAME", OUT_STR, -16 },
	[D_STATUS] = { "status", "STATUS", OUT_STR, -6 },
	[D_RUNS]   = { "d_run_cnt", "RUNS", OUT_U64, 12 },
	[D_NS]     = { "d_run_time_ns", "RUN_NS", OUT_U64, 14 },
	[D_AVG]    = { "avg_ns", "AVG_NS", OUT_F64, 8, 0 },
};

static int cmp_delta(const void *a, const void *b)
{
	const struct snap_delta *x = a, *y = b;
	if (x->d_ns != y->d_ns)
		return x->d_ns > y->d_ns ? -1 : 1;
	uint32_t ix = x->now ? x->now->id : x->then->id, iy = y->now ? y->now->id : y->then->id;
	return ix < iy ? -1 : ix > iy;
}

static int diff_run(struct ebee_ctx *ctx, void *cfgp, int argc, char **argv)
{
	struct diff_cfg *cfg = cfgp;
	struct snap then = { 0 };
	struct ps_set now = { 0 };
	struct snap_delta *d = NULL;
	char boot[40], buf[40];
	struct out o;
	int n, err;

	if ((err = snap_read(argv[0], &then)))
		return err == -EPROTO || err == -EINVAL ? -EBADMSG : err;   /* bad content: not a usage error */
	if (then.boot_id[0] && strcmp(then.boot_id, snap_boot_id(boot, sizeof(boot))))
		ebee_warn("snapshot '%s' was taken before the last boot: every program counts as new", argv[0]);
	if ((err = ps_collect(&now, 0)) < 0)
		goto out;
	if (ps_stats_sysctl() != 1)
		ebee_info("bpf stats are off now (kernel.bpf_stats_enabled=0): counters grew only while a "
			  "process held them on");
	if ((n = snap_diff(&then.set, &now, &d)) < 0) {
		err = n;
		goto out;
	}
	qsort(d, n, sizeof(*d), cmp_delta);
	out_init(&o, stdout, fmt_of(ctx), diff_cols, D__N);
	out_header(&o);
	for (int i = 0; i < n; i++) {
		const struct ps_prog *p = d[i].now ? d[i].now : d[i].then;
		if (!cfg->all && d[i].status == SNAP_SAME && d[i].d_runs == 0)
			continue;
		out_u64(&o, D_ID, p->id);
		out_str(&o, D_TYPE, ps_type_name(p->type, buf, sizeof(buf)));
		out_str(&o, D_NAME, p->name);
		out_str(&o, D_STATUS, snap_status_name(d[i].status));
		if (d[i].status != SNAP_GONE) {
			out_u64(&o, D_RUNS, d[i].d_runs);
			out_u64(&o, D_NS, d[i].d_ns);
			out_f64(&o, D_AVG, d[i].d_runs ? (double)d[i].d_ns / d[i].d_runs : 0);
		}
		out_row(&o);
	}
	err = 0;
out:
	free(d);
	ps_set_free(&now);
	snap_free(&then);
	return err;
}

static const struct opt diff_opts[] = {
	{ "all", 'a', OPT_FLAG, offsetof(struct diff_cfg, all), NULL,
	  "also list programs that did not run since the snapshot" },
	OPT_END,
};

static const struct opt_doc diff_doc = {
	.synopsis = "[OPTIONS] FILE",
	.description =
		"Compares a snapshot from 'ebee prog snapshot' with the programs loaded now: per program\n"
		"Δruns, Δrun time and ns per run since the snapshot, costliest first. Programs loaded\n"
		"since are 'new' (their whole counters), programs unloaded since are 'gone'; an id that\n"
		"was reused by another program (other tag or load time) counts as gone plus new.",
	.examples = "  ebee prog diff /tmp/before.json\n  ebee prog diff --json /tmp/before.json",
};

static const struct ebee_cmd prog_diff_cmd = {
	.name = "diff", .summary = "what each program ran since a snapshot",
	.req = REQ_BPF, .run = diff_run, .opts = diff_opts, .cfg_size = sizeof(struct diff_cfg),
	.doc = &diff_doc, .min_pos = 1, .max_pos = 1,
};

/* ---- the group ------------------------------------------------------------------------ */

static const struct ebee_cmd *const prog_subs[] = {
	&prog_list_cmd, &prog_show_cmd, &prog_snapshot_cmd, &prog_diff_cmd, NULL,
};

static const struct opt_doc prog_doc = {
	.synopsis = "list|show|snapshot|diff ...",
	.description = "Loaded BPF programs and what they cost (see also 'ebee top', 'ebee bench').",
};

const struct ebee_cmd prog_cmd = {
	.name = "prog", .summary = "loaded BPF programs: list, show, snapshot, diff",
	.doc = &prog_doc, .sub = prog_subs,
};
