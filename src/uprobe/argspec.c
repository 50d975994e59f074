// SPDX-License-Identifier: BSD-2-Clause
/* ARGSPEC parser and register placement (see argspec.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uprobe/argspec.h"

static const struct {
	const char *name;
	uint8_t type, width;
} types[] = {
	{ "int", UP_T_INT, 0 },    { "uint", UP_T_UINT, 0 },
	{ "long", UP_T_INT, 8 },   { "ulong", UP_T_UINT, 8 },
	{ "int8", UP_T_INT, 1 },   { "int16", UP_T_INT, 2 },
	{ "int32", UP_T_INT, 4 },  { "int64", UP_T_INT, 8 },
	{ "uint8", UP_T_UINT, 1 }, { "uint16", UP_T_UINT, 2 },
	{ "uint32", UP_T_UINT, 4 }, { "uint64", UP_T_UINT, 8 },
	{ "char", UP_T_INT, 1 },   { "bool", UP_T_BOOL, 1 },
	{ "ptr", UP_T_PTR, 8 },    { "hex", UP_T_PTR, 8 },
	{ "str", UP_T_STR, 0 },    { "bytes", UP_T_BYTES, 0 },
};

#define TYPE_LIST "int, uint, long, int8..int64, uint8..uint64, bool, ptr, str, str[N], bytes[N]"

static int fail(struct up_spec_err *err, int pos, const char *fmt, const char *word, int wlen)
{
	if (err) {
		err->pos = pos;
		snprintf(err->msg, sizeof(err->msg), fmt, wlen, word);
	}
	return -EINVAL;
}

static bool is_ident(int c, bool first)
{
	return c == '_' || isalpha(c) || (!first && isdigit(c));
}

/* Parses a type starting at s[*i]; advances *i past it. base is for error positions. */
static int parse_type(const char *s, int *i, struct up_spec_arg *a, struct up_spec_err *err)
{
	int start = *i, j = *i;
	size_t k;

	while (is_ident((unsigned char)s[j], j == start))
		j++;
	if (j == start)
		return fail(err, start, "expected a type (" TYPE_LIST ")%.*s", "", 0);
	for (k = 0; k < sizeof(types) / sizeof(types[0]); k++)
		if ((int)strlen(types[k].name) == j - start && !strncmp(s + start, types[k].name, j - start))
			break;
	if (k == sizeof(types) / sizeof(types[0]))
		return fail(err, start, "unknown type '%.*s' (expected " TYPE_LIST ")", s + start, j - start);
	a->type = types[k].type;
	a->width = types[k].width;
	a->size = 0;
	a->sized = false;
	if (s[j] == '[') {
		char *end;
		unsigned long n;

		if (a->type != UP_T_STR && a->type != UP_T_BYTES)
			return fail(err, j, "only str and bytes take a size [N], not '%.*s'", s + start, j - start);
		if (!isdigit((unsigned char)s[j + 1]))
			return fail(err, j + 1, "expected a size in bytes after '['%.*s", "", 0);
		errno = 0;
		n = strtoul(s + j + 1, &end, 10);
		if (n < 1 || n > UP_SLOT_MAX || errno)
			return fail(err, j + 1, "size '%.*s' out of range (1-" "256" ")", s + j + 1,
				    (int)(end - (s + j + 1)));
		if (*end != ']')
			return fail(err, (int)(end - s), "expected ']'%.*s", "", 0);
		a->size = (uint16_t)n;
		a->sized = true;
		j = (int)(end - s) + 1;
	} else if (a->type == UP_T_STR || a->type == UP_T_BYTES) {
		a->size = UP_STR_DEFAULT;
	}
	*i = j;
	return 0;
}

static int skip_ws(const char *s, int i)
{
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	return i;
}

/* '-> TYPE' ends an ARGSPEC: the return value's type. */
static int parse_ret(const char *s, int i, struct up_spec *out, struct up_spec_err *err)
{
	i = skip_ws(s, i + 2);
	strcpy(out->ret.name, "ret");
	if (parse_type(s, &i, &out->ret, err))
		return -EINVAL;
	i = skip_ws(s, i);
	if (s[i])
		return fail(err, i, "unexpected '%.*s' after the return type", s + i, 1);
	return 0;
}

int up_spec_parse(const char *s, struct up_spec *out, struct up_spec_err *err)
{
	int i = skip_ws(s, 0);

	memset(out, 0, sizeof(*out));
	if (!s[i])
		return 0;
	if (s[i] == '-' && s[i + 1] == '>')
		return parse_ret(s, i, out, err);
	for (;;) {
		struct up_spec_arg *a;
		int start = i;

		if (!is_ident((unsigned char)s[i], true))
			return fail(err, i, "expected an argument name%.*s", "", 0);
		while (is_ident((unsigned char)s[i], false))
			i++;
		if (i - start >= UP_NAME_MAX)
			return fail(err, start, "argument name '%.*s' too long", s + start, i - start);
		for (int k = 0; k < out->n; k++)
			if (strcmp(out->a[k].name, "_") && (int)strlen(out->a[k].name) == i - start &&
			    !strncmp(out->a[k].name, s + start, i - start))
				return fail(err, start, "argument '%.*s' named twice", s + start, i - start);
		if (out->n == UP_NARGS)
			return fail(err, start, "too many arguments (at most 6)%.*s", "", 0);
		a = &out->a[out->n];
		memcpy(a->name, s + start, i - start);
		a->name[i - start] = 0;
		i = skip_ws(s, i);
		if (s[i] != ':')
			return fail(err, i, "expected ':' and a type after '%.*s'", s + start,
				    (int)strlen(a->name));
		i = skip_ws(s, i + 1);
		if (parse_type(s, &i, a, err))
			return -EINVAL;
		out->n++;
		i = skip_ws(s, i);
		if (!s[i])
			return 0;
		if (s[i] == '-' && s[i + 1] == '>')
			return parse_ret(s, i, out, err);
		if (s[i] != ',')
			return fail(err, i, "expected ',', '-> TYPE' or the end, not '%.*s'", s + i, 1);
		i = skip_ws(s, i + 1);
	}
}

int up_type_parse(const char *s, struct up_spec_arg *out, struct up_spec_err *err)
{
	int i = skip_ws(s, 0);

	memset(out, 0, sizeof(*out));
	strcpy(out->name, "ret");
	if (parse_type(s, &i, out, err))
		return -EINVAL;
	i = skip_ws(s, i);
	if (s[i])
		return fail(err, i, "unexpected '%.*s' after the type", s + i, 1);
	return 0;
}

const char *up_type_name(const struct up_spec_arg *a, char *buf, size_t len)
{
	for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
		if (types[k].type != a->type || types[k].width != a->width)
			continue;
		if (a->sized)
			snprintf(buf, len, "%s[%u]", types[k].name, a->size);
		else
			snprintf(buf, len, "%s", types[k].name);
		return buf;
	}
	snprintf(buf, len, "?");
	return buf;
}

static int place(const struct up_spec_arg *s, int abi, int *next, uint16_t *data,
		 struct up_arg *a, char *err, size_t errlen, bool is_ret)
{
	int need = 1;

	a->type = s->type;
	a->width = s->width ? s->width : (abi == UP_ABI_GO ? 8 : 4);
	a->reg2 = UP_REG_NONE;
	a->size = s->size;
	if (abi == UP_ABI_GO) {
		if (s->type == UP_T_STR)
			need = 2;        /* (ptr, len) */
		else if (s->type == UP_T_BYTES)
			need = 3;        /* (ptr, len, cap) */
		if (*next + need > UP_GO_NREGS) {
			snprintf(err, errlen, "%s '%s' is passed on the stack (Go passes at most 9 "
				 "integer registers); ebee reads registers only", is_ret ? "result" : "argument",
				 s->name);
			return -EINVAL;
		}
		a->reg = (uint8_t)*next;
		if (need > 1)
			a->reg2 = (uint8_t)(*next + 1);
	} else {
		if (s->type == UP_T_BYTES && !s->sized) {
			snprintf(err, errlen, "argument '%s': a C bytes argument needs a size, e.g. bytes[64]",
				 s->name);
			return -EINVAL;
		}
		if (!is_ret && *next >= 6) {
			snprintf(err, errlen, "argument '%s' is passed on the stack (System V passes 6 "
				 "integer registers); ebee reads registers only", s->name);
			return -EINVAL;
		}
		a->reg = (uint8_t)*next;
	}
	if (s->type == UP_T_STR || s->type == UP_T_BYTES) {
		if (*data + s->size > UP_DATA_MAX) {
			snprintf(err, errlen, "too many bytes captured per call (at most %d in all)",
				 UP_DATA_MAX);
			return -EINVAL;
		}
		a->off = *data;
		*data += s->size;
	}
	*next += need;
	return 0;
}

int up_layout_build(const struct up_spec *args, const struct up_spec_arg *ret, int abi,
		    struct up_layout *l, char *err, size_t errlen)
{
	int next = 0;
	uint16_t data = 0;

	memset(l, 0, sizeof(*l));
	l->abi = (uint8_t)abi;
	for (int i = 0; i < UP_NSLOTS; i++)
		l->a[i].reg2 = UP_REG_NONE;
	for (int i = 0; i < args->n; i++)
		if (place(&args->a[i], abi, &next, &data, &l->a[i], err, errlen, false))
			return -EINVAL;
	if (ret && ret->type != UP_T_NONE) {
		next = 0;   /* results start again at RAX */
		if (place(ret, abi, &next, &data, &l->a[UP_RET], err, errlen, true))
			return -EINVAL;
	}
	l->data_len = data;
	return 0;
}
