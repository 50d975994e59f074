/* SPDX-License-Identifier: BSD-2-Clause */
/* guard's field provider for the condition library: Falco's field names over struct gevent
 * (guard/gevent.h) and the process table. */
#ifndef EBEE_GUARD_FIELDS_H
#define EBEE_GUARD_FIELDS_H

#include "guard/cond.h"

extern const struct cond_provider guard_fields;

/* True (reason in buf) when f is a field ebee knows of but cannot give here (<NA>). */
bool guard_field_na_reason(const struct cond_field *f, char *buf, size_t len);
/* Falco's text of open flags: O_WRONLY|O_CREAT|O_TRUNC. */
const char *guard_open_flags(uint32_t flags, char *buf, size_t len);

#endif
