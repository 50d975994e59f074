/* SPDX-License-Identifier: BSD-2-Clause */
/* ARGSPEC: names and types of a probed function's arguments, e.g.
 *   'input:str, n:int, buf:bytes[64], p:ptr -> int'
 * Parsing is pure (unit-tested); up_layout_build places the values in registers for one ABI. */
#ifndef EBEE_UPROBE_ARGSPEC_H
#define EBEE_UPROBE_ARGSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "uprobe/uprobe.h"

#define UP_NAME_MAX 32
#define UP_STR_DEFAULT 64

struct up_spec_arg {
	char name[UP_NAME_MAX];   /* "_" = skip this register (not shown) */
	uint8_t type;             /* enum up_type */
	uint8_t width;            /* integer bytes; 0 = the ABI's int (C 4, Go 8) */
	uint16_t size;            /* str/bytes: bytes to capture */
	bool sized;               /* [N] was given */
};

struct up_spec {
	int n;
	struct up_spec_arg a[UP_NARGS];
	struct up_spec_arg ret;   /* '-> TYPE' at the end; type UP_T_NONE when absent */
};

struct up_spec_err {
	int pos;                  /* 0-based index of the offending character in the input */
	char msg[160];
};

/* Parses a whole ARGSPEC. Returns 0 or -EINVAL with err filled. An empty string is no args. */
int up_spec_parse(const char *s, struct up_spec *out, struct up_spec_err *err);
/* Parses one TYPE (for --ret). */
int up_type_parse(const char *s, struct up_spec_arg *out, struct up_spec_err *err);
/* The type as written back ("str[64]", "int32"), for listings and messages. */
const char *up_type_name(const struct up_spec_arg *a, char *buf, size_t len);

/* Places args (and ret, may be NULL or UP_T_NONE) in registers for abi. Fails (-EINVAL, msg in
 * err) when a value would go on the stack, on too many bytes captured, or on a type the ABI
 * cannot take (a C bytes without [N]). */
int up_layout_build(const struct up_spec *args, const struct up_spec_arg *ret, int abi,
		    struct up_layout *l, char *err, size_t errlen);

#endif
