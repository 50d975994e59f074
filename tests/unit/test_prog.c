// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of prog's pure parts: /proc/PID/fdinfo parsing, snapshot documents and deltas,
 * duration formatting, and top's filter. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <linux/bpf.h>

#include "prog/progstat.h"
#include "prog/snap.h"
#include "top/top.h"

static void fdinfo_prog(void **state)
{
	const char *text =
		"pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1057\n"
		"prog_type:\t26\nprog_jited:\t1\nprog_tag:\t63f75f117d0d4953\nmemlock:\t4096\n"
		"prog_id:\t149\nrun_time_ns:\t649650023\nrun_cnt:\t4166609\n"
		"recursion_misses:\t3\nverified_insns:\t112\n";
	struct ps_fdinfo fi = { 0 };

	assert_int_equal(ps_parse_fdinfo(text, &fi), 9);
	assert_int_equal(fi.prog_id, 149);
	assert_int_equal(fi.prog_type, 26);
	assert_string_equal(fi.tag, "63f75f117d0d4953");
	assert_int_equal(fi.run_time_ns, 649650023ull);
	assert_int_equal(fi.run_cnt, 4166609ull);
	assert_int_equal(fi.recursion_misses, 3);
	assert_int_equal(fi.verified_insns, 112);
	assert_int_equal(fi.memlock, 4096);
	assert_int_equal(fi.jited, 1);
}

static void fdinfo_link_and_garbage(void **state)
{
	/* a link's fdinfo names its program but has no counters; no trailing newline */
	struct ps_fdinfo fi = { 0 };
	assert_int_equal(ps_parse_fdinfo("link_type:\traw_tracepoint\nlink_id:\t7\nprog_tag:\tab\nprog_id:\t42", &fi), 2);
	assert_int_equal(fi.prog_id, 42);
	assert_int_equal(fi.run_cnt, 0);

	memset(&fi, 0, sizeof(fi));
	assert_int_equal(ps_parse_fdinfo("", &fi), 0);
	assert_int_equal(ps_parse_fdinfo("no colon here\n:\n\n", &fi), 0);
	/* an overlong key is skipped, not overflowed */
	assert_int_equal(ps_parse_fdinfo("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:1\nrun_cnt:5\n", &fi), 1);
	assert_int_equal(fi.run_cnt, 5);
}

static void owners_json(void **state)
{
	char b[256];
	ps_owners_json("123/foo,456/b\"ar", b, sizeof(b));
	assert_string_equal(b, "[{\"pid\":123,\"comm\":\"foo\"},{\"pid\":456,\"comm\":\"b\\\"ar\"}]");
	ps_owners_json("", b, sizeof(b));
	assert_string_equal(b, "[]");
	ps_owners_json("7/a/b", b, sizeof(b));   /* a comm may contain '/' */
	assert_string_equal(b, "[{\"pid\":7,\"comm\":\"a/b\"}]");
	ps_owners_json("123/foo,456/bar", b, 20);   /* cut, never overflowed */
	assert_true(strlen(b) < 20);
}

static void fmt(void **state)
{
	char b[32];
	assert_string_equal(ps_fmt_ns(812, b, sizeof(b)), "812ns");
	assert_string_equal(ps_fmt_ns(1234, b, sizeof(b)), "1.2us");
	assert_string_equal(ps_fmt_ns(2.5e6, b, sizeof(b)), "2.5ms");
	assert_string_equal(ps_fmt_ns(3e9, b, sizeof(b)), "3.00s");
	assert_string_equal(ps_fmt_dur(5, b, sizeof(b)), "5s");
	assert_string_equal(ps_fmt_dur(62, b, sizeof(b)), "1m02s");
	assert_string_equal(ps_fmt_dur(3725, b, sizeof(b)), "1h02m");
}

static struct ps_prog mk(uint32_t id, const char *name, uint64_t load, uint64_t runs, uint64_t ns)
{
	struct ps_prog p;
	memset(&p, 0, sizeof(p));
	p.id = id;
	p.type = BPF_PROG_TYPE_TRACING;
	snprintf(p.name, sizeof(p.name), "%s", name);
	snprintf(p.tag, sizeof(p.tag), "00112233445566%02x", id & 0xff);
	p.load_time = load;
	p.run_cnt = runs;
	p.run_time_ns = ns;
	return p;
}

static void snap_roundtrip(void **state)
{
	struct ps_prog v[2] = { mk(3, "a\"quoted", 100, 10, 1000), mk(9, "", 200, 0, 0) };
	struct snap s = { .set = { .v = v, .n = 2, .cap = 2 }, .taken_real_ns = 1700000000123456789ull };
	struct snap r;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	snprintf(s.boot_id, sizeof(s.boot_id), "b0071d");
	assert_int_equal(snap_write(f, &s), 0);
	fclose(f);
	assert_int_equal(snap_parse(buf, &r), 0);
	assert_string_equal(r.boot_id, "b0071d");
	assert_true(r.taken_real_ns == 1700000000123456789ull);
	assert_int_equal(r.set.n, 2);
	assert_int_equal(r.set.v[0].id, 3);
	assert_string_equal(r.set.v[0].name, "a\"quoted");
	assert_string_equal(r.set.v[0].tag, v[0].tag);
	assert_int_equal(r.set.v[0].run_cnt, 10);
	assert_int_equal(r.set.v[0].run_time_ns, 1000);
	assert_int_equal(r.set.v[0].load_time, 100);
	assert_int_equal(r.set.v[1].id, 9);
	snap_free(&r);
	free(buf);
}

static void snap_bad_docs(void **state)
{
	struct snap r;
	assert_int_equal(snap_parse("", &r), -EINVAL);
	assert_int_equal(snap_parse("[1,2]", &r), -EINVAL);
	assert_int_equal(snap_parse("{\"progs\":[]}", &r), -EINVAL);
	assert_int_equal(snap_parse("{\"ebee_snapshot\":99,\"progs\":[]}", &r), -EPROTO);
	/* unsorted input is sorted by id; entries without an id are dropped */
	assert_int_equal(snap_parse("{\"ebee_snapshot\":1,\"progs\":[{\"id\":5},{\"name\":\"x\"},{\"id\":2}]}", &r), 0);
	assert_int_equal(r.set.n, 2);
	assert_int_equal(r.set.v[0].id, 2);
	assert_int_equal(r.set.v[1].id, 5);
	snap_free(&r);
}

static void diff(void **state)
{
	/* 1 ran, 2 gone, 4 reused by another program (gone + new), 5 new, 6 idle */
	struct ps_prog a[] = { mk(1, "ran", 10, 100, 5000), mk(2, "gone", 10, 7, 70),
			       mk(4, "old4", 10, 50, 500), mk(6, "idle", 10, 3, 30) };
	struct ps_prog b[] = { mk(1, "ran", 10, 150, 7000), mk(4, "new4", 99, 5, 40),
			       mk(5, "new", 20, 9, 90), mk(6, "idle", 10, 3, 30) };
	struct ps_set then = { a, 4, 4 }, now = { b, 4, 4 };
	struct snap_delta *d;
	int n = snap_diff(&then, &now, &d);

	assert_int_equal(n, 6);
	assert_int_equal(d[0].status, SNAP_SAME);
	assert_int_equal(d[0].now->id, 1);
	assert_int_equal(d[0].d_runs, 50);
	assert_int_equal(d[0].d_ns, 2000);
	assert_int_equal(d[1].status, SNAP_GONE);
	assert_int_equal(d[1].then->id, 2);
	assert_null(d[1].now);
	assert_int_equal(d[2].status, SNAP_GONE);
	assert_string_equal(d[2].then->name, "old4");
	assert_int_equal(d[3].status, SNAP_NEW);
	assert_string_equal(d[3].now->name, "new4");
	assert_int_equal(d[3].d_runs, 5);
	assert_int_equal(d[4].status, SNAP_NEW);
	assert_int_equal(d[4].now->id, 5);
	assert_int_equal(d[4].d_ns, 90);
	assert_int_equal(d[5].status, SNAP_SAME);
	assert_int_equal(d[5].d_runs, 0);
	free(d);

	/* empty on both sides */
	struct ps_set none = { 0 };
	assert_int_equal(snap_diff(&none, &none, &d), 0);
	free(d);
}

static void top_filter(void **state)
{
	struct top_row r;
	struct top_filter f = { 0 };

	memset(&r, 0, sizeof(r));
	r.p = mk(77, "count_tp_btf", 1, 1, 1);
	snprintf(r.p.owners, sizeof(r.p.owners), "123/ebee,456/other");
	snprintf(r.p.attach, sizeof(r.p.attach), "raw_tp/sys_enter");
	assert_true(top_match(&r, &f));
	f.type = "trac";
	assert_true(top_match(&r, &f));
	f.type = "xdp";
	assert_false(top_match(&r, &f));
	f.type = NULL;
	f.owner = "456";
	assert_true(top_match(&r, &f));
	f.owner = "nobody";
	assert_false(top_match(&r, &f));
	f.owner = NULL;
	snprintf(f.text, sizeof(f.text), "name:COUNT");
	assert_true(top_match(&r, &f));
	snprintf(f.text, sizeof(f.text), "name:sys_enter");
	assert_false(top_match(&r, &f));
	snprintf(f.text, sizeof(f.text), "sys_enter");   /* any field: attach */
	assert_true(top_match(&r, &f));
	snprintf(f.text, sizeof(f.text), "77");
	assert_true(top_match(&r, &f));
	snprintf(f.text, sizeof(f.text), "owner:other");
	assert_true(top_match(&r, &f));

	enum top_sort k;
	assert_int_equal(top_sort_parse("ns_total", &k), 0);
	assert_int_equal(k, SORT_NS_TOTAL);
	assert_string_equal(top_sort_name(SORT_CPU), "cpu");
	assert_int_equal(top_sort_parse("bogus", &k), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fdinfo_prog),
		cmocka_unit_test(fdinfo_link_and_garbage),
		cmocka_unit_test(owners_json),
		cmocka_unit_test(fmt),
		cmocka_unit_test(snap_roundtrip),
		cmocka_unit_test(snap_bad_docs),
		cmocka_unit_test(diff),
		cmocka_unit_test(top_filter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
