#!/usr/bin/env bash
# Fetches the Go toolchains Debian packages beyond this release's own (bookworm ships go1.19;
# its backports go1.21-1.23; the next release, trixie, go1.24) into a cache, so that ebee http's
# offsets table (gen-offsets.sh) and its tests cover those releases. Debian packages only, by
# name, with apt-get: a private sources list (the system's own Debian mirror, other suites) and
# private package lists, so the system's apt configuration and installed packages stay as they
# are; the .debs are unpacked with dpkg -x, never installed.
# Prints the bin/go of each toolchain in the cache, one a line.
# Usage: src/http/go-toolchains.sh [VERSION ...]     (default: 1.21 1.22 1.23 1.24)
# EBEE_GO_DIR: the cache (default /var/cache/ebee/go).
set -euo pipefail
dir=${EBEE_GO_DIR:-/var/cache/ebee/go}
vers=("$@")
[ ${#vers[@]} -gt 0 ] || vers=(1.21 1.22 1.23 1.24)
# the suites that have them: this release's backports, then the next release
suites=(bookworm-backports trixie)

# A release Debian did not have is remembered for a day (absent/VERSION), so that scripts/deps.sh
# stays a no-op on every test run instead of refreshing package lists each time.
missing=()
for v in "${vers[@]}"; do
  [ -x "$dir/root/usr/lib/go-$v/bin/go" ] && continue
  if [ -n "$(find "$dir/absent/$v" -mmin -1440 2>/dev/null)" ]; then
    echo "go-toolchains: Debian has no golang-$v in ${suites[*]} (checked $(date -r "$dir/absent/$v" -u +%FT%TZ))" >&2
    continue
  fi
  missing+=("$v")
done
if [ ${#missing[@]} -gt 0 ]; then
  mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null |
           awk '$2 == "bookworm" { print $1; exit }')
  [ -n "$mirror" ] || { echo "go-toolchains: no Debian bookworm mirror in the apt sources" >&2; exit 1; }
  apt="$dir/apt"
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$dir/debs" "$dir/root"
  : > "$apt/sources.list"
  for s in "${suites[@]}"; do
    echo "deb $mirror $s main" >> "$apt/sources.list"
  done
  opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/nonexistent
        -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
        -o APT::Sandbox::User=root -q)
  apt-get "${opts[@]}" update >&2
  for v in "${missing[@]}"; do
    # the compiler and tools (-go) and the standard library it builds from (-src)
    if ! (cd "$dir/debs" && apt-get "${opts[@]}" download "golang-$v-go" "golang-$v-src" >&2); then
      echo "go-toolchains: Debian has no golang-$v in ${suites[*]}" >&2
      mkdir -p "$dir/absent" && touch "$dir/absent/$v"
      continue
    fi
    rm -f "$dir/absent/$v"
    for deb in "$dir/debs"/golang-"$v"-{go,src}_*.deb; do
      dpkg -x "$deb" "$dir/root"
    done
    rm -f "$dir/debs"/golang-"$v"-*.deb
  done
fi
for v in "${vers[@]}"; do
  go="$dir/root/usr/lib/go-$v/bin/go"
  [ -x "$go" ] && echo "$go"
done
exit 0
