// SPDX-License-Identifier: BSD-2-Clause
/* Field tables (core/field.h): the registry of event types and reading a field of a record by
 * its table entry. No allocation: a flat array indexed by type. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/ebee.h"
#include "core/field.h"
#include "core/json.h"

#define H(n, k, m, d) FIELD(n, k, struct ebee_event_hdr, m, .doc = d)
const struct ebee_field ebee_hdr_fields[] = {
	H("evt.time", FK_KTIME, time_ns, "when the event happened (UTC)"),
	H("evt.type", FK_U16, type, "event type number (core/event.h)"),
	H("proc.pid", FK_U32, pid, "process id (tgid)"),
	H("thread.tid", FK_U32, tid, "thread id"),
	H("user.uid", FK_U32, uid, "real uid"),
	H("proc.cgroup_id", FK_U64, cgroup_id, "cgroup v2 id"),
	H("proc.start", FK_U64, start_ns, "process start, ns since boot"),
	H("proc.comm", FK_STR, comm, "thread name"),
};
const int ebee_hdr_nfields = ARRAY_SIZE(ebee_hdr_fields);

static const struct ebee_event_desc *descs[EV__MAX];

int event_register(const struct ebee_event_desc *d)
{
	if (!d || d->type == EV_NONE || d->type >= EV__MAX)
		return -EINVAL;
	if (descs[d->type] && descs[d->type] != d)
		return -EEXIST;
	descs[d->type] = d;
	return 0;
}

const struct ebee_event_desc *event_desc(uint16_t type)
{
	return type < EV__MAX ? descs[type] : NULL;
}

const struct ebee_event_desc *event_desc_by_name(const char *name)
{
	for (int i = 0; i < EV__MAX; i++)
		if (descs[i] && !strcmp(descs[i]->name, name))
			return descs[i];
	return NULL;
}

const struct ebee_field *event_field(const struct ebee_event_desc *d, const char *name)
{
	for (int i = 0; d && i < d->nfields; i++)
		if (!strcmp(d->fields[i].name, name))
			return &d->fields[i];
	for (int i = 0; i < ebee_hdr_nfields; i++)
		if (!strcmp(ebee_hdr_fields[i].name, name))
			return &ebee_hdr_fields[i];
	return NULL;
}

uint64_t field_u64(const struct ebee_field *f, const void *rec)
{
	const uint8_t *p = (const uint8_t *)rec + f->off;
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;

	switch (f->size) {
	case 1: memcpy(&v8, p, 1); return v8;
	case 2: memcpy(&v16, p, 2); return v16;
	case 4: memcpy(&v32, p, 4); return v32;
	case 8: memcpy(&v64, p, 8); return v64;
	default: return 0;
	}
}

int64_t field_i64(const struct ebee_field *f, const void *rec)
{
	uint64_t v = field_u64(f, rec);

	switch (f->size) {
	case 1: return (int8_t)v;
	case 2: return (int16_t)v;
	case 4: return (int32_t)v;
	default: return (int64_t)v;
	}
}

static bool kind_signed(enum field_kind k)
{
	return k == FK_S32 || k == FK_S64 || k == FK_RET;
}

static const char *addr_text(const struct ebee_field *f, const void *rec, char *buf, size_t len)
{
	const uint8_t *a = (const uint8_t *)rec + f->off;
	uint16_t fam;

	memcpy(&fam, (const uint8_t *)rec + f->aux, sizeof(fam));
	if (fam == AF_INET && inet_ntop(AF_INET, a, buf, len))
		return buf;
	if (fam == AF_INET6 && inet_ntop(AF_INET6, a, buf, len))
		return buf;
	snprintf(buf, len, "%s", "");
	return buf;
}

const char *field_text(const struct ebee_field *f, const void *rec, char *buf, size_t len)
{
	const char *p = (const char *)rec + f->off;
	int64_t r;

	if (!len)
		return buf;
	switch (f->kind) {
	case FK_STR:
		snprintf(buf, len, "%.*s", (int)strnlen(p, f->size), p);
		return buf;
	case FK_ADDR:
		return addr_text(f, rec, buf, len);
	case FK_RET:
		r = field_i64(f, rec);
		if (r < 0 && strerrorname_np((int)-r))
			snprintf(buf, len, "%s", strerrorname_np((int)-r));
		else
			snprintf(buf, len, "%" PRId64, r);
		return buf;
	case FK_KTIME:
		return ebee_fmt_time(ebee_ktime_to_real(field_u64(f, rec)), buf, len);
	case FK_FLAGS:
	case FK_ENUM:
		if (f->decode)
			return f->decode(field_u64(f, rec), buf, len);
		break;
	default:
		break;
	}
	if (kind_signed(f->kind))
		snprintf(buf, len, "%" PRId64, field_i64(f, rec));
	else
		snprintf(buf, len, "%" PRIu64, field_u64(f, rec));
	return buf;
}

void field_json(struct jw *w, const struct ebee_field *f, const void *rec)
{
	char buf[320];

	switch (f->kind) {
	case FK_U8: case FK_U16: case FK_U32: case FK_U64:
		jw_u64(w, field_u64(f, rec));
		return;
	case FK_S32: case FK_S64: case FK_RET:
		/* results stay numbers (-errno): the errno name is a separate field where useful */
		jw_i64(w, field_i64(f, rec));
		return;
	case FK_STR:
		jw_strn(w, (const char *)rec + f->off, f->size);
		return;
	default:
		jw_str(w, field_text(f, rec, buf, sizeof(buf)));
	}
}

bool field_unset(const struct ebee_field *f, const void *rec)
{
	uint16_t fam;

	if (f->kind == FK_STR)
		return !((const char *)rec)[f->off];
	if (f->kind != FK_ADDR)
		return false;
	memcpy(&fam, (const char *)rec + f->aux, sizeof(fam));
	return fam != AF_INET && fam != AF_INET6;
}

static void fields_json(struct jw *w, const struct ebee_field *fs, int n, const void *rec)
{
	for (int i = 0; i < n; i++) {
		if (field_unset(&fs[i], rec))
			continue;
		jw_key(w, fs[i].name);
		field_json(w, &fs[i], rec);
	}
}

void event_json(struct jw *w, const struct ebee_event_hdr *ev)
{
	const struct ebee_event_desc *d = event_desc(ev->type);

	if (d)
		jw_kstr(w, "evt.type", d->name);
	jw_key(w, "evt.time");
	field_json(w, &ebee_hdr_fields[0], ev);
	/* [1], the evt.type number, is replaced by the name above */
	fields_json(w, ebee_hdr_fields + 2, ebee_hdr_nfields - 2, ev);
	if (d)
		fields_json(w, d->fields, d->nfields, ev);
}
