// SPDX-License-Identifier: BSD-2-Clause
/* Enforcement rules: what the kernel can decide of a condition (the per-dimension sets, `or` of
 * one field, negation, macros and lists from a rule file), what is refused and why, the
 * mechanism chosen per kind and action for the capabilities a host has, and file errors with
 * their positions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/ebee.h"
#include "enforce/enforcer.h"
#include "guard/fields.h"
#include "guard/rules.h"

static char path[64];

static struct enf_file *load_text(const char *text, struct guard_ruleset *rs)
{
	strcpy(path, "/tmp/ebee-enf-unit-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	struct opt_list l = { 1, { path } };
	struct enf_file *f = enf_file_load(&l, rs);
	unlink(path);
	return f;
}

static struct enf_rule *one(const char *cond, const char *action)
{
	static char text[2048];
	static struct enf_file *f;
	enf_file_free(f);
	snprintf(text, sizeof(text), "- enforce: r\n  condition: %s\n  action: %s\n", cond, action);
	f = load_text(text, NULL);
	assert_non_null(f);
	assert_int_equal(f->n, 1);
	return &f->rules[0];
}

static void test_dimensions(void **s)
{
	struct enf_rule *r = one("evt.type in (execve, connect) and proc.name in (nc, a_very_long_program_name) "
				 "and not user.uid = 0 and fd.rport in (22, 23) and fd.rip in (10.0.0.0/8, \"::1\")", "kill");
	assert_true(r->accepted);
	assert_int_equal(r->kinds, 1u << ENF_EXEC | 1u << ENF_CONNECT);
	assert_int_equal(r->dim[DIM_COMM].n, 2);
	assert_string_equal(r->dim[DIM_COMM].comm[1], "a_very_long_pro");   /* 15: the kernel's comm */
	assert_false(r->dim[DIM_COMM].neg);
	assert_true(r->dim[DIM_UID].set && r->dim[DIM_UID].neg);
	assert_int_equal(r->dim[DIM_UID].uid[0], 0);
	assert_int_equal(r->dim[DIM_PORT].n, 2);
	assert_int_equal(r->dim[DIM_PORT].port[1], 23);
	assert_int_equal(r->dim[DIM_ADDR].n, 2);
	assert_int_equal(r->dim[DIM_ADDR].cidr[0].family, 4);
	assert_int_equal(r->dim[DIM_ADDR].cidr[0].bits, 8);
	assert_int_equal(r->dim[DIM_ADDR].cidr[1].family, 6);
	assert_int_equal(r->dim[DIM_ADDR].cidr[1].bits, 128);
	assert_false(r->dim[DIM_PATH].set);

	r = one("evt.type = open and fd.name startswith /etc/ and proc.name != cat", "audit");
	assert_true(r->accepted);
	assert_true(r->dim[DIM_PATH].path[0].prefix);
	assert_true(r->dim[DIM_COMM].neg);
	r = one("evt.type = execve and fd.name in (/bin/a, /bin/b)", "kill");
	assert_false(r->dim[DIM_PATH].path[1].prefix);
}

static void test_or_of_one_field(void **s)
{
	struct enf_rule *r = one("evt.type = connect and (fd.rport = 1 or fd.rport = 2 or fd.rport in (3, 4))", "deny");
	assert_true(r->accepted);
	assert_int_equal(r->dim[DIM_PORT].n, 4);
	r = one("(evt.type = connect or evt.type = bind) and fd.rport = 1", "deny");
	assert_true(r->accepted);
	assert_int_equal(r->kinds, 1u << ENF_CONNECT | 1u << ENF_BIND);
	r = one("evt.type in (connect, bind) and (evt.type = connect or evt.type = execve) and fd.rport = 1", "deny");
	assert_int_equal(r->kinds, 1u << ENF_CONNECT);
	/* not (a or b) = not a and not b */
	r = one("evt.type = execve and not (proc.name = a or fd.name = /x)", "kill");
	assert_true(r->accepted);
	assert_true(r->dim[DIM_COMM].neg && r->dim[DIM_PATH].neg);
}

static void test_refused(void **s)
{
	static const struct { const char *cond, *why; } cases[] = {
		{ "proc.name = nc", "no evt.type check" },
		{ "evt.type = read and proc.name = a", "event type 'read' cannot be enforced" },
		{ "evt.type != execve and proc.name = a", "name the actions with = or in" },
		{ "evt.type = execve and proc.cmdline contains x", "'proc.cmdline' needs user-space state" },
		{ "evt.type = execve and proc.name contains x", "cannot be decided in the kernel" },
		{ "evt.type = execve and (proc.name = a or fd.name = /b)", "'or' across different fields" },
		{ "evt.type = execve and not (proc.name = a and fd.name = /b)", "'not (... and ...)'" },
		{ "evt.type = execve and proc.name = a and proc.name = b", "checked twice" },
		{ "evt.type = execve and fd.name = relative", "is not absolute" },
		{ "evt.type = execve and proc.aname[2] = a", "needs user-space state" },
		{ "evt.type = connect and fd.rport = 0", "not a port number" },
		{ "evt.type = connect and proc.cgroup = /no-such-cgroup-ebee", "not found" },
		{ "evt.type = execve and toupper(proc.name) = A", "transformers" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct enf_rule *r = one(cases[i].cond, "kill");
		if (r->accepted || !strstr(r->reason, cases[i].why))
			fail_msg("'%s': accepted=%d reason '%s', want '%s'", cases[i].cond, r->accepted,
				 r->reason, cases[i].why);
	}
}

static void test_macros_and_lists(void **s)
{
	static const char rules[] =
		"- list: shells\n  items: [sh, bash]\n"
		"- list: more_shells\n  items: [shells, zsh]\n"
		"- macro: spawned\n  condition: evt.type in (execve, execveat)\n";
	char err[512] = "";
	struct guard_ruleset *rs = guard_rules_load_mem("r.yaml", rules, strlen(rules), &guard_fields, err, sizeof(err));
	assert_non_null(rs);
	struct enf_file *f = load_text("- enforce: no shells\n  condition: spawned and proc.name in (more_shells)\n  action: kill\n", rs);
	assert_non_null(f);
	assert_true(f->rules[0].accepted);
	assert_int_equal(f->rules[0].kinds, 1u << ENF_EXEC);
	assert_int_equal(f->rules[0].dim[DIM_COMM].n, 3);
	assert_string_equal(f->rules[0].dim[DIM_COMM].comm[2], "zsh");
	enf_file_free(f);
	guard_rules_free(rs);
}

static void test_mechanisms(void **s)
{
	struct enf_caps none = { .have = { [MECH_AUDIT] = true } };
	struct enf_caps here = { .have = { [MECH_CGROUP] = true, [MECH_SIGNAL] = true, [MECH_AUDIT] = true } };
	struct enf_caps lsm = { .have = { true, true, true, true } };

	assert_int_equal(enf_mech_for(&here, ENF_EXEC, ENF_DENY), -1);
	assert_int_equal(enf_mech_for(&lsm, ENF_EXEC, ENF_DENY), MECH_LSM);
	assert_int_equal(enf_mech_for(&here, ENF_EXEC, ENF_KILL), MECH_SIGNAL);
	assert_int_equal(enf_mech_for(&here, ENF_CONNECT, ENF_DENY), MECH_CGROUP);
	assert_int_equal(enf_mech_for(&lsm, ENF_CONNECT, ENF_DENY), MECH_LSM);
	assert_int_equal(enf_mech_for(&lsm, ENF_SENDMSG, ENF_DENY), MECH_CGROUP);
	assert_int_equal(enf_mech_for(&here, ENF_SENDMSG, ENF_KILL), -1);
	assert_int_equal(enf_mech_for(&lsm, ENF_OPEN, ENF_DENY), MECH_LSM);    /* file_open */
	assert_int_equal(enf_mech_for(&here, ENF_OPEN, ENF_DENY), -1);
	assert_int_equal(enf_mech_for(&here, ENF_OPEN, ENF_AUDIT), MECH_SIGNAL);
	assert_int_equal(enf_mech_for(&lsm, ENF_MODULE, ENF_DENY), MECH_LSM);  /* kernel_read_file */
	assert_int_equal(enf_mech_for(&here, ENF_MODULE, ENF_KILL), MECH_SIGNAL);
	struct enf_caps nomod = here;
	snprintf(nomod.absent[ENF_MODULE], sizeof(nomod.absent[0]), "no modules");
	assert_int_equal(enf_mech_for(&nomod, ENF_MODULE, ENF_KILL), -1);
	assert_int_equal(enf_mech_for(&none, ENF_EXEC, ENF_AUDIT), -1);

	struct enf_file *f = load_text(
		"- enforce: a\n  condition: evt.type = execve and fd.name = /x\n  action: deny\n"
		"- enforce: b\n  condition: evt.type in (connect, execve) and fd.rport = 9 and proc.name = x\n  action: kill\n"
		"- enforce: c\n  condition: evt.type = execve and fd.name = /y\n  action: kill\n  enabled: false\n", NULL);
	assert_non_null(f);
	assert_int_equal(enf_file_decide(f, &here), 1);
	assert_false(f->rules[0].accepted);
	assert_non_null(strstr(f->rules[0].reason, "deny of exec needs BPF LSM"));
	assert_int_equal(f->rules[1].mech[ENF_CONNECT], MECH_SIGNAL);
	assert_int_equal(f->rules[1].mech[ENF_EXEC], MECH_SIGNAL);
	enf_file_free(f);

	/* the access of an open is a required bit; a module path needs the LSM hook */
	static const char *openmod =
		"- enforce: w\n  condition: evt.type = openat and evt.is_open_write = true and fd.name startswith /etc/\n  action: kill\n"
		"- enforce: m\n  condition: evt.type = finit_module and fd.name startswith /lib/\n  action: kill\n";
	f = load_text(openmod, NULL);
	assert_non_null(f);
	assert_int_equal(enf_file_decide(f, &here), 1);
	assert_true(f->rules[0].accepted);
	assert_int_equal(f->rules[0].open_mode, ENF_OPEN_WRITE);
	assert_int_equal(f->rules[0].mech[ENF_OPEN], MECH_SIGNAL);
	assert_false(f->rules[1].accepted);
	assert_non_null(strstr(f->rules[1].reason, "fd.name of a module load needs BPF LSM"));
	enf_file_free(f);
	f = load_text(openmod, NULL);   /* a refusal sticks to its rule: decide afresh */
	assert_non_null(f);
	assert_int_equal(enf_file_decide(f, &lsm), 0);
	assert_int_equal(f->rules[1].mech[ENF_MODULE], MECH_LSM);
	enf_file_free(f);
}

static void expect_error(const char *text, const char *where, const char *msg)
{
	struct enf_file *f = load_text(text, NULL);
	assert_null(f);
	const char *e = ebee_last_error();
	char want[128];
	snprintf(want, sizeof(want), "%s%s", path, where);
	if (!e || !strstr(e, want) || !strstr(e, msg))
		fail_msg("got '%s', want '%s' and '%s'", e ? e : "(none)", want, msg);
}

static void test_file_errors(void **s)
{
	expect_error("- enforce: x\n  condition: evt.type = execve and (\n  action: kill\n", ":2:", "enforcement rule 'x'");
	/* inside a folded condition: the line of the text, not of the key */
	expect_error("- enforce: x\n  condition: >\n    evt.type = execve\n    and proc.nme = a\n  action: kill\n",
		     ":4:9:", "proc.nme");
	expect_error("- enforce: x\n  condition: evt.type = execve\n  action: stop\n", ":3:11:", "unknown action 'stop'");
	expect_error("- enforce: x\n  condition: evt.type = execve\n  action: kill\n  when: now\n", ":4:3:", "unknown key 'when'");
	expect_error("- enforce: x\n  condition: evt.type = execve\n", ":1:3:", "has no action");
	expect_error("- enforce: x\n  condition: evt.type = execve\n  action: kill\n"
		     "- enforce: x\n  condition: evt.type = execve\n  action: kill\n", ":4:3:", "defined twice");
	expect_error("enforce: x\n", ":1:1:", "a list of '- enforce:' items");
	expect_error("- enforce: x\n  enabled: maybe\n", ":2:12:", "true or false");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dimensions),
		cmocka_unit_test(test_or_of_one_field),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_macros_and_lists),
		cmocka_unit_test(test_mechanisms),
		cmocka_unit_test(test_file_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
