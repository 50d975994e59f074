// SPDX-License-Identifier: BSD-2-Clause
/* `ebee geoip ADDR...`: what the GeoIP database (and label file) says of each address. */
#include <errno.h>
#include <stddef.h>

#include "core/cmd.h"
#include "core/out.h"
#include "geoip/geoip.h"

struct geoip_cfg {
	struct opt_list db;
	const char *labels;
};

static const struct opt geoip_opts[] = {
	{ "geoip", 0, OPT_LIST, offsetof(struct geoip_cfg, db), "PATH",
	  "GeoIP database (.mmdb, MaxMind City or ip-location-db layout); repeatable",
	  "the DB-IP database installed by the build" },
	{ "labels", 0, OPT_STR, offsetof(struct geoip_cfg, labels), "FILE",
	  "names for private networks, lines of 'CIDR name lat lon'" },
	OPT_END,
};

enum { C_ADDR, C_SRC, C_CC, C_COUNTRY, C_REGION, C_CITY, C_LAT, C_LON, C_ASN, C_ASORG, C_LAYOUT };
static const struct out_col geoip_cols[] = {
	[C_ADDR]    = { "addr", "ADDRESS", OUT_STR, -26 },
	[C_SRC]     = { "source", "SOURCE", OUT_STR, -7 },
	[C_CC]      = { "country_code", "CC", OUT_STR, -3 },
	[C_COUNTRY] = { "country", "COUNTRY", OUT_STR, -16 },
	[C_REGION]  = { "region", "REGION", OUT_STR, -18 },
	[C_CITY]    = { "city", "CITY", OUT_STR, -18 },
	[C_LAT]     = { "lat", "LAT", OUT_F64, 8, 4 },
	[C_LON]     = { "lon", "LON", OUT_F64, 9, 4 },
	[C_ASN]     = { "asn", "ASN", OUT_U64, 0 },
	[C_ASORG]   = { "as_org", "AS", OUT_STR, 0 },
	[C_LAYOUT]  = { "layout", "LAYOUT", OUT_STR, 0 },
};

static int geoip_run(struct ebee_ctx *ctx, void *cfgp, int argc, char **argv)
{
	struct geoip_cfg *cfg = cfgp;
	struct geoip *g = NULL;
	struct out o;
	int i;

	for (i = 0; i < argc; i++) {
		struct geo_addr a;

		if (geo_addr_parse(argv[i], &a)) {
			ebee_err("invalid address '%s' (expected IPv4 or IPv6)", argv[i]);
			return -EINVAL;
		}
	}
	g = geoip_open(cfg->db.v, cfg->db.n, cfg->labels);
	if (!g)
		return -errno ?: -EINVAL;
	out_init(&o, stdout, ctx->json ? OUT_JSON : OUT_TABLE, geoip_cols, ARRAY_SIZE(geoip_cols));
	out_header(&o);
	for (i = 0; i < argc; i++) {
		struct geo_addr a;
		struct geo geo;
		char buf[64];

		geo_addr_parse(argv[i], &a);
		geoip_lookup(g, &a, &geo);
		out_str(&o, C_ADDR, geo_addr_fmt(&a, buf, sizeof(buf)));
		out_str(&o, C_SRC, geo_kind_name(geo.kind));
		if (geo.cc[0])
			out_str(&o, C_CC, geo.cc);
		if (geo.country[0])
			out_str(&o, C_COUNTRY, geo.country);
		if (geo.region[0])
			out_str(&o, C_REGION, geo.region);
		if (geo.city[0])
			out_str(&o, C_CITY, geo.city);
		if (geo.has_loc) {
			out_f64(&o, C_LAT, geo.lat);
			out_f64(&o, C_LON, geo.lon);
		}
		if (geo.asn)
			out_u64(&o, C_ASN, geo.asn);
		if (geo.as_org[0])
			out_str(&o, C_ASORG, geo.as_org);
		if (geo.layout)
			out_str(&o, C_LAYOUT, geo.layout);
		out_row(&o);
	}
	fflush(stdout);
	geoip_close(g);
	return 0;
}

static const struct opt_doc geoip_doc = {
	.synopsis = "[OPTIONS] ADDR...",
	.description =
	"Looks addresses up in the GeoIP database netwatch and serve use: country, region,\n"
	"city, coordinates and, when the database has them, ASN fields. Reads MaxMind\n"
	"GeoLite2/GeoIP2 City databases and the flat ip-location-db layout. Addresses in the\n"
	"label file are named by it; other private, loopback and link-local addresses are\n"
	"reported as \"private\". No traffic is sent to the addresses.",
	.examples =
	"  ebee geoip 8.8.8.8 2001:4860:4860::8888\n"
	"  ebee geoip --json --geoip GeoLite2-City.mmdb 1.1.1.1\n"
	"  ebee geoip --labels lab.txt 10.0.0.7\n",
};

const struct ebee_cmd geoip_cmd = {
	.name = "geoip",
	.summary = "look addresses up in the GeoIP database",
	.run = geoip_run,
	.opts = geoip_opts,
	.cfg_size = sizeof(struct geoip_cfg),
	.doc = &geoip_doc,
	.min_pos = 1,
	.max_pos = -1,
};
