#!/usr/bin/env python3
"""ebee http benchmark: a Go net/http server (the integration tests' server,
tests/integration/http_util.py) at a paced request rate, untraced and traced by `ebee http`
(a JSON line per request, and --summary), beside bpftrace counting the same function's entries
(net/http.serverHandler.ServeHTTP).

The latency verdict comes from many short windows (--windows of --window-s seconds): in every
window each configuration runs once, in an order rotated from window to window, and each
traced configuration's p99 is divided by the untraced p99 of the same window. A second untraced
configuration ("untraced again", an A/A control) shows what the ratio does when nothing
changes: the noise floor of the machine, which is shared. Reported per configuration: the median
of the per-window ratios, its quartiles and a ~95 % confidence interval of the median (order
statistics), and a verdict against --target (1.1): "met" when the interval is at or below it,
"not met" when above, "within noise" when it straddles it.

BPF ns and probe hits per request come from a separate cost phase (--stats-windows windows,
BPF_ENABLE_STATS on, every traced configuration once per window, rotated), so that the stats'
own cost is not in the latency windows. Server CPU per request (utime + stime of the server: the
traps and the BPF programs run in its context) and ebee's own CPU per request come from both
phases (the cost phase's are marked).

--before PATH adds the same two ebee configurations run with another ebee binary (say, main's
build) to the cost phase, interleaved with this one's: an A/B of BPF ns and CPU per request
under the same machine state (--before-latency puts them in the latency windows too; every
configuration there costs a tracer start and stop per window).

Uses bench/uprobe/loadgen.c (8 keep-alive connections, paced; a request's latency is from its
send to its whole response) and the uprobe benchmark's helpers; only 127.0.0.1.

Usage: bench/http/run.py [--windows 20] [--window-s 5] [--rate 5000] [--before EBEE]
                         [--no-bpftrace] [--no-control] [--only CONFIG] [--json FILE]
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
TICK_US = 1e6 / os.sysconf("SC_CLK_TCK")


def median_ci(v):
    """(q1, q3, lo, hi): quartiles and a ~95 % confidence interval of the median from order
    statistics (binomial: ranks n/2 -+ 0.98 sqrt(n))."""
    s = sorted(v)
    n = len(s)
    if n < 4:
        return s[0], s[-1], s[0], s[-1]
    q = statistics.quantiles(s, n=4)
    k = int(0.98 * n ** 0.5 + 0.5)
    lo, hi = max(0, (n + 1) // 2 - 1 - k), min(n - 1, n // 2 + k)
    return q[0], q[2], s[lo], s[hi]


def verdict(lo, hi, target):
    if hi <= target:
        return "met"
    if lo > target:
        return "NOT met"
    return "within noise"


# the summary's reasons for a request not reported (src/http/http.c, docs/http.md Accounting)
DROP_KEYS = ("lost", "faults", "unfinished", "unmatched", "unstarted", "no_slot")


def accounting(out, sent, hits):
    """Where each of the `sent` requests of a window went, from ebee's own output: reported (a
    line, or counted in a route row with --summary), dropped per reason (the closing summary),
    still in flight at the end, and what none of these explains."""
    lines, routed, summ = 0, 0, {}
    with open(out) as f:
        for l in f:
            if '"duration_ns"' in l:
                lines += 1
                continue
            d = json.loads(l) if l.startswith("{") else {}
            if d.get("type") == "route":
                routed += d["requests"]
            elif d.get("type") == "summary":
                summ = d
    a = {"sent": sent, "reported": lines or routed, "lines": lines,
         "in_flight": summ.get("in_flight", 0)}
    for k in DROP_KEYS + ("events", "entries", "submitted", "aggregated"):
        if k in summ:
            a[k] = summ[k]
    # a build without the newer counters (--before) says less: what it has is subtracted
    a["dropped"] = summ.get("dropped", sum(summ.get(k, 0) for k in DROP_KEYS))
    a["unexplained"] = sent - a["reported"] - a["dropped"] - a["in_flight"]
    if hits is not None:
        a["probe_hits"] = hits   # BPF program runs (cost phase only: BPF stats on)
    return a


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--windows", type=int, default=20)
    ap.add_argument("--window-s", type=float, default=5)
    ap.add_argument("--rate", type=float, default=5000, help="paced requests/s")
    ap.add_argument("--conns", type=int, default=8)
    ap.add_argument("--stats-windows", type=int, default=2)
    ap.add_argument("--target", type=float, default=1.1, help="p99 traced / untraced")
    ap.add_argument("--json", help="write all figures here")
    ap.add_argument("--before", help="another ebee binary to compare with, side by side")
    ap.add_argument("--before-latency", action="store_true",
                    help="--before's configurations in the latency windows too")
    ap.add_argument("--no-bpftrace", action="store_true")
    ap.add_argument("--no-control", action="store_true", help="no untraced A/A control")
    ap.add_argument("--only", action="append", metavar="CONFIG",
                    help="run only these traced configurations (repeatable), e.g. 'ebee http'")
    ap.add_argument("--paired", action="store_true",
                    help="two servers loaded at once, one traced: p99 x = traced / its twin")
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
    # two servers (--paired: both loaded at once, one traced), each its own copy of the
    # binary: uprobes are per inode, so the untraced twin never traps
    shutil.copy(srv_bin, srv_bin + "2")
    srvs = []
    for b in (srv_bin, srv_bin + "2")[:2 if a.paired else 1]:
        port = free_port()
        proc = subprocess.Popen([b, str(port)], stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        bt_file = b + ".bt"
        with open(bt_file, "w") as f:
            f.write(BT.format(bin=b))
        srvs.append({"proc": proc, "port": port, "pid": str(proc.pid), "bt": bt_file})
    configs = {"untraced": None}
    if not a.no_control:
        configs["untraced again"] = None
    configs["ebee http"] = [EBEE, "-j", "http", "-p", "{pid}"]
    configs["ebee http --summary"] = [EBEE, "-j", "http", "--summary", "-p", "{pid}"]
    if a.before:
        configs["before: ebee http"] = [a.before] + configs["ebee http"][1:]
        configs["before: ebee http --summary"] = [a.before] + configs["ebee http --summary"][1:]
    if not a.no_bpftrace:
        configs["bpftrace count"] = ["bpftrace", "{bt}"]
    if a.only:
        configs = {c: v for c, v in configs.items() if not v or c in a.only}
    n = int(a.rate * a.window_s)
    keys = ("rps", "p50_us", "p99_us", "cpu_us", "ebee_us", "events", "p99_x", "p50_d",
            "rps_x", "cpu_d", "bpf_ns_req", "runs_req", "load", "cost_cpu_us", "cost_ebee_us",
            "acct")
    res = {c: {k: [] for k in keys} for c in configs}
    stats_fd = tr = None

    def one(cfg, tag, stats, t=0, twin=False, twin_first=False):
        """One window of cfg on server t: the tracer started, n paced requests, the tracer
        stopped; with twin, the other server loaded at the same time, untraced. Returns the
        figures of t (and of the twin)."""
        nonlocal tr
        tr = None
        out = os.path.join(tmp, f"out-{tag}")
        s = srvs[t]
        both = [s] + ([srvs[1 - t]] if twin else [])
        if configs[cfg]:
            argv = [x.format(pid=s["pid"], bt=s["bt"]) for x in configs[cfg]]
            tr = Tracer(cfg, argv, out, bt=cfg == "bpftrace count")
            tr.start()
            s0, u0 = prog_stats(tr.proc.pid), cpu_ticks(tr.proc.pid)
        c0 = [cpu_ticks(x["proc"].pid) for x in both]
        # the A/A control read 0.7-0.96 when the traced side always started its load first;
        # the order alternates too (the control still reads ~0.96: report against it)
        start = both[::-1] if twin_first else both
        lgs = {id(x): subprocess.Popen([lg, str(x["port"]), str(n), str(a.conns), str(a.rate),
                                        f"{tag}{i}", "/ok/"], stdout=subprocess.PIPE, text=True)
               for i, x in enumerate(start)}
        ps = [json.loads(lgs[id(x)].communicate()[0]) for x in both]
        sent = n - ps[0]["errors"]   # requests the traced server answered
        c1 = [cpu_ticks(x["proc"].pid) for x in both]
        rs = [{"rps": p["rps"], "p50_us": p["p50_us"], "p99_us": p["p99_us"],
               "cpu_us": (y - x) * TICK_US / n, "load": os.getloadavg()[0]}
              for p, x, y in zip(ps, c0, c1)]
        r = rs[0]
        if tr:
            s1, u1 = prog_stats(tr.proc.pid), cpu_ticks(tr.proc.pid)
            time.sleep(0.1)
            tr.stop()
            tr = None
            r["ebee_us"] = (u1 - u0) * TICK_US / n
            if stats:
                r["bpf_ns_req"] = (s1[0] - s0[0]) / n
                # program runs = probe hits per request
                r["runs_req"] = (s1[1] - s0[1]) / n
            if cfg.startswith(("ebee", "before: ebee")):
                r["acct"] = accounting(out, sent, s1[1] - s0[1] if stats else None)
                if cfg.endswith("ebee http"):
                    r["events"] = r["acct"]["reported"]
            os.unlink(out)
        if any(x["proc"].poll() is not None for x in srvs):
            raise RuntimeError(f"a server died under {cfg}")
        return (r, rs[1]) if twin else r

    names = [c for c in configs if a.before_latency or not c.startswith("before: ")]
    cost_names = [c for c in configs if configs[c]]
    try:
        for x in srvs:
            subprocess.run([lg, str(x["port"]), "5000", str(a.conns), "0", "warm", "/ok/"],
                           check=True, capture_output=True)
        for w in range(a.windows if a.paired else 0):
            # the traced server alternates, so that a difference between the two servers'
            # placement cancels out; "untraced" collects the twins' own figures
            order = names[1:][w % (len(names) - 1):] + names[1:][:w % (len(names) - 1)]
            for cfg in order:
                r, tw = one(cfg, f"w{w}c{names.index(cfg)}x", False, t=w % 2, twin=True,
                            twin_first=(w // 2) % 2 == 1)
                d = res[cfg]
                for k in ("rps", "p50_us", "p99_us", "cpu_us", "load", "ebee_us", "events",
                          "acct"):
                    if k in r:
                        d[k].append(r[k])
                for k in ("rps", "p50_us", "p99_us", "cpu_us", "load"):
                    res["untraced"][k].append(tw[k])
                d["p99_x"].append(r["p99_us"] / tw["p99_us"])
                d["p50_d"].append(r["p50_us"] - tw["p50_us"])
                d["rps_x"].append(r["rps"] / tw["rps"])
                d["cpu_d"].append(r["cpu_us"] - tw["cpu_us"])
            print(f"window {w:2d} load {os.getloadavg()[0]:5.1f} " + " ".join(
                f"{c.replace('ebee http', 'e')}={res[c]['p99_x'][-1]:.2f}" for c in order),
                file=sys.stderr)
        for w in range(0 if a.paired else a.windows):
            order = names[w % len(names):] + names[:w % len(names)]
            win = {cfg: one(cfg, f"w{w}c{names.index(cfg)}x", False) for cfg in order}
            base = win["untraced"]
            for cfg, r in win.items():
                d = res[cfg]
                for k in ("rps", "p50_us", "p99_us", "cpu_us", "load", "ebee_us", "events",
                          "acct"):
                    if k in r:
                        d[k].append(r[k])
                d["p99_x"].append(r["p99_us"] / base["p99_us"])
                d["p50_d"].append(r["p50_us"] - base["p50_us"])
                d["rps_x"].append(r["rps"] / base["rps"])
                d["cpu_d"].append(r["cpu_us"] - base["cpu_us"])
            print(f"window {w:2d} load {base['load']:5.1f} " + " ".join(
                f"{c.replace('ebee http', 'e').replace('before: ', 'b:')}={r['p99_us'] / base['p99_us']:.2f}"
                for c, r in win.items() if c != "untraced") +
                f" (untraced p99 {base['p99_us']:.0f} us)", file=sys.stderr)
        stats_fd = enable_stats()
        for w in range(a.stats_windows):
            order = cost_names[w % len(cost_names):] + cost_names[:w % len(cost_names)]
            for cfg in order:
                r = one(cfg, f"s{w}c{cost_names.index(cfg)}x", True)
                for k in ("bpf_ns_req", "runs_req"):
                    res[cfg][k].append(r[k])
                res[cfg]["cost_cpu_us"].append(r["cpu_us"])
                res[cfg]["cost_ebee_us"].append(r["ebee_us"])
                if "events" in r and cfg.startswith("before: "):
                    res[cfg]["events"].append(r["events"])
                if "acct" in r:
                    res[cfg]["acct"].append(r["acct"])
    finally:
        if tr is not None and tr.proc.poll() is None:
            tr.stop()
        if stats_fd is not None:
            os.close(stats_fd)
        alive = True
        for x in srvs:
            x["proc"].terminate()
            x["proc"].wait()
            alive = alive and x["proc"].returncode in (-signal.SIGTERM, 0)

    def med(v):
        return statistics.median(v) if v else None

    def f(v, fmt):
        return format(v, fmt) if v is not None else "-".rjust(int(fmt.split(".")[0]))
    print(f"ebee http benchmark: Go net/http server paced at {a.rate:.0f} req/s, {a.windows} "
          f"windows of {a.window_s:g} s ({n} requests) per configuration, order rotated per "
          f"window, {a.conns} keep-alive connections; medians over windows; p99 x = traced / "
          + ("its untraced twin server's p99, loaded at the same time (--paired)" if a.paired
             else "untraced p99 in the same window") +
          f"; load average {min(res['untraced']['load']):.1f}-"
          f"{max(res['untraced']['load']):.1f}")
    print(f"{'config':28s} {'req/s':>6s} {'p50 us':>7s} {'+p50':>6s} {'p99 us':>7s} "
          f"{'p99 x':>6s} {'q1-q3':>11s} {'95% CI':>11s} {'<=tgt':>5s} {'verdict':>12s} "
          f"{'srv cpu us/req':>14s} {'+cpu':>6s} {'BPF ns/req':>10s} {'hits':>5s} "
          f"{'ebee us/req':>11s} {'events':>13s} {'cost: srv cpu':>13s} {'ebee':>5s}")
    summary = {}
    ctl = res.get("untraced again", {}).get("p99_x")
    ctl_med = statistics.median(ctl) if ctl else None
    for c, d in res.items():
        m = {k: med(v) for k, v in d.items() if k != "acct"}
        line = (f"{c:28s} {f(m['rps'], '6.0f')} {f(m['p50_us'], '7.1f')} "
                f"{f(m['p50_d'], '6.1f')} {f(m['p99_us'], '7.1f')} ")
        if c != "untraced" and d["p99_x"]:
            q1, q3, lo, hi = median_ci(d["p99_x"])
            within = sum(x <= a.target for x in d["p99_x"])
            m.update(p99_x_q1=q1, p99_x_q3=q3, p99_x_ci=[lo, hi], windows_within=within,
                     verdict=verdict(lo, hi, a.target))
            if ctl_med and c != "untraced again":
                # against the A/A control: what is left of the ratio once the bias of the
                # method itself (the control's median) is taken out
                m["p99_x_vs_control"] = m["p99_x"] / ctl_med
                m["p99_x_vs_control_ci"] = [lo / ctl_med, hi / ctl_med]
                m["verdict_vs_control"] = verdict(lo / ctl_med, hi / ctl_med, a.target)
            line += (f"{m['p99_x']:6.2f} {q1:5.2f}-{q3:5.2f} {lo:5.2f}-{hi:5.2f} "
                     f"{within:2d}/{len(d['p99_x']):<2d} {m['verdict']:>12s} ")
        else:
            line += f"{'1.00' if d['p99_x'] else '-':>6s} {'':11s} {'':11s} {'':5s} {'':12s} "
        ev = d["events"]
        evs = f"{sum(ev)}/{len(ev) * n}" if ev else "-"
        line += (f"{f(m['cpu_us'], '14.1f')} {f(m['cpu_d'], '6.1f')} "
                 f"{f(m['bpf_ns_req'], '10.0f')} {f(m['runs_req'], '5.2f')} "
                 f"{f(m['ebee_us'], '11.2f')} {evs:>13s} {f(m['cost_cpu_us'], '13.1f')} "
                 f"{f(m['cost_ebee_us'], '5.2f')}")
        print(line)
        summary[c] = m
    for c, m in summary.items():
        if "p99_x_vs_control" in m:
            lo, hi = m["p99_x_vs_control_ci"]
            print(f"{c:28s} p99 x / control median {ctl_med:.2f}: {m['p99_x_vs_control']:.2f} "
                  f"(95% CI {lo:.2f}-{hi:.2f}): {m['verdict_vs_control']}")
    print("where the requests went, all windows (sent = answered by the server; dropped = "
          "ebee's counters by reason; unexplained = sent - reported - dropped - in flight):")
    for c, d in res.items():
        if not d["acct"]:
            continue
        tot = {}
        for w in d["acct"]:
            for k, v in w.items():
                tot[k] = tot.get(k, 0) + v
        why = " ".join(f"{k} {tot[k]}" for k in DROP_KEYS if tot.get(k))
        bad = [(i, w["unexplained"]) for i, w in enumerate(d["acct"]) if w["unexplained"]]
        hit = [w for w in d["acct"] if "probe_hits" in w]
        print(f"  {c:28s} sent {tot['sent']} reported {tot['reported']} dropped "
              f"{tot['dropped']}{' (' + why + ')' if why else ''} in flight {tot['in_flight']} "
              f"unexplained {tot['unexplained']}"
              + (f"; probe hits per request sent {sum(w['probe_hits'] for w in hit) / sum(w['sent'] for w in hit):.4f}"
                 if hit else "")
              + (f"; windows with unexplained (window, n): {bad}" if bad else ""))
        summary[c]["accounting"] = tot
    print(f"server alive to the end: {alive}")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"args": vars(a), "runs": res, "medians": summary}, fh, indent=1)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
