// SPDX-License-Identifier: BSD-2-Clause
/* netwatch collector: load/attach, snapshots, renders; see collect.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/ebee.h"
#include "core/load.h"
#include "netwatch/collect.h"
#include "netwatch/netwatch.skel.h"
#include <linux/capability.h>
#include "core/priv.h"

#define NW_BATCH 4096
/* A refresh looks up the changed sources one by one while they are at most 1/NW_DIRTY_SHARE
 * of the snapshot, else walks the whole table in batches: here a batched walk costs 160-300 ns
 * per source, a lookup 330-700 ns. */
#define NW_DIRTY_SHARE 4
/* nw_dirty holds max_sources / NW_DIRTY_RING records (4096, 128 KB, by default), within
 * these bounds (bytes): the kernel maps all of its pages, twice, into the process (+256 KB of
 * RSS); past that many changed sources the refresh walks the table. */
#define NW_DIRTY_RING 16
#define NW_DIRTY_MIN (16 << 10)
#define NW_DIRTY_MAX (256 << 10)

static int parse_ports(const struct opt_list *l, volatile __u64 *set, volatile __u32 *on)
{
	for (int i = 0; i < l->n; i++) {
		char *end;
		long lo, hi;

		errno = 0;
		lo = strtol(l->v[i], &end, 10);
		hi = lo;
		if (*end == '-')
			hi = strtol(end + 1, &end, 10);
		if (errno || *end || end == l->v[i] || lo < 1 || hi > 65535 || lo > hi) {
			ebee_err("invalid port '%s' (expected 1-65535 or a range like 8000-8099)", l->v[i]);
			return -EINVAL;
		}
		for (long p = lo; p <= hi; p++)
			set[p >> 6] |= 1ULL << (p & 63);
		*on = 1;
	}
	return 0;
}

static int parse_attach(const char *s, enum nw_attach_mode *m)
{
	if (!s || !strcmp(s, "auto"))
		*m = NW_ATTACH_AUTO;
	else if (!strcmp(s, "tcx"))
		*m = NW_ATTACH_TCX;
	else if (!strcmp(s, "tc"))
		*m = NW_ATTACH_TC;
	else {
		ebee_err("invalid attach mode '%s' (expected auto, tcx or tc)", s);
		return -EINVAL;
	}
	return 0;
}

/* A power of 2 (what a ring buffer must be) of at least one page. */
static __u32 dirty_ring_bytes(uint32_t max_sources)
{
	uint64_t want = (uint64_t)max_sources / NW_DIRTY_RING * NW_DIRTY_REC_BYTES;
	__u32 bytes = NW_DIRTY_MIN;
	long page = sysconf(_SC_PAGESIZE);

	while (bytes < want && bytes < NW_DIRTY_MAX)
		bytes <<= 1;
	while (page > 0 && bytes < (uint64_t)page)
		bytes <<= 1;
	return bytes;
}

int nw_session_load(struct nw_session *s, const struct nw_opts *o)
{
	int err, n;

	memset(s, 0, sizeof(*s));
	s->opts = o;
	if ((err = parse_attach(o->attach, &s->mode)))
		return err;
	s->max_sources = o->max_sources ?: NW_DEFAULT_SOURCES;
	n = nw_ifaces_resolve(s->ifs, NW_MAX_IFACES, o->ifaces.v, o->ifaces.n);
	if (n < 0)
		return n;
	s->nifs = n;
	s->geo = geoip_open(o->geoip.v, o->geoip.n, o->labels);
	if (!s->geo) {
		err = -errno ?: -EINVAL;
		goto fail;
	}
	geoip_cache_size(s->geo, s->max_sources);

	s->skel = netwatch_bpf__open();
	if (!s->skel) {
		err = -errno;
		ebee_err("cannot open netwatch BPF object: %s", strerror(errno));
		goto fail;
	}
	if ((err = parse_ports(&o->ports, s->skel->rodata->port_set, &s->skel->rodata->port_filter))) {
		goto fail;
	}
	bpf_map__set_max_entries(s->skel->maps.nw_sources, s->max_sources);
	bpf_map__set_max_entries(s->skel->maps.nw_dirty, dirty_ring_bytes(s->max_sources));
	err = netwatch_bpf__load(s->skel);
	if (err) {
		ebee_load_err("netwatch", err);
		goto fail;
	}
	return 0;
fail:
	nw_session_close(s);
	return err;
}

static int key_of_src_cmp(const void *key, const void *src)
{
	return memcmp(key, &((const struct nw_src *)src)->key, sizeof(struct nw_key));
}

/* A record of nw_dirty: the key of a source that received packets. Marks it in the snapshot
 * (cur is sorted by key), once. */
static int on_dirty(void *ctx, void *data, size_t len)
{
	struct nw_session *s = ctx;
	struct nw_src *e;

	if (len < sizeof(struct nw_key))
		return 0;
	e = bsearch(data, s->cur, s->ncur, sizeof(*s->cur), key_of_src_cmp);
	if (!e)
		s->dirty_unknown = true;   /* new since the snapshot: the whole table is read */
	else if (!e->dirty) {
		e->dirty = 1;
		s->dirty[s->ndirty++] = e - s->cur;
	}
	return 0;
}

int nw_session_attach(struct nw_session *s)
{
	const struct nw_opts *o = s->opts;
	enum nw_attach_mode mode = s->mode;
	int err;

	for (int i = 0; i < s->nifs; i++) {
		struct bpf_program *p = s->ifs[i].l3 ? s->skel->progs.ebee_nw_ingr_l3
						     : s->skel->progs.ebee_nw_ingress;

		/* Without -i, an interface that went away since we listed it is skipped. */
		if (!o->ifaces.n && !nw_iface_present(&s->ifs[i])) {
			ebee_warn("interface '%s' disappeared before attaching: skipped", s->ifs[i].name);
			s->ifs[i].gone = true;
			continue;
		}
		err = nw_iface_attach(&s->ifs[i], bpf_program__fd(p), mode);
		if (err && !o->ifaces.n && !nw_iface_present(&s->ifs[i])) {
			s->ifs[i].gone = true;
			continue;
		}
		if (err)
			return err;
		/* Once one interface has fallen back to tc, stay consistent. */
		if (mode == NW_ATTACH_AUTO && s->ifs[i].how == NW_ATTACH_TC)
			mode = NW_ATTACH_TC;
	}
	/* max_sources entries each, calloc'ed: pages are touched only as sources come */
	s->cur = calloc(s->max_sources, sizeof(*s->cur));
	s->prev = calloc(s->max_sources, sizeof(*s->prev));
	s->order = calloc(s->max_sources, sizeof(*s->order));
	s->rkeys = calloc(s->max_sources, sizeof(*s->rkeys));
	s->rkeys_new = calloc(s->max_sources, sizeof(*s->rkeys_new));
	s->rvals = calloc(s->max_sources, sizeof(*s->rvals));
	s->pos = calloc(s->max_sources, sizeof(*s->pos));
	s->moved = calloc(s->max_sources, sizeof(*s->moved));
	s->merge = calloc(s->max_sources, sizeof(*s->merge));
	s->dirty = calloc(s->max_sources, sizeof(*s->dirty));
	s->hot = calloc(s->max_sources, sizeof(*s->hot));
	if (!s->cur || !s->prev || !s->order || !s->rkeys || !s->rkeys_new || !s->rvals ||
	    !s->pos || !s->moved || !s->merge || !s->dirty || !s->hot) {
		ebee_err("cannot allocate netwatch tables: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	s->dirty_rb = ring_buffer__new(bpf_map__fd(s->skel->maps.nw_dirty), on_dirty, s, NULL);
	if (!s->dirty_rb) {
		err = -errno;
		ebee_err("cannot map netwatch's ring buffer: %s", strerror(-err));
		return err;
	}
	return 0;
}

void nw_session_close(struct nw_session *s)
{
	for (int i = 0; i < s->nifs; i++)
		nw_iface_detach(&s->ifs[i]);
	s->nifs = 0;
	if (s->refreshes)
		ebee_info("netwatch: %llu refreshes: %llu read nothing new, %llu looked up %llu "
			  "changed sources, %llu read the whole table",
			  (unsigned long long)s->refreshes,
			  (unsigned long long)(s->refreshes - s->dirty_reads - s->walks),
			  (unsigned long long)s->dirty_reads, (unsigned long long)s->lookups,
			  (unsigned long long)s->walks);
	ring_buffer__free(s->dirty_rb);
	netwatch_bpf__destroy(s->skel);
	geoip_close(s->geo);
	free(s->cur);
	free(s->prev);
	free(s->order);
	free(s->rkeys);
	free(s->rkeys_new);
	free(s->rvals);
	free(s->pos);
	free(s->moved);
	free(s->merge);
	free(s->dirty);
	free(s->hot);
	memset(s, 0, sizeof(*s));
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct nw_src *)a)->key, &((const struct nw_src *)b)->key,
		      sizeof(struct nw_key));
}

static int order_cmp(const void *a, const void *b)
{
	const struct nw_src *x = *(const struct nw_src *const *)a;
	const struct nw_src *y = *(const struct nw_src *const *)b;

	if (x->val.packets != y->val.packets)
		return x->val.packets < y->val.packets ? 1 : -1;
	if (x->val.bytes != y->val.bytes)
		return x->val.bytes < y->val.bytes ? 1 : -1;
	return key_cmp(x, y);
}

/* Reads the whole map into rkeys_new/rvals (the kernel's order); returns how many. */
static ssize_t read_map(struct nw_session *s)
{
	int fd = bpf_map__fd(s->skel->maps.nw_sources);
	__u32 in = 0, out = 0;
	bool first = true;
	size_t n = 0;

	for (;;) {
		__u32 count = NW_BATCH;
		int err;

		if (n + count > s->max_sources)
			count = s->max_sources - n;
		if (!count)
			break;
		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, s->rkeys_new + n,
					   s->rvals + n, &count, NULL);
		err = err ? -errno : 0;
		n += count;
		/* ENOSPC: sources inserted while we read filled our table (a flood evicting as we
		 * go): this snapshot holds the max_sources read so far. */
		if (err == -ENOENT || err == -ENOSPC)
			break;
		if (err) {
			ebee_err("cannot read netwatch sources: %s", strerror(-err));
			return err;
		}
		in = out;
		first = false;
	}
	return n;
}

static bool read_stats(struct nw_session *s)
{
	int ncpu = ebee_ncpus();
	struct nw_counters *per = calloc(ncpu > 0 ? ncpu : 1, sizeof(*per));
	__u32 zero = 0;

	if (!per || ncpu <= 0 || bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.nw_stats), &zero, per)) {
		free(per);
		return false;   /* keep the last totals */
	}
	memset(s->stats, 0, sizeof(s->stats));
	for (int cpu = 0; cpu < ncpu; cpu++)
		for (int i = 0; i < NW_STAT__COUNT; i++)
			s->stats[i] += per[cpu].c[i];
	free(per);
	return true;
}

static double pps_of(const struct nw_src *e, uint64_t before, double dt)
{
	return dt > 0 && e->val.packets >= before ? (e->val.packets - before) / dt : 0;
}

/* A new snapshot from scratch: sorted by key, matched against the previous one (sorted too),
 * GeoIP looked up for new sources only while the cache keeps the old results. */
static void rebuild(struct nw_session *s, size_t n, double dt)
{
	struct nw_src *tmp = s->prev;
	/* emptied: the old snapshot's results are gone, every source is looked up again */
	bool relook = geoip_cache_trim(s->geo, s->max_sources);
	size_t j = 0;

	s->prev = s->cur, s->cur = tmp;
	s->nprev = s->ncur;
	s->ncur = n;
	for (size_t i = 0; i < n; i++) {
		s->cur[i].key = s->rkeys_new[i];
		s->cur[i].val = s->rvals[i];
		s->cur[i].raw = i;
		s->cur[i].moved = 0;
		s->cur[i].dirty = 0;
	}
	qsort(s->cur, s->ncur, sizeof(*s->cur), key_cmp);
	for (size_t i = 0; i < s->ncur; i++) {
		struct nw_src *e = &s->cur[i];
		const struct nw_src *p = NULL;
		int c = 1;

		while (j < s->nprev && (c = key_cmp(&s->prev[j], e)) < 0)
			j++;
		if (j < s->nprev && c == 0)
			p = &s->prev[j];
		e->pps = pps_of(e, p ? p->val.packets : 0, dt);
		if (p && !relook) {
			e->geo = p->geo;
		} else {
			struct geo_addr a = { .family = e->key.family };

			memcpy(a.addr, e->key.addr, 16);
			e->geo = geoip_cached(s->geo, &a);
		}
		s->order[i] = e;
		s->pos[e->raw] = i;
	}
	qsort(s->order, s->ncur, sizeof(*s->order), order_cmp);
	memcpy(s->rkeys, s->rkeys_new, n * sizeof(*s->rkeys));
	s->nraw = n;
}

/* The k sources in s->moved changed packets or bytes: taken out of the busiest-first order and
 * merged back in (O(n + k log k)). */
static void reorder(struct nw_session *s, size_t k)
{
	size_t m = 0, a = 0, b = 0;

	if (!k)
		return;
	for (size_t i = 0; i < s->ncur; i++)
		if (!s->order[i]->moved)
			s->merge[m++] = s->order[i];
	qsort(s->moved, k, sizeof(*s->moved), order_cmp);
	for (size_t i = 0; i < s->ncur; i++) {
		if (b == k || (a < m && order_cmp(&s->merge[a], &s->moved[b]) < 0))
			s->order[i] = s->merge[a++];
		else
			s->order[i] = s->moved[b++];
	}
	for (size_t i = 0; i < k; i++)
		s->moved[i]->moved = 0;
}

/* A source's new value; returns whether it moves in the order. */
static bool set_val(struct nw_src *e, const struct nw_val *v, double dt)
{
	uint64_t before = e->val.packets;
	bool moved = v->packets != e->val.packets || v->bytes != e->val.bytes;

	e->val = *v;
	e->pps = pps_of(e, before, dt);
	e->moved = moved;
	return moved;
}

/* The same sources as the last walk, read again in the same order: values updated in place. */
static void update(struct nw_session *s, double dt)
{
	size_t k = 0;

	for (size_t i = 0; i < s->nraw; i++) {
		struct nw_src *e = &s->cur[s->pos[i]];

		if (set_val(e, &s->rvals[i], dt))
			s->moved[k++] = e;
	}
	reorder(s, k);
}

/* After a walk: the sources with packets since the last refresh, from scratch. */
static void find_hot(struct nw_session *s)
{
	s->nhot = 0;
	for (size_t i = 0; i < s->ncur; i++)
		if (s->cur[i].pps != 0)
			s->hot[s->nhot++] = i;
}

/* Every other source had no packet since the last refresh: its pps is 0. */
static void cool(struct nw_session *s)
{
	for (size_t i = 0; i < s->nhot; i++)
		s->cur[s->hot[i]].pps = 0;
	s->nhot = 0;
}

/* Looks up the sources that came through nw_dirty (into rvals, nothing changed yet); a
 * source gone from the table (evicted) fails it: -ENOENT. */
static int read_dirty(struct nw_session *s)
{
	int fd = bpf_map__fd(s->skel->maps.nw_sources);

	for (size_t i = 0; i < s->ndirty; i++)
		if (bpf_map_lookup_elem(fd, &s->cur[s->dirty[i]].key, &s->rvals[i]))
			return -errno;
	s->lookups += s->ndirty;
	return 0;
}

/* The looked-up sources updated in place, the others' pps set to 0. */
static void apply_dirty(struct nw_session *s, double dt)
{
	size_t k = 0;

	cool(s);
	for (size_t i = 0; i < s->ndirty; i++) {
		struct nw_src *e = &s->cur[s->dirty[i]];

		if (set_val(e, &s->rvals[i], dt))
			s->moved[k++] = e;
		if (e->pps != 0)
			s->hot[s->nhot++] = s->dirty[i];
	}
	reorder(s, k);
}

static void forget_dirty(struct nw_session *s)
{
	for (size_t i = 0; i < s->ndirty; i++)
		s->cur[s->dirty[i]].dirty = 0;
	s->ndirty = 0;
	s->dirty_unknown = false;
}

/* Reads the whole table: the same keys in the same order update in place, else rebuild. */
static int walk(struct nw_session *s, double dt)
{
	ssize_t n = read_map(s);

	if (n < 0)
		return n;
	if ((size_t)n == s->nraw && !memcmp(s->rkeys_new, s->rkeys, n * sizeof(*s->rkeys)))
		update(s, dt);
	else
		rebuild(s, n, dt);
	find_hot(s);
	s->walks++;
	return 0;
}

/* Cost proportional to what changed: nothing counted since the last read (the per-CPU
 * counters say so) reads nothing but them; otherwise the sources the kernel published on
 * nw_dirty are looked up one by one. The whole table is read (and the snapshot rebuilt if
 * sources came or went) on the first refresh, when sources were inserted (an insert may evict
 * another), when a key was not published (nw_dirty full), when a published source is not in
 * the snapshot or not in the table any more, and when many changed (a walk is cheaper).
 * Order: drain nw_dirty, bump nw_gen, then read: a source the kernel does not publish again
 * in the new generation was published after the bump, so it is read in a later refresh. */
int nw_session_refresh(struct nw_session *s)
{
	double dt;
	int left = 0, err;
	bool fresh = read_stats(s);
	uint64_t counted = s->stats[NW_COUNTED], added = s->stats[NW_NEW];
	uint64_t ierr = s->stats[NW_INSERT_ERR], lost = s->stats[NW_DIRTY_LOST];

	s->prev_ns = s->now_ns;
	s->now_ns = ebee_now_ns();
	dt = s->prev_ns ? (s->now_ns - s->prev_ns) / 1e9 : 0;
	if (fresh && s->refreshes && counted == s->seen_counted && added == s->seen_new &&
	    ierr == s->seen_insert_err) {
		cool(s);
	} else {
		bool whole = !fresh || !s->refreshes || added != s->seen_new ||
			     ierr != s->seen_insert_err || lost != s->seen_dirty_lost;

		forget_dirty(s);
		if (ring_buffer__consume(s->dirty_rb) < 0)
			whole = true;
		__atomic_store_n(&s->skel->bss->nw_gen, s->skel->bss->nw_gen + 1, __ATOMIC_SEQ_CST);
		if (s->dirty_unknown || s->ndirty > s->ncur / NW_DIRTY_SHARE)
			whole = true;
		if (!whole && (err = read_dirty(s)) < 0) {
			if (err != -ENOENT) {
				ebee_err("cannot read netwatch sources: %s", strerror(-err));
				return err;
			}
			whole = true;
		}
		if (whole) {
			forget_dirty(s);
			if ((err = walk(s, dt)))
				return err;
		} else {
			apply_dirty(s, dt);
			forget_dirty(s);
			s->dirty_reads++;
		}
		/* the counters read before the sources: whatever came in after is read next time */
		s->seen_counted = counted;
		s->seen_new = added;
		s->seen_insert_err = ierr;
		s->seen_dirty_lost = lost;
		read_stats(s);
	}
	s->evicted = s->stats[NW_NEW] > s->ncur ? s->stats[NW_NEW] - s->ncur : 0;
	s->refreshes++;

	for (int i = 0; i < s->nifs; i++) {
		struct nw_iface *it = &s->ifs[i];

		if (it->attached && !it->gone && !nw_iface_present(it)) {
			it->gone = true;
			ebee_warn("interface '%s' disappeared: no longer counting there", it->name);
			nw_iface_detach(it);
		}
		left += it->attached;
	}
	return left;
}

/* --- rows --- */

enum {
	C_TS, C_ADDR, C_FAMILY, C_GEO, C_CC, C_COUNTRY, C_REGION, C_CITY, C_LAT, C_LON, C_ASN,
	C_ASORG, C_PKTS, C_BYTES, C_PPS, C_FIRST, C_LAST, C_PORTS, C_TAKEOVERS, C_IFACE, C__N
};
static const struct out_col nw_cols[C__N] = {
	[C_TS]      = { "ts", "TIME", OUT_STR, 0 },
	[C_ADDR]    = { "addr", "ADDRESS", OUT_STR, -28 },
	[C_FAMILY]  = { "family", "FAM", OUT_U64, 0 },
	[C_GEO]     = { "geo", "GEO", OUT_STR, 0 },
	[C_CC]      = { "country_code", "CC", OUT_STR, -3 },
	[C_COUNTRY] = { "country", "COUNTRY", OUT_STR, 0 },
	[C_REGION]  = { "region", "REGION", OUT_STR, 0 },
	[C_CITY]    = { "city", "CITY", OUT_STR, -18 },
	[C_LAT]     = { "lat", "LAT", OUT_F64, 0, 4 },
	[C_LON]     = { "lon", "LON", OUT_F64, 0, 4 },
	[C_ASN]     = { "asn", "ASN", OUT_U64, 0 },
	[C_ASORG]   = { "as_org", "AS", OUT_STR, 0 },
	[C_PKTS]    = { "packets", "PACKETS", OUT_U64, 10 },
	[C_BYTES]   = { "bytes", "BYTES", OUT_U64, 12 },
	[C_PPS]     = { "pps", "PKT/S", OUT_F64, 9, 1 },
	[C_FIRST]   = { "first_seen", "FIRST", OUT_STR, 0 },
	[C_LAST]    = { "last_seen", "LAST SEEN", OUT_STR, -15 },
	[C_PORTS]   = { "ports", "PORTS", OUT_NEST, 0 },
	[C_TAKEOVERS] = { "port_takeovers", "TAKEOVERS", OUT_U64, 0 },
	[C_IFACE]   = { "ifindex", "IF", OUT_U64, 0 },
};

void nw_out_init(struct out *o, FILE *f, enum out_fmt fmt)
{
	out_init(o, f, fmt, nw_cols, C__N);
}

void nw_out_source(struct out *o, const struct nw_src *e)
{
	const struct geo *g = e->geo;
	struct geo_addr a = { .family = e->key.family };
	char buf[64];
	int pord[NW_PORT_SLOTS];
	struct jw *w;

	memcpy(a.addr, e->key.addr, 16);
	out_str(o, C_TS, ebee_fmt_time(ebee_realtime_ns(), buf, sizeof(buf)));
	out_str(o, C_ADDR, geo_addr_fmt(&a, buf, sizeof(buf)));
	out_u64(o, C_FAMILY, e->key.family);
	if (g) {
		out_str(o, C_GEO, geo_kind_name(g->kind));
		if (g->cc[0])
			out_str(o, C_CC, g->cc);
		if (g->country[0])
			out_str(o, C_COUNTRY, g->country);
		if (g->region[0])
			out_str(o, C_REGION, g->region);
		if (g->city[0])
			out_str(o, C_CITY, g->city);
		if (g->has_loc) {
			out_f64(o, C_LAT, g->lat);
			out_f64(o, C_LON, g->lon);
		}
		if (g->asn)
			out_u64(o, C_ASN, g->asn);
		if (g->as_org[0])
			out_str(o, C_ASORG, g->as_org);
	}
	out_u64(o, C_PKTS, e->val.packets);
	out_u64(o, C_BYTES, e->val.bytes);
	out_f64(o, C_PPS, e->pps);
	out_str(o, C_FIRST, ebee_fmt_time(ebee_ktime_to_real(e->val.first_ns), buf, sizeof(buf)));
	ebee_fmt_time(ebee_ktime_to_real(e->val.last_ns), buf, sizeof(buf));
	/* The table shows the time of day; JSON keeps the full timestamp. */
	out_str(o, C_LAST, o->fmt == OUT_TABLE && strlen(buf) > 11 ? buf + 11 : buf);
	/* Busiest port first. */
	for (int i = 0; i < NW_PORT_SLOTS; i++)
		pord[i] = i;
	for (int i = 1; i < NW_PORT_SLOTS; i++)
		for (int j = i; j > 0 && e->val.ports[pord[j]].packets > e->val.ports[pord[j - 1]].packets; j--) {
			int t = pord[j];

			pord[j] = pord[j - 1], pord[j - 1] = t;
		}
	w = out_nest(o, C_PORTS);
	jw_arr_begin(w);
	for (int k = 0, i; k < NW_PORT_SLOTS; k++) {
		i = pord[k];
		if (!e->val.ports[i].port)
			continue;
		jw_obj_begin(w);
		jw_ku64(w, "port", e->val.ports[i].port);
		jw_kstr(w, "proto", e->val.ports[i].proto == 6 ? "tcp" : "udp");
		jw_ku64(w, "packets", e->val.ports[i].packets);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	out_u64(o, C_TAKEOVERS, e->val.port_takeovers);
	out_u64(o, C_IFACE, e->val.ifindex);
	out_row(o);
}

enum { S_TYPE, S_SOURCES, S_CAP, S_EVICTED, S_SEEN, S_COUNTED, S_BYTES, S_NOTIP, S_FILTERED,
       S_TRUNC, S_INSFAIL, S_IFACES, S__N };
static const struct out_col nw_sum_cols[S__N] = {
	[S_TYPE]     = { "type", NULL, OUT_STR, 0 },
	[S_SOURCES]  = { "sources", "SOURCES", OUT_U64, 8 },
	[S_CAP]      = { "capacity", "CAPACITY", OUT_U64, 9 },
	[S_EVICTED]  = { "evicted", "EVICTED", OUT_U64, 8 },
	[S_SEEN]     = { "packets_seen", "SEEN", OUT_U64, 10 },
	[S_COUNTED]  = { "packets_counted", "COUNTED", OUT_U64, 10 },
	[S_BYTES]    = { "bytes_counted", "BYTES", OUT_U64, 12 },
	[S_NOTIP]    = { "not_ip", "NOT-IP", OUT_U64, 8 },
	[S_FILTERED] = { "port_filtered", "FILTERED", OUT_U64, 9 },
	[S_TRUNC]    = { "truncated", "TRUNC", OUT_U64, 6 },
	[S_INSFAIL]  = { "insert_failed", "INSFAIL", OUT_U64, 8 },
	[S_IFACES]   = { "interfaces", "INTERFACES", OUT_NEST, -30 },
};

void nw_out_summary_init(struct out *o, FILE *f, enum out_fmt fmt)
{
	out_init(o, f, fmt, nw_sum_cols, S__N);
}

/* [{"name":"eth0","attach":"tcx"},{"name":"veth1","attach":"tc","gone":true}] */
static void ifaces_json(struct jw *w, const struct nw_session *s)
{
	jw_arr_begin(w);
	for (int i = 0; i < s->nifs; i++) {
		jw_obj_begin(w);
		jw_kstr(w, "name", s->ifs[i].name);
		jw_kstr(w, "attach", nw_attach_name(s->ifs[i].how));
		if (s->ifs[i].gone)
			jw_kbool(w, "gone", true);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

void nw_out_summary(struct out *o, const struct nw_session *s)
{
	out_str(o, S_TYPE, "summary");
	out_u64(o, S_SOURCES, s->ncur);
	out_u64(o, S_CAP, s->max_sources);
	out_u64(o, S_EVICTED, s->evicted);
	out_u64(o, S_SEEN, s->stats[NW_SEEN]);
	out_u64(o, S_COUNTED, s->stats[NW_COUNTED]);
	out_u64(o, S_BYTES, s->stats[NW_BYTES]);
	out_u64(o, S_NOTIP, s->stats[NW_NOT_IP]);
	out_u64(o, S_FILTERED, s->stats[NW_FILTERED]);
	out_u64(o, S_TRUNC, s->stats[NW_TRUNCATED]);
	out_u64(o, S_INSFAIL, s->stats[NW_INSERT_FAIL]);
	ifaces_json(out_nest(o, S_IFACES), s);
	out_row(o);
}

/* The closing summary's own keys, after the common ones (collector.h). */
static void nw_summary(struct collector *c, struct jw *w)
{
	const struct nw_session *s = c->priv;

	jw_ku64(w, "sources", s->ncur);
	jw_ku64(w, "capacity", s->max_sources);
	jw_ku64(w, "evicted", s->evicted);
	jw_ku64(w, "packets_seen", s->stats[NW_SEEN]);
	jw_ku64(w, "packets_counted", s->stats[NW_COUNTED]);
	jw_ku64(w, "bytes_counted", s->stats[NW_BYTES]);
	jw_ku64(w, "not_ip", s->stats[NW_NOT_IP]);
	jw_ku64(w, "port_filtered", s->stats[NW_FILTERED]);
	jw_ku64(w, "truncated", s->stats[NW_TRUNCATED]);
	jw_ku64(w, "insert_failed", s->stats[NW_INSERT_FAIL]);
	jw_key(w, "interfaces");
	ifaces_json(w, s);
}

/* --- the daemon's document and metrics --- */

/* /api/netwatch: totals, then the top busiest sources as rows (one per line). */
static void nw_api(struct collector *c, struct jw *w, size_t top)
{
	const struct nw_session *s = c->priv;
	const char *url = NULL, *attr = geoip_attribution(s->geo, &url);
	size_t n = top && s->ncur > top ? top : s->ncur;
	struct out *o = malloc(sizeof(*o));   /* its arena is too big for the stack of a request */
	char buf[64];

	jw_kstr(w, "time", ebee_fmt_time(ebee_realtime_ns(), buf, sizeof(buf)));
	jw_key(w, "interfaces");
	ifaces_json(w, s);
	jw_key(w, "totals");
	jw_obj_begin(w);
	jw_ku64(w, "sources", s->ncur);
	jw_ku64(w, "capacity", s->max_sources);
	jw_ku64(w, "evicted", s->evicted);
	jw_ku64(w, "packets_seen", s->stats[NW_SEEN]);
	jw_ku64(w, "packets", s->stats[NW_COUNTED]);
	jw_ku64(w, "bytes", s->stats[NW_BYTES]);
	jw_obj_end(w);
	jw_key(w, "attribution");
	if (attr) {
		jw_obj_begin(w);
		jw_kstr(w, "text", attr);
		jw_kstr(w, "url", url);
		jw_obj_end(w);
	} else {
		jw_null(w);
	}
	jw_ku64(w, "shown", o ? n : 0);
	jw_key(w, "sources");
	jw_arr_begin(w);
	if (o) {
		out_init_jw(o, w, nw_cols, C__N);
		for (size_t i = 0; i < n; i++)
			nw_out_source(o, s->order[i]);
	}
	jw_arr_end(w);
	free(o);
}

struct loc_agg {
	const char *source, *location;
	uint64_t sources, packets, bytes;
};
#define NW_MAX_LOCS 512

static void nw_metrics(struct collector *c, struct prom *p)
{
	static const struct { const char *reason; enum nw_stat stat; } skip[] = {
		{ "not_ip", NW_NOT_IP }, { "port_filter", NW_FILTERED },
		{ "truncated", NW_TRUNCATED }, { "insert_failed", NW_INSERT_FAIL },
	};
	static const struct { const char *name, *help; size_t off; } loc[] = {
		{ "ebee_netwatch_location_sources",
		  "Tracked source addresses by location (country code, label or private).",
		  offsetof(struct loc_agg, sources) },
		{ "ebee_netwatch_location_packets", "Packets of the tracked sources by location.",
		  offsetof(struct loc_agg, packets) },
		{ "ebee_netwatch_location_bytes", "Bytes of the tracked sources by location.",
		  offsetof(struct loc_agg, bytes) },
	};
	const struct nw_session *s = c->priv;
	struct loc_agg *agg = calloc(NW_MAX_LOCS, sizeof(*agg));
	int nagg = 0;

	prom_family(p, "ebee_netwatch_packets_seen_total", "counter", "Packets the netwatch TC program saw.");
	prom_u64(p, "ebee_netwatch_packets_seen_total", NULL, 0, s->stats[NW_SEEN]);
	prom_family(p, "ebee_netwatch_packets_total", "counter", "Packets counted for a source address.");
	prom_u64(p, "ebee_netwatch_packets_total", NULL, 0, s->stats[NW_COUNTED]);
	prom_family(p, "ebee_netwatch_bytes_total", "counter", "Bytes (link layer) counted for a source address.");
	prom_u64(p, "ebee_netwatch_bytes_total", NULL, 0, s->stats[NW_BYTES]);
	prom_family(p, "ebee_netwatch_packets_skipped_total", "counter", "Packets not counted, by reason.");
	for (size_t i = 0; i < ARRAY_SIZE(skip); i++) {
		struct prom_label l = { "reason", skip[i].reason };

		prom_u64(p, "ebee_netwatch_packets_skipped_total", &l, 1, s->stats[skip[i].stat]);
	}
	prom_family(p, "ebee_netwatch_sources", "gauge", "Source addresses in the kernel table.");
	prom_u64(p, "ebee_netwatch_sources", NULL, 0, s->ncur);
	prom_family(p, "ebee_netwatch_sources_capacity", "gauge", "Size of the kernel's LRU table of sources.");
	prom_u64(p, "ebee_netwatch_sources_capacity", NULL, 0, s->max_sources);
	prom_family(p, "ebee_netwatch_evictions_total", "counter", "Sources evicted from the full LRU table.");
	prom_u64(p, "ebee_netwatch_evictions_total", NULL, 0, s->evicted);
	prom_family(p, "ebee_netwatch_interface_attached", "gauge", "1 while the program is attached to the interface.");
	for (int i = 0; i < s->nifs; i++) {
		struct prom_label l[2] = { { "interface", s->ifs[i].name },
					   { "mode", nw_attach_name(s->ifs[i].how) } };

		prom_u64(p, "ebee_netwatch_interface_attached", l, 2, s->ifs[i].attached);
	}

	for (size_t i = 0; agg && i < s->ncur; i++) {
		const struct nw_src *e = &s->cur[i];
		const struct geo *g = e->geo;
		const char *src = geo_kind_name(g ? g->kind : GEO_NONE);
		const char *lc = !g ? "unknown" : g->kind == GEO_DB ? g->cc : g->kind == GEO_NONE ? "unknown" : g->city;
		int j;

		for (j = 0; j < nagg; j++)
			if (!strcmp(agg[j].source, src) && !strcmp(agg[j].location, lc))
				break;
		if (j == nagg) {
			if (nagg == NW_MAX_LOCS - 1) {
				src = "other", lc = "other";
				for (j = 0; j < nagg && strcmp(agg[j].source, "other"); j++)
					;
			}
			if (j == nagg) {
				agg[nagg].source = src, agg[nagg].location = lc;
				nagg++;
			}
		}
		agg[j].sources++;
		agg[j].packets += e->val.packets;
		agg[j].bytes += e->val.bytes;
	}
	for (size_t k = 0; k < ARRAY_SIZE(loc); k++) {
		prom_family(p, loc[k].name, "gauge", loc[k].help);
		for (int j = 0; j < nagg; j++) {
			struct prom_label l[2] = { { "source", agg[j].source }, { "location", agg[j].location } };

			prom_u64(p, loc[k].name, l, 2, *(uint64_t *)((char *)&agg[j] + loc[k].off));
		}
	}
	free(agg);
}

/* --- the collector --- */

/* The TC program per kind of device; the attach mode (TCX, else a clsact filter) is netwatch's
 * own fallback (--attach), recorded in chosen[] once attached. */
static const struct ebee_hook nw_hooks[] = {
	{ "tc_ingress", { { "ebee_nw_ingress", KIND_TCX }, { "ebee_nw_ingress", KIND_TC } } },
	{ "tc_ingress_l3", { { "ebee_nw_ingr_l3", KIND_TCX }, { "ebee_nw_ingr_l3", KIND_TC } } },
};

static int nw_c_open(struct collector *c)
{
	c->lost_why = "the source table's insert failed";
	return nw_session_load(c->priv, c->cfg);
}

static int nw_c_start(struct collector *c, struct ebee_loop *l)
{
	struct nw_session *s = c->priv;
	int err = nw_session_attach(s);

	if (err)
		return err;
	for (int i = 0; i < s->nifs; i++)
		if (s->ifs[i].attached)
			c->chosen[s->ifs[i].l3 ? 1 : 0] = s->ifs[i].how == NW_ATTACH_TC ? 1 : 0;
	return 0;
}

static int nw_c_refresh(struct collector *c)
{
	struct nw_session *s = c->priv;
	int left;

	if (c->stopped) {   /* detached: read the last counts, interfaces are not watched now */
		int saved = s->nifs;

		s->nifs = 0;
		left = nw_session_refresh(s);
		s->nifs = saved;
	} else {
		left = nw_session_refresh(s);
	}
	if (left < 0)
		return left;
	c->cnt.events = s->stats[NW_COUNTED];
	c->cnt.lost = s->stats[NW_INSERT_FAIL];
	c->cnt.missed = collector_prog_misses(c, s->skel->obj);
	if (!c->stopped) {
		if (left == 0)
			collector_set_health(c, COLLECTOR_FAILED, "no interface attached");
		else
			collector_set_health(c, COLLECTOR_OK, "%d interfaces attached", left);
	}
	return 0;
}

static void nw_c_stop(struct collector *c)
{
	struct nw_session *s = c->priv;

	for (int i = 0; i < s->nifs; i++)
		nw_iface_detach(&s->ifs[i]);
}

static void nw_c_close(struct collector *c)
{
	nw_session_close(c->priv);
}

/* The daemon's config sets the options both commands share (NW_COMMON_OPTS) on the collector's
 * own config; the wrapper only gives the macro a member to take offsets in. */
struct nw_cfg_wrap { struct nw_opts nw; };
static const struct opt nw_daemon_opts[] = { NW_COMMON_OPTS(struct nw_cfg_wrap, nw), OPT_END };
static const struct nw_opts nw_daemon_default = NW_OPTS_DEFAULT;

const struct collector_desc netwatch_collector = {
	.name = "netwatch",
	.what = "ingress monitoring",
	.hooks = nw_hooks,
	.nhooks = ARRAY_SIZE(nw_hooks),
	.prog_prefix = "ebee_nw_",
	/* its tc filters (not fd-based) are removed at stop through netlink */
	.caps_run = COLLECTOR_CAPS(EBEE_CAP(CAP_NET_ADMIN)),
	.priv_size = sizeof(struct nw_session),
	.cfg_size = sizeof(struct nw_opts),
	.cfg_default = &nw_daemon_default,
	.opts = nw_daemon_opts,
	.open = nw_c_open,
	.start = nw_c_start,
	.refresh = nw_c_refresh,
	.metrics = nw_metrics,
	.api = nw_api,
	.summary = nw_summary,
	.stop = nw_c_stop,
	.close = nw_c_close,
};
