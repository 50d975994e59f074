// SPDX-License-Identifier: BSD-2-Clause
/* ebee guard's condition language and rules loader: Falco's precedence, every operator and
 * transformer, <NA> semantics, ancestry fields, lists in lists, macros, exceptions,
 * append/override/enabled, what the kernel can decide, and errors with their positions. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "guard/cond.h"
#include "guard/fields.h"
#include "guard/gevent.h"
#include "guard/rules.h"

/* ---- a process tree and an event ------------------------------------------------------- */

static struct proc procs[3];

static const struct proc *fake_ancestor(void *arg, uint32_t pid, int n)
{
	return n >= 0 && n < 3 ? &procs[n] : NULL;
}

static const struct guard_procs fake = { fake_ancestor, NULL, NULL };
static struct ebee_event_hdr hdr;
static struct gevent ev;

static void set_proc(struct proc *p, uint32_t pid, uint32_t ppid, const char *comm,
		     const char *exe, const char *args, size_t args_len)
{
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->ppid = ppid;
	p->loginuid = 1000;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	p->exe = exe;       /* the table's texts are pointers (literals here) */
	p->cmdline = args;
	p->cmdline_len = args_len;
	snprintf(p->container_id, sizeof(p->container_id), "host");
	p->cwd = "/home/u";
	p->cgroup = "";
	snprintf(p->tty, sizeof(p->tty), "pts/3");
}

static int setup(void **state)
{
	set_proc(&procs[0], 100, 50, "bash", "/usr/bin/bash", "-bash\0-c\0echo hi\0", 17);
	set_proc(&procs[1], 50, 1, "sshd", "/usr/sbin/sshd", "sshd: u\0", 8);
	set_proc(&procs[2], 1, 0, "systemd", "/usr/lib/systemd/systemd", "/sbin/init\0", 11);
	memset(&hdr, 0, sizeof(hdr));
	hdr.pid = 100;
	hdr.tid = 100;
	hdr.uid = 0;
	hdr.type = EV_OPEN;
	snprintf(hdr.comm, sizeof(hdr.comm), "bash");
	memset(&ev, 0, sizeof(ev));
	ev.hdr = &hdr;
	ev.procs = &fake;
	ev.sc = guard_evtype_index("openat");
	ev.num = 7;
	ev.res = 3;
	ev.flags = O_WRONLY | O_CREAT | O_TRUNC;
	ev.path = "/var/log/Auth.log";
	ev.path_raw = "../log/Auth.log";
	ev.typechar = 'f';
	return 0;
}

/* Compiles text against guard's fields (no macros or lists) and evaluates it on ev. */
static int eval(const char *text)
{
	struct cond_err e;
	struct cond_ast *a = cond_parse(text, &e);
	if (!a) {
		print_error("parse '%s': %d:%d %s\n", text, e.line, e.col, e.msg);
		return -1;
	}
	struct cond *c = cond_compile(a, NULL, &guard_fields, &e);
	cond_ast_free(a);
	if (!c) {
		print_error("compile '%s': %s\n", text, e.msg);
		return -1;
	}
	ev.extra_done = false;
	int r = cond_eval(c, &ev);
	cond_free(c);
	return r;
}

/* The error text of a condition that must not compile. */
static const char *bad(const char *text)
{
	static struct cond_err e;
	struct cond_ast *a = cond_parse(text, &e);
	if (!a)
		return e.msg;
	struct cond *c = cond_compile(a, NULL, &guard_fields, &e);
	cond_ast_free(a);
	if (c) {
		cond_free(c);
		return NULL;
	}
	return e.msg;
}

static void ast_is(const char *text, const char *want)
{
	struct cond_err e;
	struct cond_ast *a = cond_parse(text, &e);
	assert_non_null(a);
	char buf[512];
	cond_ast_str(a, buf, sizeof(buf));
	assert_string_equal(buf, want);
	cond_ast_free(a);
}

/* ---- tests ----------------------------------------------------------------------------- */

static void test_precedence(void **state)
{
	ast_is("a.b = 1 or c.d = 2 and e.f = 3", "(a.b = 1 or (c.d = 2 and e.f = 3))");
	ast_is("a.b = 1 and c.d = 2 or e.f = 3", "((a.b = 1 and c.d = 2) or e.f = 3)");
	ast_is("not a.b = 1 and c.d = 2", "(not a.b = 1 and c.d = 2)");
	ast_is("not (a.b = 1 and c.d = 2)", "not (a.b = 1 and c.d = 2)");
	ast_is("not not a.b = 1", "a.b = 1");
	ast_is("not(m1)or(m2)", "(not m1 or m2)");
	ast_is("a.b in (x, 'y z', \"w\") and m", "(a.b in (x, y z, w) and m)");
	ast_is("a.b exists and not c.d exists", "(a.b exists and not c.d exists)");
	ast_is("tolower(basename(a.b)) = x", "tolower(basename(a.b)) = x");
	ast_is("a.b = val(c.d)", "a.b = val(c.d)");
	ast_is("proc.aname[2] = runc:[2:INIT]", "proc.aname[2] = runc:[2:INIT]");
	ast_is("evt.arg.flags contains O_TRUNC", "evt.arg.flags contains O_TRUNC");
	/* precedence decides the result: true or (false and false) */
	assert_int_equal(eval("proc.name = bash or proc.name = x and proc.name = y"), 1);
	assert_int_equal(eval("(proc.name = bash or proc.name = x) and proc.name = y"), 0);
	assert_int_equal(eval("not proc.name = x and proc.name = bash"), 1);
}

static void test_string_ops(void **state)
{
	assert_int_equal(eval("proc.name = bash"), 1);
	assert_int_equal(eval("proc.name == bash"), 1);
	assert_int_equal(eval("proc.name = bas"), 0);
	assert_int_equal(eval("proc.name != bash"), 0);
	assert_int_equal(eval("proc.name != sh"), 1);
	assert_int_equal(eval("fd.name contains /log/"), 1);
	assert_int_equal(eval("fd.name contains /LOG/"), 0);
	assert_int_equal(eval("fd.name icontains /LOG/AUTH"), 1);
	assert_int_equal(eval("fd.name bcontains 2f6c6f67"), 1);     /* "/log" */
	assert_int_equal(eval("fd.name bcontains 2f6c6f68"), 0);
	assert_int_equal(eval("fd.name startswith /var/"), 1);
	assert_int_equal(eval("fd.name startswith /etc/"), 0);
	assert_int_equal(eval("fd.name bstartswith 2f766172"), 1);   /* "/var" */
	assert_int_equal(eval("fd.name endswith .log"), 1);
	assert_int_equal(eval("fd.name endswith .txt"), 0);
	assert_int_equal(eval("fd.name glob '/var/*/Auth.*'"), 1);
	assert_int_equal(eval("fd.name glob '/var/*/auth.*'"), 0);
	assert_int_equal(eval("fd.name iglob '/VAR/*/auth.*'"), 1);
	assert_int_equal(eval("fd.name pmatch (/var/log, /etc)"), 1);
	assert_int_equal(eval("fd.name pmatch (/var/lo)"), 0);       /* a path component, not a prefix */
	assert_int_equal(eval("fd.name pmatch (/)"), 1);
	assert_int_equal(eval("proc.name in (sh, bash, zsh)"), 1);
	assert_int_equal(eval("proc.name in (sh, zsh)"), 0);
	assert_int_equal(eval("proc.name in ()"), 0);
	assert_int_equal(eval("proc.name in (a1,a2,a3,a4,a5,a6,a7,a8,a9,bash)"), 1);   /* sorted set */
	assert_int_equal(eval("proc.name in (a1,a2,a3,a4,a5,a6,a7,a8,a9,bas)"), 0);
	assert_int_equal(eval("proc.name intersects (bash, x)"), 1);
	assert_int_equal(eval("proc.name regex 'ba.h'"), 1);
	assert_int_equal(eval("proc.name regex 'ba'"), 0);           /* full match, as Falco */
	assert_int_equal(eval("proc.name regex '[a-z]+'"), 1);
	assert_int_equal(eval("proc.name exists"), 1);
	assert_int_equal(eval("container.image.repository exists"), 0);
}

static void test_number_bool_ip_ops(void **state)
{
	assert_int_equal(eval("proc.pid = 100"), 1);
	assert_int_equal(eval("proc.pid != 100"), 0);
	assert_int_equal(eval("proc.pid < 101 and proc.pid <= 100 and proc.pid > 99 and proc.pid >= 100"), 1);
	assert_int_equal(eval("proc.pid < 100"), 0);
	assert_int_equal(eval("proc.pid in (1, 0x64)"), 1);
	assert_int_equal(eval("proc.pid intersects (5, 6)"), 0);
	assert_int_equal(eval("fd.num >= 0 and evt.rawres = 3"), 1);
	assert_int_equal(eval("evt.is_open_write = true and evt.is_open_read = false"), 1);
	assert_int_equal(eval("evt.is_open_write != true"), 0);
	assert_int_equal(eval("evt.failed = false"), 1);
	/* a connect to 10.1.2.3:443 */
	ev.sc = guard_evtype_index("connect");
	ev.path = NULL;
	ev.family = 4;
	ev.typechar = '4';
	ev.l4proto = 6;
	inet_pton(AF_INET, "10.1.2.3", ev.rip);
	inet_pton(AF_INET, "192.168.0.9", ev.lip);
	ev.rport = 443;
	ev.lport = 40000;
	ev.res = -115;
	assert_int_equal(eval("fd.sip = 10.1.2.3 and fd.sport = 443 and fd.cport = 40000"), 1);
	assert_int_equal(eval("fd.snet in ('10.0.0.0/8', '172.16.0.0/12')"), 1);
	assert_int_equal(eval("fd.snet != '10.0.0.0/8'"), 0);
	assert_int_equal(eval("fd.cip = '192.168.0.0/16'"), 1);
	assert_int_equal(eval("fd.net = '127.0.0.0/8'"), 0);
	assert_int_equal(eval("fd.ip = 192.168.0.9"), 1);            /* either end */
	assert_int_equal(eval("fd.l4proto = tcp and fd.typechar = 4 and fd.sockfamily = ip"), 1);
	assert_int_equal(eval("evt.res = EINPROGRESS and evt.rawres < 0"), 1);
	assert_int_equal(eval("fd.name = '192.168.0.9:40000->10.1.2.3:443'"), 1);
}

static void test_transformers(void **state)
{
	snprintf(procs[0].comm, sizeof(procs[0].comm), "BaSh");
	assert_int_equal(eval("tolower(proc.name) = bash"), 1);
	assert_int_equal(eval("toupper(proc.name) = BASH"), 1);
	assert_int_equal(eval("proc.name = bash"), 0);
	assert_int_equal(eval("basename(proc.exepath) = bash"), 1);
	assert_int_equal(eval("toupper(basename(proc.exepath)) = BASH"), 1);
	assert_int_equal(eval("len(proc.name) = 4"), 1);
	assert_int_equal(eval("len(fd.name) > 100"), 0);
	snprintf(procs[0].comm, sizeof(procs[0].comm), "YmFzaA==");  /* "bash" */
	assert_int_equal(eval("b64(proc.name) = bash"), 1);
	snprintf(procs[0].comm, sizeof(procs[0].comm), "sshd");
	assert_int_equal(eval("proc.name = val(proc.pname)"), 1);
	assert_int_equal(eval("proc.exepath = val(proc.pexepath)"), 0);
	assert_int_equal(eval("tolower(proc.name) = tolower(proc.pname)"), 1);
	assert_non_null(bad("len(proc.pid) = 1"));
	assert_non_null(bad("proc.pid = val(proc.name)"));
}

static void test_na_and_fields(void **state)
{
	/* <NA> makes a comparison false, whatever the operator; `not` then holds */
	assert_int_equal(eval("container.image.repository = x"), 0);
	assert_int_equal(eval("container.image.repository != x"), 0);
	assert_int_equal(eval("not container.image.repository in (x, y)"), 1);
	assert_int_equal(eval("k8s.ns.name = kube-system"), 0);
	/* ancestry: no argument = any ancestor but not the process itself */
	assert_int_equal(eval("proc.aname = sshd"), 1);
	assert_int_equal(eval("proc.aname = systemd"), 1);
	assert_int_equal(eval("proc.aname = bash"), 0);
	assert_int_equal(eval("proc.aname[0] = bash"), 1);
	assert_int_equal(eval("proc.aname[1] = sshd and proc.aname[2] = systemd"), 1);
	assert_int_equal(eval("proc.aname[3] exists"), 0);
	assert_int_equal(eval("proc.apid[2] = 1 and proc.pname = sshd and proc.ppid = 50"), 1);
	assert_int_equal(eval("proc.aname in (foo, systemd)"), 1);
	/* proc.exe is argv[0], proc.exepath the file, proc.cmdline the comm and args */
	assert_int_equal(eval("proc.exe = -bash and proc.exepath = /usr/bin/bash"), 1);
	assert_int_equal(eval("proc.args = '-c echo hi' and proc.cmdline = 'bash -c echo hi'"), 1);
	assert_int_equal(eval("proc.pcmdline = 'sshd sshd: u' or proc.pcmdline startswith sshd"), 1);
	assert_int_equal(eval("proc.tty != 0 and proc.tty = 34819"), 1);   /* pts/3: 136<<8|3 */
	assert_int_equal(eval("proc.cwd = /home/u/"), 1);
	assert_int_equal(eval("user.uid = 0 and user.name = root and user.loginuid = 1000"), 1);
	assert_int_equal(eval("container.id = host and container.name = host"), 1);
	assert_int_equal(eval("evt.num != 0 and evt.dir = < and evt.dir = >"), 1);
	assert_int_equal(eval("evt.type = openat and evt.type in (open, openat, openat2)"), 1);
	assert_int_equal(eval("evt.arg.flags contains O_TRUNC and evt.arg.flags startswith O_WRONLY"), 1);
	assert_int_equal(eval("evt.arg[2] = 'O_WRONLY|O_CREAT|O_TRUNC'"), 1);
	assert_int_equal(eval("evt.rawarg.flags > 0"), 1);
	assert_int_equal(eval("fd.directory = /var/log and fd.filename = Auth.log"), 1);
	assert_int_equal(eval("fd.nameraw = ../log/Auth.log and fd.typechar = f and fd.type = file"), 1);
	assert_int_equal(eval("proc.is_exe_from_memfd = false"), 1);
	assert_int_equal(eval("proc.is_exe_upper_layer = true"), 0);
	/* socket(AF_PACKET) and ptrace(PTRACE_ATTACH) by Falco's argument names */
	ev.sc = guard_evtype_index("socket");
	ev.arg[0] = 17;
	assert_int_equal(eval("evt.arg.domain = AF_PACKET and evt.arg[0] contains AF_PACKET"), 1);
	ev.sc = guard_evtype_index("ptrace");
	ev.arg[0] = 16;
	ev.arg[1] = 4242;
	assert_int_equal(eval("evt.arg.request contains PTRACE_ATTACH and evt.arg.pid = 4242"), 1);
	ev.sc = guard_evtype_index("symlinkat");
	ev.path = "/tmp/x";
	ev.path2 = "/etc/shadow";
	assert_int_equal(eval("evt.arg.target = /etc/shadow and evt.arg.linkpath = /tmp/x"), 1);
}

static void test_errors(void **state)
{
	struct cond_err e;
	assert_null(cond_parse("proc.name = bash and", &e));
	assert_int_equal(e.line, 1);
	assert_int_equal(e.col, 21);
	assert_null(cond_parse("proc.name = bash and\n  (fd.name = x", &e));
	assert_int_equal(e.line, 2);
	assert_null(cond_parse("proc.name bash", &e));
	assert_non_null(strstr(e.msg, "operator"));
	assert_null(cond_parse("proc.name = 'bash", &e));
	assert_null(cond_parse("", &e));
	assert_null(cond_parse("proc.pid > abc", &e));
	assert_null(cond_parse("proc.name = x)", &e));
	assert_null(cond_parse("proc.aname[2 = x", &e));
	/* 200 nested parentheses: refused, not a stack overflow */
	char deep[1024] = "";
	for (int i = 0; i < 200; i++)
		strcat(deep, "(");
	assert_null(cond_parse(deep, &e));
	assert_non_null(strstr(bad("proc.nam = x"), "unknown field 'proc.nam'"));
	assert_non_null(strstr(bad("proc.pid contains 1"), "does not apply"));
	assert_non_null(strstr(bad("proc.pid = x"), "not a number"));
	assert_non_null(strstr(bad("evt.is_open_read = maybe"), "true or false"));
	assert_non_null(strstr(bad("fd.sip = 300.1.1.1"), "not an address"));
	assert_non_null(strstr(bad("proc.name regex '('"), "does not compile"));
	assert_non_null(strstr(bad("fd.name bcontains 2g"), "hex"));
	assert_non_null(strstr(bad("proc.aname[x] = a"), "number"));
	assert_non_null(strstr(bad("proc.name[1] = a"), "no argument"));
	assert_non_null(strstr(bad("my_macro"), "undefined macro 'my_macro'"));
}

/* ---- rule files ------------------------------------------------------------------------ */

static struct guard_ruleset *load(const char *yaml, char *err, size_t n)
{
	return guard_rules_load_mem("t.yaml", yaml, strlen(yaml), &guard_fields, err, n);
}

static const struct guard_rule *rule(struct guard_ruleset *rs, const char *name)
{
	for (int i = 0; i < rs->nrules; i++)
		if (!strcmp(rs->rules[i]->name, name))
			return rs->rules[i];
	fail_msg("no rule '%s'", name);
	return NULL;
}

static int fires(const struct guard_rule *r)
{
	ev.extra_done = false;
	return r->cond && cond_eval(r->cond, &ev);
}

static const char base_yaml[] =
	"- required_engine_version: 0.26.0\n"
	"- required_plugin_versions:\n"
	"    - name: k8saudit\n"
	"      version: 0.1.0\n"
	"- list: shells\n"
	"  items: [sh, zsh]\n"
	"- list: all_shells\n"
	"  items: [shells, bash, '\"dash\"']\n"
	"- macro: is_open\n"
	"  condition: evt.type in (open, openat)\n"
	"- macro: shell_procs\n"
	"  condition: proc.name in (all_shells)\n"
	"- rule: Shell opens\n"
	"  desc: d\n"
	"  condition: is_open and shell_procs\n"
	"  output: shell %proc.name opened %fd.name (parent %proc.aname[1], image=%container.image.repository)\n"
	"  priority: WARNING\n"
	"  tags: [a, b]\n"
	"- rule: Log writes\n"
	"  desc: d\n"
	"  condition: is_open and fd.name startswith /var/log\n"
	"  output: o\n"
	"  priority: NOTICE\n"
	"  exceptions:\n"
	"    - name: writer_and_file\n"
	"      fields: [proc.name, fd.name]\n"
	"      comps: [=, startswith]\n"
	"      values:\n"
	"        - [rsyslogd, /var/log/syslog]\n"
	"        - [bash, /var/log/other]\n"
	"    - name: writers\n"
	"      fields: proc.pname\n"
	"      values: [cron, anacron]\n"
	"- rule: Audit\n"
	"  desc: d\n"
	"  condition: ka.verb = create\n"
	"  output: o\n"
	"  priority: INFO\n"
	"  source: k8s_audit\n"
	"- rule: Images\n"
	"  desc: d\n"
	"  condition: is_open and not container.image.repository in (x)\n"
	"  output: o\n"
	"  priority: INFO\n"
	"- rule: Reads\n"
	"  desc: d\n"
	"  condition: evt.type in (read, recvfrom)\n"
	"  output: o\n"
	"  priority: INFO\n"
	"- rule: Off\n"
	"  desc: d\n"
	"  condition: is_open\n"
	"  output: o\n"
	"  priority: INFO\n"
	"  enabled: false\n";

static void test_rules_file(void **state)
{
	char err[512] = "";
	struct guard_ruleset *rs = load(base_yaml, err, sizeof(err));
	if (!rs)
		fail_msg("%s", err);
	assert_int_equal(rs->nrules, 6);
	assert_string_equal(rs->engine_version, "0.26.0");
	assert_int_equal(rs->nplugins, 1);
	assert_string_equal(rs->plugins[0].name, "k8saudit");
	const struct guard_rule *r = rule(rs, "Shell opens");
	assert_int_equal(r->status, RS_EVALUABLE);   /* an <NA> field in the output only does not degrade */
	assert_int_equal(r->prio, PRIO_WARNING);
	assert_int_equal(r->ntags, 2);
	assert_int_equal(r->nofields, 4);
	/* bash via the list in a list; dash was quoted inside the YAML list */
	snprintf(procs[0].comm, sizeof(procs[0].comm), "bash");
	assert_int_equal(fires(r), 1);
	snprintf(procs[0].comm, sizeof(procs[0].comm), "dash");
	assert_int_equal(fires(r), 1);
	snprintf(procs[0].comm, sizeof(procs[0].comm), "sh");
	assert_int_equal(fires(r), 1);
	snprintf(procs[0].comm, sizeof(procs[0].comm), "python3");
	assert_int_equal(fires(r), 0);
	/* exceptions: tuples and a single-field list */
	r = rule(rs, "Log writes");
	assert_int_equal(r->status, RS_EVALUABLE);
	snprintf(procs[0].comm, sizeof(procs[0].comm), "rsyslogd");
	ev.path = "/var/log/syslog.1";
	assert_int_equal(fires(r), 0);
	ev.path = "/var/log/auth.log";
	assert_int_equal(fires(r), 1);
	snprintf(procs[0].comm, sizeof(procs[0].comm), "bash");
	ev.path = "/var/log/other";
	assert_int_equal(fires(r), 0);
	ev.path = "/var/log/syslog";
	assert_int_equal(fires(r), 1);
	snprintf(procs[1].comm, sizeof(procs[1].comm), "cron");
	assert_int_equal(fires(r), 0);
	snprintf(procs[1].comm, sizeof(procs[1].comm), "sshd");
	/* statuses */
	assert_int_equal(rule(rs, "Audit")->status, RS_NOT_EVALUABLE);
	assert_non_null(strstr(rule(rs, "Audit")->reason, "k8saudit"));
	r = rule(rs, "Images");
	assert_int_equal(r->status, RS_DEGRADED);
	assert_non_null(strstr(r->reason, "container.image.repository"));
	assert_int_equal(fires(r), 1);   /* <NA> in a `not ... in`: the exclusion holds */
	assert_int_equal(rule(rs, "Reads")->status, RS_NOT_EVALUABLE);
	assert_non_null(strstr(rule(rs, "Reads")->reason, "read"));
	assert_int_equal(rule(rs, "Off")->status, RS_DISABLED);
	/* kernel parts of "Shell opens": its event types and comm set */
	r = rule(rs, "Shell opens");
	assert_false(r->kp.evtypes_any);
	assert_true(cond_kparts_has_evtype(&r->kp, guard_evtype_index("openat")));
	assert_false(cond_kparts_has_evtype(&r->kp, guard_evtype_index("execve")));
	assert_false(r->kp.comm_any);
	assert_int_equal(r->kp.ncomm, 4);
	r = rule(rs, "Log writes");
	assert_false(r->kp.path_any);
	assert_int_equal(r->kp.npath, 1);
	assert_string_equal(r->kp.path[0], "/var/log");
	assert_true(r->kp.comm_any);   /* exceptions only exclude */
	guard_rules_free(rs);
}

static void test_append_override(void **state)
{
	char err[512] = "";
	char yaml[8192];
	snprintf(yaml, sizeof(yaml), "%s%s", base_yaml,
		 "- list: shells\n"
		 "  items: [python3]\n"
		 "  append: true\n"
		 "- macro: is_open\n"
		 "  condition: or evt.type = execve\n"
		 "  override:\n"
		 "    condition: append\n"
		 "- rule: Shell opens\n"
		 "  condition: and proc.pname = sshd\n"
		 "  output: replaced %proc.pid\n"
		 "  priority: ERROR\n"
		 "  override:\n"
		 "    condition: append\n"
		 "    output: replace\n"
		 "    priority: replace\n"
		 "- rule: Log writes\n"
		 "  exceptions:\n"
		 "    - name: writers\n"
		 "      values: [sshd]\n"
		 "  override:\n"
		 "    exceptions: append\n"
		 "- rule: Off\n"
		 "  enabled: true\n"
		 "- rule: Reads\n"
		 "  enabled: false\n");
	struct guard_ruleset *rs = load(yaml, err, sizeof(err));
	if (!rs)
		fail_msg("%s", err);
	const struct guard_rule *r = rule(rs, "Shell opens");
	assert_string_equal(r->output, "replaced %proc.pid");
	assert_int_equal(r->prio, PRIO_ERROR);
	snprintf(procs[0].comm, sizeof(procs[0].comm), "python3");   /* appended to the list */
	ev.sc = guard_evtype_index("execve");                         /* appended to the macro */
	assert_int_equal(fires(r), 1);
	snprintf(procs[1].comm, sizeof(procs[1].comm), "init");      /* appended condition */
	assert_int_equal(fires(r), 0);
	snprintf(procs[1].comm, sizeof(procs[1].comm), "sshd");
	r = rule(rs, "Log writes");
	ev.sc = guard_evtype_index("openat");
	ev.path = "/var/log/x";
	assert_int_equal(fires(r), 0);   /* parent sshd now excepted */
	assert_int_equal(rule(rs, "Off")->status, RS_EVALUABLE);
	assert_int_equal(rule(rs, "Reads")->status, RS_DISABLED);
	guard_rules_free(rs);
}

static void expect_err(const char *yaml, const char *want)
{
	char err[512] = "";
	struct guard_ruleset *rs = load(yaml, err, sizeof(err));
	if (rs) {
		guard_rules_free(rs);
		fail_msg("loaded: %s", yaml);
	}
	if (!strstr(err, want))
		fail_msg("error '%s' lacks '%s'", err, want);
}

static void test_file_errors(void **state)
{
	expect_err("a: 1\n", "t.yaml:1:1: a rules file must be a YAML list");
	expect_err("- [\n", "t.yaml:2:1: YAML");
	expect_err("- foo: 1\n", "t.yaml:1:3: unknown item 'foo'");
	expect_err("- rule: r\n  desc: d\n  output: o\n  priority: INFO\n", "has no 'condition'");
	expect_err("- rule: r\n  desc: d\n  condition: proc.name = x\n  priority: INFO\n", "has no 'output'");
	expect_err("- rule: r\n  desc: d\n  condition: proc.name = x\n  output: o\n  priority: LOUD\n",
		   "t.yaml:5:13: rule 'r': unknown priority 'LOUD'");
	/* positions inside a folded condition, and inside a macro */
	expect_err("- rule: r\n  desc: d\n  condition: >\n    proc.name = x and\n      fd.nam = y\n"
		   "  output: o\n  priority: INFO\n", "t.yaml:5:7: rule 'r': unknown field 'fd.nam'");
	expect_err("- macro: m\n  condition: proc.name = x and bogus.f = 1\n"
		   "- rule: r\n  desc: d\n  condition: m\n  output: o\n  priority: INFO\n",
		   "t.yaml:2:32: macro 'm' (used by rule 'r'): unknown field 'bogus.f'");
	expect_err("- macro: a\n  condition: b\n- macro: b\n  condition: a\n"
		   "- rule: r\n  desc: d\n  condition: a\n  output: o\n  priority: INFO\n", "refers to itself");
	expect_err("- rule: r\n  desc: d\n  condition: proc.name = x\n  output: o %proc.bogus\n  priority: INFO\n",
		   "output: unknown field 'proc.bogus'");
	expect_err("- rule: r\n  condition: x\n  override:\n    condition: append\n",
		   "no rule of that name exists");
	expect_err("- list: l\n  items: [a]\n  append: true\n", "no list of that name exists");
	expect_err("- rule: r\n  desc: d\n  condition: proc.name = x\n  output: o\n  priority: INFO\n"
		   "  exceptions:\n    - name: e\n      fields: [proc.name, fd.name]\n      values:\n        - [a]\n",
		   "exception 'e': a value has 1 items for 2 fields");
	expect_err("- rule: r\n  desc: d\n  condition: proc.name = x\n  output: o\n  priority: INFO\n"
		   "  exceptions:\n    - name: e\n      fields: [proc.nme]\n      values:\n        - [a]\n",
		   "exception 'e'");
}

static void test_big_file(void **state)
{
	/* 10 000 rules load (and a list of 10 000 items) */
	size_t cap = 4 << 20, n = 0;
	char *y = malloc(cap);
	assert_non_null(y);
	n += snprintf(y + n, cap - n, "- list: many\n  items: [");
	for (int i = 0; i < 10000; i++)
		n += snprintf(y + n, cap - n, "%sp%d", i ? ", " : "", i);
	n += snprintf(y + n, cap - n, "]\n");
	for (int i = 0; i < 10000; i++)
		n += snprintf(y + n, cap - n, "- rule: r%d\n  desc: d\n  condition: evt.type = open and proc.name in (%s)\n"
			      "  output: o %%proc.name\n  priority: INFO\n", i, i == 9999 ? "many" : "a, b, c");
	char err[256];
	struct guard_ruleset *rs = load(y, err, sizeof(err));
	free(y);
	if (!rs)
		fail_msg("%s", err);
	assert_int_equal(rs->nrules, 10000);
	snprintf(procs[0].comm, sizeof(procs[0].comm), "p9999");
	ev.sc = guard_evtype_index("open");
	assert_int_equal(fires(rs->rules[9999]), 1);
	guard_rules_free(rs);
}

/* What the kernel prefilter gets of a rule: directory sets as prefixes, a glob's literal head,
 * the intersection of prefix sets under "and", "open for writing" and "../" in the raw path. */
static void test_kernel_parts(void **state)
{
	char err[512] = "";
	static const char yaml[] =
		"- rule: Dirs\n  desc: d\n  output: o\n  priority: INFO\n"
		"  condition: evt.type = openat and fd.directory in (/etc/pam.d, /)\n"
		"- rule: Glob\n  desc: d\n  output: o\n  priority: INFO\n"
		"  condition: evt.type = openat and fd.name glob '/home/*/.ssh/*'\n"
		"- rule: Both\n  desc: d\n  output: o\n  priority: INFO\n"
		"  condition: evt.type = openat and fd.name startswith /etc and fd.name in (/etc/shadow, /var/x)\n"
		"- rule: Write\n  desc: d\n  output: o\n  priority: INFO\n"
		"  condition: evt.type = openat and evt.is_open_write=true and fd.filename = x\n"
		"- rule: Either\n  desc: d\n  output: o\n  priority: INFO\n"
		"  condition: evt.type = openat and (evt.is_open_write=true or proc.name = a)\n"
		"- rule: Dotdot\n  desc: d\n  output: o\n  priority: INFO\n"
		"  condition: evt.type = openat and fd.nameraw contains '../' and fd.nameraw glob '*../*../*'\n"
		"- rule: NotDotdot\n  desc: d\n  output: o\n  priority: INFO\n"
		"  condition: evt.type = openat and not fd.nameraw contains '../'\n"
		/* fd.connected and container.privileged are never available here (<NA>) */
		"- rule: Outbound\n  desc: d\n  output: o\n  priority: INFO\n"
		"  condition: (evt.type = connect or (evt.type = sendto and fd.connected = false)) and proc.name = ssh\n"
		"- rule: Never\n  desc: d\n  output: o\n  priority: INFO\n"
		"  condition: evt.type = execve and container.privileged = true\n"
		"- rule: NotNA\n  desc: d\n  output: o\n  priority: INFO\n"
		"  condition: evt.type = openat and not fd.connected = true\n";
	struct guard_ruleset *rs = load(yaml, err, sizeof(err));
	const struct guard_rule *r;

	(void)state;
	assert_non_null(rs);
	r = rule(rs, "Dirs");
	assert_int_equal(r->kp.npath, 2);
	assert_string_equal(r->kp.path[0], "/etc/pam.d/");
	assert_string_equal(r->kp.path[1], "/");
	r = rule(rs, "Glob");
	assert_int_equal(r->kp.npath, 1);
	assert_string_equal(r->kp.path[0], "/home/");
	r = rule(rs, "Both");   /* /etc and (/etc/shadow or /var/x): /etc/shadow */
	assert_int_equal(r->kp.npath, 1);
	assert_string_equal(r->kp.path[0], "/etc/shadow");
	assert_true(rule(rs, "Write")->kp.need_write);
	assert_true(rule(rs, "Write")->kp.path_any);
	assert_false(rule(rs, "Either")->kp.need_write);
	assert_true(rule(rs, "Dotdot")->kp.need_dotdot);
	assert_false(rule(rs, "NotDotdot")->kp.need_dotdot);
	assert_false(rule(rs, "Write")->kp.need_dotdot);
	/* a branch comparing a <NA> field never holds: its types are not live (not captured),
	 * though the status still counts them (degraded, not "matches no event type") */
	r = rule(rs, "Outbound");
	assert_int_equal(r->status, RS_DEGRADED);
	assert_true(cond_kparts_has_evtype(&r->kp, guard_evtype_index("sendto")));
	assert_false(cond_kparts_live_evtype(&r->kp, guard_evtype_index("sendto")));
	assert_true(cond_kparts_live_evtype(&r->kp, guard_evtype_index("connect")));
	assert_int_equal(r->kp.ncomm, 1);
	r = rule(rs, "Never");
	assert_int_equal(r->status, RS_DEGRADED);
	assert_true(cond_kparts_has_evtype(&r->kp, guard_evtype_index("execve")));
	for (int i = 0; i < guard_evtype_count(); i++)
		assert_false(cond_kparts_live_evtype(&r->kp, i));
	assert_true(cond_kparts_live_evtype(&rule(rs, "NotNA")->kp, guard_evtype_index("openat")));
	guard_rules_free(rs);
}

/* Every rule of rs on the event variants below, with and without the shared-check memo:
 * the same results (the memo only spares work), and a memo moved to the next event forgets
 * the last one's, across the wrap of its epoch too. Returns how many rules fired in all. */
static int same_with_memo(struct guard_ruleset *rs)
{
	static const struct { const char *sc, *comm, *path, *raw; uint32_t flags; } vs[] = {
		{ "openat", "bash", "/var/log/Auth.log", "../log/Auth.log", O_WRONLY | O_TRUNC },
		{ "openat", "cat", "/etc/shadow", "/etc/shadow", O_RDONLY },
		{ "openat", "sshd", "/etc/shadow", "../../etc/shadow", O_RDONLY },
		{ "open", "nc", "/usr/bin/x", "/usr/bin/x", O_WRONLY | O_CREAT },
		{ "execve", "bash", "/usr/bin/bash", NULL, 0 },
		{ "execve", "nc", "/usr/bin/nc", NULL, 0 },
		{ "openat", "cat", "/etc/shadow", "/etc/shadow", O_RDONLY },   /* again, after others */
	};
	struct cond_memo m;
	int fired = 0;

	cond_memo_init(&m, rs->share);
	m.epoch = (1u << 31) - 4;   /* the variants cross the epoch's wrap */
	for (size_t v = 0; v < sizeof(vs) / sizeof(vs[0]); v++) {
		ev.sc = guard_evtype_index(vs[v].sc);
		snprintf(procs[0].comm, sizeof(procs[0].comm), "%s", vs[v].comm);
		ev.path = vs[v].path;
		ev.path_raw = vs[v].raw;
		ev.flags = vs[v].flags;
		cond_memo_next(&m);
		for (int i = 0; i < rs->nrules; i++) {
			const struct cond *c = rs->rules[i]->cond;
			if (!c)
				continue;
			ev.extra_done = false;
			bool plain = cond_eval(c, &ev);
			assert_int_equal(cond_eval_memo(c, &ev, &m), plain);
			fired += plain;
		}
	}
	cond_memo_fini(&m);
	return fired;
}

static void test_shared_checks(void **state)
{
	char err[512];
	static const char yaml[] =
		"- macro: open_write\n"
		"  condition: evt.type in (open, openat) and evt.is_open_write = true and fd.typechar = f\n"
		"- list: shells\n  items: [bash, sh]\n"
		"- rule: A\n  desc: d\n  output: o\n  priority: INFO\n"
		"  condition: open_write and fd.name startswith /var/log\n"
		"- rule: B\n  desc: d\n  output: o\n  priority: INFO\n"
		"  condition: open_write and not proc.name in (shells)\n"
		"- rule: C\n  desc: d\n  output: o\n  priority: INFO\n"
		"  condition: evt.type = execve and proc.name in (bash, sh) or fd.nameraw contains '../'\n"
		"- rule: D\n  desc: d\n  output: o\n  priority: INFO\n"
		"  condition: not (fd.typechar = f and evt.is_open_write = true) and proc.name = cat\n";
	struct guard_ruleset *rs = load(yaml, err, sizeof(err));

	(void)state;
	assert_non_null(rs);
	/* open_write's two value checks are shared by A, B and D; proc.name in (bash, sh) by
	 * B and C (a list and its items are the same values) */
	assert_int_equal(cond_share_slots(rs->share), 6);
	assert_true(same_with_memo(rs) > 0);
	guard_rules_free(rs);
	/* the falcosecurity/rules stable file, when there */
	const char *f = getenv("EBEE_FALCO_RULES");
	if (f && *f) {
		rs = guard_rules_load(&f, 1, &guard_fields, err, sizeof(err));
		assert_non_null(rs);
		same_with_memo(rs);
		guard_rules_free(rs);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_shared_checks, setup),
		cmocka_unit_test_setup(test_precedence, setup),
		cmocka_unit_test_setup(test_string_ops, setup),
		cmocka_unit_test_setup(test_number_bool_ip_ops, setup),
		cmocka_unit_test_setup(test_transformers, setup),
		cmocka_unit_test_setup(test_na_and_fields, setup),
		cmocka_unit_test_setup(test_errors, setup),
		cmocka_unit_test_setup(test_rules_file, setup),
		cmocka_unit_test_setup(test_append_override, setup),
		cmocka_unit_test_setup(test_file_errors, setup),
		cmocka_unit_test_setup(test_big_file, setup),
		cmocka_unit_test_setup(test_kernel_parts, setup),
	};
	return cmocka_run_group_tests_name("guard", tests, NULL, NULL);
}
