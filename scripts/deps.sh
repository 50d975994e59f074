#!/usr/bin/env bash
# Installs the Debian packages ebee needs to build, test and run — only those missing, so a
# second run costs nothing. Usage: scripts/deps.sh [build|test|all] (default all).
set -euo pipefail

build_pkgs=(make gcc clang llvm pkg-config bpftool libbpf-dev libelf-dev zlib1g-dev
            libjson-c-dev libncurses-dev libmaxminddb-dev libmicrohttpd-dev libcapstone-dev
            libyaml-dev nodejs libdw-dev)
# Tests drive real workloads and peers; golang builds the uprobe targets.
test_pkgs=(libcmocka-dev python3 python3-pytest iproute2 libbpf-tools bpftrace golang-go
           chromium prometheus tmux procps libmaxmind-db-writer-perl python3-yaml
           qemu-system-x86 busybox-static cpio)

want=("${build_pkgs[@]}")
case "${1:-all}" in
  build) ;;
  test|all) want+=("${test_pkgs[@]}") ;;
  *) echo "usage: $0 [build|test|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# nodesource builds of nodejs carry npm and conflict with Debian's npm package.
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing packages: ${missing[*]} (run as root to install them)" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
