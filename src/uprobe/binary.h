/* SPDX-License-Identifier: BSD-2-Clause */
/* What ebee uprobe knows about one ELF file: its functions (from .symtab/.dynsym, or from the
 * Go .gopclntab when stripped), whether it is Go and which version, how virtual addresses map to
 * file offsets, and where a function's probe sites are (capstone). */
#ifndef EBEE_UPROBE_BINARY_H
#define EBEE_UPROBE_BINARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum up_fsrc { UP_SRC_SYMTAB, UP_SRC_DYNSYM, UP_SRC_PCLNTAB };

struct up_func {
	const char *name;        /* points into the binary's string storage */
	uint64_t addr;           /* link-time virtual address */
	uint64_t size;
	uint8_t src;             /* enum up_fsrc */
	bool ifunc;              /* STT_GNU_IFUNC: the symbol is a resolver */
};

struct up_seg { uint64_t vaddr, memsz, off, filesz; };

struct up_bin {
	char path[4096];
	int fd;
	void *elf;               /* Elf * */
	bool pie;                /* ET_DYN */
	struct up_seg seg[16];
	int nseg;
	struct up_func *funcs;   /* sorted by name */
	size_t nfuncs, funcs_cap;
	/* Go */
	bool is_go;
	char go_version[32];     /* "go1.19.8" */
	int go_major, go_minor;
	const char *pcln_section;/* ".gopclntab" or ".data.rel.ro.gopclntab" when read from there */
};

/* Opens an ELF file and reads its function table. Prints one error line and returns -errno:
 * -ENOENT (missing), -ENOEXEC (not ELF / not x86-64), -EOPNOTSUPP (a Go layout ebee does not
 * know). */
int up_bin_open(const char *path, struct up_bin *b);
void up_bin_close(struct up_bin *b);   /* accepts a zeroed struct */

int up_bin_add_func(struct up_bin *b, const char *name, uint64_t addr, uint64_t size, uint8_t src);
const struct up_func *up_bin_find(const struct up_bin *b, const char *name);
/* Up to n names close to `name` (edit distance, substring), joined by ", " into buf. */
void up_bin_suggest(const struct up_bin *b, const char *name, char *buf, size_t len);
/* Link-time virtual address -> file offset (what a uprobe is given). */
int up_bin_offset(const struct up_bin *b, uint64_t vaddr, uint64_t *off);
/* Reads len bytes of the file image at vaddr. */
int up_bin_read(const struct up_bin *b, uint64_t vaddr, void *buf, size_t len);

/* gobin.c: Go detection (.go.buildinfo) and the .gopclntab function table. */
int up_go_detect(struct up_bin *b);         /* 0 (is_go set or not) or -errno */
int up_go_pclntab(struct up_bin *b);        /* appends functions; 0 or -errno (printed) */
int up_go_goid_offset(const struct up_bin *b);   /* runtime.g.goid offset, 0 if unknown */
const char *up_go_abi_problem(const struct up_bin *b);  /* NULL when ebee can trace it */

/* disasm.c: probe sites of one function. For Go: the stack-check prologue (its jump, and the
 * instruction after it) and every RET. Returns 0 or -errno (printed). */
#define UP_MAX_RETS 64
struct up_sites {
	uint64_t entry;          /* vaddr */
	uint64_t ret[UP_MAX_RETS];
	int nret;
	bool prologue;           /* a stack-check prologue was found */
	uint64_t jcc;            /* its conditional jump to runtime.morestack */
	uint16_t jcc_flags;      /* EFLAGS bits that make that jump taken (JBE: CF|ZF, JB: CF) */
};
int up_sites_go(const struct up_bin *b, const struct up_func *f, struct up_sites *s);

#endif
