#!/usr/bin/env bash
# Runs every fuzz target (tests/fuzz, libFuzzer + ASan/UBSan) for a bounded time, after replaying
# its regression inputs (tests/fuzz/regress/NAME: crashes found once, kept so they stay fixed).
#   scripts/fuzz.sh [SECONDS] [NAME...]     SECONDS per target, default 20 (FUZZ_SECONDS)
# The ELF target is seeded with real binaries built here: a C program and a Go server (plain,
# stripped, stripped PIE) from the uprobe tests' sources. Crash inputs land in
# build/fuzz/crashes/. Prints "fuzz NAME: 1 passed, 0 failed" per target; exit 1 on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-${FUZZ_SECONDS:-20}}
shift $(( $# > 0 ? 1 : 0 ))
build=${BUILD:-build}
if ! make -s fuzz-bins >"$build/fuzz-build.log" 2>&1; then
	tail -20 "$build/fuzz-build.log"
	echo "fuzz build: 0 passed, 1 failed"
	exit 1
fi
names=("$@")
# Every target, from its source: a clean clone has no corpus folder for elf (seeded at run time)
[ ${#names[@]} -eq 0 ] && names=($(ls tests/fuzz/fuzz_*.c | sed 's|.*/fuzz_||; s|\.c$||' | grep -vx log))
work="$build/fuzz/corpus" crashes="$build/fuzz/crashes"
mkdir -p "$crashes"

seed_elf() {  # $1 = corpus dir
	local tmp
	tmp=$(mktemp -d) || return
	/usr/bin/python3 - "$tmp" "$1" <<'PY' >/dev/null 2>&1
import os, shutil, sys
sys.path.insert(0, "tests/integration")
import uprobe_util
tmp, out = sys.argv[1], sys.argv[2]
paths = list((uprobe_util.build_go(tmp) or {}).values()) + [uprobe_util.build_c(tmp)]
for p in paths:
    shutil.copy(p, os.path.join(out, os.path.basename(p)))
PY
	rm -rf "$tmp"
}

rc=0
for n in "${names[@]}"; do
	bin="$build/fuzz/fuzz_$n"
	if [ ! -x "$bin" ]; then
		echo "fuzz $n: 0 passed, 1 failed (no target $bin)"; rc=1; continue
	fi
	mkdir -p "$work/$n"
	cp -n tests/fuzz/corpus/"$n"/* "$work/$n"/ 2>/dev/null
	[ "$n" = elf ] && [ -z "$(ls "$work/$n")" ] && seed_elf "$work/$n"
	log="$build/fuzz/$n.log"
	regress=(tests/fuzz/regress/"$n"/*)
	regress=("${regress[@]/*\/.keep/}")
	ok=1
	for r in "${regress[@]}"; do
		[ -f "$r" ] || continue
		"$bin" "$r" >"$log" 2>&1 || { echo "fuzz $n: regression input $r fails again"; tail -30 "$log"; ok=0; }
	done
	if [ $ok = 1 ]; then
		# Go binaries are megabytes: let the ELF target take them whole (pclntab sits late).
		maxlen=(); [ "$n" = elf ] && maxlen=(-max_len=8000000)
		"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${maxlen[@]}" \
			-artifact_prefix="$crashes/$n-" "$work/$n" >"$log" 2>&1 || { tail -40 "$log"; ok=0; }
	fi
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
	if [ $ok = 1 ]; then
		echo "fuzz $n: 1 passed, 0 failed (${runs:-?} runs in ${secs}s, ${cov:-cov: ?})"
	else
		echo "fuzz $n: 0 passed, 1 failed (crash inputs in $crashes/)"; rc=1
	fi
done
exit $rc
