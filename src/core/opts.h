/* SPDX-License-Identifier: BSD-2-Clause */
/* Options as data: a table per command bound to its config struct; --help is generated from it. */
#ifndef EBEE_OPTS_H
#define EBEE_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

enum opt_type {
	OPT_FLAG,      /* bool, no argument */
	OPT_STR,       /* const char *, points into argv */
	OPT_INT,       /* long long in [min,max] */
	OPT_UINT,      /* unsigned long long in [min,max] */
	OPT_DOUBLE,    /* double in [min,max] */
	OPT_SECONDS,   /* double seconds; accepts 1.5, 500ms, 2s, 1m */
	OPT_LIST,      /* struct opt_list: repeatable and comma-separated values */
	OPT_CUSTOM,    /* parse(arg, field) does it; return 0 or -EINVAL having printed the error */
};

#define OPT_LIST_MAX 64
struct opt_list {
	int n;
	const char *v[OPT_LIST_MAX];   /* point into a copy kept alive by the dispatcher */
};

struct opt {
	const char *lng;        /* "interval" */
	char shrt;              /* 'i' or 0 */
	enum opt_type type;
	size_t off;             /* offsetof(config, field) */
	const char *arg;        /* metavar for help ("SECONDS"); NULL for flags */
	const char *help;       /* one line; the default is appended from .def */
	const char *def;        /* default as shown in help, or NULL */
	double min, max;        /* for numeric types; both 0 = no bound */
	int (*parse)(const char *arg, void *field);
};

#define OPT_END { 0 }

/* A command's help text pieces; usage lines are generated from the table. */
struct opt_doc {
	const char *synopsis;   /* "[OPTIONS]" or "TARGET:FUNC [ARGSPEC]" */
	const char *description;/* paragraphs, wrapped by the author at 80 columns */
	const char *examples;   /* lines "  ebee count --by uid" */
};

/* Parses argv (argv[0] is the command name) into cfg. Global options (-j/--json, -v, -q, -h)
 * are recognised here too and set in ctx/help. Non-option arguments are moved to the front
 * of argv after argv[0]; their count is returned through *npos. Returns 0, or -EINVAL after
 * printing "ebee CMD: ..." with a hint to see --help. */
struct ebee_ctx;
int opts_parse(const struct opt *tab, void *cfg, int argc, char **argv, int *npos,
	       struct ebee_ctx *ctx, bool *help);
void opts_help(FILE *f, const char *cmd_path, const struct opt *tab, const struct opt_doc *doc);
/* troff man page generated from the same table (ebee help --man CMD). */
void opts_man(FILE *f, const char *cmd_path, const char *summary, const struct opt *tab,
	      const struct opt_doc *doc);

/* Reusable parsers. */
int opts_parse_seconds(const char *s, double *out);
/* Comma-split s into l (appending; a copy of s is kept until opts_free). -E2BIG past
 * OPT_LIST_MAX, -EINVAL for an empty element. */
int opts_split(const char *s, struct opt_list *l);
void opts_free(void);   /* frees the copies opts_split made; the dispatcher calls it */

#endif
