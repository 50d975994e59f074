/* SPDX-License-Identifier: BSD-2-Clause */
/* A subcommand as data. main.c holds the table; the dispatcher (cmd.c) matches names (exact or
 * unique prefix), checks requirements once, parses options into a zeroed copy of the command's
 * config (defaults applied), handles --help, runs, and turns the result into an exit code. */
#ifndef EBEE_CMD_H
#define EBEE_CMD_H

#include "ebee.h"
#include "opts.h"

struct ebee_cmd;

/* cfg points to the parsed config; argv[0..argc) are the positional arguments. */
typedef int (*cmd_run_fn)(struct ebee_ctx *ctx, void *cfg, int argc, char **argv);

struct ebee_cmd {
	const char *name;               /* "count" */
	const char *summary;            /* one line for `ebee --help` */
	unsigned req;                   /* enum ebee_req bits */
	cmd_run_fn run;                 /* NULL when the command only has subcommands */
	const struct opt *opts;         /* may be NULL */
	size_t cfg_size;
	const void *cfg_default;        /* copied into cfg before parsing; may be NULL */
	const struct opt_doc *doc;
	int min_pos, max_pos;           /* allowed positional count (max -1 = any) */
	const struct ebee_cmd *const *sub;  /* NULL-terminated subcommands, e.g. prog list/show */
};

/* Dispatches argv[0] among cmds (NULL-terminated). Returns the process exit code. */
int cmd_dispatch(const struct ebee_cmd *const *cmds, int argc, char **argv, const char *prefix);
void cmd_list(FILE *f, const struct ebee_cmd *const *cmds);

#endif
