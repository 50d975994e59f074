// SPDX-License-Identifier: BSD-2-Clause
/* An ELF file as ebee uprobe reads one of any process it is pointed at: the symbol tables, Go's
 * .go.buildinfo and .gopclntab, and the disassembly of Go functions (probe sites). Seeded with
 * real binaries (C, Go plain/stripped/PIE) that scripts/fuzz.sh builds. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "uprobe/binary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("elf", MFD_CLOEXEC);
	struct up_bin b;
	char path[64], buf[64];
	uint64_t off;

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	memset(&b, 0, sizeof(b));
	if (!up_bin_open(path, &b)) {
		up_go_goid_offset(&b);
		up_go_abi_problem(&b);
		up_bin_suggest(&b, "main.process", buf, sizeof(buf));
		/* A bounded number of functions: the first, the last, and main's if there. */
		for (size_t i = 0; i < b.nfuncs && i < 4; i++) {
			const struct up_func *f = &b.funcs[i ? b.nfuncs - i : 0];
			struct up_sites s;

			up_bin_offset(&b, f->addr, &off);
			up_bin_read(&b, f->addr, buf, sizeof(buf));
			if (b.is_go)
				up_sites_go(&b, f, &s);
		}
		const struct up_func *m = up_bin_find(&b, "main.main");
		struct up_sites s;

		if (m && b.is_go)
			up_sites_go(&b, m, &s);
		up_bin_close(&b);
	}
	close(fd);
	return 0;
}
