// SPDX-License-Identifier: BSD-2-Clause
/* The output layer: typed cells rendered as an aligned table or JSON lines. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include "out.h"

void out_init(struct out *o, FILE *f, enum out_fmt fmt, const struct out_col *cols, int ncols)
{
	memset(o, 0, sizeof(*o));
	o->f = f;
	o->fmt = fmt;
	o->cols = cols;
	o->ncols = ncols < OUT_MAX_COLS ? ncols : OUT_MAX_COLS;
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

static void spaces(FILE *f, int n)
{
	static const char sp[] = "                                ";

	for (; n > 0; n -= (int)sizeof(sp) - 1)
		fwrite(sp, 1, n < (int)sizeof(sp) - 1 ? (size_t)n : sizeof(sp) - 1, f);
}

/* Called for every cell of every row (event streams): no printf. */
static void pad(FILE *f, const char *s, int width, bool last)
{
	int w = width < 0 ? -width : width, n = (int)strlen(s);

	if (width > 0)
		spaces(f, w - n);
	fwrite(s, 1, (size_t)n, f);
	if (width < 0 && !last)
		spaces(f, w - n);
}

void out_header(struct out *o)
{
	int last = last_shown(o);
	bool first = true;

	o->header_done = true;
	if (o->fmt != OUT_TABLE)
		return;
	for (int i = 0; i < o->ncols; i++) {
		if (!shown(o, i))
			continue;
		if (!first)
			fputc(' ', o->f);
		first = false;
		pad(o->f, o->cols[i].head ? o->cols[i].head : o->cols[i].key, o->cols[i].width, i == last);
	}
	fputc('\n', o->f);
}

static struct out_cell *cell(struct out *o, int col, enum out_kind k)
{
	if (col < 0 || col >= o->ncols)
		return NULL;
	o->row[col].set = true;
	o->row[col].kind = k;
	return &o->row[col];
}

void out_strn(struct out *o, int col, const char *s, size_t n)
{
	struct out_cell *c = cell(o, col, OUT_STR);
	size_t len;

	if (!c)
		return;
	len = strnlen(s ? s : "", n);
	if (len >= sizeof(c->s))
		len = sizeof(c->s) - 1;
	memcpy(c->s, s ? s : "", len);
	c->s[len] = 0;
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
	char buf[OUT_CELL * 6 + 8];

	out_json_escape(buf, sizeof(buf), s);
	fprintf(f, "\"%s\"", buf);
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

static void u64_text(char *buf, size_t len, uint64_t v)
{
	char tmp[24];
	size_t n = 0, i;

	do
		tmp[n++] = '0' + v % 10;
	while ((v /= 10));
	for (i = 0; i < n && i + 1 < len; i++)
		buf[i] = tmp[n - 1 - i];
	buf[i] = 0;
}

static void cell_text(const struct out_cell *c, const struct out_col *col, char *buf, size_t len,
		      bool json)
{
	switch (c->kind) {
	case OUT_U64: u64_text(buf, len, c->v.u); break;
	case OUT_I64: snprintf(buf, len, "%" PRId64, c->v.i); break;
	case OUT_F64: fmt_f64(buf, len, c->v.f, col->prec, json); break;
	case OUT_BOOL: snprintf(buf, len, "%s", c->v.b ? (json ? "true" : "yes") : (json ? "false" : "no")); break;
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

void out_row(struct out *o)
{
	char buf[OUT_CELL + 32];
	bool first = true;

	if (o->fmt == OUT_JSON) {
		fputc('{', o->f);
		for (int i = 0; i < o->ncols; i++) {
			const struct out_cell *c = &o->row[i];

			if (!c->set || !shown(o, i))
				continue;
			fprintf(o->f, "%s\"%s\":", first ? "" : ",", o->cols[i].key);
			first = false;
			if (c->kind == OUT_STR) {
				out_json_str(o->f, c->s);
			} else {
				cell_text(c, &o->cols[i], buf, sizeof(buf), true);
				fputs(buf, o->f);
			}
		}
		fputs("}\n", o->f);
	} else {
		int last = last_shown(o);

		if (!o->header_done)
			out_header(o);
		for (int i = 0; i < o->ncols; i++) {
			const struct out_cell *c = &o->row[i];

			if (!shown(o, i))
				continue;
			if (!first)
				fputc(' ', o->f);
			first = false;
			if (c->set)
				cell_text(c, &o->cols[i], buf, sizeof(buf), false);
			else
				snprintf(buf, sizeof(buf), "-");
			pad(o->f, buf, o->cols[i].width, i == last);
		}
		fputc('\n', o->f);
	}
	for (int i = 0; i < o->ncols; i++)
		o->row[i].set = false;
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
