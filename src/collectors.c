// SPDX-License-Identifier: BSD-2-Clause
/* The registry: every collector ebee has, in the order doctor lists them. Doctor, `prog`
 * attribution and the daemon iterate this; adding a collector is one line here and one below. */
#include "core/collector.h"

extern const struct collector_desc count_collector;    /* src/count */
extern const struct collector_desc tcp_collector;      /* src/tcp */
extern const struct collector_desc uprobe_collector;   /* src/uprobe */
extern const struct collector_desc netwatch_collector; /* src/netwatch */
extern const struct collector_desc prog_collector;     /* src/prog */
extern const struct collector_desc events_collector;   /* src/events */
extern const struct collector_desc guard_collector;    /* src/guard */
extern const struct collector_desc policy_collector;   /* src/policy */
extern const struct collector_desc graph_collector;    /* src/graph */
extern const struct collector_desc http_collector;     /* src/http */

const struct collector_desc *const ebee_collectors[] = {
	&count_collector,
	&tcp_collector,
	&uprobe_collector,
	&netwatch_collector,
	&prog_collector,
	&events_collector,
	&guard_collector,
	&policy_collector,
	&graph_collector,
	&http_collector,
	NULL,
};
