"""ebee tcp states|life|count against real loopback connections made by the test itself:
a server process (tcp_util.Server) and a client in this process, on 127.77.N.x and ::1, on
ports the test picks. Every assertion is about this test's own connections."""
import os
import signal
import socket
import struct
import subprocess
import time

import pytest

from conftest import json_lines, run
from tcp_util import (SERVER_COMM, V4_CLIENT, V4_NET, V4_SERVER, V6_CLIENT, V6_SERVER,
                      KernelWitness, Server, attached, client, free_port, init_private, refused,
                      settle)

FAMILIES = [
    pytest.param(("ipv4", V4_SERVER, V4_CLIENT, ["--laddr", V4_NET]), id="v4"),
    pytest.param(("ipv6", V6_SERVER, V6_CLIENT, ["-6"]), id="v6"),
]

CLIENT_SEQ = [("CLOSE", "SYN_SENT"), ("SYN_SENT", "ESTABLISHED"), ("ESTABLISHED", "FIN_WAIT1"),
              ("FIN_WAIT1", "FIN_WAIT2"), ("FIN_WAIT2", "CLOSE")]
SERVER_SEQ = [("LISTEN", "SYN_RECV"), ("SYN_RECV", "ESTABLISHED"), ("ESTABLISHED", "CLOSE_WAIT"),
              ("CLOSE_WAIT", "LAST_ACK"), ("LAST_ACK", "CLOSE")]


@pytest.fixture
def witness():
    """witness(*ports): on a kernel with the init_private gate (tcp_util.init_private), an
    ftrace instance recording the test's transitions on these ports, else None; removed at the
    end of the test."""
    made = []

    def start(*ports):
        if not init_private():
            return None
        made.append(KernelWitness(ports))
        return made[-1]
    yield start
    for w in made:
        w.close()


def skip_if_kernel_skipped(missed, w):
    """The two ways the kernel does not run ebee's program for a transition, each shown by the
    kernel: a program that would nest in a run of itself on the CPU (a softirq interrupting it)
    is skipped and counted (ebee's `missed`); with kernel.init_private = 1 no program of ebee's
    runs while a thread of PID 1 is current, and nothing is counted, but the test's own ftrace
    instance (`w`) saw the call and the process. Such a run cannot check completeness."""
    if missed:
        pytest.skip(f"the kernel skipped {missed} transitions (nested BPF run)")
    hidden = w.hidden() if w else []
    if hidden:
        pytest.skip(f"the kernel ran no BPF program for {len(hidden)} of the test's transitions: "
                    f"made while a thread of PID 1 was current, kernel.init_private = 1 (ftrace "
                    f"saw them: {hidden[:4]})")


def rows(e, complete=True, w=None):
    """Event rows (the JSON summary line apart), and the summary. complete: the test needs
    every transition, so a run in which the kernel skipped ebee's program is skipped
    (skip_if_kernel_skipped; `w`: the test's KernelWitness, if any). Nothing else may go
    missing: a transition lost otherwise fails the test with the kernel's view of the socket."""
    recs = e.json() if hasattr(e, "json") else json_lines(e)
    data = [r for r in recs if r.get("type") != "summary"]
    summ = [r for r in recs if r.get("type") == "summary"]
    assert len(summ) == 1, recs[-3:]
    if complete:
        skip_if_kernel_skipped(summ[0]["missed"], w)
    return data, summ[0]


def printed(e, want, ports=(), timeout=15.0):
    """Waits until ebee has printed a row matching each (description, predicate) of `want`
    (ebee flushes its rows every 0.5 s). The last transitions of a connection run in softirq
    (the peer's delayed ACK, ksoftirqd on a loaded machine) after the test's own calls have
    returned: waiting for what ebee prints, beside settle()'s look at /proc/net/tcp (a reading
    that can miss a socket moving under it), stops ebee only once they happened. Returns what
    is still missing at the deadline with the kernel's view of the ports then (`ss`): whether
    the kernel still had the socket open, i.e. whether the transition had happened at all."""
    deadline = time.monotonic() + timeout
    while True:
        text = e.output()
        recs = json_lines(text[:text.rfind("\n") + 1])
        missing = [d for d, w in want if not any(w(r) for r in recs)]
        if not missing:
            return None
        if time.monotonic() > deadline:
            ss = subprocess.run(["ss", "-tanoei"], capture_output=True, text=True).stdout
            view = [l for l in ss.splitlines() if any(f":{p} " in l for p in ports)]
            return {"missing": missing, "kernel": view or "no socket on the ports"}
        time.sleep(0.05)


def closed_rows(port, conns, closed=None, life=False):
    """(description, predicate) of the last row of each of the test's sockets: each client's
    and server side's CLOSE (life: its one row), the listener's (states), the refused one's."""
    def row(lport, rport, old=None):
        if life:
            return (f"{lport}->{rport}", lambda r: r.get("lport") == lport and r.get("rport") == rport)
        return (f"{lport}->{rport} {old or ''}->CLOSE",
                lambda r: (r.get("lport") == lport and r.get("rport") == rport and
                           r.get("newstate") == "CLOSE" and (old is None or r["oldstate"] == old)))
    want = []
    for lport, _ in conns:
        want += [row(lport, port), row(port, lport)]
    if not life:
        want.append(row(port, 0, "LISTEN"))
    if closed:
        want.append((f"refused ->{closed}",
                     lambda r: r.get("rport") == closed and (life or r.get("newstate") == "CLOSE")))
    return want


def by_sock(recs):
    """Transitions per socket; a socket's memory is reused after CLOSE, so a new life starts."""
    socks, life = {}, {}
    for r in recs:
        k = (r["sock"], life.get(r["sock"], 0))
        socks.setdefault(k, []).append(r)
        if r["newstate"] == "CLOSE":
            life[r["sock"]] = k[1] + 1
    return socks


def transitions(evs):
    return [(r["oldstate"], r["newstate"]) for r in evs]


def traffic(server, clienthost, port, plan, hold=0.0):
    """Runs the plan (one client connection per entry); returns client ports and durations."""
    srv = Server(server, port, [(rx, tx, delay) for rx, tx, delay in plan])
    out = [client(server, port, rx, tx, hold=hold, bind=clienthost if clienthost != "::1" else None)
           for rx, tx, _ in plan]
    return srv, srv.wait(), out


@pytest.mark.parametrize("hook", ["tp_btf", "raw_tp", "tracepoint"])
@pytest.mark.parametrize("fam", FAMILIES)
def test_states_order_owner_and_refused(ebee_start, witness, fam, hook):
    af, server, cli, filt = fam
    port = free_port(server)
    closed = free_port(server, avoid={port})
    w = witness(port, closed)
    disable = {"tp_btf": None, "raw_tp": "tp_btf", "tracepoint": "tp_btf,raw_tp"}[hook]
    env = dict(os.environ, EBEE_DISABLE=disable) if disable else None
    e = attached(ebee_start(["-v", "-j", "tcp", "states"] + filt, env=env))
    srv, served, conns = traffic(server, cli, port, [(100, 50, 0.2), (7, 9, 0.2)])
    refused_port = refused(server, closed, bind=cli if af == "ipv4" else None)
    settle(port, closed)
    missing = printed(e, closed_rows(port, conns, closed), (port, closed))
    assert e.stop() == 0
    data, summ = rows(e, w=w)
    assert summ["lost"] == 0
    assert not missing, (missing, summ, w and w.calls())
    assert f"with {hook}" in e.stderr
    if w:   # the witness is a real one: it saw each client's FIN_WAIT1 -> FIN_WAIT2
        made = {c[1:] for c in w.calls()}
        assert all((lport, port, "FIN_WAIT1", "FIN_WAIT2") in made for lport, _ in conns), made

    mine = [r for r in data if port in (r["lport"], r["rport"]) or r["rport"] == closed]
    socks = by_sock(mine)
    for lport, _ in conns:
        # the client socket: found by its local port (0 in its first transition)
        evs = [evs for evs in socks.values() if any(r["lport"] == lport and r["rport"] == port
                                                    for r in evs)]
        assert len(evs) == 1, mine
        evs = evs[0]
        assert transitions(evs) == CLIENT_SEQ, evs
        assert all(r["pid"] == os.getpid() for r in evs), evs
        assert all(r["family"] == af for r in evs)
        assert "ms" not in evs[0] and all(r["ms"] >= 0 for r in evs[1:])
        # the server side of the same connection
        sevs = [evs for evs in socks.values() if evs[0]["lport"] == port and evs[0]["rport"] == lport]
        assert len(sevs) == 1, mine
        sevs = sevs[0]
        assert transitions(sevs) == SERVER_SEQ, sevs
        assert all(r["pid"] == srv.pid and r["comm"] == SERVER_COMM for r in sevs), sevs
    # the listener
    lst = [evs for evs in socks.values() if evs[0]["lport"] == port and evs[0]["rport"] == 0]
    assert [transitions(x) for x in lst] == [[("CLOSE", "LISTEN"), ("LISTEN", "CLOSE")]]
    # the refused connection: SYN_SENT -> CLOSE, nothing established
    ref = [evs for evs in socks.values() if evs[0]["rport"] == closed]
    assert len(ref) == 1 and transitions(ref[0]) == [("CLOSE", "SYN_SENT"), ("SYN_SENT", "CLOSE")]
    assert ref[0][1]["lport"] == refused_port
    # durations: time in ESTABLISHED covers the test's 0.2 s server delay on the server side
    for evs in socks.values():
        for r in evs:
            if r["oldstate"] == "CLOSE_WAIT":
                assert 190 <= r["ms"] <= 2000, r


@pytest.mark.parametrize("fam", FAMILIES)
def test_life_bytes_duration_first(ebee_start, witness, fam):
    af, server, cli, filt = fam
    port = free_port(server)
    closed = free_port(server, avoid={port})
    w = witness(port, closed)
    plan = [(1000, 333, 0.05), (65536 * 3 + 17, 1, 0.05), (1, 100000, 0.05)]
    e = attached(ebee_start(["-j", "tcp", "life"] + filt))
    srv, served, conns = traffic(server, cli, port, plan, hold=0.3)
    refused(server, closed, bind=cli if af == "ipv4" else None)
    settle(port, closed)
    missing = printed(e, closed_rows(port, conns, closed, life=True), (port, closed))
    assert e.stop() == 0
    data, summ = rows(e, w=w)
    assert not missing, (missing, summ, w and w.calls())
    assert summ["lost"] == 0 and summ["events"] >= 7
    for (rx, tx, _), (lport, secs), s in zip(plan, conns, served):
        c = [r for r in data if r["lport"] == lport and r["rport"] == port]
        assert len(c) == 1, data
        c = c[0]
        assert (c["tx_bytes"], c["rx_bytes"]) == (rx, tx), c
        assert c["first"] == "local" and c["pid"] == os.getpid() and c["family"] == af
        # the client socket lives from connect() until the ACK of its FIN after close(); the
        # upper bound leaves room for softirq work deferred on a loaded machine
        assert secs * 1000 - 5 <= c["ms"] <= secs * 1000 + 500, (c, secs)
        v = [r for r in data if r["lport"] == port and r["rport"] == lport]
        assert len(v) == 1, data
        v = v[0]
        assert (v["tx_bytes"], v["rx_bytes"]) == (tx, rx), v
        assert v["first"] == "remote" and v["pid"] == srv.pid and v["comm"] == SERVER_COMM
        assert s["secs"] * 1000 - 5 <= v["ms"] <= s["secs"] * 1000 + 500, (v, s)
    ref = [r for r in data if r["rport"] == closed]
    assert len(ref) == 1 and ref[0]["first"] == "-" and ref[0]["tx_bytes"] == 0
    assert ref[0]["rx_bytes"] == 0 and ref[0]["laststate"] == "SYN_SENT"
    # the listener is not a connection
    assert not [r for r in data if r["lport"] == port and r["rport"] == 0]


def test_life_reset_and_abort(ebee_start, witness):
    """A client closing with SO_LINGER 0 aborts (RST): its side says abort, the server's reset."""
    port = free_port(V4_SERVER)
    w = witness(port)
    e = attached(ebee_start(["-j", "tcp", "life", "--laddr", V4_NET]))
    ls = socket.socket()
    ls.bind((V4_SERVER, port))
    ls.listen()
    c = socket.socket()
    c.bind((V4_CLIENT, 0))
    c.connect((V4_SERVER, port))
    s, _ = ls.accept()
    c.sendall(b"x" * 10)
    assert s.recv(10) == b"x" * 10
    lport = c.getsockname()[1]
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    time.sleep(0.1)
    s.close()
    ls.close()
    settle(port)
    assert e.stop() == 0
    data, _ = rows(e, w=w)
    cl = [r for r in data if r["lport"] == lport and r["rport"] == port]
    sv = [r for r in data if r["lport"] == port and r["rport"] == lport]
    assert len(cl) == 1 and len(sv) == 1, data
    assert cl[0]["first"] == "abort" and cl[0]["tx_bytes"] == 10 and cl[0]["laststate"] == "ESTABLISHED"
    assert sv[0]["first"] == "reset" and sv[0]["rx_bytes"] == 10 and sv[0]["laststate"] == "ESTABLISHED"


def test_states_overflow_counted(ebee_start):
    """A ring of one page under a burst of connections: events are lost, counted, reported,
    and ebee goes on (the connections after the burst are seen). One event per connection
    (--state SYN_SENT --dir into) keeps the output within the pipe that the fixture reads only
    at the end: a full pipe would block ebee's writes, and so its draining, for good."""
    port = free_port(V4_SERVER)
    n = 200
    env = dict(os.environ, EBEE_TCP_RING_BYTES="4096")
    e = attached(ebee_start(["-j", "tcp", "states", "--laddr", V4_NET, "--state", "SYN_SENT",
                             "--dir", "into"], env=env))
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((V4_SERVER, port))
    ls.listen(512)
    # ebee stopped during the burst: the ring (36 records) certainly overflows, whatever the
    # machine's load makes of the burst's pace against ebee's 20 ms drains
    os.kill(e.proc.pid, signal.SIGSTOP)
    for _ in range(n):   # the workload.py storm: connect, accept, close both
        c = socket.socket()
        c.bind((V4_CLIENT, 0))
        c.connect((V4_SERVER, port))
        s, _ = ls.accept()
        c.close()
        s.close()
    os.kill(e.proc.pid, signal.SIGCONT)
    # then a few connections at a calm pace, each once ebee has printed the one before (a
    # loaded machine can keep ebee off the CPU, and so the ring full, for longer than any
    # fixed pause)
    after = []
    for _ in range(5):
        time.sleep(0.3)
        c = socket.socket()
        c.bind((V4_CLIENT, 0))
        c.connect((V4_SERVER, port))
        after.append(c.getsockname()[1])
        s, _ = ls.accept()
        c.close()
        s.close()
        if printed(e, [("calm", lambda r, p=after[-1]: r.get("lport") == p)], timeout=5) is None:
            break
    ls.close()
    settle(port)
    assert e.stop() == 0
    data, summ = rows(e, complete=False)
    mine = [r for r in data if port in (r["lport"], r["rport"])]
    assert summ["lost"] > 0, summ
    assert len(mine) + summ["lost"] + summ["missed"] >= n + len(after)
    assert f"lost {summ['lost']} events" in e.stderr
    seen = [r["lport"] for r in mine]
    assert set(after) & set(seen), (after, seen[-10:])


def test_dual_stack_peer_is_ipv4(ebee_start, witness):
    """A v4 client of a dual-stack (::) listener: the accepted AF_INET6 socket has v4-mapped
    addresses; ebee reports and filters it as IPv4."""
    port = free_port("::")
    w = witness(port)
    e = attached(ebee_start(["-j", "tcp", "states", "-4", "--laddr", V4_NET]))
    ls = socket.socket(socket.AF_INET6)
    ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ls.bind(("::", port))
    ls.listen()
    c = socket.socket()
    c.bind((V4_CLIENT, 0))
    c.connect((V4_SERVER, port))
    lport = c.getsockname()[1]
    s, peer = ls.accept()
    assert peer[0] == "::ffff:" + V4_CLIENT
    c.close()
    time.sleep(0.1)
    s.close()
    ls.close()
    settle(port)
    assert e.stop() == 0
    data, _ = rows(e, w=w)
    sv = [r for r in data if r["lport"] == port and r["rport"] == lport]
    assert transitions(sv) == SERVER_SEQ, data
    assert all(r["family"] == "ipv4" and r["laddr"] == V4_SERVER and r["raddr"] == V4_CLIENT
               for r in sv), sv
    # the listener (::) is neither IPv4 nor in the network
    assert not [r for r in data if r["lport"] == port and r["rport"] == 0]


def count_rows(text):
    recs = json_lines(text)
    return [r for r in recs if "state" in r], [r for r in recs if r.get("type") == "summary"]


def test_count_entered_and_now(ebee_start, witness):
    port = free_port(V4_SERVER)
    w = witness(port)
    n, held = 12, 3
    e = attached(ebee_start(["-j", "tcp", "count", "--laddr", V4_NET, "--interval", "0.3"]))
    # the server handles connections in turn: the held ones exchange no data
    srv = Server(V4_SERVER, port, [(0, 0, 0)] * held + [(1, 1, 0)] * n)
    # `held` connections stay open for more than two intervals
    open_socks = [socket.create_connection((V4_SERVER, port), source_address=(V4_CLIENT, 0))
                  for _ in range(held)]
    time.sleep(1.0)
    for s in open_socks:
        s.close()
    for _ in range(n):
        client(V4_SERVER, port, 1, 1, bind=V4_CLIENT)
    srv.wait()
    time.sleep(0.2)
    settle(port)
    assert e.stop() == 0
    recs, summ = count_rows(e.stdout)
    assert summ and summ[0]["lost"] == 0
    skip_if_kernel_skipped(summ[0]["missed"], w)
    entered = {}
    for r in recs:
        entered[r["state"]] = entered.get(r["state"], 0) + r["entered"]
    total = n + held
    assert entered["SYN_SENT"] == total and entered["SYN_RECV"] == total
    assert entered["ESTABLISHED"] == 2 * total
    assert entered["FIN_WAIT1"] == total and entered["LAST_ACK"] == total
    assert entered["LISTEN"] == 1 and entered["CLOSE"] == 2 * total + 1
    # while held: 2 sockets per connection in ESTABLISHED; at the end none
    est = [r["now"] for r in recs if r["state"] == "ESTABLISHED"]
    assert 2 * held in est, recs
    # the last table printed (rows only where something entered or is in a state)
    final_time = recs[-1]["time"]
    final = {r["state"]: r["now"] for r in recs if r["time"] == final_time}
    assert final.get("ESTABLISHED", 0) == 0 and final.get("CLOSE_WAIT", 0) == 0


def test_count_by_lport_and_comm(ebee_start, witness):
    port = free_port(V4_SERVER)
    w = witness(port)
    n = 5
    e = attached(ebee_start(["-j", "tcp", "count", "--laddr", V4_NET, "--by", "lport,comm",
                             "--state", "SYN_RECV,SYN_SENT", "--interval", "60"]))
    srv = Server(V4_SERVER, port, [(1, 1, 0)] * n)
    for _ in range(n):
        client(V4_SERVER, port, 1, 1, bind=V4_CLIENT)
    srv.wait()
    settle(port)
    assert e.stop() == 0
    recs, summ = count_rows(e.stdout)
    skip_if_kernel_skipped(summ[0]["missed"], w)
    assert {r["state"] for r in recs} == {"SYN_RECV", "SYN_SENT"}, recs
    syn_recv = [r for r in recs if r["state"] == "SYN_RECV"]
    assert syn_recv == [dict(syn_recv[0], lport=port, comm=SERVER_COMM, entered=n, now=0)]
    assert sum(r["entered"] for r in recs if r["state"] == "SYN_SENT") == n


def test_filters_exclude(ebee_start, witness):
    port = free_port(V4_SERVER)
    closed = free_port(V4_SERVER, avoid={port})
    w = witness(port, closed)
    runs = {
        "into_syn_sent": ["--laddr", V4_NET, "--state", "SYN_SENT", "--dir", "into"],
        "established": ["--laddr", V4_NET, "--state", "established"],
        "lport": ["--lport", str(port)],
        "lport_range": ["--lport", f"{port - 1 if port > 1 else port}-{port}"],
        "rport": ["--rport", str(port)],
        "v6_only": ["-6", "--rport", str(port)],
        "raddr_other": ["--raddr", "127.78.0.0/16", "--rport", str(port)],
        "pid_server": ["--laddr", V4_NET, "--pid"],
    }
    # pid_server starts after the server listens: the listener's owner comes from /proc
    srv = Server(V4_SERVER, port, [(10, 10, 0.05)] * 2, listen=False)
    runs["pid_server"].append(str(srv.pid))
    es = {k: attached(ebee_start(["-j", "tcp", "states"] + args)) for k, args in runs.items()
          if k != "pid_server"}
    srv.listen()
    # the listener's owner is looked up in /proc after the attach: traffic waits for that
    # (ebee says it is tracing once done), or the first children have no known owner
    es["pid_server"] = attached(ebee_start(["-v", "-j", "tcp", "states"] + runs["pid_server"]))
    deadline = time.monotonic() + 20
    while "tracing TCP state changes" not in "".join(es["pid_server"]._err):
        assert time.monotonic() < deadline, "".join(es["pid_server"]._err)
        time.sleep(0.02)
    conns = [client(V4_SERVER, port, 10, 10, bind=V4_CLIENT) for _ in range(2)]
    srv.wait()
    refused(V4_SERVER, closed, bind=V4_CLIENT)
    got = {}
    settle(port, closed)
    for k, e in es.items():
        assert e.stop() == 0
        got[k], summ = rows(e, w=w)
        assert summ["lost"] == 0
        got[k] = [r for r in got[k] if port in (r["lport"], r["rport"]) or r["rport"] == closed]

    assert transitions(got["into_syn_sent"]) == [("CLOSE", "SYN_SENT")] * 3
    est = got["established"]
    assert len(est) == 8 and all("ESTABLISHED" in t for t in transitions(est))
    # --lport: server side only (children and listener)
    assert got["lport"] and all(r["lport"] == port for r in got["lport"])
    assert len(got["lport"]) == 2 * 5 + 2
    # a range LO-HI holding the port: the same transitions (others' in the range aside)
    untimed = lambda rs: [dict(r, time=None, ms=None) for r in rs]   # each run stamps its own
    assert untimed(r for r in got["lport_range"] if r["lport"] == port) == untimed(got["lport"])
    # --rport: client side only; CLOSE -> SYN_SENT included (the remote port is known)
    assert len(got["rport"]) == 2 * 5 and all(r["rport"] == port for r in got["rport"])
    assert got["v6_only"] == [] and got["raddr_other"] == []
    assert len(got["pid_server"]) == 2 * 5 + 1   # + LISTEN -> CLOSE
    assert all(r["pid"] == srv.pid for r in got["pid_server"])
    assert {r["lport"] for r in got["pid_server"]} == {port}
    assert conns


@pytest.mark.parametrize("args,needle", [
    (["states", "--state", "SYN_SENT,BOGUS"], "valid: ESTABLISHED,SYN_SENT"),
    (["count", "--state", "nope"], "unknown TCP state 'nope'"),
    (["states", "--lport", "70000"], "bad value '70000' for '--lport'"),
    (["life", "--rport", "http"], "bad value 'http' for '--rport'"),
    (["states", "--rport", "90-80"], "first port is above its last"),
    (["states", "--raddr", "10.0.0.0/33"], "bad value '10.0.0.0/33' for '--raddr': bad prefix"),
    (["life", "--laddr", "fe80::zz"], "not an IPv4 or IPv6 address"),
    (["states", "-4", "-6"], "conflicting filters"),
    (["states", "-6", "--laddr", "127.0.0.1"], "conflicting filters"),
    (["states", "--dir", "into"], "needs '--state'"),
    (["states", "--state", "LISTEN", "--dir", "up"], "invalid value 'up' for '--dir'"),
    (["count", "--by", "colour"], "unknown key 'colour'"),
    (["states", "--lport", "1,2,3,4,5,6,7,8,9"], "too many ports"),
])
def test_bad_input(args, needle):
    p = run(["tcp"] + args, timeout=30)
    assert p.returncode == 2, (p.stdout, p.stderr)
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and needle in lines[0], p.stderr
    assert p.stdout == ""
