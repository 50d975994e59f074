/* SPDX-License-Identifier: BSD-2-Clause */
/* The daemon's YAML config (libyaml): the server's settings and the collectors to run, each with
 * its options as a map of the collector's own long option names (desc->opts) to a value or a
 * list of values, so that the file and the CLI say the same thing:
 *
 *   listen: 0.0.0.0:8700
 *   token_file: /etc/ebee/token
 *   collectors:
 *     netwatch: { interface: [eth0], port: [80, 443] }
 *     tcp: { lport: [80] }
 *     prog:
 *
 * Parsing checks every key and value (each collector's values through its option parsers, on a
 * scratch config), and says FILE:LINE on the one error line it prints. */
#ifndef EBEE_SERVE_CONFIG_H
#define EBEE_SERVE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct collector_desc;
struct opt;

#define SERVE_MAX_COLLECTORS 16
#define SERVE_MAX_ARGS 64

struct serve_arg {
	const struct opt *o;
	char *val;             /* NULL for a flag */
	int line;
};

/* One collector of the config: which, and its options in file order. */
struct serve_col_conf {
	const struct collector_desc *d;
	int line;
	int nargs;
	struct serve_arg a[SERVE_MAX_ARGS];
};

struct serve_conf {
	char *path;            /* the file, for messages */
	char *listen, *token_file, *tls_cert, *tls_key;
	bool insecure_no_auth;
	double interval;                 /* 0 = not set */
	unsigned long long max_connections, max_streams, event_buffer;
	bool have_collectors;            /* the key was there (an empty map runs none) */
	int ncols;
	struct serve_col_conf cols[SERVE_MAX_COLLECTORS];
};

/* Reads and checks FILE into *c (zeroed first). 0, or -EINVAL / -errno having printed one line
 * "ebee: FILE:LINE: problem". */
int serve_conf_load(const char *path, struct serve_conf *c);
/* The same from memory (name is what messages call it): the fuzz target's entry. */
int serve_conf_parse(const char *name, const char *text, size_t len, struct serve_conf *c);
void serve_conf_free(struct serve_conf *c);

/* A collector's config: desc->cfg_default, then the options in order, into cfg (cfg_size
 * bytes). Strings point into cc, which must outlive cfg. 0 or -EINVAL having printed the
 * error (with FILE:LINE when path is not NULL). */
int serve_col_cfg(const struct serve_col_conf *cc, const char *path, void *cfg);
/* Same collector, same options in the same order: a reload keeps it running. */
bool serve_col_same(const struct serve_col_conf *a, const struct serve_col_conf *b);
/* Moves a collector's conf (its strings) from src to dst; src is left empty. */
void serve_col_move(struct serve_col_conf *dst, struct serve_col_conf *src);
void serve_col_free(struct serve_col_conf *cc);

#endif
