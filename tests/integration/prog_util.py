"""Helpers for the prog/top/bench tests and bench/prog: tiny BPF programs loaded straight
through the bpf() syscall (no clang, no bpftool), run an exact number of times with
BPF_PROG_TEST_RUN, so tests know precisely how much a program ran.

    python3 prog_util.py hold N NAME   # loads N programs, prints their ids, holds them
                                       # until stdin closes or SIGTERM/SIGINT
    python3 prog_util.py run ID K      # runs program ID K times (BPF_PROG_TEST_RUN)
"""
import ctypes
import os
import signal
import struct
import sys

SYS_BPF = 321  # x86_64
BPF_PROG_LOAD, BPF_PROG_TEST_RUN, BPF_PROG_GET_FD_BY_ID, BPF_OBJ_GET_INFO_BY_FD = 5, 10, 13, 15
BPF_ENABLE_STATS = 32
BPF_PROG_TYPE_SOCKET_FILTER = 1

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def _bpf(cmd, attr):
    buf = ctypes.create_string_buffer(bytes(attr), len(attr))
    r = _libc.syscall(SYS_BPF, cmd, buf, len(attr))
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, f"bpf({cmd}): {os.strerror(e)}")
    return r, buf


def load_socket_filter(name, ret=0):
    """Loads `r0 = ret; exit` as a socket filter; returns the fd."""
    insns = struct.pack("<BBhi", 0xB7, 0, 0, ret) + struct.pack("<BBhi", 0x95, 0, 0, 0)
    ibuf = ctypes.create_string_buffer(insns, len(insns))
    lic = ctypes.create_string_buffer(b"GPL")
    attr = bytearray(128)
    struct.pack_into("<IIQQ", attr, 0, BPF_PROG_TYPE_SOCKET_FILTER, 2,
                     ctypes.addressof(ibuf), ctypes.addressof(lic))
    nm = name.encode()[:15]
    attr[48:48 + len(nm)] = nm
    fd, _ = _bpf(BPF_PROG_LOAD, attr)
    return fd


def test_run(fd, repeat):
    """Runs the program `repeat` times (counted in run_cnt while stats are on)."""
    data = ctypes.create_string_buffer(64)
    attr = bytearray(80)
    struct.pack_into("<IIIIQQII", attr, 0, fd, 0, 64, 0, ctypes.addressof(data), 0, repeat, 0)
    _bpf(BPF_PROG_TEST_RUN, attr)


def prog_id(fd):
    info = ctypes.create_string_buffer(256)
    attr = bytearray(16)
    struct.pack_into("<IIQ", attr, 0, fd, 256, ctypes.addressof(info))
    _bpf(BPF_OBJ_GET_INFO_BY_FD, attr)
    # struct bpf_prog_info: type u32, id u32, ...
    return struct.unpack_from("<II", info.raw, 0)[1]


def counters_fdinfo(fd):
    out = {}
    with open(f"/proc/self/fdinfo/{fd}") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k.strip()] = v.strip()
    return int(out.get("run_cnt", 0)), int(out.get("run_time_ns", 0))


def fd_by_id(pid_):
    attr = bytearray(16)
    struct.pack_into("<I", attr, 0, pid_)
    fd, _ = _bpf(BPF_PROG_GET_FD_BY_ID, attr)
    return fd


def pin(fd, path):
    """Pins the program at path (bpffs); unlink the path to unpin."""
    p = ctypes.create_string_buffer(path.encode())
    attr = bytearray(16)
    struct.pack_into("<QI", attr, 0, ctypes.addressof(p), fd)
    _bpf(6, attr)  # BPF_OBJ_PIN


def enable_stats():
    """Holds BPF run-time stats on while the returned fd is open."""
    attr = bytearray(8)
    fd, _ = _bpf(BPF_ENABLE_STATS, attr)
    return fd


def _hold(n, name):
    fds = [load_socket_filter(name) for _ in range(n)]
    print(" ".join(str(prog_id(fd)) for fd in fds), flush=True)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    try:
        sys.stdin.read()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "hold":
        _hold(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "run":
        test_run(fd_by_id(int(sys.argv[2])), int(sys.argv[3]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
