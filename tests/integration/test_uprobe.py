"""ebee uprobe against real running programs: a Go HTTP server (unstripped, stripped, stripped
PIE) and a C program, built here. Every run attaches to a process that is already running,
sends it known inputs, and checks each call, its return value and latency."""
import math
import os
import signal
import subprocess
import time

import pytest

from conftest import assert_clean, json_lines, run, summary_row
from uprobe_util import (GoServer, build_c, build_go, c_compute, go_hash, wait_attached)


@pytest.fixture(scope="module")
def go_bins(tmp_path_factory):
    bins = build_go(str(tmp_path_factory.mktemp("upgo")))
    if not bins:
        pytest.skip("go compiler not installed (golang-go)")
    return bins


@pytest.fixture(scope="module")
def c_prog(tmp_path_factory):
    return build_c(str(tmp_path_factory.mktemp("upc")))


@pytest.fixture
def server(go_bins):
    started = []

    def _start(variant="plain"):
        s = GoServer(go_bins[variant])
        started.append(s)
        return s
    yield _start
    for s in started:
        s.stop()


def calls(events, func):
    return [e for e in events if e.get("func") == func and "time" in e]



def summary(events, func):
    rows = [e for e in events if e.get("func") == func and "calls" in e]
    assert len(rows) == 1, events
    return rows[0]


def assert_server_ok(srv):
    # still serving, correct answers, and nothing in its output about a crash or a trap
    assert srv.alive()
    assert srv.get("after")[0] == go_hash("after")
    out = srv.output()
    for bad in ("panic", "fatal error", "SIGTRAP", "unexpected signal", "goroutine "):
        assert bad not in out, out


@pytest.mark.parametrize("variant", ["plain", "stripped", "pie"])
def test_go_server_args_returns_latency(ebee_start, server, variant):
    srv = server(variant)
    srv.get("warmup")   # not traced: must not show up
    e = ebee_start(["-j", "uprobe", "-p", str(srv.pid), "main.process", "input:str -> int"])
    assert wait_attached(e) >= 2   # entry + at least one RET

    expected = {}
    for i in range(20):
        inp = f"plain{i}x{variant}"
        expected[inp] = srv.get(inp)[0]
    # frames of 512 bytes, then small ones, between the handler and process: for some of these
    # the stack check in process's own prologue fails and the runtime grows the stack first
    # (the small frames cover more than the 1 KiB between two depths: every stack offset up
    # to ~17 KiB is swept, so the 8 and 16 KiB boundaries are met in process's prologue)
    for d in range(0, 30, 2):
        for k in range(0, 40):
            inp = f"deep{d}x{k}"
            expected[inp] = srv.get(inp, depth=d, small=k)[0]
    # process itself recurses through 128 KiB: the stack is copied between entry and RET
    for i in range(5):
        inp = f"grow{i}"
        expected[inp] = srv.get(inp)[0]
    # slow calls at the same time: goroutines sleep, park and resume, maybe on other threads
    res, gid = srv.get_gid("gidcheck")
    expected["gidcheck"] = res
    slow = {f"slow{ms}-{k}": ms for k, ms in enumerate([150, 250, 350, 450])}
    timed = srv.concurrent([(s, 0) for s in slow])
    for s, (res, _) in timed.items():
        expected[s] = res

    time.sleep(0.2)
    e.stop()
    assert e.proc.returncode == 0, e.stderr
    ev = e.json()
    got = calls(ev, "main.process")
    seen = {}
    for c in got:
        inp = c["args"]["input"]
        assert inp not in seen, f"input {inp!r} reported twice: {seen[inp]} and {c}"
        seen[inp] = c
    assert set(seen) == set(expected), (set(expected) ^ set(seen))
    for inp, want in expected.items():
        assert go_hash(inp) == want
        assert seen[inp]["ret"] == want, (inp, seen[inp])
        assert seen[inp]["pid"] == srv.pid
        assert seen[inp]["goid"] > 0
    assert seen["gidcheck"]["goid"] == gid, (seen["gidcheck"], gid)
    for s, ms in slow.items():
        lat_ms = seen[s]["lat_ns"] / 1e6
        client_ms = timed[s][1] * 1000
        assert ms <= lat_ms <= client_ms + 5, (s, lat_ms, client_ms)
        assert client_ms - lat_ms < 150, (s, lat_ms, client_ms)
    st = summary(ev, "main.process")
    assert st["calls"] == st["returns"] == len(expected), st
    assert st["unmatched"] == 0, st
    assert summary_row(e.stdout, "uprobe")["lost"] == 0
    # process's prologue did grow the stack (a pass that was not counted as a call)
    assert st["stack_grown"] >= 1, st
    assert_server_ok(srv)


def test_go_recursion_across_stack_copies(ebee_start, server):
    # grow(64) recurses through 2 KiB frames: the stack is copied several times while the
    # calls are open; every level must still be paired with its own return (grow(n) = n)
    srv = server("stripped")
    e = ebee_start(["-j", "uprobe", "-p", str(srv.pid), "main.grow", "n:int -> int"])
    wait_attached(e)
    srv.get("grow0")
    e.stop()
    ev = e.json()
    got = sorted((c["args"]["n"], c["ret"], c["lat_ns"]) for c in calls(ev, "main.grow"))
    assert [(n, r) for n, r, _ in got] == [(n, n) for n in range(65)], got
    lats = [lat for _, _, lat in got]
    assert lats == sorted(lats), "an outer call must last longer than the calls it contains"
    assert len({c["goid"] for c in calls(ev, "main.grow")}) == 1
    st = summary(ev, "main.grow")
    assert st["calls"] == st["returns"] == 65 and st["unmatched"] == 0, st
    assert_server_ok(srv)


def test_go_slice_arg_string_result(ebee_start, server):
    srv = server("pie")
    e = ebee_start(["-j", "uprobe", "-p", str(srv.pid), "main.mix", "b:bytes[16], k:int -> str"])
    wait_attached(e)
    long = "0123456789abcdefghijklmnopqrstuvwxyz"
    for inp in ("abcdefgh", long, ""):
        srv.get(inp)
    e.stop()
    got = [(c["args"]["b"], c["args"]["k"], c["ret"]) for c in calls(e.json(), "main.mix")]
    assert got == [("abcdefgh".encode().hex(), 8, "abcd"),
                   (long[:16].encode().hex(), len(long), long[:len(long) // 2]),
                   ("", 0, "")], got


def test_go_hist_in_kernel(ebee_start, server, go_bins):
    srv = server("pie")
    # by path, without -p: every process running this binary (only ours does)
    e = ebee_start(["-j", "uprobe", "--hist", go_bins["pie"] + ":main.process"])
    wait_attached(e)
    n = 12
    for i in range(n - 2):
        srv.get(f"h{i}")
    srv.concurrent([("slow120-a", 0), ("slow120-b", 0)])
    e.stop()
    ev = e.json()
    assert not calls(ev, "main.process"), "--hist must not emit one event per call"
    st = summary(ev, "main.process")
    assert st["calls"] == st["returns"] == n and st["unmatched"] == 0, st
    hist = [r for r in ev if "hist_lo_ns" in r]
    assert all(r["func"] == "main.process" and r["count"] > 0 for r in hist), hist
    assert sum(b["count"] for b in hist) == n
    # the two 120 ms calls land in the bucket [2^26, 2^27) ns = [67 ms, 134 ms)
    assert sum(b["count"] for b in hist if b["hist_lo_ns"] == 1 << 26) == 2, hist
    assert 120e3 / n <= st["avg_us"], st
    assert_server_ok(srv)


def test_go_list(go_bins):
    for variant, src in (("plain", "symtab"), ("stripped", "pclntab"), ("pie", "pclntab")):
        p = run(["-j", "uprobe", "--list", go_bins[variant], "main.*"], check=0)
        rows = {r["func"]: r for r in json_lines(p.stdout)}
        assert {"main.process", "main.grow", "main.descend", "main.main"} <= set(rows), rows
        assert rows["main.process"]["source"] == src
        assert rows["main.process"]["size"] > 0


def test_list_pid(server):
    srv = server("pie")
    p = run(["-j", "uprobe", "--list", "-p", str(srv.pid), "main.proc*"], check=0)
    assert [r["func"] for r in json_lines(p.stdout)] == ["main.process"]
    p = run(["-j", "uprobe", "--list", "-p", str(srv.pid)], check=0)
    assert len(json_lines(p.stdout)) > 1000   # the whole Go program, runtime included


def test_c_binary_and_libc(ebee_start, c_prog):
    prog = subprocess.Popen([c_prog], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert prog.stdout.readline().strip() == "ready"
        e = ebee_start(["-j", "uprobe", "-p", str(prog.pid), "compute", "word:str, n:int -> long",
                        "libc:atoi", "s:str", "--ret", "int"])
        assert wait_attached(e) == 4   # two entries, two uretprobes
        inputs = [("hello", 42), ("abc", -7), ("zeta", 123456), ("q", 0)]
        for w, n in inputs:
            prog.stdin.write(f"{w} {n}\n")
            prog.stdin.flush()
            assert prog.stdout.readline().split() == [str(c_compute(w, n)), str(n)]
        e.stop()
        ev = e.json()
        comp = calls(ev, "compute")
        atoi = calls(ev, "atoi")
        assert [(c["args"]["word"], c["args"]["n"], c["ret"]) for c in comp] == \
            [(w, n, c_compute(w, n)) for w, n in inputs]
        assert [(c["args"]["s"], c["ret"]) for c in atoi] == [(str(n), n) for _, n in inputs]
        for c in comp + atoi:
            assert c["pid"] == prog.pid and c["tid"] == prog.pid and c["lat_ns"] > 0
            assert "goid" not in c
        for f in ("compute", "atoi"):
            st = summary(ev, f)
            assert st["calls"] == st["returns"] == len(inputs) and st["unmatched"] == 0, st
        assert summary(ev, "atoi")["binary"].endswith("libc.so.6")
        assert prog.poll() is None
    finally:
        prog.kill()
        prog.wait()


def test_c_recursion(ebee_start, c_prog):
    prog = subprocess.Popen([c_prog], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        prog.stdout.readline()
        e = ebee_start(["-j", "uprobe", "-p", str(prog.pid), "fact", "n:int -> long"])
        wait_attached(e)
        prog.stdin.write("fact 10\n")
        prog.stdin.flush()
        assert prog.stdout.readline().split() == ["3628800", "10"]
        e.stop()
        got = sorted((c["args"]["n"], c["ret"]) for c in calls(e.json(), "fact"))
        assert got == [(n, math.factorial(n)) for n in range(1, 11)], got
        st = summary(e.json(), "fact")
        assert st["calls"] == st["returns"] == 10 and st["unmatched"] == 0, st
    finally:
        prog.kill()
        prog.wait()


def test_c_count(ebee_start, c_prog):
    prog = subprocess.Popen([c_prog], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        prog.stdout.readline()
        e = ebee_start(["-j", "uprobe", "--count", "-p", str(prog.pid), "compute"])
        wait_attached(e)
        for i in range(50):
            prog.stdin.write(f"w{i} {i}\n")
            prog.stdin.flush()
            prog.stdout.readline()
        e.stop()
        st = summary(e.json(), "compute")
        assert st["calls"] == st["returns"] == 50 and st["unmatched"] == 0, st
    finally:
        prog.kill()
        prog.wait()


def test_traced_process_exits(ebee_start, c_prog):
    prog = subprocess.Popen([c_prog], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    prog.stdout.readline()
    e = ebee_start(["-j", "uprobe", "-p", str(prog.pid), "compute", "w:str"])
    wait_attached(e)
    prog.stdin.write("bye 1\n")
    prog.stdin.close()   # the program reads EOF and exits
    prog.wait(10)
    e.wait(timeout=10)   # ebee ends by itself
    out, err = e.stdout, e.stderr
    assert e.proc.returncode == 0, err
    assert "exited" in err
    assert [c["args"]["w"] for c in calls(json_lines(out), "compute")] == ["bye"]
    assert_clean(e.progs, e.links)


def patched(src, dst, find_after, old, new):
    data = bytearray(open(src, "rb").read())
    start = data.find(find_after) if find_after else 0
    i = data.find(old, start)
    assert start >= 0 and i >= 0
    data[i:i + len(old)] = new
    with open(dst, "wb") as f:
        f.write(data)
    os.chmod(dst, 0o755)
    return dst


def test_bad_inputs(go_bins, tmp_path, server):
    srv = server("plain")
    go = go_bins["plain"]
    notelf = tmp_path / "notelf"
    notelf.write_text("#!/bin/sh\necho hi\n")
    old_go = patched(go, str(tmp_path / "go116"), b"\xff Go buildinf:", b"go1.19", b"go1.16")
    odd_layout = patched(go_bins["stripped"], str(tmp_path / "oddpcln"), None,
                         b"\xf0\xff\xff\xff\x00\x00\x01\x08", b"\xf9\xff\xff\xff\x00\x00\x01\x08")
    cases = [
        (["/nonexistent/srv:main.process"], "binary '/nonexistent/srv' not found"),
        ([f"{go}:main.proces"], "did you mean 'main.process'"),
        ([f"{go}:main.process", "input:strr"], "bad ARGSPEC at character 7: unknown type 'strr'"),
        ([f"{go}:main.process", "input:str n:int"], "bad ARGSPEC at character 11"),
        ([f"{go}:main.process", "input:bytes[0]"], "bad ARGSPEC at character 13"),
        ([f"{go}:main.process", "a:str,b:str,c:str,d:str,e:str"], "passed on the stack"),
        ([f"{go}:main.process", "--ret", "strng"], "bad --ret type at character 1"),
        ([f"{notelf}:main"], "is not an ELF file"),
        ([f"{old_go}:main.process"], "register ABI of Go 1.17"),
        ([f"{odd_layout}:main.process"], "layout ebee does not know"),
        ([f"{go}:runtime.morestack"], "deny list"),
        ([f"{go}:main.process", "--deny", "main.*"], "deny list"),
        (["-p", str(srv.pid), "main.process", "--max-probes", "1"], "more than --max-probes 1"),
        (["-p", "4000000", "main.process"], "process 4000000 not found"),
        (["libc:strlen"], "IFUNC"),
    ]
    for args, msg in cases:
        p = run(["uprobe"] + args)
        assert p.returncode != 0, (args, p.stdout, p.stderr)
        assert msg in p.stderr, (args, p.stderr)
        assert p.stderr.count("ebee:") == 1, p.stderr   # one error line
        assert p.stdout == "", p.stdout
    # the caret points at the offending character
    p = run(["uprobe", f"{go}:main.process", "input:str, n:itn"])
    lines = p.stderr.splitlines()
    assert lines[1].strip() == "input:str, n:itn"
    assert lines[2].index("^") == lines[1].index("itn")
    # a kernel without uprobes (simulated): a clear error, not a libbpf trace
    p = run(["uprobe", f"{go}:main.process"], env=dict(os.environ, EBEE_DISABLE="uprobe"))
    assert p.returncode == 1 and "uprobe" in p.stderr and "EBEE_DISABLE" in p.stderr, p.stderr
    # JSON mode: the error is a JSON object
    p = run(["-j", "uprobe", f"{go}:main.nothere"])
    assert p.returncode != 0 and "not found" in json_lines(p.stdout + p.stderr)[0]["error"]
    assert_server_ok(srv)
