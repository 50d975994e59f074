#!/usr/bin/env bash
# bench/enforce inside the VM tier's kernel (Debian 12, BPF LSM): the exec and connect storms
# with no ebee and with ebee enforcing by LSM, as ratios (TCG emulation: absolute rates are
# meaningless, ratios within one boot are what counts).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=build/bench-enforce
mkdir -p "$out"
gcc -O2 -static -o "$out/storm" bench/enforce/storm.c
VM_EXTRA="$out/storm" tests/vm/build.sh "${EBEE:-build/ebee}"
timeout 600 qemu-system-x86_64 -machine q35,accel=tcg -cpu max -m 1G -smp 1 -nographic -no-reboot \
	-kernel build/vm/vmlinuz -initrd build/vm/initrd.img \
	-append "console=ttyS0 quiet panic=-1 ebee.mode=bench" </dev/null | tr -d '\r' >"$out/vm-console.log" || true
grep '^EBEE-VM-BENCH' "$out/vm-console.log" | tee "$out/vm.txt"
for kind in exec connect; do
	grep "BENCH: $kind " "$out/vm.txt" | sed 's/.*none=\([0-9]*\) enforcing=\([0-9]*\).*/\1 \2/' |
		awk '{printf "%.3f\n", $1/$2}' | sort -n | awk -v k=$kind '{r[NR]=$1} END {printf "%s (vm, lsm): slowdown median %.3f over %d runs\n", k, r[int((NR+1)/2)], NR}'
done
