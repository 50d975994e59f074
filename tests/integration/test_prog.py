"""ebee prog list/show/snapshot/diff against real programs: a tiny socket filter of the test's
own, run an exact number of times with BPF_PROG_TEST_RUN, and ebee's own `count` program
triggered with getppid()."""
import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from conftest import bpf_ids, data_rows, json_lines, run
import prog_util as pu

K = 5000


@pytest.fixture
def stats():
    """BPF run-time stats on for the test (through our own BPF_ENABLE_STATS fd)."""
    fd = pu.enable_stats()
    yield
    os.close(fd)


@pytest.fixture
def myprog():
    """A program only this test runs; closed (unloaded) at the end."""
    fds = []

    def _load(name=None):
        fd = pu.load_socket_filter(name or f"ebt_{os.getpid() % 100000}")
        fds.append(fd)
        return fd, pu.prog_id(fd)

    yield _load
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def by_id(rows, pid_):
    got = [r for r in rows if r.get("id") == pid_]
    assert got, f"program {pid_} missing from {rows[:3]}..."
    return got


def test_list_exact_counts(stats, myprog):
    fd, pid_ = myprog()
    before = by_id(json_lines(run(["prog", "list", "--json"], check=0).stdout), pid_)[0]
    assert before["run_cnt"] == 0
    pu.test_run(fd, K)
    p = by_id(json_lines(run(["prog", "list", "--json"], check=0).stdout), pid_)[0]
    assert p["run_cnt"] == K
    assert p["run_time_ns"] > 0 and p["avg_ns"] == pytest.approx(p["run_time_ns"] / K, rel=1e-3)
    assert p["type"] == "socket_filter"
    assert p["name"] == f"ebt_{os.getpid() % 100000}"
    assert re.fullmatch(r"[0-9a-f]{16}", p["tag"])
    assert p["xlated"] > 0 and p["uid"] == os.getuid()
    assert p["map_ids"] == []
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", p["loaded_at"])
    assert {"pid": os.getpid(), "comm": open("/proc/self/comm").read().strip()} in p["owners"]


def test_list_table_and_unnamed(stats, myprog):
    fd, pid_ = myprog(name="")
    out = run(["prog", "list"], check=0).stdout
    assert out.splitlines()[0].split()[:3] == ["ID", "TYPE", "NAME"]
    line = [l for l in out.splitlines() if l.split() and l.split()[0] == str(pid_)]
    assert line, "an unnamed program is listed too"
    assert f"{os.getpid()}/" in line[0]


def test_list_ebee_count_grows(ebee_start, stats):
    """ebee's own program (count on sys_enter) with K getppid() calls."""
    e = ebee_start(["count", "--syscall", "getppid", "--pid", str(os.getpid())])
    ids = bpf_ids(e.proc.pid)   # now, past the start-up probes
    before = {p["id"]: p for p in json_lines(run(["prog", "list", "-j"], check=0).stdout) if p["id"] in ids}
    for _ in range(K):
        os.getppid()
    after = {p["id"]: p for p in json_lines(run(["prog", "list", "-j"], check=0).stdout) if p["id"] in ids}
    grown = sum(after[i]["run_cnt"] - before[i]["run_cnt"] for i in after if i in before)
    assert grown >= K
    for p in after.values():
        assert {"pid": e.proc.pid, "comm": "ebee"} in p["owners"]
    assert any("sys_enter" in p.get("attach", "") for p in after.values())
    e.stop()


def test_show_sources_agree(stats, myprog):
    fd, pid_ = myprog()
    pu.test_run(fd, K)
    rows = json_lines(run(["prog", "show", "--json", str(pid_)], check=0).stdout)
    sources = [r["source"] for r in rows]
    assert sources[0] == "info" and sources[1] == "fdinfo"
    assert any(s.startswith(f"fdinfo {os.getpid()}/") for s in sources), sources
    for r in rows:
        assert r["id"] == pid_ and r["run_cnt"] == K and r["type"] == "socket_filter"
        assert r["run_time_ns"] == rows[0]["run_time_ns"] and r["tag"] == rows[0]["tag"]
    # the same numbers read through our fd here
    assert pu.counters_fdinfo(fd) == (K, rows[0]["run_time_ns"])
    # by name, and one source only
    name = f"ebt_{os.getpid() % 100000}"
    only = json_lines(run(["prog", "show", "-j", "--source", "info", name], check=0).stdout)
    assert [(r["id"], r["source"]) for r in only] == [(pid_, "info")]
    fdi = json_lines(run(["prog", "show", "-j", "-s", "fdinfo", str(pid_)], check=0).stdout)
    assert fdi and all(r["source"].startswith("fdinfo") for r in fdi)


def test_show_pinned(stats, myprog, tmp_path):
    """A pinned path, on a bpffs instance of the test's own (mounted and unmounted here)."""
    fs = tmp_path / "bpffs"
    fs.mkdir()
    if subprocess.run(["mount", "-t", "bpf", "bpf", str(fs)], capture_output=True).returncode:
        pytest.skip("cannot mount a bpffs")
    try:
        fd, pid_ = myprog()
        path = str(fs / "ebee_prog_test")
        pu.pin(fd, path)
        pu.test_run(fd, 11)
        rows = json_lines(run(["prog", "show", "-j", "-s", "info", path], check=0).stdout)
        assert [(r["id"], r["run_cnt"]) for r in rows] == [(pid_, 11)]
        p = run(["prog", "show", str(fs / "missing")], check=1)
        assert "cannot open pinned program" in p.stderr
        os.unlink(path)
    finally:
        subprocess.run(["umount", str(fs)], capture_output=True)


def test_show_bad_input():
    p = run(["prog", "show", "4000000000"], check=1)
    assert "not found" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    p = run(["prog", "show", "no_such_prog_xyz"], check=1)
    assert "no BPF program named 'no_such_prog_xyz'" in p.stderr
    p = run(["prog", "show", "/sys/fs/bpf/ebee_no_such_pin"], check=1)
    assert "cannot open pinned program" in p.stderr
    run(["prog", "show", "--source", "bogus", "1"], check=2)
    run(["prog", "show"], check=2)
    p = run(["prog", "show", "-j", "no_such_prog_xyz"], check=1)
    assert "error" in json.loads(p.stdout.strip().splitlines()[-1])


def test_snapshot_diff(stats, myprog, tmp_path):
    fd, pid_ = myprog()
    gone_fd, gone_id = myprog(name="ebt_gone")
    pu.test_run(fd, 100)
    snap = tmp_path / "snap.json"
    out = json_lines(run(["prog", "snapshot", "-j", str(snap)], check=0).stdout)
    assert out[0]["file"] == str(snap) and out[0]["programs"] >= 2
    doc = json.loads(snap.read_text())
    assert any(p["id"] == pid_ and p["run_cnt"] == 100 for p in doc["progs"])
    pu.test_run(fd, K)
    os.close(gone_fd)
    new_fd, new_id = myprog(name="ebt_new")
    pu.test_run(new_fd, 7)
    deadline = time.time() + 5   # a closed program is freed asynchronously
    while time.time() < deadline:
        rows = {r["id"]: r for r in json_lines(run(["prog", "diff", "-j", str(snap)], check=0).stdout)}
        if gone_id in rows:
            break
        time.sleep(0.2)
    assert rows[pid_]["status"] == "ran" and rows[pid_]["d_run_cnt"] == K and rows[pid_]["avg_ns"] > 0
    assert rows[new_id]["status"] == "new" and rows[new_id]["d_run_cnt"] == 7
    assert rows[gone_id]["status"] == "gone" and "d_run_cnt" not in rows[gone_id]
    # programs that did not run are left out unless --all
    quiet = run(["prog", "diff", str(snap)], check=0).stdout
    assert str(pid_) in quiet
    allr = json_lines(run(["prog", "diff", "--all", "-j", str(snap)], check=0).stdout)
    assert len(allr) >= len(rows)


def test_diff_bad_file(tmp_path):
    p = run(["prog", "diff", str(tmp_path / "missing.json")], check=1)
    assert "cannot open snapshot" in p.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    p = run(["prog", "diff", str(bad)], check=1)
    assert "is not an ebee snapshot" in p.stderr
    p = run(["prog", "snapshot", "/nonexistent-dir/x.json"], check=1)
    assert "cannot write snapshot" in p.stderr


def test_attach_without_link_bpftrace():
    """bpftrace attaches through perf_event ioctl (no link): the attach point comes from
    BPF_TASK_FD_QUERY on the owner's perf_event fd, in prog list (/proc scan) and top (iterator)."""
    exe = shutil.which("bpftrace")
    if not exe:
        pytest.skip("bpftrace not installed")
    bt = subprocess.Popen([exe, "-e", "tracepoint:syscalls:sys_enter_getppid { @c = count(); }"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ids = set()
        deadline = time.time() + 30
        while time.time() < deadline and not ids:
            ids = bpf_ids(bt.pid)
            time.sleep(0.1)
        assert ids, "bpftrace loaded no program"
        time.sleep(1.0)   # attached right after load
        rows = [r for r in json_lines(run(["prog", "list", "-j"], check=0).stdout) if r["id"] in ids]
        mine = [r for r in rows if "tracepoint/sys_enter_getppid" in r.get("attach", "")]
        assert mine, rows
        assert {"pid": bt.pid, "comm": "bpftrace"} in mine[0]["owners"]
        top = [r for r in data_rows(run(["top", "-b", "-j", "-n", "1", "-i", "0.1"], check=0).stdout)
               if r["id"] == mine[0]["id"]]
        assert top and top[0]["attach"] == mine[0]["attach"]
    finally:
        bt.send_signal(signal.SIGINT)
        bt.wait(timeout=20)


def test_list_attributes_ebee_programs_to_collectors(ebee_start, myprog):
    """`prog list` names the ebee collector each of ebee's programs belongs to (by the
    collector's program prefix); a program of someone else has none, even named like one."""
    _, other_id = myprog("tcp_not_ebee")
    runs = {"count": ["count"], "tcp": ["tcp", "states"]}
    started = {name: ebee_start(args) for name, args in runs.items()}
    rows = {r["id"]: r for r in data_rows(run(["prog", "list", "--json"], check=0).stdout)}
    for name, e in started.items():
        mine = [rows[i] for i in e.progs if i in rows]
        assert mine, (name, e.progs)
        assert all(r.get("collector") == name for r in mine), (name, mine)
    for e in started.values():
        e.stop()
    assert "collector" not in rows[other_id], rows[other_id]
