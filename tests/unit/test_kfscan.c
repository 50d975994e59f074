// SPDX-License-Identifier: BSD-2-Clause
/* The prefilter's path scan (src/events/kfscan.h, the code events.bpf.c runs) against a byte
 * by byte reference: each pattern at every position of every length, across word boundaries,
 * cut by the length, stale bytes past the length (the scratch keeps the previous path's
 * tail), paths of 254-256 bytes, bytes one bit from '/' and '.', and random paths. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "events/kfscan.h"

/* the scan reads KF_SCAN_WORDS words whatever the length; the first-component read one more
 * byte past them: room for both, as the kernel's scratch has */
#define BUF (8 * KF_SCAN_WORDS + 8)

static int has(const char *p, long len, const char *pat)
{
	long m = (long)strlen(pat);

	for (long i = 0; i + m <= len; i++)
		if (!memcmp(p + i, pat, m))
			return 1;
	return 0;
}

static unsigned int ref(const char *p, long len)
{
	return (has(p, len, "../") ? KF_DOTDOT : 0) |
	       (has(p, len, "/.") || has(p, len, "//") ? KF_ODD : 0);
}

static void check(const char *p, long len)
{
	unsigned int got = kf_scan(p, len), want = ref(p, len);

	if (got != want)
		fail_msg("len %ld: scan %u, byte by byte %u: '%.*s'", len, got, want, (int)len, p);
}

/* every pattern at every position of every length, the rest 'a' or the stale garbage past len */
static void test_every_position(void **state)
{
	static const char *pats[] = { "../", "/.", "//", "..", "./", "/", ".", "a../b", "/./", "/../",
				      "...", "..//", "/.." };
	char b[BUF];

	for (size_t k = 0; k < sizeof(pats) / sizeof(pats[0]); k++) {
		long m = (long)strlen(pats[k]);

		for (long len = 0; len <= 8 * KF_SCAN_WORDS; len++)
			for (long at = 0; at + m <= len + 2 && at < len + 1; at++) {
				memset(b, 'a', sizeof(b));
				/* stale tail: what a previous, longer path left */
				for (long i = len; i < BUF; i++)
					b[i] = "/.././/."[i % 8];
				if (at + m <= BUF)
					memcpy(b + at, pats[k], m);   /* may straddle len: only the part before counts */
				check(b, len);
			}
	}
}

static void test_known(void **state)
{
	char b[BUF];
	struct { const char *s; unsigned int want; } t[] = {
		{ "/tmp/kfb_target", 0 },
		{ "a../b", KF_DOTDOT },
		{ "../x", KF_DOTDOT },
		{ "x/..", KF_ODD },                 /* "/." but no "../" */
		{ "/.", KF_ODD },
		{ "//", KF_ODD },
		{ "/etc//shadow", KF_ODD },
		{ "/home/u/.ssh/id_rsa", KF_ODD },
		{ "/a/b/../../etc/shadow", KF_ODD | KF_DOTDOT },
		{ "./x", 0 },                       /* relative: the caller tests path[0] */
		{ "relative/path", 0 },
		{ "/usr/lib/x86_64-linux-gnu/libc.so.6", 0 },
		{ "/123456/..", KF_ODD },           /* "/." across the first word boundary */
		{ "/123456//", KF_ODD },            /* "//" across it */
		{ "/123456../", KF_DOTDOT },        /* "../" across it, 2 + 1 */
		{ "/12345../", KF_DOTDOT },         /* 1 + 2 */
		{ "", 0 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		long len = (long)strlen(t[i].s);

		memset(b, '/', sizeof(b));   /* stale tail of slashes: must not count */
		memcpy(b, t[i].s, len);
		assert_int_equal(kf_scan(b, len), t[i].want);
		check(b, len);
	}
}

/* the longest paths: the kernel reads 255 bytes with the NUL (len <= 254); the scan covers
 * 256. A pattern in the last bytes, cut by the length, or in the stale byte past it. */
static void test_long(void **state)
{
	char b[BUF];

	for (long len = 248; len <= 256; len++)
		for (long at = len - 4; at <= len; at++) {
			memset(b, 'x', sizeof(b));
			memcpy(b + at, "../", 3);
			check(b, len);
			memset(b, 'x', sizeof(b));
			memcpy(b + at, "//", 2);
			check(b, len);
		}
	memset(b, 'x', sizeof(b));
	assert_int_equal(kf_scan(b, 256), 0);
	b[254] = '.', b[255] = '/';
	assert_int_equal(kf_scan(b, 256), 0);
	b[253] = '.';
	assert_int_equal(kf_scan(b, 256), KF_DOTDOT);
	assert_int_equal(kf_scan(b, 255), 0);   /* the '/' is past the length */
}

/* every byte value next to '/' and '.' (0x2e, 0x2f and their neighbours one bit off, 0xae,
 * 0xaf, 0xff...): the word compare must be exact, no borrow from a neighbouring byte */
static void test_exact_bytes(void **state)
{
	char b[BUF];

	for (int c = 1; c < 256; c++)
		for (int at = 0; at < 16; at++)
			for (int form = 0; form < 4; form++) {
				memset(b, 'a', sizeof(b));
				b[at] = (char)c;
				b[at + 1] = "./"[form & 1];
				b[at + 2] = form & 2 ? '/' : (char)c;
				b[at + 3] = (char)(c ^ 0x80);
				check(b, 20);
			}
}

static void test_random(void **state)
{
	static const unsigned char alpha[] = { '/', '.', 'a', 0x2d, 0x30, 0xae, 0xaf, 0x6f, 0x6e,
					       0xff, 0x01, 0x0f, 0x0e };
	char b[BUF];

	srand(1);
	for (int it = 0; it < 200000; it++) {
		long len = rand() % (8 * KF_SCAN_WORDS + 1);

		for (int i = 0; i < BUF; i++)
			b[i] = (char)alpha[rand() % sizeof(alpha)];
		check(b, len);
	}
}

/* the first component with its '/': the bytes after the leading '/', none past len */
static void test_first(void **state)
{
	char b[BUF];
	uint64_t w;

	memset(b, '/', sizeof(b));
	memcpy(b, "/etc/shadow", 11);
	w = kf_first(b, 11);
	assert_memory_equal(&w, "etc/shad", 8);
	memcpy(b, "/etc", 4);
	w = kf_first(b, 4);   /* "/etc" then stale '/': not "etc/" */
	assert_memory_equal(&w, "etc\0\0\0\0\0", 8);
	w = kf_first(b, 1);
	assert_true(w == 0);
	w = kf_first(b, 0);
	assert_true(w == 0);
	for (long len = 1; len <= 9; len++) {
		char want[8] = { 0 };

		memcpy(b, "/1234567/", 9);
		memcpy(want, b + 1, len - 1 < 8 ? len - 1 : 8);
		w = kf_first(b, len);
		assert_memory_equal(&w, want, 8);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_position),
		cmocka_unit_test(test_known),
		cmocka_unit_test(test_long),
		cmocka_unit_test(test_exact_bytes),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
