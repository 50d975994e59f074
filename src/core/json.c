// SPDX-License-Identifier: BSD-2-Clause
/* Streaming JSON writer: to a FILE or into a fixed buffer, nesting tracked on a small stack. */
#include <math.h>
#include <string.h>
#include "json.h"
#include "out.h"

void jw_init_file(struct jw *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->first[0] = true;
}

void jw_init_buf(struct jw *w, char *buf, size_t cap)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->cap = cap;
	w->first[0] = true;
	if (cap)
		buf[0] = 0;
}

/* Room kept at the end of a buffer for "null" after a dangling key and the closing brackets of
 * every open container. */
#define JW_RESERVE (JW_MAX_DEPTH + 8)

static void put(struct jw *w, const char *s, size_t n)
{
	if (w->f) {
		/* ebee writes each stream from one thread: no per-call stream lock. Quotes, commas
		 * and colons (most calls) through the putc macro, not a function call. */
		if (n == 1)
			putc_unlocked(*s, w->f);
		else
			fwrite_unlocked(s, 1, n, w->f);
		return;
	}
	if (w->truncated || w->len + n + JW_RESERVE > w->cap) {
		w->truncated = true;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = 0;
}

static void puts_(struct jw *w, const char *s)
{
	put(w, s, strlen(s));
}

/* Before a value: a comma between members; nothing after a key. */
static void sep(struct jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (!w->first[w->depth])
		put(w, ",", 1);
	w->first[w->depth] = false;
}

/* Once a buffer is cut, nothing more is written, so a half-written member never appears:
 * values are written whole or not at all (a string value that does not fit is dropped). */
static bool room(struct jw *w, size_t n)
{
	if (w->skipped)
		return false;
	if (w->f)
		return true;
	if (w->truncated || w->len + n + JW_RESERVE > w->cap) {
		w->truncated = true;
		return false;
	}
	return true;
}

/* A container that cannot be opened (no room, or deeper than JW_MAX_DEPTH) is skipped whole:
 * its end is skipped too, so the brackets written always match. */
static void open_(struct jw *w, char c, bool obj)
{
	if (w->skipped || w->depth + 1 >= JW_MAX_DEPTH || !room(w, 2)) {
		if (!w->skipped && w->f && w->after_key) {   /* a stream cannot wait for jw_finish */
			w->after_key = false;
			fputs("null", w->f);
		}
		w->skipped++;
		w->truncated = true;
		return;
	}
	sep(w);
	put(w, &c, 1);
	w->depth++;
	w->first[w->depth] = true;
	w->in_obj[w->depth] = obj;
}

static void close_(struct jw *w, char c)
{
	if (w->skipped) {
		w->skipped--;
		return;
	}
	if (!w->depth)
		return;
	w->depth--;
	/* Closing brackets always fit: JW_RESERVE was kept for them. */
	if (w->f)
		fputc_unlocked(c, w->f);
	else if (w->len + 1 < w->cap) {
		w->buf[w->len++] = c;
		w->buf[w->len] = 0;
	}
}

void jw_obj_begin(struct jw *w) { open_(w, '{', true); }
void jw_obj_end(struct jw *w) { close_(w, '}'); }
void jw_arr_begin(struct jw *w) { open_(w, '[', false); }
void jw_arr_end(struct jw *w) { close_(w, ']'); }

/* Runs of bytes that need no escape are written at once: rows of event streams come here for
 * every key and string. */
static void str_(struct jw *w, const char *s, size_t n)
{
	char esc[8];
	size_t run = 0, i;

	put(w, "\"", 1);
	for (i = 0; i < n && s[i]; i++) {
		unsigned char ch = s[i];
		const char *e = NULL;

		if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
			continue;   /* most bytes: no escape, decided without the switch */
		switch (ch) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\n': e = "\\n"; break;
		case '\t': e = "\\t"; break;
		case '\r': e = "\\r"; break;
		default:
			/* Control bytes and DEL escaped; a byte >= 0x80 becomes \u00XX so text that is
			 * not UTF-8 (kernel strings, argv) still makes valid JSON. */
			if (ch < 0x20 || ch >= 0x7f) {
				snprintf(esc, sizeof(esc), "\\u%04x", ch);
				e = esc;
			}
		}
		if (!e)
			continue;
		if (i > run)
			put(w, s + run, i - run);
		puts_(w, e);
		run = i + 1;
	}
	if (i > run)
		put(w, s + run, i - run);
	put(w, "\"", 1);
}

void jw_key(struct jw *w, const char *key)
{
	if (!room(w, strlen(key) + 4))
		return;
	sep(w);
	str_(w, key, strlen(key));
	put(w, ":", 1);
	w->after_key = true;
}

void jw_strn(struct jw *w, const char *s, size_t n)
{
	size_t len = strnlen(s ? s : "", n);

	if (w->skipped)
		return;
	/* Worst case 6 bytes per byte; a string that cannot fit is cut in a buffer, not dropped. */
	if (!w->f && !w->truncated && w->len + len * 6 + 3 + JW_RESERVE > w->cap) {
		size_t avail = w->cap > w->len + 3 + JW_RESERVE ? (w->cap - w->len - 3 - JW_RESERVE) / 6 : 0;

		if (!avail) {
			w->truncated = true;
			if (w->after_key) {   /* a key without its value: finish the member */
				w->after_key = false;
				put(w, "null", 4);
			}
			return;
		}
		len = avail;
		sep(w);
		str_(w, s, len);
		w->truncated = true;
		return;
	}
	if (!room(w, 2))
		return;
	sep(w);
	str_(w, s ? s : "", len);
}

void jw_str(struct jw *w, const char *s)
{
	jw_strn(w, s, (size_t)-1);
}

static void scalar(struct jw *w, const char *text)
{
	/* A value that does not fit after its key leaves after_key set: jw_finish writes null
	 * there from the reserve, so the object stays valid. */
	if (!room(w, strlen(text) + 1))
		return;
	sep(w);
	puts_(w, text);
}

size_t jw_dec(char *buf, size_t len, uint64_t v)
{
	char tmp[24];
	size_t n = 0, i;

	if (!len)
		return 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	for (i = 0; i < n && i + 1 < len; i++)
		buf[i] = tmp[n - 1 - i];
	buf[i] = 0;
	return i;
}

void jw_u64(struct jw *w, uint64_t v)
{
	char b[24];

	jw_dec(b, sizeof(b), v);
	scalar(w, b);
}

void jw_i64(struct jw *w, int64_t v)
{
	char b[24];

	b[0] = '-';
	jw_dec(b + (v < 0), sizeof(b) - 1, v < 0 ? -(uint64_t)v : (uint64_t)v);
	scalar(w, b);
}

void jw_f64(struct jw *w, double v)
{
	char b[40];

	if (!isfinite(v)) {
		scalar(w, "null");
		return;
	}
	snprintf(b, sizeof(b), "%.6f", v);
	if (strchr(b, '.')) {   /* 12.500000 -> 12.5, 3.000000 -> 3 */
		char *e = b + strlen(b) - 1;

		while (*e == '0')
			*e-- = 0;
		if (*e == '.')
			*e = 0;
	}
	scalar(w, b);
}

void jw_bool(struct jw *w, bool v) { scalar(w, v ? "true" : "false"); }
void jw_null(struct jw *w) { scalar(w, "null"); }
void jw_raw(struct jw *w, const char *json) { scalar(w, json); }

void jw_newline(struct jw *w)
{
	if (room(w, 1))
		put(w, "\n", 1);
}

size_t jw_finish(struct jw *w)
{
	if (w->after_key) {   /* a key whose value was dropped */
		w->after_key = false;
		if (w->f)
			fputs("null", w->f);
		else if (w->len + 5 < w->cap) {
			memcpy(w->buf + w->len, "null", 5);
			w->len += 4;
		}
	}
	w->skipped = 0;
	while (w->depth)
		close_(w, w->in_obj[w->depth] ? '}' : ']');
	return w->len;
}
