// SPDX-License-Identifier: BSD-2-Clause
/* The policy collector (core/collector.h): what `ebee policy apply` runs and what the daemon
 * runs from the registry. open reads, checks and compiles the policies and finds the workloads
 * on this host; start loads the tables, attaches and offers the verdict stream to `ebee policy
 * flows`; every verdict event is counted, kept among the newest for /api/policy, emitted to
 * subscribers, and (in the CLI) printed; stop detaches. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "core/collector.h"
#include "core/ebee.h"
#include "core/field.h"
#include "core/json.h"
#include "core/out.h"
#include "policy/enforce.h"
#include "policy/render.h"

#define POL_DIR_DEFAULT "/etc/ebee/policy"

int pol_load_cfg(const struct policy_cfg *cfg, struct pol_set *s)
{
	int err;

	if (!cfg->files.n) {
		ebee_err("no policy file given (use -f FILE)");
		return -EINVAL;
	}
	if (!cfg->workloads) {
		ebee_err("no workloads file given (use --workloads FILE)");
		return -EINVAL;
	}
	err = pol_load_file(s, cfg->workloads, true);
	for (int i = 0; i < cfg->files.n && !err; i++)
		err = pol_load_file(s, cfg->files.v[i], false);
	if (!err)
		err = pol_check(s);
	return err ? -EINVAL : 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The daemon's policies: DIR/workloads.yaml and every other DIR/ *.yaml, *.yml in name order. */
static int cfg_from_dir(struct pol_coll *pc, const struct policy_cfg *cfg)
{
	const char *dir = getenv("EBEE_POLICY_DIR") ?: cfg->dir;
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d) {
		ebee_err("policy directory '%s' not readable: %s (put NetworkPolicy YAML and workloads.yaml "
			 "there, or set EBEE_POLICY_DIR)", dir, strerror(errno));
		return -EINVAL;
	}
	pc->paths = calloc(OPT_LIST_MAX + 1, sizeof(*pc->paths));
	if (!pc->paths) {
		closedir(d);
		return -ENOMEM;
	}
	pc->dcfg = *cfg;
	snprintf(pc->paths[OPT_LIST_MAX], sizeof(pc->paths[0]), "%s/workloads.yaml", dir);
	pc->dcfg.workloads = pc->paths[OPT_LIST_MAX];
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);

		if (e->d_name[0] == '.' || !strcmp(e->d_name, "workloads.yaml") ||
		    !((l > 5 && !strcmp(e->d_name + l - 5, ".yaml")) || (l > 4 && !strcmp(e->d_name + l - 4, ".yml"))))
			continue;
		if (n == OPT_LIST_MAX) {
			ebee_err("too many policy files in '%s' (at most %d)", dir, OPT_LIST_MAX);
			closedir(d);
			return -EINVAL;
		}
		snprintf(pc->paths[n++], sizeof(pc->paths[0]), "%s/%s", dir, e->d_name);
	}
	closedir(d);
	qsort(pc->paths, n, sizeof(pc->paths[0]), by_name);
	pc->dcfg.files.n = n;
	for (int i = 0; i < n; i++)
		pc->dcfg.files.v[i] = pc->paths[i];
	if (!n) {
		ebee_err("no policy file in '%s' (NetworkPolicy YAML as *.yaml)", dir);
		return -EINVAL;
	}
	return 0;
}

static uint64_t secs_ns(double s, double dflt)
{
	return (uint64_t)((s > 0 ? s : dflt) * 1e9);
}

static int pcoll_open(struct collector *c)
{
	const struct policy_cfg *cfg = c->cfg;
	struct pol_coll *pc = c->priv;
	int err;

	pc->feed.lfd = -1;
	pol_register_event();
	if (!cfg->files.n && !cfg->workloads && cfg->dir) {
		err = cfg_from_dir(pc, cfg);
		if (err)
			return err;
		cfg = &pc->dcfg;
	}
	err = pol_load_cfg(cfg, &pc->s);
	if (!err)
		err = pol_compile(&pc->s, &pc->c) ? -EINVAL : 0;
	if (err)
		return err;
	pc->r.s = &pc->s;
	pc->r.c = &pc->c;
	pc->r.audit = cfg->audit;
	pc->r.interval = cfg->interval > 0 ? cfg->interval : 5.0;
	pc->r.to.tcp_ns = secs_ns(cfg->tcp_timeout, 21600);
	pc->r.to.other_ns = secs_ns(cfg->idle_timeout, 60);
	pc->r.to.close_ns = secs_ns(cfg->close_timeout, 10);
	pc->r.rt = calloc(pc->s.nwl ? pc->s.nwl : 1, sizeof(*pc->r.rt));
	pc->flows = calloc((pc->s.npol + 1) * 2 * 4, sizeof(*pc->flows));
	if (!pc->r.rt || !pc->flows)
		return -ENOMEM;
	c->lost_why = "verdict events, ring buffer full";
	return pol_resolve(&pc->s, pc->r.rt);
}

static void stream(struct collector *c, const char *line, size_t n)
{
	struct pol_coll *pc = c->priv;

	pol_feed_line(&pc->feed, line, n);
	if (c->out && c->ctx && c->ctx->json) {
		fwrite(line, 1, n, c->out->f);
		fflush(c->out->f);
	}
}

static void on_verdict(void *arg, const struct pol_event *e)
{
	struct collector *c = arg;
	struct pol_coll *pc = c->priv;
	bool json = c->ctx && c->ctx->json;

	pc->by_verdict[e->verdict & 3]++;
	if (e->report == POL_REP_NEW) {
		int p = pol_event_policy(&pc->s, &pc->c, e);

		pc->flows[((p < 0 ? pc->s.npol : p) * 2 + (e->init_dir & 1)) * 4 + (e->verdict & 3)]++;
	}
	pc->recent[pc->nrecent++ % POL_RECENT] = *e;
	collector_emit(c, &e->hdr);
	if (pol_feed_active(&pc->feed) || (c->out && json))
		stream(c, pc->line, pol_event_line(pc->line, sizeof(pc->line), &pc->s, &pc->c, e));
	if (c->out && !json) {
		pol_event_row(c->out, &pc->s, &pc->c, e);
		fflush(c->out->f);
	}
}

/* Events the ring could not take are told in the stream as they happen, like Hubble's
 * LostEvent, besides the summary's count. */
static void tell_lost(struct collector *c, bool warn)
{
	struct pol_coll *pc = c->priv;
	uint64_t lost = pol_lost(&pc->r);
	char ts[40];
	struct jw w;
	size_t n;

	c->cnt.events = pc->r.events;
	c->cnt.lost = lost;
	if (lost == pc->lost_told)
		return;
	jw_init_buf(&w, pc->line, sizeof(pc->line) - 1);
	jw_obj_begin(&w);
	jw_kstr(&w, "type", "lost_events");
	jw_kstr(&w, "time", ebee_fmt_time(ebee_ktime_to_real(ebee_now_ns()), ts, sizeof(ts)));
	jw_kstr(&w, "source", "RING_BUFFER");
	jw_ku64(&w, "num_events_lost", lost - pc->lost_told);
	jw_obj_end(&w);
	n = jw_finish(&w);
	pc->line[n++] = '\n';
	stream(c, pc->line, n);
	if (warn && !(c->ctx && c->ctx->json))
		ebee_warn("%llu verdict events lost (ring buffer full)",
			  (unsigned long long)(lost - pc->lost_told));
	pc->lost_told = lost;
}

static void on_tick(void *arg)
{
	struct collector *c = arg;
	struct pol_coll *pc = c->priv;

	tell_lost(c, true);
	/* the daemon's health says when a workload went (the others stay enforced) */
	for (int w = 0; w < pc->s.nwl && c->health == COLLECTOR_OK; w++)
		if (pc->r.rt[w].gone)
			collector_set_health(c, COLLECTOR_DEGRADED, "workload '%s/%s' disappeared",
					     pc->s.wl[w].ns, pc->s.wl[w].name);
}

static int pcoll_start(struct collector *c, struct ebee_loop *l)
{
	struct pol_coll *pc = c->priv;
	int err;

	pc->r.on_event = on_verdict;
	pc->r.on_tick = on_tick;
	pc->r.arg = c;
	err = pol_start(&pc->r, l);
	if (err)
		return err;
	pol_feed_open(&pc->feed, l);
	if (c->out && !(c->ctx && c->ctx->json)) {
		out_header(c->out);
		fflush(c->out->f);
	}
	ebee_info("enforcing %d policies on %d workloads%s", pc->s.npol, pc->s.nwl,
		  pc->r.audit ? " (audit)" : "");
	return 0;
}

static int pcoll_refresh(struct collector *c)
{
	struct pol_coll *pc = c->priv;

	c->cnt.events = pc->r.events;
	c->cnt.lost = pol_lost(&pc->r);
	pol_read_stats(&pc->r, pc->stats);
	return 0;
}

static void pcoll_stop(struct collector *c)
{
	struct pol_coll *pc = c->priv;

	pol_stop(&pc->r);
	if (pc->r.rb)
		ring_buffer__consume(pc->r.rb);   /* what was queued before the detach */
	if (pc->r.skel) {
		pol_ct_sweep(&pc->r);
		tell_lost(c, false);   /* the last losses into the stream; the summary warns */
	}
	pcoll_refresh(c);
}

static void pcoll_close(struct collector *c)
{
	struct pol_coll *pc = c->priv;

	pol_feed_close(&pc->feed);
	pol_close(&pc->r);
	free(pc->r.rt);
	pc->r.rt = NULL;
	free(pc->flows);
	free(pc->paths);
	pol_compiled_free(&pc->c);
	pol_set_free(&pc->s);
}

static void pcoll_summary(struct collector *c, struct jw *w)
{
	struct pol_coll *pc = c->priv;

	jw_ku64(w, "forwarded", pc->by_verdict[POL_FORWARDED]);
	jw_ku64(w, "dropped", pc->by_verdict[POL_DROPPED]);
	jw_ku64(w, "audit", pc->by_verdict[POL_AUDIT]);
	jw_ku64(w, "conntrack_entries", pc->r.ct_entries);
	jw_ku64(w, "conntrack_expired", pc->r.ct_expired);
}

static const char *const dir_names[2] = { "ingress", "egress" };

/* Labels are bounded: directions, verdicts, and the policies of the files (or ""). */
static void pcoll_metrics(struct collector *c, struct prom *p)
{
	struct pol_coll *pc = c->priv;
	char pol[300];

	prom_family(p, "ebee_policy_verdicts_total", "counter",
		    "Flows judged (one per new flow and workload side), by the direction the flow "
		    "started in, verdict, and the policy that allowed it or isolated the workload.");
	for (int i = 0; i <= pc->s.npol; i++)
		for (int d = 0; d < 2; d++)
			for (int v = POL_FORWARDED; v <= POL_AUDIT; v++) {
				uint64_t n = pc->flows[(i * 2 + d) * 4 + v];
				struct prom_label l[3] = { { "direction", dir_names[d] },
							   { "verdict", pol_verdict_names[v] },
							   { "policy", pol } };

				if (!n && (i == pc->s.npol || v == POL_AUDIT))
					continue;   /* keep the series set small */
				if (i < pc->s.npol)
					snprintf(pol, sizeof(pol), "%s/%s", pc->s.pol[i].ns, pc->s.pol[i].name);
				else
					pol[0] = 0;
				prom_u64(p, "ebee_policy_verdicts_total", l, 3, n);
			}
	prom_family(p, "ebee_policy_packets_total", "counter",
		    "Packets by their own direction and their flow's verdict (counted in the kernel).");
	for (int d = 0; d < 2; d++)
		for (int v = POL_FORWARDED; v <= POL_AUDIT; v++) {
			struct prom_label l[2] = { { "direction", dir_names[d] },
						   { "verdict", pol_verdict_names[v] } };

			prom_u64(p, "ebee_policy_packets_total", l, 2, pc->stats[POL_STAT(d, v)].pkts);
		}
	prom_family(p, "ebee_policy_bytes_total", "counter",
		    "Bytes by the packets' direction and their flow's verdict.");
	for (int d = 0; d < 2; d++)
		for (int v = POL_FORWARDED; v <= POL_AUDIT; v++) {
			struct prom_label l[2] = { { "direction", dir_names[d] },
						   { "verdict", pol_verdict_names[v] } };

			prom_u64(p, "ebee_policy_bytes_total", l, 2, pc->stats[POL_STAT(d, v)].bytes);
		}
	prom_family(p, "ebee_policy_events_total", "counter", "Verdict events read from the kernel.");
	prom_u64(p, "ebee_policy_events_total", NULL, 0, pc->r.events);
	prom_family(p, "ebee_policy_events_lost_total", "counter",
		    "Verdict events lost to a full ring buffer.");
	prom_u64(p, "ebee_policy_events_lost_total", NULL, 0, c->cnt.lost);
	prom_family(p, "ebee_policy_conntrack_entries", "gauge",
		    "Flows in the connection table at the last sweep.");
	prom_u64(p, "ebee_policy_conntrack_entries", NULL, 0, pc->r.ct_entries);
	prom_family(p, "ebee_policy_conntrack_expired_total", "counter",
		    "Connection table entries deleted after their timeout (closed or idle flows).");
	prom_u64(p, "ebee_policy_conntrack_expired_total", NULL, 0, pc->r.ct_expired);
	prom_family(p, "ebee_policy_workloads", "gauge", "Workloads enforced, and gone since.");
	{
		uint64_t gone = 0;
		struct prom_label l = { "state", "enforced" };

		for (int w = 0; w < pc->s.nwl; w++)
			gone += pc->r.rt[w].gone;
		prom_u64(p, "ebee_policy_workloads", &l, 1, pc->s.nwl - gone);
		l.v = "gone";
		prom_u64(p, "ebee_policy_workloads", &l, 1, gone);
	}
}

static void verdict_counts(struct jw *w, const uint64_t *by)
{
	jw_obj_begin(w);
	jw_ku64(w, "forwarded", by[POL_FORWARDED]);
	jw_ku64(w, "dropped", by[POL_DROPPED]);
	jw_ku64(w, "audit", by[POL_AUDIT]);
	jw_obj_end(w);
}

/* /api/policy: counters, policies with what they select and their flows, workloads with
 * their isolation, and the newest `top` verdicts (newest first). */
static void pcoll_api(struct collector *c, struct jw *w, size_t top)
{
	struct pol_coll *pc = c->priv;
	const struct pol_set *s = &pc->s;
	uint64_t n = pc->nrecent < POL_RECENT ? pc->nrecent : POL_RECENT;

	jw_kbool(w, "audit", pc->r.audit);
	jw_kf64(w, "interval_s", pc->r.interval);
	jw_key(w, "verdicts");
	verdict_counts(w, pc->by_verdict);
	jw_key(w, "packets");
	jw_obj_begin(w);
	for (int d = 0; d < 2; d++) {
		jw_key(w, dir_names[d]);
		jw_obj_begin(w);
		for (int v = POL_FORWARDED; v <= POL_AUDIT; v++)
			jw_ku64(w, pol_verdict_names[v], pc->stats[POL_STAT(d, v)].pkts);
		jw_obj_end(w);
	}
	jw_obj_end(w);
	jw_key(w, "conntrack");
	jw_obj_begin(w);
	jw_ku64(w, "entries", pc->r.ct_entries);
	jw_ku64(w, "expired", pc->r.ct_expired);
	jw_obj_end(w);
	jw_key(w, "policies");
	jw_arr_begin(w);
	for (int i = 0; i < s->npol; i++) {
		jw_obj_begin(w);
		jw_kstr(w, "namespace", s->pol[i].ns);
		jw_kstr(w, "name", s->pol[i].name);
		jw_key(w, "selects");
		jw_arr_begin(w);
		for (int k = 0; k < s->nwl; k++)
			if (pol_selects(s, &s->pol[i], &s->wl[k]))
				jw_str(w, s->wl[k].name);
		jw_arr_end(w);
		for (int d = 0; d < 2; d++) {
			jw_key(w, dir_names[d]);
			jw_obj_begin(w);
			/* its policyTypes: whether it isolates what it selects this way (d is enum pol_dir) */
			jw_kbool(w, "isolates", s->pol[i].type[d]);
			jw_key(w, "flows");
			verdict_counts(w, &pc->flows[(i * 2 + d) * 4]);
			jw_obj_end(w);
		}
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_key(w, "workloads");
	jw_arr_begin(w);
	for (int k = 0; k < s->nwl; k++) {
		jw_obj_begin(w);
		jw_kstr(w, "namespace", s->wl[k].ns);
		jw_kstr(w, "name", s->wl[k].name);
		jw_kstr(w, s->wl[k].netns[0] ? "netns" : "cgroup",
			s->wl[k].netns[0] ? s->wl[k].netns : pc->r.rt[k].cgpath);
		jw_kbool(w, "isolated_ingress", pol_isolated(s, k, POL_INGRESS));
		jw_kbool(w, "isolated_egress", pol_isolated(s, k, POL_EGRESS));
		jw_kbool(w, "gone", pc->r.rt[k].gone);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_key(w, "flows");
	jw_arr_begin(w);
	for (uint64_t i = 0; i < n && (!top || i < top); i++) {
		jw_obj_begin(w);
		pol_event_hubble(w, s, &pc->c, &pc->recent[(pc->nrecent - 1 - i) % POL_RECENT]);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

/* The daemon's event stream: the field table's members (filters read those names), then the
 * flow as Hubble shows it, with workload names and policies. */
static void pcoll_event_json(struct collector *c, struct jw *w, const struct ebee_event_hdr *ev)
{
	struct pol_coll *pc = c->priv;

	event_json(w, ev);
	if (ev->type != EV_POLICY_VERDICT || ev->size < sizeof(struct pol_event))
		return;
	jw_key(w, "flow");
	jw_obj_begin(w);
	pol_event_hubble(w, &pc->s, &pc->c, (const struct pol_event *)ev);
	jw_obj_end(w);
}

/* TCX where the kernel has it, else a clsact filter (netwatch/tc.c decides per interface);
 * cgroup_skb for cgroup workloads. */
static const struct ebee_hook policy_hooks[] = {
	{ "veth", { { "ebee_pol_from", KIND_TCX }, { "ebee_pol_from", KIND_TC } } },
	{ "veth_egress", { { "ebee_pol_to", KIND_TCX }, { "ebee_pol_to", KIND_TC } } },
	{ "cgroup_egress", { { "ebee_pol_cg_eg", KIND_CGROUP_SKB } } },
	{ "cgroup_ingress", { { "ebee_pol_cg_in", KIND_CGROUP_SKB } } },
};

/* The daemon enforces what POL_DIR_DEFAULT (or $EBEE_POLICY_DIR) holds. */
static const struct policy_cfg policy_daemon_cfg = { .interval = 5.0, .dir = POL_DIR_DEFAULT };

const struct collector_desc policy_collector = {
	.name = "policy",
	.what = "Kubernetes NetworkPolicy enforcement and verdicts",
	.hooks = policy_hooks,
	.nhooks = sizeof(policy_hooks) / sizeof(policy_hooks[0]),
	.prog_prefix = "ebee_pol_",
	.priv_size = sizeof(struct pol_coll),
	.cfg_size = sizeof(struct policy_cfg),
	.cfg_default = &policy_daemon_cfg,
	.opts = policy_apply_opts,
	.open = pcoll_open,
	.start = pcoll_start,
	.refresh = pcoll_refresh,
	.metrics = pcoll_metrics,
	.summary = pcoll_summary,
	.stop = pcoll_stop,
	.close = pcoll_close,
	.api = pcoll_api,
	.event_json = pcoll_event_json,
};
