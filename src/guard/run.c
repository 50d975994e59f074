// SPDX-License-Identifier: BSD-2-Clause
/* ebee guard run and the "guard" collector: the rules evaluated on live events. An events
 * collector (src/events) is made with only the event types the loaded rules need, and what the
 * rules decide is pushed into its kernel prefilter; each record it delivers is turned into a
 * struct gevent (guard/gevent.h) and evaluated against the rules indexed by its Falco event
 * type, as Falco does, so a record is compared with the few rules that can match it.
 * Every alert is an event (EV_ALERT, struct guard_alert) emitted to the collector's
 * subscribers (the daemon's stream renders it as Falco's JSON through desc->event_json), and
 * printed as text or Falco's JSON by the CLI, appended to files (-o file:PATH) and posted to
 * HTTP endpoints (-o http:URL, guard/http.c). Kernel drops are watched each second as Falco's
 * syscall_event_drops does. */
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/capability.h>

#include "core/collector.h"
#include "core/json.h"
#include "core/loop.h"
#include "core/out.h"
#include "core/priv.h"
#include "enforce/enforcer.h"
#include "events/evtypes.h"
#include "events/kfilter.h"
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
	double drop_threshold;         /* percent of a second's records; 0 = 10 */
	unsigned long long ring_size;
	struct opt_list efiles;        /* -e: enforcement rules (src/enforce) */
	bool enforce;
	bool module_attempts;          /* --module-attempts (events/evtypes.h) */
};

struct engine {
	struct guard_ruleset *rs;
	struct enforcer *enf;          /* -e; NULL without */
	/* rules by Falco event type index */
	const struct guard_rule **by_type[256];
	int nby_type[256];
	struct cond_memo memo;         /* the event's results of checks rules share */
	uint64_t *alerts;          /* per rule */
	uint64_t events, evaluated, nalerts;
	uint64_t per_type[EV__MAX];   /* events per ebee type, as they reached user space */
	bool state[EV__MAX];          /* types captured for the process table, not for rules */
	char norm[PROC_CWD_LEN + EV_PATH_LEN + 2];   /* the event's normalised path */
	struct collector *self;       /* the guard collector */
	struct collector *ev;         /* the events collector it reads */
	struct proctab *pt;
	struct guard_procs procs;
	FILE *out;                 /* the CLI's stdout; NULL in the daemon */
	bool json;
	FILE *files[MAX_OUTPUTS];
	int nfiles;
	struct http_out *http[MAX_OUTPUTS];
	int nhttp;
	char hostname[256];
	struct guard_alert al;     /* the alert being made (one at a time, on the loop's thread) */
	char js[16384];            /* its JSON */
	/* drop accounting (Falco's syscall_event_drops) */
	double drop_threshold;     /* fraction of a second's records */
	int timer;                 /* -1 = none */
	uint64_t last_events, last_lost, last_by_type[EV__MAX];
	uint64_t drop_alerts, drop_seconds;   /* alerts raised; seconds above the threshold */
	uint64_t last_drop_alert_ns;
};

/* The events collector's kernel counters; none when enforcement runs alone (no events). */
static void kcounters(const struct engine *E, struct ev_kcounters *kc)
{
	if (E->ev)
		ev_kcounters(E->ev, kc);
	else
		memset(kc, 0, sizeof(*kc));
}

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

/* Lexical normalisation of an absolute path, as Falco's fd.name: "//" and "/./" collapse,
 * "/x/.." goes (not past "/"). Symlinks are not resolved (Falco does not either). dst may not
 * be src; len >= 2. */
static const char *normalise(const char *src, char *dst, size_t len)
{
	size_t o = 0;

	if (src[0] != '/' || (!strstr(src, "//") && !strstr(src, "/.")))
		return src;   /* the common case: nothing to do, no copy */
	for (const char *p = src; *p;) {
		const char *e;
		size_t n;

		while (*p == '/')
			p++;
		e = p + strcspn(p, "/");
		n = (size_t)(e - p);
		if (!n || (n == 1 && p[0] == '.')) {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (o && dst[--o] != '/')
				;
		} else if (o + 1 + n < len) {
			dst[o++] = '/';
			memcpy(dst + o, p, n);
			o += n;
		}
		p = e;
	}
	if (!o)
		dst[o++] = '/';
	dst[o] = 0;
	return dst;
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
	if (p && e->family != 1)
		p = normalise(p, E->norm, sizeof(E->norm));
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

/* An alert as Falco's JSON (json_output: true): members of the open object w. The daemon's
 * event stream, the CLI's --json, files and HTTP all write this. */
static void alert_json(const struct engine *E, struct jw *w, const struct guard_alert *al)
{
	const struct guard_rule *r = al->rule < (uint32_t)E->rs->nrules ? E->rs->rules[al->rule] : NULL;
	char tbuf[64], when[80];
	time_t sec = al->real_ns / 1000000000ull;
	struct tm tm;

	jw_kstr(w, "hostname", E->hostname);
	jw_kstr(w, "output", al->output);
	jw_key(w, "output_fields");
	jw_raw(w, al->fields);
	jw_kstr(w, "priority", rule_prio_names[al->prio]);
	jw_kstr(w, "rule", al->rule_name);
	jw_kstr(w, "source", "syscall");
	jw_key(w, "tags");
	jw_arr_begin(w);
	for (int i = 0; r && i < r->ntags; i++)
		jw_str(w, r->tags[i]);
	jw_arr_end(w);
	/* Falco: RFC 3339 UTC with nanoseconds */
	gmtime_r(&sec, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when, sizeof(when), "%s.%09lluZ", tbuf,
		 (unsigned long long)(al->real_ns % 1000000000ull));
	jw_kstr(w, "time", when);
}

/* The alert in E->al, complete: counted, emitted, printed, written and posted. */
static void alert_out(struct engine *E)
{
	struct guard_alert *al = &E->al;
	struct jw w;
	size_t n;

	E->nalerts++;
	if (al->rule < (uint32_t)E->rs->nrules)
		E->alerts[al->rule]++;
	if (E->self)
		collector_emit(E->self, &al->hdr);
	if (E->out && !E->json)
		fprintf(E->out, "%s\n", al->output);
	if (!(E->out && E->json) && !E->nfiles && !E->nhttp)
		return;
	jw_init_buf(&w, E->js, sizeof(E->js));
	jw_obj_begin(&w);
	alert_json(E, &w, al);
	jw_obj_end(&w);
	n = jw_finish(&w);
	if (E->out && E->json)
		fprintf(E->out, "%s\n", E->js);
	for (int i = 0; i < E->nfiles; i++)
		fprintf(E->files[i], "%s\n", E->js);
	for (int i = 0; i < E->nhttp; i++)
		http_out_post(E->http[i], E->js, n);
}

/* Falco's text line starts "HH:MM:SS.nnnnnnnnn: Priority " (local time). */
static size_t alert_head(char *buf, size_t len, uint64_t real, enum rule_prio prio)
{
	time_t sec = real / 1000000000ull;
	struct tm tm;
	size_t o;

	localtime_r(&sec, &tm);
	o = strftime(buf, len, "%H:%M:%S", &tm);
	o += snprintf(buf + o, len - o, ".%09llu: %s ", (unsigned long long)(real % 1000000000ull),
		      rule_prio_names[prio]);
	return o;
}

static void alert_begin(struct engine *E, const struct ebee_event_hdr *h, uint32_t rule,
			const char *name, enum rule_prio prio)
{
	struct guard_alert *al = &E->al;

	al->hdr = *h;
	al->hdr.type = EV_ALERT;
	al->hdr.size = sizeof(*al);
	al->real_ns = ebee_ktime_to_real(h->time_ns);
	al->rule = rule;
	al->prio = prio;
	snprintf(al->rule_name, sizeof(al->rule_name), "%s", name);
	snprintf(al->priority, sizeof(al->priority), "%s", rule_prio_names[prio]);
}

static void alert(struct engine *E, const struct guard_rule *r, struct gevent *g)
{
	struct guard_alert *al = &E->al;
	char val[1024];
	size_t o;
	struct jw w;

	alert_begin(E, g->hdr, (uint32_t)r->index, r->name, r->prio);
	o = alert_head(al->output, sizeof(al->output), al->real_ns, r->prio);
	for (int i = 0; i < r->nparts && o < sizeof(al->output); i++) {
		o += snprintf(al->output + o, sizeof(al->output) - o, "%s", r->parts[i].lit);
		if (r->parts[i].field >= 0 && o < sizeof(al->output)) {
			field_value(&r->ofields[r->parts[i].field], g, val, sizeof(val), NULL);
			o += snprintf(al->output + o, sizeof(al->output) - o, "%s", val);
		}
	}
	/* output_fields: every %field of the output, typed, null for <NA> */
	jw_init_buf(&w, al->fields, sizeof(al->fields));
	jw_obj_begin(&w);
	for (int i = 0; i < r->nofields; i++) {
		jw_key(&w, r->ofields[i].name);
		field_value(&r->ofields[i], g, val, sizeof(val), &w);
	}
	jw_obj_end(&w);
	jw_finish(&w);
	alert_out(E);
}

static void on_event(void *arg, const struct ebee_event_hdr *h)
{
	struct engine *E = arg;
	struct gevent g;
	char path[PROC_CWD_LEN + EV_PATH_LEN + 2];
	E->events++;
	if (h->type < EV__MAX)
		E->per_type[h->type]++;
	if (!to_gevent(E, h, &g, path, sizeof(path)) || g.sc >= 256)
		return;
	cond_memo_next(&E->memo);
	for (int i = 0; i < E->nby_type[g.sc]; i++) {
		const struct guard_rule *r = E->by_type[g.sc][i];
		/* g.extra (the /proc reads) is kept for the next rules: one event, one read */
		E->evaluated++;
		if (cond_eval_memo(r->cond, &g, &E->memo))
			alert(E, r, &g);
	}
}

/* ---- the kernel prefilter ---------------------------------------------------------------- */

/* Types whose record's path is the one fd.name / fd.nameraw read (rename and link name the old
 * path; memfd's is a name), so a prefix or "../" test in the kernel decides what rules see. */
static bool kpath_type(int t)
{
	return t == EV_OPEN || t == EV_UNLINK || t == EV_CHMOD || t == EV_CHOWN || t == EV_MKDIR ||
	       t == EV_TRUNCATE || t == EV_SYMLINK;
}

/* One clause per (syscall, rule indexed on it): what cond_kparts says the rule implies. */
static int push_kfilter(struct engine *E, struct collector *c, int verbose)
{
	struct ev_kclause *cl = NULL;
	int n = 0, cap = 0, err;

	for (int sc = 1; sc < SC__MAX; sc++) {
		int t = guard_evtype_index(ev_syscalls[sc].name), st = ev_syscalls[sc].type;

		/* records the process table or the fd table keep state from cross whole */
		if (t < 0 || t >= 256 || !E->nby_type[t] || E->state[st] || st == EV_CHDIR)
			continue;
		for (int i = 0; i < E->nby_type[t]; i++) {
			const struct guard_rule *r = E->by_type[t][i];
			bool pth = kpath_type(st);

			if (n == cap) {
				struct ev_kclause *x = realloc(cl, (cap = cap ? 2 * cap : 64) * sizeof(*cl));
				if (!x) {
					free(cl);
					return -ENOMEM;
				}
				cl = x;
			}
			cl[n++] = (struct ev_kclause){
				.sc = sc,
				.comm = (const char *const *)r->kp.comm,
				.ncomm = r->kp.comm_any ? -1 : r->kp.ncomm,
				.path = (const char *const *)r->kp.path,
				.npath = pth && !r->kp.path_any ? r->kp.npath : -1,
				.need_write = st == EV_OPEN && r->kp.need_write,
				.need_dotdot = pth && r->kp.need_dotdot,
			};
		}
	}
	err = ev_kfilter_set(c, cl, n);
	free(cl);
	if (!err && verbose) {
		char line[1024];
		size_t o = 0;

		line[0] = 0;
		for (int sc = 1; sc < SC__MAX && o < sizeof(line); sc++)
			if (ev_kfilter_on(c, sc))
				o += snprintf(line + o, sizeof(line) - o, " %s", ev_syscalls[sc].name);
		ebee_info("guard: filtered in the kernel:%s", o ? line : " nothing");
	}
	return err;
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

/* ---- drop accounting ------------------------------------------------------------------- */

#define DROP_RULE "Falco internal: syscall event drop"
#define DROP_ALERT_EVERY_NS (30 * 1000000000ull)   /* Falco's rate: 1 per 30 s, burst 1 */

/* Each second: the records the kernel could not queue against those that reached us; above
 * the threshold, one alert (rate-limited) that rules may have missed events, as Falco's
 * syscall_event_drops action "alert" does. */
static int drops_tick(struct ebee_loop *l, void *arg)
{
	struct engine *E = arg;
	struct ev_kcounters kc;
	uint64_t lost, evs, now = ebee_now_ns();
	struct guard_alert *al = &E->al;
	struct ebee_event_hdr h = { .time_ns = now, .pid = (uint32_t)getpid(), .tid = (uint32_t)getpid() };
	struct jw w;
	size_t o;

	(void)l;
	kcounters(E, &kc);
	lost = kc.lost - E->last_lost;
	evs = E->events - E->last_events;
	E->last_lost = kc.lost;
	E->last_events = E->events;
	if (!lost || (double)lost / (double)(lost + evs) <= E->drop_threshold) {
		memcpy(E->last_by_type, kc.lost_by_type, sizeof(E->last_by_type));
		return 0;
	}
	E->drop_seconds++;
	if (E->last_drop_alert_ns && now - E->last_drop_alert_ns < DROP_ALERT_EVERY_NS) {
		memcpy(E->last_by_type, kc.lost_by_type, sizeof(E->last_by_type));
		return 0;
	}
	E->last_drop_alert_ns = now;
	E->drop_alerts++;
	snprintf(h.comm, sizeof(h.comm), "ebee");
	alert_begin(E, &h, UINT32_MAX, DROP_RULE, PRIO_DEBUG);
	o = alert_head(al->output, sizeof(al->output), al->real_ns, PRIO_DEBUG);
	snprintf(al->output + o, sizeof(al->output) - o,
		 "Falco internal: syscall event drop. %llu system calls dropped in last second.",
		 (unsigned long long)lost);
	jw_init_buf(&w, al->fields, sizeof(al->fields));
	jw_obj_begin(&w);
	jw_ku64(&w, "ebpf_enabled", 1);
	jw_ku64(&w, "n_drops", lost);
	jw_ku64(&w, "n_drops_buffer_total", lost);
	/* per source: the event types whose records were lost */
	for (int t = 0; t < EV__MAX; t++) {
		char k[64];

		if (kc.lost_by_type[t] > E->last_by_type[t] && event_desc(t)) {
			snprintf(k, sizeof(k), "n_drops_buffer_%s", event_desc(t)->name);
			jw_ku64(&w, k, kc.lost_by_type[t] - E->last_by_type[t]);
		}
	}
	jw_kf64(&w, "n_drops_pct", 100.0 * (double)lost / (double)(lost + evs));
	jw_ku64(&w, "n_evts", lost + evs);
	jw_obj_end(&w);
	jw_finish(&w);
	memcpy(E->last_by_type, kc.lost_by_type, sizeof(E->last_by_type));
	alert_out(E);
	E->nalerts--;   /* not a rule's alert: counted as drop_alerts */
	return 0;
}

/* ---- the collector -------------------------------------------------------------------------- */

static void engine_free(struct engine *E)
{
	collector_free(E->ev);
	E->ev = NULL;
	enforcer_free(E->enf);
	E->enf = NULL;
	for (int t = 0; t < 256; t++)
		free(E->by_type[t]);
	cond_memo_fini(&E->memo);
	for (int i = 0; i < E->nfiles; i++)
		fclose(E->files[i]);
	for (int i = 0; i < E->nhttp; i++)
		http_out_free(E->http[i]);
	free(E->alerts);
	guard_rules_free(E->rs);
}

static const struct ebee_field alert_fields[] = {
	FIELD("rule", FK_STR, struct guard_alert, rule_name, .doc = "the rule that fired"),
	FIELD("priority", FK_STR, struct guard_alert, priority, .doc = "its priority, as Falco names it"),
	FIELD("output", FK_STR, struct guard_alert, output, .doc = "the rule's output, fields filled in"),
};

static const struct ebee_event_desc alert_desc = {
	.type = EV_ALERT, .name = "alert", .size = sizeof(struct guard_alert),
	.fields = alert_fields, .nfields = ARRAY_SIZE(alert_fields),
	.doc = "an alert of a guard rule (Falco's JSON through the guard collector)",
};

static int g_open(struct collector *c)
{
	struct run_cfg *cfg = c->cfg;
	struct engine *E = c->priv;
	struct ev_opts eo = { .mode = EVM_EVENTS, .ring_size = cfg->ring_size,
			      .module_attempts = cfg->module_attempts };
	bool need[EV__MAX] = { false };
	int err = 0, nrules = 0;

	E->self = c;
	E->timer = -1;
	E->json = c->ctx && c->ctx->json;
	E->out = c->out ? c->out->f : NULL;
	E->drop_threshold = (cfg->drop_threshold ? cfg->drop_threshold : 10) / 100.0;
	if (!event_desc(EV_ALERT))
		event_register(&alert_desc);
	E->rs = guard_load(&cfg->rules, false, cfg->module_attempts);
	if (!E->rs)
		return -EINVAL;
	gethostname(E->hostname, sizeof(E->hostname) - 1);
	if (cfg->enforce && !cfg->efiles.n) {
		ebee_err("--enforce needs enforcement rules (-e FILE)");
		return -EINVAL;
	}
	if (cfg->efiles.n && !(E->enf = enforcer_new(&cfg->efiles, E->rs, cfg->enforce)))
		return -EINVAL;
	cond_memo_init(&E->memo, E->rs->share);
	E->alerts = calloc(E->rs->nrules ? E->rs->nrules : 1, sizeof(*E->alerts));
	if (!E->alerts)
		return -ENOMEM;
	for (int i = 0; i < cfg->outputs.n && !err; i++)
		err = add_output(E, cfg->outputs.v[i]);
	if (err)
		return err;
	/* index the rules by event type; ask the events collector for those types only */
	for (int i = 0; i < E->rs->nrules; i++) {
		const struct guard_rule *r = E->rs->rules[i];
		if (r->status != RS_EVALUABLE && r->status != RS_DEGRADED)
			continue;
		nrules++;
		for (int t = 0; t < guard_evtype_count() && t < 256; t++) {
			if (!cond_kparts_live_evtype(&r->kp, t) || !guard_rs_source(E->rs, t))
				continue;
			const struct guard_rule **x = realloc(E->by_type[t], (E->nby_type[t] + 1) * sizeof(*x));
			if (!x)
				return -ENOMEM;
			E->by_type[t] = x;
			E->by_type[t][E->nby_type[t]++] = r;
			need[guard_evtype_source(t)] = true;
		}
	}
	if (!nrules && !E->enf) {
		ebee_err("no rule to evaluate here (see 'ebee guard check')");
		return -EINVAL;
	}
	/* -e with a rules file that has nothing to evaluate (-r empty.yaml): enforcement alone,
	 * without the events collector's programs */
	if (!nrules)
		return 0;
	/* execs keep the process table's names and command lines current for every rule */
	need[EV_EXEC] = E->state[EV_EXEC] = true;
	/* an exec through /proc/self/fd/N is told from the memfd_create that made N */
	need[EV_MEMFD] = E->state[EV_MEMFD] = true;
	/* a dup is told from what its fd is: sockets come from socket/accept */
	if (need[EV_DUP])
		need[EV_SOCKET] = need[EV_ACCEPT] = E->state[EV_SOCKET] = E->state[EV_ACCEPT] = true;
	ev_register_all();
	for (int t = 0; t < EV__MAX; t++)
		if (need[t] && event_desc(t) && eo.types.n < OPT_LIST_MAX)
			eo.types.v[eo.types.n++] = event_desc(t)->name;
	/* the events collector prints nothing (no out): it feeds us */
	E->ev = collector_new(&events_collector, &eo);
	if (!E->ev)
		return -ENOMEM;
	if ((err = collector_open(E->ev)))
		return err;
	if ((err = collector_subscribe(E->ev, on_event, E)))
		return err;
	if ((err = push_kfilter(E, E->ev, c->ctx && c->ctx->verbose)))
		return err;
	E->pt = ev_proctab(E->ev);
	E->procs = (struct guard_procs){ pt_ancestor, pt_fd, E->pt };
	ebee_info("guard: %d rules on %d event types", nrules, eo.types.n);
	if (E->rs->modules_gated)
		ebee_info("guard: %d rule(s) on module loads not evaluated: " EV_MOD_WHY
			  " (--module-attempts watches them)", E->rs->modules_gated);
	return 0;
}

static int g_start(struct collector *c, struct ebee_loop *l)
{
	struct engine *E = c->priv;
	int err = E->ev ? collector_start(E->ev, l) : 0;

	if (!err && E->enf)
		err = enforcer_start(E->enf, l, E->out, E->json);
	if (err)
		return err;
	/* loading parsed the kernel's BTF (megabytes, freed since): hand the heap back */
	malloc_trim(0);
	if (!E->ev)
		return 0;
	E->timer = loop_add_timer(l, 1.0, drops_tick, E);
	return E->timer < 0 ? E->timer : 0;
}

static int g_refresh(struct collector *c)
{
	struct engine *E = c->priv;
	int err = E->ev ? collector_refresh(E->ev) : 0;   /* drains the ring: the counts below are current */

	/* the final refresh (after stop): the posts end before the summary counts them */
	for (int i = 0; c->stopped && i < E->nhttp; i++)
		http_out_drain(E->http[i], 2.0);

	c->cnt.events = E->events;
	if (!E->ev)
		return err;
	c->cnt.lost = E->ev->cnt.lost;
	c->cnt.missed = E->ev->cnt.missed;
	c->lost_why = E->ev->lost_why;
	if (E->ev->health != COLLECTOR_OK)
		collector_set_health(c, E->ev->health, "events: %s", E->ev->health_detail);
	return err;
}

static void g_stop(struct collector *c)
{
	struct engine *E = c->priv;

	if (E->ev)
		collector_stop(E->ev);
	enforcer_drain(E->enf);   /* the decisions still queued are reported before the summary */
	if (c->loop && E->timer >= 0)
		loop_del_timer(c->loop, E->timer);
	E->timer = -1;
}

static void g_close(struct collector *c)
{
	struct engine *E = c->priv;

	if (E->ev) {
		collector_stop(E->ev);
		collector_refresh(E->ev);   /* the last records are evaluated before the posts end */
	}
	for (int i = 0; i < E->nhttp; i++)
		http_out_drain(E->http[i], 2.0);
	if (c->loop && E->timer >= 0)
		loop_del_timer(c->loop, E->timer);
	engine_free(E);
}

static void http_totals(const struct engine *E, uint64_t *sent, uint64_t *lost)
{
	*sent = *lost = 0;
	for (int i = 0; i < E->nhttp; i++) {
		struct http_out_stats st;

		http_out_stats(E->http[i], &st);
		*sent += st.sent;
		*lost += st.lost;
	}
}

/* The closing summary's own keys (after events, lost, missed, duration_s). */
static void g_summary(struct collector *c, struct jw *w)
{
	struct engine *E = c->priv;
	struct ev_kcounters kc;
	uint64_t hsent, hlost;

	kcounters(E, &kc);
	http_totals(E, &hsent, &hlost);
	jw_ku64(w, "evaluations", E->evaluated);
	jw_ku64(w, "alerts", E->nalerts);
	jw_key(w, "alerts_by_rule");
	jw_obj_begin(w);
	for (int i = 0; i < E->rs->nrules; i++)
		if (E->alerts[i])
			jw_ku64(w, E->rs->rules[i]->name, E->alerts[i]);
	jw_obj_end(w);
	jw_ku64(w, "kernel_skipped", kc.skipped);
	jw_key(w, "events_by_type");
	jw_obj_begin(w);
	for (int t = 0; t < EV__MAX; t++)
		if (E->per_type[t] && event_desc(t))
			jw_ku64(w, event_desc(t)->name, E->per_type[t]);
	jw_obj_end(w);
	jw_key(w, "lost_by_type");
	jw_obj_begin(w);
	for (int t = 0; t < EV__MAX; t++)
		if (kc.lost_by_type[t] && event_desc(t))
			jw_ku64(w, event_desc(t)->name, kc.lost_by_type[t]);
	jw_obj_end(w);
	jw_ku64(w, "drop_seconds", E->drop_seconds);
	jw_ku64(w, "drop_alerts", E->drop_alerts);
	jw_ku64(w, "http_sent", hsent);
	jw_ku64(w, "http_lost", hlost);
	if (E->enf)
		enforcer_summary_fields(E->enf, w);
}

enum { GR_RULE, GR_PRIO, GR_ALERTS, GR__N };
static const struct out_col rule_cols[GR__N] = {
	[GR_RULE] = { "rule", "RULE", OUT_STR, -44 },
	[GR_PRIO] = { "priority", "PRIORITY", OUT_STR, -13 },
	[GR_ALERTS] = { "alerts", "ALERTS", OUT_U64, 8 },
};

/* The daemon's /api/guard rows: alerts per rule. The CLI prints alerts as they come and a
 * one-line summary on stderr in text mode (--json: the summary object). */
static void g_rows(struct collector *c, struct out *o)
{
	struct engine *E = c->priv;

	if (c->ctx) {
		if (!c->ctx->json) {
			fprintf(stderr, "ebee: guard: %llu events, %llu alerts",
				(unsigned long long)E->events, (unsigned long long)E->nalerts);
			for (int i = 0, n = 0; i < E->rs->nrules; i++)
				if (E->alerts[i])
					fprintf(stderr, "%s%s=%llu", n++ ? ", " : " (", E->rs->rules[i]->name,
						(unsigned long long)E->alerts[i]);
			fprintf(stderr, "%s, %llu lost, %llu drop alerts\n", E->nalerts ? ")" : "",
				(unsigned long long)c->cnt.lost, (unsigned long long)E->drop_alerts);
		}
		return;
	}
	out_cols(o, rule_cols, GR__N);
	for (int i = 0; i < E->rs->nrules; i++) {
		const struct guard_rule *r = E->rs->rules[i];

		if (r->status != RS_EVALUABLE && r->status != RS_DEGRADED)
			continue;
		out_str(o, GR_RULE, r->name);
		out_str(o, GR_PRIO, rule_prio_names[r->prio]);
		out_u64(o, GR_ALERTS, E->alerts[i]);
		out_row(o);
	}
}

static void g_metrics(struct collector *c, struct prom *p)
{
	struct engine *E = c->priv;
	struct ev_kcounters kc;
	uint64_t hsent, hlost;
	uint64_t by_prio[PRIO_DEBUG + 1] = { 0 };

	kcounters(E, &kc);
	http_totals(E, &hsent, &hlost);
	prom_family(p, "ebee_guard_events_total", "counter", "Events evaluated by guard's rules.");
	prom_u64(p, "ebee_guard_events_total", NULL, 0, E->events);
	prom_family(p, "ebee_guard_kernel_skipped_total", "counter",
		    "Events the kernel prefilter kept from user space (no rule could match).");
	prom_u64(p, "ebee_guard_kernel_skipped_total", NULL, 0, kc.skipped);
	prom_family(p, "ebee_guard_lost_total", "counter",
		    "Events the kernel could not queue (ring buffer full), by event type.");
	for (int t = 0; t < EV__MAX; t++)
		if (kc.lost_by_type[t] && event_desc(t)) {
			struct prom_label l = { "type", event_desc(t)->name };
			prom_u64(p, "ebee_guard_lost_total", &l, 1, kc.lost_by_type[t]);
		}
	prom_family(p, "ebee_guard_drop_alerts_total", "counter",
		    "Rate-limited alerts that events were dropped above the threshold.");
	prom_u64(p, "ebee_guard_drop_alerts_total", NULL, 0, E->drop_alerts);
	prom_family(p, "ebee_guard_alerts_total", "counter", "Alerts by rule and priority.");
	for (int i = 0; i < E->rs->nrules; i++) {
		const struct guard_rule *r = E->rs->rules[i];
		struct prom_label l[2] = { { "rule", r->name }, { "priority", rule_prio_names[r->prio] } };

		by_prio[r->prio] += E->alerts[i];
		if (r->status == RS_EVALUABLE || r->status == RS_DEGRADED)
			prom_u64(p, "ebee_guard_alerts_total", l, 2, E->alerts[i]);
	}
	prom_family(p, "ebee_guard_alerts_by_priority_total", "counter", "Alerts by priority.");
	for (int i = 0; i <= PRIO_DEBUG; i++) {
		struct prom_label l = { "priority", rule_prio_names[i] };
		prom_u64(p, "ebee_guard_alerts_by_priority_total", &l, 1, by_prio[i]);
	}
	prom_family(p, "ebee_guard_http_posts_total", "counter", "Alerts posted to HTTP outputs, by result.");
	prom_u64(p, "ebee_guard_http_posts_total", &(struct prom_label){ "result", "sent" }, 1, hsent);
	prom_u64(p, "ebee_guard_http_posts_total", &(struct prom_label){ "result", "lost" }, 1, hlost);
	if (E->enf)
		enforcer_metrics(E->enf, p);
}

static void g_event_json(struct collector *c, struct jw *w, const struct ebee_event_hdr *ev)
{
	if (ev->type == EV_ALERT && ev->size == sizeof(struct guard_alert))
		alert_json(c->priv, w, (const struct guard_alert *)ev);
	else
		event_json(w, ev);
}

/* The daemon runs ebee's built-in rules. */
/* The daemon's ring: 1 MB (the CLI keeps 4M): the kernel prefilter lets ~1 400 events/s of
 * bench/graph's storm through, against 32 000 for the graph, and 1 MB dropped none of them */
static const struct run_cfg guard_default_cfg = { .ring_size = 1 << 20 };


static int run_run(struct ebee_ctx *ctx, void *vcfg, int argc, char **argv)
{
	struct run_cfg *cfg = vcfg;
	struct out out;

	/* alerts are lines as they come */
	setvbuf(stdout, NULL, _IOLBF, 0);
	out_init(&out, stdout, ctx->json ? OUT_JSON : OUT_TABLE, NULL, 0);
	return collector_run_cli(&guard_collector, cfg, NULL, 0, cfg->duration, ctx, &out);
}

static const struct opt run_opts[] = {
	{ "rules", 'r', OPT_LIST, offsetof(struct run_cfg, rules), "FILE",
	  "a Falco rules file (repeatable; later files append to and override earlier ones)",
	  "ebee's built-in rules" },
	{ "output", 'o', OPT_LIST, offsetof(struct run_cfg, outputs), "file:PATH|http:URL",
	  "also send every alert, as Falco's JSON, to a file or an HTTP endpoint (repeatable)" },
	{ "duration", 'd', OPT_SECONDS, offsetof(struct run_cfg, duration), "SECONDS",
	  "stop after this long", NULL, 0, 1e9 },
	{ "drop-threshold", 0, OPT_DOUBLE, offsetof(struct run_cfg, drop_threshold), "PERCENT",
	  "alert (at most every 30 s) when the kernel drops more than this share of a second's events",
	  "10", 0.001, 100 },
	{ "ring-size", 0, OPT_SIZE, offsetof(struct run_cfg, ring_size), "SIZE",
	  "the events ring buffer's size (power of two, >= 4K)", "4M" },
	{ "enforcement", 'e', OPT_LIST, offsetof(struct run_cfg, efiles), "FILE",
	  "enforcement rules (deny/kill/audit; docs/enforce.md), audited unless --enforce" },
	{ "enforce", 0, OPT_FLAG, offsetof(struct run_cfg, enforce), NULL,
	  "act on the enforcement rules (deny, kill) instead of alerting only" },
	EV_MODULE_OPT(struct run_cfg, module_attempts),
	OPT_END,
};

const struct collector_desc guard_collector = {
	.name = "guard",
	.what = "Falco rules evaluated on the events collector's records (alerts as events)",
	/* its programs are the events collector's (ev_): the same hooks, attributed to events */
	.hooks = ev_hooks,
	.nhooks = EV_NHOOKS,
	.doctor = ev_doctor,
	.caps_run = COLLECTOR_CAPS(EBEE_CAP(CAP_SYS_PTRACE) | EBEE_CAP(CAP_DAC_READ_SEARCH)),
	.priv_size = sizeof(struct engine),
	.cfg_size = sizeof(struct run_cfg),
	.cfg_default = &guard_default_cfg,
	.open = g_open,
	.start = g_start,
	.refresh = g_refresh,
	.rows = g_rows,
	.metrics = g_metrics,
	.summary = g_summary,
	.stop = g_stop,
	.close = g_close,
	.event_json = g_event_json,
	.opts = run_opts,   /* a daemon config takes `guard run`'s options */
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
