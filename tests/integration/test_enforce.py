"""Enforcement (ebee guard run -e, docs/enforce.md) on this kernel: cgroup-bpf denies connects,
SIGKILL from syscall-entry tracepoints kills execs, audit mode never blocks, bad files exit 2
with FILE:LINE:COL, and nothing stays attached after Ctrl-C or SIGKILL. Every workload runs in
a cgroup or from a path the test makes, so nothing else on the machine is touched. The BPF LSM
path is tested in the VM tier (tests/vm), since this kernel has no BPF LSM."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

import pytest

from conftest import assert_clean, cgroup_dirs, json_lines, run



@pytest.fixture
def work():
    d = tempfile.mkdtemp(prefix="enf_" + uuid.uuid4().hex[:6] + "_")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def cgroup():
    name = f"ebee-enf-test-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    for path in cgroup_dirs(name):
        yield "/" + name, path


@pytest.fixture
def listener():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    yield s.getsockname()[1]
    s.close()


def write(work, name, text):
    p = os.path.join(work, name)
    with open(p, "w") as f:
        f.write(text)
    return p


CONNECT = """
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5).close()
    print("connected")
except OSError as e:
    print("errno", e.errno)
"""


def connect_from(cgpath, port):
    """A connect by a process in cgroup cgpath (None: this test's cgroup): 'connected' or
    'errno N'."""
    def enter():
        with open(os.path.join(cgpath, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
    p = subprocess.run(["/usr/bin/python3", "-c", CONNECT, str(port)], capture_output=True,
                       text=True, timeout=30, preexec_fn=enter if cgpath else None)
    return p.stdout.strip()


def rules(work, cgname, port, victim, action_net="deny", action_exec="kill"):
    return write(work, "enforce.yaml", f"""
- enforce: no port {port} from the test cgroup
  condition: evt.type = connect and proc.cgroup = {cgname} and fd.rport = {port}
  action: {action_net}
  desc: the workload may not reach the listener
- enforce: kill the victim
  condition: evt.type in (execve, execveat) and fd.name = {victim}
  action: {action_exec}
""")


def victim_in(work):
    v = os.path.join(work, "victim")
    shutil.copy("/bin/true", v)
    return v


def enforce_alerts(g):
    return [l for l in g.json() if "action" in l and "mechanism" in l]


def guard(ebee_start, efile, *extra):
    # -r empty: enforcement alone (the detection engine has its own tests)
    empty = os.path.join(os.path.dirname(efile), "empty.yaml")
    open(empty, "w").close()
    return ebee_start(["guard", "run", "--json", "-r", empty, "-e", efile] + list(extra),
                      min_progs=2)


def test_connect_denied_and_exec_killed(ebee_start, work, cgroup, listener):
    cgname, cgpath = cgroup
    victim = victim_in(work)
    g = guard(ebee_start, rules(work, cgname, listener, victim), "--enforce")
    assert connect_from(cgpath, listener) == "errno 1"        # EPERM from cgroup/connect4
    assert connect_from(None, listener) == "connected"        # outside the cgroup: untouched
    r = subprocess.run([victim])
    assert r.returncode == -signal.SIGKILL
    assert subprocess.run(["/bin/true"]).returncode == 0      # other execs run
    time.sleep(0.3)
    assert g.stop() == 0                                      # Ctrl-C: nothing left (assert_clean)
    alerts = enforce_alerts(g)
    denied = [a for a in alerts if a["action"] == "denied"]
    killed = [a for a in alerts if a["action"] == "killed"]
    assert len(denied) == 1 and denied[0]["mechanism"] == "cgroup", alerts
    d = denied[0]
    assert d["rule"] == f"no port {listener} from the test cgroup"
    assert d["output_fields"]["fd.rport"] == listener and d["output_fields"]["fd.rip"] == "127.0.0.1"
    assert d["output_fields"]["proc.name"] == "python3" and d["priority"] == "Critical"
    assert {"time", "rule", "priority", "output", "output_fields", "source", "tags", "hostname"} <= set(d)
    assert len(killed) == 1 and killed[0]["mechanism"] == "signal", alerts
    assert killed[0]["output_fields"]["fd.name"] == victim
    s = g.summary("guard")
    assert s["enforced"]["denied"] == 1 and s["enforced"]["killed"] == 1, s
    # detached: the same connect and exec work again
    assert connect_from(cgpath, listener) == "connected"
    assert subprocess.run([victim]).returncode == 0


def test_audit_never_blocks(ebee_start, work, cgroup, listener):
    cgname, cgpath = cgroup
    victim = victim_in(work)
    g = guard(ebee_start, rules(work, cgname, listener, victim))   # no --enforce
    for _ in range(3):
        assert connect_from(cgpath, listener) == "connected"
        assert subprocess.run([victim]).returncode == 0
    time.sleep(0.3)
    g.stop()
    alerts = enforce_alerts(g)
    assert len(alerts) == 6, alerts
    assert all(a["action"] == "audited" and a["mechanism"] == "audit" for a in alerts), alerts
    assert {a["would"] for a in alerts} == {"deny", "kill"}
    assert {a["enforced_by"] for a in alerts} == {"cgroup", "signal"}
    assert all(a["priority"] == "Warning" for a in alerts)
    assert g.summary("guard")["enforced"]["audited"] == 6


def test_audit_action_with_enforce(ebee_start, work, cgroup, listener):
    """action: audit stays an alert even with --enforce."""
    cgname, cgpath = cgroup
    victim = victim_in(work)
    g = guard(ebee_start, rules(work, cgname, listener, victim, "audit", "audit"), "--enforce")
    assert connect_from(cgpath, listener) == "connected"
    assert subprocess.run([victim]).returncode == 0
    time.sleep(0.3)
    g.stop()
    assert sorted(a["action"] for a in enforce_alerts(g)) == ["audited", "audited"]


def test_sigkill_leaves_nothing(ebee_start, work, cgroup, listener):
    """A SIGKILLed ebee: its cgroup and tracepoint links are fds of the process, so the kernel
    drops them; nothing is pinned, nothing is left for `ebee cleanup` to remove."""
    cgname, cgpath = cgroup
    victim = victim_in(work)
    g = guard(ebee_start, rules(work, cgname, listener, victim), "--enforce")
    assert connect_from(cgpath, listener) == "errno 1"
    assert g.links, "enforcement holds its links through fds"
    g.stop(sig=signal.SIGKILL, check_clean=False)
    assert_clean(g.progs, g.links)
    assert connect_from(cgpath, listener) == "connected"
    assert subprocess.run([victim]).returncode == 0
    assert run(["cleanup"]).returncode == 0


def test_check_says_mechanism_and_levels(work, cgroup, listener):
    cgname, _ = cgroup
    victim = victim_in(work)
    f = rules(work, cgname, listener, victim)
    p = run(["guard", "check", "--json", "-e", f], check=0)
    rows = json_lines(p.stdout)
    byname = {r["enforce"]: r for r in rows if "enforce" in r}
    assert byname[f"no port {listener} from the test cgroup"]["mechanism"] == "connect: cgroup"
    assert byname["kill the victim"]["mechanism"] == "exec: signal"
    assert all(r["status"] == "accepted" for r in byname.values())
    levels = {r["kind"]: r for r in rows if "kind" in r}
    assert levels["connect"]["deny"] == "cgroup" and levels["exec"]["kill"] == "signal"
    # this kernel has no BPF LSM: no deny of exec, and the reason is printed
    assert levels["exec"]["deny"] == "-"
    # the mechanism override: without cgroup-bpf, deny of connect has nothing to do it
    env = dict(os.environ, EBEE_ENFORCE_DISABLE="cgroup")
    p = run(["guard", "check", "-e", f], env=env)
    assert p.returncode == 2
    assert "refused: deny of connect needs BPF LSM or cgroup-bpf" in p.stderr, p.stderr


def test_doctor_levels():
    p = run(["doctor", "--json"], check=0)
    rows = {r["check"]: r for r in json_lines(p.stdout) if r.get("section") == "enforce"}
    assert set(rows) == {"exec", "open", "connect", "bind", "sendmsg", "ptrace", "module"}
    assert rows["connect"]["detail"].startswith("connect: cgroup")
    assert rows["exec"]["detail"].startswith("exec: signal")
    # without BPF LSM (this host) open and module loads fall back to the kill from sys_enter
    assert rows["open"]["detail"].startswith("open: signal (deny: no, kill: signal"), rows["open"]
    if os.path.exists("/proc/modules"):
        assert rows["module"]["detail"].startswith("module: signal (deny: no, kill: signal"), rows["module"]
    else:   # CONFIG_MODULES off: nothing to enforce, and doctor says why
        assert rows["module"]["detail"] == "module: none (this kernel cannot load modules (no /proc/modules))", rows["module"]


@pytest.mark.parametrize("text,where,msg", [
    ("- enforce: x\n  condition: evt.type = execve and fd.name = /a and (\n  action: deny\n",
     ":2:", "enforcement rule 'x'"),
    ("- enforce: x\n  condition: evt.type = execve and proc.nme = a\n  action: kill\n",
     ":2:", "proc.nme"),
    ("- enforce: x\n  condition: evt.type = execve and fd.name = /a\n  action: block\n",
     ":3:11:", "unknown action 'block'"),
    ("- enforce: x\n  condition: evt.type = execve\n  action: kill\n  color: red\n",
     ":4:3:", "unknown key 'color'"),
    ("- enforce: x\n  action: kill\n", ":1:3:", "has no condition"),
    ("- enforce: [x\n", ":", ""),
])
def test_bad_files_exit_2(work, text, where, msg):
    f = write(work, "bad.yaml", text)
    for cmd in (["guard", "check", "-e", f], ["guard", "run", "-e", f, "--enforce"]):
        p = run(cmd, timeout=30)
        assert p.returncode == 2, (cmd, p.stdout, p.stderr)
        err = [l for l in p.stderr.splitlines() if l.startswith("ebee:")]
        assert len(err) == 1 and f + where in err[0] and msg in err[0], p.stderr


@pytest.mark.parametrize("cond,action,why", [
    ("evt.type = execve", "kill", "would act on every process"),
    ("evt.type = execve and proc.name = ebee", "kill", "would act on ebee itself"),
    ("evt.type = execve and proc.pname = bash", "kill", "'proc.pname' needs user-space state"),
    ("evt.type = connect and (fd.rport = 23 or proc.name = nc)", "deny",
     "'or' across different fields"),
    ("evt.type = execve and fd.name = /tmp/x", "deny", "deny of exec needs BPF LSM"),
    ("evt.type = read and proc.name = cat", "deny", "event type 'read' cannot be enforced"),
    ("evt.type = execve and fd.name contains x", "kill", "cannot be decided in the kernel"),
])
def test_refused_rules_exit_2(work, cond, action, why):
    f = write(work, "r.yaml", f"- enforce: r\n  condition: {cond}\n  action: {action}\n")
    p = run(["guard", "run", "-e", f, "--enforce", "-d", "1"], timeout=30)
    assert p.returncode == 2, p.stderr
    assert f"{f}:1:3: enforcement rule 'r' refused: " in p.stderr and why in p.stderr, p.stderr


def test_pid1_refused(work):
    with open("/proc/1/comm") as fh:
        comm = fh.read().strip()
    f = write(work, "r.yaml", f"- enforce: r\n  condition: evt.type = execve and proc.name = '{comm}'\n  action: kill\n")
    p = run(["guard", "check", "-e", f])
    assert p.returncode == 2 and "would act on PID 1" in p.stderr, p.stderr


def test_macros_and_lists_from_rules(ebee_start, work, cgroup, listener):
    """Macros and lists of the -r files are usable in enforcement conditions."""
    cgname, cgpath = cgroup
    r = write(work, "rules.yaml", f"""
- list: enf_test_ports
  items: [{listener}, 1]
- macro: enf_test_cg
  condition: proc.cgroup = {cgname}
""")
    e = write(work, "e.yaml", """
- enforce: by macro
  condition: >
    evt.type = connect and enf_test_cg
    and fd.rport in (enf_test_ports)
  action: deny
""")
    g = ebee_start(["guard", "run", "--json", "-r", r, "-e", e, "--enforce"], min_progs=2)
    assert connect_from(cgpath, listener) == "errno 1"
    g.stop()
    assert [a["action"] for a in enforce_alerts(g)] == ["denied"]


BIND = """
import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
try:
    s.bind((sys.argv[1], int(sys.argv[2])))
    print("bound")
except OSError as e:
    print("errno", e.errno)
"""


def test_bind_denied_open_and_ptrace_killed(ebee_start, work, cgroup):
    """The other kinds: bind (cgroup, v4 and v6), open and ptrace (signal)."""
    cgname, cgpath = cgroup
    secret = write(work, "secret", "x")
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    f = write(work, "e.yaml", f"""
- enforce: no bind
  condition: evt.type = bind and proc.cgroup = {cgname} and fd.lport = {port}
  action: deny
- enforce: no secret
  condition: evt.type in (open, openat) and fd.name = {secret}
  action: kill
- enforce: no ptrace from the cgroup
  condition: evt.type = ptrace and proc.cgroup = {cgname}
  action: kill
""")
    g = guard(ebee_start, f, "--enforce")

    def enter():
        with open(os.path.join(cgpath, "cgroup.procs"), "w") as fh:
            fh.write(str(os.getpid()))

    def in_cg(args):
        return subprocess.run(args, capture_output=True, text=True, timeout=30, preexec_fn=enter)

    assert in_cg(["/usr/bin/python3", "-c", BIND, "127.0.0.1", str(port)]).stdout.strip() == "errno 1"
    assert in_cg(["/usr/bin/python3", "-c", BIND, "::1", str(port)]).stdout.strip() == "errno 1"
    assert subprocess.run(["/usr/bin/python3", "-c", BIND, "127.0.0.1", str(port)],
                          capture_output=True, text=True).stdout.strip() == "bound"
    assert subprocess.run(["cat", secret]).returncode == -signal.SIGKILL
    assert subprocess.run(["cat", os.path.join(work, "e.yaml")], capture_output=True).returncode == 0
    sleeper = subprocess.Popen(["sleep", "30"])
    tracer = in_cg(["/usr/bin/python3", "-c",
                    f"import ctypes; ctypes.CDLL(None).ptrace(16, {sleeper.pid}, 0, 0); print('attached')"])
    assert tracer.returncode == -signal.SIGKILL, tracer
    sleeper.kill()
    time.sleep(0.3)
    g.stop()
    got = sorted((a["output_fields"]["evt.type"], a["action"], a["mechanism"]) for a in enforce_alerts(g))
    assert got == [("bind", "denied", "cgroup"), ("bind", "denied", "cgroup"),
                   ("open", "killed", "signal"), ("ptrace", "killed", "signal")], got
    pt = [a for a in enforce_alerts(g) if a["output_fields"]["evt.type"] == "ptrace"][0]
    assert pt["output_fields"]["evt.arg.pid"] == sleeper.pid


def test_detached_link_is_loud(ebee_start, work, cgroup, listener):
    """Someone detaches the cgroup link mid-run: ebee says what is no longer enforced and exits
    1 instead of claiming a level it lost."""
    cgname, cgpath = cgroup
    g = guard(ebee_start, rules(work, cgname, listener, victim_in(work)), "--enforce")
    assert connect_from(cgpath, listener) == "errno 1"
    cg_links = []
    for lid in g.links:
        info = subprocess.run(["bpftool", "-j", "link", "show", "id", str(lid)], capture_output=True, text=True)
        if '"type":"cgroup"' in info.stdout.replace(" ", ""):
            cg_links.append(lid)
    assert cg_links, "the connect rule holds a cgroup link"
    subprocess.run(["bpftool", "link", "detach", "id", str(cg_links[0])], check=True)
    assert g.wait(timeout=10) == 1
    assert "enforcement of connect by cgroup stopped: its link was detached" in g.stderr, g.stderr
    assert_clean(g.progs, g.links)


MODLOAD = """
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
if sys.argv[1] != "-":
    libc.prctl(15, sys.argv[1].encode(), 0, 0, 0)         # PR_SET_NAME: the comm the rule names
# finit_module(-1, "", 0): EBADF, nothing is ever loaded; the syscall is what the rule sees
r = libc.syscall(313, -1, b"", 0)
print("errno", ctypes.get_errno() if r else 0)
"""

WRITE = """
import sys
try:
    with open(sys.argv[1], sys.argv[2]) as f:
        print("opened")
except OSError as e:
    print("errno", e.errno)
"""


def test_open_write_and_module_load_killed(ebee_start, work):
    """Without BPF LSM (this host) the open and module rules fall back to the SIGKILL from
    sys_enter: an open for writing under a prefix kills its caller, reads there do not; a
    module load (finit_module) by a named process kills it. guard check -e says so."""
    guarded = os.path.join(work, "guarded")
    os.makedirs(guarded)
    target = write(guarded, "file", "original")
    comm = "enfmod" + uuid.uuid4().hex[:6]
    f = write(work, "e.yaml", f"""
- enforce: no writes in guarded
  condition: evt.type in (open, openat, openat2, creat) and evt.is_open_write = true and fd.name startswith {guarded}/
  action: kill
- enforce: no module loads by the test
  condition: evt.type in (init_module, finit_module) and proc.name = {comm}
  action: kill
""")
    modules = os.path.exists("/proc/modules")
    p = run(["guard", "check", "-e", f])
    assert "open: signal" in p.stdout, p.stdout
    if modules:
        assert p.returncode == 0 and "module: signal" in p.stdout, p.stdout
    else:   # CONFIG_MODULES off: no module syscalls to hook, and the rule says so
        assert p.returncode == 2, p.stderr
        assert "'no module loads by the test' refused: module: this kernel cannot load modules" in p.stderr
        f = write(work, "e.yaml", open(f).read().split("- enforce: no module")[0])
    g = guard(ebee_start, f, "--enforce")
    py = ["/usr/bin/python3", "-c"]
    opened = lambda mode: subprocess.run(py + [WRITE, target, mode], capture_output=True, text=True, timeout=30)
    assert opened("r").stdout.strip() == "opened"                # read: untouched
    assert opened("a").returncode == -signal.SIGKILL            # append: killed
    assert opened("r+").returncode == -signal.SIGKILL           # read-write: killed
    assert subprocess.run(py + [WRITE, os.path.join(work, "other"), "w"], capture_output=True,
                          text=True).stdout.strip() == "opened"  # outside the prefix
    if modules:
        r = subprocess.run(py + [MODLOAD, comm], capture_output=True, text=True, timeout=30)
        assert r.returncode == -signal.SIGKILL, r
        r = subprocess.run(py + [MODLOAD, "-"], capture_output=True, text=True, timeout=30)
        assert r.stdout.strip() == "errno 9", r                 # another comm: EBADF as usual
    time.sleep(0.3)
    assert g.stop() == 0
    with open(target) as fh:
        assert fh.read() == "original"                           # append never wrote
    got = sorted((a["output_fields"]["evt.type"], a["action"], a["mechanism"]) for a in enforce_alerts(g))
    assert got == [("module", "killed", "signal")] * modules + [("open", "killed", "signal")] * 2, got
    modes = sorted((a["output_fields"]["evt.is_open_read"], a["output_fields"]["evt.is_open_write"])
                   for a in enforce_alerts(g) if a["output_fields"]["evt.type"] == "open")
    assert modes == [(False, True), (True, True)], modes


@pytest.mark.parametrize("cond,action,why", [
    ("evt.type = openat and fd.name = /etc/shadow", "deny", "deny of open needs BPF LSM"),
    ("evt.type = finit_module and fd.name startswith /lib/modules/", "kill",
     "fd.name of a module load needs BPF LSM" if os.path.exists("/proc/modules")
     else "module: this kernel cannot load modules"),
    ("evt.type = openat and evt.is_open_write = false and fd.name = /x", "kill",
     "only as 'evt.is_open_write = true'"),
])
def test_open_and_module_refusals(work, cond, action, why):
    f = write(work, "r.yaml", f"- enforce: r\n  condition: {cond}\n  action: {action}\n")
    p = run(["guard", "check", "-e", f])
    assert p.returncode == 2 and why in p.stderr, p.stderr


def test_daemon_metrics(tmp_path, cgroup, listener):
    """guard: {enforcement: [FILE], enforce: true} in serve's config: a denied connect from the
    test's cgroup and a killed exec show on /metrics as ebee_enforce_decisions_total."""
    from test_serve import serve, metrics, wait_until
    cgname, cgpath = cgroup
    work = str(tmp_path)
    victim = victim_in(work)
    f = rules(work, cgname, listener, victim)
    empty = write(work, "empty.yaml", "")
    e, url, first = serve(tmp_path, f"listen: 127.0.0.1:0\ninterval: 200ms\ncollectors:\n"
                          f"  guard: {{rules: [{empty}], enforcement: [{f}], enforce: true}}\n")
    try:
        deny = (f'ebee_enforce_decisions_total{{rule="no port {listener} from the test cgroup",'
                f'action="denied",mechanism="cgroup"}}')
        kill = ('ebee_enforce_decisions_total{rule="kill the victim",action="killed",'
                'mechanism="signal"}')
        m, text = metrics(url)
        assert m[deny] == 0 and m[kill] == 0, text        # live series from the start
        assert m["ebee_enforce_lost_total"] == 0
        assert connect_from(cgpath, listener) == "errno 1"
        assert connect_from(cgpath, listener) == "errno 1"
        assert subprocess.run([victim]).returncode == -signal.SIGKILL
        assert connect_from(None, listener) == "connected"
        assert wait_until(lambda: metrics(url)[0].get(kill) == 1 and metrics(url)[0].get(deny) == 2)
        if shutil.which("promtool"):
            p = subprocess.run(["promtool", "check", "metrics"], input=metrics(url)[1],
                               capture_output=True, text=True)
            assert p.returncode == 0, p.stdout + p.stderr
    finally:
        assert e.stop() == 0, e.stderr
    assert connect_from(cgpath, listener) == "connected"    # the daemon's links went with it


def test_cgroup_names_a_subtree(ebee_start, work, cgroup, listener):
    """proc.cgroup = /X applies to X's descendants too (a pod's containers are its children);
    a sibling stays free."""
    cgname, cgpath = cgroup
    child = os.path.join(cgpath, "child", "grandchild")
    os.makedirs(child)
    sibling = cgpath + "-sibling"
    os.makedirs(sibling)
    try:
        victim = victim_in(work)
        g = guard(ebee_start, rules(work, cgname, listener, victim), "--enforce")
        assert connect_from(child, listener) == "errno 1"
        assert connect_from(cgpath, listener) == "errno 1"
        assert connect_from(sibling, listener) == "connected"
        time.sleep(0.3)
        assert g.stop() == 0
        assert [a["mechanism"] for a in enforce_alerts(g) if a["action"] == "denied"] == ["cgroup"] * 2
    finally:
        for d in (child, os.path.dirname(child), sibling):
            for _ in range(50):
                try:
                    os.rmdir(d)
                    break
                except OSError:
                    time.sleep(0.1)
