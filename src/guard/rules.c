// SPDX-License-Identifier: BSD-2-Clause
/* The Falco rules loader. Files are read whole and parsed with libyaml's document API, which
 * keeps every node's position; conditions keep where each of their pieces came from (a
 * condition with appends is several YAML scalars), so an error inside a condition, even inside
 * a macro or a folded block scalar, is reported at its file, line and column.
 * Items are applied in order as Falco does: a later rule/macro/list of the same name replaces
 * the earlier one; `append: true` or `override:` change an existing one; a rule item with
 * only `enabled` switches an existing rule. Rules are compiled after every file is read, so
 * macros and lists may be defined after their use. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

#include "guard/cond_int.h"
#include "guard/fields.h"
#include "guard/gevent.h"
#include "guard/rules.h"

#define MAX_FILE_SIZE (256u << 20)
#define MAX_SEGS 16

const char *const rule_status_names[] = { "evaluable", "degraded", "not_evaluable", "disabled" };
const char *const rule_prio_names[] = { "Emergency", "Alert", "Critical", "Error", "Warning",
					"Notice", "Informational", "Debug" };

struct src {
	char *name;
	char *text;
	size_t len;
};

/* Where a piece of a condition came from. */
struct seg {
	int src;
	size_t start, end;      /* the scalar's bytes in its file */
	int line, col;          /* 0-based, of start */
	yaml_scalar_style_t style;
	size_t off;             /* where the piece begins in the joined text */
};

struct ctext {
	char *s;
	struct seg seg[MAX_SEGS];
	int nseg;
};

struct l_list {
	char *name;
	char **items;
	int n;
};

struct l_macro {
	char *name;
	struct ctext t;
	struct cond_ast *ast;
};

struct exval {
	char **v;
	int n;
	bool is_list;
};

struct l_exc {
	char *name;
	char **fields;
	int nf;
	bool single;            /* fields: a scalar */
	char **comps;
	int ncomps;
	struct exval **tuples;  /* ntuples x nf (single: ntuples x 1) */
	int ntuples;
	struct seg where;
};

struct l_rule {
	struct guard_rule r;
	struct ctext t;
	struct l_exc *exc;
	int nexc;
	bool skip_unknown;
	struct seg where;
};

struct loader {
	struct src *srcs;
	int nsrcs;
	struct l_list *lists;
	int nlists;
	struct l_macro *macros;
	int nmacros;
	struct l_rule **rules;
	int nrules;
	char *engine;
	struct guard_plugin_req *plugins;
	int nplugins;
	char *err;
	size_t errlen;
	bool failed;
	/* current document */
	yaml_document_t *doc;
	int cur;
};

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		abort();
	return p;
}

#define GROW(arr, n) ((arr) = xrealloc((arr), ((n) + 1) * sizeof(*(arr))))

static void lerr_at(struct loader *L, int src, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void lerr_at(struct loader *L, int src, int line, int col, const char *fmt, ...)
{
	if (L->failed)
		return;
	L->failed = true;
	int o = snprintf(L->err, L->errlen, "%s:%d:%d: ", src >= 0 ? L->srcs[src].name : "?",
			 line + 1, col + 1);
	if (o < 0 || (size_t)o >= L->errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(L->err + o, L->errlen - o, fmt, ap);
	va_end(ap);
}

#define lerr(L, node, ...) \
	lerr_at(L, L->cur, (node) ? (int)(node)->start_mark.line : 0, \
		(node) ? (int)(node)->start_mark.column : 0, __VA_ARGS__)

/* ---- yaml helpers ---------------------------------------------------------------------- */

static yaml_node_t *node(struct loader *L, int i) { return yaml_document_get_node(L->doc, i); }

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *map_get(struct loader *L, yaml_node_t *m, const char *key)
{
	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const char *k = scalar(node(L, p->key));
		if (k && !strcmp(k, key))
			return node(L, p->value);
	}
	return NULL;
}

/* A key whose value must be a scalar; NULL (no error) when absent. */
static const char *map_str(struct loader *L, yaml_node_t *m, const char *key, bool *bad)
{
	yaml_node_t *v = map_get(L, m, key);
	if (!v)
		return NULL;
	if (v->type != YAML_SCALAR_NODE) {
		lerr(L, v, "'%s' must be a string", key);
		*bad = true;
		return NULL;
	}
	return scalar(v);
}

static int parse_bool(const char *s)
{
	if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on"))
		return 1;
	if (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off"))
		return 0;
	return -1;
}

static struct seg seg_of(struct loader *L, yaml_node_t *n)
{
	return (struct seg){ .src = L->cur, .start = n->start_mark.index, .end = n->end_mark.index,
			     .line = (int)n->start_mark.line, .col = (int)n->start_mark.column,
			     .style = n->type == YAML_SCALAR_NODE ? n->data.scalar.style : 0 };
}

/* Strings of a sequence of scalars (or a flow list). */
static void strs_free(char **v, int n);

static char **seq_strs(struct loader *L, yaml_node_t *n, int *cnt, const char *what)
{
	*cnt = 0;
	if (!n)
		return NULL;
	if (n->type != YAML_SEQUENCE_NODE) {
		lerr(L, n, "'%s' must be a list", what);
		return NULL;
	}
	char **v = NULL;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *x = node(L, *it);
		if (!scalar(x)) {
			lerr(L, x, "items of '%s' must be strings", what);
			strs_free(v, *cnt);
			*cnt = 0;
			return NULL;
		}
		GROW(v, *cnt);
		v[(*cnt)++] = cond_xstrdup(scalar(x));
	}
	return v;
}

static void strs_free(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- condition texts ------------------------------------------------------------------- */

static void ctext_set(struct ctext *t, struct loader *L, yaml_node_t *n)
{
	free(t->s);
	t->s = cond_xstrdup(scalar(n));
	t->nseg = 1;
	t->seg[0] = seg_of(L, n);
	t->seg[0].off = 0;
}

static bool ctext_append(struct ctext *t, struct loader *L, yaml_node_t *n)
{
	if (t->nseg == MAX_SEGS) {
		lerr(L, n, "too many appends to one condition (at most %d)", MAX_SEGS - 1);
		return false;
	}
	size_t a = strlen(t->s), b = strlen(scalar(n));
	t->s = xrealloc(t->s, a + b + 2);
	t->s[a] = ' ';
	memcpy(t->s + a + 1, scalar(n), b + 1);
	t->seg[t->nseg] = seg_of(L, n);
	t->seg[t->nseg++].off = a + 1;
	return true;
}

static void ctext_free(struct ctext *t)
{
	free(t->s);
	t->s = NULL;
	t->nseg = 0;
}

/* Maps a line/col of the joined text to its file position: the k-th non-blank character of
 * a piece is the k-th non-blank character of its YAML scalar (folding and indentation only
 * change blanks). */
static void ctext_pos(struct loader *L, const struct ctext *t, int line, int col, int *src,
		      int *fline, int *fcol)
{
	size_t off = 0;
	for (int l = 1, c = 1; t->s[off] && (l < line || (l == line && c < col)); off++) {
		if (t->s[off] == '\n') {
			l++;
			c = 1;
		} else {
			c++;
		}
	}
	int si = 0;
	while (si + 1 < t->nseg && t->seg[si + 1].off <= off)
		si++;
	const struct seg *s = &t->seg[si];
	size_t k = 0;
	for (size_t i = s->off; i < off && t->s[i]; i++)
		if (!isspace((unsigned char)t->s[i]))
			k++;
	const char *raw = L->srcs[s->src].text;
	size_t i = s->start;
	int fl = s->line, fc = s->col;
	if (s->style == YAML_LITERAL_SCALAR_STYLE || s->style == YAML_FOLDED_SCALAR_STYLE) {
		while (i < s->end && raw[i] != '\n') {   /* the ">" header line */
			i++;
			fc++;
		}
	} else if (s->style == YAML_SINGLE_QUOTED_SCALAR_STYLE || s->style == YAML_DOUBLE_QUOTED_SCALAR_STYLE) {
		i++;
		fc++;
	}
	for (; i < s->end; i++) {
		if (raw[i] == '\n') {
			fl++;
			fc = 0;
			continue;
		}
		if (!isspace((unsigned char)raw[i])) {
			if (k == 0)
				break;
			k--;
		}
		fc++;
	}
	*src = s->src;
	*fline = fl;
	*fcol = fc;
}

/* ---- items ----------------------------------------------------------------------------- */

static struct l_list *find_list(struct loader *L, const char *n)
{
	for (int i = L->nlists - 1; i >= 0; i--)
		if (!strcmp(L->lists[i].name, n))
			return &L->lists[i];
	return NULL;
}

static struct l_macro *find_macro(struct loader *L, const char *n)
{
	for (int i = L->nmacros - 1; i >= 0; i--)
		if (!strcmp(L->macros[i].name, n))
			return &L->macros[i];
	return NULL;
}

static struct l_rule *find_rule(struct loader *L, const char *n)
{
	for (int i = L->nrules - 1; i >= 0; i--)
		if (!strcmp(L->rules[i]->r.name, n))
			return L->rules[i];
	return NULL;
}

/* append: true (legacy) or override: {key: append|replace}: which mode applies to key.
 * 0 = define, 'a' append, 'r' replace. */
static int item_mode(struct loader *L, yaml_node_t *item, const char *key, bool *bad)
{
	yaml_node_t *ap = map_get(L, item, "append");
	if (ap) {
		int b = scalar(ap) ? parse_bool(scalar(ap)) : -1;
		if (b < 0) {
			lerr(L, ap, "'append' must be true or false");
			*bad = true;
			return 0;
		}
		if (b)
			return 'a';
	}
	yaml_node_t *ov = map_get(L, item, "override");
	if (!ov)
		return 0;
	if (ov->type != YAML_MAPPING_NODE) {
		lerr(L, ov, "'override' must be a map of keys to append or replace");
		*bad = true;
		return 0;
	}
	const char *m = map_str(L, ov, key, bad);
	if (!m)
		return 'o';   /* override item, this key not overridden */
	if (!strcmp(m, "append"))
		return 'a';
	if (!strcmp(m, "replace"))
		return 'r';
	lerr(L, map_get(L, ov, key), "override of '%s' must be 'append' or 'replace', not '%s'", key, m);
	*bad = true;
	return 0;
}

static void do_list(struct loader *L, yaml_node_t *item)
{
	bool bad = false;
	const char *name = map_str(L, item, "list", &bad);
	yaml_node_t *items = map_get(L, item, "items");
	if (bad)
		return;
	if (!name || !*name) {
		lerr(L, item, "list without a name");
		return;
	}
	if (!items) {
		lerr(L, item, "list '%s' has no 'items'", name);
		return;
	}
	int n;
	char **v = seq_strs(L, items, &n, "items");
	if (L->failed)
		return;
	int mode = item_mode(L, item, "items", &bad);
	if (bad) {
		strs_free(v, n);
		return;
	}
	struct l_list *old = find_list(L, name);
	if (mode == 'a') {
		if (!old) {
			lerr(L, item, "list '%s' is appended to but no list of that name exists", name);
			strs_free(v, n);
			return;
		}
		old->items = xrealloc(old->items, (old->n + n) * sizeof(char *));
		memcpy(old->items + old->n, v, n * sizeof(char *));
		old->n += n;
		free(v);
		return;
	}
	if (mode && !old) {
		lerr(L, item, "list '%s' is overridden but no list of that name exists", name);
		strs_free(v, n);
		return;
	}
	if (old) {
		strs_free(old->items, old->n);
		old->items = v;
		old->n = n;
		return;
	}
	GROW(L->lists, L->nlists);
	L->lists[L->nlists++] = (struct l_list){ cond_xstrdup(name), v, n };
}

static void cond_error(struct loader *L, const struct ctext *t, const struct cond_err *e,
		       const char *what)
{
	int src, line, col;
	ctext_pos(L, t, e->line, e->col, &src, &line, &col);
	lerr_at(L, src, line, col, "%s: %s", what, e->msg);
}

static void do_macro(struct loader *L, yaml_node_t *item)
{
	bool bad = false;
	const char *name = map_str(L, item, "macro", &bad);
	yaml_node_t *c = map_get(L, item, "condition");
	if (bad)
		return;
	if (!name || !*name) {
		lerr(L, item, "macro without a name");
		return;
	}
	if (!c || !scalar(c)) {
		lerr(L, c ? c : item, "macro '%s' needs a 'condition' string", name);
		return;
	}
	int mode = item_mode(L, item, "condition", &bad);
	if (bad)
		return;
	struct l_macro *m = find_macro(L, name);
	if (mode && !m) {
		lerr(L, item, "macro '%s' is %s but no macro of that name exists", name,
		     mode == 'a' ? "appended to" : "overridden");
		return;
	}
	if (!m) {
		GROW(L->macros, L->nmacros);
		m = &L->macros[L->nmacros++];
		memset(m, 0, sizeof(*m));
		m->name = cond_xstrdup(name);
	}
	if (mode == 'a') {
		if (!ctext_append(&m->t, L, c))
			return;
	} else {
		ctext_set(&m->t, L, c);
	}
	cond_ast_free(m->ast);
	struct cond_err e;
	m->ast = cond_parse(m->t.s, &e);
	if (!m->ast) {
		char what[96];
		snprintf(what, sizeof(what), "macro '%s'", name);
		cond_error(L, &m->t, &e, what);
	}
}

static int parse_prio(const char *s)
{
	static const char *const alt[] = { "emergency", "alert", "critical", "error", "warning",
					   "notice", "informational", "debug" };
	for (size_t i = 0; i < ARRAY_LEN(alt); i++)
		if (!strcasecmp(s, alt[i]))
			return (int)i;
	if (!strcasecmp(s, "info"))
		return PRIO_INFORMATIONAL;
	if (!strcasecmp(s, "warn"))
		return PRIO_WARNING;
	return -1;
}

static void exc_free(struct l_exc *x)
{
	free(x->name);
	strs_free(x->fields, x->nf);
	strs_free(x->comps, x->ncomps);
	int w = x->single ? 1 : x->nf;
	for (int t = 0; t < x->ntuples; t++) {
		for (int j = 0; j < w; j++)
			strs_free(x->tuples[t][j].v, x->tuples[t][j].n);
		free(x->tuples[t]);
	}
	free(x->tuples);
}

/* values of an exception appended to x. */
static bool exc_values(struct loader *L, struct l_exc *x, yaml_node_t *vals)
{
	if (!vals)
		return true;
	if (vals->type != YAML_SEQUENCE_NODE) {
		lerr(L, vals, "exception '%s': 'values' must be a list", x->name);
		return false;
	}
	for (yaml_node_item_t *it = vals->data.sequence.items.start; it < vals->data.sequence.items.top; it++) {
		yaml_node_t *t = node(L, *it);
		struct exval *tv = cond_xcalloc(x->single ? 1 : x->nf, sizeof(*tv));
		GROW(x->tuples, x->ntuples);
		x->tuples[x->ntuples++] = tv;
		if (x->single) {
			if (!scalar(t)) {
				lerr(L, t, "exception '%s': with one field, each value is a string", x->name);
				return false;
			}
			tv->v = cond_xcalloc(1, sizeof(char *));
			tv->v[0] = cond_xstrdup(scalar(t));
			tv->n = 1;
			continue;
		}
		if (t->type != YAML_SEQUENCE_NODE) {
			lerr(L, t, "exception '%s': each value must be a list of %d items (one per field)",
			     x->name, x->nf);
			return false;
		}
		int n = (int)(t->data.sequence.items.top - t->data.sequence.items.start);
		if (n != x->nf) {
			lerr(L, t, "exception '%s': a value has %d items for %d fields", x->name, n, x->nf);
			return false;
		}
		for (int j = 0; j < n; j++) {
			yaml_node_t *e = node(L, t->data.sequence.items.start[j]);
			if (e->type == YAML_SEQUENCE_NODE) {
				tv[j].v = seq_strs(L, e, &tv[j].n, "exception values");
				tv[j].is_list = true;
				if (L->failed)
					return false;
			} else if (scalar(e)) {
				tv[j].v = cond_xcalloc(1, sizeof(char *));
				tv[j].v[0] = cond_xstrdup(scalar(e));
				tv[j].n = 1;
			} else {
				lerr(L, e, "exception '%s': a value item must be a string or a list", x->name);
				return false;
			}
		}
	}
	return true;
}

static bool do_exceptions(struct loader *L, struct l_rule *R, yaml_node_t *ex, bool append)
{
	if (ex->type != YAML_SEQUENCE_NODE) {
		lerr(L, ex, "rule '%s': 'exceptions' must be a list", R->r.name);
		return false;
	}
	for (yaml_node_item_t *it = ex->data.sequence.items.start; it < ex->data.sequence.items.top; it++) {
		yaml_node_t *e = node(L, *it);
		bool bad = false;
		const char *name = map_str(L, e, "name", &bad);
		if (bad)
			return false;
		if (!name) {
			lerr(L, e, "rule '%s': an exception needs a 'name'", R->r.name);
			return false;
		}
		struct l_exc *x = NULL;
		if (append)
			for (int i = 0; i < R->nexc; i++)
				if (!strcmp(R->exc[i].name, name))
					x = &R->exc[i];
		if (x) {   /* appending values to an existing exception */
			if (!exc_values(L, x, map_get(L, e, "values")))
				return false;
			continue;
		}
		GROW(R->exc, R->nexc);
		x = &R->exc[R->nexc++];
		memset(x, 0, sizeof(*x));
		x->name = cond_xstrdup(name);
		x->where = seg_of(L, e);
		yaml_node_t *f = map_get(L, e, "fields");
		if (!f) {
			lerr(L, e, "exception '%s' has no 'fields'", name);
			return false;
		}
		if (scalar(f)) {
			x->single = true;
			x->fields = cond_xcalloc(1, sizeof(char *));
			x->fields[0] = cond_xstrdup(scalar(f));
			x->nf = 1;
		} else {
			x->fields = seq_strs(L, f, &x->nf, "fields");
			if (L->failed)
				return false;
		}
		yaml_node_t *c = map_get(L, e, "comps");
		if (c && scalar(c)) {
			x->comps = cond_xcalloc(1, sizeof(char *));
			x->comps[0] = cond_xstrdup(scalar(c));
			x->ncomps = 1;
		} else if (c) {
			x->comps = seq_strs(L, c, &x->ncomps, "comps");
			if (L->failed)
				return false;
		}
		if (!x->single && x->ncomps && x->ncomps != x->nf) {
			lerr(L, c, "exception '%s': %d comps for %d fields", name, x->ncomps, x->nf);
			return false;
		}
		for (int i = 0; i < x->ncomps; i++)
			if (cond_op_parse(x->comps[i]) < 0) {
				lerr(L, c, "exception '%s': unknown comparison '%s'", name, x->comps[i]);
				return false;
			}
		if (!exc_values(L, x, map_get(L, e, "values")))
			return false;
	}
	return true;
}

static void rule_free(struct l_rule *R)
{
	if (!R)
		return;
	struct guard_rule *r = &R->r;
	free(r->name);
	free(r->desc);
	free(r->output);
	free(r->source);
	free(r->file);
	strs_free(r->tags, r->ntags);
	cond_free(r->cond);
	cond_kparts_free(&r->kp);
	for (int i = 0; i < r->nparts; i++)
		free(r->parts[i].lit);
	free(r->parts);
	free(r->ofields);
	ctext_free(&R->t);
	for (int i = 0; i < R->nexc; i++)
		exc_free(&R->exc[i]);
	free(R->exc);
	free(R);
}

static bool set_str_key(struct loader *L, yaml_node_t *item, const char *key, char **dst,
			int mode, const char *sep)
{
	bool bad = false;
	const char *v = map_str(L, item, key, &bad);
	if (bad)
		return false;
	if (!v)
		return true;
	if (mode == 'a' && *dst) {
		size_t a = strlen(*dst);
		*dst = xrealloc(*dst, a + strlen(sep) + strlen(v) + 1);
		strcat(strcat(*dst, sep), v);
	} else {
		free(*dst);
		*dst = cond_xstrdup(v);
	}
	return true;
}

static void do_rule(struct loader *L, yaml_node_t *item)
{
	bool bad = false;
	const char *name = map_str(L, item, "rule", &bad);
	if (bad)
		return;
	if (!name || !*name) {
		lerr(L, item, "rule without a name");
		return;
	}
	yaml_node_t *cond = map_get(L, item, "condition");
	yaml_node_t *en = map_get(L, item, "enabled");
	int enabled = -1;
	if (en) {
		enabled = scalar(en) ? parse_bool(scalar(en)) : -1;
		if (enabled < 0) {
			lerr(L, en, "rule '%s': 'enabled' must be true or false", name);
			return;
		}
	}
	bool has_ov = map_get(L, item, "override") || map_get(L, item, "append");
	struct l_rule *R = find_rule(L, name);
	if (has_ov) {
		if (!R) {
			lerr(L, item, "rule '%s' is appended to or overridden but no rule of that name exists",
			     name);
			return;
		}
		static const char *const keys[] = { "condition", "output", "desc", "priority", "tags",
						    "exceptions", "enabled", "source" };
		for (size_t k = 0; k < ARRAY_LEN(keys); k++) {
			yaml_node_t *v = map_get(L, item, keys[k]);
			if (!v)
				continue;
			int mode = item_mode(L, item, keys[k], &bad);
			if (bad)
				return;
			if (mode == 'o') {
				lerr(L, v, "rule '%s': '%s' is given but not listed under 'override'",
				     name, keys[k]);
				return;
			}
			if (!strcmp(keys[k], "condition")) {
				if (!scalar(v)) {
					lerr(L, v, "rule '%s': 'condition' must be a string", name);
					return;
				}
				if (mode == 'a') {
					if (!ctext_append(&R->t, L, v))
						return;
				} else {
					ctext_set(&R->t, L, v);
				}
			} else if (!strcmp(keys[k], "output")) {
				if (!set_str_key(L, item, "output", &R->r.output, mode, " "))
					return;
			} else if (!strcmp(keys[k], "desc")) {
				if (!set_str_key(L, item, "desc", &R->r.desc, mode, " "))
					return;
			} else if (!strcmp(keys[k], "source")) {
				if (!set_str_key(L, item, "source", &R->r.source, 'r', ""))
					return;
			} else if (!strcmp(keys[k], "priority")) {
				int p = scalar(v) ? parse_prio(scalar(v)) : -1;
				if (p < 0) {
					lerr(L, v, "rule '%s': unknown priority '%s'", name, scalar(v) ? scalar(v) : "");
					return;
				}
				R->r.prio = p;
			} else if (!strcmp(keys[k], "tags")) {
				int n;
				char **t = seq_strs(L, v, &n, "tags");
				if (L->failed)
					return;
				if (mode == 'r') {
					strs_free(R->r.tags, R->r.ntags);
					R->r.tags = NULL;
					R->r.ntags = 0;
				}
				R->r.tags = xrealloc(R->r.tags, (R->r.ntags + n) * sizeof(char *));
				memcpy(R->r.tags + R->r.ntags, t, n * sizeof(char *));
				R->r.ntags += n;
				free(t);
			} else if (!strcmp(keys[k], "exceptions")) {
				if (mode == 'r') {
					for (int i = 0; i < R->nexc; i++)
						exc_free(&R->exc[i]);
					R->nexc = 0;
				}
				if (!do_exceptions(L, R, v, mode == 'a'))
					return;
			} else if (!strcmp(keys[k], "enabled")) {
				R->r.enabled = enabled;
			}
		}
		return;
	}
	if (!cond) {
		if (enabled >= 0 && R) {   /* an enabled override */
			R->r.enabled = enabled;
			return;
		}
		if (enabled >= 0) {
			lerr(L, item, "rule '%s': 'enabled' given for a rule that does not exist", name);
			return;
		}
		lerr(L, item, "rule '%s' has no 'condition'", name);
		return;
	}
	if (!scalar(cond)) {
		lerr(L, cond, "rule '%s': 'condition' must be a string", name);
		return;
	}
	static const char *const need[] = { "output", "priority" };
	for (size_t k = 0; k < ARRAY_LEN(need); k++)
		if (!map_get(L, item, need[k])) {
			lerr(L, item, "rule '%s' has no '%s'", name, need[k]);
			return;
		}
	struct l_rule *N = cond_xcalloc(1, sizeof(*N));
	N->r.name = cond_xstrdup(name);
	N->r.enabled = enabled != 0;
	N->r.file = cond_xstrdup(L->srcs[L->cur].name);
	N->r.line = (int)item->start_mark.line + 1;
	N->where = seg_of(L, item);
	ctext_set(&N->t, L, cond);
	const char *pr = map_str(L, item, "priority", &bad);
	int p = pr ? parse_prio(pr) : -1;
	if (!bad && p < 0)
		lerr(L, map_get(L, item, "priority"), "rule '%s': unknown priority '%s'", name, pr ? pr : "");
	N->r.prio = p < 0 ? PRIO_DEBUG : p;
	if (!L->failed)
		set_str_key(L, item, "output", &N->r.output, 0, "");
	if (!L->failed)
		set_str_key(L, item, "desc", &N->r.desc, 0, "");
	if (!L->failed)
		set_str_key(L, item, "source", &N->r.source, 0, "");
	yaml_node_t *tags = map_get(L, item, "tags");
	if (!L->failed && tags)
		N->r.tags = seq_strs(L, tags, &N->r.ntags, "tags");
	yaml_node_t *sk = map_get(L, item, "skip-if-unknown-filter");
	if (!L->failed && sk)
		N->skip_unknown = scalar(sk) && parse_bool(scalar(sk)) == 1;
	yaml_node_t *ex = map_get(L, item, "exceptions");
	if (!L->failed && ex)
		do_exceptions(L, N, ex, false);
	if (L->failed) {
		rule_free(N);
		return;
	}
	if (R) {   /* a redefinition replaces the rule in place */
		for (int i = 0; i < L->nrules; i++)
			if (L->rules[i] == R) {
				rule_free(R);
				L->rules[i] = N;
			}
		return;
	}
	GROW(L->rules, L->nrules);
	L->rules[L->nrules++] = N;
}

static void do_plugins(struct loader *L, yaml_node_t *v)
{
	if (v->type != YAML_SEQUENCE_NODE) {
		lerr(L, v, "'required_plugin_versions' must be a list");
		return;
	}
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *p = node(L, *it);
		bool bad = false;
		const char *n = map_str(L, p, "name", &bad), *ver = map_str(L, p, "version", &bad);
		if (bad)
			return;
		if (!n || !ver) {
			lerr(L, p, "a required plugin needs 'name' and 'version'");
			return;
		}
		GROW(L->plugins, L->nplugins);
		L->plugins[L->nplugins++] = (struct guard_plugin_req){ cond_xstrdup(n), cond_xstrdup(ver) };
	}
}

static void do_item(struct loader *L, yaml_node_t *item)
{
	if (item->type != YAML_MAPPING_NODE) {
		lerr(L, item, "a rules file item must be a map (rule, macro, list, ...)");
		return;
	}
	if (map_get(L, item, "rule")) {
		do_rule(L, item);
	} else if (map_get(L, item, "macro")) {
		do_macro(L, item);
	} else if (map_get(L, item, "list")) {
		do_list(L, item);
	} else if (map_get(L, item, "required_engine_version")) {
		const char *v = scalar(map_get(L, item, "required_engine_version"));
		if (!v) {
			lerr(L, item, "'required_engine_version' must be a version");
			return;
		}
		free(L->engine);
		L->engine = cond_xstrdup(v);
	} else if (map_get(L, item, "required_plugin_versions")) {
		do_plugins(L, map_get(L, item, "required_plugin_versions"));
	} else {
		const char *k = item->data.mapping.pairs.start < item->data.mapping.pairs.top ?
				scalar(node(L, item->data.mapping.pairs.start->key)) : NULL;
		lerr(L, item, "unknown item '%s' (expected rule, macro, list, required_engine_version "
		     "or required_plugin_versions)", k ? k : "");
	}
}

static void load_text(struct loader *L, int si)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	L->cur = si;
	if (!yaml_parser_initialize(&parser)) {
		lerr_at(L, si, 0, 0, "cannot start the YAML parser");
		return;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)L->srcs[si].text, L->srcs[si].len);
	for (;;) {
		if (!yaml_parser_load(&parser, &doc)) {
			lerr_at(L, si, (int)parser.problem_mark.line, (int)parser.problem_mark.column,
				"YAML: %s%s%s", parser.problem ? parser.problem : "syntax error",
				parser.context ? " " : "", parser.context ? parser.context : "");
			break;
		}
		yaml_node_t *root = yaml_document_get_root_node(&doc);
		if (!root) {   /* end of stream */
			yaml_document_delete(&doc);
			break;
		}
		L->doc = &doc;
		if (root->type == YAML_SCALAR_NODE && !*scalar(root)) {
			/* an empty document */
		} else if (root->type != YAML_SEQUENCE_NODE) {
			lerr(L, root, "a rules file must be a YAML list of items");
		} else {
			for (yaml_node_item_t *it = root->data.sequence.items.start;
			     it < root->data.sequence.items.top && !L->failed; it++)
				do_item(L, node(L, *it));
		}
		L->doc = NULL;
		yaml_document_delete(&doc);
		if (L->failed)
			break;
	}
	yaml_parser_delete(&parser);
}

/* ---- compiling ------------------------------------------------------------------------- */

static const struct cond_ast *env_macro(void *e, const char *name)
{
	struct l_macro *m = find_macro(e, name);
	return m ? m->ast : NULL;
}

static const char *const *env_list(void *e, const char *name, int *n)
{
	struct l_list *l = find_list(e, name);
	if (!l)
		return NULL;
	*n = l->n;
	return (const char *const *)l->items;
}

/* Falco: cond and not ((f1 c1 v1 and f2 c2 v2) or ...) over every exception. */
static struct cond_ast *exceptions_ast(struct loader *L, struct l_rule *R, struct cond_ast *a)
{
	for (int i = 0; i < R->nexc; i++) {
		struct l_exc *x = &R->exc[i];
		struct cond_ast *any = NULL;
		for (int t = 0; t < x->ntuples; t++) {
			struct cond_ast *all = NULL;
			struct cond_err e;
			if (x->single) {
				const char *op = x->ncomps ? x->comps[0] : "in";
				int nv = x->ntuples;
				const char *vals[nv];
				for (int j = 0; j < nv; j++)
					vals[j] = x->tuples[j][0].v[0];
				all = cond_ast_check(x->fields[0], op, vals, nv, true, &e);
				if (all)
					all->line = -(i + 1);
				t = x->ntuples;   /* one check holds every value */
			} else {
				for (int j = 0; j < x->nf; j++) {
					const char *op = x->ncomps ? x->comps[j] : "=";
					struct exval *v = &x->tuples[t][j];
					int o = cond_op_parse(op);
					bool list = v->is_list || o == OP_IN || o == OP_INTERSECTS || o == OP_PMATCH;
					struct cond_ast *c = cond_ast_check(x->fields[j], op,
									    (const char *const *)v->v, v->n, list, &e);
					if (c)
						c->line = -(i + 1);   /* compile errors name the exception */
					if (!c) {
						cond_ast_free(all);
						all = NULL;
						break;
					}
					all = all ? cond_ast_and(all, c) : c;
				}
			}
			if (!all) {
				lerr_at(L, x->where.src, x->where.line, x->where.col,
					"rule '%s': exception '%s': %s", R->r.name, x->name, e.msg);
				cond_ast_free(any);
				return a;
			}
			any = any ? cond_ast_or(any, all) : all;
		}
		if (any)
			a = cond_ast_and(a, cond_ast_not(any));
	}
	return a;
}

/* %field and %field[arg] in an output. */
static void parse_output(struct loader *L, struct l_rule *R, const struct cond_provider *p)
{
	struct guard_rule *r = &R->r;
	const char *s = r->output ? r->output : "";
	size_t lit_start = 0, i = 0;
	while (s[i]) {
		if (s[i] != '%' || !(isalpha((unsigned char)s[i + 1]))) {
			i++;
			continue;
		}
		size_t j = i + 1;
		while (isalnum((unsigned char)s[j]) || s[j] == '_' || (s[j] == '.' && isalnum((unsigned char)s[j + 1])))
			j++;
		char name[64], arg[64] = "";
		snprintf(name, sizeof(name), "%.*s", (int)(j - i - 1), s + i + 1);
		bool has_arg = false;
		if (s[j] == '[') {
			const char *e = strchr(s + j, ']');
			if (e) {
				snprintf(arg, sizeof(arg), "%.*s", (int)(e - s - j - 1), s + j + 1);
				has_arg = true;
				j = e - s + 1;
			}
		}
		struct cond_field f = { .argi = -1 };
		char why[160];
		if (p->resolve(p->pv, name, has_arg ? arg : NULL, &f, why, sizeof(why)) < 0) {
			lerr_at(L, R->where.src, R->where.line, R->where.col, "rule '%s': output: %s",
				r->name, why);
			return;
		}
		snprintf(f.name, sizeof(f.name), has_arg ? "%s[%s]" : "%s", name, arg);
		int fi = -1;
		for (int k = 0; k < r->nofields; k++)
			if (!strcmp(r->ofields[k].name, f.name))
				fi = k;
		if (fi < 0) {
			GROW(r->ofields, r->nofields);
			r->ofields[r->nofields] = f;
			fi = r->nofields++;
		}
		GROW(r->parts, r->nparts);
		r->parts[r->nparts++] = (struct out_part){
			.lit = cond_xstrdup(""), .field = fi };
		free(r->parts[r->nparts - 1].lit);
		r->parts[r->nparts - 1].lit = strndup(s + lit_start, i - lit_start);
		i = lit_start = j;
	}
	GROW(r->parts, r->nparts);
	r->parts[r->nparts++] = (struct out_part){ .lit = strdup(s + lit_start), .field = -1 };
}

static const char *plugin_of(const char *source)
{
	static const struct { const char *src, *plugin; } m[] = {
		{ "k8s_audit", "k8saudit" }, { "aws_cloudtrail", "cloudtrail" },
		{ "gcp_auditlog", "gcpaudit" }, { "okta", "okta" }, { "github", "github" },
	};
	for (size_t i = 0; i < ARRAY_LEN(m); i++)
		if (!strcmp(m[i].src, source))
			return m[i].plugin;
	return source;
}

static void status_of(struct guard_rule *r)
{
	char *o = r->reason;
	size_t n = sizeof(r->reason), k = 0;
	o[0] = 0;
	/* event types the rule needs that ebee has, and those it lacks */
	int have = 0, lack = 0;
	char lacking[256] = "";
	size_t lk = 0;
	for (int i = 0; i < guard_evtype_count(); i++) {
		if (!cond_kparts_has_evtype(&r->kp, i) || r->kp.evtypes_any)
			continue;
		if (guard_evtype_source(i))
			have++;
		else if (++lack && lk < sizeof(lacking)) {
			/* never form a pointer past the buffer: once truncated, stop appending */
			lk += snprintf(lacking + lk, sizeof(lacking) - lk, "%s%s", lk ? ", " : "",
				       guard_evtype_name(i));
		}
	}
	if (lk >= sizeof(lacking))
		lk = sizeof(lacking) - 1;
	if (!r->kp.evtypes_any && !have) {
		r->status = RS_NOT_EVALUABLE;
		if (lack)
			snprintf(o, n, "event type %s not captured by ebee", lacking);
		else
			snprintf(o, n, "its condition matches no event type");
		return;
	}
	char na[384] = "";
	size_t nk = 0;
	char why[96] = "";
	for (int i = 0; cond_field_at(r->cond, i); i++) {
		const struct cond_field *f = cond_field_at(r->cond, i);
		if (guard_field_na_reason(f, why, sizeof(why)) && nk < sizeof(na))
			nk += snprintf(na + nk, sizeof(na) - nk, "%s%s", nk ? ", " : "", f->name);
	}
	if (nk) {
		r->status = RS_DEGRADED;
		k += snprintf(o + k, n - k, "unknown here, compared as <NA>: %s", na);
	} else {
		r->status = RS_EVALUABLE;
	}
	if (r->kp.evtypes_any && k < n)
		k += snprintf(o + k, n - k, "%smatches every event type", k ? "; " : "");
	if (lack && k < n)
		snprintf(o + k, n - k, "%sevent type %s not captured by ebee", k ? "; " : "", lacking);
}

static void compile_rules(struct loader *L, const struct cond_provider *p)
{
	struct cond_env env = { env_macro, env_list, L };
	for (int i = 0; i < L->nrules && !L->failed; i++) {
		struct l_rule *R = L->rules[i];
		struct guard_rule *r = &R->r;
		r->index = i;
		if (!r->source)
			r->source = cond_xstrdup("syscall");
		if (strcmp(r->source, "syscall")) {
			r->status = r->enabled ? RS_NOT_EVALUABLE : RS_DISABLED;
			snprintf(r->reason, sizeof(r->reason), "source '%s' needs plugin '%s'",
				 r->source, plugin_of(r->source));
			continue;
		}
		struct cond_err e;
		struct cond_ast *a = cond_parse(R->t.s, &e);
		if (!a) {
			char what[300];
			snprintf(what, sizeof(what), "rule '%s'", r->name);
			cond_error(L, &R->t, &e, what);
			break;
		}
		a = exceptions_ast(L, R, a);
		if (L->failed) {
			cond_ast_free(a);
			break;
		}
		r->cond = cond_compile(a, &env, p, &e);
		cond_ast_free(a);
		if (!r->cond) {
			if (R->skip_unknown && strstr(e.msg, "unknown field")) {
				r->status = RS_NOT_EVALUABLE;
				snprintf(r->reason, sizeof(r->reason), "%s (skip-if-unknown-filter)", e.msg);
				continue;
			}
			char what[300];
			snprintf(what, sizeof(what), "rule '%s'", r->name);
			struct l_macro *m = e.macro[0] ? find_macro(L, e.macro) : NULL;
			if (m) {
				snprintf(what, sizeof(what), "macro '%s' (used by rule '%s')", m->name, r->name);
				cond_error(L, &m->t, &e, what);
			} else if (e.line < 0 && -e.line <= R->nexc) {
				struct l_exc *x = &R->exc[-e.line - 1];
				lerr_at(L, x->where.src, x->where.line, x->where.col, "%s: exception '%s': %s",
					what, x->name, e.msg);
			} else if (e.line) {
				cond_error(L, &R->t, &e, what);
			} else {
				/* an error in an exception's check */
				lerr_at(L, R->where.src, R->where.line, R->where.col, "%s: %s", what, e.msg);
			}
			break;
		}
		cond_kparts(r->cond, &r->kp);
		parse_output(L, R, p);
		status_of(r);
		if (!r->enabled)
			r->status = RS_DISABLED;
	}
}

/* ---- entry points ---------------------------------------------------------------------- */

static void loader_free(struct loader *L)
{
	for (int i = 0; i < L->nsrcs; i++) {
		free(L->srcs[i].name);
		free(L->srcs[i].text);
	}
	free(L->srcs);
	for (int i = 0; i < L->nlists; i++) {
		free(L->lists[i].name);
		strs_free(L->lists[i].items, L->lists[i].n);
	}
	free(L->lists);
	for (int i = 0; i < L->nmacros; i++) {
		free(L->macros[i].name);
		ctext_free(&L->macros[i].t);
		cond_ast_free(L->macros[i].ast);
	}
	free(L->macros);
	for (int i = 0; i < L->nrules; i++)
		rule_free(L->rules[i]);
	free(L->rules);
	free(L->engine);
	for (int i = 0; i < L->nplugins; i++) {
		free(L->plugins[i].name);
		free(L->plugins[i].version);
	}
	free(L->plugins);
	free(L);
}

static struct guard_ruleset *finish(struct loader *L, const struct cond_provider *p)
{
	if (!L->failed)
		compile_rules(L, p);
	if (L->failed) {
		loader_free(L);
		return NULL;
	}
	struct guard_ruleset *rs = cond_xcalloc(1, sizeof(*rs));
	rs->rules = cond_xcalloc(L->nrules, sizeof(*rs->rules));
	for (int i = 0; i < L->nrules; i++)
		rs->rules[i] = &L->rules[i]->r;   /* r is the first member of l_rule */
	rs->nrules = L->nrules;
	rs->nmacros = L->nmacros;
	rs->nlists = L->nlists;
	rs->engine_version = L->engine;
	rs->plugins = L->plugins;
	rs->nplugins = L->nplugins;
	rs->priv = L;
	rs->share = cond_share_new();
	for (int i = 0; i < rs->nrules; i++)
		if (rs->rules[i]->cond)
			cond_share_add(rs->share, rs->rules[i]->cond);
	return rs;
}

static void add_src(struct loader *L, const char *name, char *text, size_t len)
{
	GROW(L->srcs, L->nsrcs);
	L->srcs[L->nsrcs++] = (struct src){ cond_xstrdup(name), text, len };
}

struct guard_ruleset *guard_rules_load_mem(const char *name, const char *text, size_t len,
					   const struct cond_provider *p, char *err, size_t errlen)
{
	struct loader *L = cond_xcalloc(1, sizeof(*L));
	L->err = err;
	L->errlen = errlen;
	char *copy = malloc(len + 1);
	if (!copy)
		abort();
	memcpy(copy, text, len);
	copy[len] = 0;
	add_src(L, name, copy, len);
	load_text(L, 0);
	return finish(L, p);
}

struct guard_ruleset *guard_rules_load(const char *const *files, int nfiles,
				       const struct cond_provider *p, char *err, size_t errlen)
{
	struct loader *L = cond_xcalloc(1, sizeof(*L));
	L->err = err;
	L->errlen = errlen;
	for (int i = 0; i < nfiles && !L->failed; i++) {
		FILE *f = fopen(files[i], "re");
		struct stat st;
		if (!f || fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "%s:1:1: cannot read the rules file: %s", files[i],
				 f ? "not a regular file" : strerror(errno));
			if (f)
				fclose(f);
			L->failed = true;
			break;
		}
		if ((uint64_t)st.st_size > MAX_FILE_SIZE) {
			snprintf(err, errlen, "%s:1:1: rules file too large (%lld bytes, at most %u MiB)",
				 files[i], (long long)st.st_size, MAX_FILE_SIZE >> 20);
			fclose(f);
			L->failed = true;
			break;
		}
		char *text = malloc(st.st_size + 1);
		if (!text)
			abort();
		size_t n = fread(text, 1, st.st_size, f);
		fclose(f);
		text[n] = 0;
		add_src(L, files[i], text, n);
		load_text(L, L->nsrcs - 1);
	}
	return finish(L, p);
}

void guard_rules_free(struct guard_ruleset *rs)
{
	if (!rs)
		return;
	loader_free(rs->priv);
	cond_share_free(rs->share);
	free(rs->rules);
	free(rs);
}

void guard_rules_env(struct guard_ruleset *rs, struct cond_env *env)
{
	*env = (struct cond_env){ env_macro, env_list, rs->priv };
}
