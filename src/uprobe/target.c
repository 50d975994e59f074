// SPDX-License-Identifier: BSD-2-Clause
/* ebee uprobe targets: TARGET (a path, a library name, or the -p process's executable) to the
 * file to read and attach to, and telling a TARGET:FUNC from an ARGSPEC on the command line. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "uprobe/session.h"

static bool exists(const char *path)
{
	struct stat st;

	return !stat(path, &st);
}

/* libc.so in a lib folder is a linker script: only ELF files count as libraries. */
static bool is_elf(const char *path)
{
	char m[4] = { 0 };
	FILE *f = fopen(path, "re");

	if (!f)
		return false;
	if (fread(m, 1, 4, f) != 4)
		m[0] = 0;
	fclose(f);
	return !memcmp(m, "\x7f" "ELF", 4);
}

static bool name_matches_lib(const char *base, const char *name)
{
	size_t n = strlen(name);
	char lib[NAME_MAX + 8];

	if (!strcmp(base, name))
		return true;
	if (!strncmp(base, name, n) && (!strncmp(base + n, ".so", 3) || base[n] == '-'))
		return true;
	snprintf(lib, sizeof(lib), "lib%s", name);
	n = strlen(lib);
	return strncmp(name, "lib", 3) && !strncmp(base, lib, n) &&
	       (!strncmp(base + n, ".so", 3) || base[n] == '-');
}

/* A library named by a short name ("libc", "c", "libssl.so.3"): in the process's mappings with
 * -p, else in the usual library folders. */
int up_find_lib(const char *name, long long pid, char *out, size_t len)
{
	static const char *const dirs[] = { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
					    "/lib64", "/usr/lib64", "/lib", "/usr/lib",
					    "/usr/local/lib" };
	char line[PATH_MAX + 256];
	int rc = -ENOENT;

	if (pid > 0) {
		char maps[64];
		FILE *f;

		snprintf(maps, sizeof(maps), "/proc/%lld/maps", pid);
		f = fopen(maps, "re");
		if (!f)
			return -errno;
		while (rc && fgets(line, sizeof(line), f)) {
			char *path = strchr(line, '/'), *base, *nl;

			if (!path)
				continue;
			if ((nl = strchr(path, '\n')))
				*nl = 0;
			base = strrchr(path, '/') + 1;
			if (name_matches_lib(base, name)) {
				snprintf(out, len, "%s", path);
				rc = 0;
			}
		}
		fclose(f);
		return rc;
	}
	for (size_t d = 0; d < ARRAY_SIZE(dirs) && rc; d++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", dirs[d], name);
		if (is_elf(path)) {
			snprintf(out, len, "%s", path);
			return 0;
		}
		for (const char *pfx = ""; pfx; pfx = *pfx ? NULL : "lib") {
			for (const char *sfx = ".so"; sfx; sfx = !strcmp(sfx, ".so") ? ".so.6" : NULL) {
				snprintf(path, sizeof(path), "%s/%s%s%s", dirs[d], pfx, name, sfx);
				if (!strncmp(name, "lib", 3) && *pfx)
					continue;
				if (is_elf(path)) {
					snprintf(out, len, "%s", path);
					return 0;
				}
			}
		}
	}
	return rc;
}

/* TARGET -> the path to open and attach to, and the path to show. */
int up_resolve_target(const char *target, long long pid, char *path, char *shown, size_t len)
{
	ssize_t n;

	if (!target || !*target) {
		char exe[64];

		snprintf(exe, sizeof(exe), "/proc/%lld/exe", pid);
		snprintf(path, len, "%s", exe);
		n = readlink(exe, shown, len - 1);
		if (n < 0) {
			int err = -errno;

			ebee_err("cannot read the executable of process %lld: %s", pid, strerror(errno));
			return err;
		}
		shown[n] = 0;
		return 0;
	}
	if (strchr(target, '/') || (exists(target) && !(pid > 0))) {
		snprintf(path, len, "%s", target);
	} else if (up_find_lib(target, pid, path, len)) {
		if (pid > 0) {
			/* the executable itself, by its name */
			char exe[64], real[PATH_MAX];
			const char *base;

			snprintf(exe, sizeof(exe), "/proc/%lld/exe", pid);
			n = readlink(exe, real, sizeof(real) - 1);
			if (n > 0) {
				real[n] = 0;
				base = strrchr(real, '/') ? strrchr(real, '/') + 1 : real;
				if (!strncmp(base, target, strlen(target))) {
					snprintf(path, len, "%s", exe);
					snprintf(shown, len, "%s", real);
					return 0;
				}
			}
			ebee_err("binary '%s' not mapped by process %lld (see /proc/%lld/maps)", target,
				 pid, pid);
		} else {
			ebee_err("binary '%s' not found (give a path, or -p PID for a library it maps)",
				 target);
		}
		return -ENOENT;
	}
	snprintf(shown, len, "%s", path);
	return 0;
}

static bool is_ident_prefix(const char *s, const char *end)
{
	if (s == end || !(isalpha((unsigned char)*s) || *s == '_'))
		return false;
	for (; s < end; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_'))
			return false;
	return true;
}

/* Is this positional a new TARGET:FUNC rather than the previous probe's ARGSPEC? An ARGSPEC
 * starts with NAME:TYPE; a probe with a path, a library or a binary in the current folder. */
bool up_looks_like_probe(const char *s, long long pid)
{
	const char *colon = strchr(s, ':');
	char tgt[PATH_MAX], path[PATH_MAX], first[64];
	struct up_spec_arg a;
	size_t n;

	if (!colon)
		return pid > 0 && *s && !strpbrk(s, ", ") && strncmp(s, "->", 2);
	if (colon == s)
		return pid > 0;   /* ":main.f" = the -p executable */
	if (!is_ident_prefix(s, colon))
		return true;      /* "./srv:f", "/bin/x:f", "libc.so.6:f" */
	/* "c:str, n:int": what follows the first colon is a type, not a function name */
	n = strcspn(colon + 1, ",");
	snprintf(first, sizeof(first), "%.*s", (int)(n < sizeof(first) ? n : sizeof(first) - 1),
		 colon + 1);
	if (!up_type_parse(first, &a, NULL) || strpbrk(colon + 1, ", []"))
		return false;
	snprintf(tgt, sizeof(tgt), "%.*s", (int)(colon - s), s);
	if (exists(tgt))
		return true;
	return !up_find_lib(tgt, pid, path, sizeof(path));
}
