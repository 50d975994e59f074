// SPDX-License-Identifier: BSD-2-Clause
/* ebee tcp states|life|count: the command lines of the tcp collector (collect.c). */
#include "commands.h"
#include "core/out.h"
#include "tcp/collect.h"

static const struct tcp_cfg tcp_defaults = {
	.interval = 1.0,
};

#define OFF(f) offsetof(struct tcp_cfg, f)

#define OPT_STATE(help) \
	{ "state", 's', OPT_LIST, OFF(state), "STATE,...", help }
#define OPTS_FILTER \
	{ "lport", 0, OPT_PORTS, OFF(lport), "PORT,...", "local port or range LO-HI (up to 8)" }, \
	{ "rport", 0, OPT_PORTS, OFF(rport), "PORT,...", "remote port or range LO-HI (up to 8)" }, \
	{ "laddr", 0, OPT_CIDRS, OFF(laddr), "CIDR,...", "local address or network, v4 or v6 (up to 4)" }, \
	{ "raddr", 0, OPT_CIDRS, OFF(raddr), "CIDR,...", "remote address or network, v4 or v6 (up to 4)" }, \
	{ "pid", 'p', OPT_UINT, OFF(pid), "PID", "sockets owned by this process (best known owner)", \
	  NULL, 1, 4194304 }, \
	{ "ipv4", '4', OPT_FLAG, OFF(v4), NULL, "IPv4 only (v4 peers of dual-stack sockets included)" }, \
	{ "ipv6", '6', OPT_FLAG, OFF(v6), NULL, "IPv6 only" }, \
	{ "duration", 'd', OPT_SECONDS, OFF(duration), "SECONDS", "stop after this long", \
	  "until Ctrl-C", 0, 1e9 }

static const struct opt states_opts[] = {
	OPT_STATE("only transitions into or out of these states (see --dir)"),
	{ "dir", 0, OPT_STR, OFF(dir), "into|from|any", "with --state: transitions into, out of, or either",
	  "any" },
	OPTS_FILTER,
	OPT_END,
};

static const struct opt life_opts[] = {
	OPTS_FILTER,
	OPT_END,
};

const struct opt tcp_count_opts[] = {
	OPT_STATE("count only these states"),
	{ "by", 'b', OPT_LIST, OFF(by), "KEY,...",
	  "rows per state and also per raddr, rport, lport and/or comm", "state" },
	{ "interval", 'i', OPT_SECONDS, OFF(interval), "SECONDS", "print a table every interval", "1s",
	  0.01, 86400 },
	OPTS_FILTER,
	OPT_END,
};

/* count prints a table every interval; states and life print as events come and flush at
 * least every half second, so rows reach a pipe. */
static int tcp_run(struct ebee_ctx *ctx, const struct tcp_cfg *cfgp, enum tcp_mode mode)
{
	struct tcp_cfg cfg = *cfgp;
	struct out o;

	cfg.mode = mode;
	out_init(&o, stdout, ctx->json ? OUT_JSON : OUT_TABLE, NULL, 0);
	return collector_run_cli(&tcp_collector, &cfg, NULL, mode == TCP_MODE_COUNT ? cfg.interval : 0.5,
				 cfg.duration, ctx, &o);
}

static int states_run(struct ebee_ctx *ctx, void *cfg, int argc, char **argv)
{
	return tcp_run(ctx, cfg, TCP_MODE_STATES);
}

static int life_run(struct ebee_ctx *ctx, void *cfg, int argc, char **argv)
{
	return tcp_run(ctx, cfg, TCP_MODE_LIFE);
}

static int count_run(struct ebee_ctx *ctx, void *cfg, int argc, char **argv)
{
	return tcp_run(ctx, cfg, TCP_MODE_COUNT);
}

#define FILTER_DOC \
	"Filters run in the kernel. The owner (PID, COMM) is the process that used the\n" \
	"socket from a system call (connect, listen, close...) or, for a socket accepted\n" \
	"from a listener, the process that called listen(); it is empty while unknown\n" \
	"(the socket predates ebee and has only seen packets since). An unbound\n" \
	"connecting socket has local port 0 in its CLOSE -> SYN_SENT transition (the\n" \
	"kernel picks the port just after), so '--lport' cannot match that transition."

static const struct opt_doc states_doc = {
	.synopsis = "[OPTIONS]",
	.description =
		"Prints every TCP state transition (IPv4 and IPv6): time, owner, addresses and\n"
		"ports, old and new state, and MS, the time the socket spent in the old state\n"
		"(empty when ebee did not see it enter that state). In JSON, 'sock' identifies\n"
		"the socket across its transitions.\n\n" FILTER_DOC,
	.examples =
		"  ebee tcp states\n"
		"  ebee tcp states --state SYN_SENT --dir from     # connection attempts ending\n"
		"  ebee tcp states --rport 443 -4 --raddr 10.0.0.0/8\n",
};

static const struct opt_doc life_doc = {
	.synopsis = "[OPTIONS]",
	.description =
		"Prints one line per closed TCP connection: owner, addresses and ports, bytes\n"
		"sent (acknowledged by the peer) and received, duration from the first SYN (MS,\n"
		"empty when the start was not seen) and FIRST, which side closed first: local,\n"
		"remote, reset (a reset received), abort (closed locally without FIN) or '-'\n"
		"(never established, e.g. refused).\n\n" FILTER_DOC,
	.examples =
		"  ebee tcp life\n"
		"  ebee tcp life --lport 80,443 --json\n",
};

static const struct opt_doc count_doc = {
	.synopsis = "[OPTIONS]",
	.description =
		"Counts state transitions in the kernel (nothing is sent per event) and prints,\n"
		"every interval and at exit, how many sockets ENTERED each state during the\n"
		"interval and how many are in it NOW (among the sockets ebee saw change state\n"
		"since it started). '--by' adds keys: remote address, remote port, local port,\n"
		"owner comm. Rows with neither are left out.\n\n" FILTER_DOC,
	.examples =
		"  ebee tcp count\n"
		"  ebee tcp count --by rport --state ESTABLISHED,SYN_SENT -i 5\n",
};

static const struct ebee_cmd tcp_states_cmd = {
	.name = "states",
	.summary = "print every TCP state transition",
	.req = REQ_BPF | REQ_BTF | REQ_TRACEFS,
	.run = states_run,
	.opts = states_opts,
	.cfg_size = sizeof(struct tcp_cfg),
	.cfg_default = &tcp_defaults,
	.doc = &states_doc,
	.min_pos = 0, .max_pos = 0,
};

static const struct ebee_cmd tcp_life_cmd = {
	.name = "life",
	.summary = "print each closed TCP connection with duration and bytes",
	.req = REQ_BPF | REQ_BTF | REQ_TRACEFS,
	.run = life_run,
	.opts = life_opts,
	.cfg_size = sizeof(struct tcp_cfg),
	.cfg_default = &tcp_defaults,
	.doc = &life_doc,
	.min_pos = 0, .max_pos = 0,
};

static const struct ebee_cmd tcp_count_cmd = {
	.name = "count",
	.summary = "count TCP sockets entering and in each state, per interval",
	.req = REQ_BPF | REQ_BTF | REQ_TRACEFS,
	.run = count_run,
	.opts = tcp_count_opts,
	.cfg_size = sizeof(struct tcp_cfg),
	.cfg_default = &tcp_defaults,
	.doc = &count_doc,
	.min_pos = 0, .max_pos = 0,
};

static const struct ebee_cmd *const tcp_sub[] = {
	&tcp_states_cmd, &tcp_life_cmd, &tcp_count_cmd, NULL,
};

static const struct opt_doc tcp_doc = {
	.synopsis = "states|life|count [OPTIONS]",
	.description = "TCP connection states from the sock:inet_sock_set_state tracepoint.",
};

const struct ebee_cmd tcp_cmd = {
	.name = "tcp",
	.summary = "TCP connection states: transitions, lifetimes, counts",
	.doc = &tcp_doc,
	.sub = tcp_sub,
};
