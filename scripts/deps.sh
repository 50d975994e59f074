#!/usr/bin/env bash
# Installs the Debian packages ebee needs to build, test and run — only those missing, so a
# second run costs nothing. For the tests it also fetches the Go toolchains Debian packages beyond
# bookworm's go1.19 (src/http/go-toolchains.sh: cached in /var/cache/ebee/go, nothing installed),
# which ebee http's tests build their servers with; without them those tests would skip.
# Usage: scripts/deps.sh [build|test|all] (default all).
set -euo pipefail

build_pkgs=(make gcc clang llvm pkg-config bpftool libbpf-dev libelf-dev zlib1g-dev
            libjson-c-dev libncurses-dev libmaxminddb-dev libmicrohttpd-dev libcapstone-dev
            libyaml-dev nodejs libdw-dev)
# Tests drive real workloads and peers; golang builds the uprobe targets; libclang-rt-14-dev
# holds clang's libFuzzer and ASan runtimes for the fuzz targets (not pulled in by clang).
test_pkgs=(libcmocka-dev python3 python3-pytest iproute2 libbpf-tools bpftrace golang-go
           chromium prometheus tmux procps libmaxmind-db-writer-perl python3-yaml
           qemu-system-x86 busybox-static cpio libclang-rt-14-dev)

want=("${build_pkgs[@]}")
tests=
case "${1:-all}" in
  build) ;;
  test|all) want+=("${test_pkgs[@]}"); tests=1 ;;
  *) echo "usage: $0 [build|test|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# nodesource builds of nodejs carry npm and conflict with Debian's npm package.
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Go toolchains for ebee http's tests: a no-op once cached; a release Debian does not have is
# said on stderr and its tests skip saying so. The fetch itself failing (no mirror) fails here,
# rather than letting those tests skip quietly.
if [ -n "$tests" ]; then
  here=$(cd "$(dirname "$0")/.." && pwd)
  if [ -w "$(dirname "${EBEE_GO_DIR:-/var/cache/ebee/go}")" ] || [ "$(id -u)" -eq 0 ]; then
    "$here/src/http/go-toolchains.sh" >/dev/null || { echo "deps: cannot fetch the Go toolchains" >&2; exit 1; }
  else
    echo "deps: not root: Go toolchains not fetched (ebee http's tests of go1.21+ skip)" >&2
  fi
fi
