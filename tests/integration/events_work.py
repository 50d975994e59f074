#!/usr/bin/python3
"""Workloads for test_events.py: each mode makes the syscalls of some event types, with known
arguments, and prints what it did as one JSON object (pids, fds, paths) for the test to match.

  events_work.py files DIR   open (relative, via a dirfd), rename, chmod, chown, symlink, link,
                             unlink, mkdir, truncate, dup2, close, memfd_create
  events_work.py net         socket, bind, listen, connect, accept on 127.0.0.1; send on TCP,
                             sendto/send on UDP, sendmsg on UDP over ::1, sendmmsg
  events_work.py proc        kill, ptrace (fails: ESRCH), setuid, setgid, mount (fails: ENOENT),
                             finit_module (fails: EBADF)
  events_work.py exec0 PATH  execve(PATH) with an empty argv
  events_work.py opens N DIR N opens of DIR/f (for the tiny ring buffer)
"""
import ctypes
import json
import os
import socket
import sys

libc = ctypes.CDLL(None, use_errno=True)


def files(d):
    out = {"pid": os.getpid()}
    dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    fd = os.open("rel.txt", os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o640, dir_fd=dfd)
    out.update(dirfd=dfd, fd=fd)
    os.rename(os.path.join(d, "rel.txt"), os.path.join(d, "moved.txt"))
    os.chmod(os.path.join(d, "moved.txt"), 0o600)
    os.chown(os.path.join(d, "moved.txt"), 0, 0)
    os.symlink("moved.txt", os.path.join(d, "sym"))
    os.link(os.path.join(d, "moved.txt"), os.path.join(d, "hard"))
    os.mkdir(os.path.join(d, "newdir"), 0o750)
    os.truncate(os.path.join(d, "moved.txt"), 7)
    os.dup2(fd, 42)
    os.close(42)
    m = os.memfd_create("ebee-memfd", 0)
    out["memfd"] = m
    # relative to a cwd changed after start, then to a deleted cwd
    os.chdir(d)
    os.close(os.open("cwd.txt", os.O_CREAT | os.O_WRONLY, 0o600))
    os.unlink("cwd.txt")
    os.mkdir("gone")
    os.chdir("gone")
    os.rmdir(os.path.join(d, "gone"))
    try:
        os.open("nofile", os.O_RDONLY)
    except OSError:
        pass
    os.chdir("/")
    for n in ("sym", "hard", "moved.txt"):
        os.unlink(os.path.join(d, n))
    os.rmdir(os.path.join(d, "newdir"))
    return out


def net():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(7)
    port = s.getsockname()[1]
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.connect(("127.0.0.1", port))
    a, peer = s.accept()
    c.send(b"stream")                                   # send() is sendto() without an address
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.sendto(b"x" * 11, ("127.0.0.1", port))            # unconnected datagram: the address given
    u.connect(("127.0.0.1", port + 1))
    u.send(b"y" * 3)                                    # connected: the peer read from the socket
    v = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    v.sendmsg([b"z" * 5], [], 0, ("::1", port))         # sendmsg with msg_name
    w = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    mm = sendmmsg(w.fileno(), port, 3)                  # 3 messages in one call
    return {"pid": os.getpid(), "port": port, "listen_fd": s.fileno(), "conn_fd": c.fileno(),
            "accept_fd": a.fileno(), "peer_port": peer[1], "udp_fd": u.fileno(),
            "udp6_fd": v.fileno(), "mm_fd": w.fileno(), "mm_sent": mm}


def sendmmsg(fd, port, n):
    """sendmmsg(2) of n datagrams to 127.0.0.1:port (Python has no binding for it)."""
    import struct

    class Iovec(ctypes.Structure):
        _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]

    class Msghdr(ctypes.Structure):
        _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32),
                    ("iov", ctypes.POINTER(Iovec)), ("iovlen", ctypes.c_size_t),
                    ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                    ("flags", ctypes.c_int)]

    class Mmsghdr(ctypes.Structure):
        _fields_ = [("hdr", Msghdr), ("len", ctypes.c_uint)]

    sa = ctypes.create_string_buffer(struct.pack("=H", socket.AF_INET) + struct.pack("!H", port)
                                     + socket.inet_aton("127.0.0.1") + bytes(8), 16)
    data = ctypes.create_string_buffer(b"m" * 7, 7)
    iov = Iovec(ctypes.cast(data, ctypes.c_void_p), 7)
    msgs = (Mmsghdr * n)()
    for m in msgs:
        m.hdr = Msghdr(ctypes.cast(sa, ctypes.c_void_p), 16, ctypes.pointer(iov), 1, None, 0, 0)
    return libc.sendmmsg(fd, msgs, n, 0)


def proc():
    os.kill(os.getpid(), 0)
    ctypes.set_errno(0)
    r = libc.ptrace(ctypes.c_long(2), ctypes.c_long(4194304 + 1), None, None)  # PEEKDATA, no pid
    os.setuid(os.getuid())
    os.setgid(os.getgid())
    libc.mount(b"none", b"/nonexistent-ebee-mnt", b"tmpfs", ctypes.c_ulong(0), None)
    libc.syscall(313, -1, b"", 0)   # finit_module(-1): EBADF
    return {"pid": os.getpid(), "ptrace": r}


def exec0(path):
    argv = (ctypes.c_char_p * 1)(None)
    envp = (ctypes.c_char_p * 1)(None)
    sys.stdout.flush()
    libc.execve(path.encode(), argv, envp)
    return {"error": ctypes.get_errno()}


def opens(n, d):
    p = os.path.join(d, "f")
    for _ in range(n):
        os.close(os.open(p, os.O_CREAT | os.O_RDONLY, 0o600))
    return {"pid": os.getpid(), "n": n}


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "files":
        r = files(sys.argv[2])
    elif mode == "net":
        r = net()
    elif mode == "proc":
        r = proc()
    elif mode == "exec0":
        r = exec0(sys.argv[2])
    else:
        r = opens(int(sys.argv[2]), sys.argv[3])
    print(json.dumps(r), flush=True)
