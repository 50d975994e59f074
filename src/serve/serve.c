// SPDX-License-Identifier: BSD-2-Clause
/* `ebee serve`: the daemon. libmicrohttpd in external-epoll mode: its epoll fd sits in ebee's
 * event loop next to the signalfd and the refresh timer, so requests are answered on the one
 * thread that also refreshes the data, between refreshes: no locks, and every response is
 * rendered into its own buffer (no global output state). It runs the collectors named by
 * --collectors (netwatch by default) from the registry and serves, for each, /api/NAME (its
 * document through the output layer) and its families in /metrics. The web page (a world map bundled
 * from d3-geo, topojson-client and world-atlas at build time) is compiled into the binary. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <microhttpd.h>

#include "core/cmd.h"
#include "core/collector.h"
#include "core/json.h"
#include "core/loop.h"
#include "core/out.h"
#include "netwatch/collect.h"
#include "serve/page.h"      /* generated: serve_page[], serve_page_len */

#define SERVE_DEFAULT_LISTEN "127.0.0.1:8700"
#define SERVE_API_TOP 500
#define SERVE_MAX_COLLECTORS 16

struct serve_cfg {
	struct nw_opts nw;
	struct opt_list collectors;
	const char *listen;
	double interval;
	double duration;
};

static const struct serve_cfg serve_defaults = {
	.nw = NW_OPTS_DEFAULT,
	.listen = SERVE_DEFAULT_LISTEN,
	.interval = 1.0,
};

static const struct opt serve_opts[] = {
	{ "listen", 'l', OPT_STR, offsetof(struct serve_cfg, listen), "ADDR:PORT",
	  "address to serve HTTP on ([::1]:PORT for IPv6; port 0 picks a free one)", SERVE_DEFAULT_LISTEN },
	{ "collectors", 'c', OPT_LIST, offsetof(struct serve_cfg, collectors), "NAME",
	  "collectors to run and serve (repeatable, comma-separated)", "netwatch" },
	NW_COMMON_OPTS(struct serve_cfg, nw),
	{ "interval", 0, OPT_SECONDS, offsetof(struct serve_cfg, interval), "SECONDS",
	  "refresh the data every SECONDS", "1s", 0.05, 3600 },
	{ "duration", 'd', OPT_SECONDS, offsetof(struct serve_cfg, duration), "SECONDS",
	  "stop after SECONDS (0 = until Ctrl-C)", "0", 0, 1e9 },
	OPT_END,
};

struct serve {
	struct collector *cs[SERVE_MAX_COLLECTORS];
	int n;
	struct MHD_Daemon *httpd;
	uint64_t requests[6];    /* by status class: 1xx..5xx, index 0 unused */
};

/* --- what the collectors render --- */

static void render_api(FILE *f, struct collector *c, struct MHD_Connection *conn)
{
	const char *top = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "top");
	long n = top ? strtol(top, NULL, 10) : SERVE_API_TOP;
	struct jw w;

	jw_init_file(&w, f);
	jw_obj_begin(&w);
	if (c->desc->api) {
		c->desc->api(c, &w, n > 0 ? (size_t)n : SERVE_API_TOP);
	} else {
		/* Generic: the counters, the health and the collector's rows. rows() may set its
		 * columns with out_init on the writer's FILE, so it gets a FILE of JSON lines (each
		 * written by jw) that become the array's elements. */
		struct out *o = malloc(sizeof(*o));
		char *rows = NULL;
		size_t len = 0;
		FILE *rf = o && c->desc->rows ? open_memstream(&rows, &len) : NULL;

		jw_kstr(&w, "collector", c->desc->name);
		jw_ku64(&w, "events", c->cnt.events);
		jw_ku64(&w, "lost", c->cnt.lost);
		jw_ku64(&w, "missed", c->cnt.missed);
		jw_kstr(&w, "health", c->health == COLLECTOR_OK ? "ok" :
				      c->health == COLLECTOR_DEGRADED ? "degraded" : "failed");
		jw_key(&w, "rows");
		jw_arr_begin(&w);
		if (rf) {
			out_init(o, rf, OUT_JSON, NULL, 0);
			c->desc->rows(c, o);
			fclose(rf);
			for (char *line = rows, *nl; line && *line; line = nl + 1) {
				if (!(nl = strchr(line, '\n')))
					break;
				*nl = 0;
				jw_raw(&w, line);
			}
		}
		jw_arr_end(&w);
		free(rows);
		free(o);
	}
	jw_obj_end(&w);
	jw_finish(&w);
	jw_newline(&w);
}

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
		prom_u64(&p, "ebee_serve_http_responses_total", &lc, 1, s->requests[i]);
	}
	for (int i = 0; i < s->n; i++)
		if (s->cs[i]->desc->metrics)
			s->cs[i]->desc->metrics(s->cs[i], &p);
}

static struct collector *find_running(struct serve *s, const char *url)
{
	if (strncmp(url, "/api/", 5))
		return NULL;
	for (int i = 0; i < s->n; i++)
		if (!strcmp(url + 5, s->cs[i]->desc->name))
			return s->cs[i];
	return NULL;
}

/* --- HTTP --- */

static enum MHD_Result reply(struct serve *s, struct MHD_Connection *c, unsigned code,
			     const char *type, void *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	if (code / 100 >= 1 && code / 100 <= 5)
		s->requests[code / 100]++;
	return ret;
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req)
{
	struct serve *s = cls;
	struct collector *c;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_error(s, conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD");
	if (*upload_size) {        /* a GET with a body: ignore the body */
		*upload_size = 0;
		return MHD_YES;
	}
	if (!strcmp(url, "/") || !strcmp(url, "/index.html"))
		return reply(s, conn, MHD_HTTP_OK, "text/html; charset=utf-8", (void *)serve_page,
			     serve_page_len, MHD_RESPMEM_PERSISTENT);
	if (!strcmp(url, "/healthz")) {
		/* Healthy while no collector has failed; else the first failure's detail. */
		for (int i = 0; i < s->n; i++) {
			if (s->cs[i]->health != COLLECTOR_FAILED)
				continue;
			if (!(f = open_memstream(&buf, &len)))
				return MHD_NO;
			fprintf(f, "%s\n", s->cs[i]->health_detail);
			fclose(f);
			return reply(s, conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", buf, len,
				     MHD_RESPMEM_MUST_FREE);
		}
		return reply(s, conn, MHD_HTTP_OK, "text/plain", "ok\n", 3, MHD_RESPMEM_PERSISTENT);
	}
	if (!strcmp(url, "/metrics")) {
		if (!(f = open_memstream(&buf, &len)))
			return MHD_NO;
		render_metrics(f, s);
		fclose(f);
		return reply(s, conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", buf, len,
			     MHD_RESPMEM_MUST_FREE);
	}
	if ((c = find_running(s, url))) {
		if (!(f = open_memstream(&buf, &len)))
			return MHD_NO;
		render_api(f, c, conn);
		fclose(f);
		return reply(s, conn, MHD_HTTP_OK, "application/json", buf, len, MHD_RESPMEM_MUST_FREE);
	}
	return reply_error(s, conn, MHD_HTTP_NOT_FOUND, "not found");
}

/* MHD's epoll set is edge-triggered: after a run it may still have work that no new event
 * will announce (data left in a socket it read only part of), which it tells through a zero
 * timeout. Run until it has none, boundedly. */
static void http_run(struct serve *s)
{
	MHD_UNSIGNED_LONG_LONG t;

	for (int i = 0; i < 64; i++) {
		MHD_run(s->httpd);
		if (MHD_get_timeout(s->httpd, &t) != MHD_YES || t > 0)
			break;
	}
}

static int on_http(struct ebee_loop *l, int fd, uint32_t events, void *arg)
{
	http_run(arg);
	return 0;
}

static int on_tick(struct ebee_loop *l, void *arg)
{
	struct serve *s = arg;
	int err = 0;

	for (int i = 0; i < s->n && !err; i++) {
		struct collector *c = s->cs[i];
		bool was_failed = c->health == COLLECTOR_FAILED;

		err = collector_refresh(c);
		if (!err && c->health == COLLECTOR_FAILED && !was_failed)
			ebee_warn("%s: %s: serving the last data", c->desc->name, c->health_detail);
	}
	http_run(s);     /* connection timeouts */
	return err;
}

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

static int open_listener(const char *spec, char *url, size_t urllen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char host[64];
	int fd, one = 1, err;

	if ((err = parse_listen(spec, &ss, &len)))
		return err;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 64) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len))
		goto fail;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (void *)&ss;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(url, urllen, "http://%s:%u/", host, ntohs(in->sin_port));
	} else {
		struct sockaddr_in6 *in6 = (void *)&ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(url, urllen, "http://[%s]:%u/", host, ntohs(in6->sin6_port));
	}
	return fd;
fail:
	err = -errno;
	ebee_err("cannot listen on '%s': %s", spec, strerror(errno));
	if (fd >= 0)
		close(fd);
	return err;
}

static const struct out_col serve_cols[] = {
	{ "url", "URL", OUT_STR, -30 },
	{ "interfaces", "INTERFACES", OUT_U64, 10 },
	{ "collectors", "COLLECTORS", OUT_STR, -20 },
};

/* The collectors of --collectors, from the registry; each gets its own options (netwatch's
 * are serve's; a collector without options gets none). Bad names: one line, -EINVAL. */
static int start_collectors(struct serve *s, struct serve_cfg *cfg, struct ebee_loop *loop)
{
	static const char *const def[] = { "netwatch" };
	const char *const *names = cfg->collectors.n ? cfg->collectors.v : def;
	int n = cfg->collectors.n ? cfg->collectors.n : 1, err;
	const char *known[SERVE_MAX_COLLECTORS + 1] = { 0 };
	int nk = 0;

	for (const struct collector_desc *const *d = ebee_collectors; *d && nk < SERVE_MAX_COLLECTORS; d++)
		known[nk++] = (*d)->name;
	for (int i = 0; i < n; i++) {
		const struct collector_desc *d = collector_find(names[i]);
		const char *hint = d ? NULL : opts_suggest(names[i], known);

		if (!d && hint) {
			ebee_err("unknown collector '%s' (did you mean '%s'?)", names[i], hint);
			return -EINVAL;
		}
		if (!d) {
			ebee_err("unknown collector '%s' (see 'ebee doctor' for the list)", names[i]);
			return -EINVAL;
		}
		if (!d->open || !d->start) {
			ebee_err("collector '%s' cannot run in the daemon (it has no open/start yet)", names[i]);
			return -EINVAL;
		}
		if (d != &netwatch_collector && d->cfg_size && !d->cfg_default) {
			ebee_err("collector '%s' cannot run in the daemon (it needs options that serve does not take)",
				 names[i]);
			return -EINVAL;
		}
		for (int j = 0; j < i; j++)
			if (!strcmp(names[j], names[i])) {
				ebee_err("collector '%s' named twice", names[i]);
				return -EINVAL;
			}
		if (i == SERVE_MAX_COLLECTORS) {
			ebee_err("too many collectors (at most %d)", SERVE_MAX_COLLECTORS);
			return -EINVAL;
		}
	}
	for (int i = 0; i < n; i++) {
		const struct collector_desc *d = collector_find(names[i]);
		struct collector *c = collector_new(d, d == &netwatch_collector ? &cfg->nw : d->cfg_default);

		if (!c)
			return -ENOMEM;
		s->cs[s->n++] = c;
		if ((err = collector_open(c)))
			return err;
		if (loop_stopping(loop))
			return 0;
		if ((err = collector_start(c, loop)))
			return err;
		if ((err = collector_refresh(c)) < 0)
			return err;
	}
	return 0;
}

static int serve_run(struct ebee_ctx *ctx, void *cfgp, int argc, char **argv)
{
	struct serve_cfg *cfg = cfgp;
	struct serve *s = calloc(1, sizeof(*s));
	const union MHD_DaemonInfo *info;
	struct ebee_loop *loop = NULL;
	char url[128], names[128] = "";
	int lfd = -1, err, nifs = 0;
	struct out o;

	if (!s)
		return -ENOMEM;
	loop = loop_new();
	if (!loop) {
		err = -errno ?: -ENOMEM;
		goto out;
	}
	lfd = open_listener(cfg->listen, url, sizeof(url));
	if (lfd < 0) {
		err = lfd;
		goto out;
	}
	if ((err = start_collectors(s, cfg, loop)) || loop_stopping(loop))
		goto out;
	signal(SIGPIPE, SIG_IGN);
	s->httpd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_SUPPRESS_DATE_NO_CLOCK, 0, NULL, NULL,
				    on_request, s, MHD_OPTION_LISTEN_SOCKET, lfd,
				    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
				    MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
				    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536, MHD_OPTION_END);
	if (!s->httpd) {
		err = -EIO;
		ebee_err("cannot start the HTTP server on '%s'", cfg->listen);
		goto out;
	}
	lfd = -1;   /* the daemon owns it now */
	info = MHD_get_daemon_info(s->httpd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || (err = loop_add_fd(loop, info->epoll_fd, EPOLLIN, on_http, s))) {
		err = err ?: -EIO;
		ebee_err("cannot add the HTTP server to the event loop: %s", strerror(-err));
		goto out;
	}
	loop_set_tick(loop, cfg->interval, on_tick, s);
	if (cfg->duration > 0)
		loop_set_duration(loop, cfg->duration);

	for (int i = 0; i < s->n; i++) {
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", i ? "," : "",
			 s->cs[i]->desc->name);
		if (s->cs[i]->desc == &netwatch_collector)
			nifs = ((struct nw_session *)s->cs[i]->priv)->nifs;
	}
	out_init(&o, stdout, ctx->json ? OUT_JSON : OUT_TABLE, serve_cols, ARRAY_SIZE(serve_cols));
	out_header(&o);
	out_str(&o, 0, url);
	out_u64(&o, 1, nifs);
	out_str(&o, 2, names);
	out_row(&o);
	fflush(stdout);
	collector_drop_privileges(s->cs, s->n, "serve");
	err = loop_run(loop);
out:
	if (s->httpd)
		MHD_stop_daemon(s->httpd);
	if (lfd >= 0)
		close(lfd);
	for (int i = s->n - 1; i >= 0; i--)
		collector_free(s->cs[i]);
	loop_free(loop);
	free(s);
	return err;
}

static const struct opt_doc serve_doc = {
	.synopsis = "[OPTIONS]",
	.description =
	"Runs ebee as a daemon with a web interface, by default on 127.0.0.1:8700 only. The\n"
	"page shows where traffic comes from on a world map (a dot per location, sized by\n"
	"packets) with a live table, from netwatch's TC ingress counters (the same options as\n"
	"'ebee netwatch'). Endpoints: / (the page, self-contained: no internet needed),\n"
	"/api/netwatch (JSON, ?top=N busiest sources, default 500), /metrics (Prometheus\n"
	"text format) and /healthz. --collectors adds other collectors of the registry, each\n"
	"served at /api/NAME and in /metrics. The URL is printed once the server listens.",
	.examples =
	"  ebee serve\n"
	"  ebee serve -i eth0 --port 80,443 --listen 0.0.0.0:8700\n"
	"  ebee serve --labels lab.txt --geoip GeoLite2-City.mmdb\n",
};

const struct ebee_cmd serve_cmd = {
	.name = "serve",
	.summary = "web map, JSON API and Prometheus metrics of ingress clients",
	.req = REQ_BPF | REQ_NETADM,
	.run = serve_run,
	.opts = serve_opts,
	.cfg_size = sizeof(struct serve_cfg),
	.cfg_default = &serve_defaults,
	.doc = &serve_doc,
	.min_pos = 0,
	.max_pos = 0,
};
