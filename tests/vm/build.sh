#!/usr/bin/env bash
# Builds the VM tier's image from Debian packages only: Debian 12's own kernel
# (linux-image-6.1.0-*-amd64, BPF LSM active by default) fetched with `apt-get download`, and an
# initramfs with static busybox, the ebee binary with the shared libraries and loader it links
# (ldd), the enforcement files and tests/vm/init.sh as /init.
#   tests/vm/build.sh [EBEE]      -> build/vm/vmlinuz, build/vm/initrd.img
# The kernel package is cached under build/vm/deb, so reruns do not download again.
set -euo pipefail
cd "$(dirname "$0")/../.."
ebee=${1:-build/ebee}
out=build/vm
mkdir -p "$out/deb"

for tool in qemu-system-x86_64 busybox cpio; do
	command -v "$tool" >/dev/null || { echo "vm: '$tool' missing (scripts/deps.sh installs qemu-system-x86, busybox-static, cpio)" >&2; exit 1; }
done
[ -x "$ebee" ] || { echo "vm: '$ebee' not built" >&2; exit 1; }

deb=$(ls "$out"/deb/linux-image-6.1.0-*-amd64_*.deb 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$deb" ]; then
	# the newest 6.1.0-N ABI the archive has
	pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' | awk '{print $1}' | sort -V | tail -1)
	[ -n "$pkg" ] || { echo "vm: no linux-image-6.1.0-*-amd64 package in the apt lists (apt-get update?)" >&2; exit 1; }
	(cd "$out/deb" && apt-get download "$pkg" >/dev/null 2>&1) || { echo "vm: apt-get download $pkg failed" >&2; exit 1; }
	deb=$(ls "$out"/deb/linux-image-6.1.0-*-amd64_*.deb | sort -V | tail -1)
fi
if [ ! -f "$out/vmlinuz" ] || [ ! -f "$out/crc7.ko" ] || [ "$deb" -nt "$out/vmlinuz" ]; then
	rm -rf "$out/kpkg"
	dpkg -x "$deb" "$out/kpkg"
	cp "$(ls "$out"/kpkg/boot/vmlinuz-* | head -1)" "$out/vmlinuz"
	# enforce2's module-load checks: a small module without dependencies
	cp "$(ls "$out"/kpkg/lib/modules/*/kernel/lib/crc7.ko | head -1)" "$out/crc7.ko"
	rm -rf "$out/kpkg"
fi

root=$out/initramfs
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,run,lib64,usr/lib,enf}
cp "$(command -v busybox)" "$root/bin/busybox"
# the binary and everything it links, at the same paths
cp "$ebee" "$root/bin/ebee"
ldd "$ebee" | awk '/=> \//{print $3} /^\t\/lib64\//{print $1}' | while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
# VM_EXTRA: more static binaries for /bin (bench/enforce/vm.sh adds its storm)
for f in ${VM_EXTRA:-}; do cp "$f" "$root/bin/"; done
cp tests/vm/init.sh "$root/init"
cp tests/vm/events.sh "$root/events.sh"
cp tests/vm/*.yaml "$root/enf/"
cp "$out/crc7.ko" "$root/enf/"
chmod +x "$root/init"
echo "root:x:0:0:root:/:/bin/sh" > "$root/etc/passwd"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$out/initrd.img"
echo "vm: $(basename "$deb") + initramfs $(du -h "$out/initrd.img" | cut -f1)"
