"""Faults on demand: ebee reports and survives what a test machine rarely does by itself.

bpf() commands and opens for writing are made to fail or stall by tests/fault/fault.c, an
LD_PRELOAD shim (ebee carries no fault code: libbpf reaches the kernel through libc's
syscall()). Conditions the kernel can be driven into for real are driven for real: a cgroup
removed under a filter, a traced process that execs and exits, a stdout nobody reads while
ebee drains, every stop signal at every stage. Covered elsewhere and not repeated here: a full
count map (test_summary.py::test_lost_is_warned_in_table_mode), a full ring buffer
(test_tcp.py::test_states_overflow_counted, test_graph.py's tiny ring)."""
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import EBEE, ROOT, SAN, bpf_ids, json_lines

FAULT_SRC = os.path.join(ROOT, "tests", "fault", "fault.c")


@pytest.fixture(scope="module")
def shim(tmp_path_factory):
    lib = str(tmp_path_factory.mktemp("fault") / "libebeefault.so")
    subprocess.run(["cc", "-O1", "-Wall", "-shared", "-fPIC", "-o", lib, FAULT_SRC, "-ldl"],
                   check=True)
    return lib


def fault_env(shim, spec):
    env = dict(os.environ, LD_PRELOAD=shim, EBEE_FAULT=spec)
    if SAN:   # ASan wants to come first in the library list; the shim does not allocate
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"
    return env


def run_env(args, env, timeout=60):
    return subprocess.run([EBEE] + args, capture_output=True, text=True, env=env, timeout=timeout)


def ebee_lines(stderr):
    """ebee's own stderr lines (the shim's 'ebee-fault:' notes apart)."""
    return [l for l in stderr.splitlines() if l.strip() and not l.startswith("ebee-fault:")]


def no_sanitizer_report(stderr):
    return "Sanitizer" not in stderr and "runtime error" not in stderr


LOAD_CMDS = [
    pytest.param(["count", "-d", "1"], id="count"),
    pytest.param(["tcp", "states", "-d", "1"], id="tcp"),
    pytest.param(["exec", "-d", "1"], id="exec"),
]


@pytest.mark.parametrize("spec,cause", [("prog_load:ENOMEM", "Cannot allocate memory"),
                                        ("map_create:ENOMEM:skip=3", "Cannot allocate memory"),
                                        ("map_create:EPERM:skip=3", "Operation not permitted")])
@pytest.mark.parametrize("args", LOAD_CMDS)
def test_load_fails_clear_error_nothing_attached(shim, args, spec, cause):
    """The kernel refuses the load (no memory for a map or a program): one error line with the
    cause, exit 1, no row printed, and the process held nothing when it ended."""
    p = run_env(args, fault_env(shim, spec))
    assert "ebee-fault:" in p.stderr, p.stderr   # the fault fired
    lines = ebee_lines(p.stderr)
    assert p.returncode == 1, p.stderr
    assert len(lines) == 1 and lines[0].startswith("ebee: ") and cause in lines[0], lines
    assert p.stdout.strip() == "" or "COUNT" not in p.stdout
    assert no_sanitizer_report(p.stderr)


def test_attach_refused_falls_back_or_fails_cleanly(shim):
    """Every BPF link refused: count either attaches through another kind (perf event) and says
    which, or fails with one line. Never a half-attached run."""
    p = run_env(["-v", "count", "-d", "0.5"], fault_env(shim, "link_create:EPERM;raw_tp_open:EPERM"))
    assert "ebee-fault:" in p.stderr
    lines = ebee_lines(p.stderr)
    if p.returncode == 0:
        assert any("using tracepoint" in l for l in lines), lines
    else:
        assert p.returncode == 1 and [l for l in lines if l.startswith("ebee: ")], lines
    assert no_sanitizer_report(p.stderr)


def test_stats_fd_refused_falls_back_to_sysctl_and_restores(shim):
    """No BPF_ENABLE_STATS fd: top switches kernel.bpf_stats_enabled on and restores it; when
    the sysctl cannot be written either, one error line and exit 1."""
    path = "/proc/sys/kernel/bpf_stats_enabled"
    with open(path) as f:
        before = f.read().strip()
    if before == "1":
        pytest.skip("kernel.bpf_stats_enabled is already 1: the fallback would change nothing")
    p = run_env(["top", "--batch", "--interval", "0.2", "--count", "1"],
                fault_env(shim, "enable_stats:EINVAL"))
    assert p.returncode == 0, p.stderr
    assert "enable_stats EINVAL" in p.stderr
    with open(path) as f:
        assert f.read().strip() == before
    p = run_env(["top", "--batch", "--interval", "0.2", "--count", "1"],
                fault_env(shim, f"enable_stats:EINVAL;open={path}:EACCES"))
    lines = ebee_lines(p.stderr)
    assert p.returncode == 1 and len(lines) == 1, p.stderr
    assert "bpf_stats_enabled" in lines[0] or "stats" in lines[0], lines
    assert "Permission denied" in lines[0], lines
    with open(path) as f:
        assert f.read().strip() == before


def _default_stop_signals():
    """In the child: SIGINT, SIGTERM and SIGHUP at their defaults. ebee honours a stop signal
    it inherits as ignored (a suite run under nohup or as a background job has them so), and
    these tests are about ebee obeying them."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


def _start(args, env=None, **kw):
    return subprocess.Popen([EBEE] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, start_new_session=True,
                            preexec_fn=_default_stop_signals, **kw)


def _wait_links(p, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if bpf_ids(p.pid, "link_id"):
            return True
        assert p.poll() is None, p.communicate()
        time.sleep(0.02)
    return False


def test_cgroup_vanishes_mid_run():
    """The cgroup that --cgroup names is removed while ebee counts in it: ebee goes on and
    ends normally (exit 0, the summary) when told to."""
    base = "/sys/fs/cgroup/unified"
    if not os.path.isdir(base):
        pytest.skip("no cgroup2 at /sys/fs/cgroup/unified")
    cg = os.path.join(base, f"ebee-fault-{os.getpid()}")
    os.mkdir(cg)
    worker = None
    try:
        worker = subprocess.Popen([sys.executable, "-c",
                                   "import os,time\nwhile True: os.getppid(); time.sleep(0.001)"])
        with open(os.path.join(cg, "cgroup.procs"), "w") as f:
            f.write(str(worker.pid))
        p = _start(["-j", "count", "--all", "--by", "syscall", "--cgroup", cg, "-i", "0.2"])
        assert _wait_links(p)
        time.sleep(0.5)
        worker.kill()
        worker.wait()
        deadline = time.monotonic() + 5
        while True:   # the dead worker leaves the cgroup a moment after
            try:
                os.rmdir(cg)
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        time.sleep(0.5)
        assert p.poll() is None, p.communicate()
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
        assert p.returncode == 0, err
        recs = json_lines(out)
        assert recs[-1]["type"] == "summary" and recs[-1]["events"] > 0, recs[-1:]
        assert no_sanitizer_report(err)
    finally:
        if worker and worker.poll() is None:
            worker.kill()
        if os.path.isdir(cg):
            os.rmdir(cg)


def test_traced_process_execs_then_exits():
    """--pid follows a process through exec (same pid, new comm) and outlives it."""
    prog = ("import os,time\n"
            "for _ in range(200): os.getppid()\n"
            "time.sleep(0.8)\n"
            "os.execv('/bin/sh', ['sh', '-c', 'for i in $(seq 300); do :; done; sleep 0.5'])\n")
    target = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.readline()\n" + prog],
                              stdin=subprocess.PIPE, text=True)
    p = _start(["-j", "count", "--all", "--by", "comm", "--pid", str(target.pid)])
    try:
        assert _wait_links(p)
        target.stdin.write("go\n")
        target.stdin.close()
        target.wait(timeout=20)
        time.sleep(0.3)
        assert p.poll() is None, p.communicate()
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err
    recs = json_lines(out)
    comms = {r.get("comm") for r in recs if r.get("type") != "summary"}
    assert {"python3", "sh"} <= comms or len(comms) >= 2, recs
    assert recs[-1]["type"] == "summary"


STOP_SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]


@pytest.mark.parametrize("sig", STOP_SIGNALS, ids=lambda s: s.name)
@pytest.mark.parametrize("stage", ["before_load", "during_load", "attached", "during_drain"])
def test_stop_signal_at_every_stage(shim, sig, stage):
    """SIGINT, SIGTERM and SIGHUP at each stage end ebee the same way: no error, no crash, exit 0
    (or the signal's own death before ebee took signals over, with nothing loaded yet), and
    nothing of it left in the kernel."""
    args = ["-j", "count", "--all", "--by", "syscall"]
    env = None
    if stage == "before_load":
        env = fault_env(shim, "any:delay=1500:count=1")   # the first bpf() call stalls
    elif stage == "during_load":
        env = fault_env(shim, "prog_load:delay=300")      # every program load takes 0.3 s
    elif stage == "during_drain":
        args += ["-i", "0.01"]                            # a table every 10 ms: the pipe fills
    p = _start(args, env=env)
    try:
        if stage in ("before_load", "during_load"):
            time.sleep(0.6)
            assert not bpf_ids(p.pid, "link_id")
            p.send_signal(sig)
            out, err = p.communicate(timeout=30)
        elif stage == "attached":
            assert _wait_links(p)
            p.send_signal(sig)
            out, err = p.communicate(timeout=30)
        else:
            assert _wait_links(p)
            time.sleep(1.5)          # nobody reads: ebee blocks writing its tables
            p.send_signal(sig)
            time.sleep(0.3)
            for other in STOP_SIGNALS:   # more signals while it is stopping
                p.send_signal(other)
            out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert no_sanitizer_report(err), err
    lines = [l for l in ebee_lines(err) if not l.startswith("ebee: warning")]
    assert not [l for l in lines if l.startswith("ebee: ")], lines
    if stage == "before_load":
        assert p.returncode in (0, -sig), (p.returncode, err)
    else:
        assert p.returncode == 0, (p.returncode, err)
    if stage in ("attached", "during_drain"):
        recs = json_lines(out)
        assert recs and recs[-1]["type"] == "summary", out[-300:]
