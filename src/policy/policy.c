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
#include "policy/render.h"
#include "policy/whatif.h"

static const struct policy_cfg policy_defaults = {
	.interval = 5.0, .tcp_timeout = 21600, .idle_timeout = 60, .close_timeout = 10,
};

#define POLICY_FILE_OPTS \
	{ "file", 'f', OPT_LIST, offsetof(struct policy_cfg, files), "FILE", \
	  "NetworkPolicy YAML (repeatable; several documents per file)" }, \
	{ "workloads", 'w', OPT_STR, offsetof(struct policy_cfg, workloads), "FILE", \
	  "workloads and namespaces YAML (required)" }

const struct opt policy_apply_opts[] = {
	POLICY_FILE_OPTS,
	{ "audit", 0, OPT_FLAG, offsetof(struct policy_cfg, audit), NULL,
	  "drop nothing: report AUDIT for what would be dropped" },
	{ "interval", 'i', OPT_SECONDS, offsetof(struct policy_cfg, interval), "SECONDS",
	  "at most one event per flow per SECONDS (besides new flows and TCP flags)", "5s", 0.01, 3600 },
	{ "duration", 'd', OPT_SECONDS, offsetof(struct policy_cfg, duration), "SECONDS",
	  "stop after SECONDS (0 = until Ctrl-C)", "0", 0, 1e9 },
	{ "tcp-timeout", 0, OPT_SECONDS, offsetof(struct policy_cfg, tcp_timeout), "SECONDS",
	  "forget an open TCP connection idle this long", "6h", 0.01, 1e7 },
	{ "idle-timeout", 0, OPT_SECONDS, offsetof(struct policy_cfg, idle_timeout), "SECONDS",
	  "forget other flows (UDP, refused ones) idle this long", "60s", 0.01, 1e7 },
	{ "close-timeout", 0, OPT_SECONDS, offsetof(struct policy_cfg, close_timeout), "SECONDS",
	  "forget a TCP connection this long after its FINs or RST", "10s", 0.01, 1e7 },
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

/* ---- apply: the collector, run as a command ---- */

static int apply_run(struct ebee_ctx *ctx, void *vcfg, int argc, char **argv)
{
	struct policy_cfg *cfg = vcfg;
	struct out o;

	/* rows are the verdicts, printed by the collector as they come */
	out_init(&o, stdout, OUT_TABLE, pol_verdict_cols, V__N);
	return collector_run_cli(&policy_collector, cfg, NULL, 0, cfg->duration, ctx, &o);
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
	if (!strcmp(jget(j, "type") ?: "", "lost_events")) {
		ebee_warn("%s verdict events lost (ring buffer full)", jget(j, "num_events_lost") ?: "?");
		json_object_put(j);
		return;
	}
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
	out_init(&st->o, stdout, OUT_TABLE, pol_verdict_cols, V__N);
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
	.opts = policy_apply_opts,
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
