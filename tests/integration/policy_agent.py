"""The workloads' processes for the policy tests (run inside a workload's cgroup or netns).
  serve ADDR PORT...          TCP and UDP echo on every port; prints "ready" once bound
  probe SRC TIMEOUT JSON      tries each [dst, "TCP"|"UDP", port] from SRC in parallel; prints
                              a JSON list of true (echo came back) / false
  stream SRC DST PORT N       one TCP connection, N request/echo round trips; prints "done N"
  storm SRC DST PORT N        N short TCP connections (connect, echo, close); prints "done N"
  udpburst SRC DST PORT N     N datagrams, each from a new socket (a new flow each)
  sink ADDR PORT              TCP server that reads and discards; prints "ready"
  blast SRC DST PORT MB       sends MB megabytes over one TCP connection; prints MB/s
"""
import json
import socket
import sys
import threading


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def serve(addr, ports):
    def tcp(ls):
        while True:
            c, _ = ls.accept()
            threading.Thread(target=echo, args=(c,), daemon=True).start()

    def echo(c):
        with c:
            while True:
                try:
                    d = c.recv(65536)
                except OSError:
                    return
                if not d:
                    return
                c.sendall(d)

    def udp(us):
        while True:
            d, peer = us.recvfrom(65536)
            us.sendto(d, peer)

    for p in ports:
        ls = socket.socket(family(addr), socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((addr, p))
        ls.listen(128)
        us = socket.socket(family(addr), socket.SOCK_DGRAM)
        us.bind((addr, p))
        threading.Thread(target=tcp, args=(ls,), daemon=True).start()
        threading.Thread(target=udp, args=(us,), daemon=True).start()
    print("ready", flush=True)
    threading.Event().wait()


def attempt(src, dst, proto, port, timeout, out, i):
    kind = socket.SOCK_STREAM if proto == "TCP" else socket.SOCK_DGRAM
    s = socket.socket(family(dst), kind)
    s.settimeout(timeout)
    try:
        s.bind((src, 0))
        if kind == socket.SOCK_STREAM:
            s.connect((dst, port))
            s.sendall(b"ping")
            out[i] = s.recv(16) == b"ping"
        else:
            s.sendto(b"ping", (dst, port))
            d, _ = s.recvfrom(16)
            out[i] = d == b"ping"
    except OSError:
        out[i] = False
    finally:
        s.close()


def probe(src, timeout, tries):
    out = [None] * len(tries)
    ts = [threading.Thread(target=attempt, args=(src, d, pr, p, timeout, out, i))
          for i, (d, pr, p) in enumerate(tries)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(json.dumps(out), flush=True)


def stream(src, dst, port, n):
    s = socket.create_connection((dst, port), timeout=5, source_address=(src, 0))
    for _ in range(n):
        s.sendall(b"x" * 64)
        got = 0
        while got < 64:
            got += len(s.recv(64 - got))
    s.close()
    print("done", n, flush=True)


def storm(src, dst, port, n):
    for _ in range(n):
        s = socket.create_connection((dst, port), timeout=5, source_address=(src, 0))
        s.sendall(b"ping")
        s.recv(16)
        s.close()
    print("done", n, flush=True)


def udpburst(src, dst, port, n):
    socks = []   # all kept open, so that every datagram has its own source port
    for _ in range(n):
        s = socket.socket(family(dst), socket.SOCK_DGRAM)
        s.bind((src, 0))
        s.sendto(b"x", (dst, port))
        socks.append(s)
    print("done", n, flush=True)


def sink(addr, port):
    ls = socket.socket(family(addr), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(16)
    print("ready", flush=True)
    while True:
        c, _ = ls.accept()
        while c.recv(1 << 20):
            pass
        c.close()


def blast(src, dst, port, mb):
    import time
    buf = b"x" * (1 << 20)
    s = socket.create_connection((dst, port), timeout=10, source_address=(src, 0))
    t = time.monotonic()
    for _ in range(mb):
        s.sendall(buf)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    print(mb / (time.monotonic() - t), flush=True)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "serve":
        serve(sys.argv[2], [int(p) for p in sys.argv[3:]])
    elif cmd == "probe":
        probe(sys.argv[2], float(sys.argv[3]), json.loads(sys.argv[4]))
    elif cmd == "storm":
        storm(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "udpburst":
        udpburst(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "sink":
        sink(sys.argv[2], int(sys.argv[3]))
    elif cmd == "blast":
        blast(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "stream":
        stream(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
