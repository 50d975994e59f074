/* SPDX-License-Identifier: BSD-2-Clause */
/* Collectors: every feature's state lives in a collector object that the CLI command, doctor,
 * `prog` attribution and the daemon drive through this one interface; none keeps its own copy
 * of another's hook list. A collector is described once (struct collector_desc, static const,
 * listed in src/collectors.c) and instantiated with collector_new().
 *
 * Lifecycle, always in this order, each step at most once:
 *   collector_new(desc, cfg)   allocate; cfg is the feature's own config struct (the same one
 *                              its CLI option table fills), copied
 *   open(c)                    resolve options (bad input: one error line, -EINVAL), open the
 *                              skeleton, set rodata, choose variants (collector_choose), load
 *   start(c, loop)             attach; add ring buffers, fds and timers to the loop
 *   refresh(c)                 (any number of times) read maps into the collector's snapshot
 *   rows(c, o) / metrics(c, p) render the snapshot (table/JSON rows, Prometheus families)
 *   stop(c)                    detach everything (the last refresh after stop is final/exact)
 *   collector_free(c)          destroy the skeleton, free; accepts NULL and a failed open
 * Any step may be skipped after a failure: collector_free() always undoes what was done.
 *
 * A CLI command parses its options into the collector's cfg and calls collector_run_cli; the
 * daemon drives the same steps itself. c->out/c->ctx are where a CLI run renders (NULL in the
 * daemon): a collector that streams rows as events arrive writes them there.
 *
 * Events: a collector that produces events calls collector_emit(c, hdr) for each one it has
 * decoded (hdr is a record starting with struct ebee_event_hdr, core/event.h); subscribers
 * added with collector_subscribe() get them in order, on the loop's thread, with no copy.
 *
 * Counters (events, lost, missed) have one meaning everywhere and one closing summary shape
 * (collector_summary): {"type":"summary","collector":NAME,"events":N,"lost":N,"missed":N,
 * "duration_s":S, ...the collector's own extra keys}. */
#ifndef EBEE_COLLECTOR_H
#define EBEE_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/ebee.h"
#include "core/load.h"

struct ebee_loop;
struct out;
struct prom;
struct collector;
struct ebee_event_hdr;
struct jw;
struct ebee_ctx;
struct opt;

#define COLLECTOR_MAX_HOOKS 32

struct collector_counters {
	uint64_t events;   /* records delivered to user space (or counted in the kernel) */
	uint64_t lost;     /* records the kernel could not queue (ring buffer full, map full) */
	uint64_t missed;   /* program runs the kernel skipped (recursion misses, prog info) */
};

enum collector_health { COLLECTOR_OK, COLLECTOR_DEGRADED, COLLECTOR_FAILED };

struct collector_desc {
	const char *name;          /* "tcp": the registry key, API path /api/tcp, metric prefix */
	const char *what;          /* "TCP state tracking", for doctor */
	/* Every logical hook with its variants in order of preference: the one table that
	 * loading (collector_choose), doctor and `prog` attribution read. */
	const struct ebee_hook *hooks;
	int nhooks;
	/* Program-name prefixes this collector's BPF programs carry ("tcp_", "ebee_nw_"), so
	 * `prog` and `top` can say which collector owns a loaded program. */
	const char *prog_prefix;
	size_t priv_size;          /* bytes of private state, zeroed, at c->priv */
	size_t cfg_size;           /* bytes of the config copied into c->cfg */
	/* The config a run without options uses (the daemon's --collectors), or NULL when the
	 * collector cannot run without being told what to watch. */
	const void *cfg_default;
	/* Capabilities its refresh/stop still use once started (COLLECTOR_CAPS(EBEE_CAP(CAP_X)
	 * | ...), core/priv.h), for a long-running command's drop after attaching; 0 = not
	 * declared, and then nothing is dropped. */
	uint64_t caps_run;

	int (*open)(struct collector *c);
	int (*start)(struct collector *c, struct ebee_loop *l);
	int (*refresh)(struct collector *c);                     /* may be NULL */
	void (*rows)(struct collector *c, struct out *o);        /* may be NULL */
	void (*metrics)(struct collector *c, struct prom *p);    /* may be NULL */
	/* Extra keys for the closing summary object (after the common ones): jw_k*() members of
	 * the open object; may be NULL. */
	void (*summary)(struct collector *c, struct jw *w);
	void (*stop)(struct collector *c);                       /* may be NULL */
	void (*close)(struct collector *c);                      /* frees priv's resources */
	/* The daemon's JSON document /api/NAME: members of the open object w, after the ones the
	 * daemon writes for every collector (collector, health, detail, events, lost, missed),
	 * rows among them through out_init_jw(); top is the ?top=N asked (0 = all). May be NULL:
	 * the daemon then writes "rows":[...] from rows(), which sets its columns on the writer it
	 * gets (out_cols). */
	void (*api)(struct collector *c, struct jw *w, size_t top);
	/* An event this collector emitted (collector_emit) as members of the open JSON object w,
	 * with whatever context the collector adds (the process table's proc.* fields...): the
	 * daemon's event stream and JSON outputs. May be NULL: event_json() (core/field.h), the
	 * header and the type's field table. */
	void (*event_json)(struct collector *c, struct jw *w, const struct ebee_event_hdr *ev);
	/* Doctor: what the collector needs beyond its hook table (e.g. the per-syscall
	 * tracepoints), checked without loading; one phrase into buf, false when unusable.
	 * May be NULL. */
	bool (*doctor)(char *buf, size_t len);
	/* The options a daemon config file may set for this collector, on the cfg_size struct
	 * (applied over cfg_default): usually its CLI command's table, so that the YAML
	 * `tcp: {lport: [80]}` means `--lport 80`. NULL = the collector takes none there. */
	const struct opt *opts;
};

typedef void (*collector_event_fn)(void *arg, const struct ebee_event_hdr *ev);

struct collector_sub {
	collector_event_fn fn;
	void *arg;
};

#define COLLECTOR_MAX_SUBS 8

struct collector {
	const struct collector_desc *desc;
	void *cfg;                 /* the feature's config (a copy) */
	void *priv;                /* the feature's state */
	struct ebee_loop *loop;    /* set by start */
	int chosen[COLLECTOR_MAX_HOOKS];   /* variant index per hook, -1 = none / not loaded */
	struct collector_counters cnt;     /* kept current by the collector's refresh */
	/* What a lost record means here, for the warning ("ring buffer full"); NULL = that. */
	const char *lost_why;
	struct out *out;                   /* the CLI's output (NULL in the daemon) */
	const struct ebee_ctx *ctx;        /* the CLI's context (NULL in the daemon) */
	enum collector_health health;
	char health_detail[160];
	uint64_t start_ns, stop_ns;       /* monotonic, for duration_s */
	bool opened, started, stopped;
	struct collector_sub subs[COLLECTOR_MAX_SUBS];
	int nsubs;
};

/* The registry (src/collectors.c): every collector ebee has, NULL-terminated. */
extern const struct collector_desc *const ebee_collectors[];
const struct collector_desc *collector_find(const char *name);

struct collector *collector_new(const struct collector_desc *d, const void *cfg);
int collector_open(struct collector *c);
int collector_start(struct collector *c, struct ebee_loop *l);
int collector_refresh(struct collector *c);
void collector_stop(struct collector *c);
void collector_free(struct collector *c);

/* Between open's skeleton open and load: ebee_choose on the desc's hook table, the choice kept
 * in c->chosen. Returns 0 or -EOPNOTSUPP having printed which hook had no usable variant. */
struct bpf_object;
int collector_choose(struct collector *c, struct bpf_object *obj);
/* The kind used for hook i, or -1. */
int collector_kind(const struct collector *c, int hook);
/* The registry's collector whose desc prog_prefix starts a program name ("tcp_btf" -> tcp),
 * or NULL: `prog` and `top` attribution. */
const struct collector_desc *collector_of_prog(const char *prog_name);
/* Sum of recursion misses of the chosen programs (prog info), for cnt.missed. */
uint64_t collector_prog_misses(const struct collector *c, struct bpf_object *obj);

/* The declared flag of caps_run (a collector needing none declares COLLECTOR_CAPS(0)). */
#define COLLECTOR_CAPS(caps) ((caps) | (1ULL << 63))
/* After the collectors are started: drops every capability none of them still uses
 * (ebee_drop_privileges); when one has not declared its needs, keeps all and says so. */
int collector_drop_privileges(struct collector *const *cs, int n, const char *who);

int collector_subscribe(struct collector *c, collector_event_fn fn, void *arg);
void collector_emit(struct collector *c, const struct ebee_event_hdr *ev);
/* An emitted event as members of the open object w: desc->event_json or event_json(). */
void collector_event_json(struct collector *c, struct jw *w, const struct ebee_event_hdr *ev);

/* The closing summary row: common keys, then desc->summary's. In table mode it goes to
 * stderr as one line, and only with -v or when lost/missed are non-zero (a warning). */
void collector_summary(struct collector *c, const struct ebee_ctx *ctx);
void collector_set_health(struct collector *c, enum collector_health h, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Runs a collector as a CLI command does: new, open, start, loop_run (until a signal, or
 * duration_s > 0 seconds counted from the end of start), stop, a final refresh and rows (when
 * the collector has them), the summary, free. With interval_s > 0, refresh and rows also run
 * every interval_s seconds.
 * `loop`: NULL for a loop of its own (made before anything is loaded, so Ctrl-C during the
 * load takes the cleanup path), or the caller's, which stays the caller's. `o` is the output rows go to (c->out), already initialised by the caller. */
int collector_run_cli(const struct collector_desc *d, const void *cfg, struct ebee_loop *loop,
		      double interval_s, double duration_s, const struct ebee_ctx *ctx,
		      struct out *o);

#endif
