/* SPDX-License-Identifier: BSD-2-Clause */
/* Options as data: a table per command bound to its config struct; --help is generated from it. */
#ifndef EBEE_OPTS_H
#define EBEE_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>

enum opt_type {
	OPT_FLAG,      /* bool, no argument */
	OPT_STR,       /* const char *, points into argv */
	OPT_INT,       /* long long in [min,max] */
	OPT_UINT,      /* unsigned long long in [min,max] */
	OPT_DOUBLE,    /* double in [min,max] */
	OPT_SECONDS,   /* double seconds; accepts 1.5, 500ms, 2s, 1m */
	OPT_LIST,      /* struct opt_list: repeatable and comma-separated values */
	OPT_CUSTOM,    /* parse(arg, field) does it; return 0 or -EINVAL having printed the error */
	OPT_PORTS,     /* struct opt_ports: 80,443,8000-8100 (repeatable) */
	OPT_CIDRS,     /* struct opt_cidrs: 10.0.0.0/8,::1,192.0.2.7 (repeatable; bare address = /32, /128) */
	OPT_ENUM,      /* int: index of the argument in .names (NULL-terminated); "did you mean" */
	OPT_SIZE,      /* unsigned long long bytes: 4096, 64K, 16M, 1G (powers of 1024) */
};

#define OPT_PORTS_MAX 16
struct opt_ports {
	int n;
	struct { uint16_t lo, hi; } r[OPT_PORTS_MAX];   /* inclusive; lo == hi for one port */
};

#define OPT_CIDRS_MAX 16
struct opt_cidr {
	uint8_t addr[16];      /* network address (host bits cleared); v4 in the first 4 bytes */
	uint8_t prefix;        /* prefix length */
	uint8_t family;        /* 4 or 6 */
};
struct opt_cidrs {
	int n;
	struct opt_cidr v[OPT_CIDRS_MAX];
};
bool opt_ports_has(const struct opt_ports *p, uint16_t port);
bool opt_cidr_match(const struct opt_cidr *c, int family, const uint8_t *addr);

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
	const char *const *names;   /* OPT_ENUM: accepted values, NULL-terminated */
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

/* One option's value from elsewhere than argv (a config file): as if "--LONG ARG" had been
 * given (a flag takes no arg). arg must outlive cfg. 0 or -EINVAL having printed the error. */
int opts_set(const struct opt *o, void *cfg, const char *arg, const struct ebee_ctx *ctx);

/* Reusable parsers. */
int opts_parse_seconds(const char *s, double *out);
/* Comma-split s into l (appending; a copy of s is kept until opts_free). -E2BIG past
 * OPT_LIST_MAX, -EINVAL for an empty element. */
int opts_split(const char *s, struct opt_list *l);
void opts_free(void);   /* frees the copies opts_split made; the dispatcher calls it */
/* Levenshtein distance of short words (99 past 31 characters), and the closest of names
 * (NULL-terminated) at most two edits away, or NULL: for "did you mean". */
int opts_distance(const char *a, const char *b);
const char *opts_suggest(const char *word, const char *const *names);
/* The typed parsers, for features that take these from other places (config files). Return 0
 * or -EINVAL without printing; *why says what is wrong. */
int opts_parse_ports(const char *s, struct opt_ports *p, const char **why);
int opts_parse_cidrs(const char *s, struct opt_cidrs *c, const char **why);
int opts_parse_size(const char *s, unsigned long long *out);

#endif
