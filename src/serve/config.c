// SPDX-License-Identifier: BSD-2-Clause
/* The daemon's YAML config (config.h). libyaml's document API: the file is small, and nodes keep
 * their line for messages. Nothing here starts anything: serve.c does, from the checked result. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "core/collector.h"
#include "core/ebee.h"
#include "core/opts.h"
#include "serve/config.h"

struct ctx {
	const char *name;
	yaml_document_t *doc;
	struct serve_conf *c;
};

static int __attribute__((format(printf, 3, 4)))
bad(const struct ctx *x, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ebee_err("%s:%zu: %s", x->name, n ? n->start_mark.line + 1 : 1, msg);
	return -EINVAL;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* A plain null (`key:` or `key: ~`), not the string "null" in quotes. */
static bool is_null(const yaml_node_t *n)
{
	const char *s = scalar(n);

	return s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*s || !strcmp(s, "~") || !strcmp(s, "null"));
}

static int boolean(const struct ctx *x, const yaml_node_t *n, const char *key, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", NULL }, *const no[] = { "false", "no", "off", NULL };
	const char *s = scalar(n);

	for (int i = 0; s && yes[i]; i++)
		if (!strcasecmp(s, yes[i]))
			return *out = true, 0;
	for (int i = 0; s && no[i]; i++)
		if (!strcasecmp(s, no[i]))
			return *out = false, 0;
	return bad(x, n, "'%s' must be true or false", key);
}

static int string(const struct ctx *x, const yaml_node_t *n, const char *key, char **out)
{
	const char *s = scalar(n);

	if (!s || !*s)
		return bad(x, n, "'%s' must be a non-empty string", key);
	free(*out);
	if (!(*out = strdup(s)))
		return -ENOMEM;
	return 0;
}

static int number(const struct ctx *x, const yaml_node_t *n, const char *key, unsigned long long lo,
		  unsigned long long hi, unsigned long long *out)
{
	const char *s = scalar(n);
	char *end;

	errno = 0;
	*out = s ? strtoull(s, &end, 10) : 0;
	if (!s || !*s || *s == '-' || errno || *end || *out < lo || *out > hi)
		return bad(x, n, "'%s' must be a whole number from %llu to %llu", key, lo, hi);
	return 0;
}

static const struct opt *find_opt(const struct opt *tab, const char *key)
{
	for (; tab && tab->lng; tab++)
		if (!strcmp(tab->lng, key))
			return tab;
	return NULL;
}

static int add_arg(const struct ctx *x, struct serve_col_conf *cc, const struct opt *o,
		   const yaml_node_t *v)
{
	const char *s = scalar(v);
	struct serve_arg *a;

	if (!s)
		return bad(x, v, "option '%s' of '%s' takes a value or a list of values, not a map",
			   o->lng, cc->d->name);
	if (o->type == OPT_FLAG) {
		bool on;
		int err = boolean(x, v, o->lng, &on);

		if (err || !on)
			return err;
		s = NULL;
	} else if (is_null(v)) {
		return bad(x, v, "option '%s' of '%s' needs a value", o->lng, cc->d->name);
	}
	if (cc->nargs == SERVE_MAX_ARGS)
		return bad(x, v, "too many option values for '%s' (at most %d)", cc->d->name, SERVE_MAX_ARGS);
	a = &cc->a[cc->nargs];
	*a = (struct serve_arg){ .o = o, .line = (int)v->start_mark.line + 1 };
	if (s && !(a->val = strdup(s)))
		return -ENOMEM;
	cc->nargs++;
	return 0;
}

/* `name: {opt: value, opt: [v, v], flag: true}` or `name:` (defaults). */
static int collector(const struct ctx *x, const yaml_node_t *k, const yaml_node_t *v)
{
	const char *name = scalar(k);
	const struct collector_desc *d = name ? collector_find(name) : NULL;
	struct serve_conf *c = x->c;
	struct serve_col_conf *cc;

	if (!d) {
		const char *known[SERVE_MAX_COLLECTORS * 2 + 1] = { 0 }, *hint;
		int n = 0;

		for (const struct collector_desc *const *e = ebee_collectors; *e && n < SERVE_MAX_COLLECTORS * 2; e++)
			known[n++] = (*e)->name;
		hint = name ? opts_suggest(name, known) : NULL;
		if (hint)
			return bad(x, k, "unknown collector '%s' (did you mean '%s'?)", name ? name : "", hint);
		return bad(x, k, "unknown collector '%s' (see 'ebee doctor' for the list)", name ? name : "");
	}
	if (!d->open || !d->start)
		return bad(x, k, "collector '%s' cannot run in the daemon (it has no open/start)", name);
	for (int i = 0; i < c->ncols; i++)
		if (c->cols[i].d == d)
			return bad(x, k, "collector '%s' named twice", name);
	if (c->ncols == SERVE_MAX_COLLECTORS)
		return bad(x, k, "too many collectors (at most %d)", SERVE_MAX_COLLECTORS);
	cc = &c->cols[c->ncols++];
	cc->d = d;
	cc->line = (int)k->start_mark.line + 1;
	if (!v || is_null(v))
		return 0;
	if (v->type != YAML_MAPPING_NODE)
		return bad(x, v, "the options of collector '%s' must be a map of option names to values", name);
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *ok = yaml_document_get_node(x->doc, p->key);
		yaml_node_t *ov = yaml_document_get_node(x->doc, p->value);
		const char *key = scalar(ok);
		char norm[64];
		const struct opt *o;
		int err;

		if (!key)
			return bad(x, ok, "option names of '%s' must be strings", name);
		snprintf(norm, sizeof(norm), "%s", key);
		for (char *q = norm; *q; q++)   /* max_sources and max-sources alike */
			if (*q == '_')
				*q = '-';
		if (!(o = find_opt(d->opts, norm))) {
			const char *names[SERVE_MAX_ARGS + 1] = { 0 }, *hint;
			int n = 0;

			for (const struct opt *t = d->opts; t && t->lng && n < SERVE_MAX_ARGS; t++)
				names[n++] = t->lng;
			hint = opts_suggest(norm, names);
			if (hint)
				return bad(x, ok, "unknown option '%s' of collector '%s' (did you mean '%s'?)",
					   key, name, hint);
			if (!d->opts)
				return bad(x, ok, "unknown option '%s': collector '%s' takes no options", key, name);
			return bad(x, ok, "unknown option '%s' of collector '%s' (see 'ebee help %s')", key,
				   name, name);
		}
		if (ov->type == YAML_SEQUENCE_NODE) {
			for (yaml_node_item_t *i = ov->data.sequence.items.start; i < ov->data.sequence.items.top; i++)
				if ((err = add_arg(x, cc, o, yaml_document_get_node(x->doc, *i))))
					return err;
		} else if ((err = add_arg(x, cc, o, ov))) {
			return err;
		}
	}
	return 0;
}

static int collectors(const struct ctx *x, const yaml_node_t *v)
{
	int err;

	x->c->have_collectors = true;
	if (is_null(v))
		return 0;
	if (v->type == YAML_SEQUENCE_NODE) {    /* a plain list of names: their defaults */
		for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top; i++) {
			yaml_node_t *n = yaml_document_get_node(x->doc, *i);

			if (!scalar(n))
				return bad(x, n, "'collectors' lists names, or maps a name to its options");
			if ((err = collector(x, n, NULL)))
				return err;
		}
		return 0;
	}
	if (v->type != YAML_MAPPING_NODE)
		return bad(x, v, "'collectors' must map collector names to their options");
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++)
		if ((err = collector(x, yaml_document_get_node(x->doc, p->key),
				     yaml_document_get_node(x->doc, p->value))))
			return err;
	return 0;
}

static int top_key(const struct ctx *x, const yaml_node_t *k, const yaml_node_t *v)
{
	static const char *const keys[] = { "listen", "token_file", "insecure_no_auth", "tls_cert", "tls_key",
		"interval", "max_connections", "max_streams", "event_buffer", "collectors", NULL };
	struct serve_conf *c = x->c;
	const char *key = scalar(k);
	char norm[64];

	if (!key)
		return bad(x, k, "keys must be strings");
	snprintf(norm, sizeof(norm), "%s", key);
	for (char *q = norm; *q; q++)
		if (*q == '-')
			*q = '_';
	if (!strcmp(norm, "collectors"))
		return collectors(x, v);
	if (v->type != YAML_SCALAR_NODE)
		return bad(x, v, "'%s' must be a single value", key);
	if (!strcmp(norm, "listen"))
		return string(x, v, key, &c->listen);
	if (!strcmp(norm, "token_file"))
		return string(x, v, key, &c->token_file);
	if (!strcmp(norm, "tls_cert"))
		return string(x, v, key, &c->tls_cert);
	if (!strcmp(norm, "tls_key"))
		return string(x, v, key, &c->tls_key);
	if (!strcmp(norm, "insecure_no_auth"))
		return boolean(x, v, key, &c->insecure_no_auth);
	if (!strcmp(norm, "interval")) {
		if (opts_parse_seconds(scalar(v), &c->interval) || c->interval < 0.05 || c->interval > 3600)
			return bad(x, v, "'interval' must be a duration from 50ms to 1h (e.g. 1s, 500ms)");
		return 0;
	}
	if (!strcmp(norm, "max_connections"))
		return number(x, v, key, 1, 100000, &c->max_connections);
	if (!strcmp(norm, "max_streams"))
		return number(x, v, key, 1, 100000, &c->max_streams);
	if (!strcmp(norm, "event_buffer"))
		return number(x, v, key, 16, 1 << 20, &c->event_buffer);
	{
		const char *hint = opts_suggest(norm, keys);

		if (hint)
			return bad(x, k, "unknown key '%s' (did you mean '%s'?)", key, hint);
		return bad(x, k, "unknown key '%s'", key);
	}
}

int serve_conf_parse(const char *name, const char *text, size_t len, struct serve_conf *c)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	struct ctx x = { .name = name, .doc = &doc, .c = c };
	int err = 0;

	memset(c, 0, sizeof(*c));
	if (!(c->path = strdup(name)))
		return -ENOMEM;
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		ebee_err("%s:%zu: invalid YAML: %s%s%s", name, parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "syntax error", parser.context ? " " : "",
			 parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return -EINVAL;
	}
	root = yaml_document_get_root_node(&doc);
	if (root && !is_null(root)) {
		if (root->type != YAML_MAPPING_NODE) {
			err = bad(&x, root, "the config must be a map of keys (listen, collectors, ...)");
		} else {
			for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
			     !err && p < root->data.mapping.pairs.top; p++)
				err = top_key(&x, yaml_document_get_node(&doc, p->key),
					      yaml_document_get_node(&doc, p->value));
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	/* Every collector's values through its own parsers, now, so a bad value is a config
	 * error at load (and --check-config), not a collector that fails later. */
	for (int i = 0; !err && i < c->ncols; i++) {
		void *scratch = calloc(1, c->cols[i].d->cfg_size + 1);

		err = scratch ? serve_col_cfg(&c->cols[i], name, scratch) : -ENOMEM;
		free(scratch);
	}
	return err;
}

int serve_conf_load(const char *path, struct serve_conf *c)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int err;

	memset(c, 0, sizeof(*c));
	if (!f) {
		err = -errno;
		ebee_err("cannot read config '%s': %s", path, strerror(errno));
		return err;
	}
	/* A config is small: refuse a huge file rather than read it all. */
	for (;;) {
		size_t n;

		if (len == cap) {
			char *nb = cap >= (1u << 20) ? NULL : realloc(buf, cap = cap ? cap * 2 : 4096);

			if (!nb) {
				free(buf);
				fclose(f);
				ebee_err("config '%s' is too large (at most 1 MiB)", path);
				return -EFBIG;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (!n)
			break;
	}
	fclose(f);
	err = serve_conf_parse(path, buf ? buf : "", len, c);
	free(buf);
	return err;
}

int serve_col_cfg(const struct serve_col_conf *cc, const char *path, void *cfg)
{
	const struct collector_desc *d = cc->d;
	struct ebee_ctx ctx = { .cmd_path = d->name };
	int err = 0;

	if (d->cfg_size)
		memset(cfg, 0, d->cfg_size);
	if (d->cfg_default && d->cfg_size)
		memcpy(cfg, d->cfg_default, d->cfg_size);
	for (int i = 0; i < cc->nargs && !err; i++) {
		char where[160];

		snprintf(where, sizeof(where), "%s:%d", path ? path : "", cc->a[i].line);
		if (path)
			ebee_log_prefix(where);
		err = opts_set(cc->a[i].o, cfg, cc->a[i].val, &ctx);
		ebee_log_prefix(NULL);
	}
	return err;
}

bool serve_col_same(const struct serve_col_conf *a, const struct serve_col_conf *b)
{
	if (a->d != b->d || a->nargs != b->nargs)
		return false;
	for (int i = 0; i < a->nargs; i++)
		if (a->a[i].o != b->a[i].o || !a->a[i].val != !b->a[i].val ||
		    (a->a[i].val && strcmp(a->a[i].val, b->a[i].val)))
			return false;
	return true;
}

void serve_col_move(struct serve_col_conf *dst, struct serve_col_conf *src)
{
	*dst = *src;
	src->nargs = 0;
}

void serve_col_free(struct serve_col_conf *cc)
{
	for (int i = 0; i < cc->nargs; i++)
		free(cc->a[i].val);
	cc->nargs = 0;
}

void serve_conf_free(struct serve_conf *c)
{
	for (int i = 0; i < c->ncols; i++)
		serve_col_free(&c->cols[i]);
	free(c->path);
	free(c->listen);
	free(c->token_file);
	free(c->tls_cert);
	free(c->tls_key);
	memset(c, 0, sizeof(*c));
}
