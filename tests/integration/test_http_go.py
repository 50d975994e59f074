"""ebee http on the test server built by every Go release this machine can have (Debian's
golang-go, and what src/http/go-toolchains.sh fetches from Debian's backports and next release),
as PIE with DWARF and stripped PIE: the offsets come from DWARF and from the table, and agree;
requests, statuses, body lengths, client calls and goroutine ids are right. A release whose
toolchain is not here is skipped, saying how to fetch it."""
import os
import re
import time

import pytest

from http_util import GO_DIR, HttpServer, build, toolchains
from test_http import assert_server_ok, by_path, check, requests_of
from uprobe_util import wait_attached

# Every release the offsets table has a row for (src/http/offsets_table.h).
TABLE = os.path.join(os.path.dirname(__file__), "..", "..", "src", "http", "offsets_table.h")
with open(TABLE) as f:
    ROWS = {m.group(1): dict(re.findall(r"\.(\w+) = (\d+)", m.group(2)))
            for m in re.finditer(r'\{ "(go\d+\.\d+)", \{(.*?)\} \}', f.read())}


@pytest.fixture(scope="module")
def tcs():
    return toolchains()


def gocache(key):
    """A build cache per release that outlives the test when the toolchain cache is writable:
    Go's cache is content-addressed, so only the first run compiles the standard library."""
    d = os.path.join(GO_DIR, "gocache", key)
    try:
        os.makedirs(d, exist_ok=True)
        return d
    except OSError:
        return None


@pytest.mark.parametrize("key", sorted(ROWS, key=lambda k: int(k.split(".")[1])))
def test_go_release(ebee_start, tmp_path, tcs, key):
    if key not in tcs:
        pytest.skip(f"no {key} toolchain here (src/http/go-toolchains.sh fetches Debian's)")
    go, full = tcs[key]
    bins = build(str(tmp_path), ("pie_dwarf", "pie"), go, gocache(key))
    for variant, src in (("pie_dwarf", "dwarf"), ("pie", "table")):
        srv = HttpServer(bins[variant])
        try:
            e = ebee_start(["-j", "-v", "http", "-p", str(srv.pid)])
            wait_attached(e)
            sent = []
            for m, p, b, want in [("GET", "/ok/1", None, 200), ("GET", "/fail/1", None, 500),
                                  ("GET", "/nothere/1", None, 404),
                                  ("POST", "/post/1", b"x" * 777, 200),
                                  ("GET", "/slow/1?ms=30", None, 200)]:
                st, _, t0, t1 = srv.request(m, p, b)
                assert st == want, (key, variant, m, p, st)
                sent.append((m, p, b, st, t0, t1))
            st, gid, _, _ = srv.request("GET", "/gid/1")
            st2, body, _, _ = srv.request("GET", "/call/1?to=/ok/c1")
            assert st == st2 == 200 and body == b"200"
            time.sleep(0.3)
            e.stop()
            assert e.proc.returncode == 0, e.stderr
            ev = e.json()
            seen = by_path(requests_of(ev))
            check(seen, sent, srv.pid)
            # the goroutine id ebee read through runtime.g is the runtime's own
            assert seen["/gid/1"]["goid"] == int(gid), (key, variant, seen["/gid/1"], gid)
            cli = by_path(requests_of(ev, "client"))
            assert cli["/ok/c1"]["status"] == 200 and cli["/ok/c1"]["goid"] == seen["/call/1"]["goid"]
            s = [x for x in ev if x.get("type") == "summary"][0]
            assert (s["offsets"], s["go"], s["faults"], s["lost"]) == (src, full, 0, 0), s
            # libdw's reading of the DWARF is the table's row (made with Go's own debug/dwarf)
            m = re.search(r"struct offsets from (\w+): (.*)", e.stderr)
            assert m and m.group(1) == src, e.stderr
            assert dict(kv.split("=") for kv in m.group(2).split()) == ROWS[key], (key, variant)
            assert_server_ok(srv)
        finally:
            srv.stop()
