"""ebee serve: /api/netwatch, /metrics (checked with promtool), /healthz, bad requests, and
start-up errors. serve runs in the test's server namespace and is queried from there."""
import ipaddress
import json
import random
import re
import shutil
import socket
import subprocess
import time

import pytest

from conftest import json_lines
from netwatch_util import LABELS, RAW_BYTES, Lab, NsEbee, http, wait_until


@pytest.fixture
def lab():
    lab = Lab(nclients=2)
    yield lab
    lab.close()


def start_serve(lab, tmp_path, *extra):
    labels = tmp_path / "labels.txt"
    labels.write_text(LABELS)
    ifs = [a for c in lab.clients for a in ("-i", c.srv_if)]
    e = NsEbee(lab, ["serve", "--json", "--listen", "127.0.0.1:0", "--interval", "0.2",
                     "--labels", labels] + ifs + list(extra))
    e.start()
    line = e.readline()
    return e, json.loads(line)["url"]


def api(lab, url):
    status, body = http(lab, url + "api/netwatch")
    assert status == 200
    return json.loads(body)


def send_known(lab, url, ports=(8080, 8080, 8080)):
    """12, 30 and 5 datagrams from three sources (client 0 over v4, client 1 over v6 and v4), then
    waits until /api/netwatch counts exactly those."""
    c0, c1 = lab.clients
    c0.send_udp(4, 12, 100, ports[0])
    c1.send_udp(6, 30, 100, ports[1])
    c1.send_udp(4, 5, 100, ports[2])
    want = {c0.v4: 12, c1.v6: 30, c1.v4: 5}

    def counts():
        d = api(lab, url)
        return {s["addr"]: s["packets"] for s in d["sources"] if s["addr"] in want}
    assert wait_until(lambda: counts() == want, timeout=5), counts()


def test_api_metrics_healthz(lab, tmp_path):
    c0, c1 = lab.clients
    e, url = start_serve(lab, tmp_path)
    send_known(lab, url)

    d = api(lab, url)
    by = {s["addr"]: s for s in d["sources"]}
    assert (by[c0.v4]["geo"], by[c0.v4]["city"], by[c0.v4]["lat"]) == ("label", "lab-amsterdam", 52.37)
    assert by[c1.v6]["city"] == "lab-tokyo"
    assert d["totals"]["evicted"] == 0 and d["totals"]["sources"] >= 3
    assert [i["name"] for i in d["interfaces"]] == [c0.srv_if, c1.srv_if]
    assert "DB-IP" in (d["attribution"] or {}).get("text", "DB-IP")
    # ?top limits the list, busiest first.
    status, body = http(lab, url + "api/netwatch?top=1")
    top = json.loads(body)
    assert top["shown"] == 1 and top["sources"][0]["addr"] == c1.v6

    status, metrics = http(lab, url + "metrics")
    assert status == 200
    if shutil.which("promtool"):
        p = subprocess.run(["promtool", "check", "metrics"], input=metrics, capture_output=True,
                           text=True)
        assert p.returncode == 0, p.stdout + p.stderr
    samples = {}
    for line in metrics.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    assert samples["ebee_netwatch_packets_total"] >= 47
    assert samples['ebee_netwatch_location_packets{source="label",location="lab-tokyo"}'] >= 35
    assert samples['ebee_netwatch_location_packets{source="label",location="lab-amsterdam"}'] >= 12
    assert samples["ebee_netwatch_evictions_total"] == 0
    assert samples[f'ebee_netwatch_interface_attached{{interface="{c0.srv_if}",mode="tcx"}}'] == 1
    assert samples['ebee_build_info{version="0.1.0"}'] == 1

    assert http(lab, url + "healthz") == (200, "ok\n")
    status, body = http(lab, url + "no/such/path")
    assert status == 404 and json.loads(body) == {"error": "not found"}
    status, body = http(lab, url + "api/netwatch", method="POST")
    assert status == 405
    _, line = http(lab, url, raw=b"GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n")
    assert line == "HTTP/1.1 400 Bad Request", line
    _, line = http(lab, url, raw=b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert line == "HTTP/1.1 414 URI Too Long", line
    _, line = http(lab, url, raw=b"BLAH\r\n\r\n")     # not HTTP at all: closed, or a 4xx
    assert line == "" or line.startswith("HTTP/1.1 4"), line
    # Still serving after all that.
    assert http(lab, url + "healthz") == (200, "ok\n")
    assert e.stop() == 0, e.stderr
    for c in lab.clients:
        assert lab.filters(c.srv_if) == []


def test_counts_exact_through_refreshes(lab):
    """2000 sources, then rounds of traffic on a few of them, refreshing every 0.1 s: each
    refresh looks up only the sources the kernel published as changed, and every source's
    packets and bytes stay exact, its pps back to 0 once idle, the list busiest first. A round
    that touches every source and one that brings new ones go through the whole-table read."""
    c0 = lab.clients[0]
    e = NsEbee(lab, ["-v", "serve", "--json", "--listen", "127.0.0.1:0", "--interval", "0.1",
                     "-i", c0.srv_if])
    e.start()
    url = json.loads(e.readline())["url"]
    base = ipaddress.IPv4Address("10.220.0.0")
    want = {str(base + k): 1 for k in range(2000)}
    c0.send_raw_sources(len(want))

    def snapshot():
        status, body = http(lab, url + "api/netwatch?top=0")
        assert status == 200
        return json.loads(body)["sources"]

    def settled():
        """Exact counts for every source (the others are the client's own IPv6 chatter), no
        packet per second left, busiest first."""
        srcs = snapshot()
        mine = {s["addr"]: s for s in srcs if s["addr"] in want}
        if {a: s["packets"] for a, s in mine.items()} != want:
            return False
        assert all(s["bytes"] == RAW_BYTES * s["packets"] for s in mine.values())
        assert all(x["packets"] >= y["packets"] for x, y in zip(srcs, srcs[1:]))
        return all(s["pps"] == 0 for s in mine.values())

    def send(plan):
        c0.send_raw(plan)
        for a, n in plan:
            want[a] = want.get(a, 0) + n
        assert wait_until(settled, timeout=15), sorted(
            (a, s["packets"], want[a]) for s in snapshot() for a in [s["addr"]]
            if a in want and s["packets"] != want[a])

    assert wait_until(settled, timeout=15)
    rng = random.Random(15)
    rounds = 12
    for r in range(rounds):
        send([(a, rng.randint(1, 9)) for a in rng.sample(sorted(want), 5)])
        if r == 5:
            send([(a, 1) for a in want])                                  # every source
            send([(str(base + 3000 + k), 2) for k in range(50)])          # new sources
    assert e.stop() == 0, e.stderr
    m = re.search(r"netwatch: (\d+) refreshes: (\d+) read nothing new, (\d+) looked up (\d+) "
                  r"changed sources, (\d+) read the whole table", e.stderr)
    assert m, e.stderr
    total, idle, dirty, lookups, walks = map(int, m.groups())
    assert total == idle + dirty + walks
    # Most rounds were read from the kernel's list of changed sources (a round can fall in a
    # refresh that reads the whole table anyway, when the client's IPv6 chatter brings a new
    # source).
    assert dirty >= rounds // 2 and lookups >= 5, m.group(0)
    assert walks >= 3, m.group(0)       # the first refresh, every source, new sources


def test_port_in_use_and_bad_listen(lab, tmp_path):
    busy = subprocess.Popen(["ip", "netns", "exec", lab.srv, "python3", "-c",
                             "import socket,time\ns=socket.socket()\ns.bind(('127.0.0.1',8700))\n"
                             "s.listen()\nprint('ok',flush=True)\ntime.sleep(60)"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert busy.stdout.readline().strip() == "ok"
        p = subprocess.run(lab.ebee_args("serve", "-i", lab.clients[0].srv_if, "--listen",
                                         "127.0.0.1:8700"), capture_output=True, text=True, timeout=30)
        assert p.returncode == 1
        assert "cannot listen on '127.0.0.1:8700': Address already in use" in p.stderr
    finally:
        busy.kill()
        busy.wait()
    p = subprocess.run(lab.ebee_args("serve", "--listen", "localhost:http"), capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 2 and "invalid listen address 'localhost:http'" in p.stderr
    assert lab.filters(lab.clients[0].srv_if) == []


def test_bad_collectors(lab):
    """--collectors names collectors of the registry: a typo gets a suggestion, exit 2, and
    nothing is attached."""
    p = subprocess.run(lab.ebee_args("serve", "-i", lab.clients[0].srv_if, "--listen", "127.0.0.1:0",
                                     "--collectors", "netwatc"), capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 2, p.stderr
    assert "unknown collector 'netwatc' (did you mean 'netwatch'?)" in p.stderr
    p = subprocess.run(lab.ebee_args("serve", "-i", lab.clients[0].srv_if, "--listen", "127.0.0.1:0",
                                     "--collectors", "netwatch,netwatch"), capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 2 and "collector 'netwatch' named twice" in p.stderr
    assert lab.filters(lab.clients[0].srv_if) == []
