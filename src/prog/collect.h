/* SPDX-License-Identifier: BSD-2-Clause */
/* The prog collector (collect.c): the cost of every loaded BPF program, configured by `ebee top`'s
 * options (struct top_cfg). */
#ifndef EBEE_PROG_COLLECT_H
#define EBEE_PROG_COLLECT_H

#include "core/collector.h"
#include "core/opts.h"
#include "top/top.h"

extern const struct collector_desc prog_collector;
extern const struct top_cfg top_cfg_default;   /* `ebee top`'s defaults */
extern const struct opt top_opts[];            /* `ebee top`'s options (top.c), the daemon's too */
/* For the full-screen view, which reads the model between the collector's refreshes. */
struct top_model *prog_model(struct collector *c);
enum top_sort prog_sort_key(const struct collector *c);
/* The ebee collector a loaded program belongs to (by its desc's prog_prefix), or NULL. */
const char *prog_collector_of(const struct ps_prog *p);

#endif
