// SPDX-License-Identifier: BSD-2-Clause
/* The enforcement file and what the kernel can decide of its conditions. Conditions are
 * guard's language (cond_parse/cond_compile: one grammar, typed against guard's fields, with
 * the -r files' macros and lists). The kernel decides a condition exactly when, after macro
 * expansion, it is a conjunction of checks on fields the hooks see, each dimension at most
 * once: evt.type (which actions), proc.name (the comm; for exec the new program's), fd.name /
 * proc.exepath (= or in: exact paths, startswith: prefixes), user.uid, proc.cgroup (cgroup2
 * paths resolved to ids now; a cgroup and its descendants), fd.sport/rport/lport/port (the syscall's address's port),
 * fd.sip/rip/lip/snet/rnet/net (addresses and CIDRs). `not`/`!=` negate one dimension; `or`
 * only joins checks of one field. Anything else needs user-space state and is refused. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <yaml.h>

#include "core/ebee.h"
#include "core/load.h"
#include "enforce/enforcer.h"
#include "guard/cond_int.h"
#include "guard/fields.h"
#include "guard/rules.h"

const char *const enf_kind_names[ENF_KIND__N] = { "exec", "open", "connect", "bind", "sendmsg", "ptrace", "module" };
const char *const enf_action_names[ENF_ACTION__N] = { "audit", "deny", "kill" };
const char *const enf_done_names[ENF_ACTION__N] = { "audited", "denied", "killed" };
const char *const enf_mech_names[MECH__N] = { "lsm", "cgroup", "signal", "audit" };

static const struct { const char *name; int kind; } evtypes[] = {
	{ "execve", ENF_EXEC }, { "execveat", ENF_EXEC },
	{ "open", ENF_OPEN }, { "openat", ENF_OPEN }, { "openat2", ENF_OPEN }, { "creat", ENF_OPEN },
	{ "connect", ENF_CONNECT }, { "bind", ENF_BIND },
	{ "sendto", ENF_SENDMSG }, { "sendmsg", ENF_SENDMSG },
	{ "ptrace", ENF_PTRACE },
	{ "init_module", ENF_MODULE }, { "finit_module", ENF_MODULE },
};

static const struct { const char *name; int dim; } kfields[] = {
	{ "proc.name", DIM_COMM },
	{ "fd.name", DIM_PATH }, { "proc.exepath", DIM_PATH },
	{ "user.uid", DIM_UID },
	{ "proc.cgroup", DIM_CGROUP },
	{ "fd.sport", DIM_PORT }, { "fd.rport", DIM_PORT }, { "fd.lport", DIM_PORT }, { "fd.port", DIM_PORT },
	{ "fd.sip", DIM_ADDR }, { "fd.rip", DIM_ADDR }, { "fd.lip", DIM_ADDR }, { "fd.snet", DIM_ADDR },
	{ "fd.rnet", DIM_ADDR }, { "fd.lnet", DIM_ADDR }, { "fd.ip", DIM_ADDR }, { "fd.net", DIM_ADDR },
};

static const size_t dim_size[DIM__N] = {
	[DIM_COMM] = 16, [DIM_PATH] = sizeof(struct enf_path), [DIM_UID] = sizeof(uint32_t),
	[DIM_CGROUP] = sizeof(uint64_t), [DIM_PORT] = sizeof(uint16_t),
	[DIM_ADDR] = sizeof(struct enf_cidr),
};

/* ---- the condition walk ----------------------------------------------------------------- */

struct walk {
	const struct cond_env *env;
	struct enf_rule *r;
	char *why;              /* first refusal */
	size_t whylen;
	int depth;
};

#define REFUSE(W, ...) ({ if (!(W)->why[0]) snprintf((W)->why, (W)->whylen, __VA_ARGS__); false; })

/* values of a check with list names expanded (lists may name lists) */
static bool expand(struct walk *W, char **vals, const uint8_t *quoted, int n, const char ***out,
		   int *nout, int depth)
{
	for (int i = 0; i < n; i++) {
		int ln = 0;
		const char *const *items = (!quoted || !quoted[i]) && W->env->list ?
			W->env->list(W->env->env, vals[i], &ln) : NULL;
		if (items && depth < 16) {
			if (!expand(W, (char **)items, NULL, ln, out, nout, depth + 1))
				return false;
			continue;
		}
		*out = realloc(*out, (*nout + 1) * sizeof(**out));
		if (!*out)
			return false;
		(*out)[(*nout)++] = vals[i];
	}
	return true;
}

static bool add_value(struct walk *W, int dim, const char *v, bool prefix)
{
	struct enf_set *s = &W->r->dim[dim];
	char *end;
	void *nv = realloc(s->v, (s->n + 1) * dim_size[dim]);

	if (!nv)
		return REFUSE(W, "out of memory");
	s->v = nv;
	switch (dim) {
	case DIM_COMM:
		memset(s->comm[s->n], 0, 16);
		/* the kernel keeps 15 characters of a comm */
		snprintf(s->comm[s->n], 16, "%s", v);
		break;
	case DIM_PATH:
		if (v[0] != '/')
			return REFUSE(W, "path '%s' is not absolute (the kernel compares paths as passed)", v);
		if (strlen(v) >= ENF_PATH_LEN)
			return REFUSE(W, "path '%s' is longer than %d bytes (what the kernel compares)", v, ENF_PATH_LEN - 1);
		snprintf(s->path[s->n].s, ENF_PATH_LEN, "%s", v);
		s->path[s->n].prefix = prefix;
		break;
	case DIM_UID: {
		unsigned long u = strtoul(v, &end, 10);
		if (*end || end == v || u > UINT32_MAX)
			return REFUSE(W, "uid '%s' is not a number", v);
		s->uid[s->n] = u;
		break;
	}
	case DIM_PORT: {
		unsigned long p = strtoul(v, &end, 10);
		if (*end || end == v || p > 65535 || !p)
			return REFUSE(W, "port '%s' is not a port number", v);
		s->port[s->n] = p;
		break;
	}
	case DIM_CGROUP: {
		const char *root = ebee_cgroup2_path();
		char dir[PATH_MAX];
		struct stat st;
		if (!root)
			return REFUSE(W, "cgroup2 is not mounted, so proc.cgroup cannot be decided");
		snprintf(dir, sizeof(dir), "%s%s%s", root, v[0] == '/' ? "" : "/", v);
		if (stat(dir, &st) || !S_ISDIR(st.st_mode))
			return REFUSE(W, "cgroup '%s' not found under %s", v, root);
		s->cgroup[s->n] = st.st_ino;
		break;
	}
	case DIM_ADDR: {
		struct enf_cidr *c = &s->cidr[s->n];
		char buf[64];
		snprintf(buf, sizeof(buf), "%s", v);
		char *slash = strchr(buf, '/');
		int bits = -1;
		if (slash) {
			*slash = 0;
			bits = atoi(slash + 1);
		}
		memset(c, 0, sizeof(*c));
		if (inet_pton(AF_INET, buf, c->addr) == 1)
			c->family = 4;
		else if (inet_pton(AF_INET6, buf, c->addr) == 1)
			c->family = 6;
		else
			return REFUSE(W, "'%s' is not an address or CIDR", v);
		int max = c->family == 4 ? 32 : 128;
		if (bits < 0)
			bits = max;
		if (bits > max)
			return REFUSE(W, "bad prefix length in '%s'", v);
		c->bits = bits;
		break;
	}
	}
	s->n++;
	return true;
}

static int kind_of(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(evtypes); i++)
		if (!strcmp(evtypes[i].name, name))
			return evtypes[i].kind;
	return -1;
}

static bool check(struct walk *W, const struct cond_ast *a, bool neg)
{
	const char *f = a->lhs->name;
	const char **vals = NULL;
	int nv = 0;
	bool ok = true;

	if (a->lhs->ntr || a->rfield)
		return REFUSE(W, "transformers and val() on '%s' need user space", f);
	if (a->lhs->arg)
		return REFUSE(W, "'%s[%s]' needs user-space state", f, a->lhs->arg);
	bool set_op = a->op == OP_EQ || a->op == OP_IN;
	if (a->op == OP_NE) {
		neg = !neg;
		set_op = true;
	}
	bool prefix = a->op == OP_STARTSWITH;
	if (!expand(W, a->vals, a->quoted, a->nvals, &vals, &nv, 0))
		return REFUSE(W, "out of memory");
	if (!strcmp(f, "evt.type")) {
		if (!set_op || neg) {
			ok = REFUSE(W, "'evt.type %s' cannot be enforced: name the actions with = or in",
				    neg ? "not/!=" : cond_op_name(a->op));
			goto out;
		}
		uint32_t k = 0;
		for (int i = 0; i < nv; i++) {
			int kind = kind_of(vals[i]);
			if (kind < 0) {
				ok = REFUSE(W, "event type '%s' cannot be enforced (execve, open, openat, connect, bind, sendto, sendmsg, ptrace, init_module, finit_module can)", vals[i]);
				goto out;
			}
			k |= 1u << kind;
		}
		W->r->kinds = W->r->kinds ? (W->r->kinds & k) : k;
		if (!W->r->kinds)
			ok = REFUSE(W, "the evt.type checks exclude each other");
		goto out;
	}
	/* the access an open asks for: a required bit, so only "= true" */
	if (!strcmp(f, "evt.is_open_read") || !strcmp(f, "evt.is_open_write")) {
		if (a->op != OP_EQ || neg || nv != 1 || strcmp(vals[0], "true"))
			ok = REFUSE(W, "'%s' can be enforced only as '%s = true'", f, f);
		else
			W->r->open_mode |= f[12] == 'r' ? ENF_OPEN_READ : ENF_OPEN_WRITE;
		goto out;
	}
	int dim = -1;
	for (size_t i = 0; i < ARRAY_LEN(kfields); i++)
		if (!strcmp(kfields[i].name, f))
			dim = kfields[i].dim;
	if (dim < 0) {
		ok = REFUSE(W, "'%s' needs user-space state (the kernel decides evt.type, proc.name, fd.name, proc.exepath, user.uid, proc.cgroup, fd ports and addresses)", f);
		goto out;
	}
	if (!(set_op || (prefix && dim == DIM_PATH))) {
		ok = REFUSE(W, "'%s %s' cannot be decided in the kernel (=, !=, in%s can)", f,
			    cond_op_name(a->op), dim == DIM_PATH ? ", startswith" : "");
		goto out;
	}
	struct enf_set *s = &W->r->dim[dim];
	if (s->set) {
		ok = REFUSE(W, "'%s' is checked twice (the kernel keeps one set per field)", f);
		goto out;
	}
	s->set = true;
	s->neg = neg;
	for (int i = 0; i < nv && ok; i++)
		ok = add_value(W, dim, vals[i], prefix);
out:
	free(vals);
	return ok;
}

static const struct cond_ast *expand_ident(struct walk *W, const struct cond_ast *a)
{
	for (int d = 0; a && a->k == A_IDENT && d < 32; d++)
		a = W->env->macro ? W->env->macro(W->env->env, a->ident) : NULL;
	return a;
}

static bool walk(struct walk *W, const struct cond_ast *a, bool neg)
{
	if (++W->depth > 64)
		return REFUSE(W, "condition nests too deeply");
	a = expand_ident(W, a);
	if (!a)
		return REFUSE(W, "unknown macro");
	switch (a->k) {
	case A_NOT:
		return walk(W, a->kids[0], !neg);
	case A_CHECK:
		return check(W, a, neg);
	case A_AND:
		if (neg)
			return REFUSE(W, "'not (... and ...)' cannot be decided in the kernel");
		for (int i = 0; i < a->nkids; i++)
			if (!walk(W, a->kids[i], false))
				return false;
		return true;
	case A_OR: {
		if (neg) {   /* not (a or b) = not a and not b */
			for (int i = 0; i < a->nkids; i++)
				if (!walk(W, a->kids[i], true))
					return false;
			return true;
		}
		/* a or b of one field with = / in: one set */
		const char *field = NULL;
		for (int i = 0; i < a->nkids; i++) {
			const struct cond_ast *k = expand_ident(W, a->kids[i]);
			if (!k || k->k != A_CHECK || (k->op != OP_EQ && k->op != OP_IN &&
						      k->op != OP_STARTSWITH) ||
			    (field && strcmp(field, k->lhs->name)))
				return REFUSE(W, "'or' across different fields cannot be decided in the kernel (write one rule each)");
			field = k->lhs->name;
		}
		/* merge: the first check creates the set, the others add to it; event types are a
		 * union of the kids, intersected with what came before */
		uint32_t pre = W->r->kinds, kinds = 0;
		for (int i = 0; i < a->nkids; i++) {
			const struct cond_ast *k = expand_ident(W, a->kids[i]);
			if (!strcmp(k->lhs->name, "evt.type")) {
				W->r->kinds = 0;
				if (!check(W, k, false))
					return false;
				kinds |= W->r->kinds;
				W->r->kinds = pre ? pre & kinds : kinds;
				continue;
			}
			for (size_t j = 0; i && j < ARRAY_LEN(kfields); j++)
				if (!strcmp(kfields[j].name, k->lhs->name))
					W->r->dim[kfields[j].dim].set = false;
			if (!check(W, k, false))
				return false;
		}
		if (kinds && !W->r->kinds)
			return REFUSE(W, "the evt.type checks exclude each other");
		return true;
	}
	default:
		return REFUSE(W, "unexpected condition node");
	}
}

/* ---- the YAML file ------------------------------------------------------------------------ */

struct yl {
	const char *file;
	yaml_document_t doc;
	char *text;
	char err[512];
};

static yaml_node_t *ynode(struct yl *Y, int i) { return yaml_document_get_node(&Y->doc, i); }

static bool yerr(struct yl *Y, yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	int o = snprintf(Y->err, sizeof(Y->err), "%s:%zu:%zu: ", Y->file,
			 n ? n->start_mark.line + 1 : 1, n ? n->start_mark.column + 1 : 1);
	va_start(ap, fmt);
	vsnprintf(Y->err + o, sizeof(Y->err) - o, fmt, ap);
	va_end(ap);
	return false;
}

/* The file position of a condition error. Folding and indentation change only blanks, so the
 * k-th non-blank character of the condition text is the k-th non-blank of its YAML scalar. */
static void cond_pos(struct yl *Y, yaml_node_t *n, const char *text, const struct cond_err *e,
		     int *line, int *col)
{
	size_t k = 0, i = n->start_mark.index, end = n->end_mark.index;
	yaml_scalar_style_t st = n->data.scalar.style;
	int l = 1, c = 1;

	for (const char *p = text; *p && (l < e->line || (l == e->line && c < e->col)); p++) {
		if (*p == '\n') {
			l++;
			c = 1;
			continue;
		}
		c++;
		k += !isspace((unsigned char)*p);
	}
	*line = n->start_mark.line + 1;
	*col = n->start_mark.column + 1;
	if (st == YAML_LITERAL_SCALAR_STYLE || st == YAML_FOLDED_SCALAR_STYLE) {
		for (; i < end && Y->text[i] != '\n'; i++)   /* the | or > header */
			(*col)++;
	} else if (st == YAML_SINGLE_QUOTED_SCALAR_STYLE || st == YAML_DOUBLE_QUOTED_SCALAR_STYLE) {
		i++;
		(*col)++;
	}
	for (; i < end; i++) {
		if (Y->text[i] == '\n') {
			(*line)++;
			*col = 1;
			continue;
		}
		if (!isspace((unsigned char)Y->text[i]) && k-- == 0)
			return;
		(*col)++;
	}
}

static bool do_item(struct yl *Y, yaml_node_t *item, struct enf_rule *r,
		    const struct cond_env *env)
{
	yaml_node_t *cond_node = NULL;
	bool have_action = false;

	if (item->type != YAML_MAPPING_NODE)
		return yerr(Y, item, "an enforcement rule must be a mapping (enforce, condition, action, desc, enabled)");
	r->enabled = true;
	r->line = item->start_mark.line + 1;
	r->col = item->start_mark.column + 1;
	snprintf(r->file, sizeof(r->file), "%s", Y->file);
	for (yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top; p++) {
		yaml_node_t *k = ynode(Y, p->key), *v = ynode(Y, p->value);
		if (!k || k->type != YAML_SCALAR_NODE)
			return yerr(Y, k, "keys must be plain names");
		const char *key = (const char *)k->data.scalar.value;
		if (!v || v->type != YAML_SCALAR_NODE)
			return yerr(Y, v ? v : k, "'%s' must be a scalar", key);
		const char *val = (const char *)v->data.scalar.value;
		if (!strcmp(key, "enforce")) {
			free(r->name);
			r->name = strdup(val);
		} else if (!strcmp(key, "condition")) {
			free(r->cond_text);
			r->cond_text = strdup(val);
			cond_node = v;
		} else if (!strcmp(key, "desc")) {
			free(r->desc);
			r->desc = strdup(val);
		} else if (!strcmp(key, "action")) {
			int a = -1;
			for (int i = 0; i < ENF_ACTION__N; i++)
				if (!strcmp(val, enf_action_names[i]))
					a = i;
			if (a < 0)
				return yerr(Y, v, "unknown action '%s' (deny, kill or audit)", val);
			r->action = a;
			have_action = true;
		} else if (!strcmp(key, "enabled")) {
			if (!strcmp(val, "true"))
				r->enabled = true;
			else if (!strcmp(val, "false"))
				r->enabled = false;
			else
				return yerr(Y, v, "'enabled' must be true or false, not '%s'", val);
		} else {
			return yerr(Y, k, "unknown key '%s' (enforce, condition, action, desc, enabled)", key);
		}
	}
	if (!r->name || !r->name[0])
		return yerr(Y, item, "an enforcement rule needs 'enforce: NAME'");
	if (!cond_node)
		return yerr(Y, item, "enforcement rule '%s' has no condition", r->name);
	if (!have_action)
		return yerr(Y, item, "enforcement rule '%s' has no action (deny, kill or audit)", r->name);

	/* the one grammar: parse, then type-check against guard's fields */
	struct cond_err ce = { 0 };
	struct cond_ast *ast = cond_parse(r->cond_text, &ce);
	struct cond *c = ast ? cond_compile(ast, env, &guard_fields, &ce) : NULL;
	if (!c) {
		int line, col;
		cond_pos(Y, cond_node, r->cond_text, &ce, &line, &col);
		snprintf(Y->err, sizeof(Y->err), "%s:%d:%d: enforcement rule '%s': %s%s%s%s", Y->file,
			 line, col, r->name, ce.macro[0] ? "in macro '" : "", ce.macro,
			 ce.macro[0] ? "': " : "", ce.msg);
		cond_ast_free(ast);
		return false;
	}
	cond_free(c);
	char why[256] = "";
	struct walk W = { .env = env, .r = r, .why = why, .whylen = sizeof(why) };
	if (walk(&W, ast, false) && !r->kinds)
		REFUSE(&W, "no evt.type check: name the actions to enforce on (evt.type in (execve, connect, ...))");
	cond_ast_free(ast);
	if (why[0]) {
		r->accepted = false;
		snprintf(r->reason, sizeof(r->reason), "%s", why);
	} else {
		r->accepted = true;
	}
	return true;
}

static bool load_one(const char *file, struct enf_file *F, const struct cond_env *env, char *err,
		     size_t errlen)
{
	struct yl Y = { .file = file };
	yaml_parser_t parser;
	bool ok = false, parsed = false;
	FILE *fp = fopen(file, "re");
	size_t len = 0;

	if (!fp) {
		snprintf(err, errlen, "cannot read enforcement file '%s': %s", file, strerror(errno));
		return false;
	}
	char buf[65536];
	for (size_t n; (n = fread(buf, 1, sizeof(buf), fp)) > 0 && len < (64u << 20);) {
		Y.text = realloc(Y.text, len + n + 1);
		memcpy(Y.text + len, buf, n);
		len += n;
	}
	fclose(fp);
	if (!Y.text)
		Y.text = calloc(1, 1);
	Y.text[len] = 0;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)Y.text, len);
	if (!yaml_parser_load(&parser, &Y.doc)) {
		snprintf(err, errlen, "%s:%zu:%zu: %s", file, parser.problem_mark.line + 1,
			 parser.problem_mark.column + 1, parser.problem ? parser.problem : "bad YAML");
		yaml_parser_delete(&parser);
		free(Y.text);
		return false;
	}
	parsed = true;
	yaml_node_t *root = yaml_document_get_root_node(&Y.doc);
	if (!root) {
		ok = true;   /* an empty file: no rules */
		goto out;
	}
	if (root->type != YAML_SEQUENCE_NODE) {
		yerr(&Y, root, "an enforcement file is a list of '- enforce:' items");
		goto out;
	}
	for (yaml_node_item_t *it = root->data.sequence.items.start; it < root->data.sequence.items.top; it++) {
		F->rules = realloc(F->rules, (F->n + 1) * sizeof(*F->rules));
		struct enf_rule *r = &F->rules[F->n++];
		memset(r, 0, sizeof(*r));
		r->index = -1;
		if (!do_item(&Y, ynode(&Y, *it), r, env))
			goto out;
		for (int i = 0; i < F->n - 1; i++)
			if (!strcmp(F->rules[i].name, r->name)) {
				yerr(&Y, ynode(&Y, *it), "enforcement rule '%s' is defined twice (first at %s:%d)",
				     r->name, F->rules[i].file, F->rules[i].line);
				goto out;
			}
	}
	ok = true;
out:
	if (!ok && Y.err[0])
		snprintf(err, errlen, "%s", Y.err);
	if (parsed)
		yaml_document_delete(&Y.doc);
	yaml_parser_delete(&parser);
	free(Y.text);
	return ok;
}

static void rule_free(struct enf_rule *r)
{
	free(r->name);
	free(r->desc);
	free(r->cond_text);
	for (int d = 0; d < DIM__N; d++)
		free(r->dim[d].v);
}

void enf_file_free(struct enf_file *f)
{
	if (!f)
		return;
	for (int i = 0; i < f->n; i++)
		rule_free(&f->rules[i]);
	free(f->rules);
	free(f);
}

struct enf_file *enf_file_load(const struct opt_list *files, struct guard_ruleset *rs)
{
	struct enf_file *F = calloc(1, sizeof(*F));
	struct cond_env env = { 0 };
	char err[1024] = "";

	if (!F)
		return NULL;
	if (rs)
		guard_rules_env(rs, &env);
	for (int i = 0; i < files->n; i++)
		if (!load_one(files->v[i], F, &env, err, sizeof(err))) {
			ebee_err("%s", err);
			enf_file_free(F);
			return NULL;
		}
	return F;
}

/* ---- mechanisms ---------------------------------------------------------------------------- */

/* Which hooks exist per mechanism and kind. */
static bool mech_has(int mech, int kind)
{
	switch (mech) {
	case MECH_LSM:
		return kind != ENF_SENDMSG;
	case MECH_CGROUP:
		return kind == ENF_CONNECT || kind == ENF_BIND || kind == ENF_SENDMSG;
	case MECH_SIGNAL:
		return kind != ENF_SENDMSG;
	default:
		return true;
	}
}

/* The strongest mechanism that can do `action` on `kind` here: deny needs a hook that can
 * refuse (lsm, cgroup); kill one that can signal the caller (lsm, syscall tracepoints); audit
 * is seen by the hook that would enforce a deny, else a kill. */
int enf_mech_for(const struct enf_caps *caps, int kind, int action)
{
	static const int order[ENF_ACTION__N][3] = {
		[ENF_DENY] = { MECH_LSM, MECH_CGROUP, -1 },
		[ENF_KILL] = { MECH_LSM, MECH_SIGNAL, -1 },
		[ENF_AUDIT] = { MECH_LSM, MECH_CGROUP, MECH_SIGNAL },
	};
	if (caps->absent[kind][0])
		return -1;
	for (int i = 0; i < 3 && order[action][i] >= 0; i++) {
		int m = order[action][i];
		if (caps->have[m] && mech_has(m, kind))
			return m;
	}
	return -1;
}

/* Would the rule act on ebee or PID 1? Only a comm or cgroup set can name them. */
static bool hits_protected(const struct enf_rule *r, char *why, size_t len)
{
	char c1[32] = "", cself[16] = "";
	FILE *f = fopen("/proc/1/comm", "re");
	if (f) {
		if (fgets(c1, sizeof(c1), f))
			c1[strcspn(c1, "\n")] = 0;
		fclose(f);
	}
	f = fopen("/proc/self/comm", "re");
	if (f) {
		if (fgets(cself, sizeof(cself), f))
			cself[strcspn(cself, "\n")] = 0;
		fclose(f);
	}
	bool any = false;
	for (int d = 0; d < DIM__N; d++)
		any |= r->dim[d].set;
	if (!any) {
		snprintf(why, len, "would act on every process, ebee and PID 1 included: narrow it (proc.name, fd.name, proc.cgroup, ports...)");
		return true;
	}
	const struct enf_set *s = &r->dim[DIM_COMM];
	for (int i = 0; s->set && !s->neg && i < s->n; i++) {
		if (!strcmp(s->comm[i], cself) || !strcmp(s->comm[i], "ebee")) {
			snprintf(why, len, "would act on ebee itself (proc.name '%s')", s->comm[i]);
			return true;
		}
		if (c1[0] && !strncmp(s->comm[i], c1, 15)) {
			snprintf(why, len, "would act on PID 1 (proc.name '%s')", s->comm[i]);
			return true;
		}
	}
	return false;
}

int enf_file_decide(struct enf_file *f, const struct enf_caps *caps)
{
	int refused = 0;

	for (int i = 0; i < f->n; i++) {
		struct enf_rule *r = &f->rules[i];
		memset(r->mech, -1, sizeof(r->mech));
		if (!r->enabled || !r->accepted)
			goto next;
		if (hits_protected(r, r->reason, sizeof(r->reason))) {
			r->accepted = false;
			goto next;
		}
		for (int k = 0; k < ENF_KIND__N; k++) {
			if (!(r->kinds >> k & 1))
				continue;
			int m = enf_mech_for(caps, k, r->action);
			if (m < 0) {
				r->accepted = false;
				if (caps->absent[k][0])
					snprintf(r->reason, sizeof(r->reason), "%s: %s", enf_kind_names[k], caps->absent[k]);
				else if (r->action == ENF_DENY)
					snprintf(r->reason, sizeof(r->reason),
						 "deny of %s needs %s, not here (%s); use action: kill or audit",
						 enf_kind_names[k], mech_has(MECH_CGROUP, k) ? "BPF LSM or cgroup-bpf" : "BPF LSM",
						 caps->why[MECH_LSM]);
				else
					snprintf(r->reason, sizeof(r->reason), "%s of %s: no mechanism here can do it (%s)",
						 enf_action_names[r->action], enf_kind_names[k], caps->why[MECH_LSM]);
				break;
			}
			/* finit_module names an fd: only the LSM hook sees the module's path */
			if (k == ENF_MODULE && m != MECH_LSM && r->dim[DIM_PATH].set) {
				r->accepted = false;
				snprintf(r->reason, sizeof(r->reason),
					 "fd.name of a module load needs BPF LSM, not here (%s)", caps->why[MECH_LSM]);
				break;
			}
			r->mech[k] = m;
		}
	next:
		if (r->enabled && !r->accepted)
			refused++;
	}
	return refused;
}
