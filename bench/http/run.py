#!/usr/bin/env python3
"""ebee http benchmark: a Go net/http server (the integration tests' server,
tests/integration/http_util.py) at a paced request rate, untraced and traced by `ebee http`
(a JSON line per request, and --summary), beside bpftrace counting the same function's entries
(net/http.serverHandler.ServeHTTP). Figures per configuration: paced throughput and p50/p99
latency as the client sees them, server CPU per request, BPF ns per request, ebee's own
user-space CPU per request, events got/expected.

Uses bench/uprobe/loadgen.c (bounded: --n requests on 8 keep-alive connections, paced) and the
uprobe benchmark's helpers; only 127.0.0.1. BPF stats (BPF_ENABLE_STATS, an fd) are on in odd
repetitions only; latency and throughput come from the even ones.

--before PATH adds the same two ebee configurations run with another ebee binary (say, one
built from the previous commit), interleaved with this one's in every repetition: a before/after
comparison under the same machine state. --no-bpftrace leaves bpftrace out.

Usage: bench/http/run.py [--n 20000] [--rate 5000] [--reps 4] [--before EBEE] [--no-bpftrace]
                         [--json FILE]
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "bench", "uprobe"))
from http_util import GO_HTTP_SERVER  # noqa: E402
from uprobe_util import free_port  # noqa: E402
from run import Tracer, cpu_ticks, enable_stats, prog_stats  # noqa: E402  (bench/uprobe)

EBEE = os.environ.get("EBEE", os.path.join(ROOT, "build", "ebee"))
BT = 'uprobe:{bin}:"net/http.serverHandler.ServeHTTP" {{ @n = count(); }}\n'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000, help="requests per run")
    ap.add_argument("--rate", type=float, default=5000, help="paced requests/s")
    ap.add_argument("--conns", type=int, default=8)
    ap.add_argument("--reps", type=int, default=4)
    ap.add_argument("--json", help="write all figures here")
    ap.add_argument("--before", help="another ebee binary to compare with, side by side")
    ap.add_argument("--no-bpftrace", action="store_true")
    a = ap.parse_args()
    if os.geteuid():
        sys.exit("bench: needs root")

    tmp = tempfile.mkdtemp(prefix="ebee-httpbench-")
    env = dict(os.environ, HOME=tmp, GOCACHE=os.path.join(tmp, "gocache"), GO111MODULE="off",
               CGO_ENABLED="0")
    with open(os.path.join(tmp, "server.go"), "w") as f:
        f.write(GO_HTTP_SERVER)
    srv_bin = os.path.join(tmp, "httpsrv")
    lg = os.path.join(tmp, "loadgen")
    subprocess.run(["go", "build", "-o", srv_bin, "server.go"], cwd=tmp, env=env, check=True)
    subprocess.run(["gcc", "-O2", "-pthread", "-o", lg,
                    os.path.join(ROOT, "bench", "uprobe", "loadgen.c")], check=True)
    port = free_port()
    srv = subprocess.Popen([srv_bin, str(port)], stdout=subprocess.PIPE, text=True)
    assert srv.stdout.readline().strip() == "ready"
    bt_file = os.path.join(tmp, "bench.bt")
    with open(bt_file, "w") as f:
        f.write(BT.format(bin=srv_bin))
    pid = str(srv.pid)
    configs = {
        "untraced": None,
        "ebee http": ["-j", "http", "-p", pid],
        "ebee http --summary": ["-j", "http", "--summary", "-p", pid],
        "bpftrace count": ["bpftrace", bt_file],
    }
    if a.no_bpftrace:
        del configs["bpftrace count"]
    if a.before:
        configs["before: ebee http"] = [a.before] + configs["ebee http"]
        configs["before: ebee http --summary"] = [a.before] + configs["ebee http --summary"]
    keys = ("rps", "p50_us", "p99_us", "cpu_us", "ebee_us", "bpf_ns_req", "runs_req", "events",
            "lat_x",
            "rps_x", "cpu_x")
    res = {c: {k: [] for k in keys} for c in configs}
    stats_fd = tr = None
    try:
        subprocess.run([lg, str(port), "5000", str(a.conns), "0", "warm", "/ok/"], check=True,
                       capture_output=True)
        names = list(configs)
        for rep in range(a.reps):
            stats_on = rep % 2 == 1
            if stats_on and stats_fd is None:
                stats_fd = enable_stats()
            elif not stats_on and stats_fd is not None:
                os.close(stats_fd)
                stats_fd = None
            order = names[rep % len(names):] + names[:rep % len(names)]
            for cfg in order:
                tr = None
                out = os.path.join(tmp, f"out-{rep}-{names.index(cfg)}")
                if cfg == "bpftrace count":
                    tr = Tracer(cfg, configs[cfg], out, bt=True)
                elif cfg.startswith("before: "):
                    tr = Tracer(cfg, configs[cfg], out)
                elif configs[cfg]:
                    tr = Tracer(cfg, [EBEE] + configs[cfg], out)
                if tr:
                    tr.start()
                    s0, u0 = prog_stats(tr.proc.pid), cpu_ticks(tr.proc.pid)
                c0 = cpu_ticks(srv.pid)
                p = json.loads(subprocess.run([lg, str(port), str(a.n), str(a.conns), str(a.rate),
                                               f"r{rep}x", "/ok/"], capture_output=True,
                                              text=True, check=True).stdout)
                c1 = cpu_ticks(srv.pid)
                d = res[cfg]
                tick_us = 1e6 / os.sysconf("SC_CLK_TCK")
                if tr:
                    s1, u1 = prog_stats(tr.proc.pid), cpu_ticks(tr.proc.pid)
                    time.sleep(0.3)
                    tr.stop()
                    if srv.poll() is not None:
                        raise RuntimeError(f"the server died under {cfg}")
                    if stats_on:
                        d["bpf_ns_req"].append((s1[0] - s0[0]) / a.n)
                        # program runs = probe hits per request (a single-stepped one traps
                        # twice but runs once)
                        d["runs_req"].append((s1[1] - s0[1]) / a.n)
                    else:
                        d["ebee_us"].append((u1 - u0) * tick_us / a.n)
                    if cfg.endswith("ebee http"):
                        with open(out) as f:
                            d["events"].append(sum(1 for l in f if '"duration_ns"' in l))
                if not stats_on:
                    d["rps"].append(p["rps"])
                    d["p50_us"].append(p["p50_us"])
                    d["p99_us"].append(p["p99_us"])
                    d["cpu_us"].append((c1 - c0) * tick_us / a.n)
                print(f"rep {rep} {'stats' if stats_on else '     '} {cfg:28s} {p['rps']:8.0f} "
                      f"req/s p99 {p['p99_us']:8.1f} us", file=sys.stderr)
    finally:
        if tr is not None and tr.proc.poll() is None:
            tr.stop()
        if stats_fd is not None:
            os.close(stats_fd)
        srv.terminate()
        srv.wait()
        alive = srv.returncode in (-signal.SIGTERM, 0)

    b = res["untraced"]
    for c, d in res.items():   # ratios within a repetition, then the median
        d["rps_x"] = [x / y for x, y in zip(d["rps"], b["rps"])]
        d["lat_x"] = [x / y for x, y in zip(d["p99_us"], b["p99_us"])]
        d["cpu_x"] = [x / y for x, y in zip(d["cpu_us"], b["cpu_us"])]
    med = {c: {k: (statistics.median(v) if v else None) for k, v in d.items() if k != "events"}
           for c, d in res.items()}
    print(f"ebee http benchmark: Go net/http server paced at {a.rate:.0f} req/s, {a.n} requests "
          f"per run, {a.conns} keep-alive connections, {a.reps} reps (medians; x = traced / "
          f"untraced within a rep)")
    print(f"{'config':29s} {'req/s':>7s} {'x':>6s} {'p50 us':>7s} {'p99 us':>7s} {'x':>5s} "
          f"{'srv cpu us/req':>14s} {'x':>5s} {'BPF ns/req':>10s} {'hits/req':>8s} {'ebee us/req':>11s} "
          f"{'events got/exp':>15s}")

    def f(v, fmt):
        return format(v, fmt) if v is not None else "-".rjust(int(fmt.split(".")[0]))
    for c, m in med.items():
        ev = res[c]["events"]
        evs = f"{sum(ev)}/{len(ev) * a.n}" if ev else "-"
        print(f"{c:29s} {f(m['rps'], '7.0f')} {f(m['rps_x'], '6.3f')} {f(m['p50_us'], '7.1f')} "
              f"{f(m['p99_us'], '7.1f')} {f(m['lat_x'], '5.2f')} {f(m['cpu_us'], '14.1f')} "
              f"{f(m['cpu_x'], '5.2f')} {f(m['bpf_ns_req'], '10.0f')} {f(m['runs_req'], '8.2f')} "
              f"{f(m['ebee_us'], '11.2f')} {evs:>15s}")
    print(f"server alive to the end: {alive}")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"args": vars(a), "runs": res, "medians": med}, fh, indent=1)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
