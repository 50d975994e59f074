"""ebee exec / open / events: real programs in the real kernel, a workload the test runs in a
cgroup of its own (named like a docker scope, so it is also the container test), every event
matched by the test's own pids."""
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import NO_MODULES, RAW_SYS_EXIT, bpf_ids, cgroup_dirs, prog_names, run

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, "events_work.py")


@pytest.fixture(scope="module")
def cg():
    """A cgroup like docker's: .../ebee-test-PID/docker-<64 hex>.scope; removed after."""
    cid = secrets.token_hex(32)
    for path in cgroup_dirs(f"ebee-test-{os.getpid()}", f"docker-{cid}.scope"):
        yield {"path": path, "id": cid}


MOD_RAW = not all(os.path.exists(f"/sys/kernel/tracing/events/syscalls/sys_enter_{n}")
                  for n in ("init_module", "finit_module"))
DISABLE = {"dispatch": "tracepoint", "regs": None, "stash": "tp_btf,task_pt_regs"}


@pytest.fixture(params=list(DISABLE))
def argsrc(request):
    """The three ways syscalls are taken: by default a tracepoint program per syscall reading
    the caller's saved user registers (bpf_task_pt_regs, 5.15+); where that helper is missing,
    arguments stashed per thread by sys_enter programs (forced here with EBEE_DISABLE, tp_btf
    too: the sched tracepoint fallbacks); and the tp_btf sys_exit dispatcher with the registers
    as its argument, chosen for module events without their own tracepoints (test_guard) or
    where tracepoints are not allowed (forced here)."""
    d = DISABLE[request.param]
    return {"mode": request.param, "stash": request.param == "stash",
            "env": dict(os.environ, EBEE_DISABLE=d) if d else None}


def start(ebee_start, args, argsrc=None):
    """ebee_start waits for programs to settle; loading dozens of programs on a busy machine
    pauses longer than its settle time, so also wait until every program has its link.
    argsrc: run that variant, with -v to report the choice (checked by stopped())."""
    e = ebee_start(["-v", *args] if argsrc else args, env=argsrc and argsrc["env"])
    e.stash = argsrc and argsrc["stash"]
    e.mode = argsrc and argsrc["mode"]
    # module events without their own tracepoints load a raw sys_exit program anyway: then
    # every syscall is taken by the dispatcher, where tp_btf is allowed
    if e.mode == "regs" and MOD_RAW and any("module" in a.split(",") for a in args):
        e.mode = "dispatch"
    deadline = time.time() + 60
    while time.time() < deadline:
        progs, links = bpf_ids(e.proc.pid), bpf_ids(e.proc.pid, "link_id")
        if progs and len(links) >= len(progs):
            e.progs, e.links = progs, links
            return e
        time.sleep(0.05)
    raise AssertionError(f"ebee {args} did not attach: {len(progs)} programs, {len(links)} links")


def spawn(cg, argv, **kw):
    """Runs argv inside the cgroup (moved there before exec) and waits for it."""
    procs = os.path.join(cg["path"], "cgroup.procs")

    def enter():
        with open(procs, "w") as f:
            f.write(str(os.getpid()))
    return subprocess.run(argv, preexec_fn=enter, capture_output=True, timeout=60, **kw)


def work(cg, *args):
    p = spawn(cg, [sys.executable, WORK, *args])
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.decode().strip().splitlines()[-1])


def stopped(e):
    """Stops e and checks it ran the variant asked for (argsrc)."""
    assert e.stop() == 0, e.stderr
    if e.stash is not None:
        assert ("syscall arguments: stashed per thread at sys_enter" in e.stderr) == e.stash
        want = "using tracepoint" if e.stash else "using task_pt_regs"
        assert f"hook 'syscall_args': {want}" in e.stderr, e.stderr
        want = "using tp_btf" if e.mode == "dispatch" else "using tracepoint"
        assert f"hook 'sys_exit': {want}" in e.stderr, e.stderr


def events(ebee_start, cg, args, fn, settle=0.5, argsrc=None):
    e = start(ebee_start, ["events", "--cgroup", cg["path"], *args], argsrc)
    out = fn()
    time.sleep(settle)   # the reader drains every 20 ms: let the last records arrive
    stopped(e)
    evs = e.json()
    assert evs and evs[-1]["type"] == "summary"
    return out, evs[:-1], evs[-1]


def of(evs, typ, pid=None):
    return [x for x in evs if x.get("evt.type") == typ and (pid is None or x["proc.pid"] == pid)]


@pytest.mark.parametrize("opt_in", [False, True], ids=["default", "module-attempts"])
def test_all_and_module_attempts(ebee_start, cg, opt_in):
    """--all on a kernel without module support leaves module-load attempts out: no program on
    the raw sys_exit (it would run on every syscall), the per-syscall tracepoints, an info line,
    no module event for the workload's finit_module; --module-attempts takes them again (the
    dispatcher, ENOSYS). A kernel with module support traces them either way, by tracepoint."""
    args = ["-v", "events", "--all", "--cgroup", cg["path"]] + (["--module-attempts"] if opt_in else [])
    e = ebee_start(args)
    names = prog_names(e.proc.pid)
    out = work(cg, "proc")
    time.sleep(0.5)
    assert e.stop() == 0, e.stderr
    evs = e.json()[:-1]
    mod = of(evs, "module", out["pid"])
    assert len(of(evs, "kill", out["pid"])) == 1   # the rest of the stream is there
    if NO_MODULES and not opt_in:
        assert not names & RAW_SYS_EXIT, names
        assert "hook 'sys_exit': using tracepoint" in e.stderr, e.stderr
        assert "module: left out of --all, a kernel without module support" in e.stderr
        assert "--module-attempts adds it" in e.stderr
        assert mod == []
    elif NO_MODULES:
        assert "ev_sys_exit" in names, names
        assert "hook 'sys_exit': using tp_btf" in e.stderr, e.stderr
        assert [(m["evt.syscall"], m["evt.errno"]) for m in mod] == [("finit_module", "ENOSYS")]
    else:
        assert not names & RAW_SYS_EXIT, names
        assert "module: " not in e.stderr
        assert [(m["evt.syscall"], m["evt.errno"]) for m in mod] == [("finit_module", "EBADF")]


def test_type_module_is_the_choice(ebee_start, cg):
    """--type module names the type: watched without --module-attempts, with an info line
    giving the cost where the kernel has no module support."""
    e = ebee_start(["-v", "events", "--type", "module", "--cgroup", cg["path"]])
    out = work(cg, "proc")
    time.sleep(0.5)
    assert e.stop() == 0, e.stderr
    mod = of(e.json()[:-1], "module", out["pid"])
    assert [m["evt.syscall"] for m in mod] == ["finit_module"]
    assert ("module: watched as asked, on a kernel without module support" in e.stderr) == NO_MODULES


def test_exec_argv_exact_once(ebee_start, cg, argsrc):
    many = [f"a{i}" for i in range(200)]
    odd = [b"with space", b"new\nline", b"\xff\xfe-not-utf8", b""]
    mark = secrets.token_hex(4)
    e = start(ebee_start, ["exec", "--json", "--cgroup", cg["path"]], argsrc)
    r1 = spawn(cg, ["/bin/true", mark, *many])
    r2 = spawn(cg, [b"/bin/true", mark.encode(), *odd])
    r3 = spawn(cg, [sys.executable, WORK, "exec0", "/bin/true"])
    with pytest.raises(FileNotFoundError):
        spawn(cg, ["/nonexistent/ebee-" + mark, "x"])
    time.sleep(0.5)
    stopped(e)
    assert r1.returncode == r2.returncode == r3.returncode == 0
    evs = e.json()
    assert evs[-1]["type"] == "summary" and evs[-1]["collector"] == "events" and evs[-1]["mode"] == "exec" and evs[-1]["lost"] == 0
    ex = [x for x in evs[:-1] if x["evt.type"] == "exec"]

    def args_bytes(x):
        return [a.encode("latin-1") for a in x["proc.args"]]
    one = [x for x in ex if args_bytes(x)[1:2] == [mark.encode()] and len(x["proc.args"]) == 202]
    assert len(one) == 1, ex
    # without tp_btf (stash forces it off) the exec comes from the sched_process_exec
    # tracepoint, which has no argc: 0 = unknown
    argc = 0 if argsrc["mode"] == "stash" else 202
    assert one[0]["evt.res"] == 0 and one[0]["proc.argc"] == argc
    assert args_bytes(one[0])[2:] == [a.encode() for a in many]
    assert one[0]["container.id"] == cg["id"][:12]
    two = [x for x in ex if args_bytes(x)[1:2] == [mark.encode()] and len(x["proc.args"]) == 6]
    assert len(two) == 1 and args_bytes(two[0])[2:] == odd
    # 0 args: since 5.18 the kernel passes an empty argv[0] instead of none
    zero = [x for x in ex if x["proc.exepath"] == "/bin/true" and x["proc.args"] in ([], [""])]
    assert len(zero) == 1 and zero[0]["evt.res"] == 0
    fail = [x for x in ex if x["proc.exepath"] == "/nonexistent/ebee-" + mark]
    assert len(fail) == 1 and fail[0]["evt.res"] == -2 and fail[0]["evt.errno"] == "ENOENT"
    assert fail[0]["proc.args"] == ["/nonexistent/ebee-" + mark, "x"]


def test_exec_failed_only_and_table(ebee_start, cg):
    mark = secrets.token_hex(4)
    e = start(ebee_start, ["exec", "--failed", "--cgroup", cg["path"]])
    spawn(cg, ["/bin/true", mark])
    with pytest.raises(FileNotFoundError):
        spawn(cg, ["/nonexistent/f-" + mark])
    time.sleep(0.5)
    e.stop()
    lines = [l for l in e.stdout.splitlines() if mark in l]
    assert len(lines) == 1 and "ENOENT" in lines[0], e.stdout


def test_exec_ancestry(ebee_start, cg):
    mark = secrets.token_hex(4)
    e = start(ebee_start, ["exec", "--json", "--ancestry", "3", "--cgroup", cg["path"]])
    p = subprocess.Popen(["/bin/sh", "-c", f"/bin/sh -c '/bin/echo {mark}; true'; true"],
                         preexec_fn=lambda: open(os.path.join(cg["path"], "cgroup.procs"), "w")
                         .write(str(os.getpid())), stdout=subprocess.PIPE)
    p.communicate(timeout=30)
    time.sleep(0.5)
    e.stop()
    ev = [x for x in e.json() if x.get("proc.args", [None, None])[1:] == [mark]]
    assert len(ev) == 1, e.stdout
    anc = ev[0]["proc.ancestors"]
    assert [a["comm"] for a in anc[:2]] == ["sh", "sh"], anc
    assert anc[1]["pid"] == p.pid and anc[2]["pid"] == os.getpid()


def test_exec_ancestry_of_a_tree_older_than_ebee(ebee_start, cg, tmp_path):
    """Three shells started before ebee (known only from /proc at its start), the fourth
    process exec'd after: its ancestors are the three, with their pids."""
    mark = secrets.token_hex(4)
    fifo = str(tmp_path / "go")
    os.mkfifo(fifo)
    # "; true" keeps each shell alive as the parent (dash would exec the last command)
    inner = f"read x < {fifo}; /bin/echo {mark}; true"
    p = subprocess.Popen(["/bin/sh", "-c", f"/bin/sh -c '/bin/sh -c \"{inner}\"; true'; true"],
                         preexec_fn=lambda: open(os.path.join(cg["path"], "cgroup.procs"), "w")
                         .write(str(os.getpid())), stdout=subprocess.PIPE)
    try:
        deadline = time.time() + 10   # the tree exists when its innermost shell does
        while time.time() < deadline and len(open(os.path.join(cg["path"], "cgroup.procs"))
                                             .read().split()) < 3:
            time.sleep(0.05)
        e = start(ebee_start, ["exec", "--json", "--ancestry", "3", "--cgroup", cg["path"]])
        with open(fifo, "w") as f:
            f.write("go\n")
        p.communicate(timeout=30)
        time.sleep(0.5)
        e.stop()
    finally:
        p.kill()
        p.wait()
    ev = [x for x in e.json() if x.get("proc.args", [None, None])[1:] == [mark]]
    assert len(ev) == 1, e.stdout
    anc = ev[0]["proc.ancestors"]
    assert [a["comm"] for a in anc] == ["sh", "sh", "sh"], anc
    assert anc[2]["pid"] == p.pid and anc[1]["pid"] != anc[0]["pid"], anc


def test_files(ebee_start, cg, argsrc):
    d = tempfile.mkdtemp(prefix="ebee-ev-")
    types = "open,rename,chmod,chown,symlink,link,unlink,mkdir,truncate,dup,close,memfd"
    out, evs, summ = events(ebee_start, cg, ["--type", types], lambda: work(cg, "files", d),
                            argsrc=argsrc)
    os.rmdir(d)
    pid = out["pid"]
    op = [x for x in of(evs, "open", pid) if x["fd.name"] == d + "/rel.txt"]
    assert len(op) == 1, of(evs, "open", pid)
    o = op[0]
    assert o["evt.res"] == out["fd"] and o["evt.dirfd"] == out["dirfd"]
    # glibc adds O_LARGEFILE on 64-bit; the rest is what the program asked for
    assert o["evt.flags"].startswith("O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC")
    assert o["evt.mode"] == "0640"
    assert o["container.id"] == cg["id"][:12] and o["proc.exe"].startswith("/")
    assert [x["evt.res"] for x in of(evs, "open", pid) if x["fd.name"] == d + "/cwd.txt"] != []
    gone = [x for x in of(evs, "open", pid) if x["fd.name"].endswith("/nofile")]
    assert len(gone) == 1 and gone[0]["evt.errno"] == "ENOENT"
    # resolved against the cwd as it was at the call, in the stream's order (chdir events)
    assert gone[0]["fd.name"] == d + "/gone/nofile"
    rn = of(evs, "rename", pid)
    assert [(x["fs.path.source"], x["fs.path.target"]) for x in rn] == \
        [(d + "/rel.txt", d + "/moved.txt")]
    assert [x["evt.mode"] for x in of(evs, "chmod", pid)] == ["0600"]
    assert [(x["fs.path.name"], x["evt.uid"], x["evt.gid"]) for x in of(evs, "chown", pid)] == \
        [(d + "/moved.txt", 0, 0)]
    assert [(x["fs.path.target"], x["fs.path.source"]) for x in of(evs, "symlink", pid)] == \
        [(d + "/sym", "moved.txt")]
    assert [x["fs.path.target"] for x in of(evs, "link", pid)] == [d + "/hard"]
    assert [x["evt.mode"] for x in of(evs, "mkdir", pid)] == ["0750", "0777"]
    assert [x["evt.length"] for x in of(evs, "truncate", pid)] == [7]
    assert any(x["evt.syscall"] == "dup2" and x["evt.res"] == 42 and x["fd.num"] == out["fd"]
               for x in of(evs, "dup", pid))
    assert any(x["fd.num"] == 42 and x["evt.res"] == 0 for x in of(evs, "close", pid))
    assert [(x["fd.name"], x["evt.res"]) for x in of(evs, "memfd", pid)] == \
        [("ebee-memfd", out["memfd"])]
    assert {x["fs.path.name"] for x in of(evs, "unlink", pid)} >= \
        {d + "/sym", d + "/hard", d + "/moved.txt", d + "/newdir"}
    assert summ["lost"] == 0 and summ["collector"] == "events"


def test_files_beside_guard_prefilter(ebee_start, cg):
    """guard's kernel prefilter belongs to its own collector: while it keeps the opens of /tmp
    files no rule of its built-in set can match in the kernel, `ebee events` sees them all."""
    g = ebee_start(["guard", "run", "--json"], min_progs=3)
    d = tempfile.mkdtemp(prefix="ebee-ev-")
    out, evs, summ = events(ebee_start, cg, ["--type", "open"], lambda: work(cg, "files", d))
    shutil.rmtree(d, ignore_errors=True)
    time.sleep(0.5)
    assert g.stop() == 0, g.stderr
    names = [x["fd.name"] for x in of(evs, "open", out["pid"])]
    assert d + "/rel.txt" in names and d + "/cwd.txt" in names and d + "/gone/nofile" in names, names
    gs = [x for x in g.json() if x.get("type") == "summary"][0]
    assert gs["kernel_skipped"] > 0, gs
    assert summ["lost"] == 0


def test_net(ebee_start, cg, argsrc):
    out, evs, _ = events(ebee_start, cg, ["--type", "socket,bind,listen,connect,accept,sendto"],
                         lambda: work(cg, "net"), argsrc=argsrc)
    pid = out["pid"]
    assert any(x["socket.domain"] == "AF_INET" and x["socket.type"].startswith("SOCK_STREAM")
               for x in of(evs, "socket", pid))
    b = of(evs, "bind", pid)
    assert len(b) == 1 and b[0]["fd.addr"] == "127.0.0.1" and b[0]["fd.num"] == out["listen_fd"]
    assert [x["evt.backlog"] for x in of(evs, "listen", pid)] == [7]
    c = of(evs, "connect", pid)
    assert [(x["fd.port"], x["evt.res"]) for x in c] == [(out["port"], 0), (out["port"] + 1, 0)]
    a = of(evs, "accept", pid)
    assert len(a) == 1 and a[0]["evt.res"] == out["accept_fd"]
    assert a[0]["fd.port"] == out["peer_port"] and a[0]["fd.addr"] == "127.0.0.1"
    snd = [(x["evt.syscall"], x["fd.num"], x["socket.type"], x["fd.addr"], x["fd.port"],
            x["evt.res"]) for x in of(evs, "sendto", pid)]
    assert snd == [("sendto", out["conn_fd"], "SOCK_STREAM", "127.0.0.1", out["port"], 6),
                   ("sendto", out["udp_fd"], "SOCK_DGRAM", "127.0.0.1", out["port"], 11),
                   ("sendto", out["udp_fd"], "SOCK_DGRAM", "127.0.0.1", out["port"] + 1, 3),
                   ("sendmsg", out["udp6_fd"], "SOCK_DGRAM", "::1", out["port"], 5),
                   ("sendmmsg", out["mm_fd"], "SOCK_DGRAM", "127.0.0.1", out["port"], 3)], snd
    assert out["mm_sent"] == 3


def test_proc_types(ebee_start, cg, argsrc):
    out, evs, _ = events(ebee_start, cg, ["--type", "kill,ptrace,setuid,setgid,mount,module,"
                                          "fork,exit,exec"], lambda: work(cg, "proc"),
                         argsrc=argsrc)
    pid = out["pid"]
    k = of(evs, "kill", pid)
    assert len(k) == 1 and k[0]["evt.target"] == pid and k[0]["evt.res"] == 0
    pt = of(evs, "ptrace", pid)
    assert len(pt) == 1 and pt[0]["evt.request"] == "PTRACE_PEEKDATA"
    assert pt[0]["evt.errno"] == "ESRCH"
    assert [x["evt.id"] for x in of(evs, "setuid", pid)] == [os.getuid()]
    assert [x["evt.id"] for x in of(evs, "setgid", pid)] == [os.getgid()]
    m = of(evs, "mount", pid)
    assert len(m) == 1 and m[0]["fs.path.target"] == "/nonexistent-ebee-mnt"
    assert m[0]["fs.type"] == "tmpfs" and m[0]["evt.errno"] == "ENOENT"
    # fd -1: EBADF; a kernel without module support (no (f)init_module tracepoint; the
    # dispatcher or the raw_syscalls tracepoint takes the call) says ENOSYS
    mod = of(evs, "module", pid)
    assert len(mod) == 1 and mod[0]["evt.syscall"] == "finit_module"
    assert mod[0]["evt.errno"] == ("ENOSYS" if MOD_RAW else "EBADF")
    # the workload's own life: forked by the test (outside the cgroup until it entered),
    # exec'd python, exited 0
    assert len(of(evs, "exec", pid)) == 1
    ex = of(evs, "exit", pid)
    assert len(ex) == 1 and ex[0]["evt.status"] == 0


def test_filters_exclude(ebee_start, cg):
    d = tempfile.mkdtemp(prefix="ebee-ev-")
    mark = secrets.token_hex(4)
    e = start(ebee_start, ["open", "--json", "--failed", "--path-prefix", d, "--cgroup", cg["path"]])
    spawn(cg, ["/bin/cat", f"{d}/missing-{mark}", "/etc/nonexistent-" + mark])
    spawn(cg, ["/bin/cat", "/etc/hostname"])
    # outside the cgroup: excluded
    subprocess.run(["/bin/cat", f"{d}/outside-{mark}"], capture_output=True)
    time.sleep(0.5)
    e.stop()
    os.rmdir(d)
    paths = [x["fd.name"] for x in e.json() if x.get("evt.type") == "open"]
    assert paths == [f"{d}/missing-{mark}"], paths


def test_tiny_ring_reports_drops(ebee_start, cg):
    d = tempfile.mkdtemp(prefix="ebee-ev-")
    e = start(ebee_start, ["open", "--json", "--ring-size", "4K", "--path-prefix", d,
                    "--cgroup", cg["path"]])
    work(cg, "opens", "3000", d)
    time.sleep(0.3)
    e.stop()
    s = e.json()[-1]
    assert s["type"] == "summary" and s["lost"] > 0 and s["lost_by_type"]["open"] == s["lost"]
    seen = [x for x in e.json() if x.get("fd.name") == d + "/f"]
    assert len(seen) + s["lost"] == 3000, (len(seen), s)
    # table mode: the loss is one warning line on stderr
    e2 = start(ebee_start, ["open", "--ring-size", "4K", "--path-prefix", d, "--cgroup", cg["path"]])
    work(cg, "opens", "3000", d)
    time.sleep(0.3)
    e2.stop()
    os.unlink(d + "/f")
    os.rmdir(d)
    warn = [l for l in e2.stderr.splitlines() if "warning: lost" in l]
    assert len(warn) == 1 and "open=" in warn[0], e2.stderr


@pytest.mark.parametrize("args,msg", [
    (["events", "--type", "opne"], "unknown event type 'opne' (did you mean 'open'?)"),
    (["events"], "no event type given"),
    (["exec", "--container", "xyz!"], "xyz!"),
    (["exec", "--uid", "no-such-user-ebee"], "no-such-user-ebee"),
    (["open", "--ring-size", "5000"], "invalid ring size '5000'"),
    (["open", "--path-prefix", "relative"], "invalid path prefix 'relative'"),
    (["exec", "--failed", "--success"], "exclude each other"),
])
def test_bad_input(args, msg):
    p = run(args)
    assert p.returncode == 2, p
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and msg in lines[0], p.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_stop_leaves_nothing(ebee_start, cg, sig):
    # every program and link is fd-based: gone with the process however it ends
    e = start(ebee_start, ["events", "--type", "exec,open,connect", "--cgroup", cg["path"]])
    e.stop(sig=sig)   # asserts that no program or link of it is left
