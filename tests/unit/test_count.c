// SPDX-License-Identifier: BSD-2-Clause
/* count's option resolution and the layout of the key shared with the kernel. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "core/ebee.h"
#include "core/syscalls.h"
#include "core/filter.h"
#include "count/parse.h"
#include "count/count.h"

static void test_by(void **state)
{
	struct opt_list l = { 2, { "uid", "syscall" } };
	__u32 parts;

	assert_int_equal(count_parse_by(&l, &parts), 0);
	assert_int_equal(parts, COUNT_BY_UID | COUNT_BY_SYSCALL);
	l = (struct opt_list){ 1, { "cgroup" } };
	assert_int_equal(count_parse_by(&l, &parts), 0);
	assert_int_equal(parts, COUNT_BY_CGROUP);
	l = (struct opt_list){ 0 };
	assert_int_equal(count_parse_by(&l, &parts), 0);
	assert_int_equal(parts, COUNT_BY_UID);   /* the default */
	l = (struct opt_list){ 1, { "gid" } };
	assert_int_equal(count_parse_by(&l, &parts), -EINVAL);
	assert_non_null(strstr(ebee_last_error(), "unknown key 'gid'"));
}

static void test_syscall_list(void **state)
{
	struct opt_list l = { 3, { "clone", "sys_clone3", "getppid" } };
	__u8 want[COUNT_MAX_SYSCALLS] = { 0 };
	int n = 0;

	assert_int_equal(count_parse_syscalls(&l, want), 0);
	for (int i = 0; i < COUNT_MAX_SYSCALLS; i++)
		n += want[i];
	assert_int_equal(n, 3);
	assert_int_equal(want[syscall_nr("getppid")], 1);
	l = (struct opt_list){ 1, { "clonn" } };
	assert_int_equal(count_parse_syscalls(&l, want), -EINVAL);
	assert_non_null(strstr(ebee_last_error(), "did you mean 'clone'"));
}

static void test_uid(void **state)
{
	__u32 uid = 1;

	assert_int_equal(filter_parse_uid("root", &uid), 0);
	assert_int_equal(uid, 0);
	assert_int_equal(filter_parse_uid("0", &uid), 0);
	assert_int_equal(filter_parse_uid("no-such-user-xyz", &uid), -EINVAL);
	assert_int_equal(filter_parse_uid("3999999999", &uid), -EINVAL);
	assert_non_null(strstr(ebee_last_error(), "does not exist"));
}

static void test_key_layout(void **state)
{
	/* The kernel hashes the whole key: no hidden padding may exist. */
	assert_int_equal(sizeof(struct count_key), 8 + 4 * 4 + COUNT_COMM_LEN);
	assert_int_equal(offsetof(struct count_key, comm), 24);
	/* the map hashes only the prefix the --by keys need */
	assert_int_equal(count_key_size(COUNT_BY_UID | COUNT_BY_SYSCALL), 8);
	assert_int_equal(offsetof(struct count_key, syscall) + 4, 8);
	assert_int_equal(count_key_size(COUNT_BY_PID), 16);
	assert_int_equal(count_key_size(COUNT_BY_CGROUP), 24);
	assert_int_equal(offsetof(struct count_key, cgroup), 16);
	assert_int_equal(count_key_size(COUNT_BY_COMM | COUNT_BY_PID), 40);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_by),
		cmocka_unit_test(test_syscall_list),
		cmocka_unit_test(test_uid),
		cmocka_unit_test(test_key_layout),
	};
	struct ebee_ctx quiet = { .quiet = true };

	ebee_log_init(&quiet);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
