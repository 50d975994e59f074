#!/usr/bin/env bash
# The whole test suite — README's test command, and exactly what .ci/run runs.
#   1. install missing packages, build ebee and the unit tests (normal and ASan+UBSan builds)
#   2. unit tests (cmocka), both builds
#   3. integration tests (pytest, real kernel): each file once, the ones whose weight is in user
#      space (parsers, the daemon, rules, the process table) with build/asan/ebee, the ones whose
#      weight is kernel-side (attach kinds, uprobes, Go releases, TCP) with build/ebee: every file
#      with both took 21 minutes, the whole run 29, over CI's 20 (2026-12-01)
# Ends with one line "ebee tests: N passed, N failed, N skipped"; exit 1 on any failure.
#   4. fuzz targets (scripts/fuzz.sh), FUZZ_SECONDS each (default 10)
#   5. the VM tier (tests/vm/run.sh): BPF LSM enforcement on Debian 12's kernel under qemu
# TESTS="-k count" narrows pytest; SKIP_ASAN=1 runs every file with build/ebee, SKIP_FUZZ=1 skips the fuzzing
# and SKIP_VM=1 the VM tier (local iteration only).
set -uo pipefail
cd "$(dirname "$0")/.."
res=build/test-results
rm -rf "$res" && mkdir -p "$res"

scripts/deps.sh all || { echo "ebee tests: 0 passed, 1 failed (dependencies)"; exit 1; }
if ! make -j2 all unit-bins >"$res/build.log" 2>&1; then
	tail -40 "$res/build.log"
	echo "ebee tests: 0 passed, 1 failed (build)"
	exit 1
fi
if [ -z "${SKIP_ASAN:-}" ] && ! make -j2 asan >"$res/build-asan.log" 2>&1; then
	tail -40 "$res/build-asan.log"
	echo "ebee tests: 0 passed, 1 failed (asan build)"
	exit 1
fi

passed=0 failed=0 skipped=0
add() { passed=$((passed + $1)); failed=$((failed + $2)); skipped=$((skipped + $3)); }

# cmocka prints "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s), listed below:".
run_unit() {  # $1 = build dir, $2 = label
	local t out p f
	for t in "$1"/tests/test_*; do
		[ -x "$t" ] || continue
		out=$("$t" 2>&1); rc=$?
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' <<<"$out" | tail -1)
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' <<<"$out" | tail -1)
		[ $rc -ne 0 ] && [ -z "$f" ] && f=1
		[ $rc -ne 0 ] && echo "$out"
		echo "unit ($2) $(basename "$t"): ${p:-0} passed, ${f:-0} failed"
		add "${p:-0}" "${f:-0}" 0
	done
}

# pytest's junit file gives exact counts whatever the console shows.
junit() {  # $1 = xml; prints "passed failed skipped" and writes failed node ids to $1.failed
	/usr/bin/python3 - "$1" <<'PY'
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
suites = [r] if r.tag == "testsuite" else list(r)
t = sum(int(x.get("tests", 0)) for x in suites)
f = sum(int(x.get("failures", 0)) + int(x.get("errors", 0)) for x in suites)
s = sum(int(x.get("skipped", 0)) for x in suites)
with open(sys.argv[1] + ".failed", "w") as out:
    for suite in suites:
        for tc in suite.iter("testcase"):
            if tc.find("failure") is not None or tc.find("error") is not None:
                mod = tc.get("classname", "").replace(".", "/") + ".py"
                out.write(f"{mod}::{tc.get('name')}\n")
print(t - f - s, f, s)
PY
}

# No rerun on failure: a timing-dependent test waits for what it checks (the TCP tests for the
# rows ebee prints), and a flake is a bug to find (bench/tcp-stress.sh runs the TCP tests
# 20 times under CPU hogs).
run_pytest() {  # $1 = binary, $2 = label, $3... = test files
	local bin=$1 label=$2 xml="$res/integration-$2.xml" p f s
	shift 2
	EBEE="$bin" /usr/bin/python3 -m pytest -q -p no:cacheprovider --junitxml="$xml" \
		${TESTS:-} "$@" 2>&1 | tee "$res/integration-$label.log" | grep -vE '^\s*$' | tail -25
	if [ ! -f "$xml" ]; then add 0 1 0; return; fi
	read -r p f s < <(junit "$xml")
	echo "integration ($label): $p passed, $f failed, $s skipped"
	add "$p" "$f" "$s"
}

run_unit build normal
[ -z "${SKIP_ASAN:-}" ] && run_unit build/asan asan
# Every fuzz target for a bounded time after replaying its regression inputs; one test each.
run_fuzz() {
	local line p f
	while IFS= read -r line; do
		echo "$line"
		if [[ $line =~ ^fuzz\ [a-z_]+:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
			add "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" 0
		fi
	done < <(scripts/fuzz.sh "${FUZZ_SECONDS:-10}" 2>&1 | tee "$res/fuzz.log" | grep -E '^(fuzz |==|SUMMARY)')
}
[ -z "${SKIP_FUZZ:-}" ] && run_fuzz

# The files run with the ASan+UBSan build (about half the suite's time); the rest with the
# normal one.
asan_files=(cli deploy events fault graph guard http netwatch_geoip netwatch_golden netwatch_serve
	netwatch_web policy policy_daemon priv prog serve summary)
all=(tests/integration/test_*.py) normal=() asan=()
for t in "${all[@]}"; do
	n=$(basename "$t" .py); n=${n#test_}
	if [ -z "${SKIP_ASAN:-}" ] && [[ " ${asan_files[*]} " == *" $n "* ]]; then asan+=("$t"); else normal+=("$t"); fi
done
run_pytest "$PWD/build/ebee" normal "${normal[@]}"
if [ ${#asan[@]} -gt 0 ]; then
	# Leak reports fail the run.
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
		run_pytest "$PWD/build/asan/ebee" asan "${asan[@]}"
fi

# The VM tier counts its checks; a missing qemu or a VM that does not finish is a failure.
run_vm() {
	local line got=
	while IFS= read -r line; do
		echo "$line"
		if [[ $line =~ ^vm:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
			add "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" 0
			got=1
		fi
	done < <(tests/vm/run.sh build/ebee 2>&1 | tee "$res/vm.log")
	[ -n "$got" ] || add 0 1 0
}
[ -z "${SKIP_VM:-}" ] && run_vm

echo "ebee tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
