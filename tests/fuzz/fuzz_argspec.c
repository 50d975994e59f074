// SPDX-License-Identifier: BSD-2-Clause
/* ARGSPEC ('input:str, n:int -> int', from the command line of ebee uprobe): parse, then lay
 * out for both ABIs and name every type. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "uprobe/argspec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), buf[64], err[200];
	struct up_spec spec;
	struct up_spec_err e;
	struct up_spec_arg t;
	struct up_layout l;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	if (!up_spec_parse(s, &spec, &e)) {
		for (int abi = UP_ABI_C; abi <= UP_ABI_GO; abi++)
			up_layout_build(&spec, &spec.ret, abi, &l, err, sizeof(err));
		for (int i = 0; i < spec.n; i++)
			up_type_name(&spec.a[i], buf, sizeof(buf));
	}
	if (!up_type_parse(s, &t, &e))
		up_type_name(&t, buf, sizeof(buf));
	free(s);
	return 0;
}
