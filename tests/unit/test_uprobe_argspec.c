// SPDX-License-Identifier: BSD-2-Clause
/* ebee uprobe: the ARGSPEC parser (errors point at the character) and the placement of values
 * in the System V and Go register ABIs. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "uprobe/argspec.h"

static void test_parse_ok(void **state)
{
	struct up_spec s;
	struct up_spec_err e;

	assert_int_equal(up_spec_parse("input:str, n:int, buf:bytes[64], p:ptr", &s, &e), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.a[0].name, "input");
	assert_int_equal(s.a[0].type, UP_T_STR);
	assert_int_equal(s.a[0].size, UP_STR_DEFAULT);
	assert_false(s.a[0].sized);
	assert_int_equal(s.a[1].type, UP_T_INT);
	assert_int_equal(s.a[1].width, 0);           /* the ABI decides */
	assert_int_equal(s.a[2].type, UP_T_BYTES);
	assert_int_equal(s.a[2].size, 64);
	assert_true(s.a[2].sized);
	assert_int_equal(s.a[3].type, UP_T_PTR);

	assert_int_equal(up_spec_parse("  a : uint16 ,_:int,c:str[8]  ", &s, &e), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.a[0].type, UP_T_UINT);
	assert_int_equal(s.a[0].width, 2);
	assert_string_equal(s.a[1].name, "_");
	assert_int_equal(s.a[2].size, 8);

	assert_int_equal(s.ret.type, UP_T_NONE);
	assert_int_equal(up_spec_parse("s:str -> str[16]", &s, &e), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.ret.type, UP_T_STR);
	assert_int_equal(s.ret.size, 16);
	assert_int_equal(up_spec_parse(" ->int", &s, &e), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.ret.type, UP_T_INT);

	assert_int_equal(up_spec_parse("", &s, &e), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(up_spec_parse("_:int,_:int", &s, &e), 0);   /* skips may repeat */
}

static void expect_err(const char *spec, int pos, const char *msg)
{
	struct up_spec s;
	struct up_spec_err e = { 0 };

	assert_int_equal(up_spec_parse(spec, &s, &e), -EINVAL);
	if (e.pos != pos || !strstr(e.msg, msg))
		fail_msg("'%s': got pos %d '%s', want pos %d '%s'", spec, e.pos, e.msg, pos, msg);
}

static void test_parse_errors(void **state)
{
	expect_err("input:strr", 6, "unknown type 'strr'");
	expect_err("input:str n:int", 10, "expected ',', '-> TYPE' or the end");
	expect_err("a:int -> strr", 9, "unknown type 'strr'");
	expect_err("a:int -> int, b:int", 12, "after the return type");
	expect_err("input str", 6, "expected ':'");
	expect_err("input:", 6, "expected a type");
	expect_err("1x:int", 0, "expected an argument name");
	expect_err("a:int,", 6, "expected an argument name");
	expect_err("b:bytes[0]", 8, "out of range");
	expect_err("b:bytes[300]", 8, "out of range");
	expect_err("b:bytes[12", 10, "expected ']'");
	expect_err("b:bytes[x]", 8, "expected a size");
	expect_err("n:int[4]", 5, "only str and bytes");
	expect_err("a:int,a:str", 6, "named twice");
	expect_err("a:int,b:int,c:int,d:int,e:int,f:int,g:int", 36, "too many arguments");
}

static void test_ret_type(void **state)
{
	struct up_spec_arg a;
	struct up_spec_err e;
	char buf[32];

	assert_int_equal(up_type_parse("str[16]", &a, &e), 0);
	assert_int_equal(a.type, UP_T_STR);
	assert_int_equal(a.size, 16);
	assert_string_equal(up_type_name(&a, buf, sizeof(buf)), "str[16]");
	assert_int_equal(up_type_parse("int32", &a, &e), 0);
	assert_string_equal(up_type_name(&a, buf, sizeof(buf)), "int32");
	assert_int_equal(up_type_parse("int x", &a, &e), -EINVAL);
	assert_int_equal(e.pos, 4);
}

static void test_layout_go(void **state)
{
	struct up_spec s;
	struct up_spec_arg ret;
	struct up_spec_err e;
	struct up_layout l;
	char err[160];

	/* string = (ptr, len), int = 1 register, []byte = (ptr, len, cap) */
	assert_int_equal(up_spec_parse("s:str, n:int, b:bytes[32], p:ptr", &s, &e), 0);
	assert_int_equal(up_type_parse("str", &ret, &e), 0);
	assert_int_equal(up_layout_build(&s, &ret, UP_ABI_GO, &l, err, sizeof(err)), 0);
	assert_int_equal(l.abi, UP_ABI_GO);
	assert_int_equal(l.a[0].reg, UP_GO_RAX);
	assert_int_equal(l.a[0].reg2, UP_GO_RBX);
	assert_int_equal(l.a[1].reg, UP_GO_RCX);
	assert_int_equal(l.a[1].width, 8);            /* Go int is 64-bit */
	assert_int_equal(l.a[2].reg, UP_GO_RDI);
	assert_int_equal(l.a[2].reg2, UP_GO_RSI);
	assert_int_equal(l.a[3].reg, UP_GO_R9);       /* after the slice's cap in R8 */
	assert_int_equal(l.a[3].reg2, UP_REG_NONE);
	/* results start again at RAX; each captured value has its own data slot */
	assert_int_equal(l.a[UP_RET].reg, UP_GO_RAX);
	assert_int_equal(l.a[UP_RET].reg2, UP_GO_RBX);
	assert_int_equal(l.a[0].off, 0);
	assert_int_equal(l.a[2].off, UP_STR_DEFAULT);
	assert_int_equal(l.a[UP_RET].off, UP_STR_DEFAULT + 32);
	assert_int_equal(l.a[4].type, UP_T_NONE);
	assert_int_equal(l.data_len, UP_STR_DEFAULT + 32 + UP_STR_DEFAULT);

	assert_int_equal(up_spec_parse("a:str,b:str,c:str,d:str,e:str", &s, &e), 0);
	assert_int_equal(up_layout_build(&s, NULL, UP_ABI_GO, &l, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "argument 'e' is passed on the stack"));
	assert_int_equal(up_spec_parse("a:str[256],b:str[256],c:str[8]", &s, &e), 0);
	assert_int_equal(up_layout_build(&s, NULL, UP_ABI_GO, &l, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "too many bytes"));
}

static void test_layout_c(void **state)
{
	struct up_spec s;
	struct up_spec_err e;
	struct up_layout l;
	char err[160];

	assert_int_equal(up_spec_parse("s:str, n:int, b:bytes[16], x:long, y:int8, z:ptr", &s, &e), 0);
	assert_int_equal(up_layout_build(&s, NULL, UP_ABI_C, &l, err, sizeof(err)), 0);
	for (int i = 0; i < 6; i++)
		assert_int_equal(l.a[i].reg, i);      /* PT_REGS_PARM1..6: one register each */
	assert_int_equal(l.a[1].width, 4);            /* C int is 32-bit */
	assert_int_equal(l.a[3].width, 8);
	assert_int_equal(l.a[4].width, 1);
	assert_int_equal(l.a[0].reg2, UP_REG_NONE);
	assert_int_equal(l.a[UP_RET].type, UP_T_NONE);

	assert_int_equal(up_spec_parse("b:bytes", &s, &e), 0);
	assert_int_equal(up_layout_build(&s, NULL, UP_ABI_C, &l, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "needs a size"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_ret_type),
		cmocka_unit_test(test_layout_go),
		cmocka_unit_test(test_layout_c),
	};

	return cmocka_run_group_tests_name("uprobe_argspec", tests, NULL, NULL);
}
