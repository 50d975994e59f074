/* SPDX-License-Identifier: BSD-2-Clause */
/* A streaming JSON writer that nests objects and arrays without building a tree (the model is
 * bpftool's json_writer). It writes to a FILE or into a fixed buffer (no allocation: rows of an
 * event stream use it per event). A buffer that fills up stops taking values but the text stays
 * valid JSON: open containers are closed by jw_finish() and jw->truncated says so. Nothing in
 * ebee writes JSON by hand; out.c, serve and log.c all go through this. */
#ifndef EBEE_JSON_H
#define EBEE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JW_MAX_DEPTH 16

struct jw {
	FILE *f;                  /* NULL: writing into buf */
	char *buf;
	size_t cap, len;
	bool truncated;
	int depth;
	bool first[JW_MAX_DEPTH]; /* no member written yet at this depth */
	bool in_obj[JW_MAX_DEPTH];
	bool after_key;
	int skipped;              /* containers refused (no room, too deep): their ends are too */
};

void jw_init_file(struct jw *w, FILE *f);
void jw_init_buf(struct jw *w, char *buf, size_t cap);   /* cap >= 64 */
void jw_obj_begin(struct jw *w);
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w);
void jw_arr_end(struct jw *w);
void jw_key(struct jw *w, const char *key);
void jw_str(struct jw *w, const char *s);
void jw_strn(struct jw *w, const char *s, size_t n);  /* at most n bytes, stops at NUL */
void jw_u64(struct jw *w, uint64_t v);
void jw_i64(struct jw *w, int64_t v);
void jw_f64(struct jw *w, double v);                   /* non-finite -> null */
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
void jw_raw(struct jw *w, const char *json);           /* a value already valid JSON */
/* A line break between values (JSON whitespace): documents with one element per line. */
void jw_newline(struct jw *w);
/* Closes whatever is open; returns the length written (buffer mode: NUL-terminated). */
size_t jw_finish(struct jw *w);

/* v in decimal into buf (cut at len - 1, always terminated); returns the length. No printf:
 * rows of event streams write several numbers per event. */
size_t jw_dec(char *buf, size_t len, uint64_t v);

/* Shorthands for a member of the current object. */
static inline void jw_kstr(struct jw *w, const char *k, const char *v) { jw_key(w, k); jw_str(w, v); }
static inline void jw_ku64(struct jw *w, const char *k, uint64_t v) { jw_key(w, k); jw_u64(w, v); }
static inline void jw_ki64(struct jw *w, const char *k, int64_t v) { jw_key(w, k); jw_i64(w, v); }
static inline void jw_kbool(struct jw *w, const char *k, bool v) { jw_key(w, k); jw_bool(w, v); }
static inline void jw_kf64(struct jw *w, const char *k, double v) { jw_key(w, k); jw_f64(w, v); }

#endif
