// SPDX-License-Identifier: BSD-2-Clause
/* The output layer: typed cells rendered as an aligned table or JSON lines (through the jw
 * writer of json.c), nested cells built in a per-row arena, and Prometheus text. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include "ebee.h"
#include "out.h"

void out_init(struct out *o, FILE *f, enum out_fmt fmt, const struct out_col *cols, int ncols)
{
	memset(o, 0, sizeof(*o));
	o->f = f;
	o->fmt = fmt;
	o->cols = cols;
	o->ncols = ncols < OUT_MAX_COLS ? ncols : OUT_MAX_COLS;
	o->nest_col = -1;
}

void out_init_jw(struct out *o, struct jw *w, const struct out_col *cols, int ncols)
{
	out_init(o, NULL, OUT_JSON, cols, ncols);
	o->parent = w;
}

/* Closes the nested value being built (if any): its text stays in the arena. */
static void nest_close(struct out *o)
{
	struct out_cell *c;
	size_t n;

	if (o->nest_col < 0)
		return;
	c = &o->row[o->nest_col];
	o->nest_col = -1;
	n = jw_finish(&o->nest);
	if (o->nest.buf == o->spare) {   /* the arena was full: only what the spare held */
		c->kind = OUT_RAW;
		snprintf(c->s, sizeof(c->s), "%s", n ? o->spare : "null");
		return;
	}
	if (!n) {                        /* nothing written: an empty value is null */
		c->kind = OUT_RAW;
		snprintf(c->s, sizeof(c->s), "null");
		return;
	}
	o->arena_len += n + 1;           /* keep the NUL */
}

void out_cols(struct out *o, const struct out_col *cols, int ncols)
{
	nest_close(o);
	o->cols = cols;
	o->ncols = ncols < OUT_MAX_COLS ? ncols : OUT_MAX_COLS;
	o->hidden = 0;
	o->header_done = false;
	for (int i = 0; i < OUT_MAX_COLS; i++)
		o->row[i].set = false;
	o->arena_len = 0;
}

void out_hide(struct out *o, int col, bool hide)
{
	if (col < 0 || col >= o->ncols)
		return;
	if (hide)
		o->hidden |= 1ull << col;
	else
		o->hidden &= ~(1ull << col);
}

static bool shown(const struct out *o, int i)
{
	return !(o->hidden & (1ull << i)) && (o->fmt == OUT_JSON || o->cols[i].width);
}

/* Index of the last column printed in a table: it is not padded. */
static int last_shown(const struct out *o)
{
	int last = -1;

	for (int i = 0; i < o->ncols; i++)
		if (shown(o, i))
			last = i;
	return last;
}

/* A table line is built here and written with one stdio call: event streams print a line per
 * event, and a call per cell and per pad cost more than the text itself. A line longer than
 * the buffer goes out in pieces. */
struct line {
	FILE *f;
	size_t n;
	char b[4096];
};

static void line_put(struct line *l, const char *s, size_t n)
{
	if (l->n + n > sizeof(l->b)) {
		fwrite(l->b, 1, l->n, l->f);
		l->n = 0;
		if (n > sizeof(l->b)) {
			fwrite(s, 1, n, l->f);
			return;
		}
	}
	memcpy(l->b + l->n, s, n);
	l->n += n;
}

static void spaces(struct line *l, int n)
{
	static const char sp[] = "                                ";

	for (; n > 0; n -= (int)sizeof(sp) - 1)
		line_put(l, sp, n < (int)sizeof(sp) - 1 ? (size_t)n : sizeof(sp) - 1);
}

/* Called for every cell of every row (event streams): no printf. */
static void pad(struct line *l, const char *s, int width, bool last)
{
	int w = width < 0 ? -width : width, n = (int)strlen(s);

	if (width > 0)
		spaces(l, w - n);
	line_put(l, s, (size_t)n);
	if (width < 0 && !last)
		spaces(l, w - n);
}

static void line_end(struct line *l)
{
	line_put(l, "\n", 1);
	fwrite(l->b, 1, l->n, l->f);
}

void out_header(struct out *o)
{
	int last = last_shown(o);
	bool first = true;
	struct line l;

	o->header_done = true;
	if (o->fmt != OUT_TABLE)
		return;
	l.f = o->f;
	l.n = 0;
	for (int i = 0; i < o->ncols; i++) {
		if (!shown(o, i))
			continue;
		if (!first)
			line_put(&l, " ", 1);
		first = false;
		pad(&l, o->cols[i].head ? o->cols[i].head : o->cols[i].key, o->cols[i].width, i == last);
	}
	line_end(&l);
}

static struct out_cell *cell(struct out *o, int col, enum out_kind k)
{
	if (o->nest_col >= 0)
		nest_close(o);
	if (col < 0 || col >= o->ncols)
		return NULL;
	o->row[col].set = true;
	o->row[col].kind = k;
	return &o->row[col];
}

void out_strn(struct out *o, int col, const char *s, size_t n)
{
	struct out_cell *c = cell(o, col, OUT_STR);
	size_t max = n < sizeof(c->s) - 1 ? n : sizeof(c->s) - 1;

	if (!c)
		return;
	/* One pass to the NUL (memchr + memcpy in glibc): the strnlen + memcpy this replaces
	 * was inlined as `rep movsq`, whose start-up cost was most of a short cell. */
	if (!memccpy(c->s, s ? s : "", 0, max))
		c->s[max] = 0;
}

void out_str(struct out *o, int col, const char *s)
{
	out_strn(o, col, s ? s : "", OUT_CELL);
}

void out_fmt(struct out *o, int col, const char *fmt, ...)
{
	struct out_cell *c = cell(o, col, OUT_STR);
	va_list ap;

	if (!c)
		return;
	va_start(ap, fmt);
	vsnprintf(c->s, sizeof(c->s), fmt, ap);
	va_end(ap);
}

void out_raw(struct out *o, int col, const char *json)
{
	struct out_cell *c = cell(o, col, OUT_RAW);

	if (c)
		snprintf(c->s, sizeof(c->s), "%s", json);
}

struct jw *out_nest(struct out *o, int col)
{
	struct out_cell *c = cell(o, col, OUT_NEST);
	size_t left = OUT_ARENA - o->arena_len;

	if (!c) {   /* a bad column still gets a writer, whose value is thrown away */
		jw_init_buf(&o->nest, o->spare, sizeof(o->spare));
		return &o->nest;
	}
	o->nest_col = col;
	c->v.u = o->arena_len;
	if (left >= 64)
		jw_init_buf(&o->nest, o->arena + o->arena_len, left);
	else
		jw_init_buf(&o->nest, o->spare, sizeof(o->spare));
	return &o->nest;
}

/* The compact text of one nested JSON value for a table cell (see out.h). The input is what
 * jw wrote, so valid JSON; the output is cut at cap. */
size_t out_nest_text(const char *j, char *dst, size_t cap)
{
	char type[JW_MAX_DEPTH + 1] = { 0 };   /* '{' or '[' per depth, 0 at the top */
	int count[JW_MAX_DEPTH + 1] = { 0 };
	bool want_key[JW_MAX_DEPTH + 1] = { false };
	const char *key = NULL;
	size_t keylen = 0, n = 0;
	int d = 0;

#define PUT(ch) do { if (n + 1 < cap) dst[n++] = (ch); } while (0)
	/* Before a value at depth d: the separator of its container. */
#define SEP() do { if (count[d]++) PUT(type[d] == '{' ? ':' : d <= 1 ? ' ' : ','); } while (0)
	if (!cap)
		return 0;
	while (*j) {
		char ch = *j;

		if (ch == '{' || ch == '[') {
			SEP();
			if (type[d] == '{')
				want_key[d] = true;
			if (d < JW_MAX_DEPTH) {
				d++;
				type[d] = ch;
				count[d] = 0;
				want_key[d] = ch == '{';
			}
			j++;
		} else if (ch == '}' || ch == ']') {
			if (d)
				d--;
			j++;
		} else if (ch == ',' || ch == ':' || ch == ' ' || ch == '\n') {
			j++;
		} else if (ch == '"') {
			const char *start = ++j;
			bool is_key = type[d] == '{' && want_key[d];

			while (*j && *j != '"')
				j += j[0] == '\\' && j[1] ? 2 : 1;
			if (is_key) {
				key = start;
				keylen = (size_t)(j - start);
				want_key[d] = false;
			} else {
				SEP();
				for (const char *p = start; p < j; p++) {
					if (*p == '\\' && p + 1 < j) {
						p++;
						/* \uXXXX and control escapes: shown as '?' */
						PUT(*p == '"' || *p == '\\' || *p == '/' ? *p : '?');
						if (*p == 'u')
							p += 4 < j - p ? 4 : j - p - 1;
					} else {
						PUT(*p);
					}
				}
				if (type[d] == '{')
					want_key[d] = true;
			}
			if (*j)
				j++;
		} else {   /* number, true, false, null */
			const char *start = j;

			while (*j && !strchr(",]}: \n", *j))
				j++;
			if (type[d] == '{') {
				want_key[d] = true;
				if (!strncmp(start, "true", 4) && key) {
					SEP();
					for (size_t i = 0; i < keylen; i++)
						PUT(key[i]);
				} else if (strncmp(start, "false", 5) && strncmp(start, "null", 4)) {
					SEP();
					for (const char *p = start; p < j; p++)
						PUT(*p);
				}
			} else {
				SEP();
				for (const char *p = start; p < j; p++)
					PUT(*p);
			}
		}
	}
#undef SEP
#undef PUT
	dst[n] = 0;
	return n;
}

void out_u64(struct out *o, int col, uint64_t v)
{
	struct out_cell *c = cell(o, col, OUT_U64);

	if (c)
		c->v.u = v;
}

void out_i64(struct out *o, int col, int64_t v)
{
	struct out_cell *c = cell(o, col, OUT_I64);

	if (c)
		c->v.i = v;
}

void out_f64(struct out *o, int col, double v)
{
	struct out_cell *c = cell(o, col, OUT_F64);

	if (c)
		c->v.f = v;
}

void out_bool(struct out *o, int col, bool v)
{
	struct out_cell *c = cell(o, col, OUT_BOOL);

	if (c)
		c->v.b = v;
}

size_t out_json_escape(char *dst, size_t cap, const char *s)
{
	size_t n = 0;

	if (!cap)
		return 0;
	for (; *s && n + 7 < cap; s++) {
		unsigned char ch = *s;

		switch (ch) {
		case '"': dst[n++] = '\\'; dst[n++] = '"'; break;
		case '\\': dst[n++] = '\\'; dst[n++] = '\\'; break;
		case '\n': dst[n++] = '\\'; dst[n++] = 'n'; break;
		case '\t': dst[n++] = '\\'; dst[n++] = 't'; break;
		case '\r': dst[n++] = '\\'; dst[n++] = 'r'; break;
		default:
			/* Control bytes and DEL escaped; other bytes pass (kernel strings may not be
			 * UTF-8, and a lone high byte becomes \u00XX so the line stays valid JSON). */
			if (ch < 0x20 || ch >= 0x7f)
				n += snprintf(dst + n, cap - n, "\\u%04x", ch);
			else
				dst[n++] = ch;
		}
	}
	dst[n] = 0;
	return n;
}

void out_json_str(FILE *f, const char *s)
{
	struct jw w;

	jw_init_file(&w, f);
	jw_str(&w, s);
}

static void fmt_f64(char *buf, size_t len, double v, int prec, bool json)
{
	if (!isfinite(v)) {
		snprintf(buf, len, json ? "null" : "-");
		return;
	}
	snprintf(buf, len, "%.*f", json ? (prec > 3 ? prec : 3) : prec, v);
	if (json && strchr(buf, '.')) {   /* 12.500 -> 12.5, 3.000 -> 3 */
		char *e = buf + strlen(buf) - 1;

		while (*e == '0')
			*e-- = 0;
		if (*e == '.')
			*e = 0;
	}
}

static const char *nest_json(const struct out *o, const struct out_cell *c)
{
	return o->arena + c->v.u;
}

static void cell_text(const struct out *o, const struct out_cell *c, const struct out_col *col,
		      char *buf, size_t len, bool json)
{
	switch (c->kind) {
	case OUT_U64: jw_dec(buf, len, c->v.u); break;
	case OUT_I64: snprintf(buf, len, "%" PRId64, c->v.i); break;
	case OUT_F64: fmt_f64(buf, len, c->v.f, col->prec, json); break;
	case OUT_BOOL: snprintf(buf, len, "%s", c->v.b ? (json ? "true" : "yes") : (json ? "false" : "no")); break;
	case OUT_NEST: out_nest_text(nest_json(o, c), buf, len); break;
	default: {
		size_t n = strnlen(c->s, sizeof(c->s));

		if (n >= len)
			n = len - 1;
		memcpy(buf, c->s, n);
		buf[n] = 0;
		break;
	}
	}
}

/* One JSON object per row, through the jw writer: numbers are formatted here (the column's
 * precision), strings escaped and nested values embedded by jw. */
static void row_json(struct out *o, struct jw *w)
{
	char buf[OUT_CELL + 32];

	jw_obj_begin(w);
	for (int i = 0; i < o->ncols; i++) {
		const struct out_cell *c = &o->row[i];

		if (!c->set || !shown(o, i))
			continue;
		jw_key(w, o->cols[i].key);
		switch (c->kind) {
		case OUT_STR: jw_str(w, c->s); break;
		case OUT_RAW: jw_raw(w, c->s); break;
		case OUT_NEST: jw_raw(w, nest_json(o, c)); break;
		default:
			cell_text(o, c, &o->cols[i], buf, sizeof(buf), true);
			jw_raw(w, buf);
		}
	}
	jw_obj_end(w);
	jw_newline(w);
}

void out_row(struct out *o)
{
	char buf[OUT_CELL + 32];
	bool first = true;

	nest_close(o);
	if (o->fmt == OUT_JSON) {
		struct jw w;

		if (o->parent) {
			row_json(o, o->parent);
		} else {
			jw_init_file(&w, o->f);
			row_json(o, &w);
		}
	} else {
		int last = last_shown(o);
		struct line l;

		if (!o->header_done)
			out_header(o);
		l.f = o->f;
		l.n = 0;
		for (int i = 0; i < o->ncols; i++) {
			const struct out_cell *c = &o->row[i];
			const char *text = buf;

			if (!shown(o, i))
				continue;
			if (!first)
				line_put(&l, " ", 1);
			first = false;
			if (!c->set)
				text = "-";
			else if (c->kind == OUT_STR)
				text = c->s;   /* always terminated (out_strn, out_fmt) */
			else
				cell_text(o, c, &o->cols[i], buf, sizeof(buf), false);
			pad(&l, text, o->cols[i].width, i == last);
		}
		line_end(&l);
	}
	for (int i = 0; i < o->ncols; i++)
		o->row[i].set = false;
	o->arena_len = 0;
}

void out_sep(struct out *o, const char *fmt, ...)
{
	va_list ap;

	if (o->fmt != OUT_TABLE)
		return;
	va_start(ap, fmt);
	vfprintf(o->f, fmt, ap);
	va_end(ap);
	fputc('\n', o->f);
}

/* --- Prometheus text exposition --- */

void prom_init(struct prom *p, FILE *f)
{
	memset(p, 0, sizeof(*p));
	p->f = f;
}

static bool prom_name_ok(const char *n)
{
	if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') || *n == '_' || *n == ':'))
		return false;
	for (; *n; n++)
		if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') || (*n >= '0' && *n <= '9') ||
		      *n == '_' || *n == ':'))
			return false;
	return true;
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && !strcmp(s + n - m, suf);
}

/* The naming rules (Prometheus' conventions, ebee's prefix): a family that breaks them is a
 * bug in ebee, said once per render and not exposed (a scraper must not learn wrong names). */
static bool prom_family_ok(const char *name, const char *type)
{
	static const char *const types[] = { "counter", "gauge", "histogram", "summary", "untyped" };
	static const char *const non_base[] = { "_ms", "_milliseconds", "_us", "_microseconds",
						"_ns", "_nanoseconds", "_kb", "_kilobytes", "_mb",
						"_megabytes" };
	bool known = false;

	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		known |= !strcmp(type, types[i]);
	if (!known || !prom_name_ok(name) || strncmp(name, "ebee_", 5) || strlen(name) >= 128)
		return false;
	if (!strcmp(type, "counter") != has_suffix(name, "_total"))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(non_base); i++)
		if (has_suffix(name, non_base[i]) ||
		    (has_suffix(name, "_total") && strstr(name, non_base[i])))
			return false;
	return true;
}

/* HELP text escapes backslash and newline only. */
static void prom_help(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

void prom_label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

void prom_family(struct prom *p, const char *name, const char *type, const char *help)
{
	if (!strcmp(p->family, name))
		return;   /* HELP/TYPE once per family */
	if (!prom_family_ok(name, type)) {
		ebee_warn("metric family '%s' (%s) breaks the naming rules: not exposed", name, type);
		p->bad++;
		snprintf(p->family, sizeof(p->family), "!");
		return;
	}
	snprintf(p->family, sizeof(p->family), "%s", name);
	fprintf(p->f, "# HELP %s ", name);
	prom_help(p->f, help);
	fprintf(p->f, "\n# TYPE %s %s\n", name, type);
}

/* A sample belongs to the family declared last: its name, or the name plus a histogram or
 * summary suffix. Anything else (no family, a refused one) is not written. */
static bool prom_sample(struct prom *p, const char *name, const struct prom_label *l, int nl)
{
	size_t fl = strlen(p->family);
	bool first = true;

	if (!fl || strncmp(name, p->family, fl) ||
	    (name[fl] && strcmp(name + fl, "_bucket") && strcmp(name + fl, "_sum") &&
	     strcmp(name + fl, "_count"))) {
		if (strcmp(p->family, "!")) {
			ebee_warn("metric '%s' written outside its family: not exposed", name);
			p->bad++;
		}
		return false;
	}
	fputs(name, p->f);
	for (int i = 0; i < nl; i++) {
		if (!prom_name_ok(l[i].k) || !strncmp(l[i].k, "__", 2)) {
			ebee_warn("metric '%s': bad label name '%s'", name, l[i].k);
			p->bad++;
			continue;
		}
		fprintf(p->f, "%s%s=\"", first ? "{" : ",", l[i].k);
		prom_label_value(p->f, l[i].v ? l[i].v : "");
		fputc('"', p->f);
		first = false;
	}
	if (!first)
		fputc('}', p->f);
	fputc(' ', p->f);
	return true;
}

void prom_u64(struct prom *p, const char *name, const struct prom_label *l, int nl, uint64_t v)
{
	char buf[24];

	if (!prom_sample(p, name, l, nl))
		return;
	jw_dec(buf, sizeof(buf), v);
	fputs(buf, p->f);
	fputc('\n', p->f);
}

void prom_f64(struct prom *p, const char *name, const struct prom_label *l, int nl, double v)
{
	if (!prom_sample(p, name, l, nl))
		return;
	if (isnan(v))
		fputs("NaN\n", p->f);
	else if (isinf(v))
		fputs(v > 0 ? "+Inf\n" : "-Inf\n", p->f);
	else
		fprintf(p->f, "%.15g\n", v);
}
