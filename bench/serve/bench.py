#!/usr/bin/env python3
"""ebee serve's own cost (docs/serve.md): with every collector running, its CPU (share of one
core) and RSS idle and under exec and connect storms; /metrics scrape time and size with many
BPF programs loaded (the prog collector reads them all; its families stay bounded), with the
behaviour graph filled past its bound (bench/graph/storm.py: FILL_EXECS processes and FILL_FILES
distinct files, no connects so that netwatch and tcp keep their size; 0 and 0 skip it) and with
many netwatch sources (loopback connects from NSOURCES distinct 127/8 addresses), idle and
with 20 of them sending a datagram a second; HTTP requests/s on /metrics, /api/tcp and
/api/prog from one keep-alive client, then from CLIENTS clients at once, on loopback. Ring
buffer drops (`lost`) per collector after the storms.
BEFORE=path/to/older/ebee runs beside it through the same windows and storms (CPU and RSS
compare within one run on a shared machine), both printed side by side;
CONFIG=file.yaml replaces the config below (BEFORE_CONFIG=file.yaml for the older one only).
usage: bench/serve/bench.py [SECONDS] [NPROGS] [NSOURCES] [CLIENTS]   (root; build/ebee)"""
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EBEE = os.environ.get("EBEE", os.path.join(ROOT, "build", "ebee"))
SECS = float(sys.argv[1]) if len(sys.argv) > 1 else 10
NPROGS = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
NSOURCES = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
CLIENTS = int(sys.argv[4]) if len(sys.argv) > 4 else 32
TICK = os.sysconf("SC_CLK_TCK")
FILL_EXECS = int(os.environ.get("FILL_EXECS", 20000))
FILL_FILES = int(os.environ.get("FILL_FILES", 80000))

CONFIG = """listen: 127.0.0.1:0
interval: 1s
collectors:
  netwatch: {interface: [lo]}
  tcp:
  prog:
  count:
  events: {type: [exec, connect]}
  guard:
  graph:
"""


def cpu_s(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK


def rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0


def window(pids, secs, load=None):
    """CPU (% of a core) and RSS of each daemon over one window, all measured at once."""
    stop = threading.Event()
    t = threading.Thread(target=load, args=(stop,), daemon=True) if load else None
    c0, w0 = [cpu_s(p) for p in pids], time.time()
    if t:
        t.start()
    time.sleep(secs)
    stop.set()
    if t:
        t.join()
    return [(100 * (cpu_s(p) - c) / (time.time() - w0), rss_mb(p)) for p, c in zip(pids, c0)]


def exec_storm(stop):
    while not stop.is_set():
        subprocess.run(["/bin/sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do /bin/true; done"])


def connect_storm(stop):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(128)
    port = srv.getsockname()[1]

    def acc():
        while not stop.is_set():
            try:
                srv.settimeout(0.2)
                c, _ = srv.accept()
                c.close()
            except OSError:
                pass
    a = threading.Thread(target=acc, daemon=True)
    a.start()
    while not stop.is_set():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            pass
    a.join()
    srv.close()


def http_rate(host, port, path, secs):
    c = http.client.HTTPConnection(host, port, timeout=10)
    n, size, t0, worst = 0, 0, time.time(), 0
    while time.time() - t0 < secs:
        t = time.time()
        c.request("GET", path)
        body = c.getresponse().read()
        worst = max(worst, time.time() - t)
        size = len(body)
        n += 1
    return n / (time.time() - t0), size, worst


def http_parallel(host, port, path, secs, n):
    """n keep-alive clients at once: total requests/s and the slowest request."""
    res = []

    def one():
        res.append(http_rate(host, port, path, secs))
    ts = [threading.Thread(target=one) for _ in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(r[0] for r in res), max(r[2] for r in res)


def many_sources(n, port):
    """One TCP connection from each of n distinct loopback addresses (127.1.0.0 and up) to a
    local listener: n netwatch sources on lo."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(4096)
    srv.setblocking(False)
    done = 0
    for i in range(n):
        c = socket.socket()
        c.bind((f"127.1.{i // 250}.{i % 250 + 1}", 0))
        try:
            c.connect(("127.0.0.1", port))
            done += 1
        except OSError:
            pass
        c.close()
        try:
            while True:
                srv.accept()[0].close()
        except BlockingIOError:
            pass
    srv.close()
    return done


def graph_state(host, port):
    """The graph's nodes and edges against its bound, and mem_bytes (/api/graph)."""
    c = http.client.HTTPConnection(host, port, timeout=30)
    c.request("GET", "/api/graph?top=1")
    r = c.getresponse()
    if r.status != 200:
        return "no graph"
    d = json.loads(r.read())
    return (f"{d['nodes_total']}/{d['max_nodes']} nodes, {d['edges_total']}/{d['max_edges']} "
            f"edges, mem_bytes {d['mem_bytes'] / 1e6:.1f} MB")


def fill_graph():
    """Distinct processes and files, more than the daemon's graph holds."""
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "graph", "storm.py"),
                        str(FILL_EXECS), str(FILL_FILES), "0", d, "0", str(FILL_FILES)],
                       stdout=subprocess.DEVNULL, check=True)


def trickle(stop):
    """20 of many_sources' addresses each sending a datagram to lo every second: a table of
    sources of which a few keep receiving a packet now and then (the port is closed: the
    ICMP errors are packets too)."""
    socks = []
    for i in range(20):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((f"127.1.{i // 250}.{i % 250 + 1}", 0))
        socks.append(s)
    while not stop.is_set():
        for s in socks:
            s.sendto(b"x", ("127.0.0.1", 18998))
        stop.wait(1)
    for s in socks:
        s.close()


def load_progs(n):
    """n tiny socket filter programs held by one bpftool-free python process? No: by a helper
    that loads them with bpf(2) directly (BPF_PROG_LOAD of 'r0 = 0; exit')."""
    code = r'''
import ctypes, os, struct, sys, time
libc = ctypes.CDLL(None, use_errno=True)
insns = struct.pack("<BBhi", 0xb7, 0, 0, 0) + struct.pack("<BBhi", 0x95, 0, 0, 0)
ibuf = ctypes.create_string_buffer(insns)
lic = ctypes.create_string_buffer(b"GPL")
fds = []
for i in range(int(sys.argv[1])):
    attr = struct.pack("<IIQQIIQI", 1, 2, ctypes.addressof(ibuf), ctypes.addressof(lic), 0, 0, 0, 0)
    abuf = ctypes.create_string_buffer(attr, 128)
    fd = libc.syscall(321, 5, abuf, 128)
    if fd < 0:
        break
    fds.append(fd)
print(len(fds), flush=True)
time.sleep(3600)
'''
    p = subprocess.Popen([sys.executable, "-c", code, str(n)], stdout=subprocess.PIPE, text=True)
    got = int(p.stdout.readline())
    return p, got


def lost(host, port):
    """Ring buffer drops so far, per collector that had any."""
    c = http.client.HTTPConnection(host, port, timeout=30)
    c.request("GET", "/api/collectors")
    d = json.loads(c.getresponse().read())
    return ", ".join(f"{x['name']} {x['lost']}" for x in d["collectors"] if x.get("lost")) or "none"


def measure(bins):
    """Every daemon runs through the same windows and storms at once (their CPU and RSS
    compare within the run, whatever else the machine does); the HTTP measures take turns."""
    res = [{} for _ in bins]
    with tempfile.TemporaryDirectory() as d:
        cfg = os.path.join(d, "ebee.yaml")
        open(cfg, "w").write(open(os.environ["CONFIG"]).read() if os.environ.get("CONFIG") else CONFIG)
        cfgs = [cfg] * len(bins)
        if os.environ.get("BEFORE_CONFIG"):
            cfgs[0] = os.environ["BEFORE_CONFIG"]
        es, addrs = [], []
        try:
            for b, c in zip(bins, cfgs):
                es.append(subprocess.Popen([b, "serve", "--json", "-c", c], stdout=subprocess.PIPE,
                                           stderr=subprocess.DEVNULL, text=True))
                url = json.loads(es[-1].stdout.readline())["url"]
                host, port = url.split("//")[1].rstrip("/").rsplit(":", 1)
                addrs.append((host, int(port)))
            pids = [e.pid for e in es]

            def each(key, vals):
                for r, v in zip(res, vals):
                    r[key] = v

            def rate(key, path):
                for r, (host, port) in zip(res, addrs):
                    rps, size, worst = http_rate(host, port, path, SECS / 2)
                    r[key] = {"req_per_s": round(rps), "bytes": size, "worst_ms": round(worst * 1000, 1)}
            time.sleep(2)
            each("idle: cpu %, rss MB", window(pids, SECS))
            each("exec storm: cpu %, rss MB", window(pids, SECS, exec_storm))
            each("connect storm: cpu %, rss MB", window(pids, SECS, connect_storm))
            each("ring drops after the storms", [lost(h, p) for h, p in addrs])
            if FILL_EXECS or FILL_FILES:
                fill_graph()
                time.sleep(2)
                each("graph filled: cpu %, rss MB", window(pids, SECS))
                each("graph filled: size", [graph_state(h, p) for h, p in addrs])
                each("ring drops after the fill", [lost(h, p) for h, p in addrs])
            for path in ("/metrics", "/api/tcp", "/api/prog?top=20", "/api/collectors"):
                rate(f"http {path}", path)
            for r, (host, port) in zip(res, addrs):
                rps, worst = http_parallel(host, port, "/metrics", SECS / 2, CLIENTS)
                r[f"http /metrics, {CLIENTS} clients at once"] = {"req_per_s": round(rps),
                                                                   "worst_ms": round(worst * 1000, 1)}
            for r, (host, port), pid in zip(res, addrs, pids):
                c0, w0 = cpu_s(pid), time.time()
                rps, worst = http_parallel(host, port, "/api/collectors", SECS / 2, CLIENTS)
                r[f"http /api/collectors, {CLIENTS} clients at once"] = {
                    "req_per_s": round(rps), "worst_ms": round(worst * 1000, 1),
                    "cpu_pct": round(100 * (cpu_s(pid) - c0) / (time.time() - w0), 1)}
            got = many_sources(NSOURCES, 18999)
            time.sleep(2.5)    # two refreshes
            for r, (host, port) in zip(res, addrs):
                c = http.client.HTTPConnection(host, port, timeout=30)
                c.request("GET", "/api/netwatch?top=1")
                srcs = json.loads(c.getresponse().read())["totals"]["sources"]
                r["netwatch sources"] = f"{srcs} ({got} connects from distinct addresses)"
            each("idle with the sources: cpu %, rss MB", window(pids, SECS))
            each("20 of the sources sending 1/s: cpu %, rss MB", window(pids, SECS, trickle))
            rate("metrics with the sources", "/metrics")
            rate("api/netwatch?top=0, all sources", "/api/netwatch?top=0")
            holder, got = load_progs(NPROGS)
            each("extra BPF programs loaded", [got] * len(bins))
            try:
                time.sleep(2.5)    # two prog samples
                rate("metrics with the extra programs", "/metrics")
                rate("api/prog?top=0, all programs", "/api/prog?top=0")
                each("idle with the extra programs: cpu %, rss MB", window(pids, SECS))
            finally:
                holder.kill()
                holder.wait()
        finally:
            for e in es:
                e.terminate()
            for e in es:
                e.wait(timeout=30)
    return res


def show(v):
    if isinstance(v, tuple):
        v = tuple(round(x, 2) for x in v)
    return str(round(v, 2) if isinstance(v, float) else v)


def main():
    bins = [os.environ["BEFORE"], EBEE] if os.environ.get("BEFORE") else [EBEE]
    res = measure(bins)
    if len(res) == 1:
        for k, v in res[0].items():
            print(f"{k:48} {show(v)}")
        return
    print(f"{'':48} {'before':40} after")
    for k in res[1]:
        print(f"{k:48} {show(res[0].get(k, '-')):40} {show(res[1][k])}")


if __name__ == "__main__":
    main()
