/* SPDX-License-Identifier: BSD-2-Clause */
/* netwatch's collector, shared by `ebee netwatch` and `ebee serve`: loads and attaches the TC
 * program, reads the per-source map into snapshots (with packets/s against the previous one
 * and GeoIP results), and renders them as rows (table / JSON lines), as the /api/netwatch JSON
 * document and as Prometheus text. A session is single-threaded: the daemon renders from the
 * event loop's thread between refreshes, so no locking and no global output state. */
#ifndef EBEE_NETWATCH_COLLECT_H
#define EBEE_NETWATCH_COLLECT_H

#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>

#include "core/collector.h"
#include "core/opts.h"
#include "core/out.h"
#include "geoip/geoip.h"
#include "netwatch/netwatch.h"
#include "netwatch/tc.h"

/* Options both commands take; the option table rows come from NW_COMMON_OPTS. */
struct nw_opts {
	struct opt_list ifaces;
	struct opt_list ports;
	struct opt_list geoip;
	const char *labels;
	const char *attach;             /* auto | tcx | tc */
	unsigned long long max_sources;
};

#define NW_COMMON_OPTS(T, M)                                                                   \
	{ "interface", 'i', OPT_LIST, offsetof(T, M.ifaces), "IFACE",                          \
	  "interface to watch (repeatable, comma-separated)", "every interface that is up" },   \
	{ "port", 'p', OPT_LIST, offsetof(T, M.ports), "PORT",                                 \
	  "count only packets to these local TCP/UDP ports (e.g. 80,443)", "all packets" },     \
	{ "geoip", 0, OPT_LIST, offsetof(T, M.geoip), "PATH",                                  \
	  "GeoIP database (.mmdb, MaxMind City or ip-location-db layout); repeatable",          \
	  "the DB-IP database installed by the build" },                                        \
	{ "labels", 0, OPT_STR, offsetof(T, M.labels), "FILE",                                 \
	  "names for private networks, lines of 'CIDR name lat lon'" },                         \
	{ "attach", 0, OPT_STR, offsetof(T, M.attach), "MODE",                                 \
	  "auto (TCX when the kernel has it, else clsact), tcx or tc (clsact filter)", "auto" },\
	{ "max-sources", 0, OPT_UINT, offsetof(T, M.max_sources), "N",                         \
	  "size of the kernel's LRU table of sources (oldest evicted beyond it)", "65536",     \
	  1024, 16777216 }

#define NW_OPTS_DEFAULT { .attach = "auto", .max_sources = NW_DEFAULT_SOURCES }

struct nw_src {
	struct nw_key key;
	struct nw_val val;
	double pps;
	const struct geo *geo;
	uint32_t raw;                   /* its index in the map read that made the snapshot */
	uint8_t moved;                  /* refresh only: packets or bytes changed */
	uint8_t dirty;                  /* refresh only: its key came through nw_dirty */
};

struct netwatch_bpf;
struct ring_buffer;

struct nw_session {
	const struct nw_opts *opts;     /* the collector's copy */
	enum nw_attach_mode mode;
	struct netwatch_bpf *skel;
	struct geoip *geo;
	struct nw_iface ifs[NW_MAX_IFACES];
	int nifs;
	uint32_t max_sources;
	struct nw_src *cur, *prev;      /* sorted by key */
	size_t ncur, nprev;
	struct nw_src **order;          /* cur sorted by packets, descending */
	/* The map as last read, in the kernel's order: while the same keys come back in the
	 * same order, a refresh updates the sources that changed in place (pos: read index ->
	 * cur index) instead of rebuilding, re-sorting and looking up every one */
	struct nw_key *rkeys, *rkeys_new;
	struct nw_val *rvals;
	uint32_t *pos;
	size_t nraw;
	struct nw_src **moved;          /* scratch: the sources that move in order */
	struct nw_src **merge;
	/* The sources the kernel published on nw_dirty since the last refresh (cur indexes, each
	 * once); dirty_unknown: a key not in the snapshot came through */
	struct ring_buffer *dirty_rb;
	uint32_t *dirty;
	size_t ndirty;
	bool dirty_unknown;
	uint32_t *hot;                  /* cur indexes of the sources whose pps is not 0 */
	size_t nhot;
	/* the counters at the last map read */
	uint64_t seen_counted, seen_new, seen_insert_err, seen_dirty_lost;
	uint64_t now_ns, prev_ns;       /* monotonic time of the snapshots */
	uint64_t stats[NW_STAT__COUNT];
	uint64_t evicted;
	uint64_t refreshes;
	uint64_t walks, dirty_reads, lookups;   /* refreshes by kind, and keys looked up */
};

/* The netwatch collector (core/collector.h): cfg is a struct nw_opts, priv the session. Its
 * refresh sets the health to failed when no interface is attached any more. The daemon's
 * /api/netwatch document comes from its api callback, /metrics from its metrics writer. */
extern const struct collector_desc netwatch_collector;

/* Parses options (o must outlive the session), opens GeoIP, loads. Call after loop_new().
 * Returns 0 or -errno having printed one error line; on error the session is already closed. */
int nw_session_load(struct nw_session *s, const struct nw_opts *o);
/* Attaches to every interface and allocates the snapshot tables; nw_session_close undoes. */
int nw_session_attach(struct nw_session *s);
/* Takes a new snapshot. Returns the number of interfaces still attached (a vanished
 * interface is reported once), or -errno. */
int nw_session_refresh(struct nw_session *s);
void nw_session_close(struct nw_session *s);   /* detaches everything; accepts a zeroed s */

/* Rows: one per source, for `ebee netwatch` (table / JSON lines). */
void nw_out_init(struct out *o, FILE *f, enum out_fmt fmt);
void nw_out_source(struct out *o, const struct nw_src *src);
/* Totals (sources, evictions, ...) as one row. */
void nw_out_summary_init(struct out *o, FILE *f, enum out_fmt fmt);
void nw_out_summary(struct out *o, const struct nw_session *s);

#endif
