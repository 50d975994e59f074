/* SPDX-License-Identifier: BSD-2-Clause */
/* Field tables: per event type (core/event.h), the name, kind and place of every field of its
 * fixed-size record. Output rows (field_out), filters and the rule engine all read events
 * through these tables, by name, so a field is described once. Names follow Falco's where one
 * exists ("proc.pid", "evt.type", "fd.name") so that rules and outputs read the same. */
#ifndef EBEE_FIELD_H
#define EBEE_FIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "core/event.h"

struct jw;
struct out;

enum field_kind {
	FK_U8, FK_U16, FK_U32, FK_U64,       /* unsigned integers of that width */
	FK_S32, FK_S64,                      /* signed */
	FK_STR,                              /* char[size]: NUL-terminated or cut at size */
	FK_ADDR,                             /* 16 bytes, v4 in the first 4; family in the
					      * FK_U16 field at .aux (its offset) */
	FK_RET,                              /* s64 syscall result: >= 0 value, < 0 -errno */
	FK_KTIME,                            /* u64 bpf_ktime_get_ns() stamp -> wall time */
	FK_FLAGS,                            /* u32 bits, text from .decode */
	FK_ENUM,                             /* u32 value, text from .decode */
};

/* Text of a flags/enum value into buf; returns buf. */
typedef const char *(*field_decode_fn)(uint64_t v, char *buf, size_t len);

struct ebee_field {
	const char *name;          /* "fd.name" */
	enum field_kind kind;
	uint16_t off, size;        /* within the record (header included) */
	uint16_t aux;              /* FK_ADDR: offset of the family field */
	field_decode_fn decode;    /* FK_FLAGS / FK_ENUM */
	const char *doc;           /* one line, for `ebee events --fields` and docs */
};

#define FIELD(n, k, type, member, ...) \
	{ .name = n, .kind = k, .off = offsetof(type, member), \
	  .size = sizeof(((type *)0)->member), __VA_ARGS__ }

struct ebee_event_desc {
	uint16_t type;             /* enum ebee_event_type */
	const char *name;          /* "open" */
	uint16_t size;             /* the record's fixed size */
	const struct ebee_field *fields;   /* the type's own fields (header fields are common) */
	int nfields;
	const char *doc;
};

/* The header's fields, common to every type: evt.time, evt.type, proc.pid, thread.tid,
 * user.uid, proc.cgroup_id, proc.start, proc.comm. */
extern const struct ebee_field ebee_hdr_fields[];
extern const int ebee_hdr_nfields;

/* Event types are registered by the features that produce them (once, at start). */
int event_register(const struct ebee_event_desc *d);
const struct ebee_event_desc *event_desc(uint16_t type);
const struct ebee_event_desc *event_desc_by_name(const char *name);
/* A field of a type (its own, then the header's), or NULL. */
const struct ebee_field *event_field(const struct ebee_event_desc *d, const char *name);

/* Reading a field of a record. */
uint64_t field_u64(const struct ebee_field *f, const void *rec);   /* integer kinds */
int64_t field_i64(const struct ebee_field *f, const void *rec);
/* Human text of any field (strings cut safely, addresses formatted, errno names). */
const char *field_text(const struct ebee_field *f, const void *rec, char *buf, size_t len);
/* The field as a JSON value (numbers stay numbers). */
void field_json(struct jw *w, const struct ebee_field *f, const void *rec);
/* A field never filled: an empty string, an address whose family is neither AF_INET nor
 * AF_INET6. Renderers leave these out, like unset cells. */
bool field_unset(const struct ebee_field *f, const void *rec);
/* A whole record of a registered type as members of the open JSON object w: "evt.type" as its
 * name, then the header's fields and the type's own (unset strings and addresses left out).
 * The daemon's event stream and any collector without a renderer of its own use this. */
void event_json(struct jw *w, const struct ebee_event_hdr *ev);

#endif
