// SPDX-License-Identifier: BSD-2-Clause
/* `ebee netwatch`: who sends packets to this host. A TC ingress program counts packets and
 * bytes per source address in a bounded LRU map; each interval the table of sources is read,
 * looked up in the GeoIP database and printed (table or JSON lines), busiest first. */
#include <errno.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "core/cmd.h"
#include "core/collector.h"
#include "core/loop.h"
#include "netwatch/collect.h"

struct netwatch_cfg {
	struct nw_opts nw;
	unsigned long long top;
	double interval;
	double duration;
};

static const struct netwatch_cfg netwatch_defaults = {
	.nw = NW_OPTS_DEFAULT,
	.top = 20,
	.interval = 1.0,
};

static const struct opt netwatch_opts[] = {
	NW_COMMON_OPTS(struct netwatch_cfg, nw),
	{ "top", 'n', OPT_UINT, offsetof(struct netwatch_cfg, top), "N",
	  "show the N busiest sources (0 = all)", "20", 0, 1e9 },
	{ "interval", 0, OPT_SECONDS, offsetof(struct netwatch_cfg, interval), "SECONDS",
	  "print the table every SECONDS", "1s", 0.05, 86400 },
	{ "duration", 'd', OPT_SECONDS, offsetof(struct netwatch_cfg, duration), "SECONDS",
	  "stop after SECONDS (0 = until Ctrl-C)", "0", 0, 1e9 },
	OPT_END,
};

struct nw_run {
	struct ebee_ctx *ctx;
	struct netwatch_cfg *cfg;
	struct collector *c;
	bool tty;
};

/* The busiest sources of the collector's last snapshot; at the end the totals too (a table
 * row, or the one JSON summary line). */
static void print_snapshot(struct nw_run *r, bool final)
{
	const struct nw_session *s = r->c->priv;
	enum out_fmt fmt = r->ctx->json ? OUT_JSON : OUT_TABLE;
	struct out *o = malloc(sizeof(*o));
	size_t n = s->ncur;
	char ts[40];

	if (!o)
		return;
	if (r->cfg->top && r->cfg->top < n)
		n = r->cfg->top;
	if (fmt == OUT_TABLE && r->tty && !final)
		fputs("\033[H\033[2J", stdout);
	nw_out_init(o, stdout, fmt);
	if (fmt == OUT_TABLE) {
		out_sep(o, "--- %s  %zu sources, %llu evicted ---",
			ebee_fmt_time(ebee_realtime_ns(), ts, sizeof(ts)), s->ncur,
			(unsigned long long)s->evicted);
		out_header(o);
	}
	for (size_t i = 0; i < n; i++)
		nw_out_source(o, s->order[i]);
	if (final && fmt == OUT_TABLE) {
		nw_out_summary_init(o, stdout, fmt);
		out_header(o);
		nw_out_summary(o, s);
	}
	free(o);
	if (final)
		collector_summary(r->c, r->ctx);
	fflush(stdout);
}

static int on_tick(struct ebee_loop *l, void *arg)
{
	struct nw_run *r = arg;
	int err = collector_refresh(r->c);

	if (err)
		return err;
	print_snapshot(r, false);
	if (r->c->health == COLLECTOR_FAILED) {
		ebee_err("no interface left to watch (all disappeared)");
		return -ENODEV;
	}
	return 0;
}

static int netwatch_run(struct ebee_ctx *ctx, void *cfgp, int argc, char **argv)
{
	struct nw_run r = { .ctx = ctx, .cfg = cfgp, .tty = isatty(STDOUT_FILENO) };
	struct ebee_loop *loop;
	int err, last;

	loop = loop_new();
	if (!loop)
		return -errno ?: -ENOMEM;
	r.c = collector_new(&netwatch_collector, &r.cfg->nw);
	if (!r.c) {
		err = -ENOMEM;
		goto out;
	}
	if ((err = collector_open(r.c)) || (err = collector_start(r.c, loop)))
		goto out;
	collector_drop_privileges(&r.c, 1, "netwatch");
	loop_set_tick(loop, r.cfg->interval, on_tick, &r);
	if (r.cfg->duration > 0)
		loop_set_duration(loop, r.cfg->duration);
	err = loop_run(loop);
	if (err == 0 || err == -ENODEV) {
		/* Detached first: the last counts are final. */
		collector_stop(r.c);
		last = collector_refresh(r.c);
		if (!last)
			print_snapshot(&r, true);
		err = err ?: last;
	}
out:
	collector_free(r.c);
	loop_free(loop);
	return err;
}

static const struct opt_doc netwatch_doc = {
	.synopsis = "[OPTIONS]",
	.description =
	"Counts the packets arriving on the watched interfaces per source address, without\n"
	"touching the servers behind them: a TC ingress program (a TCX link when the kernel has\n"
	"them, otherwise a clsact direct-action filter) keeps packets, bytes, first/last seen\n"
	"and the first destination ports per source in a bounded LRU table. It never drops or\n"
	"changes a packet. Each interval the busiest sources are printed with their GeoIP\n"
	"location. --port limits counting to traffic towards local ports (the clients of a\n"
	"server). On exit ebee removes its own filter (and the clsact qdisc if it created it);\n"
	"'ebee cleanup' removes what a killed run left behind. Bytes are link-layer bytes as\n"
	"received; with the JSON output a last line of type \"summary\" gives the totals and\n"
	"the number of sources evicted from a full table.",
	.examples =
	"  ebee netwatch -i eth0 --port 80,443\n"
	"  ebee netwatch --json --duration 10s --top 0\n"
	"  ebee netwatch -i lo --attach tc --labels lab.txt\n",
};

const struct ebee_cmd netwatch_cmd = {
	.name = "netwatch",
	.summary = "count ingress packets per client address, with GeoIP",
	.req = REQ_BPF | REQ_NETADM,
	.run = netwatch_run,
	.opts = netwatch_opts,
	.cfg_size = sizeof(struct netwatch_cfg),
	.cfg_default = &netwatch_defaults,
	.doc = &netwatch_doc,
	.min_pos = 0,
	.max_pos = 0,
};
