// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of the output layer: the jw writer (nesting, escaping, truncation), nested cells of
 * rows in tables and JSON, rows inside a document, and the Prometheus writer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "core/ebee.h"
#include "core/json.h"
#include "core/out.h"

/* A small validator: true when s is exactly one valid JSON value (RFC 8259 grammar). */
static const char *ws(const char *s)
{
	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	return s;
}

static const char *value(const char *s, int depth);

static const char *string(const char *s)
{
	if (*s++ != '"')
		return NULL;
	for (; *s != '"'; s++) {
		if (!*s || (unsigned char)*s < 0x20)
			return NULL;
		if (*s == '\\') {
			s++;
			if (*s == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
						return NULL;
				s += 4;
			} else if (!*s || !strchr("\"\\/bfnrt", *s)) {
				return NULL;
			}
		}
	}
	return s + 1;
}

static const char *value(const char *s, int depth)
{
	s = ws(s);
	if (depth > 64)
		return NULL;
	if (*s == '{' || *s == '[') {
		char close = *s == '{' ? '}' : ']';
		bool obj = *s == '{';

		s = ws(s + 1);
		if (*s == close)
			return s + 1;
		for (;;) {
			if (obj) {
				if (!(s = string(ws(s))))
					return NULL;
				s = ws(s);
				if (*s++ != ':')
					return NULL;
			}
			if (!(s = value(s, depth + 1)))
				return NULL;
			s = ws(s);
			if (*s == close)
				return s + 1;
			if (*s++ != ',')
				return NULL;
		}
	}
	if (*s == '"')
		return string(s);
	for (const char *lit = "true\0false\0null\0"; *lit; lit += strlen(lit) + 1)
		if (!strncmp(s, lit, strlen(lit)))
			return s + strlen(lit);
	if (*s == '-' || (*s >= '0' && *s <= '9')) {
		char *end;

		strtod(s, &end);
		return end > s ? end : NULL;
	}
	return NULL;
}

static bool valid_json(const char *s)
{
	const char *e = value(s, 0);

	return e && !*ws(e);
}

static void test_jw_nesting(void **state)
{
	char buf[256];
	struct jw w;

	jw_init_buf(&w, buf, sizeof(buf));
	jw_obj_begin(&w);
	jw_ku64(&w, "a", 1);
	jw_key(&w, "b");
	jw_arr_begin(&w);
	jw_i64(&w, -2);
	jw_obj_begin(&w);
	jw_kbool(&w, "t", true);
	jw_key(&w, "n");
	jw_null(&w);
	jw_obj_end(&w);
	jw_arr_begin(&w);
	jw_arr_end(&w);
	jw_f64(&w, 2.5);
	jw_f64(&w, 1.0 / 0.0);
	jw_arr_end(&w);
	jw_kstr(&w, "c", "x");
	jw_obj_end(&w);
	assert_int_equal(jw_finish(&w), strlen(buf));
	assert_string_equal(buf, "{\"a\":1,\"b\":[-2,{\"t\":true,\"n\":null},[],2.5,null],\"c\":\"x\"}");
	assert_false(w.truncated);

	/* jw_finish closes what is still open */
	jw_init_buf(&w, buf, sizeof(buf));
	jw_arr_begin(&w);
	jw_obj_begin(&w);
	jw_key(&w, "k");
	jw_finish(&w);
	assert_string_equal(buf, "[{\"k\":null}]");

	/* Deeper than JW_MAX_DEPTH, to a FILE: the too-deep part is left out, the rest is valid. */
	{
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);

		jw_init_file(&w, f);
		jw_obj_begin(&w);
		for (int i = 0; i < JW_MAX_DEPTH + 4; i++) {
			jw_key(&w, "d");
			jw_obj_begin(&w);
			jw_ku64(&w, "v", i);
		}
		for (int i = 0; i < JW_MAX_DEPTH + 4; i++)
			jw_obj_end(&w);
		jw_ku64(&w, "after", 1);
		jw_obj_end(&w);
		jw_finish(&w);
		fclose(f);
		assert_true(valid_json(text));
		assert_non_null(strstr(text, "\"after\":1}"));
		assert_true(w.truncated);
		free(text);
	}
}

static void test_jw_escaping(void **state)
{
	char buf[256];
	struct jw w;

	jw_init_buf(&w, buf, sizeof(buf));
	jw_obj_begin(&w);
	jw_kstr(&w, "q\"k", "a\"b\\c\nd\te\r\x01\x7f\xff");
	jw_key(&w, "n");
	jw_strn(&w, "abcdef", 3);
	jw_obj_end(&w);
	jw_finish(&w);
	assert_string_equal(buf, "{\"q\\\"k\":\"a\\\"b\\\\c\\nd\\te\\r\\u0001\\u007f\\u00ff\",\"n\":\"abc\"}");
	assert_true(valid_json(buf));
}

/* Whatever is written into a buffer of any size, the text stays valid JSON and says it was
 * cut. */
static void test_jw_truncation(void **state)
{
	char big[] = "a long string value with \"quotes\" and \x01 bytes to make it long enough";

	for (size_t cap = 64; cap <= 400; cap++) {
		char *buf = malloc(cap);
		struct jw w;

		jw_init_buf(&w, buf, cap);
		jw_obj_begin(&w);
		jw_key(&w, "list");
		jw_arr_begin(&w);
		for (int i = 0; i < 5; i++) {
			jw_obj_begin(&w);
			jw_ku64(&w, "i", (uint64_t)i * 1000000007u);
			jw_kstr(&w, "s", big);
			jw_key(&w, "deep");
			for (int d = 0; d < 6; d++)
				jw_arr_begin(&w);
			jw_f64(&w, 0.125);
			for (int d = 0; d < 6; d++)
				jw_arr_end(&w);
			jw_obj_end(&w);
		}
		jw_arr_end(&w);
		jw_kstr(&w, "end", "x");
		jw_obj_end(&w);
		jw_finish(&w);
		assert_true(strlen(buf) < cap);
		if (!valid_json(buf))
			fail_msg("cap %zu: not valid JSON: %s", cap, buf);
		if (cap < 300)
			assert_true(w.truncated);
		free(buf);
	}
}

enum { N_NAME, N_PORTS, N_IFS, N_NUM, N__N };
static const struct out_col ncols[N__N] = {
	[N_NAME]  = { "name", "NAME", OUT_STR, -6 },
	[N_PORTS] = { "ports", "PORTS", OUT_NEST, -20 },
	[N_IFS]   = { "ifs", "IFS", OUT_NEST, -20 },
	[N_NUM]   = { "n", "N", OUT_U64, 3 },
};

static void nested_row(struct out *o, int nports)
{
	struct jw *w;

	out_str(o, N_NAME, "a\"b");
	w = out_nest(o, N_PORTS);
	jw_arr_begin(w);
	for (int i = 0; i < nports; i++) {
		jw_obj_begin(w);
		jw_ku64(w, "port", 80 + i);
		jw_kstr(w, "proto", "tcp");
		jw_obj_end(w);
	}
	jw_arr_end(w);
	w = out_nest(o, N_IFS);    /* opening the next nest closes the first */
	jw_arr_begin(w);
	jw_obj_begin(w);
	jw_kstr(w, "name", "lo");
	jw_kbool(w, "gone", true);
	jw_kbool(w, "up", false);
	jw_obj_end(w);
	jw_obj_begin(w);
	jw_kstr(w, "name", "eth0");
	jw_obj_end(w);
	jw_arr_end(w);
	out_u64(o, N_NUM, 7);
	out_row(o);
}

static char *render_nested(enum out_fmt fmt, int nports)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct out *o = malloc(sizeof(*o));

	out_init(o, f, fmt, ncols, N__N);
	nested_row(o, nports);
	nested_row(o, 1);   /* the arena is reused by the next row */
	fclose(f);
	free(o);
	return buf;
}

static void test_out_nest(void **state)
{
	char *s = render_nested(OUT_JSON, 2);
	char *nl;

	assert_string_equal(s,
		"{\"name\":\"a\\\"b\",\"ports\":[{\"port\":80,\"proto\":\"tcp\"},{\"port\":81,\"proto\":\"tcp\"}],"
		"\"ifs\":[{\"name\":\"lo\",\"gone\":true,\"up\":false},{\"name\":\"eth0\"}],\"n\":7}\n"
		"{\"name\":\"a\\\"b\",\"ports\":[{\"port\":80,\"proto\":\"tcp\"}],"
		"\"ifs\":[{\"name\":\"lo\",\"gone\":true,\"up\":false},{\"name\":\"eth0\"}],\"n\":7}\n");
	free(s);

	s = render_nested(OUT_TABLE, 2);
	assert_string_equal(s,
		"NAME   PORTS                IFS                    N\n"
		"a\"b    80:tcp 81:tcp        lo:gone eth0           7\n"
		"a\"b    80:tcp               lo:gone eth0           7\n");
	free(s);

	/* A value larger than the arena is cut but the row stays one valid JSON object. */
	s = render_nested(OUT_JSON, 3000);
	nl = strchr(s, '\n');
	*nl = 0;
	assert_true(valid_json(s));
	assert_true(strlen(s) > OUT_ARENA / 2);
	assert_true(valid_json(nl + 1) || (strchr(nl + 1, '\n') && (*strchr(nl + 1, '\n') = 0, valid_json(nl + 1))));
	free(s);
}

static void test_out_nest_text(void **state)
{
	char buf[64];

	out_nest_text("[[1,2],[3]]", buf, sizeof(buf));
	assert_string_equal(buf, "1,2 3");
	out_nest_text("{\"a\":\"x\\\"y\",\"b\":null,\"c\":{\"d\":1,\"e\":2}}", buf, sizeof(buf));
	assert_string_equal(buf, "x\"y:1:2");
	out_nest_text("\"\\u00ff\"", buf, sizeof(buf));
	assert_string_equal(buf, "?");
	out_nest_text("[\"aaaaaaaaaa\",\"bbbbbbbbbb\"]", buf, 8);
	assert_string_equal(buf, "aaaaaaa");
}

/* Rows as values of an enclosing document. */
static void test_out_in_document(void **state)
{
	static const struct out_col c[] = { { "k", "K", OUT_U64, 3 }, { "s", "S", OUT_STR, 3 } };
	char buf[256];
	struct jw w;
	struct out o;

	jw_init_buf(&w, buf, sizeof(buf));
	jw_obj_begin(&w);
	jw_ku64(&w, "shown", 2);
	jw_key(&w, "rows");
	jw_arr_begin(&w);
	out_init_jw(&o, &w, c, 2);
	out_u64(&o, 0, 1);
	out_row(&o);
	out_u64(&o, 0, 2);
	out_str(&o, 1, "x");
	out_row(&o);
	jw_arr_end(&w);
	jw_obj_end(&w);
	jw_finish(&w);
	assert_string_equal(buf, "{\"shown\":2,\"rows\":[{\"k\":1}\n,{\"k\":2,\"s\":\"x\"}\n]}");
	assert_true(valid_json(buf));
}

static char *prom_render(void (*fn)(struct prom *p), int *bad)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct prom p;

	prom_init(&p, f);
	fn(&p);
	fclose(f);
	*bad = p.bad;
	return buf;
}

static void prom_good(struct prom *p)
{
	struct prom_label l[2] = { { "path", "a\"b\\c\nd" }, { "mode", "tc" } };

	prom_family(p, "ebee_x_total", "counter", "Things, with a \\ and\na newline.");
	prom_u64(p, "ebee_x_total", l, 2, 3);
	prom_family(p, "ebee_x_total", "counter", "Things again (not repeated).");
	prom_u64(p, "ebee_x_total", l + 1, 1, 18446744073709551615ull);
	prom_family(p, "ebee_temp", "gauge", "A gauge.");
	prom_f64(p, "ebee_temp", NULL, 0, 0.25);
	prom_f64(p, "ebee_temp", l + 1, 1, 1.0 / 0.0);
	prom_family(p, "ebee_lat_seconds", "histogram", "A histogram.");
	prom_u64(p, "ebee_lat_seconds_count", NULL, 0, 4);
}

static void prom_bad(struct prom *p)
{
	struct prom_label l[1] = { { "bad-label", "v" } };

	prom_family(p, "ebee_x", "counter", "counter without _total");
	prom_u64(p, "ebee_x", NULL, 0, 1);
	prom_family(p, "other_total", "counter", "no ebee_ prefix");
	prom_u64(p, "other_total", NULL, 0, 1);
	prom_family(p, "ebee_lat_ms", "gauge", "not a base unit");
	prom_family(p, "ebee_ok", "gauge", "fine");
	prom_u64(p, "ebee_elsewhere", NULL, 0, 1);
	prom_u64(p, "ebee_ok", l, 1, 2);
}

static void test_prom(void **state)
{
	int bad;
	char *s = prom_render(prom_good, &bad);

	assert_int_equal(bad, 0);
	assert_string_equal(s,
		"# HELP ebee_x_total Things, with a \\\\ and\\na newline.\n"
		"# TYPE ebee_x_total counter\n"
		"ebee_x_total{path=\"a\\\"b\\\\c\\nd\",mode=\"tc\"} 3\n"
		"ebee_x_total{mode=\"tc\"} 18446744073709551615\n"
		"# HELP ebee_temp A gauge.\n"
		"# TYPE ebee_temp gauge\n"
		"ebee_temp 0.25\n"
		"ebee_temp{mode=\"tc\"} +Inf\n"
		"# HELP ebee_lat_seconds A histogram.\n"
		"# TYPE ebee_lat_seconds histogram\n"
		"ebee_lat_seconds_count 4\n");
	free(s);

	s = prom_render(prom_bad, &bad);
	assert_int_equal(bad, 5);
	assert_string_equal(s, "# HELP ebee_ok fine\n# TYPE ebee_ok gauge\nebee_ok 2\n");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jw_nesting),
		cmocka_unit_test(test_jw_escaping),
		cmocka_unit_test(test_jw_truncation),
		cmocka_unit_test(test_out_nest),
		cmocka_unit_test(test_out_nest_text),
		cmocka_unit_test(test_out_in_document),
		cmocka_unit_test(test_prom),
	};
	struct ebee_ctx quiet = { .quiet = true };

	ebee_log_init(&quiet);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
