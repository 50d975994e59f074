/* SPDX-License-Identifier: BSD-2-Clause */
/* count's option resolution, exposed for the unit tests. */
#ifndef EBEE_COUNT_PARSE_H
#define EBEE_COUNT_PARSE_H
#include <stddef.h>
#include <linux/types.h>
#include "core/opts.h"

int count_parse_by(const struct opt_list *l, __u32 *parts);
int count_parse_syscalls(const struct opt_list *l, __u8 *want);
size_t count_key_size(__u32 parts);   /* bytes of struct count_key the map hashes */

#endif
