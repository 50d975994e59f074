/* SPDX-License-Identifier: BSD-2-Clause */
/* The count collector's config: what `ebee count`'s options fill (count.c) and the collector
 * (collect.c) resolves when it opens. */
#ifndef EBEE_COUNT_COLLECT_H
#define EBEE_COUNT_COLLECT_H

#include "core/collector.h"
#include "core/filter.h"
#include "core/opts.h"

struct count_cfg {
	struct opt_list by, syscalls;
	bool all;
	struct filter_opts filter;   /* --pid --children --uid --comm --cgroup --container */
	double interval, duration;
	unsigned long long top, max_entries;
};

extern const struct collector_desc count_collector;
extern const struct count_cfg count_cfg_default;   /* the options' defaults */
extern const struct opt count_opts[];                /* `ebee count`'s (count.c), the daemon's too */

#endif
