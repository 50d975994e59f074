// SPDX-License-Identifier: BSD-2-Clause
/* ebee http: the route normaliser and its cardinality guard, the log-linear histogram and its
 * quantiles, the Prometheus buckets, and RED aggregation of events. */
#include <errno.h>
#include <linux/types.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "http/hist.h"
#include "http/route.h"
#include "http/session.h"

static const char *norm(const char *path, bool collapse)
{
	static char out[ROUTE_MAX];

	route_normalise(path, strlen(path), collapse, out);
	return out;
}

static void test_normalise(void **state)
{
	assert_string_equal(norm("/users/42", true), "/users/{id}");
	assert_string_equal(norm("/users/42/orders/7", true), "/users/{id}/orders/{id}");
	assert_string_equal(norm("/o/123e4567-e89b-12d3-a456-426614174000/x", true), "/o/{id}/x");
	assert_string_equal(norm("/blob/9f86d081884c7d65", true), "/blob/{id}");
	assert_string_equal(norm("/t/AbCdEfGh12345678xyz", true), "/t/{id}");
	/* words, short hex-looking words, versions stay */
	assert_string_equal(norm("/api/v2/users", true), "/api/v2/users");
	assert_string_equal(norm("/cafe/beef", true), "/cafe/beef");
	assert_string_equal(norm("/static/application-settings", true), "/static/application-settings");
	assert_string_equal(norm("/users/42", false), "/users/42");
	assert_string_equal(norm("", true), "/");
	assert_string_equal(norm("/", true), "/");
	assert_string_equal(norm("/a//b/", true), "/a//b/");
	assert_string_equal(norm("*", true), "/*");
	{ char out[ROUTE_MAX];   /* a NUL in the path (%00) does not cut the route short */
	  assert_int_equal(route_normalise("/a\0b/7", 6, true, out), 9);
	  assert_string_equal(out, "/a?b/{id}"); }
	assert_true(route_is_id("0", 1));
	assert_false(route_is_id("", 0));
	assert_false(route_is_id("release-notes-of-the-year", 25));   /* long, but no digit */
	assert_true(route_is_id("123e4567-e89b-12d3-a456-42661417400g", 36));   /* a token */
}

static void test_normalise_long(void **state)
{
	char path[1000], out[ROUTE_MAX];
	size_t n;

	for (int i = 0; i < 999; i++)
		path[i] = i % 10 == 0 ? '/' : 'a';
	path[999] = 0;
	n = route_normalise(path, strlen(path), true, out);
	assert_int_equal(n, ROUTE_MAX - 1);
	assert_int_equal(strlen(out), ROUTE_MAX - 1);
	/* ids near the end of the buffer never write past it */
	for (int i = 0; i < 999; i++)
		path[i] = i % 3 == 0 ? '/' : '7';
	n = route_normalise(path, strlen(path), true, out);
	assert_true(n <= ROUTE_MAX - 1);
	assert_int_equal(strlen(out), n);
	assert_memory_equal(out, "/{id}/{id}", 10);
}

static void test_guard(void **state)
{
	struct route_set s;
	char r[32];

	assert_int_equal(route_set_init(&s, 3), 0);
	assert_int_equal(route_intern(&s, "/a"), 0);
	assert_int_equal(route_intern(&s, "/b"), 1);
	assert_int_equal(route_intern(&s, "/a"), 0);
	assert_int_equal(route_intern(&s, "/c"), 2);
	for (int i = 0; i < 1000; i++) {
		snprintf(r, sizeof(r), "/x%d", i);
		assert_int_equal(route_intern(&s, r), 3);
	}
	assert_string_equal(route_name(&s, 3), ROUTE_OTHER);
	assert_string_equal(route_name(&s, 1), "/b");
	assert_int_equal(route_intern(&s, "/c"), 2);   /* known routes still found when full */
	assert_int_equal(s.overflowed, 1000);
	assert_int_equal(s.n, 3);
	route_set_free(&s);
	route_set_free(&s);   /* accepts a freed (zeroed) set */
}

static void test_hist_buckets(void **state)
{
	uint64_t lo, hi, prev_hi = 0;

	/* buckets tile the value range without gaps or overlaps, 12.5% wide at most */
	for (int b = 0; b <= hist_bucket(UINT64_MAX); b++) {
		hist_range(b, &lo, &hi);
		if (b)
			assert_int_equal(lo, prev_hi + 1);
		assert_int_equal(hist_bucket(lo), b);
		assert_int_equal(hist_bucket(hi), b);
		if (lo >= 16)
			assert_true((double)(hi - lo + 1) / lo <= 0.125 + 1e-9);
		prev_hi = hi;
	}
	assert_true(hist_bucket(UINT64_MAX) < HIST_NB);
	assert_int_equal(hi, UINT64_MAX);
}

static void test_hist_quantiles(void **state)
{
	struct hist *h = calloc(1, sizeof(*h));
	uint64_t q;

	assert_int_equal(hist_quantile(h, 0.5), 0);
	/* 1..10000 us: p50 ~ 5 ms, p90 ~ 9 ms, p99 ~ 9.9 ms, each within 12.5% */
	for (uint64_t i = 1; i <= 10000; i++)
		hist_add(h, i * 1000);
	q = hist_quantile(h, 0.5);
	assert_true(q > 5000000 * 0.875 && q < 5000000 * 1.125);
	q = hist_quantile(h, 0.9);
	assert_true(q > 9000000 * 0.875 && q < 9000000 * 1.125);
	q = hist_quantile(h, 0.99);
	assert_true(q > 9900000 * 0.875 && q <= 10000000);
	assert_int_equal(hist_quantile(h, 1.0), 10000000);  /* capped at the max seen */
	assert_int_equal(h->n, 10000);
	memset(h, 0, sizeof(*h));
	hist_add(h, 7);
	assert_int_equal(hist_quantile(h, 0.5), 7);   /* small values are exact */
	free(h);
}

static void test_prom_buckets(void **state)
{
	assert_int_equal(hist_prom_bucket(0), 0);
	assert_int_equal(hist_prom_bucket(0.005), 0);
	assert_int_equal(hist_prom_bucket(0.0051), 1);
	assert_int_equal(hist_prom_bucket(1), 9);
	assert_int_equal(hist_prom_bucket(10), HIST_PROM_N - 1);
	assert_int_equal(hist_prom_bucket(11), HIST_PROM_N);
}

static struct http_event ev(int side, const char *m, const char *path, int status, uint64_t ns)
{
	struct http_event e = { .hdr.type = side ? EV_HTTP_CLIENT : EV_HTTP_SERVER };

	e.key.method_len = strlen(m);
	memcpy(e.key.method, m, e.key.method_len);
	e.key.path_len = strlen(path);
	memcpy(e.key.path, path, e.key.path_len);
	e.status = status;
	e.dur_ns = ns;
	return e;
}

static void test_red(void **state)
{
	struct red r;
	struct http_event e;
	int n = 0;

	assert_int_equal(red_init(&r, 2, true), 0);
	e = ev(0, "GET", "/users/1", 200, 1000000);  red_add(&r, &e, NULL);
	e = ev(0, "GET", "/users/2", 500, 3000000);  red_add(&r, &e, NULL);
	e = ev(0, "POST", "/users/2", 201, 2000000); red_add(&r, &e, NULL);
	e = ev(0, "GET", "/a", 404, 1000);           red_add(&r, &e, NULL);
	e = ev(0, "GET", "/b", 200, 1000);           red_add(&r, &e, NULL);   /* past the guard */
	e = ev(0, "BREW", "/a", 200, 1000);          red_add(&r, &e, NULL);   /* _OTHER method */
	e = ev(1, "GET", "/a", 0, 1000);             red_add(&r, &e, NULL);   /* client error */
	assert_int_equal(r.routes.n, 2);
	assert_int_equal(r.routes.overflowed, 1);
	for (unsigned i = 0; i < r.cap; i++) {
		struct http_series *s = r.slot[i];

		if (!s)
			continue;
		n++;
		if (!s->side && s->method == 0 && s->route == 0) {   /* GET /users/{id} */
			assert_int_equal(s->tot.n, 2);
			assert_int_equal(s->errors, 1);
			assert_int_equal(s->cls_n[2], 1);
			assert_int_equal(s->cls_n[5], 1);
			assert_int_equal(s->cls_sum_ns[5], 3000000);
			assert_int_equal(s->cls_le[5][0], 1);   /* 3 ms <= 5 ms */
		}
		if (s->side)
			assert_int_equal(s->errors, 1);
		if (s->method == HTTP_NMETHODS - 1)
			assert_string_equal(route_name(&r.routes, s->route), "/a");
	}
	assert_int_equal(n, 6);   /* GET users, POST users, GET /a, GET /other, _OTHER /a, client */
	assert_int_equal(http_method_idx("GET", 3), 0);
	assert_int_equal(http_method_idx("GETX", 4), HTTP_NMETHODS - 1);
	red_free(&r);
}

/* A kernel cell's delta folded into a series: the same counts as if its requests had crossed
 * one by one (bucket, class, errors, Prometheus buckets); an interval's max is bounded by its
 * top bucket, the total's is the cell's. */
static void test_red_cell(void **state)
{
	struct http_cell *d = calloc(1, sizeof(*d));
	struct http_series *s;
	struct red r;
	struct http_event e;
	bool routed;

	assert_int_equal(red_init(&r, 2, true), 0);
	e = ev(0, "GET", "/users/1", 503, 1000000);
	s = red_add(&r, &e, &routed);
	assert_non_null(s);
	assert_true(routed);
	assert_int_equal(red_class(e.status), 5);
	assert_int_equal(red_class(99), 0);
	assert_int_equal(red_class(600), 0);
	d->n = 3;
	d->sum_ns = 2000000 + 2000000 + 30000000;
	d->max_ns = 90000000;                    /* since the start: an earlier interval's */
	d->b[hist_bucket(2000000)] = 2;
	d->b[hist_bucket(30000000)] = 1;
	d->le[hist_prom_bucket_ns(2000000)] = 2;
	d->le[hist_prom_bucket_ns(30000000)] = 1;
	red_add_cell(s, 5, d);
	assert_int_equal(s->tot.n, 4);
	assert_int_equal(s->errors, 4);
	assert_int_equal(s->cur_errors, 4);
	assert_int_equal(s->cls_n[5], 4);
	assert_int_equal(s->cls_sum_ns[5], 35000000);
	assert_int_equal(s->cls_le[5][0], 3);   /* 1, 2, 2 ms <= 5 ms */
	assert_int_equal(s->cls_le[5][3], 1);   /* 30 ms <= 50 ms */
	assert_int_equal(s->tot.max_ns, 90000000);
	assert_true(s->cur.max_ns >= 30000000 && s->cur.max_ns < 30000000 * 1.125);
	assert_int_equal(s->tot.b[hist_bucket(2000000)], 2);
	/* another route's key past the guard (max 2 routes): not to be given a cell */
	e = ev(0, "GET", "/a", 200, 1000);  red_add(&r, &e, &routed);
	assert_true(routed);
	e = ev(0, "GET", "/b", 200, 1000);  red_add(&r, &e, &routed);
	assert_false(routed);
	red_free(&r);
	free(d);
}

/* The daemon's families as Prometheus text through the output layer: a histogram with
 * cumulative buckets per (method, route, status class), _sum/_count, and the counter. */
static void test_red_metrics(void **state)
{
	struct red r;
	struct http_event e;
	struct prom p;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(red_init(&r, 4, true), 0);
	e = ev(0, "GET", "/users/7", 200, 3000000);   red_add(&r, &e, NULL);    /* <= 5 ms */
	e = ev(0, "GET", "/users/8", 200, 20000000);  red_add(&r, &e, NULL);    /* <= 25 ms */
	e = ev(0, "GET", "/users/9", 503, 2000000000); red_add(&r, &e, NULL);   /* <= 2.5 s */
	e = ev(1, "GET", "/api", 0, 1000000);         red_add(&r, &e, NULL);    /* client, no response */
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	prom_init(&p, f);
	red_metrics(&r, &p);
	fclose(f);
	assert_int_equal(p.bad, 0);
#define L "method=\"GET\",route=\"/users/{id}\",status_class="
	assert_non_null(strstr(buf, "# TYPE ebee_http_server_request_duration_seconds histogram\n"));
	assert_non_null(strstr(buf, "ebee_http_server_request_duration_seconds_bucket{" L
				    "\"2xx\",le=\"0.005\"} 1\n"));
	assert_non_null(strstr(buf, "ebee_http_server_request_duration_seconds_bucket{" L
				    "\"2xx\",le=\"0.025\"} 2\n"));
	assert_non_null(strstr(buf, "ebee_http_server_request_duration_seconds_bucket{" L
				    "\"2xx\",le=\"+Inf\"} 2\n"));
	assert_non_null(strstr(buf, "ebee_http_server_request_duration_seconds_bucket{" L
				    "\"5xx\",le=\"1\"} 0\n"));
	assert_non_null(strstr(buf, "ebee_http_server_request_duration_seconds_bucket{" L
				    "\"5xx\",le=\"2.5\"} 1\n"));
	assert_non_null(strstr(buf, "ebee_http_server_request_duration_seconds_count{" L
				    "\"2xx\"} 2\n"));
	assert_non_null(strstr(buf, "ebee_http_server_request_duration_seconds_sum{" L
				    "\"2xx\"} 0.023\n"));
	assert_non_null(strstr(buf, "# TYPE ebee_http_server_requests_total counter\n"));
	assert_non_null(strstr(buf, "ebee_http_server_requests_total{" L "\"5xx\"} 1\n"));
	assert_non_null(strstr(buf, "ebee_http_client_requests_total{method=\"GET\",route=\"/api\","
				    "status_class=\"none\"} 1\n"));
#undef L
	free(buf);
	red_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_normalise_long),
		cmocka_unit_test(test_guard),
		cmocka_unit_test(test_hist_buckets),
		cmocka_unit_test(test_hist_quantiles),
		cmocka_unit_test(test_prom_buckets),
		cmocka_unit_test(test_red),
		cmocka_unit_test(test_red_cell),
		cmocka_unit_test(test_red_metrics),
	};

	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
