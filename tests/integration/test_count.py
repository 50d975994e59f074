"""ebee count against real workloads: counts must match what the test itself did."""
import os
import signal
import subprocess
import time

import pytest

from conftest import EBEE, Ebee, assert_clean, bpf_ids, json_lines, run

NOBODY = 65534


def workload(comm, fn, uid=None, cgroup=None):
    """Runs fn() in a child named `comm` (optionally as uid / in a cgroup); returns when done."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(w)
            if cgroup:
                with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
                    f.write(str(os.getpid()))
            with open("/proc/self/comm", "w") as f:
                f.write(comm)
            if uid is not None:
                os.setgid(uid)
                os.setuid(uid)
            os.read(r, 1)   # wait for the go
            fn()
        finally:
            os._exit(0)
    os.close(r)
    return pid, w


def go(pid, w):
    os.write(w, b"x")
    os.close(w)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def forks(n):
    def fn():
        for _ in range(n):
            c = os.fork()
            if c == 0:
                os._exit(0)
            os.waitpid(c, 0)
    return fn


def getppids(n):
    def fn():
        for _ in range(n):
            os.getppid()
    return fn


def rows(e, **match):
    return [r for r in e.rows() if all(r.get(k) == v for k, v in match.items())]


def test_clones_per_uid(ebee_start):
    n = 25
    pid, w = workload("ebt_fork", forks(n), uid=NOBODY)
    e = ebee_start(["count", "--by", "uid,comm", "--json", "--top", "0"])
    go(pid, w)
    e.stop()
    assert e.proc.returncode == 0, e.stderr
    mine = rows(e, uid=NOBODY, comm="ebt_fork")
    assert len(mine) == 1, e.stdout
    # One clone per fork, counted at syscall entry (a fork is not counted twice).
    assert mine[0]["count"] == n
    assert mine[0]["user"] == "nobody"


def test_uid_filter_excludes_others(ebee_start):
    n = 10
    p1, w1 = workload("ebt_nob", forks(n), uid=NOBODY)
    p2, w2 = workload("ebt_root", forks(n))
    e = ebee_start(["count", "--by", "uid,comm", "--uid", "nobody", "--json", "--top", "0"])
    go(p1, w1)
    go(p2, w2)
    e.stop()
    out = e.rows()
    assert out, e.stderr
    assert all(r["uid"] == NOBODY for r in out), out
    assert [r["count"] for r in out if r["comm"] == "ebt_nob"] == [n]
    assert not [r for r in out if r["comm"] == "ebt_root"]


def test_syscall_storm_all(ebee_start):
    n = 20000
    pid, w = workload("ebt_storm", getppids(n))
    e = ebee_start(["count", "--all", "--by", "syscall", "--comm", "ebt_storm", "--json", "--top", "0"])
    go(pid, w)
    e.stop()
    got = {r["syscall"]: r["count"] for r in e.rows()}
    assert got.get("getppid") == n, got


def test_by_syscall_array_path(ebee_start):
    """--by syscall alone uses a per-CPU array instead of the hash; counts must still be exact."""
    n = 5000
    pid, w = workload("ebt_arr", getppids(n))
    # Filtered by pid so nothing else on the machine adds to getppid.
    e = ebee_start(["count", "--syscall", "getppid", "--by", "syscall", "--pid", str(pid), "--json"])
    go(pid, w)
    e.stop()
    assert [(r["syscall"], r["count"]) for r in e.rows()] == [("getppid", n)]


def test_by_pid_and_interval(ebee_start):
    n = 3000

    def bursts():   # two bursts a second apart: at least two 0.3 s tables see calls
        getppids(n // 2)()
        time.sleep(1.0)
        getppids(n - n // 2)()

    pid, w = workload("ebt_int", bursts)
    e = ebee_start(["count", "-s", "getppid", "--by", "pid,comm", "--interval", "0.3", "--json"])
    go(pid, w)
    time.sleep(0.7)
    e.stop()
    mine = rows(e, pid=pid)
    # Interval tables hold deltas: they add up to the exact total, over one or more tables.
    assert sum(r["count"] for r in mine) == n, mine
    assert len({r["ts"] for r in e.rows()}) >= 2


def test_cgroup_filter(ebee_start, tmp_path):
    root = "/sys/fs/cgroup/unified"
    if not os.path.isdir(root):
        pytest.skip("cgroup2 not mounted at /sys/fs/cgroup/unified")
    cg = os.path.join(root, f"ebee-test-{os.getpid()}")
    os.mkdir(cg)
    try:
        n = 700
        p1, w1 = workload("ebt_cgin", getppids(n), cgroup=cg)
        p2, w2 = workload("ebt_cgout", getppids(n))
        e = ebee_start(["count", "-s", "getppid", "--by", "comm,cgroup", "--cgroup", cg, "--json"])
        go(p1, w1)
        go(p2, w2)
        e.stop()
        out = e.rows()
        assert [(r["comm"], r["count"], r["cgroup"]) for r in out] == [("ebt_cgin", n, cg[len(root):])]
        assert out[0]["cgroup_id"] == os.stat(cg).st_ino
    finally:
        os.rmdir(cg)


def test_table_output(ebee_start):
    pid, w = workload("ebt_tab", getppids(100))
    e = ebee_start(["count", "-s", "getppid", "--by", "comm,syscall", "--comm", "ebt_tab"])
    go(pid, w)
    e.stop()
    lines = e.stdout.splitlines()
    assert lines[0].split() == ["COMM", "SYSCALL", "COUNT"]
    assert lines[1].split() == ["ebt_tab", "getppid", "100"]


def test_duration_ends_by_itself():
    t = time.time()
    p = run(["count", "--duration", "0.5", "--json"], timeout=30, check=0)
    assert time.time() - t < 15
    assert p.stderr == "" or "warning" not in p.stderr


def _disposition(action):
    # The child's SIGINT disposition is set here, not inherited from whatever started pytest
    # (a background job of a script has SIGINT ignored).
    return lambda: signal.signal(signal.SIGINT, action)


@pytest.mark.parametrize("inherited", ["default", "ignored"])
def test_sigint_at_any_moment(inherited):
    """Ctrl-C during start-up, load or the loop. With SIGINT at its default, a clean exit (or
    the default action before the loop exists, when nothing is loaded yet); inherited as
    ignored (a background job), ebee honours that at every moment and SIGTERM ends it cleanly.
    Nothing is ever left loaded."""
    action = signal.SIG_DFL if inherited == "default" else signal.SIG_IGN
    for delay in (0.0, 0.02, 0.05, 0.1, 0.2, 0.4):
        p = subprocess.Popen([EBEE, "count", "--json"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, preexec_fn=_disposition(action))
        try:
            # Every program and link the process ever held, sampled until the signal: after exit
            # none of them may still exist (other tests may load count programs of their own).
            progs, links = set(), set()
            end = time.time() + delay
            while True:
                progs |= bpf_ids(p.pid)
                links |= bpf_ids(p.pid, "link_id")
                if time.time() >= end:
                    break
                time.sleep(0.005)
            p.send_signal(signal.SIGINT)
            if inherited == "ignored":
                # Still counting well after the SIGINT, whatever the moment it came.
                with pytest.raises(subprocess.TimeoutExpired):
                    p.wait(timeout=0.5)
                progs |= bpf_ids(p.pid)
                links |= bpf_ids(p.pid, "link_id")
                p.send_signal(signal.SIGTERM)
            out, err = p.communicate(timeout=30)
        finally:
            # A test that gives up still kills what it started.
            if p.poll() is None:
                p.kill()
                p.communicate()
        stopper = signal.SIGINT if inherited == "default" else signal.SIGTERM
        # Before the loop exists the signal's default action ends the process; after, a clean exit.
        assert p.returncode in (0, -stopper), (delay, p.returncode, err)
        assert "AddressSanitizer" not in err and "runtime error" not in err, err
        assert_clean(progs, links)


def test_sigkill_leaves_nothing(ebee_start):
    """All of count's attachments are fd-based (tp_btf/raw_tp links, perf-event tracepoints): the
    kernel frees them with the process, so even SIGKILL leaves nothing behind."""
    e = ebee_start(["count", "--all"])
    e.proc.kill()
    e.proc.wait()
    assert_clean(e.progs, e.links)


@pytest.mark.parametrize("disable,kind", [("tp_btf", "raw_tp"), ("tp_btf,raw_tp", "tracepoint")])
def test_fallback_variants_count_the_same(ebee_start, disable, kind):
    """Probe-then-choose: with the preferred kinds unavailable the next variant loads and the
    counts are the same (EBEE_DISABLE makes ebee treat kinds as missing)."""
    n = 2000
    pid, w = workload("ebt_fb", getppids(n))
    env = dict(os.environ, EBEE_DISABLE=disable)
    e = ebee_start(["-v", "count", "-s", "getppid", "--by", "comm", "--comm", "ebt_fb", "--json"], env=env)
    go(pid, w)
    e.stop()
    assert [r["count"] for r in e.rows()] == [n]
    assert f"using {kind}" in e.stderr


def test_no_usable_variant_is_a_clear_error():
    env = dict(os.environ, EBEE_DISABLE="tp_btf,raw_tp,tracepoint")
    p = run(["count"], env=env)
    assert p.returncode == 1
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "no way to attach to 'raw_syscalls:sys_enter'" in lines[0], p.stderr
    assert "see 'ebee doctor'" in lines[0]


def test_children_follow_forks(ebee_start):
    """--pid P --children counts P and the processes it forks after ebee started (grand-
    children too), not a sibling of P doing the same."""
    n = 40

    def family():
        def grandchild():
            with open("/proc/self/comm", "w") as f:
                f.write("ebt_kid2")
            getppids(n)()
        c = os.fork()
        if c == 0:
            try:
                with open("/proc/self/comm", "w") as f:
                    f.write("ebt_kid1")
                getppids(n)()
                g = os.fork()
                if g == 0:
                    try:
                        grandchild()
                    finally:
                        os._exit(0)
                os.waitpid(g, 0)
            finally:
                os._exit(0)
        os.waitpid(c, 0)

    p, w = workload("ebt_par", family)
    s, sw = workload("ebt_kid1", getppids(n))   # same comm, not a descendant
    e = ebee_start(["count", "-s", "getppid", "--by", "comm", "--pid", str(p), "--children",
                    "--json"], min_progs=3)
    go(p, w)
    go(s, sw)
    e.stop()
    got = {r["comm"]: r["count"] for r in e.rows()}
    assert got == {"ebt_kid1": n, "ebt_kid2": n}, got


def test_filter_block_bad_input():
    for args, needle in ((["--children"], "--children needs --pid"),
                         (["--container", "xyz!"], "is not hex"),
                         (["--uid", "no-such-user-xyz"], "does not exist")):
        p = run(["count"] + args, timeout=30)
        assert p.returncode == 2 and needle in p.stderr, (args, p.stderr)
