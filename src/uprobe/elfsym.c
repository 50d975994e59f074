// SPDX-License-Identifier: BSD-2-Clause
/* ELF side of ebee uprobe: function symbols from .symtab and .dynsym (libelf), address to file
 * offset mapping from the PT_LOAD segments, close-name suggestions. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/ebee.h"
#include "uprobe/binary.h"

static int cmp_name(const void *a, const void *b)
{
	const struct up_func *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	/* .symtab first, then the largest size: duplicates keep the best one first */
	if (x->src != y->src)
		return x->src - y->src;
	return x->size < y->size ? 1 : x->size > y->size ? -1 : 0;
}

static int add_func(struct up_bin *b, size_t *cap, const char *name, uint64_t addr,
		    uint64_t size, uint8_t src, bool ifunc)
{
	if (b->nfuncs == *cap) {
		size_t n = *cap ? *cap * 2 : 1024;
		struct up_func *f = realloc(b->funcs, n * sizeof(*f));

		if (!f)
			return -ENOMEM;
		b->funcs = f;
		*cap = n;
	}
	b->funcs[b->nfuncs++] = (struct up_func){ name, addr, size, src, ifunc };
	return 0;
}

int up_bin_add_func(struct up_bin *b, const char *name, uint64_t addr, uint64_t size, uint8_t src)
{
	return add_func(b, &b->funcs_cap, name, addr, size, src, false);
}

static int read_symbols(struct up_bin *b, Elf *elf, Elf_Scn *scn, GElf_Shdr *sh, uint8_t src)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t n;

	if (!d || !sh->sh_entsize)
		return 0;
	n = sh->sh_size / sh->sh_entsize;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		const char *name;
		int t;

		if (!gelf_getsym(d, (int)i, &sym))
			continue;
		t = GELF_ST_TYPE(sym.st_info);
		if ((t != STT_FUNC && t != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF || !sym.st_value)
			continue;
		name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		if (add_func(b, &b->funcs_cap, name, sym.st_value, sym.st_size, src, t == STT_GNU_IFUNC))
			return -ENOMEM;
	}
	return 0;
}

static void up_bin_sort(struct up_bin *b)
{
	size_t w = 0;

	if (b->nfuncs > 1)   /* qsort(NULL, 0) is undefined: a binary may have no function */
		qsort(b->funcs, b->nfuncs, sizeof(*b->funcs), cmp_name);
	for (size_t i = 0; i < b->nfuncs; i++)   /* one entry per name */
		if (!w || strcmp(b->funcs[w - 1].name, b->funcs[i].name))
			b->funcs[w++] = b->funcs[i];
	b->nfuncs = w;
}

static int open_bin(const char *path, struct up_bin *b)
{
	GElf_Ehdr eh;
	Elf_Scn *scn = NULL;
	size_t shstrndx, nph;
	bool have_symtab = false;
	Elf *elf;
	int err;

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	snprintf(b->path, sizeof(b->path), "%s", path);
	b->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (b->fd < 0) {
		err = -errno;
		ebee_err("binary '%s' not found: %s", path, strerror(errno));
		return err;
	}
	elf_version(EV_CURRENT);
	elf = elf_begin(b->fd, ELF_C_READ_MMAP, NULL);
	b->elf = elf;
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
		ebee_err("'%s' is not an ELF file", path);
		return -ENOEXEC;
	}
	if (eh.e_machine != EM_X86_64 || gelf_getclass(elf) != ELFCLASS64) {
		ebee_err("'%s' is not an x86-64 ELF file (machine %u)", path, eh.e_machine);
		return -ENOEXEC;
	}
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
		ebee_err("'%s' is not an executable or shared library (ELF type %u)", path, eh.e_type);
		return -ENOEXEC;
	}
	b->pie = eh.e_type == ET_DYN;
	if (elf_getphdrnum(elf, &nph))
		nph = 0;
	for (size_t i = 0; i < nph && b->nseg < (int)ARRAY_SIZE(b->seg); i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		b->seg[b->nseg++] = (struct up_seg){ ph.p_vaddr, ph.p_memsz, ph.p_offset, ph.p_filesz };
	}
	if (elf_getshdrstrndx(elf, &shstrndx)) {
		ebee_err("'%s' has no section names: cannot read its symbols", path);
		return -ENOEXEC;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB) {
			have_symtab = true;
			if ((err = read_symbols(b, elf, scn, &sh, UP_SRC_SYMTAB)))
				return err;
		} else if (sh.sh_type == SHT_DYNSYM) {
			if ((err = read_symbols(b, elf, scn, &sh, UP_SRC_DYNSYM)))
				return err;
		}
	}
	if ((err = up_go_detect(b)))
		return err;
	/* A stripped Go binary still carries its function table for tracebacks. */
	if (b->is_go && !have_symtab && (err = up_go_pclntab(b)))
		return err;
	up_bin_sort(b);
	return 0;
}

/* A failed open leaves nothing open (callers may still call up_bin_close: it is idempotent). */
int up_bin_open(const char *path, struct up_bin *b)
{
	int err = open_bin(path, b);

	if (err)
		up_bin_close(b);
	return err;
}

void up_bin_close(struct up_bin *b)
{
	if (!b)
		return;
	if (b->elf)
		elf_end(b->elf);
	if (b->fd > 0)
		close(b->fd);
	free(b->funcs);
	memset(b, 0, sizeof(*b));
	b->fd = -1;
}

const struct up_func *up_bin_find(const struct up_bin *b, const char *name)
{
	size_t lo = 0, hi = b->nfuncs;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(name, b->funcs[mid].name);

		if (!c)
			return &b->funcs[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Edit distance, capped (names are short; work is bounded by 64 x 64). */
static int distance(const char *a, const char *b)
{
	int la = (int)strlen(a), lb = (int)strlen(b), row[65];

	if (la > 64 || lb > 64)
		return 99;
	for (int j = 0; j <= lb; j++)
		row[j] = j;
	for (int i = 1; i <= la; i++) {
		int prev = row[0], tmp;

		row[0] = i;
		for (int j = 1; j <= lb; j++) {
			tmp = row[j];
			row[j] = a[i - 1] == b[j - 1] ? prev :
				 1 + (prev < row[j] ? (prev < row[j - 1] ? prev : row[j - 1]) :
						      (row[j] < row[j - 1] ? row[j] : row[j - 1]));
			prev = tmp;
		}
	}
	return row[lb];
}

void up_bin_suggest(const struct up_bin *b, const char *name, char *buf, size_t len)
{
	const struct up_func *best[3] = { 0 };
	int bestd[3] = { 99, 99, 99 };
	size_t used = 0;
	int maxd = (int)strlen(name) / 3 + 1;

	buf[0] = 0;
	for (size_t i = 0; i < b->nfuncs; i++) {
		const char *n = b->funcs[i].name;
		int d;

		/* "process" finds "main.process"; a typo finds the name one edit away */
		if (strlen(name) >= 3 && strstr(n, name))
			d = (int)(strlen(n) - strlen(name)) / 8;
		else
			d = distance(name, n);
		if (d > maxd)
			continue;
		for (int k = 0; k < 3; k++) {
			if (d < bestd[k]) {
				for (int m = 2; m > k; m--) {
					best[m] = best[m - 1];
					bestd[m] = bestd[m - 1];
				}
				best[k] = &b->funcs[i];
				bestd[k] = d;
				break;
			}
		}
	}
	for (int k = 0; k < 3 && best[k] && used < len; k++)
		used += snprintf(buf + used, len - used, "%s'%s'", k ? ", " : "", best[k]->name);
}

int up_bin_offset(const struct up_bin *b, uint64_t vaddr, uint64_t *off)
{
	for (int i = 0; i < b->nseg; i++) {
		const struct up_seg *s = &b->seg[i];

		if (vaddr >= s->vaddr && vaddr < s->vaddr + s->filesz) {
			*off = vaddr - s->vaddr + s->off;
			return 0;
		}
	}
	return -ERANGE;
}

int up_bin_read(const struct up_bin *b, uint64_t vaddr, void *buf, size_t len)
{
	uint64_t off;
	ssize_t n;

	if (up_bin_offset(b, vaddr, &off))
		return -ERANGE;
	n = pread(b->fd, buf, len, (off_t)off);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}
