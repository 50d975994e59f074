/* SPDX-License-Identifier: BSD-2-Clause */
/* The condition language of Falco rules, as a library: tokenizer and parser with Falco's
 * precedence (or < and < not), macro and list expansion, type checking against a field
 * provider, a compiled evaluator, and the parts of a condition the kernel can decide.
 * `ebee guard` (rules) and enforcement (issue 11) share it: one grammar, not two.
 *
 * The library knows no field: a provider (struct cond_provider) resolves names to typed field
 * references once, at compile time, and extracts values at evaluation time from whatever the
 * caller passes as the event. Values that the provider cannot give ("<NA>") make a comparison
 * false, as in Falco, so `not x in (...)` exclusions keep holding.
 *
 * Lifetime: cond_parse() builds an AST (macros and list names unresolved); cond_compile()
 * expands and resolves it against a cond_env and a provider into a struct cond (owns all its
 * memory, independent of the AST); cond_eval() allocates nothing. */
#ifndef EBEE_GUARD_COND_H
#define EBEE_GUARD_COND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cond_type {
	CT_STR,        /* text (also flags and enum names as Falco prints them) */
	CT_NUM,        /* integer, compared as int64 */
	CT_BOOL,       /* true / false */
	CT_IP,         /* an address: = and in compare against addresses and CIDRs */
};

/* A value extracted from an event. s need not be NUL-terminated (n bytes). */
struct cond_val {
	const char *s;
	size_t n;
	int64_t i;            /* CT_NUM, CT_BOOL (0/1) */
	uint8_t ip[16];       /* CT_IP: v4 in the first 4 bytes */
	uint8_t family;       /* CT_IP: 4 or 6 */
};

/* What the kernel might decide for a field (cond_kparts). */
enum cond_kdim {
	CK_NONE, CK_EVTYPE, CK_COMM, CK_PATH,
	CK_PATHDIR,    /* the directory of CK_PATH's path: "in (D)" means the path starts "D/" */
	CK_WRITE,      /* an open for writing (evt.is_open_write) */
	CK_RAWPATH,    /* the path as passed (fd.nameraw): "contains ../" is decidable */
};

enum {
	CF_MULTI = 1 << 0,    /* several values (proc.aname): a check holds if any value does */
	CF_NA    = 1 << 1,    /* known to Falco, never available here: always "<NA>" */
};

/* A resolved field reference, filled by the provider's resolve(). */
struct cond_field {
	int id;               /* provider's own id */
	int argi;             /* numeric argument (proc.aname[2]) or -1 */
	char args[48];        /* textual argument (evt.arg.flags -> "flags"), "" if none */
	enum cond_type type;
	uint8_t flags;        /* CF_* */
	uint8_t kdim;         /* enum cond_kdim */
	uint8_t cost;         /* the provider's guess of what a value costs (1 a load, ~10 a
			       * lookup, ~50+ a file read; 0 = unknown): cheap checks go first */
	char name[64];        /* as written, with its argument: "proc.aname[2]" */
};

struct cond_provider {
	/* name "proc.aname", arg "2" (or NULL when none was written). Returns 0, or -ENOENT
	 * (unknown field) / -EINVAL (bad argument) having written why. */
	int (*resolve)(void *pv, const char *name, const char *arg, struct cond_field *out,
		       char *why, size_t whylen);
	/* Value number idx (0, 1, ... for CF_MULTI fields; only 0 otherwise) of f for ev.
	 * Text may be written into buf (buflen bytes) and pointed to by out->s.
	 * Returns false when there is no (further) value: "<NA>". */
	bool (*get)(void *pv, const void *ev, const struct cond_field *f, int idx,
		    struct cond_val *out, char *buf, size_t buflen);
	/* Event type names the provider knows ("open", "execve"...): index into a bitmap of
	 * COND_EVTYPES bits, or -1 when unknown. May be NULL (no evtype analysis). */
	int (*evtype)(void *pv, const char *name);
	/* The event's type index (as evtype() numbers them), or -1; may be NULL. With it, checks
	 * of the CK_EVTYPE field compile to a bitmap test. */
	int (*evtype_of)(void *pv, const void *ev);
	void *pv;
};

#define COND_EVTYPES 256

/* ---- parsing ------------------------------------------------------------------------ */

struct cond_err {
	int line, col;        /* 1-based within the condition text (of `macro` when set) */
	char macro[64];       /* the error is inside this macro's condition ("" = the text's) */
	char msg[256];
};

struct cond_ast;
struct cond_ast *cond_parse(const char *text, struct cond_err *err);
void cond_ast_free(struct cond_ast *a);

/* Builders used by the rules loader for exceptions (Falco compiles them to "and not" tuples):
 * a check `field op values` with values given as strings (is_list: a "(...)" list). Field
 * names may carry "[arg]". */
struct cond_ast *cond_ast_check(const char *field, const char *op, const char *const *vals,
				int nvals, bool is_list, struct cond_err *err);
struct cond_ast *cond_ast_and(struct cond_ast *a, struct cond_ast *b);   /* takes both */
struct cond_ast *cond_ast_or(struct cond_ast *a, struct cond_ast *b);
struct cond_ast *cond_ast_not(struct cond_ast *a);
struct cond_ast *cond_ast_dup(const struct cond_ast *a);

/* ---- compiling ---------------------------------------------------------------------- */

/* Macros and lists by name, from the loader. A list's items may name other lists. */
struct cond_env {
	const struct cond_ast *(*macro)(void *env, const char *name);
	/* items of list `name` (NULL when no such list); *n set. */
	const char *const *(*list)(void *env, const char *name, int *n);
	void *env;
};

enum {
	COND_F_NA_FIELDS = 1 << 0,   /* the condition uses fields that are always <NA> here */
};

struct cond;
struct cond *cond_compile(const struct cond_ast *a, const struct cond_env *env,
			  const struct cond_provider *p, struct cond_err *err);
void cond_free(struct cond *c);
bool cond_eval(const struct cond *c, const void *ev);

/* Checks shared between conditions: the rules of one event type repeat the same macros
 * (open_read, spawned_process...), so identical checks (field, transformers, operator, values)
 * of every condition added to one cond_share get one slot, and an evaluation with a cond_memo
 * computes each slot once per event. A condition belongs to at most one share; all of a
 * share's conditions use the same provider. Results depend on the event only (fields read the
 * same whichever rule reads them), so sharing never changes one. */
struct cond_share;
struct cond_share *cond_share_new(void);
void cond_share_add(struct cond_share *s, struct cond *c);
int cond_share_slots(const struct cond_share *s);
void cond_share_free(struct cond_share *s);

/* One event's results of the shared checks. cond_memo_next() before each event (or whenever
 * the event changes); then cond_eval_memo for every rule evaluated on it. */
struct cond_memo {
	uint32_t epoch;
	int n;
	uint32_t *v;          /* per slot: epoch << 1 | result */
};
void cond_memo_init(struct cond_memo *m, const struct cond_share *s);
void cond_memo_fini(struct cond_memo *m);
static inline void cond_memo_next(struct cond_memo *m)
{
	if (++m->epoch >= 1u << 31) {   /* wrapped: forget everything */
		for (int i = 0; i < m->n; i++)
			m->v[i] = 0;
		m->epoch = 1;
	}
}
/* cond_eval with m (NULL: none) holding the results of shared checks for this event. */
bool cond_eval_memo(const struct cond *c, const void *ev, struct cond_memo *m);

/* Every distinct field the condition reads (after expansion), for `check` and degraded
 * statuses; NULL past the end. */
const struct cond_field *cond_field_at(const struct cond *c, int i);

/* ---- what the kernel can decide ----------------------------------------------------- */

/* For each dimension, a set S such that "condition true => value in S" (or any: no
 * constraint). Event types as a bitmap of the provider's evtype indexes; comms as exact
 * names; paths as prefixes (an exact path is its own prefix). */
struct cond_kparts {
	bool evtypes_any;
	uint64_t evtypes[COND_EVTYPES / 64];
	/* the types it may hold on here: evtypes less the branches that compare a field never
	 * available here (CF_NA: always false). The sets below are pruned the same way. */
	uint64_t evlive[COND_EVTYPES / 64];
	bool comm_any;
	int ncomm;
	char **comm;
	bool path_any;
	int npath;
	char **path;
	bool need_write;       /* the condition implies an open for writing */
	bool need_dotdot;      /* the condition implies "../" in the path as passed */
};
void cond_kparts(const struct cond *c, struct cond_kparts *k);
void cond_kparts_free(struct cond_kparts *k);
static inline bool cond_kparts_has_evtype(const struct cond_kparts *k, int i)
{
	return k->evtypes_any || (k->evtypes[i / 64] >> (i % 64) & 1);
}

static inline bool cond_kparts_live_evtype(const struct cond_kparts *k, int i)
{
	return k->evlive[i / 64] >> (i % 64) & 1;
}
/* Text of an AST, normalised (for tests and -v). Returns the length it needed. */
size_t cond_ast_str(const struct cond_ast *a, char *buf, size_t len);

#endif
