"""ebee serve's page in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core
from npm): after traffic from two labelled test hosts the map shows a dot per location and
the table lists every source. The screenshot is kept in tests/artifacts/."""
import json
import os
import shutil
import subprocess

import pytest

from conftest import ROOT
from netwatch_util import LABELS, Lab, NsEbee, http, wait_until

WEB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "test_netwatch_web")
ARTIFACTS = os.path.join(ROOT, "tests", "artifacts")


@pytest.fixture
def lab():
    lab = Lab(nclients=2)
    yield lab
    lab.close()


def test_map_and_table_in_chromium(lab, tmp_path):
    if not os.access("/usr/bin/chromium", os.X_OK) or not shutil.which("node"):
        pytest.skip("needs /usr/bin/chromium and node")
    p = subprocess.run([os.path.join(WEB, "install.sh")], capture_output=True, text=True, timeout=300)
    if p.returncode:
        pytest.skip(f"cannot install playwright-core from npm: {p.stderr.strip()[-300:]}")

    labels = tmp_path / "labels.txt"
    labels.write_text(LABELS)
    c0, c1 = lab.clients
    e = NsEbee(lab, ["serve", "--json", "--listen", "127.0.0.1:0", "--interval", "0.2",
                     "--labels", labels, "-i", c0.srv_if, "-i", c1.srv_if])
    e.start()
    url = json.loads(e.readline())["url"]
    c0.send_udp(4, 40, 200, 8080)
    c0.send_udp(6, 10, 200, 8080)
    c1.send_udp(4, 25, 200, 8080)
    c1.send_udp(6, 5, 200, 8080)
    mine = {c0.v4: 40, c0.v6: 10, c1.v4: 25, c1.v6: 5}
    assert wait_until(lambda: {s["addr"]: s["packets"] for s in
                               json.loads(http(lab, url + "api/netwatch")[1])["sources"]
                               if s["addr"] in mine} == mine, timeout=5)

    os.makedirs(ARTIFACTS, exist_ok=True)
    shot = os.path.join(ARTIFACTS, "netwatch-map.png")
    if os.path.exists(shot):
        os.unlink(shot)
    # The browser runs in the server namespace, where serve listens.
    p = subprocess.run(["ip", "netns", "exec", lab.srv, "node", os.path.join(WEB, "page.js"), url,
                        shot, "2", "4"], capture_output=True, text=True, timeout=120, cwd=WEB)
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["errors"] == [], r["errors"]
    # Self-contained: the page asked nothing of any host but ebee.
    assert all(u.startswith(url) for u in r["requests"]), r["requests"]
    dots = {d["location"]: d for d in r["dots"]}
    assert set(dots) >= {"lab-amsterdam", "lab-tokyo"}, r["dots"]
    assert dots["lab-amsterdam"]["packets"] == 50 and dots["lab-tokyo"]["packets"] == 30
    assert all(d["visible"] for d in dots.values())
    assert dots["lab-amsterdam"]["r"] > dots["lab-tokyo"]["r"]      # sized by traffic
    rows = {row[0]: row for row in r["rows"]}
    for addr, n in mine.items():
        assert addr in rows and rows[addr][3] == str(n), (addr, r["rows"])
    assert rows[c1.v4][1] == "lab-tokyo"
    assert r["tableVisible"] and r["land"] and r["land"][0] > 10000   # countries were drawn
    assert "DB-IP" in r["attribution"]
    assert os.path.getsize(shot) > 10000
    assert e.stop() == 0, e.stderr
