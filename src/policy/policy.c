// SPDX-License-Identifier: BSD-2-Clause
/* `ebee policy apply|check`: Kubernetes NetworkPolicy enforced with BPF on netns and cgroup
 * workloads, every verdict reported (aggregated per flow in the kernel). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <json-c/json.h>

#include "core/cmd.h"
#include "core/collector.h"
#include "core/json.h"
#include "core/loop.h"
#include "core/out.h"
#include "policy/enforce.h"
#include "policy/feed.h"
#include "policy/whatif.h"

static const struct policy_cfg policy_defaults = { .interval = 5.0 };

#define POLICY_FILE_OPTS \
	{ "file", 'f', OPT_LIST, offsetof(struct policy_cfg, files), "FILE", \
	  "NetworkPolicy YAML (repeatable; several documents per file)" }, \
	{ "workloads", 'w', OPT_STR, offsetof(struct policy_cfg, workloads), "FILE", \
	  "workloads and namespaces YAML (required)" }

static const struct opt apply_opts[] = {
	POLICY_FILE_OPTS,
	{ "audit", 0, OPT_FLAG, offsetof(struct policy_cfg, audit), NULL,
	  "drop nothing: report AUDIT for what would be dropped" },
	{ "interval", 'i', OPT_SECONDS, offsetof(struct policy_cfg, interval), "SECONDS",
	  "at most one event per flow per SECONDS (besides new flows and TCP flags)", "5s", 0.01, 3600 },
	{ "duration", 'd', OPT_SECONDS, offsetof(struct policy_cfg, duration), "SECONDS",
	  "stop after SECONDS (0 = until Ctrl-C)", "0", 0, 1e9 },
	OPT_END,
};

static const struct opt check_opts[] = { POLICY_FILE_OPTS, OPT_END };

static const struct opt whatif_opts[] = {
	POLICY_FILE_OPTS,
	{ "flows", 0, OPT_STR, offsetof(struct policy_cfg, flows), "FILE",
	  "recorded flows: JSON lines of 'ebee policy apply --json' (- = stdin; required)" },
	OPT_END,
};

/* ---- check ---- */

enum { K_KIND, K_NS, K_NAME, K_SELECTS, K_INGRESS, K_EGRESS, K__N };
static const struct out_col check_cols[] = {
	[K_KIND] = { "kind", "KIND", OUT_STR, -9 },
	[K_NS] = { "namespace", "NAMESPACE", OUT_STR, -12 },
	[K_NAME] = { "name", "NAME", OUT_STR, -20 },
	[K_SELECTS] = { "selects", "SELECTS/SELECTED BY", OUT_STR, -40 },
	[K_INGRESS] = { "ingress", "INGRESS", OUT_STR, -9 },
	[K_EGRESS] = { "egress", "EGRESS", OUT_STR, -9 },
};

static void join(char *buf, size_t cap, const char *ns, const char *name)
{
	size_t n = strlen(buf);

	snprintf(buf + n, cap - n, "%s%s/%s", n ? "," : "", ns, name);
}

static int check_run(struct ebee_ctx *ctx, void *vcfg, int argc, char **argv)
{
	struct policy_cfg *cfg = vcfg;
	struct pol_set s = { 0 };
	struct pol_compiled c;
	struct out o;
	int err;

	err = pol_load_cfg(cfg, &s);
	if (!err)
		err = pol_compile(&s, &c);   /* the limits (rules, ports per workload) too */
	if (err) {
		pol_set_free(&s);
		return -EINVAL;
	}
	pol_compiled_free(&c);
	out_init(&o, stdout, ctx->json ? OUT_JSON : OUT_TABLE, check_cols, K__N);
	out_header(&o);
	for (int i = 0; i < s.npol; i++) {
		char sel[OUT_CELL] = "";

		for (int w = 0; w < s.nwl; w++)
			if (pol_selects(&s, &s.pol[i], &s.wl[w]))
				join(sel, sizeof(sel), s.wl[w].ns, s.wl[w].name);
		out_str(&o, K_KIND, "policy");
		out_str(&o, K_NS, s.pol[i].ns);
		out_str(&o, K_NAME, s.pol[i].name);
		out_str(&o, K_SELECTS, sel[0] ? sel : "(none)");
		out_str(&o, K_INGRESS, s.pol[i].type[POL_INGRESS] ? "yes" : "no");
		out_str(&o, K_EGRESS, s.pol[i].type[POL_EGRESS] ? "yes" : "no");
		out_row(&o);
	}
	for (int w = 0; w < s.nwl; w++) {
		char by[OUT_CELL] = "";

		for (int i = 0; i < s.npol; i++)
			if (pol_selects(&s, &s.pol[i], &s.wl[w]))
				join(by, sizeof(by), s.pol[i].ns, s.pol[i].name);
		out_str(&o, K_KIND, "workload");
		out_str(&o, K_NS, s.wl[w].ns);
		out_str(&o, K_NAME, s.wl[w].name);
		out_str(&o, K_SELECTS, by[0] ? by : "(none)");
		for (int d = 0; d < 2; d++)
			out_str(&o, d ? K_EGRESS : K_INGRESS, pol_isolated(&s, w, d) ? "isolated" : "open");
		out_row(&o);
	}
	pol_set_free(&s);
	return 0;
}

static const struct opt flows_opts[] = {
	{ "pid", 'p', OPT_INT, offsetof(struct policy_cfg, pid), "PID",
	  "follow the apply with this pid (default: the newest)", "0", 0, 1 << 22 },
	{ "duration", 'd', OPT_SECONDS, offsetof(struct policy_cfg, duration), "SECONDS",
	  "stop after SECONDS (0 = until Ctrl-C or the apply ends)", "0", 0, 1e9 },
	OPT_END,
};

/* ---- whatif ---- */

static int whatif_run(struct ebee_ctx *ctx, void *vcfg, int argc, char **argv)
{
	struct policy_cfg *cfg = vcfg;
	struct pol_set s = { 0 };
	int err, ndrop = 0;

	if (!cfg->flows) {
		ebee_err("no recorded flows given (use --flows FILE)");
		return -EINVAL;
	}
	err = pol_load_cfg(cfg, &s);
	if (!err)
		err = pol_whatif(&s, cfg->flows, ctx->json, &ndrop);
	if (!err && !ctx->json)
		fprintf(stderr, "%d recorded connection%s would be dropped\n", ndrop, ndrop == 1 ? "" : "s");
	pol_set_free(&s);
	return err;
}

/* ---- apply: the verdict stream ---- */

static const char *const verdict_names[] = { "?", "FORWARDED", "DROPPED", "AUDIT" };
static const char *const report_names[] = { "?", "new", "flags", "interval" };

struct apply_state {
	struct ebee_ctx *ctx;
	struct pol_set *s;
	struct pol_compiled *c;
	struct out o;
	struct jw jw;
	char buf[8192];               /* one event's JSON line */
	struct pol_feed feed;
	uint64_t by_verdict[4];
};

enum { V_TIME, V_VERDICT, V_DIR, V_PROTO, V_SRC, V_DST, V_FLAGS, V_PKTS, V_BYTES, V_WHY, V__N };
static const struct out_col verdict_cols[] = {
	[V_TIME] = { "time", "TIME", OUT_STR, -15 },
	[V_VERDICT] = { "verdict", "VERDICT", OUT_STR, -9 },
	[V_DIR] = { "direction", "DIR", OUT_STR, -7 },
	[V_PROTO] = { "proto", "PROTO", OUT_STR, -5 },
	[V_SRC] = { "src", "SOURCE", OUT_STR, -34 },
	[V_DST] = { "dst", "DESTINATION", OUT_STR, -34 },
	[V_FLAGS] = { "flags", "FLAGS", OUT_STR, -7 },
	[V_PKTS] = { "packets", "PKTS", OUT_U64, 5 },
	[V_BYTES] = { "bytes", "BYTES", OUT_U64, 7 },
	[V_WHY] = { "why", "POLICY/REASON", OUT_STR, -40 },
};

static void addr_str(uint8_t family, const uint8_t *a, char *buf, size_t len)
{
	inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf, len);
}

static void flags_str(uint8_t f, char *buf, size_t len)
{
	static const char *const n[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG" };

	buf[0] = 0;
	for (int i = 0; i < 6; i++)
		if (f & (1 << i))
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? "|" : "", n[i]);
}

/* "allowed by" policies of the event's rule mask, or the isolating policies for a drop. */
static void why_str(const struct apply_state *st, const struct pol_event *e, char *buf, size_t len)
{
	buf[0] = 0;
	if (e->why == POL_WHY_NOT_ISOLATED) {
		snprintf(buf, len, "not isolated");
		return;
	}
	if (e->why == POL_WHY_NO_RULE) {
		snprintf(buf, len, "no policy allows it; isolated by ");
		for (int i = 0; i < st->s->npol; i++)
			if (st->s->pol[i].type[e->dir] && e->wl < st->s->nwl &&
			    pol_selects(st->s, &st->s->pol[i], &st->s->wl[e->wl]))
				snprintf(buf + strlen(buf), len - strlen(buf), "%s/%s ", st->s->pol[i].ns,
					 st->s->pol[i].name);
		buf[strlen(buf) - 1] = 0;
		return;
	}
	for (int b = 0; b < POL_MAX_RULES && e->wl < st->c->nwl; b++) {
		const struct pol_rule_ref *ref;

		if (!(e->rules & (1ULL << b)))
			continue;
		ref = &st->c->ref[POL_WD(e->wl, e->init_dir) * POL_MAX_RULES + b];
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s/%s %s[%d]", buf[0] ? " " : "",
			 st->s->pol[ref->pol].ns, st->s->pol[ref->pol].name,
			 e->init_dir ? "egress" : "ingress", ref->rule);
	}
}

static void endpoint_json(struct jw *w, const struct pol_set *s, int wl)
{
	jw_obj_begin(w);
	if (wl >= 0 && wl < s->nwl) {
		char l[160];

		jw_kstr(w, "namespace", s->wl[wl].ns);
		jw_kstr(w, "pod_name", s->wl[wl].name);
		jw_key(w, "labels");
		jw_arr_begin(w);
		for (int i = 0; i < s->wl[wl].labels.n; i++) {
			snprintf(l, sizeof(l), "k8s:%s=%s", s->wl[wl].labels.k[i], s->wl[wl].labels.v[i]);
			jw_str(w, l);
		}
		jw_arr_end(w);
	}
	jw_obj_end(w);
}

static void endpoint_str(const struct pol_set *s, int wl, const char *addr, int port, char *buf,
			 size_t len)
{
	if (wl >= 0 && wl < s->nwl)
		snprintf(buf, len, "%s/%s %s:%d", s->wl[wl].ns, s->wl[wl].name, addr, port);
	else
		snprintf(buf, len, "%s:%d", addr, port);
}

/* Hubble's flow shape, reduced to what a plain kernel knows; into st->buf, returns the
 * length with the newline. */
static size_t event_json(struct apply_state *st, const struct pol_event *e)
{
	struct jw *w = &st->jw;
	char la[INET6_ADDRSTRLEN], pa[INET6_ADDRSTRLEN], ts[40], why[400];
	bool out = e->dir == POL_EGRESS;   /* the packet leaves the local workload */
	int peer = e->peer_wl == POL_NO_WL ? -1 : e->peer_wl;
	const char *l4 = pol_proto_name(e->proto);

	addr_str(e->family, e->laddr, la, sizeof(la));
	addr_str(e->family, e->paddr, pa, sizeof(pa));
	why_str(st, e, why, sizeof(why));
	size_t n;

	jw_init_buf(w, st->buf, sizeof(st->buf) - 1);
	jw_obj_begin(w);
	jw_kstr(w, "time", ebee_fmt_time(ebee_ktime_to_real(e->hdr.time_ns), ts, sizeof(ts)));
	jw_kstr(w, "verdict", verdict_names[e->verdict & 3]);
	if (e->why == POL_WHY_NO_RULE)
		jw_kstr(w, "drop_reason_desc", "POLICY_DENIED");
	jw_kstr(w, "event", report_names[e->report & 3]);
	jw_key(w, "IP");
	jw_obj_begin(w);
	jw_kstr(w, "source", out ? la : pa);
	jw_kstr(w, "destination", out ? pa : la);
	jw_kstr(w, "ipVersion", e->family == 4 ? "IPv4" : "IPv6");
	jw_obj_end(w);
	jw_key(w, "l4");
	jw_obj_begin(w);
	jw_key(w, l4);
	jw_obj_begin(w);
	if (e->proto == 6 || e->proto == 17 || e->proto == 132) {
		jw_ku64(w, "source_port", out ? e->lport : e->pport);
		jw_ku64(w, "destination_port", out ? e->pport : e->lport);
	}
	if (e->proto == 6) {
		static const char *const n[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG" };

		jw_key(w, "flags");
		jw_obj_begin(w);
		for (int i = 0; i < 6; i++)
			if (e->tcp_flags & (1 << i))
				jw_kbool(w, n[i], true);
		jw_obj_end(w);
	}
	jw_obj_end(w);
	jw_obj_end(w);
	jw_key(w, "source");
	endpoint_json(w, st->s, out ? e->wl : peer);
	jw_key(w, "destination");
	endpoint_json(w, st->s, out ? peer : e->wl);
	jw_kstr(w, "traffic_direction", e->init_dir == POL_EGRESS ? "EGRESS" : "INGRESS");
	jw_kbool(w, "is_reply", e->dir != e->init_dir);
	jw_kstr(w, "observation_point", e->hook == POL_HOOK_TC ? "tc" : "cgroup");
	jw_key(w, "policies");
	jw_arr_begin(w);
	if (e->why == POL_WHY_RULE) {
		for (int b = 0; b < POL_MAX_RULES; b++) {
			const struct pol_rule_ref *ref;

			if (!(e->rules & (1ULL << b)) || e->wl >= st->c->nwl)
				continue;
			ref = &st->c->ref[POL_WD(e->wl, e->init_dir) * POL_MAX_RULES + b];
			jw_obj_begin(w);
			jw_kstr(w, "name", st->s->pol[ref->pol].name);
			jw_kstr(w, "namespace", st->s->pol[ref->pol].ns);
			jw_ki64(w, "rule", ref->rule);
			jw_kstr(w, "match", "allowed");
			jw_obj_end(w);
		}
	} else if (e->why == POL_WHY_NO_RULE) {
		for (int i = 0; i < st->s->npol; i++) {
			if (!st->s->pol[i].type[e->init_dir] || e->wl >= st->s->nwl ||
			    !pol_selects(st->s, &st->s->pol[i], &st->s->wl[e->wl]))
				continue;
			jw_obj_begin(w);
			jw_kstr(w, "name", st->s->pol[i].name);
			jw_kstr(w, "namespace", st->s->pol[i].ns);
			jw_kstr(w, "match", "isolated");
			jw_obj_end(w);
		}
	}
	jw_arr_end(w);
	jw_kstr(w, "summary", why);
	jw_ku64(w, "packets", e->pkts);
	jw_ku64(w, "bytes", e->bytes);
	jw_obj_end(w);
	n = jw_finish(w);
	st->buf[n++] = '\n';
	st->buf[n] = 0;
	return n;
}

static void on_verdict(void *arg, const struct pol_event *e)
{
	struct apply_state *st = arg;
	char la[INET6_ADDRSTRLEN], pa[INET6_ADDRSTRLEN], a[OUT_CELL], b[OUT_CELL], f[40], why[400];
	char ts[40];
	bool out = e->dir == POL_EGRESS;
	int peer = e->peer_wl == POL_NO_WL ? -1 : e->peer_wl;
	size_t n;

	st->by_verdict[e->verdict & 3]++;
	n = event_json(st, e);
	pol_feed_line(&st->feed, st->buf, n);
	if (st->ctx->json) {
		fputs(st->buf, stdout);
		fflush(stdout);
		return;
	}
	addr_str(e->family, e->laddr, la, sizeof(la));
	addr_str(e->family, e->paddr, pa, sizeof(pa));
	endpoint_str(st->s, out ? e->wl : peer, out ? la : pa, out ? e->lport : e->pport, a, sizeof(a));
	endpoint_str(st->s, out ? peer : e->wl, out ? pa : la, out ? e->pport : e->lport, b, sizeof(b));
	flags_str(e->tcp_flags, f, sizeof(f));
	why_str(st, e, why, sizeof(why));
	ebee_fmt_time(ebee_ktime_to_real(e->hdr.time_ns), ts, sizeof(ts));
	out_str(&st->o, V_TIME, strchr(ts, 'T') ? strchr(ts, 'T') + 1 : ts);
	out_str(&st->o, V_VERDICT, verdict_names[e->verdict & 3]);
	out_fmt(&st->o, V_DIR, "%s%s", e->init_dir ? "egress" : "ingress",
		e->dir != e->init_dir ? "<" : "");
	out_str(&st->o, V_PROTO, pol_proto_name(e->proto));
	out_str(&st->o, V_SRC, a);
	out_str(&st->o, V_DST, b);
	out_str(&st->o, V_FLAGS, f[0] ? f : "-");
	out_u64(&st->o, V_PKTS, e->pkts);
	out_u64(&st->o, V_BYTES, e->bytes);
	out_str(&st->o, V_WHY, why);
	out_row(&st->o);
	fflush(stdout);
}

enum { S_TYPE, S_COLL, S_EVENTS, S_LOST, S_MISSED, S_DUR, S_FWD, S_DROP, S_AUDIT, S__N };
static const struct out_col summary_cols[] = {
	[S_TYPE] = { "type", "TYPE", OUT_STR, -8 },
	[S_COLL] = { "collector", "COLLECTOR", OUT_STR, -9 },
	[S_EVENTS] = { "events", "EVENTS", OUT_U64, 7 },
	[S_LOST] = { "lost", "LOST", OUT_U64, 6 },
	[S_MISSED] = { "missed", "MISSED", OUT_U64, 6 },
	[S_DUR] = { "duration_s", "SECONDS", OUT_F64, 8, 1 },
	[S_FWD] = { "forwarded", "FORWARDED", OUT_U64, 9 },
	[S_DROP] = { "dropped", "DROPPED", OUT_U64, 8 },
	[S_AUDIT] = { "audit", "AUDIT", OUT_U64, 6 },
};

static int apply_run(struct ebee_ctx *ctx, void *vcfg, int argc, char **argv)
{
	struct policy_cfg *cfg = vcfg;
	struct pol_coll pc = { 0 };
	/* A collector as collector_new would make it (core/collector.c is not there yet): the
	 * same desc the daemon will run. */
	struct collector col = { .desc = &policy_collector, .cfg = cfg, .priv = &pc };
	struct apply_state st = { .ctx = ctx, .s = &pc.s, .c = &pc.c, .feed = { .lfd = -1 } };
	struct ebee_loop *l = NULL;
	uint64_t t0, lost;
	int err;

	l = loop_new();   /* first: Ctrl-C while loading still takes the cleanup path */
	if (!l) {
		ebee_err("cannot set up the event loop: %s", strerror(errno));
		return -errno;
	}
	pc.r.on_event = on_verdict;
	pc.r.arg = &st;
	err = policy_collector.open(&col);
	if (!err)
		err = policy_collector.start(&col, l);
	if (!err)
		pol_feed_open(&st.feed, l);
	if (!err && cfg->duration > 0)
		err = loop_set_duration(l, cfg->duration);
	if (err)
		goto cleanup;
	out_init(&st.o, stdout, OUT_TABLE, verdict_cols, V__N);
	if (!ctx->json)
		out_header(&st.o);
	fflush(stdout);
	ebee_info("enforcing %d policies on %d workloads%s", pc.s.npol, pc.s.nwl,
		  cfg->audit ? " (audit)" : "");
	t0 = ebee_now_ns();
	err = loop_run(l);
	policy_collector.stop(&col);
	lost = pol_lost(&pc.r);
	{
		struct out o;

		out_init(&o, ctx->json ? stdout : stderr, ctx->json ? OUT_JSON : OUT_TABLE, summary_cols, S__N);
		if (ctx->json || lost || ctx->verbose) {
			if (!ctx->json)
				out_header(&o);
			out_str(&o, S_TYPE, "summary");
			out_str(&o, S_COLL, "policy");
			out_u64(&o, S_EVENTS, pc.r.events);
			out_u64(&o, S_LOST, lost);
			out_u64(&o, S_MISSED, 0);
			out_f64(&o, S_DUR, (ebee_now_ns() - t0) / 1e9);
			out_u64(&o, S_FWD, st.by_verdict[POL_FORWARDED]);
			out_u64(&o, S_DROP, st.by_verdict[POL_DROPPED]);
			out_u64(&o, S_AUDIT, st.by_verdict[POL_AUDIT]);
			out_row(&o);
		}
		if (lost)
			ebee_warn("%llu verdict events lost (ring buffer full)", (unsigned long long)lost);
	}
cleanup:
	pol_feed_close(&st.feed);
	policy_collector.close(&col);
	loop_free(l);
	return err;
}

/* ---- flows: follows a running apply's stream ---- */

struct flows_state {
	struct ebee_ctx *ctx;
	struct out o;
	char buf[65536];
	size_t len;
	uint64_t n;
};

static const char *jget(json_object *o, const char *path)
{
	/* "a.b.c": nested members; NULL when any is missing */
	char key[64];
	json_object *v = o;

	while (v && *path) {
		size_t n = strcspn(path, ".");

		snprintf(key, sizeof(key), "%.*s", (int)n, path);
		if (!json_object_object_get_ex(v, key, &v))
			return NULL;
		path += n + (path[n] == '.');
	}
	return v ? json_object_get_string(v) : NULL;
}

static void flows_row(struct flows_state *st, const char *line)
{
	json_object *j = json_tokener_parse(line), *l4, *x = NULL;
	const char *proto = "-", *ts;
	char a[OUT_CELL], b[OUT_CELL], f[40] = "";

	if (!j)
		return;
	if (json_object_object_get_ex(j, "l4", &l4)) {
		json_object_object_foreach(l4, k, v) {
			proto = k;   /* the one member: "TCP", "UDP", ... */
			x = v;
		}
	}
	for (int i = 0; i < 2; i++) {
		const char *ep = i ? "destination" : "source";
		char key[40], pk[40];

		snprintf(key, sizeof(key), "%s.pod_name", ep);
		snprintf(pk, sizeof(pk), "%s_port", ep);
		snprintf(i ? b : a, OUT_CELL, "%s%s%s:%s", jget(j, key) ?: "", jget(j, key) ? " " : "",
			 jget(j, i ? "IP.destination" : "IP.source") ?: "?", jget(x, pk) ?: "-");
	}
	if (x && json_object_object_get_ex(x, "flags", &l4)) {
		json_object_object_foreach(l4, fk, fv) {
			(void)fv;
			snprintf(f + strlen(f), sizeof(f) - strlen(f), "%s%s", f[0] ? "|" : "", fk);
		}
	}
	ts = jget(j, "time");
	out_str(&st->o, V_TIME, ts && strchr(ts, 'T') ? strchr(ts, 'T') + 1 : ts);
	out_str(&st->o, V_VERDICT, jget(j, "verdict"));
	out_fmt(&st->o, V_DIR, "%s%s", strcmp(jget(j, "traffic_direction") ?: "", "EGRESS") ? "ingress" : "egress",
		!strcmp(jget(j, "is_reply") ?: "", "true") ? "<" : "");
	out_str(&st->o, V_PROTO, proto);
	out_str(&st->o, V_SRC, a);
	out_str(&st->o, V_DST, b);
	out_str(&st->o, V_FLAGS, f[0] ? f : "-");
	out_u64(&st->o, V_PKTS, strtoull(jget(j, "packets") ?: "0", NULL, 10));
	out_u64(&st->o, V_BYTES, strtoull(jget(j, "bytes") ?: "0", NULL, 10));
	out_str(&st->o, V_WHY, jget(j, "summary"));
	out_row(&st->o);
	json_object_put(j);
}

static int on_feed(struct ebee_loop *l, int fd, uint32_t events, void *arg)
{
	struct flows_state *st = arg;
	ssize_t n = read(fd, st->buf + st->len, sizeof(st->buf) - 1 - st->len);
	char *p, *nl;

	if (n <= 0) {
		loop_stop(l);   /* the apply ended */
		return 0;
	}
	st->len += n;
	st->buf[st->len] = 0;
	for (p = st->buf; (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = 0;
		st->n++;
		if (st->ctx->json)
			puts(p);
		else
			flows_row(st, p);
	}
	st->len -= p - st->buf;
	memmove(st->buf, p, st->len);
	fflush(stdout);
	return 0;
}

static int flows_run(struct ebee_ctx *ctx, void *vcfg, int argc, char **argv)
{
	struct policy_cfg *cfg = vcfg;
	struct flows_state *st = calloc(1, sizeof(*st));
	struct ebee_loop *l = loop_new();
	int fd = -1, err;

	if (!st || !l) {
		err = -ENOMEM;
		goto out;
	}
	st->ctx = ctx;
	fd = pol_feed_connect((int)cfg->pid);
	if (fd < 0) {
		err = -EINVAL;
		if (cfg->pid)
			ebee_err("no 'ebee policy apply' with pid %lld: %s", cfg->pid, strerror(-fd));
		else
			ebee_err("no running 'ebee policy apply' to follow (nothing in '%s')", POL_FEED_DIR);
		goto out;
	}
	out_init(&st->o, stdout, OUT_TABLE, verdict_cols, V__N);
	if (!ctx->json)
		out_header(&st->o);
	err = loop_add_fd(l, fd, 1 /* EPOLLIN */, on_feed, st);
	if (!err && cfg->duration > 0)
		err = loop_set_duration(l, cfg->duration);
	if (!err)
		err = loop_run(l);
out:
	if (fd >= 0)
		close(fd);
	loop_free(l);
	free(st);
	return err;
}

static const struct opt_doc apply_doc = {
	.synopsis = "-f POLICY.yaml... --workloads W.yaml [OPTIONS]",
	.description =
		"Enforces networking.k8s.io/v1 NetworkPolicy objects on the workloads of the\n"
		"workloads file (a netns: TC on its host-side veth; a cgroup: cgroup_skb) until\n"
		"Ctrl-C, printing every verdict: FORWARDED, DROPPED, or AUDIT with --audit.\n"
		"Events are aggregated per flow in the kernel: one when a flow starts, when a\n"
		"TCP flag (SYN, FIN, RST) first shows on it, and at most once per --interval.\n"
		"Replies of allowed connections always pass. See docs/policy.md.",
	.examples =
		"  ebee policy apply -f deny-all.yaml --workloads hosts.yaml\n"
		"  ebee policy apply -f p.yaml -w hosts.yaml --audit --json\n",
};

static const struct opt_doc check_doc = {
	.synopsis = "-f POLICY.yaml... --workloads W.yaml",
	.description =
		"Validates the policies (errors as FILE:LINE:COL) and prints which workloads\n"
		"each policy selects and, per workload and direction, whether it is isolated.",
	.examples = "  ebee policy check -f p.yaml --workloads hosts.yaml\n",
};

static const struct ebee_cmd policy_apply_cmd = {
	.name = "apply",
	.summary = "enforce NetworkPolicy on workloads and print every verdict",
	.req = REQ_BPF | REQ_BTF | REQ_NETADM,
	.run = apply_run,
	.opts = apply_opts,
	.cfg_size = sizeof(struct policy_cfg),
	.cfg_default = &policy_defaults,
	.doc = &apply_doc,
};

static const struct ebee_cmd policy_check_cmd = {
	.name = "check",
	.summary = "validate policies and show what they select and isolate",
	.run = check_run,
	.opts = check_opts,
	.cfg_size = sizeof(struct policy_cfg),
	.cfg_default = &policy_defaults,
	.doc = &check_doc,
};

static const struct opt_doc whatif_doc = {
	.synopsis = "-f POLICY.yaml... --workloads W.yaml --flows RECORDED.ndjson",
	.description =
		"Replays recorded flows (the JSON lines of 'ebee policy apply --json') against\n"
		"the policies, without loading anything, and says which connections would be\n"
		"dropped and by which workload's isolation, or which rules would allow them.",
	.examples = "  ebee policy whatif -f new.yaml -w hosts.yaml --flows yesterday.ndjson\n",
};

static const struct ebee_cmd policy_whatif_cmd = {
	.name = "whatif",
	.summary = "replay recorded flows against policies: what would be dropped",
	.run = whatif_run,
	.opts = whatif_opts,
	.cfg_size = sizeof(struct policy_cfg),
	.cfg_default = &policy_defaults,
	.doc = &whatif_doc,
};

static const struct opt_doc flows_doc = {
	.synopsis = "[--pid PID] [--json]",
	.description =
		"Follows the verdict stream of a running 'ebee policy apply' (the newest, or\n"
		"--pid) until it ends or Ctrl-C: the same lines, or its Hubble-like JSON.",
	.examples = "  ebee policy flows --json | jq 'select(.verdict == \"DROPPED\")'\n",
};

static const struct ebee_cmd policy_flows_cmd = {
	.name = "flows",
	.summary = "follow the verdicts of a running apply",
	.run = flows_run,
	.opts = flows_opts,
	.cfg_size = sizeof(struct policy_cfg),
	.cfg_default = &policy_defaults,
	.doc = &flows_doc,
};

static const struct ebee_cmd *const policy_sub[] = {
	&policy_apply_cmd, &policy_check_cmd, &policy_whatif_cmd, &policy_flows_cmd, NULL,
};

static const struct opt_doc policy_doc = {
	.synopsis = "apply|check|whatif|flows [OPTIONS]",
	.description = "Kubernetes NetworkPolicy on a plain kernel, every verdict logged.",
};

const struct ebee_cmd policy_cmd = {
	.name = "policy",
	.summary = "Kubernetes NetworkPolicy enforced with BPF, verdicts like Hubble",
	.doc = &policy_doc,
	.sub = policy_sub,
};
