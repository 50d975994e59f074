// SPDX-License-Identifier: BSD-2-Clause
/* Compiler and evaluator of conditions (the parser is cond_parse.c). Compiling expands macros
 * (cycles refused) and lists (lists in lists), resolves every field through the provider once,
 * checks operators against field types, and pre-parses values (numbers, addresses and CIDRs,
 * regexes, hex bytes, hash sets for long `in` lists), so evaluation only compares. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "guard/cond_int.h"

#define MAX_MACRO_DEPTH 64
#define MAX_LIST_DEPTH 32
#define VALBUF 1024
#define HASHED_MIN 8          /* `in` lists this long are looked up in a hash set */

struct cval {
	char *s;
	size_t n;
	int64_t i;
	uint8_t ip[16];
	uint8_t family, prefix;
};

struct ccheck {
	int fi;                       /* index into cond->fields */
	uint8_t ntr, tr[COND_MAX_TR]; /* innermost first */
	enum cond_type type;          /* after transformers */
	enum cond_op op;
	struct cval *v;
	int nv;
	bool sorted;                  /* v sorted (a set: one key for share), hset made */
	uint32_t *hset, hmask;        /* open addressing: index + 1 into v, 0 empty */
	regex_t *re;
	int rfi;                      /* val(field): index into cond->fields, or -1 */
	uint8_t rntr, rtr[COND_MAX_TR];
	bool na;                      /* the field is never available here */
	bool evfast;                  /* evt.type = / in / !=: a bitmap of type indexes */
	uint64_t evbits[COND_EVTYPES / 64];
	int slot;                     /* its result's place in a cond_memo, or -1 */
};

enum { N_AND, N_OR, N_NOT, N_CHECK };

struct cnode {
	uint8_t k;
	int nkids;
	struct cnode **kids;
	struct ccheck *chk;
};

/* The evaluation program: the tree as checks with a jump for each outcome (the and/or/not
 * short-circuits resolved at compile time), so evaluation is a loop, not a recursion. */
enum { PC_TRUE = -1, PC_FALSE = -2 };

struct cins {
	const struct ccheck *chk;
	int t, f;                     /* next instruction when it holds / does not; PC_* */
};

struct cond {
	struct cnode *root;
	struct cins *prog;
	int nprog, entry;
	const struct cond_provider *p;
	struct cond_field *fields;
	int nfields;
};

struct compiler {
	const struct cond_env *env;
	const struct cond_provider *p;
	struct cond *c;
	struct cond_err *err;
	const char *stack[MAX_MACRO_DEPTH];
	int depth;
	bool failed;
};

static void cerr(struct compiler *k, const struct cond_ast *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void cerr(struct compiler *k, const struct cond_ast *at, const char *fmt, ...)
{
	if (k->failed)
		return;
	k->failed = true;
	if (!k->err)
		return;
	k->err->line = at ? at->line : 0;
	k->err->col = at ? at->col : 0;
	snprintf(k->err->macro, sizeof(k->err->macro), "%s", k->depth ? k->stack[k->depth - 1] : "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(k->err->msg, sizeof(k->err->msg), fmt, ap);
	va_end(ap);
}

static void node_free(struct cnode *n)
{
	if (!n)
		return;
	for (int i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	if (n->chk) {
		for (int i = 0; i < n->chk->nv; i++)
			free(n->chk->v[i].s);
		free(n->chk->v);
		free(n->chk->hset);
		if (n->chk->re) {
			regfree(n->chk->re);
			free(n->chk->re);
		}
		free(n->chk);
	}
	free(n);
}

void cond_free(struct cond *c)
{
	if (!c)
		return;
	node_free(c->root);
	free(c->prog);
	free(c->fields);
	free(c);
}

/* The field's index in c->fields (deduplicated by name), resolving it on first use. */
static int field_index(struct compiler *k, const struct cond_ast *at, const struct ast_field *f)
{
	char name[64];
	if (f->arg)
		snprintf(name, sizeof(name), "%s[%s]", f->name, f->arg);
	else
		snprintf(name, sizeof(name), "%s", f->name);
	for (int i = 0; i < k->c->nfields; i++)
		if (!strcmp(k->c->fields[i].name, name))
			return i;
	struct cond_field cf = { .argi = -1 };
	char why[160] = "";
	if (k->p->resolve(k->p->pv, f->name, f->arg, &cf, why, sizeof(why)) < 0) {
		cerr(k, at, "%s", why[0] ? why : "unknown field");
		return -1;
	}
	snprintf(cf.name, sizeof(cf.name), "%s", name);
	struct cond_field *nf = realloc(k->c->fields, (k->c->nfields + 1) * sizeof(*nf));
	if (!nf)
		abort();
	k->c->fields = nf;
	nf[k->c->nfields] = cf;
	return k->c->nfields++;
}

/* Type after the transformers (innermost first in tr), or -1 with an error. */
static int transformed_type(struct compiler *k, const struct cond_ast *at, enum cond_type t,
			    const struct ast_field *f, uint8_t *tr)
{
	for (int i = f->ntr - 1, j = 0; i >= 0; i--, j++) {
		int x = f->tr[i];
		tr[j] = x;
		if (t != CT_STR) {
			cerr(k, at, "transformer '%s' needs a string field, '%s' is not one",
			     cond_transformer_name(x), f->name);
			return -1;
		}
		if (x == TR_LEN)
			t = CT_NUM;
	}
	return t;
}

static bool op_allowed(enum cond_type t, enum cond_op op)
{
	switch (t) {
	case CT_STR:
		return !(op >= OP_LT && op <= OP_GE);
	case CT_NUM:
		return op <= OP_GE || op == OP_IN || op == OP_INTERSECTS;
	case CT_BOOL:
		return op == OP_EXISTS || op == OP_EQ || op == OP_NE || op == OP_IN;
	case CT_IP:
		return op == OP_EXISTS || op == OP_EQ || op == OP_NE || op == OP_IN ||
		       op == OP_INTERSECTS;
	}
	return false;
}

static const char *type_name(enum cond_type t)
{
	static const char *const n[] = { "string", "number", "bool", "address" };
	return n[t];
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool parse_ip(const char *s, struct cval *v)
{
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "%s", s);
	char *slash = strchr(tmp, '/');
	long pfx = -1;
	if (slash) {
		char *end;
		*slash = 0;
		pfx = strtol(slash + 1, &end, 10);
		if (*end || slash[1] == 0)
			return false;
	}
	memset(v->ip, 0, 16);
	if (inet_pton(AF_INET, tmp, v->ip) == 1) {
		v->family = 4;
		if (pfx < 0)
			pfx = 32;
		if (pfx > 32)
			return false;
	} else if (inet_pton(AF_INET6, tmp, v->ip) == 1) {
		v->family = 6;
		if (pfx < 0)
			pfx = 128;
		if (pfx > 128)
			return false;
	} else {
		return false;
	}
	v->prefix = pfx;
	return true;
}

/* One value, typed for the check. */
static bool compile_value(struct compiler *k, const struct cond_ast *at, struct ccheck *c,
			  const char *s, struct cval *v)
{
	v->s = cond_xstrdup(s);
	v->n = strlen(s);
	const char *fname = k->c->fields[c->fi].name;
	switch (c->type) {
	case CT_NUM: {
		char *end;
		errno = 0;
		v->i = strtoll(s, &end, 0);
		if (*end || !*s || errno) {
			cerr(k, at, "'%s' is not a number (field '%s' is numeric)", s, fname);
			return false;
		}
		return true;
	}
	case CT_BOOL:
		if (!strcasecmp(s, "true"))
			v->i = 1;
		else if (!strcasecmp(s, "false"))
			v->i = 0;
		else {
			cerr(k, at, "'%s' is not true or false (field '%s' is a bool)", s, fname);
			return false;
		}
		return true;
	case CT_IP:
		if (!parse_ip(s, v)) {
			cerr(k, at, "'%s' is not an address or a network (field '%s')", s, fname);
			return false;
		}
		return true;
	case CT_STR:
		if (c->op == OP_BCONTAINS || c->op == OP_BSTARTSWITH) {
			size_t n = strlen(s);
			if (n % 2) {
				cerr(k, at, "'%s' is not hex bytes (odd length)", s);
				return false;
			}
			for (size_t i = 0; i < n / 2; i++) {
				int h = hexval(s[2 * i]), l = hexval(s[2 * i + 1]);
				if (h < 0 || l < 0) {
					cerr(k, at, "'%s' is not hex bytes", s);
					return false;
				}
				v->s[i] = (char)(h << 4 | l);
			}
			v->n = n / 2;
		} else if (c->op == OP_ICONTAINS || c->op == OP_IGLOB) {
			for (size_t i = 0; i < v->n; i++)
				v->s[i] = tolower((unsigned char)v->s[i]);
		}
		return true;
	}
	return false;
}

/* Values of a check, with list names expanded (lists in lists, bounded). */
struct vlist {
	const char **v;
	int n, cap;
};

static void vl_add(struct vlist *l, const char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v)
			abort();
	}
	l->v[l->n++] = s;
}

static void expand_item(struct compiler *k, const struct cond_ast *at, const char *s, bool quoted,
			struct vlist *out, int depth)
{
	int n = 0;
	const char *const *items = NULL;
	if (!quoted && k->env && k->env->list)
		items = k->env->list(k->env->env, s, &n);
	if (!items) {
		vl_add(out, s);
		return;
	}
	if (depth >= MAX_LIST_DEPTH) {
		cerr(k, at, "list '%s' nests too deeply (a cycle?)", s);
		return;
	}
	for (int i = 0; i < n && !k->failed; i++) {
		const char *it = items[i];
		size_t l = strlen(it);
		/* Items quoted inside YAML ('"a b"') are values, never list names. */
		bool q = l >= 2 && (it[0] == '"' || it[0] == '\'') && it[l - 1] == it[0];
		expand_item(k, at, it, q, out, depth + 1);
	}
}

static int cval_cmp(const void *a, const void *b)
{
	const struct cval *x = a, *y = b;
	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	return memcmp(x->s, y->s, x->n);
}

/* The hash of a value for the sets of long `in` lists: names and paths differ in length and
 * at their ends; equal hashes are compared in full. */
static inline uint32_t vhash(const char *s, size_t n)
{
	uint64_t h = (n + 1) * 0x9e3779b97f4a7c15ull;
	if (n)
		h ^= (uint64_t)((uint8_t)s[0] | (uint8_t)s[n - 1] << 8 | (uint8_t)s[n / 2] << 16 |
				(uint32_t)(uint8_t)s[n / 3] << 24) * 0xff51afd7ed558ccdull;
	return (uint32_t)(h ^ h >> 29);
}

static void make_hset(struct ccheck *c)
{
	uint32_t cap = 16;
	while (cap < 2u * (uint32_t)c->nv)
		cap *= 2;
	c->hset = cond_xcalloc(cap, sizeof(*c->hset));
	c->hmask = cap - 1;
	for (int i = 0; i < c->nv; i++) {
		uint32_t j = vhash(c->v[i].s, c->v[i].n) & c->hmask;
		while (c->hset[j])
			j = (j + 1) & c->hmask;
		c->hset[j] = i + 1;
	}
}

static bool in_hset(const struct ccheck *c, const char *s, size_t n)
{
	for (uint32_t j = vhash(s, n) & c->hmask, e; (e = c->hset[j]); j = (j + 1) & c->hmask)
		if (c->v[e - 1].n == n && !memcmp(c->v[e - 1].s, s, n))
			return true;
	return false;
}

static struct cnode *compile_check(struct compiler *k, const struct cond_ast *a)
{
	struct ccheck *c = cond_xcalloc(1, sizeof(*c));
	struct cnode *n = cond_xcalloc(1, sizeof(*n));
	n->k = N_CHECK;
	n->chk = c;
	c->op = a->op;
	c->rfi = -1;
	c->slot = -1;
	c->fi = field_index(k, a, a->lhs);
	if (c->fi < 0)
		return n;
	const struct cond_field *f = &k->c->fields[c->fi];
	c->na = f->flags & CF_NA;
	int t = transformed_type(k, a, f->type, a->lhs, c->tr);
	if (t < 0)
		return n;
	c->ntr = a->lhs->ntr;
	c->type = t;
	if (!op_allowed(c->type, c->op)) {
		cerr(k, a, "operator '%s' does not apply to '%s' (a %s)", cond_op_name(c->op),
		     f->name, type_name(c->type));
		return n;
	}
	if (a->rfield) {
		c->rfi = field_index(k, a, a->rfield);
		if (c->rfi < 0)
			return n;
		f = &k->c->fields[c->fi];   /* field_index may have moved the array */
		int rt = transformed_type(k, a, k->c->fields[c->rfi].type, a->rfield, c->rtr);
		if (rt < 0)
			return n;
		c->rntr = a->rfield->ntr;
		if (rt != (int)c->type) {
			cerr(k, a, "'%s' (a %s) compared with '%s' (a %s)", f->name,
			     type_name(c->type), k->c->fields[c->rfi].name, type_name(rt));
			return n;
		}
		if (c->op == OP_REGEX || c->op == OP_BCONTAINS || c->op == OP_BSTARTSWITH ||
		    c->op == OP_ICONTAINS || c->op == OP_IGLOB) {
			cerr(k, a, "operator '%s' needs a literal value", cond_op_name(c->op));
			return n;
		}
		return n;
	}
	if (c->op == OP_EXISTS)
		return n;
	struct vlist vl = { 0 };
	for (int i = 0; i < a->nvals && !k->failed; i++) {
		if (a->is_list)
			expand_item(k, a, a->vals[i], a->quoted[i], &vl, 0);
		else
			vl_add(&vl, a->vals[i]);
	}
	c->v = cond_xcalloc(vl.n, sizeof(*c->v));
	for (int i = 0; i < vl.n && !k->failed; i++) {
		const char *s = vl.v[i];
		size_t l = strlen(s);
		char tmp[l + 1];
		if (l >= 2 && (s[0] == '"' || s[0] == '\'') && s[l - 1] == s[0] && a->is_list) {
			/* a quoted list item: unquote, unescape the delimiter */
			size_t o = 0;
			for (size_t j = 1; j + 1 < l; j++) {
				if (s[j] == '\\' && j + 2 < l && (s[j + 1] == s[0] || s[j + 1] == '\\'))
					j++;
				tmp[o++] = s[j];
			}
			tmp[o] = 0;
			s = tmp;
		}
		compile_value(k, a, c, s, &c->v[c->nv]);
		c->nv++;   /* counted even when it failed: its string is freed with the check */
	}
	free(vl.v);
	if (k->failed)
		return n;
	if (c->op == OP_REGEX) {
		size_t l = c->v[0].n + 8;
		char pat[l];
		snprintf(pat, l, "^(%s)$", c->v[0].s);
		c->re = cond_xcalloc(1, sizeof(*c->re));
		int rc = regcomp(c->re, pat, REG_EXTENDED | REG_NOSUB);
		if (rc) {
			char eb[128];
			regerror(rc, c->re, eb, sizeof(eb));
			free(c->re);
			c->re = NULL;
			cerr(k, a, "regex '%s' does not compile: %s", c->v[0].s, eb);
			return n;
		}
	}
	if (f->kdim == CK_EVTYPE && k->p->evtype && k->p->evtype_of && !c->ntr &&
	    (c->op == OP_EQ || c->op == OP_IN || c->op == OP_NE)) {
		c->evfast = true;
		for (int i = 0; i < c->nv; i++) {
			int t = k->p->evtype(k->p->pv, c->v[i].s);
			if (t >= 0 && t < COND_EVTYPES)
				c->evbits[t / 64] |= 1ull << (t % 64);
		}
	}
	if ((c->op == OP_IN || c->op == OP_INTERSECTS) && c->type == CT_STR && c->nv >= HASHED_MIN) {
		qsort(c->v, c->nv, sizeof(*c->v), cval_cmp);
		c->sorted = true;
		make_hset(c);
	}
	return n;
}

static struct cnode *compile(struct compiler *k, const struct cond_ast *a)
{
	struct cnode *n;
	switch (a->k) {
	case A_AND:
	case A_OR:
	case A_NOT:
		n = cond_xcalloc(1, sizeof(*n));
		n->k = a->k == A_AND ? N_AND : a->k == A_OR ? N_OR : N_NOT;
		n->kids = cond_xcalloc(a->nkids, sizeof(*n->kids));
		for (int i = 0; i < a->nkids && !k->failed; i++)
			n->kids[n->nkids++] = compile(k, a->kids[i]);
		return n;
	case A_CHECK:
		return compile_check(k, a);
	case A_IDENT:
		break;
	}
	const struct cond_ast *m = k->env && k->env->macro ? k->env->macro(k->env->env, a->ident) : NULL;
	if (!m) {
		cerr(k, a, "undefined macro '%s'", a->ident);
		return NULL;
	}
	for (int i = 0; i < k->depth; i++)
		if (!strcmp(k->stack[i], a->ident)) {
			cerr(k, a, "macro '%s' refers to itself (cycle through '%s')", a->ident,
			     k->stack[k->depth - 1]);
			return NULL;
		}
	if (k->depth == MAX_MACRO_DEPTH) {
		cerr(k, a, "macros nested over %d deep", MAX_MACRO_DEPTH);
		return NULL;
	}
	k->stack[k->depth++] = a->ident;
	n = compile(k, m);
	if (!k->failed)
		k->depth--;
	return n;
}

/* ---- evaluation order ----------------------------------------------------------------- */

/* What evaluating a check costs, roughly: its fields (the provider's guess, 4 when it has
 * none), the operator and the values it walks. */
static double check_cost(const struct cond *c, const struct ccheck *k)
{
	double cost;

	if (k->na || k->evfast || k->fi < 0)
		return 0.5;
	cost = c->fields[k->fi].cost ? c->fields[k->fi].cost : 4;
	if (c->fields[k->fi].flags & CF_MULTI)
		cost *= 3;   /* ancestors: several values */
	if (k->rfi >= 0)
		cost += c->fields[k->rfi].cost ? c->fields[k->rfi].cost : 4;
	cost += k->ntr * 2;
	switch (k->op) {
	case OP_REGEX: case OP_GLOB: case OP_IGLOB: cost += 8; break;
	case OP_ICONTAINS: cost += 3; break;
	case OP_CONTAINS: case OP_BCONTAINS: cost += 1; break;
	default: break;
	}
	cost += k->sorted ? 2 : k->nv / 4.0;
	return cost;
}

/* How likely a check holds, a guess: a field never available here never; a value test
 * (=, in, startswith...) rarely; its negations and ranges often. */
static double check_prob(const struct ccheck *k)
{
	if (k->na)
		return 0;
	if (k->evfast)
		return k->op == OP_NE ? 0.9 : 0.5;   /* rules are indexed by type already */
	switch (k->op) {
	case OP_EXISTS: case OP_NE: return 0.9;
	case OP_LT: case OP_LE: case OP_GT: case OP_GE: return 0.5;
	default: return k->type == CT_BOOL ? 0.5 : 0.1;
	}
}

struct ordkey {
	struct cnode *n;
	int i;                 /* the rule's order: ties keep it */
	double cost, p, key;
};

static int ordkey_cmp(const void *a, const void *b)
{
	const struct ordkey *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->i - y->i;
}

/* Flattens nested and/and, or/or (macros nest them) and orders the operands of each and/or
 * the classic way for independent tests: an `and` by cost / (1 - p) (a cheap test likely to
 * fail first), an `or` by cost / p, with the guesses above, so that an event type, a flag or
 * a field never available here spares the costly tests (ancestors, command lines, /proc
 * reads) and exclusions (`and not ...`, which mostly hold) come after what selects. Checks
 * have no side effects that matter (a field reads the same whichever check reads it first),
 * so the order changes the time, never the result. Sets *p to the node's probability and
 * returns its expected cost. */
static double order(const struct cond *c, struct cnode *n, double *p)
{
	double cost = 0, q;
	struct ordkey *ks;

	if (n->k == N_CHECK) {
		*p = check_prob(n->chk);
		return check_cost(c, n->chk);
	}
	if (n->k == N_NOT) {
		cost = order(c, n->kids[0], &q);
		*p = 1 - q;
		return cost;
	}
	/* flatten: a kid of the same kind gives its kids to n */
	for (int i = 0; i < n->nkids; i++) {
		struct cnode *kid = n->kids[i];

		if (kid->k != n->k)
			continue;
		struct cnode **x = realloc(n->kids, (n->nkids + kid->nkids) * sizeof(*x));
		if (!x)
			abort();
		n->kids = x;
		memmove(&n->kids[i + kid->nkids], &n->kids[i + 1], (n->nkids - i - 1) * sizeof(*x));
		memcpy(&n->kids[i], kid->kids, kid->nkids * sizeof(*x));
		n->nkids += kid->nkids - 1;
		kid->nkids = 0;
		node_free(kid);
		i--;   /* look at what came in its place */
	}
	ks = cond_xcalloc(n->nkids ? n->nkids : 1, sizeof(*ks));
	for (int i = 0; i < n->nkids; i++) {
		struct ordkey *k = &ks[i];
		double d;

		k->n = n->kids[i];
		k->i = i;
		k->cost = order(c, k->n, &k->p);
		d = n->k == N_AND ? 1 - k->p : k->p;   /* the chance it decides */
		k->key = k->cost / (d > 1e-6 ? d : 1e-6);
	}
	qsort(ks, n->nkids, sizeof(*ks), ordkey_cmp);
	/* the expected cost in that order; p of the whole */
	q = 1;
	for (int i = 0; i < n->nkids; i++) {
		n->kids[i] = ks[i].n;
		cost += q * ks[i].cost;
		q *= n->k == N_AND ? ks[i].p : 1 - ks[i].p;
	}
	*p = n->k == N_AND ? q : 1 - q;
	free(ks);
	return cost;
}

/* Compiles n to instructions that go to t when it holds, to f when not; returns its entry.
 * A check of a field never available here is false: it jumps straight to f. */
static int emit(struct cond *c, const struct cnode *n, int t, int f, int *cap)
{
	int at;

	switch (n->k) {
	case N_NOT:
		return emit(c, n->kids[0], f, t, cap);
	case N_AND:
	case N_OR:
		at = t;   /* an empty and holds; an empty or cannot happen (the parser) */
		if (n->k == N_OR && !n->nkids)
			at = f;
		for (int i = n->nkids - 1; i >= 0; i--) {
			if (i == n->nkids - 1)
				at = emit(c, n->kids[i], t, f, cap);
			else if (n->k == N_AND)
				at = emit(c, n->kids[i], at, f, cap);
			else
				at = emit(c, n->kids[i], t, at, cap);
		}
		return at;
	default:
		if (n->chk->na)
			return f;
		if (c->nprog == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			c->prog = realloc(c->prog, *cap * sizeof(*c->prog));
			if (!c->prog)
				abort();
		}
		c->prog[c->nprog] = (struct cins){ n->chk, t, f };
		return c->nprog++;
	}
}

struct cond *cond_compile(const struct cond_ast *a, const struct cond_env *env,
			  const struct cond_provider *p, struct cond_err *err)
{
	struct cond *c = cond_xcalloc(1, sizeof(*c));
	struct compiler k = { .env = env, .p = p, .c = c, .err = err };
	if (err)
		memset(err, 0, sizeof(*err));
	c->p = p;
	c->root = compile(&k, a);
	if (k.failed) {
		cond_free(c);
		return NULL;
	}
	double prob;
	order(c, c->root, &prob);
	int cap = 0;
	c->entry = emit(c, c->root, PC_TRUE, PC_FALSE, &cap);
	return c;
}

const struct cond_field *cond_field_at(const struct cond *c, int i)
{
	return i >= 0 && i < c->nfields ? &c->fields[i] : NULL;
}

/* ---- evaluation ---------------------------------------------------------------------- */

static const char b64tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t b64dec(const char *s, size_t n, char *out, size_t cap)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < n && s[i] != '='; i++) {
		const char *p = memchr(b64tab, s[i], 64);
		if (!p)
			return 0;
		acc = acc << 6 | (uint32_t)(p - b64tab);
		bits += 6;
		if (bits >= 8 && o < cap) {
			bits -= 8;
			out[o++] = (char)(acc >> bits);
		}
	}
	return o;
}

/* Applies transformers (innermost first) to a string value; buf is scratch. */
static bool transform(const uint8_t *tr, int ntr, struct cond_val *v, char *buf)
{
	for (int i = 0; i < ntr; i++) {
		size_t n = v->n < VALBUF ? v->n : VALBUF;
		switch (tr[i]) {
		case TR_TOLOWER:
		case TR_TOUPPER:
			for (size_t j = 0; j < n; j++)
				buf[j] = tr[i] == TR_TOLOWER ? tolower((unsigned char)v->s[j])
							     : toupper((unsigned char)v->s[j]);
			v->s = buf;
			v->n = n;
			break;
		case TR_B64: {
			char tmp[VALBUF];
			size_t o = b64dec(v->s, n, tmp, sizeof(tmp));
			memcpy(buf, tmp, o);
			v->s = buf;
			v->n = o;
			break;
		}
		case TR_BASENAME: {
			const char *e = v->s + v->n;
			const char *sl = memrchr(v->s, '/', v->n);
			if (sl) {
				v->n = e - (sl + 1);
				v->s = sl + 1;
			}
			break;
		}
		case TR_LEN:
			v->i = (int64_t)v->n;
			break;
		}
	}
	return true;
}

static inline bool get_val(const struct cond *c, const void *ev, int fi, const uint8_t *tr,
			   int ntr, int idx, struct cond_val *v, char *buf, char *tbuf)
{
	/* what a provider leaves unset for its type reads as empty (ip: family 0 matches none) */
	v->s = NULL;
	v->n = 0;
	v->i = 0;
	v->family = 0;
	if (!c->p->get(c->p->pv, ev, &c->fields[fi], idx, v, buf, VALBUF))
		return false;
	if (ntr)
		transform(tr, ntr, v, tbuf);
	return true;
}

static bool ci_contains(const char *h, size_t hn, const char *lowered, size_t nn)
{
	if (nn == 0)
		return true;
	for (size_t i = 0; i + nn <= hn; i++) {
		size_t j = 0;
		while (j < nn && tolower((unsigned char)h[i + j]) == (unsigned char)lowered[j])
			j++;
		if (j == nn)
			return true;
	}
	return false;
}

/* memmem for the short needles of rules: glibc's generic memmem sets up a two-way search
 * costing more than the scan itself for "../" in a path */
static bool contains(const char *h, size_t hn, const char *nd, size_t nn)
{
	if (!nn)
		return true;
	if (nn > hn)
		return false;
	const char *end = h + hn - nn + 1;   /* one past the last place it can start */
	for (const char *p = h; p < end && (p = memchr(p, nd[0], end - p)); p++)
		if (!memcmp(p + 1, nd + 1, nn - 1))
			return true;
	return false;
}

static bool ip_match(const struct cond_val *v, const struct cval *w)
{
	if (v->family != w->family)
		return false;
	int bits = w->prefix, i = 0;
	for (; bits >= 8; bits -= 8, i++)
		if (v->ip[i] != w->ip[i])
			return false;
	if (bits) {
		uint8_t m = (uint8_t)(0xff << (8 - bits));
		return (v->ip[i] & m) == (w->ip[i] & m);
	}
	return true;
}

static bool pmatch1(const char *s, size_t n, const struct cval *w)
{
	size_t l = w->n;
	while (l > 1 && w->s[l - 1] == '/')
		l--;
	if (n < l || memcmp(s, w->s, l))
		return false;
	return n == l || s[l] == '/' || (l == 1 && w->s[0] == '/');
}

static bool cmp_str(const struct ccheck *c, const struct cond_val *v, const struct cval *w)
{
	char tmp[VALBUF + 1];
	size_t n;
	switch (c->op) {
	case OP_EQ:
	case OP_IN:
	case OP_INTERSECTS:
		return v->n == w->n && !memcmp(v->s, w->s, w->n);
	case OP_NE:
		return !(v->n == w->n && !memcmp(v->s, w->s, w->n));
	case OP_CONTAINS:
	case OP_BCONTAINS:
		return contains(v->s, v->n, w->s, w->n);
	case OP_ICONTAINS:
		return ci_contains(v->s, v->n, w->s, w->n);
	case OP_STARTSWITH:
	case OP_BSTARTSWITH:
		return v->n >= w->n && !memcmp(v->s, w->s, w->n);
	case OP_ENDSWITH:
		return v->n >= w->n && !memcmp(v->s + v->n - w->n, w->s, w->n);
	case OP_PMATCH:
		return pmatch1(v->s, v->n, w);
	case OP_GLOB:
	case OP_IGLOB:
	case OP_REGEX:
		n = v->n < VALBUF ? v->n : VALBUF;
		memcpy(tmp, v->s, n);
		tmp[n] = 0;
		if (c->op == OP_REGEX)
			return regexec(c->re, tmp, 0, NULL, 0) == 0;
		return fnmatch(w->s, tmp, c->op == OP_IGLOB ? FNM_CASEFOLD : 0) == 0;
	default:
		return false;
	}
}

static bool cmp_num(enum cond_op op, int64_t a, int64_t b)
{
	switch (op) {
	case OP_EQ: case OP_IN: case OP_INTERSECTS: return a == b;
	case OP_NE: return a != b;
	case OP_LT: return a < b;
	case OP_LE: return a <= b;
	case OP_GT: return a > b;
	case OP_GE: return a >= b;
	default: return false;
	}
}

static bool cmp1(const struct ccheck *c, const struct cond_val *v, const struct cval *w)
{
	switch (c->type) {
	case CT_STR:
		return cmp_str(c, v, w);
	case CT_NUM:
	case CT_BOOL:
		return cmp_num(c->op, v->i, w->i);
	case CT_IP:
		return c->op == OP_NE ? !ip_match(v, w) : ip_match(v, w);
	}
	return false;
}

/* One value against the check's values: lists hold when any value matches (in, intersects,
 * pmatch); other operators have one value. */
static bool match_vals(const struct ccheck *c, const struct cond_val *v)
{
	if (c->hset)
		return in_hset(c, v->s, v->n);
	if (c->type == CT_STR && (c->op == OP_IN || c->op == OP_EQ || c->op == OP_INTERSECTS)) {
		for (int i = 0; i < c->nv; i++)   /* the common case, without a call per value */
			if (c->v[i].n == v->n && !memcmp(c->v[i].s, v->s, v->n))
				return true;
		return false;
	}
	for (int i = 0; i < c->nv; i++)
		if (cmp1(c, v, &c->v[i]))
			return true;
	return false;
}

static bool eval_check(const struct cond *c, const struct ccheck *k, const void *ev)
{
	if (k->na)
		return false;
	if (k->evfast) {
		int t = c->p->evtype_of(c->p->pv, ev);
		bool hit = t >= 0 && t < COND_EVTYPES && (k->evbits[t / 64] >> (t % 64) & 1);
		return k->op == OP_NE ? !hit : hit;
	}
	char buf[VALBUF], tbuf[VALBUF];
	bool multi = c->fields[k->fi].flags & CF_MULTI;
	struct cond_val rv;
	struct cval rw;
	char rbuf[VALBUF], rtbuf[VALBUF];
	if (k->rfi >= 0) {
		if (!get_val(c, ev, k->rfi, k->rtr, k->rntr, 0, &rv, rbuf, rtbuf))
			return false;
		rw = (struct cval){ .s = (char *)rv.s, .n = rv.n, .i = rv.i, .family = rv.family,
				    .prefix = rv.family == 4 ? 32 : 128 };
		memcpy(rw.ip, rv.ip, 16);
	}
	for (int idx = 0;; idx++) {
		struct cond_val v;
		if (!get_val(c, ev, k->fi, k->tr, k->ntr, idx, &v, buf, tbuf))
			return false;
		if (k->op == OP_EXISTS)
			return true;
		bool ok = k->rfi >= 0 ? cmp1(k, &v, &rw) : match_vals(k, &v);
		if (ok)
			return true;
		if (!multi)
			return false;
	}
}

static bool eval(const struct cond *c, const void *ev, struct cond_memo *m)
{
	int pc = c->entry, t = -1;

	while (pc >= 0) {
		const struct cins *in = &c->prog[pc];
		const struct ccheck *k = in->chk;
		bool r;

		if (k->evfast) {
			if (t < 0)
				t = c->p->evtype_of(c->p->pv, ev);
			r = t >= 0 && t < COND_EVTYPES && (k->evbits[t / 64] >> (t % 64) & 1);
			r = k->op == OP_NE ? !r : r;
		} else if (m && k->slot >= 0) {
			uint32_t *x = &m->v[k->slot];
			if (*x >> 1 != m->epoch)
				*x = m->epoch << 1 | eval_check(c, k, ev);
			r = *x & 1;
		} else {
			r = eval_check(c, k, ev);
		}
		pc = r ? in->t : in->f;
	}
	return pc == PC_TRUE;
}

bool cond_eval(const struct cond *c, const void *ev)
{
	return eval(c, ev, NULL);
}

bool cond_eval_memo(const struct cond *c, const void *ev, struct cond_memo *m)
{
	return eval(c, ev, m);
}

/* ---- checks shared between conditions --------------------------------------------------- */

/* A check's identity: what decides its result for an event. */
struct skey {
	char *b;
	size_t n, cap;
};

static void sk_put(struct skey *k, const void *p, size_t n)
{
	if (k->n + n > k->cap) {
		k->cap = (k->n + n) * 2 + 64;
		k->b = realloc(k->b, k->cap);
		if (!k->b)
			abort();
	}
	memcpy(k->b + k->n, p, n);
	k->n += n;
}

static void sk_field(struct skey *k, const struct cond_field *f, const uint8_t *tr, int ntr)
{
	sk_put(k, f->name, strlen(f->name) + 1);
	sk_put(k, &ntr, sizeof(ntr));
	sk_put(k, tr, ntr);
}

static void check_key(const struct cond *c, const struct ccheck *x, struct skey *k)
{
	k->n = 0;
	sk_field(k, &c->fields[x->fi], x->tr, x->ntr);
	sk_put(k, &x->op, sizeof(x->op));
	sk_put(k, &x->type, sizeof(x->type));
	if (x->rfi >= 0)
		sk_field(k, &c->fields[x->rfi], x->rtr, x->rntr);
	sk_put(k, &x->nv, sizeof(x->nv));
	for (int i = 0; i < x->nv; i++) {
		sk_put(k, &x->v[i].n, sizeof(x->v[i].n));
		sk_put(k, x->v[i].s, x->v[i].n);
	}
}

struct cond_share {
	struct { char *k; size_t n; uint64_t h; int slot; } *tab;   /* open addressing by hash */
	size_t cap;
	int nslots;
};

static uint64_t fnv(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 0x100000001b3ull;
	return h;
}

struct cond_share *cond_share_new(void)
{
	return cond_xcalloc(1, sizeof(struct cond_share));
}

static int share_slot(struct cond_share *s, const struct skey *k)
{
	if ((size_t)s->nslots * 2 >= s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		__typeof__(s->tab) t = cond_xcalloc(cap, sizeof(*t));
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->tab[i].k)
				continue;
			size_t j = s->tab[i].h & (cap - 1);
			while (t[j].k)
				j = (j + 1) & (cap - 1);
			t[j] = s->tab[i];
		}
		free(s->tab);
		s->tab = t;
		s->cap = cap;
	}
	uint64_t h = fnv(k->b, k->n);
	size_t j = h & (s->cap - 1);
	for (; s->tab[j].k; j = (j + 1) & (s->cap - 1))
		if (s->tab[j].h == h && s->tab[j].n == k->n && !memcmp(s->tab[j].k, k->b, k->n))
			return s->tab[j].slot;
	char *kc = malloc(k->n);
	if (!kc)
		abort();
	memcpy(kc, k->b, k->n);
	s->tab[j].k = kc;
	s->tab[j].n = k->n;
	s->tab[j].h = h;
	s->tab[j].slot = s->nslots;
	return s->nslots++;
}

static void share_node(struct cond_share *s, const struct cond *c, struct cnode *n, struct skey *k)
{
	for (int i = 0; i < n->nkids; i++)
		share_node(s, c, n->kids[i], k);
	/* a field never here and an event type test cost less than a look at the memo */
	if (n->k != N_CHECK || n->chk->na || n->chk->evfast || n->chk->fi < 0)
		return;
	check_key(c, n->chk, k);
	n->chk->slot = share_slot(s, k);
}

void cond_share_add(struct cond_share *s, struct cond *c)
{
	struct skey k = { 0 };
	if (c && c->root)
		share_node(s, c, c->root, &k);
	free(k.b);
}

int cond_share_slots(const struct cond_share *s)
{
	return s ? s->nslots : 0;
}

void cond_share_free(struct cond_share *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->cap; i++)
		free(s->tab[i].k);
	free(s->tab);
	free(s);
}

void cond_memo_init(struct cond_memo *m, const struct cond_share *s)
{
	m->n = cond_share_slots(s);
	m->v = cond_xcalloc(m->n ? m->n : 1, sizeof(*m->v));
	m->epoch = 1;   /* the zeroed slots are stale even before a cond_memo_next */
}

void cond_memo_fini(struct cond_memo *m)
{
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* ---- kernel-decidable parts ---------------------------------------------------------- */

struct kset {
	bool any, exact;
	uint64_t ev[COND_EVTYPES / 64];   /* CK_EVTYPE */
	char **v;                         /* CK_COMM / CK_PATH */
	int n;
};

static void ks_free(struct kset *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static void ks_add(struct kset *s, const char *v)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], v))
			return;
	s->v = realloc(s->v, (s->n + 1) * sizeof(*s->v));
	if (!s->v)
		abort();
	s->v[s->n++] = cond_xstrdup(v);
}

static void ks_any(struct kset *s, int dim)
{
	ks_free(s);
	s->any = true;
	s->exact = false;
	if (dim == CK_EVTYPE)
		memset(s->ev, 0xff, sizeof(s->ev));
}

static void kwalk(const struct cond *c, const struct cnode *n, int dim, bool na_false,
		  struct kset *out)
{
	memset(out, 0, sizeof(*out));
	if (n->k == N_CHECK) {
		const struct ccheck *k = n->chk;
		const struct cond_field *f = &c->fields[k->fi];
		if (na_false && k->na) {
			out->exact = true;   /* never holds: the empty set, exactly */
			return;
		}
		bool dir = dim == CK_PATH && f->kdim == CK_PATHDIR;
		bool mine = (f->kdim == dim || dir) && !k->ntr && k->rfi < 0 &&
			    !(f->flags & CF_MULTI);
		if (!mine) {
			ks_any(out, dim);
			return;
		}
		if (dim == CK_EVTYPE) {
			if (k->op != OP_EQ && k->op != OP_IN && k->op != OP_NE) {
				ks_any(out, dim);
				return;
			}
			for (int i = 0; i < k->nv; i++) {
				int t = c->p->evtype ? c->p->evtype(c->p->pv, k->v[i].s) : -1;
				if (t >= 0 && t < COND_EVTYPES)
					out->ev[t / 64] |= 1ull << (t % 64);
			}
			if (k->op == OP_NE)
				for (size_t i = 0; i < ARRAY_LEN(out->ev); i++)
					out->ev[i] = ~out->ev[i];
			out->exact = true;
			return;
		}
		bool ok = k->op == OP_EQ || k->op == OP_IN ||
			  (dim == CK_PATH && (k->op == OP_STARTSWITH || k->op == OP_PMATCH ||
					      (k->op == OP_GLOB && !dir)));
		if (!ok) {
			ks_any(out, dim);
			return;
		}
		for (int i = 0; i < k->nv; i++) {
			const char *v = k->v[i].s;
			char buf[512];

			if (dir && k->op != OP_STARTSWITH && v[0] && v[strlen(v) - 1] != '/') {
				/* fd.directory = D: the path is D/NAME */
				snprintf(buf, sizeof(buf), "%s/", v);
				v = buf;
			} else if (k->op == OP_GLOB) {
				/* a glob matches the whole path: its literal head is a prefix */
				snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(v, "*?[\\"), v);
				v = buf;
			}
			ks_add(out, v);
		}
		out->exact = dim == CK_COMM;
		return;
	}
	if (n->k == N_NOT) {
		struct kset s;
		kwalk(c, n->kids[0], dim, na_false, &s);
		if (dim == CK_EVTYPE && s.exact) {
			for (size_t i = 0; i < ARRAY_LEN(s.ev); i++)
				out->ev[i] = ~s.ev[i];
			out->exact = true;
		} else {
			ks_any(out, dim);
		}
		ks_free(&s);
		return;
	}
	/* and / or */
	bool is_and = n->k == N_AND;
	for (int i = 0; i < n->nkids; i++) {
		struct kset s;
		kwalk(c, n->kids[i], dim, na_false, &s);
		if (i == 0) {
			*out = s;
			continue;
		}
		if (dim == CK_EVTYPE) {
			for (size_t j = 0; j < ARRAY_LEN(out->ev); j++)
				out->ev[j] = is_and ? out->ev[j] & s.ev[j] : out->ev[j] | s.ev[j];
			out->exact = out->exact && s.exact;
			out->any = false;
			continue;
		}
		if (is_and) {
			if (out->any) {
				ks_free(out);
				*out = s;
				out->exact = false;
				continue;
			}
			if (!s.any) {
				if (dim == CK_COMM) {   /* intersection */
					struct kset x = { 0 };
					for (int a = 0; a < out->n; a++)
						for (int b = 0; b < s.n; b++)
							if (!strcmp(out->v[a], s.v[b]))
								ks_add(&x, out->v[a]);
					x.exact = out->exact && s.exact;
					ks_free(out);
					*out = x;
				} else {
					/* both prefix sets hold: a path starts with a of one and b of
					 * the other only when one of a, b starts the other, and then
					 * with the longer of the two */
					struct kset x = { 0 };
					for (int a = 0; a < out->n; a++)
						for (int b = 0; b < s.n; b++) {
							const char *pa = out->v[a], *pb = s.v[b];
							size_t la = strlen(pa), lb = strlen(pb);
							if (!strncmp(pa, pb, la < lb ? la : lb))
								ks_add(&x, la > lb ? pa : pb);
						}
					ks_free(out);
					*out = x;
				}
				out->exact = false;
			} else {
				out->exact = false;
			}
			ks_free(&s);
		} else {
			if (out->any || s.any) {
				ks_free(&s);
				ks_any(out, dim);
				continue;
			}
			for (int b = 0; b < s.n; b++)
				ks_add(out, s.v[b]);
			out->exact = out->exact && s.exact;
			ks_free(&s);
		}
	}
}

/* Whether the condition implies a CK_WRITE / CK_RAWPATH property (an open for writing; "../"
 * in the path as passed). */
static bool kneed(const struct cond *c, const struct cnode *n, int dim)
{
	switch (n->k) {
	case N_CHECK: {
		const struct ccheck *k = n->chk;
		const struct cond_field *f = &c->fields[k->fi];
		if (k->na)
			return true;   /* never holds: implies anything */
		if (f->kdim != dim || k->ntr || k->rfi >= 0 || k->nv < 1)
			return false;
		if (dim == CK_WRITE)
			return k->op == OP_EQ && k->nv == 1 && k->v[0].i == 1;
		if (k->op != OP_CONTAINS && k->op != OP_GLOB && k->op != OP_STARTSWITH &&
		    k->op != OP_EQ && k->op != OP_IN)
			return false;
		for (int i = 0; i < k->nv; i++) {
			/* "../" has no glob wildcard: in a glob too it stands for itself */
			if (!strstr(k->v[i].s, "../"))
				return false;
		}
		return true;
	}
	case N_NOT:
		return false;
	case N_AND:
		for (int i = 0; i < n->nkids; i++)
			if (kneed(c, n->kids[i], dim))
				return true;
		return false;
	default:
		for (int i = 0; i < n->nkids; i++)
			if (!kneed(c, n->kids[i], dim))
				return false;
		return n->nkids > 0;
	}
}

void cond_kparts(const struct cond *c, struct cond_kparts *k)
{
	memset(k, 0, sizeof(*k));
	struct kset s;
	/* the types as written (a rule's status), then without what can never hold here */
	kwalk(c, c->root, CK_EVTYPE, false, &s);
	memcpy(k->evtypes, s.ev, sizeof(k->evtypes));
	k->evtypes_any = true;
	for (size_t i = 0; i < ARRAY_LEN(s.ev); i++)
		if (~s.ev[i])
			k->evtypes_any = false;
	kwalk(c, c->root, CK_EVTYPE, true, &s);
	memcpy(k->evlive, s.ev, sizeof(k->evlive));
	kwalk(c, c->root, CK_COMM, true, &s);
	k->comm_any = s.any;
	k->comm = s.v;
	k->ncomm = s.n;
	kwalk(c, c->root, CK_PATH, true, &s);
	k->path_any = s.any;
	k->path = s.v;
	k->npath = s.n;
	k->need_write = kneed(c, c->root, CK_WRITE);
	k->need_dotdot = kneed(c, c->root, CK_RAWPATH);
}

void cond_kparts_free(struct cond_kparts *k)
{
	for (int i = 0; i < k->ncomm; i++)
		free(k->comm[i]);
	for (int i = 0; i < k->npath; i++)
		free(k->path[i]);
	free(k->comm);
	free(k->path);
	memset(k, 0, sizeof(*k));
}
