/* SPDX-License-Identifier: BSD-2-Clause */
/* `ebee prog snapshot FILE` / `ebee prog diff FILE`: counters saved as JSON, and the deltas
 * between a saved snapshot and now. Pure code (unit tested) apart from the file I/O. */
#ifndef EBEE_PROG_SNAP_H
#define EBEE_PROG_SNAP_H

#include <stdint.h>
#include <stdio.h>

#include "prog/progstat.h"

#define SNAP_VERSION 1

struct snap {
	char boot_id[40];
	uint64_t taken_real_ns;        /* wall clock */
	struct ps_set set;             /* only id,type,name,tag,load_time,run_cnt,run_time_ns */
};

/* Writes/reads the snapshot document. Read returns 0 or -errno/-EINVAL with an error printed. */
int snap_write(FILE *f, const struct snap *s);
int snap_read(const char *path, struct snap *s);
int snap_parse(const char *text, struct snap *s);  /* the document in memory */
void snap_free(struct snap *s);
const char *snap_boot_id(char *buf, size_t len);    /* this boot's id, "" if unknown */

enum snap_status { SNAP_SAME, SNAP_NEW, SNAP_GONE };

struct snap_delta {
	const struct ps_prog *now;     /* NULL when gone */
	const struct ps_prog *then;    /* NULL when new */
	enum snap_status status;
	uint64_t d_runs, d_ns;
};

/* Pairs programs by id (and tag + load_time, so a reused id counts as a new program).
 * A new program's delta is everything it ran since load. Returns the number of deltas in
 * *out (allocated; free()), ordered by id, or -ENOMEM. */
int snap_diff(const struct ps_set *then, const struct ps_set *now, struct snap_delta **out);
const char *snap_status_name(enum snap_status s);

#endif
