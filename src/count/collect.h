/* SPDX-License-Identifier: BSD-2-Clause */
/* The count collector's config: what `ebee count`'s options fill (count.c) and the collector
 * (collect.c) resolves when it opens. */
#ifndef EBEE_COUNT_COLLECT_H
#define EBEE_COUNT_COLLECT_H

#include "core/collector.h"
#include "core/opts.h"

struct count_cfg {
	struct opt_list by, syscalls;
	bool all;
	unsigned long long pid;
	const char *uid, *comm, *cgroup;
	double interval, duration;
	unsigned long long top, max_entries;
};

extern const struct collector_desc count_collector;

#endif
