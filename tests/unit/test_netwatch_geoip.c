// SPDX-License-Identifier: BSD-2-Clause
/* Pure parts of netwatch's GeoIP module: address parsing/formatting, the label file parser
 * (longest prefix, names with spaces, line numbers in errors) and private ranges. No database
 * is needed: EBEE_GEOIP_DIR points at an empty directory. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/ebee.h"
#include "geoip/geoip.h"

static char dir[] = "/tmp/ebee-unit-geoip-XXXXXX";

static const char *write_labels(const char *text)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/labels.txt", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static struct geo look(struct geoip *g, const char *s)
{
	struct geo_addr a;
	struct geo out;

	assert_int_equal(geo_addr_parse(s, &a), 0);
	geoip_lookup(g, &a, &out);
	return out;
}

static void test_addr_parse_fmt(void **state)
{
	struct geo_addr a;
	char buf[64];

	assert_int_equal(geo_addr_parse("192.0.2.7", &a), 0);
	assert_int_equal(a.family, 4);
	assert_string_equal(geo_addr_fmt(&a, buf, sizeof(buf)), "192.0.2.7");
	assert_int_equal(geo_addr_parse("2001:db8:0:0::1", &a), 0);
	assert_int_equal(a.family, 6);
	assert_string_equal(geo_addr_fmt(&a, buf, sizeof(buf)), "2001:db8::1");
	assert_int_equal(geo_addr_parse("::ffff:198.51.100.1", &a), 0);   /* mapped = IPv4 */
	assert_int_equal(a.family, 4);
	assert_string_equal(geo_addr_fmt(&a, buf, sizeof(buf)), "198.51.100.1");
	assert_int_equal(geo_addr_parse("300.1.1.1", &a), -EINVAL);
	assert_int_equal(geo_addr_parse("", &a), -EINVAL);
	assert_int_equal(geo_addr_parse("1.2.3.4/8", &a), -EINVAL);
}

static void test_labels_and_private(void **state)
{
	struct geoip *g = geoip_open(NULL, 0, write_labels(
		"# comment\n\n10.0.0.0/8 big net 1.5 2.5\n10.1.0.0/16\track  one\t-3 -4  # trailing\n"
		"2001:db8::/32 doc six 10 20\n192.0.2.1 single 0 0\n"));
	struct geo r;

	assert_non_null(g);
	assert_int_equal(geoip_ndb(g), 0);
	r = look(g, "10.9.9.9");
	assert_int_equal(r.kind, GEO_LABEL);
	assert_string_equal(r.city, "big net");
	assert_true(r.has_loc);
	assert_true(r.lat == 1.5 && r.lon == 2.5);
	r = look(g, "10.1.2.3");                       /* longest prefix wins */
	assert_string_equal(r.city, "rack one");
	assert_true(r.lat == -3 && r.lon == -4);
	assert_string_equal(look(g, "2001:db8:1::5").city, "doc six");
	assert_int_equal(look(g, "192.0.2.1").kind, GEO_LABEL);  /* no /len = one host */
	assert_int_equal(look(g, "192.0.2.2").kind, GEO_NONE);
	assert_int_equal(look(g, "172.20.0.1").kind, GEO_PRIVATE);
	assert_int_equal(look(g, "172.32.0.1").kind, GEO_NONE);  /* just outside 172.16/12 */
	assert_int_equal(look(g, "127.0.0.1").kind, GEO_PRIVATE);
	assert_int_equal(look(g, "169.254.1.1").kind, GEO_PRIVATE);
	assert_int_equal(look(g, "::1").kind, GEO_PRIVATE);
	assert_int_equal(look(g, "fe80::1").kind, GEO_PRIVATE);
	assert_int_equal(look(g, "fd12::1").kind, GEO_PRIVATE);
	assert_int_equal(look(g, "2a00::1").kind, GEO_NONE);
	geoip_close(g);
}

static void test_label_errors(void **state)
{
	static const char *const bad[] = {
		"10.0.0.0/8 name 1 2\n10.0.0.0/33 x 1 2\n",       /* prefix too long, line 2 */
		"10.0.0.0/8 name 1\n",                             /* missing lon */
		"10.0.0.0/8 name 91 0\n",                          /* latitude out of range */
		"10.0.0.0/8 name 1 east\n",                        /* not a number */
		"ten.0.0.0/8 name 1 2\n",                          /* not an address */
		"10.0.0.0/x name 1 2\n",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		errno = 0;
		assert_null(geoip_open(NULL, 0, write_labels(bad[i])));
		assert_int_equal(errno, EINVAL);
	}
	assert_non_null(strstr(ebee_last_error(), "line 1"));
	assert_null(geoip_open(NULL, 0, "/nonexistent/labels"));
	assert_int_equal(errno, ENOENT);
}

static void test_cache(void **state)
{
	struct geoip *g = geoip_open(NULL, 0, write_labels("10.0.0.0/8 lab 1 2\n"));
	struct geo_addr a, b, c;
	const struct geo *p, *q, *r;

	assert_non_null(g);
	geoip_cache_size(g, 1000);
	geo_addr_parse("10.0.0.1", &a);
	geo_addr_parse("10.0.0.2", &b);
	geo_addr_parse("192.168.1.1", &c);
	p = geoip_cached(g, &a);
	q = geoip_cached(g, &b);
	r = geoip_cached(g, &c);
	assert_ptr_equal(geoip_cached(g, &a), p);   /* a hit returns the same entry */
	assert_ptr_equal(p, q);                      /* equal results are stored once */
	assert_ptr_not_equal(p, r);
	assert_string_equal(p->city, "lab");
	assert_string_equal(r->city, "private");
	assert_false(geoip_cache_trim(g, 1000));      /* fits: kept, p still valid */
	assert_true(geoip_cache_trim(g, 1u << 20));   /* cannot fit: emptied */
	assert_string_equal(geoip_cached(g, &b)->city, "lab");
	geoip_close(g);
}

/* The cache's tables start small and double (up to the size asked for): entries and the
 * results they point to survive every doubling. */
static void test_cache_growth(void **state)
{
	struct geoip *g = geoip_open(NULL, 0, write_labels("10.0.0.0/8 lab 1 2\n"));
	struct geo_addr a;
	const struct geo *lab, *priv;
	char s[32];

	assert_non_null(g);
	geoip_cache_size(g, 20000);
	geo_addr_parse("10.0.0.1", &a);
	lab = geoip_cached(g, &a);
	geo_addr_parse("192.168.0.1", &a);
	priv = geoip_cached(g, &a);
	for (int i = 0; i < 20000; i++) {
		snprintf(s, sizeof(s), "%s.%d.%d", i % 2 ? "10.1" : "192.168", i / 250, i % 250);
		assert_int_equal(geo_addr_parse(s, &a), 0);
		assert_ptr_equal(geoip_cached(g, &a), i % 2 ? lab : priv);
	}
	for (int i = 0; i < 20000; i += 97) {
		snprintf(s, sizeof(s), "%s.%d.%d", i % 2 ? "10.1" : "192.168", i / 250, i % 250);
		geo_addr_parse(s, &a);
		assert_ptr_equal(geoip_cached(g, &a), i % 2 ? lab : priv);
	}
	assert_string_equal(lab->city, "lab");
	assert_string_equal(priv->city, "private");
	geoip_close(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse_fmt),
		cmocka_unit_test(test_labels_and_private),
		cmocka_unit_test(test_label_errors),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_cache_growth),
	};
	struct ebee_ctx ctx = { .quiet = true };
	int rc;

	if (!mkdtemp(dir))
		return 1;
	setenv("EBEE_GEOIP_DIR", dir, 1);
	ebee_log_init(&ctx);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(write_labels(""));
	rmdir(dir);
	return rc;
}
