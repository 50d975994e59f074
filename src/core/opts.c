// SPDX-License-Identifier: BSD-2-Clause
/* Option tables: parsing, --help and man pages from one description. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "ebee.h"
#include "opts.h"

/* Copies made by opts_split live until opts_free (the dispatcher's single cleanup). */
static char **copies;
static int ncopies;

void opts_free(void)
{
	for (int i = 0; i < ncopies; i++)
		free(copies[i]);
	free(copies);
	copies = NULL;
	ncopies = 0;
}

int opts_split(const char *s, struct opt_list *l)
{
	char **nc = realloc(copies, (ncopies + 1) * sizeof(*copies));
	char *dup, *tok, *save = NULL;

	if (!nc)
		return -ENOMEM;
	copies = nc;
	dup = strdup(s);
	if (!dup)
		return -ENOMEM;
	copies[ncopies++] = dup;
	if (!*dup || dup[strlen(dup) - 1] == ',' || *dup == ',' || strstr(dup, ",,"))
		return -EINVAL;
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (l->n >= OPT_LIST_MAX)
			return -E2BIG;
		l->v[l->n++] = tok;
	}
	return 0;
}

int opts_parse_seconds(const char *s, double *out)
{
	char *end;
	double v, mul = 1;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	if (!strcmp(end, "ms"))
		mul = 0.001;
	else if (!strcmp(end, "m") || !strcmp(end, "min"))
		mul = 60;
	else if (!strcmp(end, "h"))
		mul = 3600;
	else if (*end && strcmp(end, "s"))
		return -EINVAL;
	*out = v * mul;
	return 0;
}

static const struct opt global_opts[] = {
	{ "json", 'j', OPT_FLAG, 0, NULL, "output JSON lines (one object per row; errors as {\"error\": ...})" },
	{ "verbose", 'v', OPT_FLAG, 0, NULL, "more detail on stderr; -vv adds libbpf debug and verifier logs" },
	{ "quiet", 'q', OPT_FLAG, 0, NULL, "no warnings" },
	{ "help", 'h', OPT_FLAG, 0, NULL, "show this help" },
	OPT_END
};

static int __attribute__((format(printf, 2, 3)))
usage_err(const struct ebee_ctx *ctx, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ebee_err("%s (see 'ebee %s --help')", msg, ctx->cmd_path);
	return -EINVAL;
}

static int set_value(const struct opt *o, void *cfg, const char *arg, const struct ebee_ctx *ctx)
{
	void *field = (char *)cfg + o->off;
	char *end;
	bool bounded = o->min != 0 || o->max != 0;
	char name[80];
	int err;

	snprintf(name, sizeof(name), "--%s", o->lng);
	switch (o->type) {
	case OPT_FLAG:
		*(bool *)field = true;
		return 0;
	case OPT_STR:
		if (!*arg)
			return usage_err(ctx, "option '%s' needs a non-empty value", name);
		*(const char **)field = arg;
		return 0;
	case OPT_INT: {
		long long v;

		errno = 0;
		v = strtoll(arg, &end, 0);
		if (errno || end == arg || *end || (bounded && (v < o->min || v > o->max)))
			goto bad_num;
		*(long long *)field = v;
		return 0;
	}
	case OPT_UINT: {
		unsigned long long v;

		errno = 0;
		v = strtoull(arg, &end, 0);
		if (errno || end == arg || *end || *arg == '-' || (bounded && (v < o->min || v > o->max)))
			goto bad_num;
		*(unsigned long long *)field = v;
		return 0;
	}
	case OPT_DOUBLE:
	case OPT_SECONDS: {
		double v;

		if (o->type == OPT_SECONDS) {
			if (opts_parse_seconds(arg, &v))
				goto bad_num;
		} else {
			errno = 0;
			v = strtod(arg, &end);
			if (errno || end == arg || *end || !isfinite(v))
				goto bad_num;
		}
		if (bounded && (v < o->min || v > o->max))
			goto bad_num;
		*(double *)field = v;
		return 0;
	}
	case OPT_LIST:
		err = opts_split(arg, field);
		if (err == -E2BIG)
			return usage_err(ctx, "too many values for '%s'", name);
		if (err)
			return usage_err(ctx, "bad list '%s' for '%s'", arg, name);
		return 0;
	case OPT_CUSTOM:
		err = o->parse(arg, field);
		if (err == -EINVAL)
			ebee_info("see 'ebee %s --help'", ctx->cmd_path);
		return err;
	}
	return -EINVAL;
bad_num:
	if (bounded)
		return usage_err(ctx, "bad value '%s' for '%s': expected %s from %g to %g", arg, name,
				 o->type == OPT_SECONDS ? "seconds" : "a number", o->min, o->max);
	return usage_err(ctx, "bad value '%s' for '%s': expected %s", arg, name,
			 o->type == OPT_SECONDS ? "seconds (1.5, 500ms, 2m)" : "a number");
}

/* Finds a long option: exact name, else a unique prefix. */
static const struct opt *find_long(const struct opt *tab, const char *name, size_t len, bool *ambig)
{
	const struct opt *hit = NULL;
	int n = 0;

	for (const struct opt *o = tab; o && o->lng; o++) {
		if (strlen(o->lng) == len && !strncmp(o->lng, name, len))
			return o;
		if (!strncmp(o->lng, name, len)) {
			hit = o;
			n++;
		}
	}
	*ambig = n > 1;
	return n == 1 ? hit : NULL;
}

static const struct opt *find_short(const struct opt *tab, char c)
{
	for (const struct opt *o = tab; o && o->lng; o++)
		if (o->shrt == c)
			return o;
	return NULL;
}

static int set_global(const struct opt *g, struct ebee_ctx *ctx, bool *help)
{
	switch (g->shrt) {
	case 'j': ctx->json = true; break;
	case 'v': ctx->verbose++; break;
	case 'q': ctx->quiet = true; break;
	case 'h': *help = true; break;
	}
	return 0;
}

int opts_parse(const struct opt *tab, void *cfg, int argc, char **argv, int *npos,
	       struct ebee_ctx *ctx, bool *help)
{
	int pos = 1, i, err;
	bool only_pos = false;

	for (i = 1; i < argc; i++) {
		char *a = argv[i];
		const struct opt *o = NULL, *g = NULL;
		const char *val = NULL;
		char shown[64];

		if (only_pos || a[0] != '-' || !a[1]) {
			argv[pos++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_pos = true;
			continue;
		}
		if (a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			bool ambig = false, gambig = false;

			o = find_long(tab, name, len, &ambig);
			if (!o)
				g = find_long(global_opts, name, len, &gambig);
			if (ambig || (!o && gambig))
				return usage_err(ctx, "ambiguous option '%s'", a);
			if (!o && !g)
				return usage_err(ctx, "unknown option '%s'", a);
			val = eq ? eq + 1 : NULL;
			snprintf(shown, sizeof(shown), "--%s", o ? o->lng : g->lng);
			if (g) {
				if (val)
					return usage_err(ctx, "option '%s' takes no value", shown);
				set_global(g, ctx, help);
				continue;
			}
			if (o->type == OPT_FLAG) {
				if (val)
					return usage_err(ctx, "option '%s' takes no value", shown);
			} else if (!val) {
				if (i + 1 >= argc)
					return usage_err(ctx, "option '%s' needs a value", shown);
				val = argv[++i];
			}
			err = set_value(o, cfg, val, ctx);
			if (err)
				return err;
			continue;
		}
		/* Short options: -vv, -jq, -i1, -i 1 */
		for (char *c = a + 1; *c; c++) {
			o = find_short(tab, *c);
			g = o ? NULL : find_short(global_opts, *c);
			if (!o && !g) {
				char s[3] = { '-', *c, 0 };

				return usage_err(ctx, "unknown option '%s'", s);
			}
			if (g) {
				set_global(g, ctx, help);
				continue;
			}
			if (o->type == OPT_FLAG) {
				err = set_value(o, cfg, NULL, ctx);
				if (err)
					return err;
				continue;
			}
			if (c[1])
				val = c + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else
				return usage_err(ctx, "option '-%c' needs a value", *c);
			err = set_value(o, cfg, val, ctx);
			if (err)
				return err;
			break;
		}
	}
	*npos = pos - 1;
	return 0;
}

/* Words of `text` wrapped to the right column; continuation lines indented to `col`. */
static void wrap(FILE *f, const char *text, int col, int width)
{
	int x = col;

	while (*text) {
		int w = strcspn(text, " ");

		if (x > col && x + 1 + w > width) {
			fprintf(f, "\n%*s", col, "");
			x = col;
		} else if (x > col) {
			fputc(' ', f);
			x++;
		}
		fwrite(text, 1, w, f);
		x += w;
		text += w;
		while (*text == ' ')
			text++;
	}
	fputc('\n', f);
}

static void help_opts(FILE *f, const struct opt *tab)
{
	enum { COL = 26, WIDTH = 80 };

	for (const struct opt *o = tab; o && o->lng; o++) {
		char left[80], text[512];
		int n;

		if (o->shrt)
			n = snprintf(left, sizeof(left), "  -%c, --%s", o->shrt, o->lng);
		else
			n = snprintf(left, sizeof(left), "      --%s", o->lng);
		if (o->type != OPT_FLAG)
			snprintf(left + n, sizeof(left) - n, " %s", o->arg ? o->arg : "VALUE");
		if ((int)strlen(left) > COL - 2)
			fprintf(f, "%s\n%*s", left, COL, "");
		else
			fprintf(f, "%-*s", COL, left);
		snprintf(text, sizeof(text), "%s%s%s%s", o->help ? o->help : "", o->def ? " (default: " : "",
			 o->def ? o->def : "", o->def ? ")" : "");
		wrap(f, text, COL, WIDTH);
	}
}

void opts_help(FILE *f, const char *cmd_path, const struct opt *tab, const struct opt_doc *doc)
{
	fprintf(f, "Usage: ebee %s %s\n", cmd_path, doc && doc->synopsis ? doc->synopsis : "[OPTIONS]");
	if (doc && doc->description)
		fprintf(f, "\n%s\n", doc->description);
	if (tab && tab->lng) {
		fputs("\nOptions:\n", f);
		help_opts(f, tab);
	}
	fputs("\nCommon options:\n", f);
	help_opts(f, global_opts);
	if (doc && doc->examples)
		fprintf(f, "\nExamples:\n%s\n", doc->examples);
}

/* troff: escape backslashes and leading dots/quotes. */
static void man_text(FILE *f, const char *s)
{
	bool bol = true;

	for (; s && *s; s++) {
		if (bol && (*s == '.' || *s == '\''))
			fputs("\\&", f);
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
		bol = *s == '\n';
	}
}

static void man_opts(FILE *f, const struct opt *tab)
{
	for (const struct opt *o = tab; o && o->lng; o++) {
		fputs(".TP\n", f);
		if (o->shrt)
			fprintf(f, "\\fB\\-%c\\fR, ", o->shrt);
		fputs("\\fB\\-\\-", f);
		man_text(f, o->lng);
		fputs("\\fR", f);
		if (o->type != OPT_FLAG)
			fprintf(f, " \\fI%s\\fR", o->arg ? o->arg : "VALUE");
		fputc('\n', f);
		man_text(f, o->help);
		if (o->def) {
			fputs(" (default: ", f);
			man_text(f, o->def);
			fputc(')', f);
		}
		fputc('\n', f);
	}
}

void opts_man(FILE *f, const char *cmd_path, const char *summary, const struct opt *tab,
	      const struct opt_doc *doc)
{
	char title[64];
	size_t i;

	snprintf(title, sizeof(title), "EBEE-%s", cmd_path);
	for (i = 0; title[i]; i++)
		title[i] = title[i] == ' ' ? '-' : toupper((unsigned char)title[i]);
	fprintf(f, ".TH %s 8 \"\" \"ebee %s\" \"ebee manual\"\n.SH NAME\nebee\\-", title, EBEE_VERSION);
	for (i = 0; cmd_path[i]; i++)
		fputc(cmd_path[i] == ' ' ? '-' : cmd_path[i], f);
	fputs(" \\- ", f);
	man_text(f, summary);
	fputs("\n.SH SYNOPSIS\n\\fBebee ", f);
	man_text(f, cmd_path);
	fputs("\\fR ", f);
	man_text(f, doc && doc->synopsis ? doc->synopsis : "[OPTIONS]");
	fputc('\n', f);
	if (doc && doc->description) {
		fputs(".SH DESCRIPTION\n", f);
		man_text(f, doc->description);
		fputc('\n', f);
	}
	if (tab && tab->lng) {
		fputs(".SH OPTIONS\n", f);
		man_opts(f, tab);
	}
	fputs(".SH COMMON OPTIONS\n", f);
	man_opts(f, global_opts);
	if (doc && doc->examples) {
		fputs(".SH EXAMPLES\n.nf\n", f);
		man_text(f, doc->examples);
		fputs("\n.fi\n", f);
	}
}
