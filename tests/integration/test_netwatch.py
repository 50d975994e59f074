"""ebee netwatch against real traffic: client namespaces send known numbers of UDP datagrams
to a server namespace; netwatch (run in the server namespace) must report exactly those
packets and bytes per source, honour --port, and leave tc as it found it."""
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import json_lines
from netwatch_util import Lab, NsEbee, UDP_HDR, sh, wait_until


@pytest.fixture
def lab():
    lab = Lab(nclients=2)
    yield lab
    lab.close()


def rows(text):
    objs = json_lines(text)
    return {o["addr"]: o for o in objs if "addr" in o}, [o for o in objs if o.get("type") == "summary"]


def run_netwatch(lab, args, traffic, duration=None):
    """Starts netwatch, runs traffic(), stops it with SIGINT; returns (sources, summary)."""
    e = NsEbee(lab, ["netwatch", "--json", "--interval", "60", "--top", "0"] + list(args))
    e.start()
    traffic()
    time.sleep(0.2)
    assert e.stop() == 0, e.stderr
    src, summ = rows(e.stdout)
    assert len(summ) == 1, e.stdout
    return src, summ[0], e


@pytest.mark.parametrize("attach", ["auto", "tc", "tcx"])
def test_exact_counts_per_source(lab, attach):
    c0, c1 = lab.clients
    plan = [(c0, 4, 17, 100), (c0, 6, 9, 300), (c1, 4, 5, 1000), (c1, 6, 23, 64)]
    sink = lab.udp_sink(8080)

    def traffic():
        for c, fam, n, size in plan:
            c.send_udp(fam, n, size, 8080)

    ifs = [a for c in lab.clients for a in ("-i", c.srv_if)]
    if attach == "tc":
        # Attached as a clsact filter while running.
        e = NsEbee(lab, ["netwatch", "--json", "--attach", "tc", "--interval", "60"] + ifs)
        e.start()
        for c in lab.clients:
            f = lab.filters(c.srv_if)
            mine = [x["options"]["bpf_name"] for x in f if x.get("pref") == 0xebe]
            assert len(mine) == 1 and mine[0].startswith("ebee_nw_ingress"), f
            assert "clsact" in lab.qdiscs(c.srv_if)
        traffic()
        time.sleep(0.2)
        assert e.stop() == 0, e.stderr
        src, summ = rows(e.stdout)
        summ = summ[0]
    else:
        src, summ, e = run_netwatch(lab, ["--attach", attach] + ifs, traffic)

    # Every datagram reached the server's socket: nothing was dropped.
    assert sink.count() == sum(n for _, _, n, _ in plan)
    want_mode = "tc" if attach == "tc" else "tcx"
    assert [i["attach"] for i in summ["interfaces"]] == [want_mode, want_mode]
    for c, fam, n, size in plan:
        addr = c.v4 if fam == 4 else c.v6
        assert addr in src, f"{addr} missing from {sorted(src)}"
        r = src[addr]
        assert r["packets"] == n, r
        assert r["bytes"] == n * (UDP_HDR[fam] + size), r
        assert r["family"] == fam
        assert r["ports"] == [{"port": 8080, "proto": "udp", "packets": n}]
        assert r["geo"] == "private"
    # Nothing of ebee's left in tc: no filter, and the clsact it created is gone too.
    for c in lab.clients:
        assert lab.filters(c.srv_if) == []
        assert "clsact" not in lab.qdiscs(c.srv_if)
    assert summ["evicted"] == 0


def test_auto_falls_back_to_clsact_without_tcx(lab):
    """EBEE_DISABLE=tcx makes the probe say no, as on a kernel before 6.6."""
    c0 = lab.clients[0]
    e = NsEbee(lab, ["netwatch", "--json", "--interval", "60", "-i", c0.srv_if],
               env=dict(os.environ, EBEE_DISABLE="tcx"))
    e.start()
    assert any(f.get("pref") == 0xebe for f in lab.filters(c0.srv_if))
    c0.send_udp(4, 6, 10, 80)
    time.sleep(0.2)
    assert e.stop() == 0, e.stderr
    src, summ = rows(e.stdout)
    assert summ[0]["interfaces"] == [{"name": c0.srv_if, "attach": "tc"}]
    assert src[c0.v4]["packets"] == 6
    assert lab.filters(c0.srv_if) == [] and "clsact" not in lab.qdiscs(c0.srv_if)


def test_tcp_gso_counts_segments(lab):
    """veth carries TSO super-packets: they count as the wire segments they stand for."""
    c0 = lab.clients[0]
    srv = subprocess.Popen(["ip", "netns", "exec", lab.srv, "python3", "-c",
                            "import socket\ns=socket.socket()\ns.bind(('0.0.0.0',8443))\n"
                            "s.listen()\nprint('ok',flush=True)\nc,_=s.accept()\nn=0\n"
                            "while True:\n  b=c.recv(1<<20)\n  if not b: break\n  n+=len(b)\n"
                            "print(n,flush=True)"], stdout=subprocess.PIPE, text=True)
    assert srv.stdout.readline().strip() == "ok"
    total = 4 << 20

    def traffic():
        sh("python3", "-c", f"import socket\ns=socket.create_connection(('{c0.srv_v4}',8443))\n"
           f"s.sendall(b'x'*{total})\ns.close()", ns=c0.ns)
        assert int(srv.communicate(timeout=30)[0].strip()) == total

    src, summ, _ = run_netwatch(lab, ["-i", c0.srv_if, "--port", "8443"], traffic)
    r = src[c0.v4]
    assert r["ports"][0]["port"] == 8443 and r["ports"][0]["proto"] == "tcp"
    assert r["bytes"] > total
    # At most one MTU-sized frame per counted packet (counting skbs would give ~56 kB each:
    # here 75 skbs carried 2901 segments).
    assert r["bytes"] / r["packets"] <= 1514, r
    assert r["packets"] >= total // 1448


def test_port_filter(lab):
    c0, c1 = lab.clients

    def traffic():
        c0.send_udp(4, 11, 50, 8080)
        c0.send_udp(4, 7, 50, 9090)
        c1.send_udp(6, 13, 50, 443)
        c1.send_udp(6, 3, 50, 9091)
        c1.send_udp(4, 4, 50, 9092)      # c1's IPv4 only sends to unwatched ports

    src, summ, _ = run_netwatch(lab, ["-i", c0.srv_if, "-i", c1.srv_if, "--port", "8080,443"],
                                traffic)
    assert src[c0.v4]["packets"] == 11
    assert src[c0.v4]["ports"] == [{"port": 8080, "proto": "udp", "packets": 11}]
    assert src[c1.v6]["packets"] == 13
    assert c1.v4 not in src
    assert summ["port_filtered"] >= 7 + 3 + 4


def test_preexisting_clsact_and_foreign_filter_kept(lab):
    c0 = lab.clients[0]
    lab.tc("qdisc", "add", "dev", c0.srv_if, "clsact")
    lab.tc("filter", "add", "dev", c0.srv_if, "ingress", "prio", "50000", "handle", "7",
           "bpf", "bytecode", "1,6 0 0 0,")
    before = lab.filters(c0.srv_if)
    src, summ, _ = run_netwatch(lab, ["-i", c0.srv_if, "--attach", "tc"],
                                lambda: c0.send_udp(4, 9, 20, 53))
    assert src[c0.v4]["packets"] == 9
    assert "clsact" in lab.qdiscs(c0.srv_if)
    assert lab.filters(c0.srv_if) == before


def test_two_runs_share_a_clsact(lab):
    """The first run creates the clsact; it stays while the second still has its filter, and
    the last ebee to leave removes it."""
    c0 = lab.clients[0]
    args = ["netwatch", "--attach", "tc", "-i", c0.srv_if, "--interval", "60"]
    a = NsEbee(lab, args)
    a.start()
    b = NsEbee(lab, args)
    b.start()
    assert len([f for f in lab.filters(c0.srv_if) if f.get("pref") == 0xebe]) == 2
    assert a.stop() == 0
    assert len(lab.filters(c0.srv_if)) == 1 and "clsact" in lab.qdiscs(c0.srv_if)
    assert b.stop() == 0
    assert lab.filters(c0.srv_if) == [] and "clsact" not in lab.qdiscs(c0.srv_if)


def test_cleanup_after_sigkill(lab):
    c0, c1 = lab.clients
    # c1's interface has a clsact of its own with another tool's filter.
    lab.tc("qdisc", "add", "dev", c1.srv_if, "clsact")
    lab.tc("filter", "add", "dev", c1.srv_if, "ingress", "prio", "50000", "handle", "7",
           "bpf", "bytecode", "1,6 0 0 0,")
    foreign = lab.filters(c1.srv_if)
    e = NsEbee(lab, ["netwatch", "--attach", "tc", "-i", c0.srv_if, "-i", c1.srv_if])
    e.start()
    e.kill()
    # A killed run cannot clean up: its filters stay (the kernel keeps the programs for them).
    assert any(f.get("pref") == 0xebe for f in lab.filters(c0.srv_if))
    assert len(lab.filters(c1.srv_if)) == 2

    p = subprocess.run(lab.ebee_args("cleanup", "--json"), capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    done = json_lines(p.stdout)
    removed = {(d["object"], d["interface"]) for d in done if d["action"] == "removed"}
    assert removed == {("tc filter", c0.srv_if), ("tc filter", c1.srv_if), ("qdisc", c0.srv_if)}, done
    assert lab.filters(c0.srv_if) == [] and "clsact" not in lab.qdiscs(c0.srv_if)
    assert lab.filters(c1.srv_if) == foreign and "clsact" in lab.qdiscs(c1.srv_if)
    # The programs went with their last filter.
    assert wait_until(lambda: not (e.progs & __import__("conftest").loaded_prog_ids()))
    # A second run finds nothing.
    p = subprocess.run(lab.ebee_args("cleanup", "--json"), capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and json_lines(p.stdout) == [], p.stdout


def test_cleanup_leaves_running_ebee_alone(lab):
    c0 = lab.clients[0]
    e = NsEbee(lab, ["netwatch", "--attach", "tc", "-i", c0.srv_if])
    e.start()
    p = subprocess.run(lab.ebee_args("cleanup", "--json"), capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and json_lines(p.stdout) == [], p.stdout
    assert any(f.get("pref") == 0xebe for f in lab.filters(c0.srv_if))
    assert e.stop() == 0
    assert lab.filters(c0.srv_if) == []


def test_lru_bounded_and_evictions_counted(lab):
    c0 = lab.clients[0]
    src, summ, _ = run_netwatch(lab, ["-i", c0.srv_if, "--max-sources", "1024"],
                                lambda: c0.send_raw_sources(1500))
    assert summ["sources"] <= 1024
    assert summ["capacity"] == 1024
    # Every crafted source was inserted once; those not in the table were evicted.
    assert summ["evicted"] >= 1500 - 1024
    assert summ["evicted"] + summ["sources"] >= 1500
    assert len(src) == summ["sources"]


@pytest.mark.parametrize("attach", ["tcx", "tc"])
def test_interface_disappears(lab, attach):
    c0, c1 = lab.clients
    e = NsEbee(lab, ["netwatch", "--json", "--interval", "0.2", "--attach", attach,
                     "-i", c0.srv_if, "-i", c1.srv_if])
    e.start()
    sh("ip", "-n", lab.srv, "link", "del", c1.srv_if)
    c0.send_udp(4, 5, 10, 9)
    time.sleep(0.6)
    assert e.proc.poll() is None, "netwatch must keep watching the other interface"
    assert e.stop() == 0
    assert f"interface '{c1.srv_if}' disappeared" in e.stderr
    src, summ = rows(e.stdout.split('"type":"summary"')[0].rsplit("\n", 1)[0] + "\n" +
                     e.stdout.splitlines()[-1])
    assert src[c0.v4]["packets"] == 5
    gone = [i for i in summ[0]["interfaces"] if i.get("gone")]
    assert [i["name"] for i in gone] == [c1.srv_if]
    assert lab.filters(c0.srv_if) == [] and "clsact" not in lab.qdiscs(c0.srv_if)


def test_bad_input(lab):
    def ebee(*args):
        return subprocess.run(lab.ebee_args(*args), capture_output=True, text=True, timeout=30)

    p = ebee("netwatch", "-i", "ebnw-nope", "--duration", "1")
    assert p.returncode == 1 and "interface 'ebnw-nope' not found" in p.stderr
    p = ebee("netwatch", "-i", "lo", "--port", "70000", "--duration", "1")
    assert p.returncode == 2 and "invalid port '70000'" in p.stderr
    p = ebee("netwatch", "-i", "lo", "--attach", "xdp", "--duration", "1")
    assert p.returncode == 2 and "invalid attach mode 'xdp'" in p.stderr
    p = ebee("netwatch", "-i", "lo", "--geoip", "/nonexistent.mmdb", "--duration", "1")
    assert p.returncode == 1 and "cannot read GeoIP database '/nonexistent.mmdb'" in p.stderr
    p = ebee("netwatch", "-i", "lo", "--geoip", "/etc/hostname", "--duration", "1")
    assert p.returncode == 2 and "cannot open GeoIP database '/etc/hostname'" in p.stderr
    # Nothing stays attached after a failed start.
    assert lab.filters("lo") == [] and "clsact" not in lab.qdiscs("lo")
