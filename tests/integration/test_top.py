"""ebee top: batch snapshots (plain and JSON) with a program the test runs between samples,
programs appearing and vanishing, stats switched off again at exit, and the full-screen view
under tmux (draws, sorts, filters, graphs, quits with 'q', terminal left sane)."""
import os
import shutil
import signal
import subprocess
import threading
import time

import pytest

from conftest import EBEE, data_rows, run
import prog_util as pu

NAME = f"ebtop_{os.getpid() % 100000}"


def bpf_stats_fds(pid):
    n = 0
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == "anon_inode:bpf-stats":
                    n += 1
            except OSError:
                pass
    except OSError:
        pass
    return n


def sysctl():
    with open("/proc/sys/kernel/bpf_stats_enabled") as f:
        return f.read().strip()


def test_batch_json_rates_appear_vanish():
    fd = pu.load_socket_filter(NAME)
    pid_ = pu.prog_id(fd)
    before = sysctl()
    p = subprocess.Popen([EBEE, "top", "--batch", "--json", "--interval", "0.4", "--count", "6",
                          "--name", "ebtop_"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # top holds stats on through its own fd while it runs
        deadline = time.time() + 5
        while bpf_stats_fds(p.pid) == 0 and time.time() < deadline:
            time.sleep(0.02)
        assert bpf_stats_fds(p.pid) == 1
        time.sleep(0.5)
        pu.test_run(fd, 20000)
        newfd = pu.load_socket_filter(NAME + "n")
        new_id = pu.prog_id(newfd)
        time.sleep(0.9)
        os.close(fd)   # vanishes between intervals
        time.sleep(1.0)
        out, err = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    os.close(newfd)
    assert p.returncode == 0, err
    rows = data_rows(out)
    samples = sorted({r["sample"] for r in rows})
    assert samples == list(range(1, 7)), samples
    mine = [r for r in rows if r["id"] == pid_]
    assert all(r["name"] == NAME and r["type"] == "socket_filter" for r in mine)
    ran = [r for r in mine if r.get("runs_per_s", 0) > 0]
    assert ran, mine
    assert sum(r["runs_per_s"] for r in ran) > 0 and all(r["ns_per_run"] > 0 for r in ran)
    assert all(r["cpu_pct"] >= r["cpu_pct_machine"] for r in ran)
    assert max(r["run_cnt"] for r in mine) == 20000
    assert mine[-1]["sample"] < 6, "the closed program is gone from later samples"
    assert any(r["id"] == new_id for r in rows), "a program loaded meanwhile appears"
    assert all(r["owner"].startswith(f"{os.getpid()}/") for r in rows if r["id"] == pid_)
    # a program that appears gets its owner at the next /proc scan (at most every 5 s)
    assert all(r.get("owner", f"{os.getpid()}/").startswith(f"{os.getpid()}/") for r in rows if r["id"] == new_id)
    assert sysctl() == before
    assert bpf_stats_fds(p.pid) == 0


def test_batch_table_sort_limit_and_nontty():
    fds = [pu.load_socket_filter(NAME + s) for s in "abc"]
    ids = [pu.prog_id(f) for f in fds]
    try:
        # no terminal and no --batch: falls back with a note
        p = run(["top", "--interval", "0.2", "--count", "1", "--name", NAME, "--sort", "id", "--asc"], check=0)
        assert "not a terminal" in p.stderr
        lines = [l for l in p.stdout.splitlines() if l.strip()]
        assert lines[0].startswith("---") and "3 shown" in lines[0] and "stats on" in lines[0]
        assert lines[1].split()[0] == "ID"
        got = [int(l.split()[0]) for l in lines[2:]]
        assert got == sorted(ids)
        p = run(["top", "-b", "-i", "0.2", "-n", "1", "--name", NAME, "--sort", "id", "--limit", "2"], check=0)
        got = [int(l.split()[0]) for l in p.stdout.splitlines()[2:] if l.strip()]
        assert got == sorted(ids, reverse=True)[:2]
        p = run(["top", "-b", "-n", "1", "--type", "no_such_type_xyz"], check=0)
        assert "0 shown" in p.stdout
    finally:
        for f in fds:
            os.close(f)


def test_bad_options():
    p = run(["top", "-b", "--sort", "bogus"], check=2)
    assert "invalid --sort 'bogus'" in p.stderr
    run(["top", "-b", "--interval", "0"], check=2)


@pytest.fixture
def tmux():
    if not shutil.which("tmux"):
        pytest.skip("tmux not installed")
    sessions = []

    def _new(cmd, w=160, h=40):
        name = f"ebee_top_{os.getpid()}_{len(sessions)}"
        subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", str(w), "-y", str(h), cmd], check=True)
        sessions.append(name)
        return name

    yield _new
    for s in sessions:
        subprocess.run(["tmux", "kill-session", "-t", s], capture_output=True)


def capture(s):
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", s], capture_output=True, text=True).stdout


def wait_for(s, text, timeout=8.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        c = capture(s)
        if text in c:
            return c
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not on screen:\n{capture(s)}")


def keys(s, *k):
    subprocess.run(["tmux", "send-keys", "-t", s] + list(k), check=True)


def test_fullscreen_view(tmux):
    fds = [pu.load_socket_filter(NAME + s) for s in "xy"]
    ids = [pu.prog_id(f) for f in fds]
    stop = threading.Event()

    def busy():   # keeps NAME+"x" running so it has a rate and a graph
        while not stop.is_set():
            pu.test_run(fds[0], 2000)
            time.sleep(0.05)

    t = threading.Thread(target=busy)
    t.start()
    try:
        s = tmux(f"{EBEE} top --interval 0.3 --name {NAME}; echo EBEE_EXIT=$?; "
                 "stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e echo -e -icanon -e -echo; sleep 60")
        scr = wait_for(s, "2 shown")
        assert "ebee top" in scr and "stats on for" in scr
        assert "sort cpu desc" in scr
        deadline = time.time() + 5
        while time.time() < deadline:   # once a rate is known, the busy one sorts first
            rows = [l for l in capture(s).splitlines() if l.split() and l.split()[0] in map(str, ids)]
            if len(rows) == 2 and rows[0].split()[0] == str(ids[0]) and rows[0].split()[4] != "-":
                break
            time.sleep(0.1)
        assert len(rows) == 2 and rows[0].split()[0] == str(ids[0]), rows
        assert float(rows[0].split()[4]) > 0, rows      # RUNS/s of the busy program
        keys(s, "<")                     # sort by the previous column: ns_total
        wait_for(s, "sort ns_total desc")
        keys(s, "r")
        wait_for(s, "sort ns_total asc")
        keys(s, "/", *list(NAME + "y"), "Enter")
        scr = wait_for(s, "1 shown")
        assert str(ids[1]) in scr and f"\n{ids[0]:>6} " not in scr
        keys(s, "Escape")                # clears the filter
        wait_for(s, "2 shown")
        keys(s, "p")
        wait_for(s, "PAUSED")
        keys(s, "p")
        keys(s, "/", *list(NAME + "x"), "Enter")
        wait_for(s, "1 shown")
        keys(s, "Enter")                 # history graph of the selected program
        scr = wait_for(s, f"CPU% of {ids[0]}")
        assert f"ns/run of {ids[0]}" in scr
        time.sleep(1.0)
        scr = capture(s)
        assert "#" in scr or "\u2588" in scr, "bars drawn"
        keys(s, "q")
        wait_for(s, "EBEE_EXIT=0")
        time.sleep(0.5)                  # stty runs after it
        scr = capture(s)
        tail = scr[scr.index("EBEE_EXIT=0"):].split()
        assert "icanon" in tail and "echo" in tail, "terminal restored (canonical mode, echo)"
        assert "-icanon" not in tail and "-echo" not in tail
    finally:
        stop.set()
        t.join()
        for f in fds:
            os.close(f)


def test_fullscreen_tiny_terminal_and_ctrl_c(tmux):
    s = tmux(f"{EBEE} top --interval 0.3; echo EBEE_EXIT=$?; sleep 60", w=40, h=8)
    wait_for(s, "terminal too small")
    keys(s, "C-c")                       # SIGINT takes the same clean path
    wait_for(s, "EBEE_EXIT=0")


def test_iterator_and_syscall_paths_agree():
    """Counters read in one bpf_prog iterator pass equal BPF_OBJ_GET_INFO_BY_FD's (--no-iter)."""
    fd = pu.load_socket_filter(NAME + "i")
    sfd = pu.enable_stats()
    try:
        pid_ = pu.prog_id(fd)
        pu.test_run(fd, 3333)
        it = run(["top", "-b", "-j", "-v", "-n", "1", "-i", "0.1"], check=0)
        assert "through a bpf_prog iterator" in it.stderr, it.stderr
        sc = run(["top", "-b", "-j", "-n", "1", "-i", "0.1", "--no-iter"], check=0)
        a = {r["id"]: r for r in data_rows(it.stdout)}
        b = {r["id"]: r for r in data_rows(sc.stdout)}
        assert a[pid_]["run_cnt"] == b[pid_]["run_cnt"] == 3333
        assert a[pid_]["run_time_ns"] == b[pid_]["run_time_ns"] > 0
        assert a[pid_]["name"] == b[pid_]["name"] == NAME + "i"
        # ebee's own iterator program is listed (its cost is visible), only on that path
        assert any(r["name"] == "ebee_prog_iter" for r in a.values())
    finally:
        os.close(sfd)
        os.close(fd)


def test_leaves_nothing_behind(ebee_start):
    """top's own iterator program and link are gone after SIGINT (conftest checks)."""
    e = ebee_start(["top", "--batch", "--interval", "0.2"])
    assert e.progs, "top holds its bpf_prog iterator"
    time.sleep(0.5)
    assert e.stop() == 0
    assert "programs" in e.stdout


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_sysctl_fallback_restored_on_signal(sig):
    """Old kernels (no BPF_ENABLE_STATS): the sysctl is set and restored on exit by a signal.
    EBEE_STATS_VIA_SYSCTL=1 takes that path on this kernel."""
    if sysctl() != "0":
        pytest.skip("kernel.bpf_stats_enabled is already on")
    env = dict(os.environ, EBEE_STATS_VIA_SYSCTL="1")
    p = subprocess.Popen([EBEE, "top", "-b", "-v", "-i", "0.2"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.time() + 5
        while sysctl() != "1" and time.time() < deadline:
            time.sleep(0.02)
        assert sysctl() == "1"
        time.sleep(0.3)
        p.send_signal(sig)
        _, err = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err
    assert "set to 1 by ebee (restored to 0 at exit)" in err
    assert sysctl() == "0"


def test_sysctl_fallback_restored_on_error():
    if sysctl() != "0":
        pytest.skip("kernel.bpf_stats_enabled is already on")
    fd = pu.load_socket_filter(NAME + "e")
    try:
        env = dict(os.environ, EBEE_STATS_VIA_SYSCTL="1")
        p = run(["bench", "--prog", str(pu.prog_id(fd)), "--", "false"], check=1, env=env)
        assert "failed" in p.stderr
        assert sysctl() == "0"
        p = run(["top", "-b", "-n", "1", "-i", "0.1", "--keep-stats"], check=0, env=env)
        assert sysctl() == "1", "--keep-stats leaves it on"
    finally:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write("0")
        os.close(fd)
