// SPDX-License-Identifier: BSD-2-Clause
/* Verdict events rendered: rows, Hubble-like JSON, and the field table; see render.h. */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "core/ebee.h"
#include "core/field.h"
#include "core/json.h"
#include "core/out.h"
#include "policy/render.h"

const char *const pol_verdict_names[4] = { "?", "FORWARDED", "DROPPED", "AUDIT" };
static const char *const report_names[] = { "?", "new", "flags", "interval" };
static const char *const why_names[] = { "?", "allowed", "not_isolated", "denied" };
static const char *const tcp_flag_names[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG" };

const struct out_col pol_verdict_cols[V__N] = {
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

/* ---- the field table ---- */

static const char *name_of(const char *const *names, size_t n, uint64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%s", v < n ? names[v] : "?");
	return buf;
}

static const char *dec_verdict(uint64_t v, char *buf, size_t len)
{
	return name_of(pol_verdict_names, 4, v, buf, len);
}

static const char *dec_dir(uint64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%s", v == POL_EGRESS ? "egress" : "ingress");
	return buf;
}

static const char *dec_why(uint64_t v, char *buf, size_t len)
{
	return name_of(why_names, 4, v, buf, len);
}

static const char *dec_report(uint64_t v, char *buf, size_t len)
{
	return name_of(report_names, 4, v, buf, len);
}

static const char *dec_proto(uint64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%s", pol_proto_name((uint8_t)v));
	return buf;
}

static const char *dec_hook(uint64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%s", v == POL_HOOK_TC ? "tc" : "cgroup");
	return buf;
}

static const char *dec_flags(uint64_t v, char *buf, size_t len)
{
	buf[0] = 0;
	for (int i = 0; i < 6; i++)
		if (v & (1u << i))
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? "|" : "",
				 tcp_flag_names[i]);
	return buf;
}

#define PF(n, k, m, ...) FIELD(n, k, struct pol_event, m, __VA_ARGS__)
static const struct ebee_field verdict_fields[] = {
	PF("policy.verdict", FK_ENUM, verdict, .decode = dec_verdict,
	   .doc = "FORWARDED, DROPPED or AUDIT"),
	PF("policy.reason", FK_ENUM, why, .decode = dec_why,
	   .doc = "allowed (by a rule), not_isolated, denied (no rule of an isolating policy)"),
	PF("policy.direction", FK_ENUM, dir, .decode = dec_dir,
	   .doc = "the packet's direction for the workload: ingress or egress"),
	PF("policy.traffic_direction", FK_ENUM, init_dir, .decode = dec_dir,
	   .doc = "the direction the flow started in"),
	PF("policy.report", FK_ENUM, report, .decode = dec_report,
	   .doc = "why this event: new flow, a new TCP flag, or the interval"),
	PF("policy.rules", FK_U64, rules, .doc = "bit mask of the allowing rules"),
	PF("policy.workload", FK_U16, wl, .doc = "the local workload's index in the workloads file"),
	PF("policy.peer_workload", FK_U16, peer_wl, .doc = "the peer's index, 65535 = not a workload"),
	PF("policy.hook", FK_ENUM, hook, .decode = dec_hook, .doc = "tc (netns veth) or cgroup"),
	PF("policy.ifindex", FK_U32, ifindex, .doc = "the interface the packet crossed"),
	PF("fd.lip", FK_ADDR, laddr, .aux = offsetof(struct pol_event, af),
	   .doc = "the workload's address"),
	PF("fd.rip", FK_ADDR, paddr, .aux = offsetof(struct pol_event, af),
	   .doc = "the peer's address"),
	PF("fd.lport", FK_U16, lport, .doc = "the workload's port"),
	PF("fd.rport", FK_U16, pport, .doc = "the peer's port"),
	PF("fd.l4proto", FK_ENUM, proto, .decode = dec_proto, .doc = "TCP, UDP, SCTP, ICMP..."),
	PF("policy.tcp_flags", FK_FLAGS, tcp_flags, .decode = dec_flags,
	   .doc = "flags of the packet that caused the event"),
	PF("policy.packets", FK_U64, pkts, .doc = "packets since the flow's previous event"),
	PF("policy.bytes", FK_U64, bytes, .doc = "bytes since the flow's previous event"),
};

static const struct ebee_event_desc verdict_desc = {
	.type = EV_POLICY_VERDICT,
	.name = "policy_verdict",
	.size = sizeof(struct pol_event),
	.fields = verdict_fields,
	.nfields = sizeof(verdict_fields) / sizeof(verdict_fields[0]),
	.doc = "a NetworkPolicy verdict on a flow (ebee policy), aggregated per flow",
};

void pol_register_event(void)
{
	event_register(&verdict_desc);
}

/* ---- text and JSON ---- */

static void addr_str(uint8_t family, const uint8_t *a, char *buf, size_t len)
{
	inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf, len);
}

static bool isolates(const struct pol_set *s, int pol, const struct pol_event *e)
{
	return s->pol[pol].type[e->init_dir] && e->wl < s->nwl &&
	       pol_selects(s, &s->pol[pol], &s->wl[e->wl]);
}

static const struct pol_rule_ref *rule_ref(const struct pol_compiled *c, const struct pol_event *e,
					   int bit)
{
	if (!(e->rules & (1ULL << bit)) || e->wl >= c->nwl)
		return NULL;
	return &c->ref[POL_WD(e->wl, e->init_dir) * POL_MAX_RULES + bit];
}

int pol_event_policy(const struct pol_set *s, const struct pol_compiled *c, const struct pol_event *e)
{
	if (e->why == POL_WHY_RULE)
		for (int b = 0; b < POL_MAX_RULES; b++)
			if (rule_ref(c, e, b))
				return rule_ref(c, e, b)->pol;
	if (e->why == POL_WHY_NO_RULE)
		for (int i = 0; i < s->npol; i++)
			if (isolates(s, i, e))
				return i;
	return -1;
}

/* "allowed by" policies of the event's rule mask, or the isolating policies for a drop. */
static void why_str(const struct pol_set *s, const struct pol_compiled *c, const struct pol_event *e,
		    char *buf, size_t len)
{
	buf[0] = 0;
	if (e->why == POL_WHY_NOT_ISOLATED) {
		snprintf(buf, len, "not isolated");
		return;
	}
	if (e->why == POL_WHY_NO_RULE) {
		snprintf(buf, len, "no policy allows it; isolated by");
		for (int i = 0; i < s->npol; i++)
			if (isolates(s, i, e))
				snprintf(buf + strlen(buf), len - strlen(buf), " %s/%s", s->pol[i].ns,
					 s->pol[i].name);
		return;
	}
	for (int b = 0; b < POL_MAX_RULES; b++) {
		const struct pol_rule_ref *ref = rule_ref(c, e, b);

		if (ref)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s/%s %s[%d]", buf[0] ? " " : "",
				 s->pol[ref->pol].ns, s->pol[ref->pol].name,
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

/* Hubble's flow shape, reduced to what a plain kernel knows. */
void pol_event_hubble(struct jw *w, const struct pol_set *s, const struct pol_compiled *c,
		      const struct pol_event *e)
{
	char la[INET6_ADDRSTRLEN], pa[INET6_ADDRSTRLEN], ts[40], why[400];
	bool out = e->dir == POL_EGRESS;   /* the packet leaves the local workload */
	int peer = e->peer_wl == POL_NO_WL ? -1 : e->peer_wl;

	addr_str(e->family, e->laddr, la, sizeof(la));
	addr_str(e->family, e->paddr, pa, sizeof(pa));
	why_str(s, c, e, why, sizeof(why));
	jw_kstr(w, "time", ebee_fmt_time(ebee_ktime_to_real(e->hdr.time_ns), ts, sizeof(ts)));
	jw_kstr(w, "verdict", pol_verdict_names[e->verdict & 3]);
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
	jw_key(w, pol_proto_name(e->proto));
	jw_obj_begin(w);
	if (e->proto == 6 || e->proto == 17 || e->proto == 132) {
		jw_ku64(w, "source_port", out ? e->lport : e->pport);
		jw_ku64(w, "destination_port", out ? e->pport : e->lport);
	}
	if (e->proto == 6) {
		jw_key(w, "flags");
		jw_obj_begin(w);
		for (int i = 0; i < 6; i++)
			if (e->tcp_flags & (1 << i))
				jw_kbool(w, tcp_flag_names[i], true);
		jw_obj_end(w);
	}
	jw_obj_end(w);
	jw_obj_end(w);
	jw_key(w, "source");
	endpoint_json(w, s, out ? e->wl : peer);
	jw_key(w, "destination");
	endpoint_json(w, s, out ? peer : e->wl);
	jw_kstr(w, "traffic_direction", e->init_dir == POL_EGRESS ? "EGRESS" : "INGRESS");
	jw_kbool(w, "is_reply", e->dir != e->init_dir);
	jw_kstr(w, "observation_point", e->hook == POL_HOOK_TC ? "tc" : "cgroup");
	jw_key(w, "policies");
	jw_arr_begin(w);
	for (int b = 0; e->why == POL_WHY_RULE && b < POL_MAX_RULES; b++) {
		const struct pol_rule_ref *ref = rule_ref(c, e, b);

		if (!ref)
			continue;
		jw_obj_begin(w);
		jw_kstr(w, "name", s->pol[ref->pol].name);
		jw_kstr(w, "namespace", s->pol[ref->pol].ns);
		jw_ki64(w, "rule", ref->rule);
		jw_kstr(w, "match", "allowed");
		jw_obj_end(w);
	}
	for (int i = 0; e->why == POL_WHY_NO_RULE && i < s->npol; i++) {
		if (!isolates(s, i, e))
			continue;
		jw_obj_begin(w);
		jw_kstr(w, "name", s->pol[i].name);
		jw_kstr(w, "namespace", s->pol[i].ns);
		jw_kstr(w, "match", "isolated");
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_kstr(w, "summary", why);
	jw_ku64(w, "packets", e->pkts);
	jw_ku64(w, "bytes", e->bytes);
}

size_t pol_event_line(char *buf, size_t cap, const struct pol_set *s, const struct pol_compiled *c,
		      const struct pol_event *e)
{
	struct jw w;
	size_t n;

	jw_init_buf(&w, buf, cap - 1);
	jw_obj_begin(&w);
	pol_event_hubble(&w, s, c, e);
	jw_obj_end(&w);
	n = jw_finish(&w);
	buf[n++] = '\n';
	buf[n] = 0;
	return n;
}

void pol_event_row(struct out *o, const struct pol_set *s, const struct pol_compiled *c,
		   const struct pol_event *e)
{
	char la[INET6_ADDRSTRLEN], pa[INET6_ADDRSTRLEN], a[OUT_CELL], b[OUT_CELL], f[40], why[400];
	char ts[40];
	bool out = e->dir == POL_EGRESS;
	int peer = e->peer_wl == POL_NO_WL ? -1 : e->peer_wl;

	addr_str(e->family, e->laddr, la, sizeof(la));
	addr_str(e->family, e->paddr, pa, sizeof(pa));
	endpoint_str(s, out ? e->wl : peer, out ? la : pa, out ? e->lport : e->pport, a, sizeof(a));
	endpoint_str(s, out ? peer : e->wl, out ? pa : la, out ? e->pport : e->lport, b, sizeof(b));
	dec_flags(e->tcp_flags, f, sizeof(f));
	why_str(s, c, e, why, sizeof(why));
	ebee_fmt_time(ebee_ktime_to_real(e->hdr.time_ns), ts, sizeof(ts));
	out_str(o, V_TIME, strchr(ts, 'T') ? strchr(ts, 'T') + 1 : ts);
	out_str(o, V_VERDICT, pol_verdict_names[e->verdict & 3]);
	out_fmt(o, V_DIR, "%s%s", e->init_dir ? "egress" : "ingress", e->dir != e->init_dir ? "<" : "");
	out_str(o, V_PROTO, pol_proto_name(e->proto));
	out_str(o, V_SRC, a);
	out_str(o, V_DST, b);
	out_str(o, V_FLAGS, f[0] ? f : "-");
	out_u64(o, V_PKTS, e->pkts);
	out_u64(o, V_BYTES, e->bytes);
	out_str(o, V_WHY, why);
	out_row(o);
}
