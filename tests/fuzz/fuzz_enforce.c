// SPDX-License-Identifier: BSD-2-Clause
/* Enforcement files as `guard run -e` loads them: YAML, items, conditions in guard's language,
 * the walk into kernel sets, error positions; every file that loads is then decided against a
 * host with every mechanism and one with none. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "enforce/enforcer.h"

/* core/load.c, which the fuzz build does not link: no cgroup2 (proc.cgroup rules refused) */
const char *ebee_cgroup2_path(void) { return NULL; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/ebee-fuzz-enforce-%d.yaml", getpid());
	FILE *f = fopen(path, "w");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	struct opt_list l = { 1, { path } };
	struct enf_file *e = enf_file_load(&l, NULL);
	unlink(path);	/* read whole by the load; nothing left in /tmp after the run */
	if (e) {
		struct enf_caps all = { .have = { true, true, true, true } }, none = { .have = { [MECH_AUDIT] = true } };
		enf_file_decide(e, &all);
		enf_file_decide(e, &none);
		enf_file_free(e);
	}
	return 0;
}
