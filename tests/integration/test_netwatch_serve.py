"""ebee serve: /api/netwatch, /metrics (checked with promtool), /healthz, bad requests, and
start-up errors. serve runs in the test's server namespace and is queried from there."""
import json
import shutil
import socket
import subprocess
import time

import pytest

from conftest import json_lines
from netwatch_util import LABELS, Lab, NsEbee, http, wait_until


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
