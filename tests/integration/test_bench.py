"""ebee bench: an ebee feature loaded per traced run on a built-in workload (alternating with
baseline runs), already-loaded programs on a command workload with exact counts, and bad
input (unknown program, failing workload, missing target)."""
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import EBEE, assert_clean, bpf_ids, json_lines, run, loaded_prog_ids
import prog_util as pu

UTIL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "prog_util.py")


def sysctl():
    with open("/proc/sys/kernel/bpf_stats_enabled") as f:
        return f.read().strip()


def test_feature_count_syscall_workload():
    before = sysctl()
    progs_before = loaded_prog_ids()
    n, runs = 40000, 3
    p = run(["bench", "--json", "--feature", "count --syscall getppid", "--workload", "syscall",
             "--n", str(n), "--runs", str(runs)], check=0, timeout=120)
    rows = json_lines(p.stdout)
    progs = [r for r in rows if r["kind"] == "program"]
    wl = [r for r in rows if r["kind"] == "workload"]
    assert progs and len(wl) == 1, p.stdout
    # count's sys_enter program runs on every syscall of every process: at least once per op
    top = max(progs, key=lambda r: r["d_run_cnt"])
    assert top["name"].startswith("count_")
    assert top["d_run_cnt"] >= n * runs and top["runs_per_op"] >= 1.0
    assert top["ns_per_run_median"] > 0
    assert top["ns_per_run_min"] <= top["ns_per_run_median"] <= top["ns_per_run_max"]
    w = wl[0]
    assert w["workload"] == "syscall" and w["n"] == n and w["runs"] == runs
    assert w["baseline_ns_per_op"] > 0 and w["traced_ns_per_op"] > 0
    assert w["slowdown"] >= 1.0, w
    assert w["bpf_ns_per_op"] > 0
    # nothing of the feature's is left, the sysctl is as it was
    assert_clean({r["id"] for r in progs} - progs_before, set())
    assert sysctl() == before


def test_prog_with_command_workload_exact():
    fd = pu.load_socket_filter(f"ebb_{os.getpid() % 100000}")
    pid_ = pu.prog_id(fd)
    try:
        k, runs = 777, 2
        p = run(["bench", "-j", "--prog", str(pid_), "--runs", str(runs), "--",
                 sys.executable, UTIL, "run", str(pid_), str(k)], check=0, timeout=60)
        rows = json_lines(p.stdout)
        prog = [r for r in rows if r["kind"] == "program"]
        assert [r["id"] for r in prog] == [pid_]
        assert prog[0]["d_run_cnt"] == k * runs          # exact: only the workload runs it
        assert prog[0]["runs_per_op"] == k
        assert prog[0]["ns_per_run_median"] > 0
        wl = [r for r in rows if r["kind"] == "workload"][0]
        assert "slowdown" not in wl, "no baseline when the programs stay loaded"
        # by name, table output
        p = run(["bench", "--prog", f"ebb_{os.getpid() % 100000}", "--runs", "1", "--",
                 sys.executable, UTIL, "run", str(pid_), "10"], check=0, timeout=60)
        assert "NS/RUN" in p.stdout and str(pid_) in p.stdout and "SLOWDOWN" in p.stdout
    finally:
        os.close(fd)


def test_bad_input():
    p = run(["bench", "--workload", "syscall"], check=2)
    assert "--prog" in p.stderr and "--feature" in p.stderr
    p = run(["bench", "--prog", "no_such_prog_xyz"], check=1)
    assert "no BPF program named 'no_such_prog_xyz'" in p.stderr
    fd = pu.load_socket_filter("ebb_bad")
    try:
        pid_ = pu.prog_id(fd)
        p = run(["bench", "--prog", str(pid_), "--", "false"], check=1)
        assert "workload 'false' failed: exit status 1" in p.stderr
        p = run(["bench", "--prog", str(pid_), "--", "/nonexistent/cmd"], check=1)
        assert "cannot run workload '/nonexistent/cmd'" in p.stderr
        p = run(["bench", "--prog", str(pid_), "--workload", "bogus"], check=2)
        assert "unknown workload 'bogus'" in p.stderr
    finally:
        os.close(fd)
    p = run(["bench", "--feature", "no_such_command", "--runs", "1", "--n", "10"], check=1, timeout=60)
    assert "exited" in p.stderr and "before loading its programs" in p.stderr


@pytest.mark.parametrize("workload,n", [("open", 3000), ("connect", 300), ("exec", 40)])
def test_builtin_workloads(workload, n):
    """Every op of each workload makes syscalls, so count's sys_enter program runs >= once per op."""
    p = run(["bench", "-j", "--feature", "count --syscall getppid", "--workload", workload,
             "--n", str(n), "--runs", "1"], check=0, timeout=120)
    rows = json_lines(p.stdout)
    prog = max((r for r in rows if r["kind"] == "program"), key=lambda r: r["d_run_cnt"])
    wl = [r for r in rows if r["kind"] == "workload"][0]
    assert wl["workload"] == workload and wl["n"] == n
    assert prog["d_run_cnt"] >= n and prog["runs_per_op"] >= 1
    assert wl["baseline_ns_per_op"] > 0 and wl["traced_ns_per_op"] > 0


def children_progs(ppid):
    ids = set()
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == ppid:
                        ids |= bpf_ids(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return ids


def test_interrupt_reports_complete_runs():
    p = subprocess.Popen([EBEE, "bench", "-j", "--feature", "count --syscall getppid", "--runs", "100",
                          "--n", "20000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    held = set()
    deadline = time.time() + 3
    while time.time() < deadline:       # the feature's programs, run after run
        held |= children_progs(p.pid)
        time.sleep(0.05)
    assert held, "the feature process held programs"
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    wl = [r for r in json_lines(out) if r["kind"] == "workload"]
    assert wl and 1 <= wl[0]["runs"] < 100
    assert_clean(held, set())


def test_peer_execsnoop():
    """A peer's programs while it runs (--prog by id): libbpf-tools' execsnoop on exec."""
    exe = shutil.which("execsnoop")
    if not exe:
        pytest.skip("libbpf-tools' execsnoop not installed")
    peer = subprocess.Popen([exe], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ids = set()
        deadline = time.time() + 20
        while time.time() < deadline and len(ids) < 2:
            ids = bpf_ids(peer.pid)
            time.sleep(0.1)
        assert ids, "execsnoop loaded no programs"
        time.sleep(0.5)
        args = ["bench", "-j", "--workload", "exec", "--n", "60", "--runs", "2"]
        for i in sorted(ids):
            args += ["--prog", str(i)]
        rows = json_lines(run(args, check=0, timeout=120).stdout)
        progs = [r for r in rows if r["kind"] == "program"]
        assert {r["id"] for r in progs} == ids
        assert all(r["d_run_cnt"] >= 120 and r["ns_per_run_median"] > 0 for r in progs), progs
    finally:
        peer.send_signal(signal.SIGINT)
        peer.wait(timeout=10)
