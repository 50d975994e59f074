/* SPDX-License-Identifier: BSD-2-Clause */
/* One output layer: every command emits rows of typed columns; the writer renders them as an
 * aligned table or as JSON lines (one object per row). The daemon renders the same rows as
 * JSON documents or Prometheus text. No global state: a writer is a value owned by its user,
 * so concurrent HTTP renders each have their own. No allocation per row. */
#ifndef EBEE_OUT_H
#define EBEE_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "core/json.h"

/* OUT_RAW (a preformatted JSON value) is deprecated: it remains only for the callers not yet
 * moved to out_nest() (prog, top, uprobe). OUT_NEST is a column whose cells come from
 * out_nest(). */
enum out_kind { OUT_STR, OUT_U64, OUT_I64, OUT_F64, OUT_BOOL, OUT_RAW, OUT_NEST };
enum out_fmt { OUT_TABLE, OUT_JSON };

struct out_col {
	const char *key;     /* JSON key: "syscall" */
	const char *head;    /* table header: "SYSCALL" (NULL = key uppercased not done: give it) */
	enum out_kind kind;
	int width;           /* table width; negative = left-aligned; 0 = not shown in the table */
	int prec;            /* digits after the point for OUT_F64 in tables */
};

#define OUT_MAX_COLS 32
#define OUT_CELL 512         /* longest cell; longer strings are cut (JSON too, with "…"-less cut) */

struct out_cell {
	bool set;
	enum out_kind kind;
	union { uint64_t u; int64_t i; double f; bool b; } v;
	char s[OUT_CELL];
};

#define OUT_ARENA 16384

struct out {
	FILE *f;
	enum out_fmt fmt;
	const struct out_col *cols;
	int ncols;
	uint64_t hidden;     /* bit per column: not printed (e.g. count's unused --by keys) */
	bool header_done;
	struct jw *parent;   /* rows are values of this writer (out_init_jw), not lines */
	struct out_cell row[OUT_MAX_COLS];
	/* Nested cells: their JSON text lives in the arena (offset in the cell's v.u); nest is the
	 * writer of the one being built, nest_col its column (-1: none open). */
	struct jw nest;
	int nest_col;
	size_t arena_len;
	char spare[64];      /* a writer for a value that no longer fits in the arena */
	char arena[OUT_ARENA];
};

void out_init(struct out *o, FILE *f, enum out_fmt fmt, const struct out_col *cols, int ncols);
/* JSON rows written as values (objects, one per line) of an enclosing document's writer, e.g.
 * the elements of an array in an HTTP API document. */
void out_init_jw(struct out *o, struct jw *w, const struct out_col *cols, int ncols);
/* Sets the columns of a writer initialised elsewhere (its FILE, format or document kept): a
 * collector's rows() on the writer the daemon or the CLI gives it. */
void out_cols(struct out *o, const struct out_col *cols, int ncols);
void out_hide(struct out *o, int col, bool hide);
/* Table mode: prints the header line (again if called again, e.g. each interval). */
void out_header(struct out *o);
/* Cells of the current row, by column index; unset cells print "-" in tables and are left
 * out in JSON. */
void out_str(struct out *o, int col, const char *s);
void out_strn(struct out *o, int col, const char *s, size_t n);  /* not NUL-terminated input */
void out_fmt(struct out *o, int col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void out_u64(struct out *o, int col, uint64_t v);
void out_i64(struct out *o, int col, int64_t v);
void out_f64(struct out *o, int col, double v);
void out_bool(struct out *o, int col, bool v);
/* Deprecated (use out_nest): a JSON value already formatted. */
void out_raw(struct out *o, int col, const char *json);
/* Writes the row (a table line or a JSON object and newline) and clears it. */
void out_row(struct out *o);
/* Table mode: a free line such as "--- 12:00:01 ---" between interval tables (JSON: nothing). */
void out_sep(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Nested values (objects and arrays inside a row). out_nest() returns a JSON writer
 * (core/json.h) for exactly one value of that cell, built in the row's arena (OUT_ARENA bytes,
 * no allocation; a value that does not fit is cut and still valid JSON). JSON rows embed it;
 * tables show it as compact text: strings unquoted, an object's values joined by ':' (a member
 * that is true shows its key, false and null members are left out), array elements by ' ' at
 * the top and ',' deeper: [{"name":"lo","attach":"tc","gone":true}] -> "lo:tc:gone". The value
 * is closed by the next out_* call on the row (or out_row). */
struct jw *out_nest(struct out *o, int col);
/* The compact text of a JSON value, as tables show nested cells. */
size_t out_nest_text(const char *json, char *dst, size_t cap);

/* Prometheus text exposition from the same layer: HELP/TYPE once per family, label values
 * escaped, names checked (ebee_ prefix, base units, _total for counters). */
struct prom {
	FILE *f;
	char family[128];      /* the family whose HELP/TYPE was written last */
	int bad;               /* names refused (a programming error, also logged) */
};
struct prom_label {
	const char *k, *v;
};
void prom_init(struct prom *p, FILE *f);
void prom_family(struct prom *p, const char *name, const char *type, const char *help);
void prom_u64(struct prom *p, const char *name, const struct prom_label *l, int nl, uint64_t v);
void prom_f64(struct prom *p, const char *name, const struct prom_label *l, int nl, double v);
/* One label value escaped for the exposition format (\\, \", \n). */
void prom_label_value(FILE *f, const char *v);

/* JSON string escaping shared by every writer (HTTP API, Prometheus labels use their own). */
void out_json_str(FILE *f, const char *s);
size_t out_json_escape(char *dst, size_t cap, const char *s);

#endif
