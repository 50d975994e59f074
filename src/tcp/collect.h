/* SPDX-License-Identifier: BSD-2-Clause */
/* The tcp collector's config: what `ebee tcp states|life|count` options fill (tcp.c) and the
 * collector (collect.c) resolves into its kernel filters when it opens. */
#ifndef EBEE_TCP_COLLECT_H
#define EBEE_TCP_COLLECT_H

#include "core/collector.h"
#include "core/opts.h"
#include <linux/types.h>
#include "tcp/tcp.h"

struct tcp_cfg {
	enum tcp_mode mode;        /* set by the subcommand */
	struct opt_list state;
	const char *dir;
	struct opt_ports lport, rport;
	struct opt_cidrs laddr, raddr;
	unsigned long long pid;
	bool v4, v6;
	double duration;
	double interval;
	struct opt_list by;
	/* count mode: keep the last N closed connections (life's events) for the daemon's API;
	 * 0 = none (the CLI's count) */
	unsigned recent;
};

extern const struct collector_desc tcp_collector;
/* `ebee tcp count`'s options: the daemon runs tcp in count mode and takes these (tcp.c). */
extern const struct opt tcp_count_opts[];

#endif
