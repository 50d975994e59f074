#!/usr/bin/python3
"""ebee top's own cost as a profiler, side by side with `bpftool prog show` in a loop.

For each program count (default 50 and 500) the script loads that many tiny socket-filter
programs (tests/integration/prog_util.py, straight through bpf(); they are unloaded at the end),
then measures, one after the other in the same run, for --seconds each:
  - ebee top --batch --interval 1      (stdout to /dev/null)
  - ebee top --interval 1              (full-screen view in a tmux pane of 200x50)
  - ebee top --batch --interval 1 --no-iter  (one BPF_OBJ_GET_INFO_BY_FD per program, the
                                        fallback path, like bpftool)
  - bpftool prog show, once per second (the peer; each run is a new process)
CPU = user+sys seconds / wall seconds, as % of one CPU (the whole process lifetime for the
batch and bpftool runs, so start-up is included; /proc/PID/stat for the tmux one).

With --peer it also shows `ebee bench` measuring a peer's programs: libbpf-tools' execsnoop
while it runs, on the exec workload.

Usage: bench/prog/run.py [--counts 50,500] [--seconds 20] [--peer] [--json FILE]
"""
import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EBEE = os.environ.get("EBEE", os.path.join(ROOT, "build", "ebee"))
UTIL = os.path.join(ROOT, "tests", "integration", "prog_util.py")
TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TCK


def total_progs():
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True).stdout
    return len(json.loads(out or "[]"))


def measure_batch(seconds, extra=()):
    p = subprocess.Popen([EBEE, "top", "--batch", "--interval", "1", *extra], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    t0 = time.monotonic()
    time.sleep(seconds)
    p.send_signal(signal.SIGINT)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"ebee top --batch failed: {p.stderr.read().decode()}")
    return (ru.ru_utime + ru.ru_stime) / wall * 100


def measure_tmux(seconds):
    if not shutil.which("tmux"):
        return None
    s = f"ebee_bench_prog_{os.getpid()}"
    subprocess.run(["tmux", "new-session", "-d", "-s", s, "-x", "200", "-y", "50",
                    f"{EBEE} top --interval 1"], check=True)
    try:
        pid = int(subprocess.run(["tmux", "display", "-p", "-t", s, "#{pane_pid}"],
                                 capture_output=True, text=True).stdout)
        time.sleep(1.5)                      # after start-up: the steady state
        c0, t0 = proc_cpu(pid), time.monotonic()
        time.sleep(seconds)
        c1, t1 = proc_cpu(pid), time.monotonic()
        subprocess.run(["tmux", "send-keys", "-t", s, "q"])
        time.sleep(0.5)
        return (c1 - c0) / (t1 - t0) * 100
    finally:
        subprocess.run(["tmux", "kill-session", "-t", s], capture_output=True)


def measure_bpftool(seconds):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    n = 0
    while time.monotonic() - t0 < seconds:
        t = time.monotonic()
        subprocess.run(["bpftool", "prog", "show"], stdout=subprocess.DEVNULL, check=True)
        n += 1
        time.sleep(max(0, 1 - (time.monotonic() - t)))
    wall = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) / wall * 100


def with_programs(n):
    h = subprocess.Popen([sys.executable, UTIL, "hold", str(n), "ebbench"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    ids = h.stdout.readline().split()
    if len(ids) != n:
        h.kill()
        sys.exit(f"could not load {n} programs")
    return h


def peer(seconds):
    if not shutil.which("execsnoop"):
        print("execsnoop not installed: --peer skipped")
        return None
    p = subprocess.Popen(["execsnoop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ids = set()
        deadline = time.time() + 20
        while time.time() < deadline and not ids:
            time.sleep(0.2)
            for fd in os.listdir(f"/proc/{p.pid}/fdinfo"):
                try:
                    txt = open(f"/proc/{p.pid}/fdinfo/{fd}").read()
                except OSError:
                    continue
                if "prog_tag" in txt:
                    ids |= {int(l.split()[1]) for l in txt.splitlines() if l.startswith("prog_id:")}
        time.sleep(0.5)
        args = [EBEE, "bench", "-j", "--workload", "exec", "--n", "500", "--runs", "5"]
        for i in sorted(ids):
            args += ["--prog", str(i)]
        out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
        rows = [json.loads(l) for l in out.splitlines()]
        print("\nebee bench on execsnoop's programs (exec workload, 5 x 500 spawns):")
        for r in rows:
            if r["kind"] == "program":
                print(f"  {r['id']:>6} {r['name']:<16} runs {r['d_run_cnt']:>6}  ns/run median "
                      f"{r['ns_per_run_median']:.0f} (min {r['ns_per_run_min']:.0f}, max "
                      f"{r['ns_per_run_max']:.0f})  runs/op {r['runs_per_op']:.2f}")
            else:
                print(f"  workload: {r['traced_ns_per_op']:.0f} ns/op traced, BPF {r['bpf_ns_per_op']:.0f} ns/op")
        return rows
    finally:
        p.send_signal(signal.SIGINT)
        p.wait(timeout=10)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--counts", default="50,500")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--peer", action="store_true")
    ap.add_argument("--json")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root")
    results = []
    print(f"{'programs':>9} {'loaded':>7} {'ebee top -b':>12} {'ebee top (tty)':>15} "
          f"{'top -b --no-iter':>17} {'bpftool loop':>13} {'bpftool/top-b':>14}")
    for n in [int(x) for x in a.counts.split(",")]:
        h = with_programs(n)
        try:
            loaded = total_progs()
            b = measure_batch(a.seconds)
            t = measure_tmux(a.seconds)
            ni = measure_batch(a.seconds, ["--no-iter"])
            bt = measure_bpftool(a.seconds)
        finally:
            h.stdin.close()
            h.wait()
        results.append({"programs": n, "loaded_total": loaded, "top_batch_cpu_pct": b,
                        "top_tty_cpu_pct": t, "top_batch_no_iter_cpu_pct": ni,
                        "bpftool_loop_cpu_pct": bt})
        tt = f"{t:.3f}%" if t is not None else "-"
        print(f"{n:>9} {loaded:>7} {b:>11.3f}% {tt:>15} {ni:>16.3f}% {bt:>12.3f}% {bt / b if b else 0:>13.1f}x",
              flush=True)
    extra = peer(a.seconds) if a.peer else None
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"seconds": a.seconds, "results": results, "peer": extra}, f, indent=1)


if __name__ == "__main__":
    main()
