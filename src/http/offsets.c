// SPDX-License-Identifier: BSD-2-Clause
/* Go struct field offsets for ebee http, from DWARF or from the table of releases. */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/ebee.h"
#include "http/offsets.h"
#include "http/offsets_table.h"

const struct http_offsets_row *const http_offsets_table = http_offsets_table_rows;
const int http_offsets_table_len = ARRAY_SIZE(http_offsets_table_rows);

/* The fields ebee reads, by Go type name and field name. */
static const struct field {
	const char *type, *name, *key;   /* key: the C member, as -v and overrides name it */
	size_t off;
} fields[] = {
#define F(t, n, m) { t, n, #m, offsetof(struct http_offsets, m) }
	F("net/http.Request", "Method", req_method),
	F("net/http.Request", "URL", req_url),
	F("net/http.Request", "ContentLength", req_content_length),
	F("net/http.Request", "RemoteAddr", req_remote_addr),
	F("net/url.URL", "Host", url_host),
	F("net/url.URL", "Path", url_path),
	F("net/http.Response", "StatusCode", resp_status_code),
	F("runtime.g", "goid", g_goid),
	F("net/http.response", "status", rw_status),
#undef F
};

static __u16 *slot(struct http_offsets *o, const struct field *f)
{
	return (__u16 *)((char *)o + f->off);
}

static void read_struct(Dwarf_Die *type, const char *tname, struct http_offsets *o)
{
	Dwarf_Die m;

	if (dwarf_child(type, &m))
		return;
	do {
		const char *mn = dwarf_diename(&m);
		Dwarf_Attribute a;
		Dwarf_Word w;

		if (dwarf_tag(&m) != DW_TAG_member || !mn ||
		    !dwarf_attr(&m, DW_AT_data_member_location, &a) || dwarf_formudata(&a, &w))
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
			if (!strcmp(fields[i].type, tname) && !strcmp(fields[i].name, mn) &&
			    w < 0xffff)
				*slot(o, &fields[i]) = (__u16)w;
	} while (!dwarf_siblingof(&m, &m));
}

int http_offsets_dwarf(const char *path, struct http_offsets *o, const char **missing)
{
	Dwarf_Off cu = 0, next;
	size_t hsize;
	Dwarf *dw;
	int fd, err = 0;

	memset(o, 0xff, sizeof(*o));
	*missing = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	dw = dwarf_begin(fd, DWARF_C_READ);
	if (!dw) {
		close(fd);
		return -ENODATA;
	}
	/* Go puts its types as top-level children of the compile units */
	while (!dwarf_nextcu(dw, cu, &next, &hsize, NULL, NULL, NULL)) {
		Dwarf_Die cud, d;

		if (dwarf_offdie(dw, cu + hsize, &cud) && !dwarf_child(&cud, &d)) {
			do {
				const char *n;

				if (dwarf_tag(&d) != DW_TAG_structure_type || !(n = dwarf_diename(&d)))
					continue;
				if (!strcmp(n, "net/http.Request") || !strcmp(n, "net/url.URL") ||
				    !strcmp(n, "net/http.Response") || !strcmp(n, "runtime.g"))
					read_struct(&d, n, o);
			} while (!dwarf_siblingof(&d, &d));
		}
		cu = next;
	}
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if (*slot(o, &fields[i]) == 0xffff) {
			static char what[96];

			snprintf(what, sizeof(what), "%s.%s", fields[i].type, fields[i].name);
			*missing = what;
			err = -ENOENT;
			break;
		}
	dwarf_end(dw);
	close(fd);
	return err;
}

const struct http_offsets_row *http_offsets_lookup(int go_major, int go_minor)
{
	char key[32];

	snprintf(key, sizeof(key), "go%d.%d", go_major, go_minor);
	for (int i = 0; i < http_offsets_table_len; i++)
		if (!strcmp(http_offsets_table[i].go, key))
			return &http_offsets_table[i];
	return NULL;
}

int http_offsets_override(struct http_offsets *o, const char *spec, const char **bad)
{
	static char tok[64];
	const char *p = spec;

	while (*p) {
		size_t n = strcspn(p, ","), i, klen;
		const char *eq;
		char *end;
		unsigned long v;

		snprintf(tok, sizeof(tok), "%.*s", (int)(n < sizeof(tok) ? n : sizeof(tok) - 1), p);
		*bad = tok;
		eq = strchr(tok, '=');
		if (!eq)
			return -EINVAL;
		klen = (size_t)(eq - tok);
		for (i = 0; i < ARRAY_SIZE(fields); i++)
			if (strlen(fields[i].key) == klen && !strncmp(fields[i].key, tok, klen))
				break;
		errno = 0;
		v = strtoul(eq + 1, &end, 10);
		/* 65535: the field is unknown, as when neither DWARF nor the table has it */
		if (i == ARRAY_SIZE(fields) || !eq[1] || *end || errno || v > 0xffff)
			return -EINVAL;
		*slot(o, &fields[i]) = (__u16)v;
		p += n + (p[n] == ',');
	}
	return 0;
}
