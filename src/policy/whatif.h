/* SPDX-License-Identifier: BSD-2-Clause */
/* Replaying recorded flows against policies (see whatif.c). */
#ifndef EBEE_POLICY_WHATIF_H
#define EBEE_POLICY_WHATIF_H

#include <stdbool.h>
#include "policy/model.h"

/* Prints one row per recorded connection; *ndrop = how many would be dropped. -EINVAL having
 * printed "FILE:LINE: problem" for input that is not ebee's flow JSON. */
int pol_whatif(const struct pol_set *s, const char *path, bool json, int *ndrop);

#endif
