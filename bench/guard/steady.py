#!/usr/bin/env python3
"""ebee guard's own CPU and memory at a steady event rate: guard runs RULES; this script makes
RATE events/s for SECONDS that the kernel prefilter must let through (opens whose path has
"../", which the stable rules' directory-traversal rule needs to see) and that raise no alert,
and reads guard's CPU (utime+stime, /proc/PID/stat) and RSS over that window.
Usage: steady.py EBEE RULES [RATE] [SECONDS]. Prints one JSON line."""
import json, os, signal, subprocess, sys, tempfile, time

ebee, rules = sys.argv[1], sys.argv[2]
rate = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
secs = float(sys.argv[4]) if len(sys.argv) > 4 else 10
tick = os.sysconf("SC_CLK_TCK")


def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick


def mem(pid, key):
    for l in open(f"/proc/{pid}/status"):
        if l.startswith(key + ":"):
            return int(l.split()[1]) / 1024
    return 0.0


d = tempfile.mkdtemp(prefix="ebee_steady_")
os.mkdir(os.path.join(d, "a"))
target = os.path.join(d, "a", "f")
open(target, "w").close()
path = os.path.join(d, "a", "..", "a", "f")   # crosses: "../" in the raw path
g = subprocess.Popen([ebee, "guard", "run", "-r", rules, "--json"], stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, text=True)
time.sleep(4)   # loaded and attached (the stable rules load ~60 programs)
c0, t0 = cpu(g.pid), time.monotonic()
n, batch = 0, max(1, rate // 100)
while time.monotonic() - t0 < secs:
    for _ in range(batch):
        os.close(os.open(path, os.O_RDONLY))
    n += batch
    nxt = t0 + n / rate
    dt = nxt - time.monotonic()
    if dt > 0:
        time.sleep(dt)
wall = time.monotonic() - t0
time.sleep(0.5)
c1 = cpu(g.pid)
rss, hwm = mem(g.pid, "VmRSS"), mem(g.pid, "VmHWM")
g.send_signal(signal.SIGINT)
out, err = g.communicate(timeout=30)
summary = [json.loads(l) for l in out.splitlines() if '"type":"summary"' in l]
s = summary[-1] if summary else {}
print(json.dumps({
    "rules": rules, "rate": round(n / wall), "seconds": round(wall, 1),
    "guard_cpu_pct": round(100 * (c1 - c0) / wall, 2), "rss_mb": round(rss, 1), "peak_rss_mb": round(hwm, 1),
    "events": s.get("events"), "events_by_type": s.get("events_by_type"), "alerts": s.get("alerts"),
    "lost": s.get("lost"), "kernel_skipped": s.get("kernel_skipped")}))
