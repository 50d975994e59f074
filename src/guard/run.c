// SPDX-License-Identifier: BSD-2-Clause
/* ebee guard run: the rules evaluated on live events. The events collector (src/events) is
 * started with only the event types the loaded rules need; each record it delivers is turned
 * into a struct gevent (guard/gevent.h) and evaluated against the rules indexed by its Falco
 * event type, as Falco does, so a record is compared with the few rules that can match it.
 * Alerts are text (the rule's output with its fields filled in) or Falco's JSON, on stdout,
 * in files (-o file:PATH) and posted to HTTP endpoints (-o http:URL, guard/http.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "core/collector.h"
#include "core/json.h"
#include "core/loop.h"
#include "enforce/enforcer.h"
#include "events/evtypes.h"
#include "guard/fields.h"
#include "guard/gevent.h"
#include "guard/guard.h"
#include "guard/http.h"
#include "proc/proc.h"

#define MAX_OUTPUTS 8

struct run_cfg {
	struct opt_list rules;
	struct opt_list outputs;
	double duration;
	struct opt_list efiles;     /* -e: enforcement rules (src/enforce) */
	bool enforce;
};

struct engine {
	struct guard_ruleset *rs;
	/* rules by Falco event type index */
	const struct guard_rule **by_type[256];
	int nby_type[256];
	uint64_t *alerts;          /* per rule */
	uint64_t events, evaluated, nalerts;
	struct proctab *pt;
	struct guard_procs procs;
	FILE *out;                 /* stdout as it was (the collector's own is muted) */
	bool json;
	FILE *files[MAX_OUTPUTS];
	int nfiles;
	struct http_out *http[MAX_OUTPUTS];
	int nhttp;
	char hostname[256];
	struct enforcer *enf;
};

static const struct proc *pt_ancestor(void *arg, uint32_t pid, int n)
{
	return proc_ancestor(arg, pid, n);
}

static const char *pt_fd(void *arg, uint32_t pid, int fd)
{
	return fd_lookup(arg, pid, fd);
}

/* Falco's event type index of a record. */
static int sc_of(const struct ebee_event_hdr *h)
{
	switch (h->type) {
	case EV_EXEC: return guard_evtype_index("execve");
	case EV_FORK: return guard_evtype_index("clone");
	case EV_EXIT: return guard_evtype_index("procexit");
	default:
		if (h->type >= EV_OPEN && h->size >= EV_SYS_SIZE1) {
			const struct ev_sys *e = (const void *)h;
			if (e->sc < SC__MAX && ev_syscalls[e->sc].name)
				return guard_evtype_index(ev_syscalls[e->sc].name);
		}
		return -1;
	}
}

static char typechar_of(int family, int domain)
{
	int f = family ? family : domain;
	return f == 2 ? '4' : f == 10 ? '6' : f == 1 ? 'u' : 0;
}

/* A record of the events collector as the rules see it. path/buf: scratch for a resolved
 * path. */
static bool to_gevent(struct engine *E, const struct ebee_event_hdr *h, struct gevent *g,
		      char *path, size_t plen)
{
	memset(g, 0, sizeof(*g));
	g->hdr = h;
	g->procs = &E->procs;
	g->num = E->events;
	g->fd = -1;
	g->sc = sc_of(h);
	if (g->sc < 0)
		return false;
	if (h->type == EV_EXEC) {
		const struct ev_exec *e = (const void *)h;
		g->res = e->ret;
		g->path = e->filename;
		return true;
	}
	if (h->type < EV_OPEN || h->size < EV_SYS_SIZE1)
		return true;
	const struct ev_sys *e = (const void *)h;
	g->res = e->ret;
	const char *p = e->path[0] ? e->path : NULL;
	/* the collector resolved the path into the fd table (opens); else resolve against cwd */
	if (p && h->type == EV_OPEN && e->ret >= 0) {
		const char *r = fd_lookup(E->pt, h->pid, (int)e->ret);
		if (r && r[0] == '/')
			p = r;
	}
	if (p && p[0] != '/' && e->family != 1) {
		const char *cwd = proc_cwd(E->pt, h->pid);
		if (cwd && cwd[0]) {
			snprintf(path, plen, "%s/%s", strcmp(cwd, "/") ? cwd : "", e->path);
			p = path;
		}
	}
	switch (h->type) {
	case EV_OPEN:
		g->path = p;
		g->path_raw = e->path;
		g->flags = (uint32_t)e->a[0];
		g->mode = (uint32_t)e->a[1];
		g->typechar = (g->flags & O_DIRECTORY) ? 'd' : 'f';
		break;
	case EV_SYMLINK:
		g->path = p;             /* the link */
		g->path2 = e->path2;     /* what it points to */
		break;
	case EV_LINK:
	case EV_RENAME:
		g->path = e->path2;      /* old name */
		g->path2 = p;            /* new name */
		break;
	case EV_SOCKET:
		g->arg[0] = (int64_t)e->a[0];
		g->arg[1] = (int64_t)e->a[1];
		g->arg[2] = (int64_t)e->a[2];
		g->res = e->ret;
		g->typechar = typechar_of(0, (int)e->a[0]);
		break;
	case EV_CONNECT:
	case EV_ACCEPT:
	case EV_BIND: {
		g->fd = (int32_t)e->a[3];
		g->family = e->family == 2 ? 4 : e->family == 10 ? 6 : e->family == 1 ? 1 : 0;
		g->typechar = typechar_of(e->family, 0);
		memcpy(g->rip, e->addr, 16);
		g->rport = e->port;
		if (h->type == EV_BIND) {
			memcpy(g->lip, e->addr, 16);
			g->lport = e->port;
			memset(g->rip, 0, 16);
			g->rport = 0;
		}
		if (e->family == 1)
			g->path = e->path;
		break;
	}
	case EV_DUP: {
		/* what the duplicated fd is, from the fd table: Falco's fd.type of a redirect */
		g->fd = (int32_t)e->a[0];
		const char *t = fd_lookup(E->pt, h->pid, g->fd);
		if (t && !strncmp(t, "socket:peer ", 12)) {
			g->typechar = strchr(strchr(t + 12, ':') + 1, ':') ? '6' : '4';
			g->path = t;
		} else if (t && !strncmp(t, "socket:family=", 14)) {
			g->typechar = typechar_of(atoi(t + 14), 0);
		} else if (t && t[0] == '/') {
			g->typechar = 'f';
			g->path = t;
		}
		break;
	}
	case EV_PTRACE:
	case EV_KILL:
	case EV_SETUID:
	case EV_SETGID:
		g->arg[0] = (int64_t)e->a[0];
		g->arg[1] = (int64_t)e->a[1];
		break;
	case EV_MODULE:
		g->arg[1] = (int64_t)e->a[0];
		g->path = e->path;
		break;
	default:
		g->path = p;
		g->flags = (uint32_t)e->a[0];
		g->mode = (uint32_t)e->a[0];
		break;
	}
	return true;
}

/* ---- alerts ------------------------------------------------------------------------------ */

/* Text of field f of the event, "<NA>" when it has none; json gets the value typed. */
static void field_value(const struct cond_field *f, struct gevent *g, char *buf, size_t len,
			struct jw *json)
{
	struct cond_val v = { 0 };
	char tmp[1024];
	bool ok = !(f->flags & CF_NA) && guard_fields.get(NULL, g, f, 0, &v, tmp, sizeof(tmp));
	if (!ok) {
		snprintf(buf, len, "<NA>");
		if (json)
			jw_null(json);
		return;
	}
	switch (f->type) {
	case CT_STR:
		snprintf(buf, len, "%.*s", (int)v.n, v.s);
		if (json)
			jw_str(json, buf);
		break;
	case CT_NUM:
		snprintf(buf, len, "%lld", (long long)v.i);
		if (json)
			jw_i64(json, v.i);
		break;
	case CT_BOOL:
		snprintf(buf, len, "%s", v.i ? "true" : "false");
		if (json)
			jw_bool(json, v.i);
		break;
	case CT_IP:
		inet_ntop(v.family == 4 ? AF_INET : AF_INET6, v.ip, buf, len);
		if (json)
			jw_str(json, buf);
		break;
	}
}

static void alert(struct engine *E, const struct guard_rule *r, struct gevent *g)
{
	char text[4096], val[1024], tbuf[64], when[64];
	size_t o = 0;
	uint64_t real = ebee_ktime_to_real(g->hdr->time_ns);
	time_t sec = real / 1000000000ull;
	struct tm tm;
	localtime_r(&sec, &tm);
	/* Falco's text line: "HH:MM:SS.nnnnnnnnn: Priority output" */
	o += strftime(text, sizeof(text), "%H:%M:%S", &tm);
	o += snprintf(text + o, sizeof(text) - o, ".%09llu: %s ",
		      (unsigned long long)(real % 1000000000ull), rule_prio_names[r->prio]);
	for (int i = 0; i < r->nparts && o < sizeof(text); i++) {
		o += snprintf(text + o, sizeof(text) - o, "%s", r->parts[i].lit);
		if (r->parts[i].field >= 0 && o < sizeof(text)) {
			field_value(&r->ofields[r->parts[i].field], g, val, sizeof(val), NULL);
			o += snprintf(text + o, sizeof(text) - o, "%s", val);
		}
	}
	E->nalerts++;
	E->alerts[r->index]++;
	if (!E->json)
		fprintf(E->out, "%s\n", text);
	if (!E->json && !E->nfiles && !E->nhttp)
		return;
	/* Falco's JSON alert (json_output: true) */
	static char js[16384];
	struct jw w;
	jw_init_buf(&w, js, sizeof(js));
	jw_obj_begin(&w);
	jw_kstr(&w, "hostname", E->hostname);
	jw_kstr(&w, "output", text);
	jw_key(&w, "output_fields");
	jw_obj_begin(&w);
	for (int i = 0; i < r->nofields; i++) {
		jw_key(&w, r->ofields[i].name);
		field_value(&r->ofields[i], g, val, sizeof(val), &w);
	}
	jw_obj_end(&w);
	jw_kstr(&w, "priority", rule_prio_names[r->prio]);
	jw_kstr(&w, "rule", r->name);
	jw_kstr(&w, "source", "syscall");
	jw_key(&w, "tags");
	jw_arr_begin(&w);
	for (int i = 0; i < r->ntags; i++)
		jw_str(&w, r->tags[i]);
	jw_arr_end(&w);
	/* Falco: RFC 3339 UTC with nanoseconds */
	gmtime_r(&sec, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when, sizeof(when), "%s.%09lluZ", tbuf, (unsigned long long)(real % 1000000000ull));
	jw_kstr(&w, "time", when);
	jw_obj_end(&w);
	size_t n = jw_finish(&w);
	if (E->json)
		fprintf(E->out, "%s\n", js);
	for (int i = 0; i < E->nfiles; i++)
		fprintf(E->files[i], "%s\n", js);
	for (int i = 0; i < E->nhttp; i++)
		http_out_post(E->http[i], js, n);
}

static void on_event(void *arg, const struct ebee_event_hdr *h)
{
	struct engine *E = arg;
	struct gevent g;
	char path[PROC_CWD_LEN + EV_PATH_LEN + 2];
	E->events++;
	if (!to_gevent(E, h, &g, path, sizeof(path)) || g.sc >= 256)
		return;
	for (int i = 0; i < E->nby_type[g.sc]; i++) {
		const struct guard_rule *r = E->by_type[g.sc][i];
		g.extra_done = false;
		E->evaluated++;
		if (cond_eval(r->cond, &g))
			alert(E, r, &g);
	}
}

/* ---- the command --------------------------------------------------------------------------- */

static int add_output(struct engine *E, const char *spec)
{
	if (!strncmp(spec, "file:", 5)) {
		if (E->nfiles == MAX_OUTPUTS)
			goto many;
		FILE *f = fopen(spec + 5, "ae");
		if (!f) {
			ebee_err("cannot open output file '%s': %s", spec + 5, strerror(errno));
			return -EINVAL;
		}
		setvbuf(f, NULL, _IOLBF, 0);
		E->files[E->nfiles++] = f;
		return 0;
	}
	if (!strncmp(spec, "http:", 5) || !strncmp(spec, "https:", 6)) {
		if (E->nhttp == MAX_OUTPUTS)
			goto many;
		const char *url = !strncmp(spec, "http:http", 9) ? spec + 5 : spec;
		char why[160];
		struct http_out *h = http_out_new(url, why, sizeof(why));
		if (!h) {
			ebee_err("bad output '%s': %s", spec, why);
			return -EINVAL;
		}
		E->http[E->nhttp++] = h;
		return 0;
	}
	ebee_err("unknown output '%s' (file:PATH or http://HOST:PORT/PATH)", spec);
	return -EINVAL;
many:
	ebee_err("too many outputs (at most %d of each kind)", MAX_OUTPUTS);
	return -EINVAL;
}

static void summary(struct engine *E, const struct collector *c, double secs)
{
	struct jw w;
	char buf[65536];
	jw_init_buf(&w, buf, sizeof(buf));
	jw_obj_begin(&w);
	jw_kstr(&w, "type", "summary");
	jw_kstr(&w, "collector", "guard");
	jw_ku64(&w, "events", E->events);
	jw_ku64(&w, "lost", c->cnt.lost);
	jw_ku64(&w, "missed", c->cnt.missed);
	jw_kf64(&w, "duration_s", secs);
	jw_ku64(&w, "evaluations", E->evaluated);
	jw_ku64(&w, "alerts", E->nalerts);
	jw_key(&w, "alerts_by_rule");
	jw_obj_begin(&w);
	for (int i = 0; i < E->rs->nrules; i++)
		if (E->alerts[i])
			jw_ku64(&w, E->rs->rules[i]->name, E->alerts[i]);
	jw_obj_end(&w);
	uint64_t hsent = 0, hlost = 0;
	for (int i = 0; i < E->nhttp; i++) {
		struct http_out_stats st;
		http_out_stats(E->http[i], &st);
		hsent += st.sent;
		hlost += st.lost;
	}
	jw_ku64(&w, "http_sent", hsent);
	jw_ku64(&w, "http_lost", hlost);
	if (E->enf)
		enforcer_summary_fields(E->enf, &w);
	jw_obj_end(&w);
	jw_finish(&w);
	if (E->json)
		fprintf(E->out, "%s\n", buf);
	else
		fprintf(stderr, "ebee guard: %s\n", buf);
}

static int run_run(struct ebee_ctx *ctx, void *vcfg, int argc, char **argv)
{
	struct run_cfg *cfg = vcfg;
	struct engine E = { .json = ctx->json };
	struct ev_opts eo = { .mode = EVM_EVENTS, .duration = cfg->duration };
	struct collector c = { .desc = &events_collector, .cfg = &eo };
	struct ebee_loop *l = NULL;
	int err = 0, saved = -1;
	bool need[EV__MAX] = { false };

	E.rs = guard_load(&cfg->rules, false);
	if (!E.rs)
		return -EINVAL;
	gethostname(E.hostname, sizeof(E.hostname) - 1);
	if (cfg->enforce && !cfg->efiles.n) {
		ebee_err("--enforce needs enforcement rules (-e FILE)");
		err = -EINVAL;
		goto out;
	}
	if (cfg->efiles.n && !(E.enf = enforcer_new(&cfg->efiles, E.rs, cfg->enforce))) {
		err = -EINVAL;
		goto out;
	}
	E.alerts = calloc(E.rs->nrules, sizeof(*E.alerts));
	for (int i = 0; i < cfg->outputs.n && !err; i++)
		err = add_output(&E, cfg->outputs.v[i]);
	if (err)
		goto out;
	/* index the rules by event type; ask the collector for those types only */
	int nrules = 0;
	for (int i = 0; i < E.rs->nrules; i++) {
		const struct guard_rule *r = E.rs->rules[i];
		if (r->status != RS_EVALUABLE && r->status != RS_DEGRADED)
			continue;
		nrules++;
		for (int t = 0; t < guard_evtype_count() && t < 256; t++) {
			if (!cond_kparts_has_evtype(&r->kp, t) || !guard_evtype_source(t))
				continue;
			E.by_type[t] = realloc(E.by_type[t], (E.nby_type[t] + 1) * sizeof(*E.by_type[t]));
			if (!E.by_type[t])
				abort();
			E.by_type[t][E.nby_type[t]++] = r;
			need[guard_evtype_source(t)] = true;
		}
	}
	/* -e with a rule file that has nothing to evaluate (-r empty.yaml): enforcement alone */
	bool detect = nrules || !E.enf;
	if (!nrules && !E.enf) {
		ebee_err("no rule to evaluate here (see 'ebee guard check')");
		err = -EINVAL;
		goto out;
	}
	/* execs keep the process table's names and command lines current for every rule */
	need[EV_EXEC] = true;
	/* an exec through /proc/self/fd/N is told from the memfd_create that made N */
	if (need[EV_EXEC])
		need[EV_MEMFD] = true;
	/* a dup is told from what its fd is: sockets come from socket/accept */
	if (need[EV_DUP])
		need[EV_SOCKET] = need[EV_ACCEPT] = true;
	ev_register_all();
	for (int t = 0; t < EV__MAX; t++)
		if (need[t] && event_desc(t) && eo.types.n < OPT_LIST_MAX)
			eo.types.v[eo.types.n++] = event_desc(t)->name;
	c.priv = detect ? calloc(1, events_collector.priv_size) : NULL;
	if (detect && !c.priv) {
		err = -ENOMEM;
		goto out;
	}
	c.subs[0] = (struct collector_sub){ on_event, &E };
	c.nsubs = 1;
	/* The collector prints its own NDJSON in this mode: alerts go to our copy of stdout and
	 * the collector's stdout to /dev/null until it has a subscriber-only mode. */
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (saved < 0 || null < 0 || !(E.out = fdopen(saved, "w"))) {
		err = -errno;
		if (null >= 0)
			close(null);
		goto out;
	}
	setvbuf(E.out, NULL, _IOLBF, 0);
	dup2(null, STDOUT_FILENO);
	close(null);
	l = loop_new();
	if (!l) {
		err = -errno;
		goto out;
	}
	err = detect ? events_collector.open(&c) : 0;
	if (!err && detect)
		err = events_collector.start(&c, l);
	if (!err) {
		E.pt = detect ? ev_proctab(&c) : NULL;
		E.procs = (struct guard_procs){ pt_ancestor, pt_fd, E.pt };
		if (E.enf)
			err = enforcer_start(E.enf, l, E.out, E.json);
	}
	if (!err) {
		c.start_ns = ebee_now_ns();
		if (cfg->duration)
			loop_set_duration(l, cfg->duration);
		ebee_info("guard: %d rules on %d event types", nrules, eo.types.n);
		err = loop_run(l);
		if (detect && events_collector.stop)
			events_collector.stop(&c);
		enforcer_drain(E.enf);
		c.stop_ns = ebee_now_ns();
		for (int i = 0; i < E.nhttp; i++)
			http_out_drain(E.http[i], 2.0);
		summary(&E, &c, (c.stop_ns - c.start_ns) / 1e9);
	}
	if (c.priv)
		events_collector.close(&c);
out:
	fflush(stdout);
	if (E.out) {
		fflush(E.out);
		dup2(fileno(E.out), STDOUT_FILENO);
		fclose(E.out);
	}
	loop_free(l);
	free(c.priv);
	for (int t = 0; t < 256; t++)
		free(E.by_type[t]);
	for (int i = 0; i < E.nfiles; i++)
		fclose(E.files[i]);
	for (int i = 0; i < E.nhttp; i++)
		http_out_free(E.http[i]);
	free(E.alerts);
	enforcer_free(E.enf);
	guard_rules_free(E.rs);
	return err;
}

static const struct opt run_opts[] = {
	{ "rules", 'r', OPT_LIST, offsetof(struct run_cfg, rules), "FILE",
	  "a Falco rules file (repeatable; later files append to and override earlier ones)",
	  "ebee's built-in rules" },
	{ "output", 'o', OPT_LIST, offsetof(struct run_cfg, outputs), "file:PATH|http:URL",
	  "also send every alert, as Falco's JSON, to a file or an HTTP endpoint (repeatable)" },
	{ "duration", 'd', OPT_SECONDS, offsetof(struct run_cfg, duration), "SECONDS",
	  "stop after this long", NULL, 0, 1e9 },
	{ "enforcement", 'e', OPT_LIST, offsetof(struct run_cfg, efiles), "FILE",
	  "enforcement rules (deny/kill/audit; docs/enforce.md), audited unless --enforce" },
	{ "enforce", 0, OPT_FLAG, offsetof(struct run_cfg, enforce), NULL,
	  "act on the enforcement rules (deny, kill) instead of alerting only" },
	OPT_END,
};

static const struct opt_doc run_doc = {
	.synopsis = "[-r FILE]... [-o file:PATH|http:URL]... [--duration S]",
	.description =
		"Evaluates the rules on live events (exec, open, connect, ptrace, ... as the\n"
		"rules need: only those event types are captured). An alert is the rule's output\n"
		"with its %fields filled in, like Falco's; --json prints Falco's JSON alerts\n"
		"(time, rule, priority, output, output_fields, source, tags, hostname), which -o\n"
		"also writes to files and posts to HTTP endpoints such as Falcosidekick (a bounded\n"
		"queue on its own thread, retries with backoff; a dead endpoint never slows the\n"
		"evaluation and its losses are counted). Ends with a summary: events, alerts per\n"
		"rule, losses.",
	.examples = "  ebee guard run\n  ebee guard run -r /etc/falco/falco_rules.yaml --json\n"
		    "  ebee guard run -o http://127.0.0.1:2801/ -o file:/var/log/ebee-alerts.json",
};

const struct ebee_cmd guard_run_cmd = {
	.name = "run", .summary = "evaluate Falco rules on live events and alert",
	.req = REQ_BPF | REQ_BTF | REQ_TRACEFS,
	.run = run_run, .opts = run_opts, .cfg_size = sizeof(struct run_cfg),
	.doc = &run_doc, .min_pos = 0, .max_pos = 0,
};
