// SPDX-License-Identifier: BSD-2-Clause
/* The dispatcher: name matching, requirements, options, help, exit codes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"
#include "out.h"

static const struct ebee_cmd *find(const struct ebee_cmd *const *cmds, const char *name, bool *ambig)
{
	const struct ebee_cmd *hit = NULL;
	size_t len = strlen(name);
	int n = 0;

	*ambig = false;
	for (int i = 0; cmds[i]; i++) {
		if (!strcmp(cmds[i]->name, name))
			return cmds[i];
		if (!strncmp(cmds[i]->name, name, len)) {
			hit = cmds[i];
			n++;
		}
	}
	*ambig = n > 1;
	return n == 1 ? hit : NULL;
}

void cmd_list(FILE *f, const struct ebee_cmd *const *cmds)
{
	for (int i = 0; cmds[i]; i++)
		fprintf(f, "  %-12s %s\n", cmds[i]->name, cmds[i]->summary);
}

static void top_help(FILE *f, const struct ebee_cmd *const *cmds)
{
	fputs("Usage: ebee [COMMAND] [OPTIONS]\n\n"
	      "Zero-instrumentation eBPF observability and runtime security for Linux.\n"
	      "One binary with its BPF programs embedded; every command leaves the kernel as it\n"
	      "found it when it exits.\n\nCommands:\n", f);
	cmd_list(f, cmds);
	fputs("  help         show help for a command (help --man CMD prints its man page)\n"
	      "  completion   print a bash completion script (completion bash)\n"
	      "\nCommon options (every command):\n"
	      "  -j, --json      JSON lines on stdout; errors as {\"error\": ...}\n"
	      "  -v, --verbose   more detail on stderr (-vv: libbpf debug, verifier logs)\n"
	      "  -q, --quiet     no warnings\n"
	      "  -h, --help      help for the command\n"
	      "  --version       print the version\n"
	      "\nRun 'ebee COMMAND --help' for a command's options. Exit codes: 0 success,\n"
	      "1 failure, 2 usage error.\n", f);
}

static void sub_help(FILE *f, const char *path, const struct ebee_cmd *c)
{
	fprintf(f, "Usage: ebee %s COMMAND [OPTIONS]\n\n%s\n", path,
		c->doc && c->doc->description ? c->doc->description : c->summary);
	fputs("\nCommands:\n", f);
	cmd_list(f, c->sub);
	fprintf(f, "\nRun 'ebee %s COMMAND --help' for a command's options.\n", path);
}

/* Prints the error in JSON too when --json was asked for; stderr has the plain line. */
static int finish(const struct ebee_ctx *ctx, int ret)
{
	int code = ret == 0 ? EBEE_EXIT_OK : ret == -EINVAL ? EBEE_EXIT_USAGE : EBEE_EXIT_FAIL;

	if (code && ctx->json && ebee_last_error()) {
		struct jw w;

		jw_init_file(&w, stdout);
		jw_obj_begin(&w);
		jw_kstr(&w, "error", ebee_last_error());
		jw_ki64(&w, "exit", code);
		jw_obj_end(&w);
		jw_newline(&w);
	}
	fflush(stdout);
	return code;
}

/* Pre-scan for global flags so that errors before option parsing honour --json and -v. */
static void prescan(struct ebee_ctx *ctx, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j"))
			ctx->json = true;
	}
}

static int run_cmd(const struct ebee_cmd *c, struct ebee_ctx *ctx, char *path, size_t pathlen,
		   int argc, char **argv);

static int dispatch_in(const struct ebee_cmd *const *cmds, struct ebee_ctx *ctx, char *path,
		       size_t pathlen, int argc, char **argv)
{
	const struct ebee_cmd *c;
	bool ambig;

	c = find(cmds, argv[0], &ambig);
	if (!c) {
		ebee_err("%s command '%s'%s (see 'ebee%s%s --help')", ambig ? "ambiguous" : "unknown",
			 argv[0], ambig ? ": give more letters" : "", path[0] ? " " : "", path);
		return -EINVAL;
	}
	if (path[0])
		strncat(path, " ", pathlen - strlen(path) - 1);
	strncat(path, c->name, pathlen - strlen(path) - 1);
	ctx->cmd_path = path;
	return run_cmd(c, ctx, path, pathlen, argc, argv);
}

static int run_cmd(const struct ebee_cmd *c, struct ebee_ctx *ctx, char *path, size_t pathlen,
		   int argc, char **argv)
{
	bool help = false;
	void *cfg = NULL;
	int npos = 0, err;

	if (c->sub) {
		if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
		    !strcmp(argv[1], "help")) {
			if (argc < 2) {
				ebee_err("'ebee %s' needs a command (see 'ebee %s --help')", path, path);
				return -EINVAL;
			}
			sub_help(stdout, path, c);
			return 0;
		}
		if (!c->run || argv[1][0] != '-')
			return dispatch_in(c->sub, ctx, path, pathlen, argc - 1, argv + 1);
	}
	cfg = calloc(1, c->cfg_size ? c->cfg_size : 1);
	if (!cfg)
		return -ENOMEM;
	if (c->cfg_default)
		memcpy(cfg, c->cfg_default, c->cfg_size);
	err = opts_parse(c->opts, cfg, argc, argv, &npos, ctx, &help);
	if (err)
		goto out;
	if (help) {
		opts_help(stdout, path, c->opts, c->doc);
		goto out;
	}
	ebee_log_init(ctx);
	if (npos < c->min_pos || (c->max_pos >= 0 && npos > c->max_pos)) {
		if (npos < c->min_pos)
			ebee_err("'ebee %s' needs %s (see 'ebee %s --help')", path,
				 c->doc && c->doc->synopsis ? c->doc->synopsis : "more arguments", path);
		else
			ebee_err("unexpected argument '%s' (see 'ebee %s --help')", argv[1 + c->max_pos], path);
		err = -EINVAL;
		goto out;
	}
	err = ebee_require(c->req);
	if (err)
		goto out;
	err = c->run(ctx, cfg, npos, argv + 1);
out:
	free(cfg);
	opts_free();
	return err;
}

static int help_cmd(const struct ebee_cmd *const *cmds, int argc, char **argv)
{
	bool man = argc > 0 && !strcmp(argv[0], "--man");
	const struct ebee_cmd *c = NULL, *const *in = cmds;
	char path[128] = "";
	bool ambig;

	if (man) {
		argc--;
		argv++;
	}
	if (!argc) {
		top_help(stdout, cmds);
		return 0;
	}
	for (int i = 0; i < argc; i++) {
		c = in ? find(in, argv[i], &ambig) : NULL;
		if (!c) {
			ebee_err("no help for '%s': unknown command (see 'ebee --help')", argv[i]);
			return -EINVAL;
		}
		if (path[0])
			strncat(path, " ", sizeof(path) - strlen(path) - 1);
		strncat(path, c->name, sizeof(path) - strlen(path) - 1);
		in = c->sub;
	}
	if (man)
		opts_man(stdout, path, c->summary, c->opts, c->doc);
	else if (c->sub && !c->run)
		sub_help(stdout, path, c);
	else
		opts_help(stdout, path, c->opts, c->doc);
	return 0;
}

/* Bash completion generated from the same tables as --help, so it cannot drift. */
static void complete_opts(FILE *f, const struct opt *tab)
{
	for (const struct opt *o = tab; o && o->lng; o++)
		fprintf(f, " --%s", o->lng);
	fputs(" --json --verbose --quiet --help", f);
}

static void complete_cases(FILE *f, const struct ebee_cmd *const *cmds, const char *prefix)
{
	for (int i = 0; cmds[i]; i++) {
		char path[128];

		snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? " " : "", cmds[i]->name);
		if (cmds[i]->sub)
			complete_cases(f, cmds[i]->sub, path);   /* deeper paths first: case takes the first match */
		fprintf(f, "\t\t\"%s\"|\"%s \"*) words=\"", path, path);
		if (cmds[i]->sub)
			for (int j = 0; cmds[i]->sub[j]; j++)
				fprintf(f, "%s%s", j ? " " : "", cmds[i]->sub[j]->name);
		if (cmds[i]->run)
			complete_opts(f, cmds[i]->opts);
		fputs("\" ;;\n", f);
	}
}

static int completion_cmd(const struct ebee_cmd *const *cmds, int argc, char **argv)
{
	if (argc != 1 || strcmp(argv[0], "bash")) {
		ebee_err("usage: ebee completion bash (only bash is generated)");
		return -EINVAL;
	}
	fputs("# bash completion for ebee, generated by 'ebee completion bash'\n"
	      "# install: ebee completion bash > /etc/bash_completion.d/ebee\n"
	      "_ebee() {\n"
	      "\tlocal cur=${COMP_WORDS[COMP_CWORD]} path= words i\n"
	      "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	      "\t\t[[ ${COMP_WORDS[i]} == -* ]] || path+=${path:+ }${COMP_WORDS[i]}\n"
	      "\tdone\n"
	      "\tcase \"$path\" in\n", stdout);
	complete_cases(stdout, cmds, "");
	fputs("\t\t*) words=\"", stdout);
	for (int i = 0; cmds[i]; i++)
		printf("%s ", cmds[i]->name);
	fputs("help completion --help --version\" ;;\n"
	      "\tesac\n"
	      "\tCOMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
	      "}\n"
	      "complete -o default -F _ebee ebee\n", stdout);
	return 0;
}

int cmd_dispatch(const struct ebee_cmd *const *cmds, int argc, char **argv, const char *prefix)
{
	struct ebee_ctx ctx = { .cmd_path = prefix };
	char path[128] = "";
	int i = 0;

	prescan(&ctx, argc, argv);
	ebee_log_init(&ctx);
	/* Global flags may come before the command: ebee -v count ... */
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--version")) {
			if (ctx.json) {
				struct jw w;

				jw_init_file(&w, stdout);
				jw_obj_begin(&w);
				jw_kstr(&w, "version", EBEE_VERSION);
				jw_obj_end(&w);
				jw_newline(&w);
			} else {
				printf("ebee %s\n", EBEE_VERSION);
			}
			return 0;
		}
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			top_help(stdout, cmds);
			return 0;
		}
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
			ctx.verbose++;
		else if (!strcmp(argv[i], "-vv"))
			ctx.verbose += 2;
		else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
			ctx.quiet = true;
		else if (strcmp(argv[i], "-j") && strcmp(argv[i], "--json")) {
			ebee_err("unknown option '%s' (see 'ebee --help')", argv[i]);
			return finish(&ctx, -EINVAL);
		}
	}
	if (i == argc) {
		top_help(stderr, cmds);
		ebee_err("no command given");
		return finish(&ctx, -EINVAL);
	}
	if (!strcmp(argv[i], "help"))
		return finish(&ctx, help_cmd(cmds, argc - i - 1, argv + i + 1));
	if (!strcmp(argv[i], "completion"))
		return finish(&ctx, completion_cmd(cmds, argc - i - 1, argv + i + 1));
	return finish(&ctx, dispatch_in(cmds, &ctx, path, sizeof(path), argc - i, argv + i));
}
