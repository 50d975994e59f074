#!/usr/bin/env bash
# ebee guard's user-space evaluation rate (synthetic replay, one core):
#   bench/guard/run.sh [RULES.yaml ...]    default: ebee's built-in rules, then $EBEE_FALCO_RULES
# Builds bench/guard/replay.c against build/obj (run `make` first).
set -euo pipefail
cd "$(dirname "$0")/../.."
make -s all
objs=$(ls build/obj/guard/{cond,cond_parse,rules,fields}.o)
cc -O2 -Isrc -Ibuild/gen -o build/guard-replay bench/guard/replay.c $objs build/obj/core/log.o \
	$(pkg-config --libs yaml-0.1 libbpf)
files=("$@")
[ ${#files[@]} -eq 0 ] && files=(src/guard/default_rules.yaml ${EBEE_FALCO_RULES:-})
for f in "${files[@]}"; do
	taskset -c 0 build/guard-replay "$f" 2000000
done
