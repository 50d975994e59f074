#!/usr/bin/env python3
"""The kernel prefilter's cost per open that no rule can match: `ebee guard run -r RULES`
over N opens+closes of one file in /tmp (O_RDONLY) by this process, BPF stats on, the ns per
run of the guard's own programs (bpftool's pids: not the other engineers' ebee) that ran.

usage: prefilter.py N REPS LABEL=EBEE... -- RULES...
Each repetition runs every (rules, build) pair, the builds interleaved; prints one line per
run and a median [min-max] table of the openat program's ns/run (ev_ex_openat, or the
dispatcher ev_sys_exit where guard loads it: then ns/run covers every syscall it took)."""
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time


# guard's own programs (the prog_id of each program fd it holds: bpftool's pids need its BPF
# iterator build) and BPF_ENABLE_STATS, as the netwatch bench does them
_spec = importlib.util.spec_from_file_location(
    "nwbench", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "netwatch", "bench.py"))
nwbench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nwbench)


def guard_progs(pid):
    ids = nwbench.prog_ids(pid)
    out = json.loads(subprocess.check_output(["bpftool", "-j", "prog", "show"]))
    return {p["id"]: p for p in out if p["id"] in ids and p.get("name", "").startswith("ev_")}


def one(ebee, rules, n):
    err = open("/tmp/kfpre.err", "w+")
    rargs = [a for r in rules.split(",") for a in ("-r", r)]
    g = subprocess.Popen([ebee, "guard", "run", "-v", "--json"] + rargs, stdout=subprocess.DEVNULL, stderr=err)
    try:
        for _ in range(100):
            err.seek(0)
            if "rules on" in err.read():
                break
            if g.poll() is not None:
                err.seek(0)
                sys.exit(f"bench: guard exited: {err.read().strip()}")
            time.sleep(0.1)
        time.sleep(0.5)
        fd = nwbench.enable_stats()
        a = guard_progs(g.pid)
        p = "/tmp/kfpre_target"
        open(p, "w").close()
        t = time.perf_counter()
        for _ in range(n):
            os.close(os.open(p, os.O_RDONLY))
        wall = time.perf_counter() - t
        b = guard_progs(g.pid)
        os.close(fd)
    finally:
        g.terminate()   # SIGTERM: a background job may have SIGINT ignored
        g.wait()
    res = {}
    for i, q in b.items():
        runs = q.get("run_cnt", 0) - a.get(i, {}).get("run_cnt", 0)
        ns = q.get("run_time_ns", 0) - a.get(i, {}).get("run_time_ns", 0)
        if runs:
            res[q["name"]] = (runs, ns)
    return res, wall / n * 1e9


def main():
    n, reps = int(sys.argv[1]), int(sys.argv[2])
    cut = sys.argv.index("--")
    builds = [b.split("=", 1) for b in sys.argv[3:cut]]
    rules = sys.argv[cut + 1:]
    got = {}
    for rep in range(reps):
        for r in rules:
            for label, ebee in (builds if rep % 2 == 0 else builds[::-1]):
                res, wall = one(ebee, r, n)
                key = "ev_ex_openat" if "ev_ex_openat" in res else "ev_sys_exit"
                runs, ns = res.get(key, (0, 0))
                name = "+".join(os.path.basename(x) for x in r.split(","))
                got.setdefault((name, label), []).append(ns / runs if runs else 0)
                others = " ".join(f"{k} {v[1] / v[0]:.0f}ns x{v[0] / n:.2f}" for k, v in sorted(res.items()))
                print(f"rep {rep} {name:24} {label:8} {key} {ns / max(runs, 1):5.0f} ns/run "
                      f"(runs/open {runs / n:.2f}); wall {wall:.0f} ns/op; {others}", flush=True)
    print(f"\n{'rules':36} {'build':8} openat ns/run median [min-max] over {reps}, {n} opens each")
    for (r, label), v in got.items():
        print(f"{r:36} {label:8} {statistics.median(v):5.0f} [{min(v):.0f}-{max(v):.0f}]")
    print("load average:", open("/proc/loadavg").read().split()[:3])


main()
