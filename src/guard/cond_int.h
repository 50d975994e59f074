/* SPDX-License-Identifier: BSD-2-Clause */
/* Internals of the condition library shared by its parser (cond_parse.c) and compiler and
 * evaluator (cond.c). Users include guard/cond.h only. */
#ifndef EBEE_GUARD_COND_INT_H
#define EBEE_GUARD_COND_INT_H

#include "guard/cond.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define COND_MAX_TR 8

enum ast_kind { A_AND, A_OR, A_NOT, A_IDENT, A_CHECK };

enum cond_op {
	OP_EXISTS, OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
	OP_CONTAINS, OP_ICONTAINS, OP_BCONTAINS, OP_STARTSWITH, OP_BSTARTSWITH, OP_ENDSWITH,
	OP_GLOB, OP_IGLOB, OP_PMATCH, OP_IN, OP_INTERSECTS, OP_REGEX,
};

enum { TR_NONE, TR_TOLOWER, TR_TOUPPER, TR_B64, TR_BASENAME, TR_LEN };

struct ast_field {
	char *name;
	char *arg;                 /* NULL when none */
	int ntr;
	uint8_t tr[COND_MAX_TR];   /* outermost first */
};

struct cond_ast {
	enum ast_kind k;
	int line, col;
	struct cond_ast **kids;    /* and/or: n; not: 1 */
	int nkids;
	char *ident;               /* A_IDENT: a macro name */
	/* A_CHECK */
	struct ast_field *lhs;
	enum cond_op op;
	bool is_list;              /* values were a (...) list or a list name */
	char **vals;
	uint8_t *quoted;           /* per value: it was quoted (never a list name) */
	int nvals;
	struct ast_field *rfield;  /* val(field) or transformer on the right */
};

struct cond_ast *cond_ast_new(enum ast_kind k);
void cond_ast_add(struct cond_ast *a, struct cond_ast *kid);
void cond_afield_free(struct ast_field *f);
const char *cond_op_name(enum cond_op op);
int cond_op_parse(const char *s);
const char *cond_transformer_name(int t);
void *cond_xcalloc(size_t n, size_t sz);
char *cond_xstrdup(const char *s);

#endif
