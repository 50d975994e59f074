#!/usr/bin/env python3
"""RSS of the CLI's process table after an exec storm: `ebee exec` and `ebee events --all`
(exec, fork, exit, open...: the table's whole feed) run beside each other for two builds
while /bin/sh runs /bin/true in a loop for SECONDS; VmRSS of each at the end.
usage: BEFORE=/path/to/older/ebee bench/proc/cli.py [SECONDS]   (root; build/ebee)"""
import os
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EBEE = os.environ.get("EBEE", os.path.join(ROOT, "build", "ebee"))
SECS = float(sys.argv[1]) if len(sys.argv) > 1 else 10
CMDS = {"ebee exec --json": ["exec", "--json"], "ebee events --all": ["events", "--all"]}


def rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0


bins = ([("before", os.environ["BEFORE"])] if os.environ.get("BEFORE") else []) + [("after", EBEE)]
procs = {}
for name, args in CMDS.items():
    for label, b in bins:
        procs[(name, label)] = subprocess.Popen([b] + args, stdout=subprocess.DEVNULL,
                                                stderr=subprocess.DEVNULL)
time.sleep(3)   # attached
start = {k: rss_mb(p.pid) for k, p in procs.items()}
t0, n = time.time(), 0
while time.time() - t0 < SECS:
    subprocess.run(["/bin/sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do /bin/true; done"])
    n += 10
time.sleep(1)
for (name, label), p in procs.items():
    print(f"{name:20} {label:7} rss MB: start {start[(name, label)]:.1f}, after {n} execs "
          f"{rss_mb(p.pid):.1f}")
for p in procs.values():
    p.send_signal(2)
for p in procs.values():
    p.wait(timeout=30)
