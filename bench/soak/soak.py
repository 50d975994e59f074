#!/usr/bin/env python3
"""Soak of the daemon (not in CI): `ebee serve --collectors netwatch,tcp,prog` in a network
namespace of its own, fed for MINUTES by a bounded load (UDP from a client namespace over a
veth pair at a fixed rate, from a rotating set of source addresses; TCP connections on the
server namespace's loopback, and HTTP requests to ebee itself), sampled every STEP seconds:
RSS, open fds, threads, entries of ebee's BPF maps, and the lost/missed counters the
daemon serves. Prints the curve and a verdict (flat or not); exits 1 if RSS or fds grew past
bounds or a map went past its max_entries.

  bench/soak/soak.py [MINUTES=30] [STEP=15] [BINARY=build/ebee]
Everything it creates (namespaces, veth) is removed at the end, whatever happened."""
import json
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MINUTES = float(sys.argv[1]) if len(sys.argv) > 1 else 30
STEP = float(sys.argv[2]) if len(sys.argv) > 2 else 15
EBEE = os.path.abspath(sys.argv[3] if len(sys.argv) > 3 else os.path.join(ROOT, "build", "ebee"))
TAG = f"ebsoak{os.getpid() % 10000}"
SRV, CLI = f"{TAG}s", f"{TAG}c"
PORT = 18700
UDP_RATE = 2000          # datagrams per second, bounded
SOURCES = 5000           # distinct source addresses, cycled (netwatch's table is bounded)
TCP_RATE = 50            # connections per second


def sh(*a, ns=None, check=True):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + [str(x) for x in a]
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def setup():
    sh("ip", "netns", "add", SRV)
    sh("ip", "netns", "add", CLI)
    sh("ip", "link", "add", f"{TAG}a", "netns", SRV, "type", "veth", "peer", "name", f"{TAG}b",
       "netns", CLI)
    sh("ip", "addr", "add", "10.251.0.1/16", "dev", f"{TAG}a", ns=SRV)
    sh("ip", "addr", "add", "10.251.0.2/16", "dev", f"{TAG}b", ns=CLI)
    for ns, dev in ((SRV, f"{TAG}a"), (CLI, f"{TAG}b")):
        sh("ip", "link", "set", "lo", "up", ns=ns)
        sh("ip", "link", "set", dev, "up", ns=ns)
    # the client sends from many addresses of its /16 (netwatch counts per source)
    sh("ip", "route", "add", "10.251.0.0/16", "dev", f"{TAG}a", ns=SRV, check=False)


def cleanup():
    for ns in (SRV, CLI):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


UDP_SENDER = r"""
import socket, struct, sys, time, random
rate, sources = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
i = 0
t0 = time.monotonic()
while True:
    src = "10.251.%d.%d" % (2 + (i % sources) // 250, 2 + (i % sources) % 250)
    payload = b"x" * 64
    udp = struct.pack('!HHHH', 40000, 9, 8 + len(payload), 0) + payload
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton("10.251.0.1"))
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    s.sendto(ip + udp, ("10.251.0.1", 0))
    i += 1
    ahead = i / rate - (time.monotonic() - t0)
    if ahead > 0:
        time.sleep(ahead)
"""

TCP_LOAD = r"""
import socket, sys, threading, time
rate = int(sys.argv[1])
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0)); ls.listen(512); port = ls.getsockname()[1]
def serve():
    while True:
        c, _ = ls.accept(); c.recv(16); c.sendall(b"y"); c.close()
threading.Thread(target=serve, daemon=True).start()
i = 0; t0 = time.monotonic()
while True:
    c = socket.create_connection(("127.0.0.1", port)); c.sendall(b"x"); c.recv(16); c.close()
    i += 1
    ahead = i / rate - (time.monotonic() - t0)
    if ahead > 0:
        time.sleep(ahead)
"""


def proc_stats(pid):
    st = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            st[k] = v.strip()
    return {"rss_kb": int(st["VmRSS"].split()[0]), "hwm_kb": int(st["VmHWM"].split()[0]),
            "threads": int(st["Threads"]), "fds": len(os.listdir(f"/proc/{pid}/fd"))}


def map_entries(pid):
    """{name: (entries, max_entries)} of the BPF maps ebee holds (hash/LRU ones)."""
    ids = set()
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                m = re.search(r"^map_id:\s+(\d+)", f.read(), re.M)
                if m:
                    ids.add(int(m.group(1)))
        except OSError:
            pass
    out = {}
    for i in sorted(ids):
        info = json.loads(subprocess.run(["bpftool", "-j", "map", "show", "id", str(i)],
                                         capture_output=True, text=True).stdout or "{}")
        if "hash" not in info.get("type", ""):
            continue
        dump = subprocess.run(["bpftool", "-j", "map", "dump", "id", str(i)], capture_output=True,
                              text=True).stdout
        try:
            n = len(json.loads(dump))
        except json.JSONDecodeError:
            n = -1
        out[info.get("name", str(i))] = (n, info.get("max_entries"))
    return out


def get(path):
    """A request to the daemon, from inside its namespace (it listens on its own loopback)."""
    return subprocess.run(["ip", "netns", "exec", SRV, "curl", "-sf", "--max-time", "10",
                           f"http://127.0.0.1:{PORT}{path}"], check=True, capture_output=True,
                          text=True).stdout


def counters():
    """lost/missed (and events) per collector, from each /api/NAME document that has them."""
    out = {}
    for name in ("netwatch", "tcp", "prog"):
        try:
            doc = json.loads(get(f"/api/{name}"))
        except (json.JSONDecodeError, subprocess.CalledProcessError):
            continue
        for k in ("events", "lost", "missed"):
            if isinstance(doc.get(k), int):
                out[f"{name}_{k}"] = doc[k]
    return out


def main():
    cleanup()
    setup()
    procs = []
    try:
        e = subprocess.Popen(["ip", "netns", "exec", SRV, EBEE, "serve", "--listen",
                              f"127.0.0.1:{PORT}", "-i", f"{TAG}a", "--collectors", "netwatch,tcp,prog",
                              "--interval", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        procs.append(e)
        time.sleep(3)
        assert e.poll() is None, e.communicate()
        procs.append(subprocess.Popen(["ip", "netns", "exec", CLI, sys.executable, "-c",
                                       UDP_SENDER, str(UDP_RATE), str(SOURCES)]))
        procs.append(subprocess.Popen(["ip", "netns", "exec", SRV, sys.executable, "-c",
                                       TCP_LOAD, str(TCP_RATE)]))
        print(f"soak: {MINUTES} min, serve --collectors netwatch,tcp,prog; UDP {UDP_RATE}/s from "
              f"{SOURCES} sources over a veth, TCP {TCP_RATE} conn/s on loopback, HTTP every "
              f"{STEP}s", flush=True)
        print(f"{'t_s':>6} {'rss_kb':>7} {'hwm_kb':>7} {'fds':>4} {'thr':>3}  maps (entries/max)  "
              f"lost/missed", flush=True)
        samples = []
        t0 = time.monotonic()
        while time.monotonic() - t0 < MINUTES * 60:
            assert e.poll() is None, "ebee serve exited"
            for p in ("/api/netwatch", "/api/tcp", "/api/prog", "/metrics", "/healthz"):
                get(p)
            s = proc_stats(e.pid)
            s["t"] = round(time.monotonic() - t0)
            s["maps"] = map_entries(e.pid)
            s["cnt"] = counters()
            samples.append(s)
            maps = " ".join(f"{k}={v[0]}/{v[1]}" for k, v in sorted(s["maps"].items()))
            cnt = " ".join(f"{k}={v}" for k, v in sorted(s["cnt"].items()))
            print(f"{s['t']:>6} {s['rss_kb']:>7} {s['hwm_kb']:>7} {s['fds']:>4} {s['threads']:>3}  "
                  f"{maps}  {cnt or 'none'}", flush=True)
            time.sleep(STEP)
        # verdict: after a warm-up of a quarter of the run, RSS and fds must stay flat
        warm = [s for s in samples if s["t"] >= MINUTES * 15]
        ok = True
        if len(warm) >= 2:
            drss = warm[-1]["rss_kb"] - warm[0]["rss_kb"]
            dfds = warm[-1]["fds"] - warm[0]["fds"]
            print(f"after warm-up: RSS {warm[0]['rss_kb']} -> {warm[-1]['rss_kb']} KB "
                  f"({drss:+d}), fds {warm[0]['fds']} -> {warm[-1]['fds']} ({dfds:+d}), "
                  f"max RSS {max(s['rss_kb'] for s in warm)} KB")
            ok &= drss <= 512 and dfds <= 0
        for s in samples:
            for k, (n, mx) in s["maps"].items():
                if mx and n > mx:
                    print(f"map {k}: {n} entries > max {mx} at t={s['t']}")
                    ok = False
        print("soak:", "flat" if ok else "NOT flat")
        return 0 if ok else 1
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                # SIGTERM: a background job (nohup) inherits SIGINT ignored, and ebee honours that
                p.send_signal(15 if p is procs[0] else 9)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
        if procs:
            out, err = procs[0].communicate()
            print("ebee serve exit:", procs[0].returncode, err.strip().splitlines()[-3:])
        cleanup()


if __name__ == "__main__":
    sys.exit(main())
