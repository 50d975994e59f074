/* SPDX-License-Identifier: BSD-2-Clause */
/* ebee uprobe's user side, shared between the command (uprobe.c), target resolution
 * (target.c) and output (output.c). */
#ifndef EBEE_UPROBE_SESSION_H
#define EBEE_UPROBE_SESSION_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ebee.h"
#include "core/opts.h"
#include "core/out.h"
#include "uprobe/argspec.h"
#include "uprobe/binary.h"

struct uprobe_bpf;
struct bpf_link;
struct ring_buffer;
struct ebee_loop;

struct uprobe_cfg {
	long long pid;
	const char *ret;
	bool count;
	bool hist;
	bool list;
	double duration;
	struct opt_list deny;
	unsigned long long max_probes;
	int argc;                 /* the probes: TARGET:FUNC [ARGSPEC]... (set by the command) */
	char **argv;
};

struct probe {
	const char *target;       /* as given; NULL = the -p process's executable */
	const char *func;
	const char *spec;         /* ARGSPEC text or NULL */
	struct up_spec args;
	struct up_bin *bin;
	const struct up_func *f;
	struct up_sites sites;    /* Go */
	struct up_layout layout;
	int abi;
};

struct ubin {                     /* binaries by resolved path, opened once */
	char path[PATH_MAX];      /* what uprobes attach to (may be /proc/PID/exe) */
	char shown[PATH_MAX];     /* what messages show */
	struct up_bin b;
};

#define MAX_BINS 8   /* binaries per run */

struct run {
	const struct uprobe_cfg *cfg;
	long long pid;            /* -p, as its thread group id; 0 = none */
	bool json;                /* rows are JSON (messages then skip the caret line) */
	struct probe probes[UP_MAX_FUNCS];
	int nprobes;
	struct ubin *bins[MAX_BINS];
	int nbins;
	struct up_spec_arg ret;
	struct uprobe_bpf *skel;
	struct bpf_link **links;
	int nlinks;
	struct ring_buffer *rb;
	struct ebee_loop *loop;
	struct out *o;            /* where calls are printed (the collector's out), or NULL */
	uint64_t events;          /* calls and returns received */
	bool any_go;
	bool any_ret;             /* some probe shows a return value */
	bool exited;
	int pidfd;
};

/* output.c */
void up_events_init(struct run *r);   /* r->o's columns, chosen for the run */
int up_on_event(void *arg, void *data, size_t size);   /* ring buffer callback */
void up_summary(struct run *r, struct out *o);   /* per-function counters (and histograms) */

/* collect.c: --list, which loads nothing */
struct ebee_ctx;
int up_list(const struct uprobe_cfg *cfg, const struct ebee_ctx *ctx);

/* target.c */
int up_find_lib(const char *name, long long pid, char *out, size_t len);
int up_resolve_target(const char *target, long long pid, char *path, char *shown, size_t len);
bool up_looks_like_probe(const char *s, long long pid);

#endif
