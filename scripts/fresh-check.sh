#!/usr/bin/env bash
# README's two commands on a fresh minimal Debian 12, not on this (well-stocked) machine: a
# `debootstrap --variant=minbase bookworm` chroot with only git, make and ca-certificates added,
# the repository cloned into it at REF (default HEAD), then
#   1. `make run`: waits until the daemon answers /healthz on 127.0.0.1, then stops it (SIGTERM)
#   2. `make test`: the whole suite, its last line kept
# and a summary of what passed. Takes many minutes (packages, two builds, the suite): not run by
# CI; run it before ending an issue that adds dependencies.
#   usage: scripts/fresh-check.sh [REF]      (as root; KEEP=1 keeps the chroot for a look)
# The chroot shares this machine's kernel, network and /sys (BPF, tracefs, cgroups), and its root
# is a mount point of its own so `ip netns` works inside. Every mount is undone on any exit.
# One compound command, read whole before it runs: a checkout or an edit of this file while it
# runs (it takes many minutes) cannot make bash read the rest from a shifted offset.
{
set -euo pipefail

ref=${1:-HEAD}
src=$(cd "$(dirname "$0")/.." && pwd)
mirror=${MIRROR:-http://deb.debian.org/debian}
port=8700
log() { printf 'fresh-check: %s\n' "$*"; }
die() { log "$*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, chroot, mounts)"
sha=$(git -C "$src" rev-parse --verify "$ref^{commit}") || die "'$ref' is not a commit"
# A worktree's .git is a file naming a path of the host: clone from the common git dir.
gitdir=$(cd "$src" && cd "$(git rev-parse --git-common-dir)" && pwd)
if ! command -v debootstrap >/dev/null; then
	log "installing debootstrap"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi
# Port 8700 is the daemon's default and the chroot shares this machine's network: another
# daemon there would make `make run` fail for a reason that is not the fresh machine's.
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
	die "127.0.0.1:$port is in use on this machine: stop that daemon first"
fi

root=$(mktemp -d /var/tmp/ebee-fresh.XXXXXX)
chmod 755 "$root"       # a root directory: mktemp makes it 0700, which locks out every other uid
out=$root.log            # beside the chroot, so it survives the cleanup
: >"$out"
runpid=

# Mounts under the chroot, deepest first.
mounts_under() { awk -v r="$root" '$5 == r || index($5, r "/") == 1 { print $5 }' \
	/proc/self/mountinfo | sort -r; }
cleanup() {
	local rc=$? m left
	trap - EXIT INT TERM HUP
	set +e
	if [ -n "$runpid" ] && kill -0 "$runpid" 2>/dev/null; then
		kill -TERM -- "-$runpid" 2>/dev/null || true
		sleep 2
		kill -KILL -- "-$runpid" 2>/dev/null || true
	fi
	# Processes still running in the chroot (a test's leftover) would hold its mounts.
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill -KILL "${p#/proc/}" 2>/dev/null
	done
	sleep 0.5
	for m in $(mounts_under); do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
	left=$(mounts_under)
	if [ -n "$left" ]; then
		log "still mounted, $root kept: $left"
	elif [ -n "${KEEP:-}" ]; then
		log "chroot kept in $root"
	else
		rm -rf --one-file-system "$root"
	fi
	log "logs in" "$root".*log
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# The root is a mount point of its own: `ip netns exec` remounts / and /sys in a new mount
# namespace and fails in a chroot whose root is not one. Private (and slave binds below), so
# nothing mounted or unmounted here reaches the machine's own mounts.
mount --bind "$root" "$root"
mount --make-private "$root"

log "debootstrap minbase bookworm into $root (log: $out)"
debootstrap --variant=minbase bookworm "$root" "$mirror" >>"$out" 2>&1 \
	|| { tail -20 "$out"; die "debootstrap failed"; }

bind() {  # $1 = host path; recursive, slave: the chroot sees the machine's mounts below it
	mkdir -p "$root$1"
	mount --rbind "$1" "$root$1"
	mount --make-rslave "$root$1"
}
mount -t proc proc "$root/proc"
bind /dev
bind /sys                # with /sys/fs/bpf, /sys/kernel/tracing, debugfs and the cgroup mounts
for m in /sys/fs/bpf /sys/kernel/tracing /sys/kernel/debug /sys/fs/cgroup/unified; do
	mountpoint -q "$m" && ! mountpoint -q "$root$m" && bind "$m"
done
cp /etc/resolv.conf "$root/etc/resolv.conf"

# A fresh environment: nothing of this shell's (PATH, NODE_*, npm config) leaks in.
in_chroot() {
	chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		${http_proxy:+http_proxy=$http_proxy} ${https_proxy:+https_proxy=$https_proxy} \
		/bin/bash -c "$1"
}

log "installing git, make, ca-certificates"
in_chroot 'export DEBIAN_FRONTEND=noninteractive; apt-get update -qq &&
	apt-get install -y -qq --no-install-recommends git make ca-certificates' >>"$out" 2>&1 \
	|| { tail -20 "$out"; die "apt-get install git make ca-certificates failed"; }
# The machine's CA bundle: whatever CA its network path needs (a proxy's) is trusted inside too.
mount --bind /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"

mkdir -p "$root/mnt/ebee.git"
mount --bind -o ro "$gitdir" "$root/mnt/ebee.git"
mount -o remount,bind,ro "$root/mnt/ebee.git"
log "cloning $sha"
in_chroot "git -c safe.directory='*' clone -q /mnt/ebee.git /root/ebee && cd /root/ebee &&
	{ git cat-file -e $sha 2>/dev/null || git fetch -q origin $sha; } &&
	git -c advice.detachedHead=false checkout -q $sha" >>"$out" 2>&1 \
	|| { tail -20 "$out"; die "git clone of $sha failed"; }
umount "$root/mnt/ebee.git"

# 1. make run: installs, builds, then runs the daemon in the foreground. Its own process group
# (set -m) so the cleanup can end all of it; the daemon is stopped with SIGTERM, as a service
# manager would.
log "make run"
runlog=$root.run.log
set -m
in_chroot 'cd /root/ebee && exec make run' >"$runlog" 2>&1 &
runpid=$!
set +m
healthz=
for _ in $(seq 1 1800); do          # packages and a cold build: up to 30 minutes
	kill -0 "$runpid" 2>/dev/null || break
	if healthz=$( (exec 3<>"/dev/tcp/127.0.0.1/$port" &&
			printf 'GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 &&
			timeout 5 cat <&3) 2>/dev/null) && [ -n "$healthz" ]; then
		break
	fi
	healthz=
	sleep 1
done
run_ok=
if [ -n "$healthz" ] && head -1 <<<"$healthz" | grep -q ' 200 '; then
	daemon=$(for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] &&
		[ "$(readlink "$p/exe" 2>/dev/null)" = "$root/root/ebee/build/ebee" ] && echo "${p#/proc/}"
	done; true)
	[ -n "$daemon" ] && kill -TERM $daemon
	rc=0; wait "$runpid" || rc=$?
	runpid=
	if [ "$rc" -eq 0 ]; then
		run_ok=1
		log "make run: ok (/healthz answered $(head -1 <<<"$healthz" | tr -d '\r'); stopped by SIGTERM, exit 0)"
	else
		log "make run: FAILED (/healthz answered, but make run exited $rc after SIGTERM)"
	fi
else
	if [ -n "$runpid" ] && kill -0 "$runpid" 2>/dev/null; then
		kill -TERM -- "-$runpid" 2>/dev/null || true
	fi
	wait "$runpid" 2>/dev/null || true
	runpid=
	tail -30 "$runlog"
	log "make run: FAILED (no /healthz answer on 127.0.0.1:$port; log $runlog)"
fi

# 2. make test, in the same chroot (the build from make run is reused, as on a real machine).
log "make test"
testlog=$root.test.log
rc=0
in_chroot 'cd /root/ebee && make test' >"$testlog" 2>&1 || rc=$?
summary=$(grep '^ebee tests:' "$testlog" | tail -1)
grep -E '^(FAILED|ERROR)' "$testlog" || true
if [ "$rc" -eq 0 ]; then
	log "make test: ok (${summary:-no summary line})"
else
	tail -30 "$testlog"
	log "make test: FAILED, exit $rc (${summary:-no summary line}; log $testlog)"
fi

if [ -n "$run_ok" ] && [ "$rc" -eq 0 ]; then
	log "PASS: make run and make test on a fresh Debian 12 ($sha)"
else
	log "FAIL: $([ -n "$run_ok" ] || echo 'make run ')$([ "$rc" -eq 0 ] || echo 'make test ')($sha)"
	exit 1
fi
exit 0
}
