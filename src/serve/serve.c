// SPDX-License-Identifier: BSD-2-Clause
/* `ebee serve`: the daemon. Two threads: the main one runs ebee's event loop (the signalfd,
 * the ring buffers, the refresh timer: every BPF operation, with the capabilities loading
 * takes), the HTTP one runs libmicrohttpd in external-epoll mode with no capability at all, as
 * it parses what clients send. They share the collectors' data under one mutex, held by the
 * loop while its callbacks run and by the HTTP thread while MHD runs (http_main); every
 * response is rendered into its own buffer (no global output state).
 *
 * It runs the collectors a YAML config names (config.c; none: netwatch, tcp and prog) from the
 * registry, through the collector interface only: each is opened and started on its own, one
 * that fails is reported (/readyz, /api/collectors, ebee_collector_up) while the others run.
 * For each: /api/NAME (its document), its families in /metrics, its events in /api/events
 * (stream.c). SIGHUP re-reads the config: collectors whose options did not change keep running
 * (and their counters), the others are stopped or started. The router (route.c) is a pure
 * function, fuzzed. The page (web/) is compiled into the binary. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <microhttpd.h>

#include "core/cmd.h"
#include "core/collector.h"
#include "core/json.h"
#include "core/loop.h"
#include "core/out.h"
#include "core/priv.h"
#include "netwatch/collect.h"
#include "serve/config.h"
#include "serve/page.h"      /* generated: serve_page[], serve_page_len */
#include "serve/route.h"
#include "serve/stream.h"

#define SERVE_DEFAULT_LISTEN "127.0.0.1:8700"
#define SERVE_API_TOP 500
#define SERVE_DEFAULT_CONNECTIONS 256
#define SERVE_MAX_REQUEST 65536    /* headers and URL of one request, bytes */

struct serve_cfg {
	const char *config;
	bool check_config;
	struct nw_opts nw;
	struct opt_list collectors;
	const char *listen, *token_file, *tls_cert, *tls_key;
	bool insecure_no_auth;
	double interval;
	double duration;
	unsigned long long max_connections, max_streams, event_buffer;
};

static const struct serve_cfg serve_defaults = {
	.nw = NW_OPTS_DEFAULT,
};

static const struct opt serve_opts[] = {
	{ "config", 'c', OPT_STR, offsetof(struct serve_cfg, config), "FILE",
	  "YAML config: server settings and the collectors to run with their options" },
	{ "check-config", 0, OPT_FLAG, offsetof(struct serve_cfg, check_config), NULL,
	  "check the config file and exit (0 valid; 2 with FILE:LINE of the problem)" },
	{ "listen", 'l', OPT_STR, offsetof(struct serve_cfg, listen), "ADDR:PORT",
	  "address to serve HTTP on ([::1]:PORT for IPv6; port 0 picks a free one)", SERVE_DEFAULT_LISTEN },
	{ "token-file", 0, OPT_STR, offsetof(struct serve_cfg, token_file), "FILE",
	  "require 'Authorization: Bearer TOKEN' (the file's content) on every endpoint but /healthz" },
	{ "insecure-no-auth", 0, OPT_FLAG, offsetof(struct serve_cfg, insecure_no_auth), NULL,
	  "allow a non-loopback --listen without a token" },
	{ "tls-cert", 0, OPT_STR, offsetof(struct serve_cfg, tls_cert), "FILE",
	  "serve HTTPS with this PEM certificate (with --tls-key)" },
	{ "tls-key", 0, OPT_STR, offsetof(struct serve_cfg, tls_key), "FILE", "the certificate's PEM key" },
	{ "collectors", 0, OPT_LIST, offsetof(struct serve_cfg, collectors), "NAME",
	  "collectors to run with their defaults, instead of the config's (comma-separated)",
	  "netwatch,tcp,prog" },
	NW_COMMON_OPTS(struct serve_cfg, nw),
	{ "interval", 0, OPT_SECONDS, offsetof(struct serve_cfg, interval), "SECONDS",
	  "refresh the data every SECONDS", "1s", 0.05, 3600 },
	{ "duration", 'd', OPT_SECONDS, offsetof(struct serve_cfg, duration), "SECONDS",
	  "stop after SECONDS (0 = until Ctrl-C)", "0", 0, 1e9 },
	{ "max-connections", 0, OPT_UINT, offsetof(struct serve_cfg, max_connections), "N",
	  "HTTP connections at once; more are refused", "256", 1, 100000 },
	{ "max-streams", 0, OPT_UINT, offsetof(struct serve_cfg, max_streams), "N",
	  "/api/events streams at once; more get 503", "64", 1, 100000 },
	{ "event-buffer", 0, OPT_UINT, offsetof(struct serve_cfg, event_buffer), "N",
	  "events kept for streams that reconnect (Last-Event-ID)", "1024", 16, 1 << 20 },
	OPT_END,
};

/* A configured collector: its conf (which its cfg's strings point into), the instance, and why
 * it is not running when it failed. Allocated one by one: subscriptions point at src. */
struct running {
	struct serve_col_conf conf;
	struct collector *c;
	struct stream_src src;
	bool failed, warned;
	char why[256];
};

struct serve {
	struct serve_cfg *cfg;
	struct running *rs[SERVE_MAX_COLLECTORS];
	int n;
	struct ebee_loop *loop;
	struct stream *st;
	struct MHD_Daemon *httpd;
	pthread_t http_thr;
	pthread_mutex_t mu;       /* the collectors' data: main loop vs HTTP thread (http_main) */
	bool http_running, http_stop;
	int wake;                 /* eventfd: wakes the HTTP thread (resumed streams, stop) */
	char *token;
	uint64_t responses[6];    /* by status class: 1xx..5xx, index 0 unused */
	uint64_t unauthorized;
	uint64_t reloads[2];      /* ok, failed */
	const struct serve_conf *boot;   /* the file as read at start: its server settings */
};

/* --- what the collectors render --- */

static const char *health_name(const struct running *r)
{
	if (r->failed || !r->c)
		return "failed";
	return r->c->health == COLLECTOR_OK ? "ok" : r->c->health == COLLECTOR_DEGRADED ? "degraded" :
									  "failed";
}

static const char *health_why(const struct running *r)
{
	return r->failed || !r->c ? r->why : r->c->health_detail;
}

static void render_api(FILE *f, struct running *rn, const struct route *rt)
{
	struct collector *c = rn->c;
	size_t top = rt->top >= 0 ? (size_t)rt->top : SERVE_API_TOP;
	struct jw w;

	jw_init_file(&w, f);
	jw_obj_begin(&w);
	jw_kstr(&w, "collector", rn->conf.d->name);
	jw_kstr(&w, "health", health_name(rn));
	if (*health_why(rn))
		jw_kstr(&w, "detail", health_why(rn));
	if (c) {
		jw_ku64(&w, "events", c->cnt.events);
		jw_ku64(&w, "lost", c->cnt.lost);
		jw_ku64(&w, "missed", c->cnt.missed);
	}
	if (c && c->desc->api) {
		c->desc->api(c, &w, top);
	} else if (c && c->desc->rows) {
		/* Generic: the collector's rows, as values of "rows"; rows() sets its own columns
		 * on the writer it gets (out_cols). */
		struct out *o = malloc(sizeof(*o));

		jw_key(&w, "rows");
		jw_arr_begin(&w);
		if (o) {
			out_init_jw(o, &w, NULL, 0);
			c->desc->rows(c, o);
			free(o);
		}
		jw_arr_end(&w);
	}
	jw_obj_end(&w);
	jw_finish(&w);
	jw_newline(&w);
}

static void render_collectors(FILE *f, struct serve *s)
{
	struct jw w;

	jw_init_file(&w, f);
	jw_obj_begin(&w);
	jw_kstr(&w, "version", EBEE_VERSION);
	jw_key(&w, "collectors");
	jw_arr_begin(&w);
	for (int i = 0; i < s->n; i++) {
		struct running *r = s->rs[i];

		jw_obj_begin(&w);
		jw_kstr(&w, "name", r->conf.d->name);
		jw_kstr(&w, "what", r->conf.d->what ? r->conf.d->what : "");
		jw_kbool(&w, "running", r->c && !r->failed);
		jw_kstr(&w, "health", health_name(r));
		if (*health_why(r))
			jw_kstr(&w, "detail", health_why(r));
		if (r->c) {
			jw_ku64(&w, "events", r->c->cnt.events);
			jw_ku64(&w, "lost", r->c->cnt.lost);
			jw_ku64(&w, "missed", r->c->cnt.missed);
		}
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_key(&w, "available");
	jw_arr_begin(&w);
	for (const struct collector_desc *const *d = ebee_collectors; *d; d++)
		jw_str(&w, (*d)->name);
	jw_arr_end(&w);
	jw_key(&w, "events");
	jw_obj_begin(&w);
	jw_ku64(&w, "last_id", stream_last_id(s->st));
	jw_ku64(&w, "streams", stream_clients(s->st));
	jw_obj_end(&w);
	jw_obj_end(&w);
	jw_finish(&w);
	jw_newline(&w);
}

static void family_u64(struct prom *p, struct serve *s, const char *name, const char *help,
		       uint64_t (*get)(const struct running *))
{
	prom_family(p, name, "counter", help);
	for (int i = 0; i < s->n; i++) {
		struct prom_label l = { "collector", s->rs[i]->conf.d->name };

		if (s->rs[i]->c)
			prom_u64(p, name, &l, 1, get(s->rs[i]));
	}
}

static uint64_t get_events(const struct running *r) { return r->c->cnt.events; }
static uint64_t get_lost(const struct running *r) { return r->c->cnt.lost; }
static uint64_t get_missed(const struct running *r) { return r->c->cnt.missed; }

static void render_metrics(FILE *f, struct serve *s)
{
	struct prom p;
	struct prom_label l = { "version", EBEE_VERSION };

	prom_init(&p, f);
	prom_family(&p, "ebee_build_info", "gauge", "ebee's version.");
	prom_u64(&p, "ebee_build_info", &l, 1, 1);
	prom_family(&p, "ebee_serve_http_responses_total", "counter", "HTTP responses by status class.");
	for (int i = 1; i <= 5; i++) {
		char code[8];
		struct prom_label lc = { "code", code };

		snprintf(code, sizeof(code), "%dxx", i);
		prom_u64(&p, "ebee_serve_http_responses_total", &lc, 1, s->responses[i]);
	}
	prom_family(&p, "ebee_serve_unauthorized_total", "counter",
		    "Requests refused for a missing or wrong bearer token.");
	prom_u64(&p, "ebee_serve_unauthorized_total", NULL, 0, s->unauthorized);
	prom_family(&p, "ebee_serve_config_reloads_total", "counter", "Config reloads (SIGHUP) by result.");
	{
		struct prom_label ok = { "result", "ok" }, bad = { "result", "failed" };

		prom_u64(&p, "ebee_serve_config_reloads_total", &ok, 1, s->reloads[0]);
		prom_u64(&p, "ebee_serve_config_reloads_total", &bad, 1, s->reloads[1]);
	}
	prom_family(&p, "ebee_serve_events_total", "counter", "Events that entered the event stream.");
	prom_u64(&p, "ebee_serve_events_total", NULL, 0, stream_last_id(s->st));
	prom_family(&p, "ebee_serve_event_streams", "gauge", "Clients reading /api/events now.");
	prom_u64(&p, "ebee_serve_event_streams", NULL, 0, stream_clients(s->st));
	prom_family(&p, "ebee_serve_event_streams_refused_total", "counter",
		    "/api/events clients refused beyond max_streams.");
	prom_u64(&p, "ebee_serve_event_streams_refused_total", NULL, 0, stream_refused(s->st));
	prom_family(&p, "ebee_collector_up", "gauge",
		    "1 when the configured collector runs (ok or degraded), 0 when it failed.");
	for (int i = 0; i < s->n; i++) {
		struct prom_label lc = { "collector", s->rs[i]->conf.d->name };

		prom_u64(&p, "ebee_collector_up", &lc, 1, strcmp(health_name(s->rs[i]), "failed") != 0);
	}
	family_u64(&p, s, "ebee_collector_events_total",
		   "Records the collector received from the kernel (or counted there).", get_events);
	family_u64(&p, s, "ebee_collector_lost_events_total",
		   "Records the kernel could not queue (ring buffer or map full).", get_lost);
	family_u64(&p, s, "ebee_collector_missed_runs_total",
		   "Runs of the collector's BPF programs the kernel skipped (recursion).", get_missed);
	for (int i = 0; i < s->n; i++)
		if (s->rs[i]->c && !s->rs[i]->failed && s->rs[i]->c->desc->metrics)
			s->rs[i]->c->desc->metrics(s->rs[i]->c, &p);
}

static struct running *find_running(struct serve *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(name, s->rs[i]->conf.d->name))
			return s->rs[i];
	return NULL;
}

/* --- HTTP --- */

static enum MHD_Result queue(struct serve *s, struct MHD_Connection *c, unsigned code,
			     struct MHD_Response *r, const char *type)
{
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (code == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"ebee\"");
	/* A refused client does not keep its connection: refusals must free what they bound. */
	if (code >= 400)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	if (code / 100 >= 1 && code / 100 <= 5)
		s->responses[code / 100]++;
	return ret;
}

static enum MHD_Result reply(struct serve *s, struct MHD_Connection *c, unsigned code,
			     const char *type, void *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	return queue(s, c, code, r, type);
}

static enum MHD_Result reply_error(struct serve *s, struct MHD_Connection *c, unsigned code,
				   const char *msg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct jw w;

	if (!f)
		return MHD_NO;
	jw_init_file(&w, f);
	jw_obj_begin(&w);
	jw_kstr(&w, "error", msg);
	jw_obj_end(&w);
	jw_newline(&w);
	fclose(f);
	return reply(s, c, code, "application/json", buf, len, MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result each_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct route *r = cls;

	(void)kind;
	return route_arg(r, key, value) ? MHD_NO : MHD_YES;
}

/* Renders into a memory stream and answers 200 with it. */
static enum MHD_Result reply_doc(struct serve *s, struct MHD_Connection *conn, const char *type,
				 void (*render)(FILE *, struct serve *, void *), void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return MHD_NO;
	render(f, s, arg);
	fclose(f);
	return reply(s, conn, MHD_HTTP_OK, type, buf, len, MHD_RESPMEM_MUST_FREE);
}

static void doc_metrics(FILE *f, struct serve *s, void *arg) { (void)arg; render_metrics(f, s); }
static void doc_collectors(FILE *f, struct serve *s, void *arg) { (void)arg; render_collectors(f, s); }

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req)
{
	struct serve *s = cls;
	struct running *rn;
	struct route rt;
	bool authed;

	(void)version;
	(void)upload;
	(void)req;
	route_path(&rt, method, url);
	if (rt.kind == R_BAD_METHOD)
		return reply_error(s, conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD");
	/* GET and HEAD carry no body: refuse one as soon as the headers announce it. */
	{
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

		if (*upload_size || (cl && strcmp(cl, "0")) ||
		    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
			return reply_error(s, conn, 413, "request bodies are not accepted");
	}
	authed = !s->token || route_auth(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
								       MHD_HTTP_HEADER_AUTHORIZATION), s->token);
	if (rt.needs_auth && !authed && rt.kind != R_READYZ) {
		s->unauthorized++;
		return reply_error(s, conn, MHD_HTTP_UNAUTHORIZED, "missing or wrong bearer token");
	}
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, each_arg, &rt);
	if (!rt.err && rt.kind == R_EVENTS) {
		const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Last-Event-ID");

		if (h && !rt.have_last)
			route_last_id(&rt, h);
	}
	if (rt.err)
		return reply_error(s, conn, MHD_HTTP_BAD_REQUEST, rt.err);

	switch (rt.kind) {
	case R_PAGE:
		return reply(s, conn, MHD_HTTP_OK, "text/html; charset=utf-8", (void *)serve_page,
			     serve_page_len, MHD_RESPMEM_PERSISTENT);
	case R_HEALTHZ:
		/* Liveness: the loop answers. Collector failures are readiness (below). */
		return reply(s, conn, MHD_HTTP_OK, "text/plain", "ok\n", 3, MHD_RESPMEM_PERSISTENT);
	case R_READYZ: {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		bool ready = true;

		if (!f)
			return MHD_NO;
		for (int i = 0; i < s->n; i++)
			if (!strcmp(health_name(s->rs[i]), "failed"))
				ready = false;
		fprintf(f, "%s\n", ready ? "ready" : "not ready");
		/* Which collector and why only with the token: the reasons name local things. */
		for (int i = 0; i < s->n && authed; i++)
			fprintf(f, "%s: %s%s%s\n", s->rs[i]->conf.d->name, health_name(s->rs[i]),
				*health_why(s->rs[i]) ? ": " : "", health_why(s->rs[i]));
		fclose(f);
		return reply(s, conn, ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
			     buf, len, MHD_RESPMEM_MUST_FREE);
	}
	case R_METRICS:
		return reply_doc(s, conn, "text/plain; version=0.0.4; charset=utf-8", doc_metrics, NULL);
	case R_COLLECTORS:
		return reply_doc(s, conn, "application/json", doc_collectors, NULL);
	case R_EVENTS: {
		unsigned code = 0;
		const char *why = NULL;
		struct MHD_Response *r = stream_open(s->st, conn, &rt, &code, &why);

		if (!r)
			return reply_error(s, conn, code, why);
		MHD_add_response_header(r, "X-Accel-Buffering", "no");
		return queue(s, conn, MHD_HTTP_OK, r, "text/event-stream");
	}
	case R_API: {
		char *buf = NULL;
		size_t len = 0;
		FILE *f;

		if (!(rn = find_running(s, rt.name)))
			break;
		if (!(f = open_memstream(&buf, &len)))
			return MHD_NO;
		render_api(f, rn, &rt);
		fclose(f);
		return reply(s, conn, MHD_HTTP_OK, "application/json", buf, len, MHD_RESPMEM_MUST_FREE);
	}
	default:
		break;
	}
	return reply_error(s, conn, MHD_HTTP_NOT_FOUND, "not found");
}

/* The HTTP thread. It parses what clients send, so it runs with no capability at all
 * (core/priv.h), in every mode: the main thread keeps the ones loading collectors takes (a
 * SIGHUP reload with a config file) and does all BPF work. The two share the collectors' data
 * under s->mu: the main loop holds it while its callbacks run (loop_set_mutex), this thread
 * while libmicrohttpd runs (requests are rendered then); neither holds it while waiting.
 *
 * MHD's epoll set is edge-triggered: after a run it may still have work that no new event
 * will announce (data left in a socket it read only part of, connections accepted in a burst),
 * which it tells through a zero timeout. Run until it has none, boundedly per turn, releasing
 * the mutex between turns so that a flood of connections cannot starve the collectors. Streams
 * resumed by the main thread (new events) wake this one through s->wake (stream_on_resume). */
static void *http_main(void *arg)
{
	struct serve *s = arg;
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->httpd, MHD_DAEMON_INFO_EPOLL_FD);
	struct pollfd pfd[2] = { { info ? info->epoll_fd : -1, POLLIN, 0 }, { s->wake, POLLIN, 0 } };
	int err;

	if ((err = ebee_thread_drop_caps()))
		ebee_warn("serve: the HTTP thread cannot drop its capabilities: %s", strerror(-err));
	prctl(PR_SET_NAME, "ebee-http", 0, 0, 0);   /* after the drop: the name says it is done */
	pthread_mutex_lock(&s->mu);
	while (!s->http_stop) {
		MHD_UNSIGNED_LONG_LONG t = 0;
		int ms = -1;
		uint64_t v;

		for (int i = 0; i < 64; i++) {
			MHD_run(s->httpd);
			if (MHD_get_timeout(s->httpd, &t) != MHD_YES || t > 0)
				break;
		}
		/* Work left over waits a millisecond, as the single-threaded loop's timer did: the
		 * mutex is not fair, and a flood must leave the collectors their turn. */
		if (MHD_get_timeout(s->httpd, &t) == MHD_YES)
			ms = t > 60000 ? 60000 : t ? (int)t : 1;
		pthread_mutex_unlock(&s->mu);
		if (poll(pfd, 2, ms) > 0 && (pfd[1].revents & POLLIN))
			(void)!read(s->wake, &v, sizeof(v));
		pthread_mutex_lock(&s->mu);
	}
	/* MHD refuses to stop with suspended connections: end the streams first. */
	stream_close_all(s->st);
	MHD_run(s->httpd);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static void http_wake(void *arg)
{
	struct serve *s = arg;
	uint64_t one = 1;

	(void)!write(s->wake, &one, sizeof(one));
}

static int http_start(struct serve *s)
{
	int err;

	if ((s->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		return -errno;
	stream_on_resume(s->st, http_wake, s);
	if ((err = pthread_create(&s->http_thr, NULL, http_main, s))) {
		ebee_err("cannot start the HTTP thread: %s", strerror(err));
		return -err;
	}
	s->http_running = true;
	loop_set_mutex(s->loop, &s->mu);
	return 0;
}

static void http_stop(struct serve *s)
{
	if (s->http_running) {
		pthread_mutex_lock(&s->mu);
		s->http_stop = true;
		pthread_mutex_unlock(&s->mu);
		http_wake(s);
		pthread_join(s->http_thr, NULL);
		s->http_running = false;
		loop_set_mutex(s->loop, NULL);
	}
	if (s->wake >= 0)
		close(s->wake);
	s->wake = -1;
}

/* --- collectors --- */

static void fail_running(struct running *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail_running(struct running *r, const char *fmt, ...)
{
	va_list ap;

	r->failed = true;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	/* What it attached and loaded goes now; its last numbers go with it. */
	collector_free(r->c);
	r->c = NULL;
}

/* Opens and starts one collector; a failure is kept in r (never fatal to the daemon). The
 * netwatch options of serve's command line are its base config when no config file is given
 * (the daemon's behaviour before config files). */
/* One warning per failure, once it is known that the daemon goes on without the collector. */
static void warn_failed(struct serve *s)
{
	for (int i = 0; i < s->n; i++)
		if (s->rs[i] && s->rs[i]->failed && !s->rs[i]->warned) {
			s->rs[i]->warned = true;
			ebee_warn("collector '%s' failed: %s (the others keep running)",
				  s->rs[i]->conf.d->name, s->rs[i]->why);
		}
}

static int start_one(struct serve *s, struct running *r, const void *base)
{
	const struct collector_desc *d = r->conf.d;
	char before[512];
	void *cfg = calloc(1, d->cfg_size + 1);
	int err;

	snprintf(before, sizeof(before), "%s", ebee_last_error() ? ebee_last_error() : "");
	r->src.st = s->st;
	if (!cfg) {
		fail_running(r, "out of memory");
		return -ENOMEM;
	}
	if (base)
		memcpy(cfg, base, d->cfg_size);
	else if ((err = serve_col_cfg(&r->conf, s->cfg->config, cfg))) {
		free(cfg);
		fail_running(r, "bad options");
		return err;
	}
	r->c = collector_new(d, cfg);
	free(cfg);
	if (!r->c) {
		fail_running(r, "out of memory");
		return -ENOMEM;
	}
	r->src.c = r->c;
	collector_subscribe(r->c, stream_on_event, &r->src);
	err = collector_open(r->c);
	if (!err && !loop_stopping(s->loop))
		err = collector_start(r->c, s->loop);
	if (!err && !loop_stopping(s->loop))
		err = collector_refresh(r->c);
	if (err < 0) {
		const char *e = ebee_last_error();

		if (e && strcmp(e, before))
			fail_running(r, "%s", e);
		else
			fail_running(r, "%s", r->c->health_detail[0] ? r->c->health_detail : strerror(-err));
	}
	return err < 0 ? err : 0;
}

static struct running *running_new(struct serve_col_conf *cc)
{
	struct running *r = calloc(1, sizeof(*r));

	if (r)
		serve_col_move(&r->conf, cc);
	return r;
}

static void running_free(struct running *r)
{
	if (!r)
		return;
	collector_free(r->c);
	serve_col_free(&r->conf);
	free(r);
}

/* The collectors of a config (or of --collectors / the defaults), each started on its own. */
static int start_all(struct serve *s, struct serve_conf *conf)
{
	int err, ok = 0, first = 0;

	for (int i = 0; i < conf->ncols && !loop_stopping(s->loop); i++) {
		struct running *r = running_new(&conf->cols[i]);

		if (!r)
			return -ENOMEM;
		s->rs[s->n++] = r;
		err = start_one(s, r, !s->cfg->config && r->conf.d == &netwatch_collector ? &s->cfg->nw : NULL);
		if (!err)
			ok++;
		else if (!first)
			first = err;
	}
	/* Nothing would run: that is the daemon's failure, with the collector's own error line. */
	if (!ok && first)
		return first;
	warn_failed(s);
	return 0;
}

static int on_tick(struct ebee_loop *l, void *arg)
{
	struct serve *s = arg;

	(void)l;
	for (int i = 0; i < s->n; i++) {
		struct running *r = s->rs[i];
		bool was_failed;
		int err;

		if (!r->c || r->failed)
			continue;
		was_failed = r->c->health == COLLECTOR_FAILED;
		err = collector_refresh(r->c);
		if (err < 0) {
			/* A collector that cannot read its maps any more is one failure, not the
			 * daemon's: keep its last numbers out of the API, keep the others. */
			fail_running(r, "refresh failed: %s", ebee_last_error() ? ebee_last_error() : strerror(-err));
			warn_failed(s);
			continue;
		}
		if (r->c->health == COLLECTOR_FAILED && !was_failed)
			ebee_warn("%s: %s: serving the last data", r->c->desc->name, r->c->health_detail);
	}
	stream_wake(s->st, true);    /* keepalives */
	return 0;
}

static bool str_differs(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a && strcmp(a, b));
}

/* The server settings are the listening socket, its TLS and the limits libmicrohttpd was
 * started with: a reload does not apply them (the collectors' are the reload's business). One
 * line names what changed, so that nobody believes a new listen address or certificate is in
 * force. */
static void server_changes(struct serve *s, const struct serve_conf *n)
{
	const struct serve_conf *o = s->boot;
	char what[160] = "";

	if (!o)
		return;
#define CHANGED(cond, key)                                                                        	if (cond)                                                                                 		snprintf(what + strlen(what), sizeof(what) - strlen(what), "%s" key, what[0] ? ", " : "")
	CHANGED(str_differs(o->listen, n->listen), "listen");
	CHANGED(str_differs(o->token_file, n->token_file), "token_file");
	CHANGED(o->insecure_no_auth != n->insecure_no_auth, "insecure_no_auth");
	CHANGED(str_differs(o->tls_cert, n->tls_cert), "tls_cert");
	CHANGED(str_differs(o->tls_key, n->tls_key), "tls_key");
	CHANGED(o->interval != n->interval, "interval");
	CHANGED(o->max_connections != n->max_connections, "max_connections");
	CHANGED(o->max_streams != n->max_streams, "max_streams");
	CHANGED(o->event_buffer != n->event_buffer, "event_buffer");
#undef CHANGED
	if (what[0])
		ebee_warn("config: %s changed: server settings need a restart, the running server keeps its own",
			  what);
}

/* SIGHUP: the config again. A bad file changes nothing (one line says why). */
static int on_hup(struct ebee_loop *l, void *arg)
{
	struct serve *s = arg;
	struct running *keep[SERVE_MAX_COLLECTORS] = { 0 };
	struct serve_conf conf;
	int n = 0, kept = 0;

	(void)l;
	if (!s->cfg->config) {
		ebee_info("SIGHUP: no config file to reload");
		return 0;
	}
	if (serve_conf_load(s->cfg->config, &conf)) {
		s->reloads[1]++;
		ebee_warn("config not reloaded: the running collectors are unchanged");
		serve_conf_free(&conf);
		return 0;
	}
	server_changes(s, &conf);
	if (!conf.have_collectors) {    /* the defaults, as at start */
		static const char *const def[] = { "netwatch", "tcp", "prog" };

		for (size_t i = 0; i < ARRAY_SIZE(def); i++)
			conf.cols[conf.ncols++].d = collector_find(def[i]);
	}
	/* Unchanged collectors move over as they are; the rest stop. */
	for (int i = 0; i < conf.ncols; i++)
		for (int j = 0; j < s->n; j++)
			if (s->rs[j] && !s->rs[j]->failed && serve_col_same(&s->rs[j]->conf, &conf.cols[i])) {
				keep[i] = s->rs[j];
				s->rs[j] = NULL;
				kept++;
				break;
			}
	for (int j = 0; j < s->n; j++)
		running_free(s->rs[j]);
	for (int i = 0; i < conf.ncols; i++) {
		struct running *r = keep[i];

		if (!r && (r = running_new(&conf.cols[i])))
			start_one(s, r, NULL);
		if (r)
			s->rs[n++] = r;
	}
	s->n = n;
	warn_failed(s);
	s->reloads[0]++;
	ebee_info("config reloaded: %d collectors, %d kept running", n, kept);
	serve_conf_free(&conf);
	return 0;
}

/* --- listening --- */

/* "127.0.0.1:8700", "[::1]:8700", ":8700" (all IPv4), "8700". */
static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64] = "127.0.0.1";
	const char *port = s, *colon;
	struct sockaddr_in *in = (void *)ss;
	struct sockaddr_in6 *in6 = (void *)ss;
	char *end;
	long p;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':' || (size_t)(rb - s - 1) >= sizeof(host))
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(rb - s - 1), s + 1);
		port = rb + 2;
	} else if ((colon = strrchr(s, ':'))) {
		if ((size_t)(colon - s) >= sizeof(host))
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
		if (!host[0])
			snprintf(host, sizeof(host), "0.0.0.0");
		port = colon + 1;
	}
	errno = 0;
	p = strtol(port, &end, 10);
	if (errno || *end || end == port || p < 0 || p > 65535)
		goto bad;
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(p);
		*len = sizeof(*in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(p);
		*len = sizeof(*in6);
		return 0;
	}
bad:
	ebee_err("invalid listen address '%s' (expected ADDR:PORT, e.g. 127.0.0.1:8700 or [::1]:8700)", s);
	return -EINVAL;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static int open_listener(const char *spec, bool tls, bool auth, char *url, size_t urllen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char host[64];
	int fd = -1, one = 1, err;

	if ((err = parse_listen(spec, &ss, &len)))
		return err;
	if (!auth && !is_loopback(&ss)) {
		ebee_err("listening on '%s' needs --token-file or --insecure-no-auth (it is not a loopback address)",
			 spec);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 128) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len))
		goto fail;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (void *)&ss;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(url, urllen, "%s://%s:%u/", tls ? "https" : "http", host, ntohs(in->sin_port));
	} else {
		struct sockaddr_in6 *in6 = (void *)&ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(url, urllen, "%s://[%s]:%u/", tls ? "https" : "http", host, ntohs(in6->sin6_port));
	}
	return fd;
fail:
	err = -errno;
	ebee_err("cannot listen on '%s': %s", spec, strerror(errno));
	if (fd >= 0)
		close(fd);
	return err;
}

/* A small file (token, certificate, key) whole, NUL-terminated. */
static char *read_small(const char *what, const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = malloc(65537);
	size_t n = 0;

	if (!f || !buf) {
		ebee_err("cannot read %s '%s': %s", what, path, strerror(errno));
		goto fail;
	}
	n = fread(buf, 1, 65537, f);
	if (n > 65536) {
		ebee_err("%s '%s' is too large (at most 64 KiB)", what, path);
		goto fail;
	}
	buf[n] = 0;
	fclose(f);
	return buf;
fail:
	if (f)
		fclose(f);
	free(buf);
	return NULL;
}

static char *read_token(const char *path)
{
	char *t = read_small("token file", path);
	size_t n;

	if (!t)
		return NULL;
	n = strlen(t);
	while (n && (t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == ' ' || t[n - 1] == '\t'))
		t[--n] = 0;
	if (n < 16 || strpbrk(t, " \t\r\n")) {
		ebee_err("token file '%s' must hold one token of at least 16 characters", path);
		free(t);
		return NULL;
	}
	return t;
}

static const struct out_col serve_cols[] = {
	{ "url", "URL", OUT_STR, -30 },
	{ "interfaces", "INTERFACES", OUT_U64, 10 },
	{ "collectors", "COLLECTORS", OUT_STR, -30 },
	{ "failed", "FAILED", OUT_STR, -20 },
};

/* The collectors to run when the config names none: --collectors, else the defaults. */
static int default_collectors(struct serve_cfg *cfg, struct serve_conf *conf)
{
	static const char *const def[] = { "netwatch", "tcp", "prog" };
	const char *const *names = cfg->collectors.n ? cfg->collectors.v : def;
	int n = cfg->collectors.n ? cfg->collectors.n : (int)ARRAY_SIZE(def);
	char text[1024] = "collectors:\n";
	struct serve_conf tmp;
	int err;

	/* Through the config parser, so names are checked exactly as in a file. */
	for (int i = 0; i < n; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "  - \"%s\"\n", names[i]);
	if ((err = serve_conf_parse("--collectors", text, strlen(text), &tmp))) {
		serve_conf_free(&tmp);
		return err;
	}
	for (int i = 0; i < conf->ncols; i++)
		serve_col_free(&conf->cols[i]);
	conf->ncols = tmp.ncols;
	for (int i = 0; i < tmp.ncols; i++)
		serve_col_move(&conf->cols[i], &tmp.cols[i]);
	conf->have_collectors = true;
	serve_conf_free(&tmp);
	return 0;
}

static int serve_run(struct ebee_ctx *ctx, void *cfgp, int argc, char **argv)
{
	struct serve_cfg *cfg = cfgp;
	struct serve *s = calloc(1, sizeof(*s));
	struct serve_conf conf = { 0 };
	char url[128], names[256] = "", failed[256] = "";
	char *cert = NULL, *key = NULL;
	int lfd = -1, err, nifs = 0;
	unsigned flags;
	struct out o;

	(void)argc;
	(void)argv;
	if (!s)
		return -ENOMEM;
	s->cfg = cfg;
	s->wake = -1;
	pthread_mutex_init(&s->mu, NULL);
	if (cfg->check_config && !cfg->config) {
		ebee_err("--check-config needs --config FILE");
		err = -EINVAL;
		goto out;
	}
	if (cfg->config && (err = serve_conf_load(cfg->config, &conf)))
		goto out;
	s->boot = &conf;
	if (!conf.have_collectors || cfg->collectors.n)
		if ((err = default_collectors(cfg, &conf)))
			goto out;
	/* The command line wins over the file. */
	if (!cfg->listen)
		cfg->listen = conf.listen ? conf.listen : SERVE_DEFAULT_LISTEN;
	if (!cfg->token_file)
		cfg->token_file = conf.token_file;
	if (!cfg->tls_cert)
		cfg->tls_cert = conf.tls_cert;
	if (!cfg->tls_key)
		cfg->tls_key = conf.tls_key;
	cfg->insecure_no_auth |= conf.insecure_no_auth;
	if (!cfg->interval)
		cfg->interval = conf.interval ? conf.interval : 1.0;
	if (!cfg->max_connections)
		cfg->max_connections = conf.max_connections ? conf.max_connections : SERVE_DEFAULT_CONNECTIONS;
	if (!cfg->max_streams)
		cfg->max_streams = conf.max_streams ? conf.max_streams : STREAM_DEFAULT_CLIENTS;
	if (!cfg->event_buffer)
		cfg->event_buffer = conf.event_buffer ? conf.event_buffer : STREAM_DEFAULT_EVENTS;
	if (!cfg->tls_cert != !cfg->tls_key) {
		ebee_err("TLS needs both a certificate and a key (--tls-cert and --tls-key)");
		err = -EINVAL;
		goto out;
	}
	if (cfg->token_file && !(s->token = read_token(cfg->token_file))) {
		err = -EINVAL;
		goto out;
	}
	if (cfg->tls_cert && (!(cert = read_small("TLS certificate", cfg->tls_cert)) ||
			      !(key = read_small("TLS key", cfg->tls_key)))) {
		err = -EINVAL;
		goto out;
	}
	if (cfg->check_config) {
		struct sockaddr_storage ss;
		socklen_t len;

		if ((err = parse_listen(cfg->listen, &ss, &len)))
			goto out;
		if (!s->token && !cfg->insecure_no_auth && !is_loopback(&ss)) {
			ebee_err("listening on '%s' needs --token-file or --insecure-no-auth (it is not a loopback address)",
				 cfg->listen);
			err = -EINVAL;
			goto out;
		}
		for (int i = 0; i < conf.ncols; i++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", i ? "," : "",
				 conf.cols[i].d->name);
		printf("config '%s' is valid: listen %s, collectors %s\n", cfg->config, cfg->listen,
		       names[0] ? names : "(none)");
		err = 0;
		goto out;
	}

	if (!(s->loop = loop_new())) {
		err = -errno ?: -ENOMEM;
		goto out;
	}
	if (!(s->st = stream_new(cfg->event_buffer, cfg->max_streams))) {
		ebee_err("cannot allocate the event buffer (%llu events)", cfg->event_buffer);
		err = -ENOMEM;
		goto out;
	}
	lfd = open_listener(cfg->listen, cert != NULL, s->token || cfg->insecure_no_auth, url, sizeof(url));
	if (lfd < 0) {
		err = lfd;
		goto out;
	}
	if ((err = start_all(s, &conf)) || loop_stopping(s->loop))
		goto out;
	flags = MHD_USE_EPOLL | MHD_USE_SUPPRESS_DATE_NO_CLOCK | MHD_ALLOW_SUSPEND_RESUME |
		(cert ? MHD_USE_TLS : 0);
	s->httpd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_LISTEN_SOCKET, lfd,
				    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
				    MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
				    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SERVE_MAX_REQUEST,
				    cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
				    MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_END);
	if (!s->httpd) {
		err = -EIO;
		ebee_err("cannot start the HTTP server on '%s'%s", cfg->listen,
			 cert ? " (is the certificate/key pair valid PEM?)" : "");
		goto out;
	}
	lfd = -1;   /* the daemon owns it now */
	loop_set_tick(s->loop, cfg->interval, on_tick, s);
	loop_on_sighup(s->loop, on_hup, s);
	if (cfg->duration > 0)
		loop_set_duration(s->loop, cfg->duration);

	for (int i = 0; i < s->n; i++) {
		struct running *r = s->rs[i];
		char *dst = r->failed ? failed : names;
		size_t cap = r->failed ? sizeof(failed) : sizeof(names);

		snprintf(dst + strlen(dst), cap - strlen(dst), "%s%s", dst[0] ? "," : "", r->conf.d->name);
		if (r->c && r->conf.d == &netwatch_collector)
			nifs = ((struct nw_session *)r->c->priv)->nifs;
	}
	out_init(&o, stdout, ctx->json ? OUT_JSON : OUT_TABLE, serve_cols, ARRAY_SIZE(serve_cols));
	out_header(&o);
	out_str(&o, 0, url);
	out_u64(&o, 1, nifs);
	out_str(&o, 2, names);
	if (failed[0])
		out_str(&o, 3, failed);
	out_row(&o);
	fflush(stdout);
	/* Before the main thread's drop: the HTTP thread empties its own bounding set, which
	 * takes CAP_SETPCAP. It drops everything before it reads a request. */
	if ((err = http_start(s)))
		goto out;
	if (cfg->config) {
		/* A SIGHUP reload may start collectors that need the loader's capabilities: the
		 * main thread keeps them; the HTTP thread (below) has none. */
		ebee_info("serve: capabilities kept by the loader thread: a reload of %s may load new collectors",
			  cfg->config);
	} else {
		struct collector *cs[SERVE_MAX_COLLECTORS];
		int nc = 0;

		for (int i = 0; i < s->n; i++)
			if (s->rs[i]->c && !s->rs[i]->failed)
				cs[nc++] = s->rs[i]->c;
		collector_drop_privileges(cs, nc, "serve");
	}
	err = loop_run(s->loop);
out:
	http_stop(s);
	if (s->httpd) {
		if (!s->http_stop) {     /* the thread never ran: its end here */
			stream_close_all(s->st);
			MHD_run(s->httpd);
		}
		MHD_stop_daemon(s->httpd);
	}
	if (lfd >= 0)
		close(lfd);
	for (int i = s->n - 1; i >= 0; i--)
		running_free(s->rs[i]);
	stream_free(s->st);
	loop_free(s->loop);
	serve_conf_free(&conf);
	free(cert);
	free(key);
	free(s->token);
	pthread_mutex_destroy(&s->mu);
	free(s);
	return err;
}

static const struct opt_doc serve_doc = {
	.synopsis = "[-c ebee.yaml] [OPTIONS]",
	.description =
	"Runs ebee as a node daemon: the collectors a YAML config names (-c; without one,\n"
	"netwatch, tcp and prog, netwatch with the options given here), one web page with a\n"
	"panel per running collector, /api/NAME (JSON per collector), /api/collectors,\n"
	"/api/events (Server-Sent Events of every collector's events: ?type=, ?rule=,\n"
	"?priority=; Last-Event-ID resumes), /metrics (Prometheus), /healthz (liveness) and\n"
	"/readyz (503 while a collector has failed; the others keep running). Listens on\n"
	"127.0.0.1:8700 by default; another address needs --token-file (a bearer token on\n"
	"every endpoint but /healthz and the static page) or --insecure-no-auth. SIGHUP\n"
	"reloads the config; collectors whose options did not change keep their counters.\n"
	"See docs/serve.md for the config file.",
	.examples =
	"  ebee serve\n"
	"  ebee serve -c /etc/ebee/ebee.yaml\n"
	"  ebee serve -c ebee.yaml --check-config\n"
	"  ebee serve --listen 0.0.0.0:8700 --token-file /etc/ebee/token\n"
	"  ebee serve -i eth0 --port 80,443 --collectors netwatch\n",
};

const struct ebee_cmd serve_cmd = {
	.name = "serve",
	.summary = "the node daemon: every collector, web UI, event stream, Prometheus metrics",
	.req = REQ_BPF | REQ_NETADM,
	.run = serve_run,
	.opts = serve_opts,
	.cfg_size = sizeof(struct serve_cfg),
	.cfg_default = &serve_defaults,
	.doc = &serve_doc,
	.min_pos = 0,
	.max_pos = 0,
};
