// SPDX-License-Identifier: BSD-2-Clause
/* ebee serve's pure parts: the router and query parser, the bearer check, and the YAML config
 * against the real registry (a collector's options applied through its own option table). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "core/collector.h"
#include "core/opts.h"
#include "netwatch/collect.h"
#include "serve/config.h"
#include "serve/route.h"
#include "tcp/collect.h"

static void test_routes(void **state)
{
	struct route r;

	(void)state;
	route_path(&r, "GET", "/metrics");
	assert_int_equal(r.kind, R_METRICS);
	assert_true(r.needs_auth);
	route_path(&r, "HEAD", "/healthz");
	assert_int_equal(r.kind, R_HEALTHZ);
	assert_true(r.head);
	assert_false(r.needs_auth);
	route_path(&r, "GET", "/");
	assert_false(r.needs_auth);
	route_path(&r, "POST", "/metrics");
	assert_int_equal(r.kind, R_BAD_METHOD);
	route_path(&r, "GET", "/api/tcp");
	assert_int_equal(r.kind, R_API);
	assert_string_equal(r.name, "tcp");
	route_path(&r, "GET", "/api/events");
	assert_int_equal(r.kind, R_EVENTS);
	for (const char *const *u = (const char *const[]){ "/api/", "/api/a/b", "/api/../x", "/api/A",
		"/api/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "/x", "", NULL }; *u; u++) {
		route_path(&r, "GET", *u);
		assert_int_equal(r.kind, R_NOT_FOUND);
	}
}

static void test_query(void **state)
{
	struct route r;

	(void)state;
	route_path(&r, "GET", "/api/events");
	assert_int_equal(route_arg(&r, "type", "exec,open"), 0);
	assert_int_equal(r.ntypes, 2);
	assert_string_equal(r.types[1], "open");
	assert_int_equal(route_arg(&r, "priority", "Warning"), 0);
	assert_int_equal(r.prio, P_WARNING);
	assert_int_equal(route_arg(&r, "priority", "loud"), -1);
	assert_non_null(r.err);
	route_path(&r, "GET", "/api/events");
	assert_int_equal(route_arg(&r, "type", "a,,b"), -1);
	route_path(&r, "GET", "/api/events");
	assert_int_equal(route_arg(&r, "type", "a,b,c,d,e,f,g,h,i"), -1);
	route_path(&r, "GET", "/api/events");
	assert_int_equal(route_arg(&r, "last_event_id", "41"), 0);
	assert_true(r.have_last);
	assert_int_equal(r.last_id, 41);
	assert_int_equal(route_last_id(&r, "-1"), -1);
	assert_int_equal(route_last_id(&r, "18446744073709551615"), -1);
	route_path(&r, "GET", "/api/prog");
	assert_int_equal(route_arg(&r, "top", "20"), 0);
	assert_int_equal(r.top, 20);
	assert_int_equal(route_arg(&r, "top", "x"), -1);
	assert_int_equal(route_arg(&r, "top", "1000001"), -1);
	assert_int_equal(route_arg(&r, "type", "whatever"), 0);   /* not an events path: ignored */
}

static void test_auth(void **state)
{
	const char *tok = "0123456789abcdef";

	(void)state;
	assert_true(route_auth("Bearer 0123456789abcdef", tok));
	assert_true(route_auth("bearer  0123456789abcdef", tok));
	assert_false(route_auth("Bearer 0123456789abcde", tok));
	assert_false(route_auth("Bearer 0123456789abcdefg", tok));
	assert_false(route_auth("Bearer 0123456789abcdeF", tok));
	assert_false(route_auth("Basic 0123456789abcdef", tok));
	assert_false(route_auth(NULL, tok));
	assert_false(route_auth("Bearer ", ""));
}

static void test_config(void **state)
{
	static const char text[] =
		"listen: 0.0.0.0:9000\n"
		"interval: 500ms\n"
		"max_streams: 3\n"
		"collectors:\n"
		"  tcp: {lport: [80, 8000-8099], raddr: 10.0.0.0/8}\n"
		"  netwatch:\n"
		"    max_sources: 4096\n"
		"    interface: [eth0, eth1]\n";
	struct serve_conf c, c2;
	struct tcp_cfg tcp;
	struct nw_opts nw;

	(void)state;
	assert_int_equal(serve_conf_parse("t.yaml", text, strlen(text), &c), 0);
	assert_string_equal(c.listen, "0.0.0.0:9000");
	assert_true(c.interval > 0.49 && c.interval < 0.51);
	assert_int_equal(c.max_streams, 3);
	assert_int_equal(c.ncols, 2);
	assert_ptr_equal(c.cols[0].d, &tcp_collector);
	assert_int_equal(serve_col_cfg(&c.cols[0], "t.yaml", &tcp), 0);
	assert_int_equal(tcp.mode, TCP_MODE_COUNT);          /* the collector's daemon default */
	assert_int_equal(tcp.lport.n, 2);
	assert_int_equal(tcp.lport.r[1].lo, 8000);
	assert_int_equal(tcp.lport.r[1].hi, 8099);
	assert_int_equal(tcp.raddr.n, 1);
	assert_int_equal(serve_col_cfg(&c.cols[1], "t.yaml", &nw), 0);
	assert_int_equal(nw.max_sources, 4096);
	assert_int_equal(nw.ifaces.n, 2);
	assert_string_equal(nw.attach, "auto");
	/* Same options in the same order: the same collector for a reload. */
	assert_int_equal(serve_conf_parse("t.yaml", text, strlen(text), &c2), 0);
	assert_true(serve_col_same(&c.cols[0], &c2.cols[0]));
	assert_false(serve_col_same(&c.cols[0], &c2.cols[1]));
	serve_conf_free(&c2);
	{
		static const char other[] = "collectors:\n  tcp: {lport: [81, 8000-8099], raddr: 10.0.0.0/8}\n";

		assert_int_equal(serve_conf_parse("t.yaml", other, strlen(other), &c2), 0);
		assert_false(serve_col_same(&c.cols[0], &c2.cols[0]));
		serve_conf_free(&c2);
	}
	serve_conf_free(&c);
}

static void test_bad_config(void **state)
{
	static const char *const bad[] = {
		"collectors: {tcp: {lport: [x]}}\n", "collectors: {nosuch: }\n", "collectors: {tcp: {nosuch: 1}}\n",
		"collectors: [tcp, tcp]\n", "interval: 0\n", "max_streams: -1\n", "listen: [a]\n", "[a, b]\n",
		"collectors: {tcp: {lport: {a: b}}}\n", "collectors: {tcp: {ipv4: maybe}}\n", "key: : :\n",
		"collectors: {tcp: {lport: }}\n", NULL };
	struct serve_conf c;

	(void)state;
	for (int i = 0; bad[i]; i++) {
		assert_int_equal(serve_conf_parse("t.yaml", bad[i], strlen(bad[i]), &c), -EINVAL);
		serve_conf_free(&c);
	}
	/* Empty and null documents are valid: the defaults. */
	assert_int_equal(serve_conf_parse("t.yaml", "", 0, &c), 0);
	assert_false(c.have_collectors);
	serve_conf_free(&c);
	assert_int_equal(serve_conf_parse("t.yaml", "collectors:\n", 12, &c), 0);
	assert_true(c.have_collectors);
	assert_int_equal(c.ncols, 0);
	serve_conf_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_bad_config),
	};

	return cmocka_run_group_tests_name("serve", tests, NULL, NULL);
}
