"""Every collector's --json run ends with the same summary line:
{"type":"summary","collector":NAME,"events":N,"lost":N,"missed":N,"duration_s":S, ...extras},
whether it ends by its duration or by Ctrl-C; in table mode the summary is a line on stderr
only with -v (or a warning when something was lost)."""
import subprocess

import pytest

from conftest import data_rows, run, summary_row
from uprobe_util import build_c, wait_attached


def loopback_connects(n=3):
    import socket
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    for _ in range(n):
        c = socket.create_connection(srv.getsockname())
        s, _ = srv.accept()
        c.close()
        s.close()
    srv.close()


@pytest.mark.parametrize("args,name,extra", [
    (["count", "-s", "getppid", "--by", "syscall"], "count", {"keys"}),
    (["tcp", "states", "--raddr", "127.0.0.1"], "tcp", {"mode"}),
    (["tcp", "life", "--raddr", "127.0.0.1"], "tcp", {"mode"}),
    (["tcp", "count", "--raddr", "127.0.0.1"], "tcp", {"mode"}),
    (["top", "-b", "-i", "0.2"], "prog", {"programs", "samples"}),
])
def test_json_run_ends_with_summary(ebee_start, args, name, extra):
    e = ebee_start(["--json"] + args, min_progs=1)
    loopback_connects()
    e.stop()
    s = summary_row(e.stdout, name)
    assert extra <= set(s), s
    assert s["duration_s"] > 0.1, s
    if name == "tcp":
        assert s["events"] >= 1, s   # our own connects (rows for states/life, counted for count)
    if args[0] == "tcp" and args[1] != "count":
        assert s["events"] == len(data_rows(e.stdout)), s


def test_uprobe_json_run_ends_with_summary(ebee_start, tmp_path):
    prog = subprocess.Popen([build_c(str(tmp_path))], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    try:
        prog.stdout.readline()
        e = ebee_start(["-j", "uprobe", "-p", str(prog.pid), "compute"])
        wait_attached(e)
        for i in range(5):
            prog.stdin.write(f"w{i} {i}\n")
            prog.stdin.flush()
            prog.stdout.readline()
        e.stop()
        s = summary_row(e.stdout, "uprobe")
        calls = [r for r in data_rows(e.stdout) if "time" in r]
        assert s["events"] == len(calls) == 5 and s["lost"] == 0, (s, calls)   # one event per call
    finally:
        prog.kill()
        prog.wait()


def test_duration_end_and_table_mode():
    p = run(["--json", "count", "-d", "0.3"], check=0)
    summary_row(p.stdout, "count")
    # table mode: nothing on stderr unless asked (-v) or something was lost
    p = run(["count", "-d", "0.3"], check=0)
    assert "summary" not in p.stdout and p.stderr == "", p.stderr
    p = run(["-v", "count", "-d", "0.3"], check=0)
    assert "count: " in p.stderr and "none lost or missed" in p.stderr, p.stderr


def test_lost_is_warned_in_table_mode():
    # a counter map of 16 keys for every (pid, syscall) pair fills at once: the test makes the
    # pids itself (forty short processes), so it does not depend on how busy the machine is
    load = subprocess.Popen(["sh", "-c", "sleep 0.1; for i in $(seq 40); do /bin/true; done"])
    p = run(["count", "--all", "--by", "pid,syscall", "--max-entries", "16", "-d", "0.5"], check=0)
    load.wait()
    assert "lost " in p.stderr and "raise --max-entries" in p.stderr, p.stderr
