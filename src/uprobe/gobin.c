// SPDX-License-Identifier: BSD-2-Clause
/* Go binaries: the version from .go.buildinfo, and the function table (.gopclntab, or
 * .data.rel.ro.gopclntab in PIE builds) that stays in stripped binaries because the runtime
 * needs it for tracebacks. Layouts: Go 1.16-1.17 (magic 0xfffffffa), 1.18-1.19 (0xfffffff0),
 * 1.20+ (0xfffffff1); see the Go source, runtime/symtab.go (pcHeader, _func). */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>

#include "core/ebee.h"
#include "uprobe/binary.h"

static Elf_Scn *find_section(Elf *elf, const char *name, GElf_Shdr *out)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, out))
			continue;
		n = elf_strptr(elf, shstrndx, out->sh_name);
		if (n && !strcmp(n, name))
			return scn;
	}
	return NULL;
}

static uint64_t rd(const uint8_t *p, int size)
{
	uint64_t v = 0;

	memcpy(&v, p, size == 4 ? 4 : 8);   /* little-endian host and target */
	return v;
}

static int uvarint(const uint8_t *p, size_t n, uint64_t *v)
{
	int shift = 0;

	*v = 0;
	for (size_t i = 0; i < n && i < 10; i++) {
		*v |= (uint64_t)(p[i] & 0x7f) << shift;
		if (!(p[i] & 0x80))
			return (int)i + 1;
		shift += 7;
	}
	return -1;
}

static void parse_version(struct up_bin *b, const char *s, size_t n)
{
	const char *go;
	char tmp[sizeof(b->go_version)];

	if (n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	memcpy(tmp, s, n);
	tmp[n] = 0;
	snprintf(b->go_version, sizeof(b->go_version), "%s", tmp);
	go = strstr(tmp, "go1.");
	if (go && sscanf(go, "go%d.%d", &b->go_major, &b->go_minor) != 2)
		b->go_major = b->go_minor = 0;
}

int up_go_detect(struct up_bin *b)
{
	static const char magic[] = "\xff Go buildinf:";
	Elf *elf = b->elf;
	GElf_Shdr sh;
	Elf_Scn *scn;
	Elf_Data *d;
	const uint8_t *p;
	int ps;

	scn = find_section(elf, ".go.buildinfo", &sh);
	if (!scn) {
		/* Go without buildinfo (very old, or cut away): still Go, version unknown */
		if (find_section(elf, ".gopclntab", &sh) || find_section(elf, ".note.go.buildid", &sh))
			b->is_go = true;
		return 0;
	}
	b->is_go = true;
	d = elf_getdata(scn, NULL);
	if (!d || !d->d_buf || d->d_size < 32 || memcmp(d->d_buf, magic, 14))
		return 0;
	p = d->d_buf;
	ps = p[14];
	if (ps != 8)
		return 0;
	if (p[15] & 2) {
		/* Go 1.18+: the version string inline after the 32-byte header */
		uint64_t len;
		int k = uvarint(p + 32, d->d_size - 32, &len);

		if (k > 0 && 32 + k + len <= d->d_size)
			parse_version(b, (const char *)p + 32 + k, len);
	} else {
		/* Go <= 1.17: a pointer to a string header (ptr, len) */
		uint8_t hdr[16];
		char buf[64];
		uint64_t sp = rd(p + 16, ps), len;

		if (up_bin_read(b, sp, hdr, sizeof(hdr)))
			return 0;
		len = rd(hdr + 8, 8);
		if (len > sizeof(buf))
			len = sizeof(buf);
		if (!up_bin_read(b, rd(hdr, 8), buf, len))
			parse_version(b, buf, len);
	}
	return 0;
}

int up_go_pclntab(struct up_bin *b)
{
	Elf *elf = b->elf;
	GElf_Shdr sh, tsh;
	Elf_Scn *scn;
	Elf_Data *d;
	const uint8_t *p;
	uint64_t nfunc, text = 0, nameoff, pclnoff;
	uint32_t magic;
	size_t sz;
	int ps;
	bool old;

	b->pcln_section = ".gopclntab";
	scn = find_section(elf, ".gopclntab", &sh);
	if (!scn) {
		b->pcln_section = ".data.rel.ro.gopclntab";
		scn = find_section(elf, ".data.rel.ro.gopclntab", &sh);
	}
	if (!scn) {
		b->pcln_section = NULL;
		ebee_err("stripped Go binary '%s' has no .gopclntab section: cannot find its functions",
			 b->path);
		return -ENOEXEC;
	}
	d = elf_getdata(scn, NULL);
	if (!d || !d->d_buf || d->d_size < 64) {
		ebee_err("cannot read %s of '%s'", b->pcln_section, b->path);
		return -ENOEXEC;
	}
	p = d->d_buf;
	sz = d->d_size;
	magic = (uint32_t)rd(p, 4);
	ps = p[7];
	if ((magic != 0xfffffff0 && magic != 0xfffffff1 && magic != 0xfffffffa) || ps != 8) {
		ebee_err("the Go function table of '%s' (%s, magic 0x%08x) has a layout ebee does not "
			 "know (Go 1.16 to 1.24)", b->path, b->go_version[0] ? b->go_version : "version unknown",
			 magic);
		return -EOPNOTSUPP;
	}
	old = magic == 0xfffffffa;
	nfunc = rd(p + 8, ps);
	if (old) {
		nameoff = rd(p + 8 + 2 * ps, ps);
		pclnoff = rd(p + 8 + 6 * ps, ps);
	} else {
		text = rd(p + 8 + 2 * ps, ps);
		nameoff = rd(p + 8 + 3 * ps, ps);
		pclnoff = rd(p + 8 + 7 * ps, ps);
		/* In PIE builds textStart is filled by a dynamic relocation: 0 in the file. */
		if (!text && find_section(elf, ".text", &tsh))
			text = tsh.sh_addr;
	}
	if (nameoff >= sz || pclnoff >= sz || nfunc > sz) {
		ebee_err("the Go function table of '%s' is malformed", b->path);
		return -ENOEXEC;
	}
	for (uint64_t i = 0; i < nfunc; i++) {
		uint64_t entry, next, foff;
		int64_t noff;
		const char *name;

		if (old) {
			const uint8_t *ft = p + pclnoff + i * 2 * ps;

			if (pclnoff + (i + 1) * 2 * ps + ps > sz)
				break;
			entry = rd(ft, ps);
			foff = rd(ft + ps, ps);
			next = rd(ft + 2 * ps, ps);
			if (pclnoff + foff + ps + 4 > sz)
				continue;
			noff = (int32_t)rd(p + pclnoff + foff + ps, 4);
		} else {
			const uint8_t *ft = p + pclnoff + i * 8;

			if (pclnoff + (i + 1) * 8 + 4 > sz)
				break;
			entry = text + (uint32_t)rd(ft, 4);
			foff = (uint32_t)rd(ft + 4, 4);
			next = text + (uint32_t)rd(ft + 8, 4);
			if (pclnoff + foff + 8 > sz)
				continue;
			noff = (int32_t)rd(p + pclnoff + foff + 4, 4);
		}
		if (noff < 0 || nameoff + noff >= sz)
			continue;
		name = (const char *)p + nameoff + noff;
		if (!memchr(name, 0, sz - nameoff - noff))
			continue;
		if (up_bin_add_func(b, name, entry, next > entry ? next - entry : 0, UP_SRC_PCLNTAB))
			return -ENOMEM;
	}
	return 0;
}

int up_go_goid_offset(const struct up_bin *b)
{
	/* runtime.g: stack(16) stackguard0 stackguard1 _panic _defer m sched(56) syscallsp
	 * syscallpc stktopsp param atomicstatus(4) stackLock(4) goid. Go 1.23 added syscallbp. */
	if (b->go_major != 1)
		return 0;
	if (b->go_minor >= 17 && b->go_minor <= 22)
		return 152;
	if (b->go_minor >= 23 && b->go_minor <= 24)
		return 160;
	return 0;
}

const char *up_go_abi_problem(const struct up_bin *b)
{
	static char msg[200];

	if (!b->go_major) {
		snprintf(msg, sizeof(msg), "cannot read the Go version of '%s' (no usable .go.buildinfo)",
			 b->path);
		return msg;
	}
	if (b->go_major == 1 && b->go_minor < 17) {
		snprintf(msg, sizeof(msg), "'%s' is built with %s, which passes arguments on the stack: "
			 "ebee reads the register ABI of Go 1.17 and later", b->path, b->go_version);
		return msg;
	}
	return NULL;
}
