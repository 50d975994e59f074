// SPDX-License-Identifier: BSD-2-Clause
/* Parser of Falco's condition language (the grammar of libsinsp's filter parser): or binds
 * loosest, then and, then not; checks are `field op value`, `field exists`, a parenthesised
 * expression or a macro name. Values are bare strings, quoted strings, numbers, lists in
 * parentheses (whose names may be lists, resolved at compile time), or val(field) / a
 * transformer of a field. Errors carry the line and column within the condition. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard/cond_int.h"

#define MAX_DEPTH 100

struct parser {
	const char *s;
	size_t i;
	int line, col;
	int depth;
	struct cond_err *err;
	bool failed;
};

static void perr(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void perr(struct parser *p, const char *fmt, ...)
{
	if (p->failed)
		return;
	p->failed = true;
	if (!p->err)
		return;
	p->err->line = p->line;
	p->err->col = p->col;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
}

static char cur(const struct parser *p) { return p->s[p->i]; }

static void adv(struct parser *p, size_t n)
{
	while (n-- && p->s[p->i]) {
		if (p->s[p->i] == '\n') {
			p->line++;
			p->col = 1;
		} else {
			p->col++;
		}
		p->i++;
	}
}

static bool blank(struct parser *p)
{
	bool found = false;
	while (cur(p) == ' ' || cur(p) == '\t' || cur(p) == '\b' || cur(p) == '\r' || cur(p) == '\n') {
		adv(p, 1);
		found = true;
	}
	return found;
}

static bool lit(struct parser *p, const char *w)
{
	size_t n = strlen(w);
	if (strncmp(p->s + p->i, w, n))
		return false;
	adv(p, n);
	return true;
}

/* The word w followed by a blank or one of `follow` (not consumed). */
static bool word(struct parser *p, const char *w, const char *follow)
{
	size_t n = strlen(w);
	if (strncmp(p->s + p->i, w, n))
		return false;
	char c = p->s[p->i + n];
	if (!(c == 0 || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\b' || strchr(follow, c)))
		return false;
	adv(p, n);
	return true;
}

static char *xstrndup(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (!d)
		abort();   /* allocation of a few bytes at load time: out of memory is fatal */
	memcpy(d, s, n);
	d[n] = 0;
	return d;
}

void *cond_xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);
	if (!p)
		abort();
	return p;
}

char *cond_xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

static size_t span_ident(const char *s)
{
	size_t n = 0;
	if (!isalpha((unsigned char)s[0]))
		return 0;
	while (isalnum((unsigned char)s[n]) || s[n] == '_')
		n++;
	return n;
}

/* [a-zA-Z]+[a-zA-Z0-9_]*(\.[a-zA-Z]+[a-zA-Z0-9_]*)+ */
static size_t span_field(const char *s)
{
	size_t n = span_ident(s);
	int dots = 0;
	if (!n)
		return 0;
	while (s[n] == '.' && isalpha((unsigned char)s[n + 1])) {
		n++;
		n += span_ident(s + n);
		dots++;
	}
	return dots ? n : 0;
}

static bool is_bare(char c, bool in_arg)
{
	if (!c || isspace((unsigned char)c) || c == '"' || c == '\'')
		return false;
	if (in_arg)
		return c != '[' && c != ']';
	return !strchr("()=,", c);
}

/* Quoted string ('...' or "..."), backslash escapes the delimiter and itself. */
static char *quoted(struct parser *p)
{
	char q = cur(p);
	if (q != '"' && q != '\'')
		return NULL;
	size_t j = p->i + 1, cap = 16, n = 0;
	char *out = malloc(cap);
	if (!out)
		abort();
	while (p->s[j] && p->s[j] != q) {
		char c = p->s[j];
		if (c == '\\' && p->s[j + 1] && (p->s[j + 1] == q || p->s[j + 1] == '\\' ||
						 p->s[j + 1] == '"' || p->s[j + 1] == '\'')) {
			c = p->s[++j];
		}
		if (n + 2 > cap) {
			cap *= 2;
			out = realloc(out, cap);
			if (!out)
				abort();
		}
		out[n++] = c;
		j++;
	}
	if (!p->s[j]) {
		free(out);
		perr(p, "unterminated string (missing %c)", q);
		return NULL;
	}
	out[n] = 0;
	adv(p, j + 1 - p->i);
	return out;
}

static char *bare(struct parser *p, bool in_arg)
{
	size_t n = 0;
	while (is_bare(p->s[p->i + n], in_arg))
		n++;
	if (!n)
		return NULL;
	char *r = xstrndup(p->s + p->i, n);
	adv(p, n);
	return r;
}

struct cond_ast *cond_ast_new(enum ast_kind k)
{
	struct cond_ast *a = cond_xcalloc(1, sizeof(*a));
	a->k = k;
	return a;
}

void cond_afield_free(struct ast_field *f)
{
	if (!f)
		return;
	free(f->name);
	free(f->arg);
	free(f);
}

void cond_ast_free(struct cond_ast *a)
{
	if (!a)
		return;
	for (int i = 0; i < a->nkids; i++)
		cond_ast_free(a->kids[i]);
	free(a->kids);
	free(a->ident);
	cond_afield_free(a->lhs);
	cond_afield_free(a->rfield);
	for (int i = 0; i < a->nvals; i++)
		free(a->vals[i]);
	free(a->vals);
	free(a->quoted);
	free(a);
}

void cond_ast_add(struct cond_ast *a, struct cond_ast *kid)
{
	a->kids = realloc(a->kids, (a->nkids + 1) * sizeof(*a->kids));
	if (!a->kids)
		abort();
	a->kids[a->nkids++] = kid;
}

static void add_val(struct cond_ast *a, char *v, bool q)
{
	a->vals = realloc(a->vals, (a->nvals + 1) * sizeof(*a->vals));
	a->quoted = realloc(a->quoted, a->nvals + 1);
	if (!a->vals || !a->quoted)
		abort();
	a->vals[a->nvals] = v;
	a->quoted[a->nvals++] = q;
}

static const char *const transformers[] = {
	[TR_TOLOWER] = "tolower", [TR_TOUPPER] = "toupper", [TR_B64] = "b64",
	[TR_BASENAME] = "basename", [TR_LEN] = "len",
};

const char *cond_transformer_name(int t) { return transformers[t]; }

/* "tolower(" ...: the transformer's index, or -1. */
static int lex_transformer(struct parser *p)
{
	for (size_t t = 1; t < ARRAY_LEN(transformers); t++) {
		size_t n = strlen(transformers[t]);
		if (!strncmp(p->s + p->i, transformers[t], n) && p->s[p->i + n] == '(') {
			adv(p, n + 1);
			return (int)t;
		}
	}
	return -1;
}

static struct ast_field *field_rest(struct parser *p, size_t n)
{
	struct ast_field *f = cond_xcalloc(1, sizeof(*f));
	f->name = xstrndup(p->s + p->i, n);
	adv(p, n);
	if (lit(p, "[")) {
		f->arg = quoted(p);
		if (!f->arg && !p->failed)
			f->arg = bare(p, true);
		if (!f->arg) {
			perr(p, "expected a field argument after '%s['", f->name);
		} else if (!lit(p, "]")) {
			perr(p, "expected ']' closing the argument of '%s'", f->name);
		}
	}
	return f;
}

/* After "tr(": nested transformers, then a field, then ")". Transformers are kept outermost
 * first; evaluation applies them innermost first. */
static struct ast_field *transformed(struct parser *p, int tr)
{
	if (++p->depth > MAX_DEPTH) {
		perr(p, "expression nested too deeply (over %d levels)", MAX_DEPTH);
		return NULL;
	}
	blank(p);
	struct ast_field *f = NULL;
	int t2 = lex_transformer(p);
	if (t2 > 0) {
		f = transformed(p, t2);
	} else {
		size_t n = span_field(p->s + p->i);
		if (n)
			f = field_rest(p, n);
		else
			perr(p, "expected a field or a transformer inside '%s('", transformers[tr]);
	}
	p->depth--;
	if (!f || p->failed) {
		cond_afield_free(f);
		return NULL;
	}
	if (f->ntr >= COND_MAX_TR) {
		perr(p, "too many nested transformers");
		cond_afield_free(f);
		return NULL;
	}
	memmove(f->tr + 1, f->tr, f->ntr);
	f->tr[0] = tr;
	f->ntr++;
	blank(p);
	if (!lit(p, ")")) {
		perr(p, "expected ')' closing '%s('", transformers[tr]);
		cond_afield_free(f);
		return NULL;
	}
	return f;
}

/* val(field) or a transformer, as a right-hand side; NULL (not failed) when neither. */
static struct ast_field *rhs_field(struct parser *p)
{
	if (lit(p, "val(")) {
		blank(p);
		size_t n = span_field(p->s + p->i);
		if (!n) {
			perr(p, "expected a field inside 'val('");
			return NULL;
		}
		struct ast_field *f = field_rest(p, n);
		blank(p);
		if (!p->failed && !lit(p, ")"))
			perr(p, "expected ')' closing 'val('");
		if (p->failed) {
			cond_afield_free(f);
			return NULL;
		}
		return f;
	}
	int t = lex_transformer(p);
	if (t > 0)
		return transformed(p, t);
	return NULL;
}

static const char *const unary_ops[] = { "exists", NULL };
/* Longest first where one is a prefix of another. */
static const struct { const char *lex; enum cond_op op; } bin_ops[] = {
	{ "<=", OP_LE }, { "<", OP_LT }, { ">=", OP_GE }, { ">", OP_GT },
	{ "==", OP_EQ }, { "=", OP_EQ }, { "!=", OP_NE },
	{ "glob", OP_GLOB }, { "iglob", OP_IGLOB }, { "contains", OP_CONTAINS },
	{ "icontains", OP_ICONTAINS }, { "bcontains", OP_BCONTAINS },
	{ "startswith", OP_STARTSWITH }, { "bstartswith", OP_BSTARTSWITH },
	{ "endswith", OP_ENDSWITH }, { "regex", OP_REGEX },
	{ "intersects", OP_INTERSECTS }, { "in", OP_IN }, { "pmatch", OP_PMATCH },
};

static const char *const op_names[] = {
	[OP_EXISTS] = "exists", [OP_EQ] = "=", [OP_NE] = "!=", [OP_LT] = "<", [OP_LE] = "<=",
	[OP_GT] = ">", [OP_GE] = ">=", [OP_CONTAINS] = "contains", [OP_ICONTAINS] = "icontains",
	[OP_BCONTAINS] = "bcontains", [OP_STARTSWITH] = "startswith",
	[OP_BSTARTSWITH] = "bstartswith", [OP_ENDSWITH] = "endswith", [OP_GLOB] = "glob",
	[OP_IGLOB] = "iglob", [OP_PMATCH] = "pmatch", [OP_IN] = "in",
	[OP_INTERSECTS] = "intersects", [OP_REGEX] = "regex",
};

const char *cond_op_name(enum cond_op op) { return op_names[op]; }

int cond_op_parse(const char *s)
{
	for (size_t i = 0; i < ARRAY_LEN(bin_ops); i++)
		if (!strcmp(s, bin_ops[i].lex))
			return bin_ops[i].op;
	if (!strcmp(s, "exists"))
		return OP_EXISTS;
	return -1;
}

static bool is_list_op(enum cond_op op) { return op == OP_IN || op == OP_INTERSECTS || op == OP_PMATCH; }
static bool is_num_op(enum cond_op op) { return op >= OP_LT && op <= OP_GE; }

static bool lex_op(struct parser *p, enum cond_op *op)
{
	for (int i = 0; unary_ops[i]; i++)
		if (word(p, unary_ops[i], ")")) {
			*op = OP_EXISTS;
			return true;
		}
	for (size_t i = 0; i < ARRAY_LEN(bin_ops); i++) {
		const char *w = bin_ops[i].lex;
		bool ok;
		if (!isalpha((unsigned char)w[0]))
			ok = lit(p, w);
		else if (is_list_op(bin_ops[i].op))
			ok = word(p, w, "(");
		else
			ok = word(p, w, "\"'");
		if (ok) {
			*op = bin_ops[i].op;
			return true;
		}
	}
	return false;
}

static struct cond_ast *parse_or(struct parser *p);

static struct cond_ast *embedded(struct parser *p)
{
	blank(p);
	struct cond_ast *a = parse_or(p);
	blank(p);
	if (!p->failed && !lit(p, ")"))
		perr(p, "expected ')'");
	if (p->failed) {
		cond_ast_free(a);
		return NULL;
	}
	return a;
}

static bool parse_value(struct parser *p, struct cond_ast *a)
{
	blank(p);
	if (a->op == OP_EXISTS)
		return true;
	if (is_list_op(a->op) && lit(p, "(")) {
		a->is_list = true;
		blank(p);
		if (lit(p, ")"))
			return true;
		for (;;) {
			blank(p);
			char *v = quoted(p);
			bool q = v != NULL;
			if (!v && !p->failed)
				v = bare(p, false);
			if (!v) {
				perr(p, "expected a list value");
				return false;
			}
			add_val(a, v, q);
			blank(p);
			if (lit(p, ","))
				continue;
			if (lit(p, ")"))
				return true;
			perr(p, "expected ',' or ')' in a list");
			return false;
		}
	}
	a->rfield = rhs_field(p);
	if (a->rfield || p->failed)
		return !p->failed;
	if (is_list_op(a->op)) {
		size_t n = span_ident(p->s + p->i);
		if (!n) {
			perr(p, "expected a list, a list name or a field after '%s'", op_names[a->op]);
			return false;
		}
		a->is_list = true;
		add_val(a, xstrndup(p->s + p->i, n), false);
		adv(p, n);
		return true;
	}
	char *v = quoted(p);
	bool q = v != NULL;
	if (!v && !p->failed)
		v = bare(p, false);
	if (!v) {
		perr(p, "expected a value after '%s'", op_names[a->op]);
		return false;
	}
	if (is_num_op(a->op) && !q) {
		char *end;
		errno = 0;
		(void)strtoll(v, &end, 0);
		if (*end || errno) {
			double d = strtod(v, &end);
			(void)d;
			if (*end) {
				perr(p, "expected a number after '%s', got '%s'", op_names[a->op], v);
				free(v);
				return false;
			}
		}
	}
	add_val(a, v, q);
	return true;
}

static struct cond_ast *parse_check(struct parser *p)
{
	int line = p->line, col = p->col;
	blank(p);
	if (lit(p, "("))
		return embedded(p);
	struct ast_field *lhs = NULL;
	size_t n = span_field(p->s + p->i);
	if (n) {
		lhs = field_rest(p, n);
	} else {
		int t = lex_transformer(p);
		if (t > 0) {
			lhs = transformed(p, t);
		} else if ((n = span_ident(p->s + p->i))) {
			struct cond_ast *a = cond_ast_new(A_IDENT);
			a->ident = xstrndup(p->s + p->i, n);
			a->line = p->line;
			a->col = p->col;
			adv(p, n);
			return a;
		}
	}
	if (p->failed) {
		cond_afield_free(lhs);
		return NULL;
	}
	if (!lhs) {
		if (!cur(p))
			perr(p, "unexpected end of condition: expected a field, a macro or '('");
		else
			perr(p, "expected a field, a macro or '(' at '%.20s'", p->s + p->i);
		return NULL;
	}
	struct cond_ast *a = cond_ast_new(A_CHECK);
	a->lhs = lhs;
	a->line = line;
	a->col = col;
	blank(p);
	if (!lex_op(p, &a->op)) {
		perr(p, "expected an operator after '%s'%s", lhs->name,
		     cur(p) ? "" : " (end of condition)");
		cond_ast_free(a);
		return NULL;
	}
	if (!parse_value(p, a)) {
		cond_ast_free(a);
		return NULL;
	}
	return a;
}

static struct cond_ast *parse_not(struct parser *p)
{
	if (++p->depth > MAX_DEPTH) {
		perr(p, "expression nested too deeply (over %d levels)", MAX_DEPTH);
		return NULL;
	}
	bool neg = false;
	struct cond_ast *kid;
	blank(p);
	int line = p->line, col = p->col;
	while (word(p, "not", "")) {
		neg = !neg;
		blank(p);
	}
	if (lit(p, "not(")) {
		neg = !neg;
		kid = embedded(p);
	} else {
		kid = parse_check(p);
	}
	p->depth--;
	if (!kid)
		return NULL;
	if (!neg)
		return kid;
	struct cond_ast *a = cond_ast_new(A_NOT);
	a->line = line;
	a->col = col;
	cond_ast_add(a, kid);
	return a;
}

/* One level of "and"/"or": kids joined by `w`. */
static struct cond_ast *parse_join(struct parser *p, const char *w, enum ast_kind k,
				   struct cond_ast *(*sub)(struct parser *))
{
	if (++p->depth > MAX_DEPTH) {
		perr(p, "expression nested too deeply (over %d levels)", MAX_DEPTH);
		return NULL;
	}
	blank(p);
	struct cond_ast *first = sub(p), *a = NULL;
	if (!first)
		goto out;
	blank(p);
	while (!p->failed && word(p, w, "(")) {
		struct cond_ast *kid;
		if (!blank(p) && lit(p, "("))
			kid = embedded(p);
		else
			kid = sub(p);
		if (!kid)
			break;
		if (!a) {
			a = cond_ast_new(k);
			a->line = first->line;
			a->col = first->col;
			cond_ast_add(a, first);
		}
		cond_ast_add(a, kid);
		blank(p);
	}
out:
	p->depth--;
	if (p->failed) {
		if (a)
			cond_ast_free(a);
		else
			cond_ast_free(first);
		return NULL;
	}
	return a ? a : first;
}

static struct cond_ast *parse_and(struct parser *p) { return parse_join(p, "and", A_AND, parse_not); }
static struct cond_ast *parse_or(struct parser *p) { return parse_join(p, "or", A_OR, parse_and); }

struct cond_ast *cond_parse(const char *text, struct cond_err *err)
{
	struct parser p = { .s = text, .line = 1, .col = 1, .err = err };
	if (err)
		memset(err, 0, sizeof(*err));
	blank(&p);
	if (!cur(&p)) {
		perr(&p, "empty condition");
		return NULL;
	}
	struct cond_ast *a = parse_or(&p);
	if (a && cur(&p)) {
		perr(&p, "unexpected '%.20s': expected 'and', 'or' or the end", p.s + p.i);
		cond_ast_free(a);
		return NULL;
	}
	return a;
}

/* ---- builders (exceptions) ----------------------------------------------------------- */

struct cond_ast *cond_ast_check(const char *field, const char *op, const char *const *vals,
				int nvals, bool is_list, struct cond_err *err)
{
	struct parser p = { .s = field, .line = 1, .col = 1, .err = err };
	size_t n = span_field(field);
	int o = cond_op_parse(op);
	if (!n) {
		perr(&p, "'%s' is not a field name", field);
		return NULL;
	}
	if (o < 0) {
		perr(&p, "unknown operator '%s'", op);
		return NULL;
	}
	struct ast_field *f = field_rest(&p, n);
	if (p.failed || cur(&p)) {
		if (!p.failed)
			perr(&p, "'%s' is not a field name", field);
		cond_afield_free(f);
		return NULL;
	}
	struct cond_ast *a = cond_ast_new(A_CHECK);
	a->lhs = f;
	a->op = o;
	a->is_list = is_list;
	for (int i = 0; i < nvals; i++) {
		/* A value quoted in YAML ('"a b"') is unquoted like a list item. */
		const char *v = vals[i];
		size_t vl = strlen(v);
		bool q = vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0];
		add_val(a, q ? xstrndup(v + 1, vl - 2) : cond_xstrdup(v), q);
	}
	return a;
}

struct cond_ast *cond_ast_and(struct cond_ast *a, struct cond_ast *b)
{
	struct cond_ast *n = cond_ast_new(A_AND);
	cond_ast_add(n, a);
	cond_ast_add(n, b);
	return n;
}

struct cond_ast *cond_ast_or(struct cond_ast *a, struct cond_ast *b)
{
	struct cond_ast *n = cond_ast_new(A_OR);
	cond_ast_add(n, a);
	cond_ast_add(n, b);
	return n;
}

struct cond_ast *cond_ast_not(struct cond_ast *a)
{
	struct cond_ast *n = cond_ast_new(A_NOT);
	cond_ast_add(n, a);
	return n;
}

static struct ast_field *afield_dup(const struct ast_field *f)
{
	if (!f)
		return NULL;
	struct ast_field *d = cond_xcalloc(1, sizeof(*d));
	*d = *f;
	d->name = cond_xstrdup(f->name);
	d->arg = f->arg ? cond_xstrdup(f->arg) : NULL;
	return d;
}

struct cond_ast *cond_ast_dup(const struct cond_ast *a)
{
	if (!a)
		return NULL;
	struct cond_ast *d = cond_ast_new(a->k);
	d->line = a->line;
	d->col = a->col;
	d->op = a->op;
	d->is_list = a->is_list;
	d->ident = a->ident ? cond_xstrdup(a->ident) : NULL;
	d->lhs = afield_dup(a->lhs);
	d->rfield = afield_dup(a->rfield);
	for (int i = 0; i < a->nkids; i++)
		cond_ast_add(d, cond_ast_dup(a->kids[i]));
	for (int i = 0; i < a->nvals; i++)
		add_val(d, cond_xstrdup(a->vals[i]), a->quoted[i]);
	return d;
}

/* ---- text ---------------------------------------------------------------------------- */

struct sbuf {
	char *b;
	size_t len, n;
};

static void sput(struct sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sput(struct sbuf *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(s->n < s->len ? s->b + s->n : NULL, s->n < s->len ? s->len - s->n : 0, fmt, ap);
	va_end(ap);
	if (k > 0)
		s->n += k;
}

static void field_str(struct sbuf *s, const struct ast_field *f)
{
	for (int i = 0; i < f->ntr; i++)
		sput(s, "%s(", transformers[f->tr[i]]);
	sput(s, "%s", f->name);
	if (f->arg)
		sput(s, "[%s]", f->arg);
	for (int i = 0; i < f->ntr; i++)
		sput(s, ")");
}

static void ast_str(struct sbuf *s, const struct cond_ast *a)
{
	switch (a->k) {
	case A_AND:
	case A_OR:
		sput(s, "(");
		for (int i = 0; i < a->nkids; i++) {
			if (i)
				sput(s, a->k == A_AND ? " and " : " or ");
			ast_str(s, a->kids[i]);
		}
		sput(s, ")");
		break;
	case A_NOT:
		sput(s, "not ");
		ast_str(s, a->kids[0]);
		break;
	case A_IDENT:
		sput(s, "%s", a->ident);
		break;
	case A_CHECK:
		field_str(s, a->lhs);
		sput(s, " %s", op_names[a->op]);
		if (a->rfield) {
			sput(s, " val(");
			field_str(s, a->rfield);
			sput(s, ")");
		} else if (a->is_list) {
			sput(s, " (");
			for (int i = 0; i < a->nvals; i++)
				sput(s, i ? ", %s" : "%s", a->vals[i]);
			sput(s, ")");
		} else if (a->nvals) {
			sput(s, " %s", a->vals[0]);
		}
		break;
	}
}

size_t cond_ast_str(const struct cond_ast *a, char *buf, size_t len)
{
	struct sbuf s = { buf, len, 0 };
	if (len)
		buf[0] = 0;
	ast_str(&s, a);
	return s.n;
}
