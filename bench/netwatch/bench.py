#!/usr/bin/env python3
"""netwatch benchmark: packets/s through a veth pair with and without netwatch's TC program
(TCX link and clsact filter), BPF ns per packet from the kernel's run-time statistics (one
busy source, and 100k distinct sources), and `ebee serve`'s RSS and CPU with 100k sources.

Two namespaces of our own (ebnwb<pid>tx, ebnwb<pid>rx) joined by a veth pair; blast.c sends
64-byte UDP datagrams with sendmmsg from tx to a socket in rx that is never read (the packets
cross the whole receive path up to the socket). Configurations run in rotated order within
each repetition; ratios are taken within a repetition (the machine is shared and noisy).

usage: bench/netwatch/bench.py [--packets N] [--reps N] [--sources N]   (root; run from anywhere)
"""
import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
EBEE = os.path.abspath(os.environ.get("EBEE", os.path.join(ROOT, "build", "ebee")))
P = f"ebnwb{os.getpid() % 100000}"
TX, RX = P + "tx", P + "rx"
TX_IF, RX_IF = "eth0", P + "r"
TX_IP, RX_IP, PORT = "10.222.0.1", "10.222.0.2", 9000
BLAST = os.path.join("/tmp", f"{P}-blast")


def sh(*a, ns=None, check=True, **kw):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + [str(x) for x in a]
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and p.returncode:
        sys.exit(f"bench: {' '.join(cmd)} failed: {p.stderr.strip()}")
    return p


def setup():
    teardown()
    sh("gcc", "-O2", "-o", BLAST, os.path.join(HERE, "blast.c"))
    for ns in (TX, RX):
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "-n", RX, "link", "add", RX_IF, "type", "veth", "peer", "name", TX_IF, "netns", TX)
    for ns, dev, ip in ((TX, TX_IF, TX_IP), (RX, RX_IF, RX_IP)):
        sh("ip", "-n", ns, "addr", "add", ip + "/16", "dev", dev)
        sh("ip", "-n", ns, "link", "set", dev, "up")
    mac = json.loads(sh("ip", "-n", RX, "-j", "link", "show", RX_IF).stdout)[0]["address"]
    sh("ip", "-n", TX, "neigh", "replace", RX_IP, "lladdr", mac, "dev", TX_IF, "nud", "permanent")
    # A socket that is never read: datagrams traverse the receive path and are dropped there.
    sink = subprocess.Popen(["ip", "netns", "exec", RX, "python3", "-c",
                             "import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                             f"s.bind(('{RX_IP}',{PORT}))\nprint('ok',flush=True)\ntime.sleep(86400)"],
                            stdout=subprocess.PIPE, text=True)
    sink.stdout.readline()
    return sink


def teardown():
    for ns in (TX, RX):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def blast(n, sources=0):
    out = sh(BLAST, RX_IP, PORT, n, sources, ns=TX).stdout
    return json.loads(out)


def prog_ids(pid):
    ids = set()
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            for line in open(f"/proc/{pid}/fdinfo/{fd}"):
                if line.startswith("prog_id:"):
                    ids.add(int(line.split()[1]))
        except OSError:
            pass
    return ids


class Ebee:
    def __init__(self, *args):
        self.p = subprocess.Popen(["ip", "netns", "exec", RX, EBEE] + [str(a) for a in args],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 20
        while time.time() < deadline and len(prog_ids(self.p.pid)) < 2:
            if self.p.poll() is not None:
                sys.exit(f"bench: ebee {args} exited: {self.p.stderr.read()}")
            time.sleep(0.05)
        time.sleep(0.5)
        self.ids = prog_ids(self.p.pid)

    def bpf_stats(self):
        runs = ns = 0
        for i in self.ids:
            j = json.loads(subprocess.run(["bpftool", "-j", "prog", "show", "id", str(i)],
                                          capture_output=True, text=True).stdout)
            runs += j.get("run_cnt", 0)
            ns += j.get("run_time_ns", 0)
        return runs, ns

    def stop(self):
        self.p.send_signal(2)
        out, err = self.p.communicate(timeout=30)
        if self.p.returncode:
            sys.exit(f"bench: ebee exited {self.p.returncode}: {err}")
        return out


def enable_stats():
    """BPF_ENABLE_STATS: run-time stats on while the fd is open (the sysctl is left alone)."""
    libc = ctypes.CDLL(None, use_errno=True)
    attr = (ctypes.c_uint32 * 32)()          # bpf_attr.enable_stats.type = BPF_STATS_RUN_TIME
    fd = libc.syscall(321, 32, ctypes.byref(attr), 4)   # x86_64 __NR_bpf, BPF_ENABLE_STATS
    if fd < 0:
        sys.exit(f"bench: BPF_ENABLE_STATS: {os.strerror(ctypes.get_errno())}")
    return fd


def cpu_ticks(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])


def status_kb(pid, key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def http_get(url):
    code = ("import urllib.request,time,sys\nt=time.time()\n"
            f"b=urllib.request.urlopen({url!r},timeout=30).read()\n"
            "sys.stdout.write('%f %d' % (time.time()-t, len(b)))")
    t, n = sh("python3", "-c", code, ns=RX).stdout.split()
    return float(t) * 1000, int(n)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--packets", type=int, default=2_000_000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--sources", type=int, default=100_000)
    a = ap.parse_args()
    res = {"packets": a.packets, "reps": a.reps, "sources": a.sources, "kernel": os.uname().release}
    sink = setup()
    try:
        blast(200_000)   # warm-up
        # "tcx-parse-only": --port 1 (nothing goes there) stops the program after parsing,
        # before any map work: the cost of the hook and the parser alone.
        configs = ["none", "tcx", "tc", "tcx-parse-only"]
        extra = {"tcx": [], "tc": [], "tcx-parse-only": ["--port", "1"]}
        runs = {c: [] for c in configs}
        ratio = {c: [] for c in configs[1:]}
        for r in range(a.reps):
            k = r % len(configs)
            order = configs[k:] + configs[:k]
            this = {}
            for c in order:
                e = Ebee("netwatch", "-i", RX_IF, "--attach", c.split("-")[0], "--interval", "3600",
                         *extra[c]) if c != "none" else None
                this[c] = blast(a.packets)
                if e:
                    e.stop()
            for c in configs:
                runs[c].append(this[c])
            for c in configs[1:]:
                ratio[c].append(this[c]["pps_cpu"] / this["none"]["pps_cpu"])
            print(f"rep {r + 1}: " + "  ".join(
                f"{c} {this[c]['pps']:,.0f} pps ({this[c]['pps_cpu']:,.0f}/cpu-s)" for c in configs), flush=True)
        res["runs"] = runs
        res["pps"] = {c: statistics.median(x["pps"] for x in v) for c, v in runs.items()}
        res["pps_cpu"] = {c: statistics.median(x["pps_cpu"] for x in v) for c, v in runs.items()}
        res["pps_ratio"] = {c: statistics.median(v) for c, v in ratio.items()}
        res["pps_ratio_range"] = {c: [min(v), max(v)] for c, v in ratio.items()}
        # Noise here only ever slows a run down: the best run of each configuration is the
        # closest to its uncontended cost.
        best = {c: max(x["pps_cpu"] for x in v) for c, v in runs.items()}
        res["pps_cpu_best"] = best
        res["pps_ratio_best"] = {c: best[c] / best["none"] for c in configs[1:]}

        tr = os.path.join("/tmp", f"{P}-testrun")
        sh("gcc", "-O2", "-I", os.path.join(ROOT, "src"), "-I", os.path.join(ROOT, "build", "skel"),
           "-o", tr, os.path.join(HERE, "testrun.c"), "-lbpf", "-lelf", "-lz")
        # The two vCPUs are shared with other work: a busy sibling doubles the figure, so take
        # several processes and report the best and the median.
        runs = []
        for _ in range(7):
            runs.append(json.loads(sh(tr).stdout)["test_run_ns"])
            time.sleep(0.3)
        os.unlink(tr)
        res["test_run_ns"] = {"min": min(runs), "median": statistics.median(runs), "all": runs}
        print(f"BPF_PROG_TEST_RUN: {min(runs)} ns/packet best, {statistics.median(runs)} median "
              f"of {runs} (one source, no stats overhead)", flush=True)

        stats_fd = enable_stats()
        try:
            res["bpf_ns_per_packet"] = {}
            for c in ("tcx", "tc"):
                for label, srcs, n in (("1 source", 0, a.packets), (f"{a.sources} sources", a.sources, a.packets)):
                    e = Ebee("netwatch", "-i", RX_IF, "--attach", c, "--interval", "3600",
                             "--max-sources", max(131072, a.sources))
                    r0, t0 = e.bpf_stats()
                    blast(n, srcs)
                    r1, t1 = e.bpf_stats()
                    e.stop()
                    res["bpf_ns_per_packet"][f"{c}, {label}"] = {"runs": r1 - r0,
                                                                 "ns": (t1 - t0) / max(1, r1 - r0)}
                    print(f"BPF {c}, {label}: {(t1 - t0) / max(1, r1 - r0):.1f} ns/packet over {r1 - r0} runs", flush=True)
        finally:
            os.close(stats_fd)

        # serve with many sources: RSS, CPU per refresh, request times.
        e = Ebee("serve", "--json", "-i", RX_IF, "--listen", "127.0.0.1:0", "--interval", "1",
                 "--max-sources", max(131072, a.sources))
        url = json.loads(e.p.stdout.readline())["url"]
        rss0 = status_kb(e.p.pid, "VmRSS")
        blast(a.sources * 3, a.sources)
        time.sleep(2.5)
        t0, c0 = time.time(), cpu_ticks(e.p.pid)
        time.sleep(10)
        cpu = (cpu_ticks(e.p.pid) - c0) / os.sysconf("SC_CLK_TCK") / (time.time() - t0)
        api_ms, api_bytes = http_get(url + "api/netwatch")
        met_ms, met_bytes = http_get(url + "metrics")
        sources = json.loads(sh("python3", "-c", f"import urllib.request;print(urllib.request.urlopen('{url}api/netwatch?top=1').read().decode())", ns=RX).stdout)["totals"]["sources"]
        res["serve"] = {"sources": sources, "rss_kb_idle": rss0, "rss_kb": status_kb(e.p.pid, "VmRSS"),
                        "hwm_kb": status_kb(e.p.pid, "VmHWM"), "cpu_fraction": cpu,
                        "api_ms": api_ms, "api_bytes": api_bytes, "metrics_ms": met_ms,
                        "metrics_bytes": met_bytes}
        e.stop()
        print(f"serve with {sources} sources: RSS {res['serve']['rss_kb'] / 1024:.1f} MiB "
              f"(idle {rss0 / 1024:.1f}, peak {res['serve']['hwm_kb'] / 1024:.1f}), CPU {cpu * 100:.1f}% "
              f"of a core refreshing every 1 s; /api/netwatch {api_ms:.1f} ms ({api_bytes} B), "
              f"/metrics {met_ms:.1f} ms ({met_bytes} B)", flush=True)
    finally:
        sink.kill()
        teardown()
        try:
            os.unlink(BLAST)
        except OSError:
            pass

    print("\nmedian pps (wall): " + ", ".join(f"{c} {v:,.0f}" for c, v in res["pps"].items()))
    print("median pps per CPU-second of the sender (the receive path runs in its context): " +
          ", ".join(f"{c} {v:,.0f}" for c, v in res["pps_cpu"].items()))
    for c, v in res["pps_ratio"].items():
        lo, hi = res["pps_ratio_range"][c]
        print(f"throughput per CPU with netwatch ({c}) / without, same repetition: {v:.3f} "
              f"[{lo:.3f}-{hi:.3f}] = {100 * (1 - v):.1f}% loss; best runs: "
              f"{res['pps_ratio_best'][c]:.3f} = {100 * (1 - res['pps_ratio_best'][c]):.1f}% loss")
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    path = os.path.join(ROOT, "bench", "results", time.strftime("netwatch-%Y%m%dT%H%M%S.json"))
    with open(path, "w") as f:
        json.dump(res, f, indent=1)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
