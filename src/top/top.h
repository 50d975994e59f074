/* SPDX-License-Identifier: BSD-2-Clause */
/* `ebee top`: the model (samples of every program, rates over the last interval, history)
 * shared by the batch printer (top.c) and the full-screen view (view.c). */
#ifndef EBEE_TOP_H
#define EBEE_TOP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/ebee.h"
#include "prog/progstat.h"

#define TOP_HIST 120          /* samples of history kept per program for the graph */
#define TOP_REFRESH_TICKS 30  /* owners/attach points are re-read this often, */
#define TOP_RESCAN_MIN_NS 5000000000ull  /* and when programs appear, at most this often */

enum top_sort {
	SORT_ID, SORT_TYPE, SORT_NAME, SORT_OWNER, SORT_ATTACH, SORT_RUNS, SORT_NS, SORT_NS_TOTAL,
	SORT_CPU, SORT__N
};

struct top_row {
	struct ps_prog p;
	bool have_rate;        /* false for a program's first sample (nothing to compare with) */
	uint64_t d_runs, d_ns;
	double runs_s;         /* runs per second over the last interval */
	double ns_run;         /* average ns per run over the last interval */
	double ns_total;       /* average ns per run since load (while stats were on) */
	double cpu;            /* % of one CPU over the last interval */
	double cpu_all;        /* % of the whole machine */
	float h_cpu[TOP_HIST], h_ns[TOP_HIST];
	int h_n;               /* samples in the ring (<= TOP_HIST); newest at h_pos - 1 */
	int h_pos;
};

struct top_filter {
	const char *type, *name, *owner;   /* substrings; NULL = any */
	char text[64];                     /* interactive filter: "type:x", "name:x", "owner:x" or any */
};

struct top_model {
	struct top_row *rows, *old;        /* sorted by id */
	int n, old_n, cap;
	struct ps_set set, prev_set;       /* this sample and the previous one (by id) */
	struct ps_iter *iter;              /* NULL: BPF_OBJ_GET_INFO_BY_FD per program */
	uint64_t last_ns;                  /* CLOCK_MONOTONIC of the last sample */
	uint64_t scanned_ns;               /* of the last owner/attach scan */
	double elapsed_s;                  /* length of the last interval */
	unsigned samples;
	int appeared, vanished;            /* in the last interval */
	int ncpus;
	struct ps_stats stats;
};

int top_model_init(struct top_model *m);
void top_model_free(struct top_model *m);
/* Reads every program and computes the rates since the previous sample. 0 or -errno. */
int top_sample(struct top_model *m);

bool top_match(const struct top_row *r, const struct top_filter *f);
/* Fills idx with the rows that match f, sorted by key; returns how many. */
int top_order(const struct top_model *m, const struct top_filter *f, enum top_sort key, bool asc,
	      int *idx);
const char *top_sort_name(enum top_sort k);
int top_sort_parse(const char *s, enum top_sort *k);

struct top_cfg {
	double interval;
	bool batch;
	unsigned long long count;
	const char *sort;
	bool asc;
	const char *type, *name, *owner;
	unsigned long long limit;
	bool keep_stats;
	bool no_iter;
};

struct ebee_loop;
/* The full-screen view; returns 0 or -errno. */
int top_view_run(struct ebee_ctx *ctx, struct top_cfg *cfg, struct top_model *m, struct ebee_loop *l,
		 enum top_sort key);

#endif
