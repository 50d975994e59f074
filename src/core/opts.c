// SPDX-License-Identifier: BSD-2-Clause
/* Option tables: parsing, --help and man pages from one description. */
#include <ctype.h>
#include <arpa/inet.h>
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

int opts_distance(const char *a, const char *b)
{
	int la = strlen(a), lb = strlen(b), d[32][32];

	if (la > 31 || lb > 31)
		return 99;
	for (int i = 0; i <= la; i++)
		d[i][0] = i;
	for (int j = 0; j <= lb; j++)
		d[0][j] = j;
	for (int i = 1; i <= la; i++)
		for (int j = 1; j <= lb; j++) {
			int c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

			if (d[i - 1][j] + 1 < c)
				c = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < c)
				c = d[i][j - 1] + 1;
			d[i][j] = c;
		}
	return d[la][lb];
}

const char *opts_suggest(const char *word, const char *const *names)
{
	const char *best = NULL;
	int bd = 3;   /* at most two edits away */

	for (; names && *names; names++) {
		int dd = opts_distance(word, *names);

		if (dd < bd) {
			bd = dd;
			best = *names;
		}
	}
	return best;
}

static int parse_port(const char *s, const char *end, uint16_t *out)
{
	unsigned long v = 0;

	if (s == end || end - s > 5)
		return -EINVAL;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v < 1 || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

/* "80,443,8000-8100", appended to p. */
int opts_parse_ports(const char *s, struct opt_ports *p, const char **why)
{
	while (*s) {
		const char *end = s + strcspn(s, ","), *dash = memchr(s, '-', (size_t)(end - s));
		uint16_t lo, hi;

		if (p->n >= OPT_PORTS_MAX) {
			*why = "too many port ranges";
			return -EINVAL;
		}
		if (parse_port(s, dash ? dash : end, &lo) || parse_port(dash ? dash + 1 : s, end, &hi)) {
			*why = "expected ports 1-65535 or ranges LO-HI, comma-separated";
			return -EINVAL;
		}
		if (lo > hi) {
			*why = "a range's first port is above its last";
			return -EINVAL;
		}
		p->r[p->n].lo = lo;
		p->r[p->n].hi = hi;
		p->n++;
		s = *end ? end + 1 : end;
		if (*end && !*s) {
			*why = "empty element";
			return -EINVAL;
		}
	}
	return 0;
}

bool opt_ports_has(const struct opt_ports *p, uint16_t port)
{
	for (int i = 0; i < p->n; i++)
		if (port >= p->r[i].lo && port <= p->r[i].hi)
			return true;
	return false;
}

/* "10.0.0.0/8,::1": an address with host bits set is refused (a likely typo of the prefix). */
int opts_parse_cidrs(const char *s, struct opt_cidrs *c, const char **why)
{
	while (*s) {
		size_t n = strcspn(s, ",");
		char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
		struct opt_cidr *v;
		unsigned long plen;
		int maxlen;

		if (c->n >= OPT_CIDRS_MAX) {
			*why = "too many CIDRs";
			return -EINVAL;
		}
		if (!n || n >= sizeof(buf)) {
			*why = "expected ADDRESS[/PREFIX], comma-separated";
			return -EINVAL;
		}
		memcpy(buf, s, n);
		buf[n] = 0;
		v = &c->v[c->n];
		memset(v, 0, sizeof(*v));
		slash = strchr(buf, '/');
		if (slash)
			*slash = 0;
		if (inet_pton(AF_INET, buf, v->addr) == 1) {
			v->family = 4;
			maxlen = 32;
		} else if (inet_pton(AF_INET6, buf, v->addr) == 1) {
			v->family = 6;
			maxlen = 128;
		} else {
			*why = "not an IPv4 or IPv6 address";
			return -EINVAL;
		}
		plen = maxlen;
		if (slash) {
			errno = 0;
			plen = strtoul(slash + 1, &end, 10);
			if (!slash[1] || *end || errno || plen > (unsigned long)maxlen) {
				*why = "bad prefix length";
				return -EINVAL;
			}
		}
		v->prefix = (uint8_t)plen;
		for (int bit = (int)plen; bit < maxlen; bit++)
			if (v->addr[bit / 8] & (0x80 >> (bit % 8))) {
				*why = "host bits set after the prefix";
				return -EINVAL;
			}
		c->n++;
		s += n;
		if (*s == ',' && !*++s) {
			*why = "empty element";
			return -EINVAL;
		}
	}
	return 0;
}

bool opt_cidr_match(const struct opt_cidr *c, int family, const uint8_t *addr)
{
	int full = c->prefix / 8, rest = c->prefix % 8;

	if (family != c->family)
		return false;
	if (memcmp(c->addr, addr, (size_t)full))
		return false;
	return !rest || !((c->addr[full] ^ addr[full]) & (0xff << (8 - rest)));
}

/* 4096, 64K, 16M, 1G, 2GiB (powers of 1024). */
int opts_parse_size(const char *s, unsigned long long *out)
{
	unsigned long long v, mul = 1;
	char *end;

	errno = 0;
	if (*s == '-')
		return -EINVAL;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 0: break;
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	default: return -EINVAL;
	}
	if (mul > 1 && (!strcmp(end, "iB") || !strcmp(end, "B")))
		end += strlen(end);
	if (*end || (v && mul > ~0ull / v))
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
	case OPT_PORTS:
	case OPT_CIDRS: {
		const char *why = "";

		err = o->type == OPT_PORTS ? opts_parse_ports(arg, field, &why) :
					     opts_parse_cidrs(arg, field, &why);
		if (err)
			return usage_err(ctx, "bad value '%s' for '%s': %s", arg, name, why);
		return 0;
	}
	case OPT_ENUM:
		for (int i = 0; o->names[i]; i++)
			if (!strcmp(arg, o->names[i])) {
				*(int *)field = i;
				return 0;
			}
		{
			const char *hint = opts_suggest(arg, o->names);
			char all[200] = "";

			for (int i = 0; o->names[i]; i++)
				snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s%s",
					 i ? ", " : "", o->names[i]);
			if (hint)
				return usage_err(ctx, "unknown value '%s' for '%s' (did you mean '%s'?)", arg, name, hint);
			return usage_err(ctx, "unknown value '%s' for '%s': use one of %s", arg, name, all);
		}
	case OPT_SIZE: {
		unsigned long long v;

		if (opts_parse_size(arg, &v) || (bounded && (v < o->min || v > o->max)))
			return usage_err(ctx, "bad size '%s' for '%s': expected bytes (4096, 64K, 16M, 1G)%s",
					 arg, name, bounded ? " within the allowed range" : "");
		*(unsigned long long *)field = v;
		return 0;
	}
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

int opts_set(const struct opt *o, void *cfg, const char *arg, const struct ebee_ctx *ctx)
{
	return set_value(o, cfg, o->type == OPT_FLAG ? NULL : arg, ctx);
}
