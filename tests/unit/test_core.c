// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of the core's pure parts: option tables, output rendering, syscall names. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "core/ebee.h"
#include "core/opts.h"
#include "core/out.h"
#include "core/syscalls.h"

struct cfg {
	bool flag;
	const char *name;
	long long n;
	unsigned long long u;
	double secs;
	struct opt_list list;
};

static const struct opt tab[] = {
	{ "flag", 'f', OPT_FLAG, offsetof(struct cfg, flag), NULL, "a flag" },
	{ "name", 'n', OPT_STR, offsetof(struct cfg, name), "NAME", "a name" },
	{ "num", 0, OPT_INT, offsetof(struct cfg, n), "N", "bounded", NULL, -5, 5 },
	{ "unsigned", 'u', OPT_UINT, offsetof(struct cfg, u), "N", "unsigned" },
	{ "interval", 'i', OPT_SECONDS, offsetof(struct cfg, secs), "S", "seconds", "1" },
	{ "list", 'l', OPT_LIST, offsetof(struct cfg, list), "A,B", "a list" },
	{ "listen", 0, OPT_STR, offsetof(struct cfg, name), "ADDR", "shares a prefix with list" },
	OPT_END
};

static int parse(struct cfg *c, struct ebee_ctx *ctx, int *npos, bool *help, int argc, ...)
{
	static char *argv[32];
	va_list ap;

	va_start(ap, argc);
	argv[0] = "test";
	for (int i = 1; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	memset(c, 0, sizeof(*c));
	memset(ctx, 0, sizeof(*ctx));
	ctx->cmd_path = "test";
	*help = false;
	return opts_parse(tab, c, argc, argv, npos, ctx, help);
}

static void test_opts_forms(void **state)
{
	struct cfg c;
	struct ebee_ctx ctx;
	int npos;
	bool help;

	assert_int_equal(parse(&c, &ctx, &npos, &help, 8, "-f", "--name=x", "pos1", "-u7", "--interval",
			       "500ms", "pos2"), 0);
	assert_true(c.flag);
	assert_string_equal(c.name, "x");
	assert_int_equal(c.u, 7);
	assert_true(c.secs > 0.499 && c.secs < 0.501);
	assert_int_equal(npos, 2);

	assert_int_equal(parse(&c, &ctx, &npos, &help, 5, "-jvv", "-l", "a,b", "--list=c"), 0);
	assert_true(ctx.json);
	assert_int_equal(ctx.verbose, 2);
	assert_int_equal(c.list.n, 3);
	assert_string_equal(c.list.v[2], "c");

	/* unique prefixes are accepted, ambiguous ones are not */
	assert_int_equal(parse(&c, &ctx, &npos, &help, 3, "--int", "2m"), 0);
	assert_true(c.secs == 120);
	assert_int_equal(parse(&c, &ctx, &npos, &help, 3, "--lis", "x"), -EINVAL);
	/* after --, everything is positional */
	assert_int_equal(parse(&c, &ctx, &npos, &help, 4, "--", "-f", "x"), 0);
	assert_false(c.flag);
	assert_int_equal(npos, 2);
	assert_int_equal(parse(&c, &ctx, &npos, &help, 2, "--help"), 0);
	assert_true(help);
	opts_free();
}

static void test_opts_errors(void **state)
{
	struct cfg c;
	struct ebee_ctx ctx;
	int npos;
	bool help;

	assert_int_equal(parse(&c, &ctx, &npos, &help, 2, "--nope"), -EINVAL);
	assert_non_null(strstr(ebee_last_error(), "unknown option '--nope'"));
	assert_int_equal(parse(&c, &ctx, &npos, &help, 3, "--num", "9"), -EINVAL);
	assert_non_null(strstr(ebee_last_error(), "from -5 to 5"));
	assert_int_equal(parse(&c, &ctx, &npos, &help, 3, "--num", "2x"), -EINVAL);
	assert_int_equal(parse(&c, &ctx, &npos, &help, 3, "-u", "-1"), -EINVAL);
	assert_int_equal(parse(&c, &ctx, &npos, &help, 2, "--name"), -EINVAL);
	assert_non_null(strstr(ebee_last_error(), "needs a value"));
	assert_int_equal(parse(&c, &ctx, &npos, &help, 2, "--flag=1"), -EINVAL);
	assert_int_equal(parse(&c, &ctx, &npos, &help, 3, "-l", "a,,b"), -EINVAL);
	assert_int_equal(parse(&c, &ctx, &npos, &help, 3, "-i", "soon"), -EINVAL);
	opts_free();
}

static void test_seconds(void **state)
{
	double v;

	assert_int_equal(opts_parse_seconds("1.5", &v), 0);
	assert_true(v == 1.5);
	assert_int_equal(opts_parse_seconds("250ms", &v), 0);
	assert_true(v == 0.25);
	assert_int_equal(opts_parse_seconds("2h", &v), 0);
	assert_true(v == 7200);
	assert_int_equal(opts_parse_seconds("-1", &v), -EINVAL);
	assert_int_equal(opts_parse_seconds("1d", &v), -EINVAL);
	assert_int_equal(opts_parse_seconds("", &v), -EINVAL);
}

static void test_help_generated(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct opt_doc doc = { "[OPTIONS]", "Does things.", "  test -f" };

	opts_help(f, "test", tab, &doc);
	fclose(f);
	assert_non_null(strstr(buf, "Usage: ebee test [OPTIONS]"));
	assert_non_null(strstr(buf, "-i, --interval S"));
	assert_non_null(strstr(buf, "(default: 1)"));
	assert_non_null(strstr(buf, "--json"));
	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	opts_man(f, "test", "summary", tab, &doc);
	fclose(f);
	assert_non_null(strstr(buf, ".TH EBEE-TEST 8"));
	assert_non_null(strstr(buf, "\\fB\\-\\-interval\\fR"));
	free(buf);
}

enum { K, N, F, B, C__N };
static const struct out_col cols[C__N] = {
	[K] = { "key", "KEY", OUT_STR, -6 },
	[N] = { "n", "N", OUT_U64, 5 },
	[F] = { "f", "F", OUT_F64, 6, 2 },
	[B] = { "b", "B", OUT_BOOL, 0 },
};

static char *render(enum out_fmt fmt, bool hide_f)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct out o;

	out_init(&o, f, fmt, cols, C__N);
	out_hide(&o, F, hide_f);
	out_str(&o, K, "a\"b\n");
	out_u64(&o, N, 42);
	out_f64(&o, F, 1.5);
	out_bool(&o, B, true);
	out_row(&o);
	out_str(&o, K, "zz");   /* N and F unset */
	out_row(&o);
	fclose(f);
	return buf;
}

static void test_out_table(void **state)
{
	char *s = render(OUT_TABLE, false);

	assert_string_equal(s, "KEY        N      F\n"
			       "a\"b\n      42   1.50\n"
			       "zz         -      -\n");
	free(s);
	s = render(OUT_TABLE, true);
	assert_string_equal(s, "KEY        N\na\"b\n      42\nzz         -\n");
	free(s);
}

static void test_out_json(void **state)
{
	char *s = render(OUT_JSON, false);

	/* bool column has width 0: JSON only */
	assert_string_equal(s, "{\"key\":\"a\\\"b\\n\",\"n\":42,\"f\":1.5,\"b\":true}\n{\"key\":\"zz\"}\n");
	free(s);
}

static void test_json_escape(void **state)
{
	char buf[64];

	out_json_escape(buf, sizeof(buf), "tab\there\x01\xff");
	assert_string_equal(buf, "tab\\there\\u0001\\u00ff");
	/* never overflows, always terminated */
	out_json_escape(buf, 8, "\x01\x01\x01\x01");
	assert_true(strlen(buf) < 8);
}

static void test_syscalls(void **state)
{
	assert_string_equal(syscall_name(syscall_nr("clone")), "clone");
	assert_int_equal(syscall_nr("sys_getppid"), syscall_nr("getppid"));
	assert_true(syscall_nr("clone3") > 0);
	assert_int_equal(syscall_nr("nosuchcall"), -1);
	assert_null(syscall_name(-1));
	assert_string_equal(syscall_suggest("clonee"), "clone");
	assert_string_equal(syscall_suggest("opnat"), "openat");
	assert_null(syscall_suggest("zzzzzzzzzzzz"));
}

/* The seconds' text is cached per thread: times within a second, across a second and back
 * must each read right, and a short buffer must stay terminated. */
static void test_fmt_time(void **state)
{
	const uint64_t t = 1764633762ull * 1000000000ull;   /* 2025-12-02T00:02:42Z */
	char buf[48];

	assert_string_equal(ebee_fmt_time(t + 123456789, buf, sizeof(buf)),
			    "2025-12-02T00:02:42.123456Z");
	assert_string_equal(ebee_fmt_time(t + 5000, buf, sizeof(buf)), "2025-12-02T00:02:42.000005Z");
	assert_string_equal(ebee_fmt_time(t + 1999999999, buf, sizeof(buf)),
			    "2025-12-02T00:02:43.999999Z");
	assert_string_equal(ebee_fmt_time(t - 1000, buf, sizeof(buf)), "2025-12-02T00:02:41.999999Z");
	assert_string_equal(ebee_fmt_time(0, buf, sizeof(buf)), "1970-01-01T00:00:00.000000Z");
	ebee_fmt_time(t, buf, 10);
	assert_true(strlen(buf) < 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opts_forms),
		cmocka_unit_test(test_opts_errors),
		cmocka_unit_test(test_seconds),
		cmocka_unit_test(test_help_generated),
		cmocka_unit_test(test_out_table),
		cmocka_unit_test(test_out_json),
		cmocka_unit_test(test_json_escape),
		cmocka_unit_test(test_syscalls),
		cmocka_unit_test(test_fmt_time),
	};
	struct ebee_ctx quiet = { .quiet = true };

	ebee_log_init(&quiet);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
