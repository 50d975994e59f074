// SPDX-License-Identifier: BSD-2-Clause
#include <string.h>
#include "opts.h"
#include "syscalls.h"

static const struct {
	int nr;
	const char *name;
} table[] = {
#define SYSCALL(nr, name) { nr, name },
#include "syscalls.h.gen"
#undef SYSCALL
};

#define N (int)(sizeof(table) / sizeof(table[0]))

const char *syscall_name(int nr)
{
	int lo = 0, hi = N - 1;

	while (lo <= hi) {   /* the generated table is sorted by number */
		int mid = (lo + hi) / 2;

		if (table[mid].nr == nr)
			return table[mid].name;
		if (table[mid].nr < nr)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

int syscall_nr(const char *name)
{
	if (!strncmp(name, "sys_", 4))
		name += 4;
	for (int i = 0; i < N; i++)
		if (!strcmp(table[i].name, name))
			return table[i].nr;
	return -1;
}

int syscall_at(int i, int *nr, const char **name)
{
	if (i < 0 || i >= N)
		return 0;
	*nr = table[i].nr;
	*name = table[i].name;
	return 1;
}

const char *syscall_suggest(const char *name)
{
	const char *best = NULL;
	int bd = 3;   /* at most two edits away */

	for (int i = 0; i < N; i++) {
		int dd = opts_distance(name, table[i].name);

		if (dd < bd) {
			bd = dd;
			best = table[i].name;
		}
	}
	return best;
}
