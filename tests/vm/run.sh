#!/usr/bin/env bash
# The VM tier: builds the image (tests/vm/build.sh) and boots Debian 12's kernel under
# qemu TCG (no KVM needed) three times: with its default LSM list (bpf in it), with an lsm= line
# lacking bpf, and for the events collector's checks (tests/vm/events.sh). Prints each check of
# tests/vm/init.sh and ends with
#   vm: N passed, N failed
# exit 1 on any failure, a missing tool or a boot that does not finish.
set -uo pipefail
cd "$(dirname "$0")/../.."
ebee=${1:-build/ebee}
out=build/vm
tests/vm/build.sh "$ebee" || { echo "vm: 0 passed, 1 failed (image)"; exit 1; }
passed=0 failed=0
boot() {  # MODE APPEND [TIMEOUT]
	local log=$out/console-$1.log
	timeout "${VM_TIMEOUT:-${3:-150}}" qemu-system-x86_64 -machine q35,accel=tcg -cpu max -m 1G \
		-smp 1 -nographic -no-reboot -kernel "$out/vmlinuz" -initrd "$out/initrd.img" \
		-append "console=ttyS0 quiet panic=-1 ebee.mode=$1 $2" >"$log" 2>&1 </dev/null
	tr -d '\r' <"$log" | grep -E '^EBEE-VM' | sed "s/^/[$1] /"
	local p f
	p=$(tr -d '\r' <"$log" | grep -c '^EBEE-VM: .* PASS')
	f=$(tr -d '\r' <"$log" | grep -c '^EBEE-VM: .* FAIL')
	if ! tr -d '\r' <"$log" | grep -q '^EBEE-VM-DONE'; then
		echo "[$1] the VM did not finish (see $log)"
		f=$((f + 1))
	fi
	passed=$((passed + p)); failed=$((failed + f))
}
start=$(date +%s)
boot lsm ""
boot nolsm "lsm=lockdown,capability,yama"
# exec, open, events and guard run, each in the three syscall variants: 12 loads under TCG
boot events "" 1300
echo "vm: $passed passed, $failed failed ($(( $(date +%s) - start )) s)"
[ "$failed" -eq 0 ]
