// SPDX-License-Identifier: BSD-2-Clause
/* GeoIP databases, label file, private ranges and the lookup cache; see geoip.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <maxminddb.h>

#include "core/ebee.h"
#include "geoip/geoip.h"

#define GEOIP_MAX_DB 8
#define GEOIP_DEFAULT_CACHE 65536

struct label {
	struct geo_addr net;
	int prefix;
	char name[48];
	double lat, lon;
};

/* The cache maps an address to an interned result: sources by the thousand share a few
 * hundred locations (and every private one the same), so an entry is 24 bytes and each
 * distinct result is stored once. */
struct cache_ent {
	struct geo_addr key;
	bool used;
	uint32_t geo;             /* index into geos */
};

struct geoip {
	MMDB_s db[GEOIP_MAX_DB];
	char *path[GEOIP_MAX_DB];
	int ndb;
	struct label *labels;
	int nlabels;
	struct cache_ent *cache;
	uint32_t cap, used;
	uint32_t slots;           /* of cache and geo_tab now: doubled as they fill, up to cap
				   * (hashed slots touch every page of a table at once) */
	struct geo *geos;         /* distinct results, at most cap */
	uint32_t ngeo;
	uint32_t *geo_tab;        /* open-addressing set over geos: index + 1, 0 = free */
};

const char *geo_kind_name(enum geo_kind k)
{
	static const char *const n[] = { "none", "db", "label", "private" };

	return k < ARRAY_SIZE(n) ? n[k] : "none";
}

int geo_addr_parse(const char *s, struct geo_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->addr) == 1) {
		a->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->addr) == 1) {
		static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

		a->family = 6;
		if (!memcmp(a->addr, mapped, 12)) {   /* ::ffff:a.b.c.d is an IPv4 source */
			memmove(a->addr, a->addr + 12, 4);
			memset(a->addr + 4, 0, 12);
			a->family = 4;
		}
		return 0;
	}
	return -EINVAL;
}

const char *geo_addr_fmt(const struct geo_addr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->addr, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

static bool prefix_match(const uint8_t *a, const uint8_t *net, int bits)
{
	int full = bits / 8, rest = bits % 8;

	if (memcmp(a, net, full))
		return false;
	return !rest || ((a[full] ^ net[full]) & (0xff00 >> rest)) == 0;
}

static bool is_private(const struct geo_addr *a)
{
	static const struct { uint8_t fam, bits, net[16]; } r[] = {
		{ 4, 8, { 10 } }, { 4, 12, { 172, 16 } }, { 4, 16, { 192, 168 } },
		{ 4, 8, { 127 } }, { 4, 16, { 169, 254 } }, { 4, 10, { 100, 64 } }, { 4, 8, { 0 } },
		{ 6, 128, { [15] = 1 } }, { 6, 128, { 0 } }, { 6, 10, { 0xfe, 0x80 } },
		{ 6, 7, { 0xfc } },
	};

	for (size_t i = 0; i < ARRAY_SIZE(r); i++)
		if (r[i].fam == a->family && prefix_match(a->addr, r[i].net, r[i].bits))
			return true;
	return false;
}

/* --- label file --- */

static int parse_cidr(char *s, struct geo_addr *a, int *prefix)
{
	char *slash = strchr(s, '/'), *end;
	long bits;

	if (slash)
		*slash = 0;
	if (geo_addr_parse(s, a))
		return -EINVAL;
	bits = a->family == 4 ? 32 : 128;
	if (slash) {
		long max = bits;

		errno = 0;
		bits = strtol(slash + 1, &end, 10);
		if (errno || *end || end == slash + 1 || bits < 0 || bits > max)
			return -EINVAL;
	}
	*prefix = bits;
	return 0;
}

static int labels_load(struct geoip *g, const char *path)
{
	char line[512];
	int lineno = 0, err = 0, cap = 0;
	FILE *f = fopen(path, "re");

	if (!f) {
		err = -errno;
		ebee_err("cannot read label file '%s': %s", path, strerror(errno));
		return err;
	}
	while (fgets(line, sizeof(line), f)) {
		char *tok[64], *p, *end1, *end2;
		int ntok = 0;
		struct label l = {};
		size_t nlen = 0;

		lineno++;
		if ((p = strchr(line, '#')))
			*p = 0;
		for (p = strtok(line, " \t\r\n"); p && ntok < 64; p = strtok(NULL, " \t\r\n"))
			tok[ntok++] = p;
		if (!ntok)
			continue;
		if (ntok < 4)
			goto bad;
		if (parse_cidr(tok[0], &l.net, &l.prefix))
			goto bad;
		errno = 0;
		l.lat = strtod(tok[ntok - 2], &end1);
		l.lon = strtod(tok[ntok - 1], &end2);
		if (errno || *end1 || *end2 || l.lat < -90 || l.lat > 90 || l.lon < -180 || l.lon > 180)
			goto bad;
		/* The name may contain spaces; a long one is cut (nlen never passes the buffer:
		 * pointing past it is undefined even when nothing is written there). */
		for (int i = 1; i < ntok - 2 && nlen < sizeof(l.name) - 1; i++) {
			nlen += snprintf(l.name + nlen, sizeof(l.name) - nlen, "%s%s", i > 1 ? " " : "", tok[i]);
			if (nlen > sizeof(l.name) - 1)
				nlen = sizeof(l.name) - 1;
		}
		if (g->nlabels == cap) {
			struct label *n;

			cap = cap ? cap * 2 : 16;
			n = realloc(g->labels, cap * sizeof(*n));
			if (!n) {
				err = -ENOMEM;
				break;
			}
			g->labels = n;
		}
		g->labels[g->nlabels++] = l;
		continue;
bad:
		ebee_err("malformed label file '%s' line %d: expected 'CIDR name lat lon'", path, lineno);
		err = -EINVAL;
		break;
	}
	fclose(f);
	return err;
}

static const struct label *label_find(const struct geoip *g, const struct geo_addr *a)
{
	const struct label *best = NULL;

	for (int i = 0; i < g->nlabels; i++) {
		const struct label *l = &g->labels[i];

		if (l->net.family == a->family && prefix_match(a->addr, l->net.addr, l->prefix) &&
		    (!best || l->prefix > best->prefix))
			best = l;
	}
	return best;
}

/* --- databases --- */

static int db_open(struct geoip *g, const char *path)
{
	int rc;

	if (g->ndb == GEOIP_MAX_DB) {
		ebee_err("too many GeoIP databases (at most %d)", GEOIP_MAX_DB);
		return -EINVAL;
	}
	rc = MMDB_open(path, MMDB_MODE_MMAP, &g->db[g->ndb]);
	if (rc != MMDB_SUCCESS) {
		int e = errno;

		/* Unreadable: a runtime failure; not a MaxMind DB: bad input (usage error). */
		if ((rc == MMDB_IO_ERROR || rc == MMDB_FILE_OPEN_ERROR) && e) {
			ebee_err("cannot read GeoIP database '%s': %s", path, strerror(e));
			return -e;
		}
		ebee_err("cannot open GeoIP database '%s': %s", path, MMDB_strerror(rc));
		return -EINVAL;
	}
	g->path[g->ndb] = strdup(path);
	ebee_dbg("GeoIP database '%s' (%s, IPv%d)", path, g->db[g->ndb].metadata.database_type,
		 g->db[g->ndb].metadata.ip_version);
	g->ndb++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The build installs the default database next to the binary: build/geoip/ for build/ebee
 * and build/asan/ebee alike; an installed ebee looks in ../share/ebee/geoip. */
static int db_open_default(struct geoip *g)
{
	char exe[PATH_MAX], dir[PATH_MAX + 32], *slash;
	const char *env = getenv("EBEE_GEOIP_DIR");
	const char *const rel[] = { "geoip", "../geoip", "../share/ebee/geoip" };
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n < 0)
		return 0;
	exe[n] = 0;
	if ((slash = strrchr(exe, '/')))
		*slash = 0;
	for (size_t i = 0; i < ARRAY_SIZE(rel) + 1; i++) {
		char *files[GEOIP_MAX_DB];
		int nf = 0, err = 0;
		struct dirent *e;
		DIR *d;

		if (i == 0 && !env)
			continue;
		if (i == 0)
			snprintf(dir, sizeof(dir), "%s", env);
		else
			snprintf(dir, sizeof(dir), "%s/%s", exe, rel[i - 1]);
		d = opendir(dir);
		if (!d && env)
			break;
		if (!d)
			continue;
		while ((e = readdir(d)) && nf < GEOIP_MAX_DB) {
			size_t l = strlen(e->d_name);

			if (l > 5 && !strcmp(e->d_name + l - 5, ".mmdb") &&
			    asprintf(&files[nf], "%s/%s", dir, e->d_name) > 0)
				nf++;
		}
		closedir(d);
		qsort(files, nf, sizeof(files[0]), cmp_str);
		for (int j = 0; j < nf; j++) {
			if (!err)
				err = db_open(g, files[j]);
			free(files[j]);
		}
		if (err)
			return err;
		if (nf)
			return 0;
		if (env)          /* EBEE_GEOIP_DIR, when set, is the only place searched */
			break;
	}
	ebee_warn("no GeoIP database found (build it with 'make', or give one with --geoip)");
	return 0;
}

struct geoip *geoip_open(const char *const *paths, int n, const char *labels)
{
	struct geoip *g = calloc(1, sizeof(*g));
	int err = 0;

	if (!g)
		return NULL;
	if (n == 0)
		err = db_open_default(g);
	for (int i = 0; i < n && !err; i++)
		err = db_open(g, paths[i]);
	if (!err && labels)
		err = labels_load(g, labels);
	if (err) {
		geoip_close(g);
		errno = -err;
		return NULL;
	}
	return g;
}

void geoip_close(struct geoip *g)
{
	if (!g)
		return;
	for (int i = 0; i < g->ndb; i++) {
		MMDB_close(&g->db[i]);
		free(g->path[i]);
	}
	free(g->labels);
	free(g->cache);
	free(g->geos);
	free(g->geo_tab);
	free(g);
}

int geoip_ndb(const struct geoip *g) { return g->ndb; }
const char *geoip_db_path(const struct geoip *g, int i) { return g->path[i]; }
const char *geoip_db_type(const struct geoip *g, int i) { return g->db[i].metadata.database_type; }

const char *geoip_attribution(const struct geoip *g, const char **url)
{
	for (int i = 0; i < g->ndb; i++) {
		const char *t = g->db[i].metadata.database_type, *p = g->path[i];

		if (strcasestr(t, "dbip") || strcasestr(t, "db-ip") || strstr(p, "dbip")) {
			*url = "https://db-ip.com";
			return "IP Geolocation by DB-IP (CC BY 4.0)";
		}
		if (strcasestr(t, "GeoLite2")) {
			*url = "https://www.maxmind.com";
			return "This product includes GeoLite2 data created by MaxMind";
		}
	}
	*url = NULL;
	return NULL;
}

static bool get_str(MMDB_entry_s *e, char *dst, size_t len, const char *const *path)
{
	MMDB_entry_data_s d;

	if (MMDB_aget_value(e, &d, path) != MMDB_SUCCESS || !d.has_data ||
	    d.type != MMDB_DATA_TYPE_UTF8_STRING)
		return false;
	snprintf(dst, len, "%.*s", (int)d.data_size, d.utf8_string);
	return true;
}

static bool get_num(MMDB_entry_s *e, double *v, const char *const *path)
{
	MMDB_entry_data_s d;

	if (MMDB_aget_value(e, &d, path) != MMDB_SUCCESS || !d.has_data)
		return false;
	switch (d.type) {
	case MMDB_DATA_TYPE_DOUBLE: *v = d.double_value; return true;
	case MMDB_DATA_TYPE_FLOAT: *v = d.float_value; return true;
	case MMDB_DATA_TYPE_UINT16: *v = d.uint16; return true;
	case MMDB_DATA_TYPE_UINT32: *v = d.uint32; return true;
	case MMDB_DATA_TYPE_INT32: *v = d.int32; return true;
	case MMDB_DATA_TYPE_UTF8_STRING: {
		char buf[32], *end;

		snprintf(buf, sizeof(buf), "%.*s", (int)d.data_size, d.utf8_string);
		*v = strtod(buf, &end);
		return end != buf;
	}
	default: return false;
	}
}

#define P(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void fill_from_entry(MMDB_entry_s *e, struct geo *o)
{
	double lat, lon, asn;

	if (o->layout) {
		/* An earlier database gave the location: only look for ASN fields here. */
	} else if (get_str(e, o->cc, sizeof(o->cc), P("country", "iso_code"))) {
		o->layout = "maxmind";
		get_str(e, o->country, sizeof(o->country), P("country", "names", "en"));
		get_str(e, o->region, sizeof(o->region), P("subdivisions", "0", "names", "en"));
		get_str(e, o->city, sizeof(o->city), P("city", "names", "en"));
		if (get_num(e, &lat, P("location", "latitude")) &&
		    get_num(e, &lon, P("location", "longitude"))) {
			o->lat = lat, o->lon = lon, o->has_loc = true;
		}
	} else if (get_str(e, o->cc, sizeof(o->cc), P("country_code"))) {
		o->layout = "flat";
		get_str(e, o->region, sizeof(o->region), P("state1"));
		get_str(e, o->city, sizeof(o->city), P("city"));
		if (get_num(e, &lat, P("latitude")) && get_num(e, &lon, P("longitude"))) {
			o->lat = lat, o->lon = lon, o->has_loc = true;
		}
	}
	/* ASN databases of both families use these top-level names. */
	if (!o->asn && get_num(e, &asn, P("autonomous_system_number"))) {
		o->asn = (uint32_t)asn;
		get_str(e, o->as_org, sizeof(o->as_org), P("autonomous_system_organization"));
	}
}

void geoip_lookup(struct geoip *g, const struct geo_addr *a, struct geo *o)
{
	const struct label *l;

	memset(o, 0, sizeof(*o));
	if ((l = label_find(g, a))) {
		o->kind = GEO_LABEL;
		snprintf(o->city, sizeof(o->city), "%s", l->name);
		o->lat = l->lat, o->lon = l->lon, o->has_loc = true;
		return;
	}
	if (is_private(a)) {
		o->kind = GEO_PRIVATE;
		snprintf(o->city, sizeof(o->city), "private");
		return;
	}
	for (int i = 0; i < g->ndb; i++) {
		struct sockaddr_in sin = { .sin_family = AF_INET };
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
		MMDB_lookup_result_s r;
		int rc = 0;

		if (a->family == 6 && g->db[i].metadata.ip_version != 6)
			continue;
		if (a->family == 4) {
			memcpy(&sin.sin_addr, a->addr, 4);
			r = MMDB_lookup_sockaddr(&g->db[i], (struct sockaddr *)&sin, &rc);
		} else {
			memcpy(&sin6.sin6_addr, a->addr, 16);
			r = MMDB_lookup_sockaddr(&g->db[i], (struct sockaddr *)&sin6, &rc);
		}
		if (rc != MMDB_SUCCESS || !r.found_entry)
			continue;
		/* The first database that knows the location gives it; an ASN database (before or
		 * after it) adds the ASN fields. */
		fill_from_entry(&r.entry, o);
		if (o->layout || o->asn)
			o->kind = GEO_DB;
		if (o->layout && o->asn)
			return;
	}
}

void geoip_cache_size(struct geoip *g, uint32_t entries)
{
	uint32_t cap = 1024;

	while (cap / 8 * 7 < entries + entries / 8 && cap < (1u << 24))
		cap <<= 1;
	if (!g->cache)
		g->cap = cap;
}

static uint32_t hash_bytes(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return (uint32_t)(h ^ (h >> 32));
}

static void cache_free(struct geoip *g)
{
	/* free + calloc rather than memset: untouched pages of the new arrays cost no RSS. */
	free(g->cache);
	free(g->geos);
	free(g->geo_tab);
	g->cache = NULL, g->geos = NULL, g->geo_tab = NULL;
	g->used = g->ngeo = g->slots = 0;
}

bool geoip_cache_trim(struct geoip *g, uint32_t upcoming)
{
	if (g->cache && (uint64_t)g->used + upcoming >= g->cap / 8 * 7)
		cache_free(g);
	return !g->cache;
}

/* Lookup results are zeroed before they are filled, so equal results are equal bytes. */
static uint32_t intern(struct geoip *g, const struct geo *x)
{
	uint32_t i;

	for (i = hash_bytes(x, sizeof(*x)) & (g->slots - 1);; i = (i + 1) & (g->slots - 1)) {
		uint32_t v = g->geo_tab[i];

		if (!v) {
			g->geos[g->ngeo] = *x;
			g->geo_tab[i] = ++g->ngeo;
			return g->ngeo - 1;
		}
		if (!memcmp(&g->geos[v - 1], x, sizeof(*x)))
			return v - 1;
	}
}

/* Doubles cache and geo_tab, moving their entries (geos stay where they are: the pointers
 * given out stay valid). False without memory: they stay as they are. */
static bool cache_grow(struct geoip *g)
{
	uint32_t n = g->slots * 2, m = n - 1;
	struct cache_ent *c = calloc(n, sizeof(*c));
	uint32_t *t = calloc(n, sizeof(*t));

	if (!c || !t) {
		free(c);
		free(t);
		return false;
	}
	for (uint32_t k = 0; k < g->slots; k++) {
		uint32_t i, v = g->geo_tab[k];

		if (g->cache[k].used) {
			for (i = hash_bytes(&g->cache[k].key, sizeof(g->cache[k].key)) & m; c[i].used;
			     i = (i + 1) & m)
				;
			c[i] = g->cache[k];
		}
		if (v) {
			for (i = hash_bytes(&g->geos[v - 1], sizeof(struct geo)) & m; t[i]; i = (i + 1) & m)
				;
			t[i] = v;
		}
	}
	free(g->cache);
	free(g->geo_tab);
	g->cache = c;
	g->geo_tab = t;
	g->slots = n;
	return true;
}

const struct geo *geoip_cached(struct geoip *g, const struct geo_addr *a)
{
	static __thread struct geo uncached;
	uint32_t i;

	if (!g->cache) {
		if (!g->cap)
			geoip_cache_size(g, GEOIP_DEFAULT_CACHE);
		g->slots = g->cap < 1024 ? g->cap : 1024;
		g->cache = calloc(g->slots, sizeof(*g->cache));
		g->geos = calloc(g->cap, sizeof(*g->geos));   /* filled in order: touched as used */
		g->geo_tab = calloc(g->slots, sizeof(*g->geo_tab));
		if (!g->cache || !g->geos || !g->geo_tab)
			cache_free(g);
	}
	if (g->cache && g->used >= g->slots / 8 * 7 && g->slots < g->cap)
		cache_grow(g);
	/* ngeo <= used < 7/8 slots: the intern set never fills either. */
	if (!g->cache || g->used >= g->slots / 8 * 7) {
		geoip_lookup(g, a, &uncached);   /* full until the next trim (callers trim first) */
		return &uncached;
	}
	for (i = hash_bytes(a, sizeof(*a)) & (g->slots - 1);; i = (i + 1) & (g->slots - 1)) {
		struct cache_ent *e = &g->cache[i];

		if (!e->used) {
			struct geo r;

			geoip_lookup(g, a, &r);
			e->used = true;
			e->key = *a;
			e->geo = intern(g, &r);
			g->used++;
			return &g->geos[e->geo];
		}
		if (e->key.family == a->family && !memcmp(e->key.addr, a->addr, 16))
			return &g->geos[e->geo];
	}
}
