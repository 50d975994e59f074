/* SPDX-License-Identifier: BSD-2-Clause */
/* GeoIP lookups through libmaxminddb. Reads both the MaxMind GeoLite2/GeoIP2 City layout
 * (country.iso_code, city.names.en, location.latitude, ...) and the flat layout of the
 * ip-location-db databases (country_code, state1, city, latitude, ...), IPv4 and IPv6, ASN
 * fields when a database has them. Several databases can be open at once (ip-location-db ships
 * one per address family); the first that knows an address answers. A label file of
 * `CIDR name lat lon` lines names private networks (it is consulted first); other private,
 * loopback and link-local sources are "private". Results are cached. */
#ifndef EBEE_GEOIP_H
#define EBEE_GEOIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum geo_kind { GEO_NONE, GEO_DB, GEO_LABEL, GEO_PRIVATE };

struct geo {
	uint8_t kind;             /* enum geo_kind */
	bool has_loc;
	char cc[4];               /* ISO 3166-1 alpha-2 */
	char country[32];         /* English name when the database has one */
	char region[40];
	char city[40];            /* or the label name, or "private" */
	double lat, lon;
	uint32_t asn;
	char as_org[40];
	const char *layout;       /* "maxmind", "flat", NULL */
};

struct geo_addr {
	uint8_t addr[16];         /* IPv4 in addr[0..3] */
	uint8_t family;           /* 4 or 6 */
};

struct geoip;

/* Opens the databases in paths (n > 0), or the default database installed by the build when
 * n == 0 (none found is a warning, lookups then know only labels and private ranges); labels
 * may be NULL. Returns NULL after printing the error (unreadable or corrupt file, malformed
 * label line with its number). */
struct geoip *geoip_open(const char *const *paths, int n, const char *labels);
void geoip_close(struct geoip *g);   /* accepts NULL */

/* Uncached lookup. */
void geoip_lookup(struct geoip *g, const struct geo_addr *a, struct geo *out);
/* Cached lookup; the pointer stays valid until geoip_cache_trim() empties the cache. */
const struct geo *geoip_cached(struct geoip *g, const struct geo_addr *a);
/* Empties the cache unless `upcoming` more entries fit (call where no cached pointer is
 * held, before a round of at most `upcoming` lookups: the round then never finds it full).
 * Returns false while the pointers geoip_cached gave before stay valid (nothing emptied). */
bool geoip_cache_trim(struct geoip *g, uint32_t upcoming);
void geoip_cache_size(struct geoip *g, uint32_t entries);   /* before the first lookup */

/* Databases in use, for messages and the web page's attribution. */
int geoip_ndb(const struct geoip *g);
const char *geoip_db_path(const struct geoip *g, int i);
const char *geoip_db_type(const struct geoip *g, int i);
/* Attribution the data licence asks for (text and link), or NULL. */
const char *geoip_attribution(const struct geoip *g, const char **url);

/* Address helpers. */
int geo_addr_parse(const char *s, struct geo_addr *a);      /* 0 or -EINVAL */
const char *geo_addr_fmt(const struct geo_addr *a, char *buf, size_t len);  /* >= 46 bytes */
const char *geo_kind_name(enum geo_kind k);                 /* "db", "label", "private", "none" */

#endif
