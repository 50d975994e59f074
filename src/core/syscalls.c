// SPDX-License-Identifier: BSD-2-Clause
#include <string.h>
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

/* Levenshtein distance, bounded to short names. */
static int distance(const char *a, const char *b)
{
	int la = strlen(a), lb = strlen(b), d[32][32];

	if (la > 31 || lb > 31)
		return 99;
	for (int i = 0; i <= la; i++)
		d[i][0] = i;
	for (int j = 0; j <= lb; j++)
		d[0][j] = j;
	for (int i = 1; i <= la; i++)
		for (int j = 1; j <= lb; j++) {
			int c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

			if (d[i - 1][j] + 1 < c)
				c = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < c)
				c = d[i][j - 1] + 1;
			d[i][j] = c;
		}
	return d[la][lb];
}

const char *syscall_suggest(const char *name)
{
	const char *best = NULL;
	int bd = 3;   /* at most two edits away */

	for (int i = 0; i < N; i++) {
		int dd = distance(name, table[i].name);

		if (dd < bd) {
			bd = dd;
			best = table[i].name;
		}
	}
	return best;
}
