// SPDX-License-Identifier: BSD-2-Clause
/* The kernel's BTF for libbpf, one copy at a time. libbpf 1.1 (Debian 12) reads
 * /sys/kernel/btf/vmlinux into a buffer and btf__new() copies it: 2 x 5.5 MB at once, the
 * largest part of a CLI command's peak RSS (bench/memory). Kernels since 6.16 let the file be
 * mmapped, so the only copy is btf__new's (libbpf 1.6 does this itself). libbpf calls
 * btf__load_vmlinux_btf through its PLT, so this definition in the executable is the one it
 * uses; where the mmap is refused (older kernels), libbpf's own runs. */
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <bpf/btf.h>

struct btf *btf__load_vmlinux_btf(void)
{
	static struct btf *(*libbpf_own)(void);
	struct btf *btf = NULL;
	struct stat st;
	void *p;
	int fd = open("/sys/kernel/btf/vmlinux", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		p = fstat(fd, &st) || st.st_size <= 0 ? MAP_FAILED :
		    mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		close(fd);
		if (p != MAP_FAILED) {
			btf = btf__new(p, st.st_size);
			munmap(p, st.st_size);
			if (btf)
				return btf;
		}
	}
	if (!libbpf_own)
		*(void **)&libbpf_own = dlsym(RTLD_NEXT, "btf__load_vmlinux_btf");
	return libbpf_own ? libbpf_own() : NULL;
}
