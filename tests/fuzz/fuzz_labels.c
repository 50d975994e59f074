// SPDX-License-Identifier: BSD-2-Clause
/* A GeoIP label file ('CIDR name lat lon' lines, from --labels) loaded, then the lookup path
 * (labels, private ranges, the cache) asked about addresses taken from the same input. No
 * database: EBEE_GEOIP_DIR points at an empty directory. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "geoip/geoip.h"

static char geoip_dir[] = "/tmp/ebee-fuzz-geoip-XXXXXX";

static void remove_geoip_dir(void)
{
	rmdir(geoip_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* an empty database folder, so that no installed database is read; removed at the end of
	 * the run (libFuzzer ends a bounded run with exit()) */
	if (mkdtemp(geoip_dir)) {
		setenv("EBEE_GEOIP_DIR", geoip_dir, 1);
		atexit(remove_geoip_dir);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("labels", MFD_CLOEXEC);
	char path[64];
	struct geoip *g;

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	g = geoip_open(NULL, 0, path);
	if (g) {
		for (size_t off = 0; off + 16 <= size && off < 256; off += 16) {
			struct geo_addr a = { .family = (data[off] & 1) ? 6 : 4 };
			struct geo out;

			memcpy(a.addr, data + off, 16);
			geoip_lookup(g, &a, &out);
			geoip_cached(g, &a);
		}
		geoip_close(g);
	}
	close(fd);
	return 0;
}
