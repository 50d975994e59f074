"""Privileges after attaching: a long-running ebee (serve, netwatch, guard run) keeps only the
capabilities its collectors still use, with no_new_privs, read from /proc/PID/status of the
running process, and still does its job afterwards (serves, counts, cleans up at exit)."""
import json
import os
import time
import urllib.request

import pytest

from conftest import Ebee, json_lines
from netwatch_util import Lab, NsEbee

CAP_DAC_READ_SEARCH, CAP_NET_ADMIN, CAP_SYS_PTRACE, CAP_SYS_ADMIN = 2, 12, 19, 21


def status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def caps(pid, key="CapEff"):
    return int(status(pid)[key], 16)


def thread_status(pid):
    """{thread name: its /proc status} for every thread of pid."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        st = status(f"{pid}/task/{tid}")
        out[st["Name"]] = st
    return out


def thread_caps(pid):
    """{thread name: (CapEff, CapPrm, CapBnd)} of every thread of pid."""
    return {name: tuple(int(st[k], 16) for k in ("CapEff", "CapPrm", "CapBnd"))
            for name, st in thread_status(pid).items()}


def wait_for(pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


def free_tcp_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.parametrize("collectors,keep", [
    (["tcp"], 0),
    (["tcp", "count"], 0),
    (["tcp", "prog"], (1 << CAP_SYS_ADMIN) | (1 << CAP_SYS_PTRACE) | (1 << CAP_DAC_READ_SEARCH)),
])
def test_serve_runs_with_what_its_collectors_need(collectors, keep):
    port = free_tcp_port()
    args = ["-v", "serve", "--listen", f"127.0.0.1:{port}"]
    args += ["--collectors", ",".join(collectors)]
    e = Ebee(args).start()
    try:
        assert wait_for(lambda: "capabilities kept after attaching" in e.output() + "".join(e._err))
        st = status(e.proc.pid)
        for k in ("CapEff", "CapPrm", "CapBnd"):
            assert int(st[k], 16) == keep, (k, st[k])
        assert int(st["CapInh"], 16) == 0 and int(st["CapAmb"], 16) == 0
        assert st["NoNewPrivs"] == "1"
        # every thread of it, not only the main one: the HTTP thread (named once it dropped
        # everything) has nothing at all
        assert wait_for(lambda: "ebee-http" in thread_caps(e.proc.pid))
        threads = thread_caps(e.proc.pid)
        assert threads["ebee-http"] == (0, 0, 0), threads
        for comm, c in threads.items():
            if comm != "ebee-http":
                assert c == (keep, keep, keep), (comm, c)
        # and it still serves, after the drop, what its collectors read
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
            assert r.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/{collectors[-1]}", timeout=10) as r:
            doc = json.loads(r.read())
        assert isinstance(doc, dict)
        if "prog" in collectors:   # enumerating every program still works with what it kept
            time.sleep(1.2)   # a refresh after the drop
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/prog", timeout=10) as r:
                text = r.read().decode()
            assert "tcp_" in text, text[:500]   # serve's own tcp program among them
    finally:
        code = e.stop()
    assert code == 0, e.stderr


def test_serve_with_config_parses_http_without_capabilities(tmp_path):
    """With a config file the main thread keeps the loader's capabilities (a SIGHUP may start
    collectors that need them); the thread that parses HTTP has none, in any mode, and a
    reload that loads a new collector still works."""
    port = free_tcp_port()
    cfg = tmp_path / "ebee.yaml"
    cfg.write_text(f"listen: 127.0.0.1:{port}\ncollectors: [tcp]\n")
    e = Ebee(["-v", "serve", "-c", str(cfg)]).start()
    url = f"http://127.0.0.1:{port}/"
    try:
        assert wait_for(lambda: "capabilities kept by the loader thread" in e.output() + "".join(e._err))
        assert wait_for(lambda: "ebee-http" in thread_caps(e.proc.pid))
        threads = thread_caps(e.proc.pid)
        assert threads["ebee-http"] == (0, 0, 0), threads
        assert thread_status(e.proc.pid)["ebee-http"]["NoNewPrivs"] == "1"
        main = status(e.proc.pid)
        assert int(main["CapEff"], 16) & (1 << CAP_SYS_ADMIN), main["CapEff"]
        # a request parsed by the capless thread, answered from the main thread's data
        with urllib.request.urlopen(url + "api/tcp", timeout=10) as r:
            assert json.loads(r.read())["health"] == "ok"
        # the loader still loads: prog needs CAP_SYS_ADMIN to enumerate programs
        cfg.write_text(f"listen: 127.0.0.1:{port}\ncollectors: [tcp, prog]\n")
        os.kill(e.proc.pid, 1)

        def prog_running():
            with urllib.request.urlopen(url + "api/collectors", timeout=10) as r:
                cs = {c["name"]: c for c in json.loads(r.read())["collectors"]}
            return "prog" in cs and cs["prog"]["running"]
        assert wait_for(prog_running)
        time.sleep(1.2)   # a refresh of prog
        with urllib.request.urlopen(url + "api/prog", timeout=10) as r:
            assert "tcp_" in r.read().decode()   # serve's own tcp program, found by the loader
        assert thread_caps(e.proc.pid)["ebee-http"] == (0, 0, 0)
    finally:
        code = e.stop()
    assert code == 0, e.stderr


@pytest.fixture
def lab():
    lab = Lab(nclients=1)
    yield lab
    lab.close()


def test_netwatch_keeps_net_admin_only_and_still_cleans_up(lab):
    """netwatch with a legacy tc filter: CAP_NET_ADMIN is all it keeps, and it is enough to
    count afterwards and to remove its filter at exit."""
    (c0,) = lab.clients
    e = NsEbee(lab, ["-v", "netwatch", "--json", "--attach", "tc", "--interval", "60",
                     "-i", c0.srv_if])
    e.start()
    assert wait_for(lambda: "capabilities kept after attaching" in "".join(e._err))
    assert caps(e.proc.pid) == 1 << CAP_NET_ADMIN
    assert caps(e.proc.pid, "CapBnd") == 1 << CAP_NET_ADMIN
    assert status(e.proc.pid)["NoNewPrivs"] == "1"
    c0.send_udp(4, 7, 50, 9)
    time.sleep(0.3)
    assert e.stop() == 0, e.stderr
    src = [o for o in json_lines(e.stdout) if o.get("packets")]
    assert sum(o["packets"] for o in src) >= 7, e.stdout
    assert not [x for x in lab.filters(c0.srv_if) if x.get("pref") == 0xebe]


def test_guard_keeps_proc_reading_caps():
    e = Ebee(["-v", "guard", "run"]).start()
    try:
        assert wait_for(lambda: "capabilities kept after attaching" in "".join(e._err))
        assert caps(e.proc.pid) == (1 << CAP_SYS_PTRACE) | (1 << CAP_DAC_READ_SEARCH)
        assert status(e.proc.pid)["NoNewPrivs"] == "1"
    finally:
        code = e.stop()
    assert code == 0, e.stderr


def test_doctor_says_what_each_collector_keeps():
    from conftest import run
    p = run(["-j", "doctor"])
    rows = [r for r in json_lines(p.stdout) if r.get("section") == "privilege"]
    checks = {r["check"]: r["detail"] for r in rows}
    assert "caps_now" in checks
    assert "cap_net_admin" in checks["after_attach:netwatch"]
    assert "keeps none" in checks["after_attach:tcp"]
