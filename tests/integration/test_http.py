"""ebee http against a real Go HTTP server (unstripped, stripped, stripped PIE) built here: every
request the test sends appears exactly once with its method, path, status, body length and a
duration inside the client's own measurement; concurrent clients; the client side; RED; bad
input. Only 127.0.0.1."""
import http.client
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import json_lines, run
from http_util import GO_HTTP_LOAD, HttpServer, build, load_path
from uprobe_util import build_go, wait_attached


@pytest.fixture(scope="module")
def go_bins(tmp_path_factory):
    bins = build(str(tmp_path_factory.mktemp("httpgo")))
    if not bins:
        pytest.skip("go compiler not installed (golang-go)")
    return bins


@pytest.fixture(scope="module")
def go_load(go_bins, tmp_path_factory):
    return build_go(str(tmp_path_factory.mktemp("httpload")), GO_HTTP_LOAD, "httpload",
                    variants=("plain",))["plain"]


@pytest.fixture
def server(go_bins):
    started = []

    def _start(variant="plain"):
        s = HttpServer(go_bins[variant])
        started.append(s)
        return s
    yield _start
    for s in started:
        s.stop()


def assert_server_ok(srv):
    assert srv.alive()
    st, body, _, _ = srv.request("GET", "/ok/after")
    assert st == 200 and body == b"ok"
    out = srv.output()
    for bad in ("panic", "fatal error", "SIGTRAP", "unexpected signal", "goroutine "):
        assert bad not in out, out


def requests_of(events, side="server"):
    return [e for e in events if e.get("side") == side and "duration_ns" in e]


def by_path(reqs):
    seen = {}
    for r in reqs:
        assert r["path"] not in seen, f"{r['path']} reported twice: {seen[r['path']]} and {r}"
        seen[r["path"]] = r
    return seen


def check(seen, sent, pid):
    """sent: [(method, path, body, status, t0, t1)] as the client saw them."""
    for m, p, b, st, t0, t1 in sent:
        path = p.split("?")[0]
        assert path in seen, f"{m} {path} not reported"
        r = seen[path]
        assert (r["method"], r["status"], r["pid"]) == (m, st, pid), (r, m, st)
        # the server's handling is inside the client's round trip
        assert 0 < r["duration_ns"] <= t1 - t0, (r, t1 - t0)
        assert r["content_length"] == (len(b) if b else 0), r
        assert r["addr"].startswith("127.0.0.1:"), r
        assert r["goid"] > 0
        if path.startswith("/slow/"):
            ms = int(p.split("ms=")[1])
            assert r["duration_ns"] >= ms * 1_000_000, r


@pytest.mark.parametrize("variant,end", [("plain", "finish"), ("stripped", "finish"),
                                         ("pie", "finish"), ("stripped", "ret")])
def test_server_requests(ebee_start, server, variant, end):
    """end: where a server request ends. "finish": finishRequest's entry, the status read from
    the response (the default: one trap per request); "ret": ServeHTTP's RETs and WriteHeader,
    the fallback when the response's layout is unknown (made here by overriding its offset)."""
    srv = server(variant)
    srv.request("GET", "/ok/before")   # not traced: must not show up
    env = dict(os.environ)
    if end == "ret":
        env["EBEE_HTTP_OFFSETS"] = "rw_status=65535"
    e = ebee_start(["-v", "-j", "http", "-p", str(srv.pid)], env=env)
    assert wait_attached(e) >= 3

    sent = []
    plan = [("GET", "/ok/1", None, 200), ("GET", "/fail/1", None, 500),
            ("GET", "/nothere/1", None, 404), ("GET", "/empty/1", None, 200),
            ("GET", "/created/1", None, 201), ("POST", "/post/1", b"x" * 1234, 200),
            ("PUT", "/post/2", b"y" * 70000, 200), ("DELETE", "/ok/2", None, 200),
            ("GET", "/slow/1?ms=150", None, 200), ("HEAD", "/ok/3", None, 200)]
    for m, p, b, want in plan:
        st, _, t0, t1 = srv.request(m, p, b)
        assert st == want, (m, p, st)
        sent.append((m, p, b, st, t0, t1))
    # concurrent clients on keep-alive connections: goroutines on many threads, slow handlers
    # parked while others run
    mixed = []
    for i in range(160):
        kind = i % 5
        if kind == 0:
            mixed.append(("GET", f"/ok/c{i}", None))
        elif kind == 1:
            mixed.append(("GET", f"/fail/c{i}", None))
        elif kind == 2:
            mixed.append(("POST", f"/post/c{i}", b"z" * (i * 7)))
        elif kind == 3:
            mixed.append(("GET", f"/slow/c{i}?ms={20 + i % 30}", None))
        else:
            mixed.append(("GET", f"/missing/c{i}", None))
    sent += srv.concurrent(mixed, threads=8)
    assert len(sent) == len(plan) + len(mixed)

    time.sleep(0.3)
    e.stop()
    assert e.proc.returncode == 0, e.stderr
    ev = e.json()
    reqs = requests_of(ev)
    seen = by_path(reqs)
    assert set(seen) == {p.split("?")[0] for _, p, *_ in sent}, set(seen) ^ {p for _, p, *_ in sent}
    check(seen, sent, srv.pid)
    summ = [x for x in ev if x.get("type") == "summary"]
    assert len(summ) == 1 and summ[0]["collector"] == "http", ev[-3:]
    s = summ[0]
    assert s["events"] == len(reqs) and s["lost"] == 0 and s["faults"] == 0, s
    assert s["offsets"] == ("dwarf" if variant == "plain" else "table"), s
    for k in ("missed", "duration_s", "unmatched"):
        assert k in s
    assert s["unmatched"] == 0, s
    assert ("server requests end at " + ("finishRequest's entry" if end == "finish" else
                                         "ServeHTTP's RETs")) in e.stderr, e.stderr
    assert_server_ok(srv)


@pytest.mark.parametrize("mode", ["lines", "summary"])
def test_every_request_accounted(ebee_start, server, go_load, mode):
    """A fast concurrent load (8 keep-alive connections, closed loop, as fast as this machine
    serves it; GETs of distinct paths answered 200, 500 or 404): every request the client got
    its answer for is reported once with its method, path and status (a line, or a route row's
    count with --summary), or counted in the summary's `dropped` under a reason. reported +
    dropped == sent, nothing unexplained, and the kernel's books balance: every traced entry is
    submitted, aggregated, dropped for a reason or still in flight. Here only a full ring buffer
    may drop (a loaded machine starving ebee) and it must say so; every other reason is a bug."""
    srv = server("plain")
    args = ["-j", "http", "-p", str(srv.pid), "--side", "server"]
    e = ebee_start(args + (["--summary"] if mode == "summary" else []))
    wait_attached(e)
    n = 20000
    p = subprocess.run([go_load, str(srv.port), str(n), "8"], capture_output=True, text=True,
                       timeout=300)
    got = json.loads(p.stdout)
    assert (got["ok"], got["errors"]) == (n, 0), (got, p.stderr)
    time.sleep(0.3)
    e.stop()
    assert e.proc.returncode == 0, e.stderr
    ev = e.json()
    s = [x for x in ev if x.get("type") == "summary"][0]
    want = dict(load_path(i) for i in range(n))
    if mode == "lines":
        seen = by_path(requests_of(ev))   # once each
        for path, r in seen.items():
            assert path in want, r
            assert (r["method"], r["status"], r["pid"]) == ("GET", want[path], srv.pid), r
        reported = len(seen)
        assert s["events"] == reported and s["aggregated"] == 0, s
    else:
        rows = {r["route"]: r for r in ev if r.get("type") == "route"}
        assert set(rows) <= {"/ok/{id}", "/fail/{id}", "/nothere/{id}"}, rows
        assert all(r["errors"] == (r["requests"] if k == "/fail/{id}" else 0)
                   for k, r in rows.items()), rows
        reported = sum(r["requests"] for r in rows.values())
        assert s["events"] + s["aggregated"] == reported, s
    assert reported + s["dropped"] == n, (reported, s)
    assert s["in_flight"] == 0, s
    assert s["entries"] == (s["submitted"] + s["aggregated"] + s["faults"] + s["unfinished"] +
                            s["no_slot"] + s["in_flight"]), s
    assert s["submitted"] == s["events"] + s["lost"], s
    for k in ("faults", "unfinished", "unmatched", "unstarted", "no_slot"):
        assert s[k] == 0, (k, s)
    assert s["dropped"] == s["lost"] < n // 2, s   # most lines really checked
    if s["lost"]:
        assert f"{s['lost']} requests dropped (not reported): {s['lost']} ring buffer full" \
            in e.stderr, e.stderr
    assert_server_ok(srv)


def test_aborted_request_counted(ebee_start, server):
    """A handler that aborts (panic(http.ErrAbortHandler): no response, no finishRequest) leaves
    its request open: it is counted, never silently gone: `unfinished` when a later request
    reuses its goroutine's runtime.g, else `in_flight` at the end. Every other request is a
    line."""
    srv = server("plain")
    e = ebee_start(["-j", "http", "-p", str(srv.pid), "--side", "server"])
    wait_attached(e)
    assert srv.request("GET", "/ok/a0")[0] == 200
    try:
        srv.request("GET", "/abort/x")
        assert False, "the server answered an aborted request"
    except (http.client.HTTPException, ConnectionError):
        pass
    for i in range(1, 30):   # new connections, new goroutines: Go reuses the aborted one's g
        assert srv.request("GET", f"/ok/a{i}")[0] == 200
    time.sleep(0.3)
    e.stop()
    ev = e.json()
    assert set(by_path(requests_of(ev))) == {f"/ok/a{i}" for i in range(30)}
    s = [x for x in ev if x.get("type") == "summary"][0]
    assert s["unfinished"] + s["in_flight"] == 1, s
    assert s["dropped"] == s["unfinished"] and s["entries"] == 31, s
    if s["unfinished"]:
        assert "1 request dropped (not reported): 1 end never seen" in e.stderr, e.stderr
    assert_server_ok(srv)


def test_client_side(ebee_start, server):
    srv = server("stripped")
    e = ebee_start(["-j", "http", "-p", str(srv.pid)])
    wait_attached(e)
    sent = []
    for i, (to, want) in enumerate([("/ok/x1", 200), ("/fail/x2", 500), ("/nope/x3", 404)]):
        st, body, t0, t1 = srv.request("GET", f"/call/{i}?to={to}")
        assert st == 200 and int(body) == want
        sent.append((to, want, t0, t1, f"/call/{i}"))
    time.sleep(0.3)
    e.stop()
    ev = e.json()
    cli = by_path(requests_of(ev, "client"))
    srv_side = by_path(requests_of(ev, "server"))
    assert set(cli) == {to for to, *_ in sent}, cli
    for to, want, t0, t1, outer in sent:
        c = cli[to]
        assert (c["method"], c["status"], c["addr"]) == ("GET", want, f"127.0.0.1:{srv.port}"), c
        # the client call is inside the handler that made it, on the same goroutine
        assert c["duration_ns"] <= srv_side[outer]["duration_ns"] <= t1 - t0
        assert c["goid"] == srv_side[outer]["goid"]
        # and the call it made was served too
        assert srv_side[to]["status"] == want
    assert_server_ok(srv)


def test_summary_red(ebee_start, server):
    srv = server("plain")
    e = ebee_start(["-j", "http", "-p", str(srv.pid), "--summary", "--side", "server",
                    "--max-routes", "4"])
    wait_attached(e)
    for i in range(30):
        srv.request("GET", f"/ok/{1000 + i}")          # -> /ok/{id}
    for i in range(10):
        srv.request("GET", f"/fail/{i}")               # -> /fail/{id}, 10 errors
    for ms in (60, 80, 100, 120, 140):
        srv.request("GET", f"/slow/x?ms={ms}")
    for i in range(5):
        srv.request("GET", f"/word{i}/here")           # past the guard: /other
    time.sleep(0.3)
    e.stop()
    ev = e.json()
    assert not requests_of(ev), "--summary prints no line per request"
    routes = {(r["method"], r["route"]): r for r in ev if r.get("type") == "route"}
    assert routes[("GET", "/ok/{id}")]["requests"] == 30
    assert routes[("GET", "/ok/{id}")]["errors"] == 0
    assert routes[("GET", "/fail/{id}")]["requests"] == 10
    assert routes[("GET", "/fail/{id}")]["errors"] == 10
    slow = routes[("GET", "/slow/x")]
    assert slow["requests"] == 5
    # p50 of 60..140 ms is ~100 ms (log-linear buckets: within 12.5%), max >= 140
    assert 100 * 0.875 <= slow["p50_ms"] <= 112.5 * 1.125, slow
    assert slow["max_ms"] >= 140 and slow["p99_ms"] <= slow["max_ms"], slow
    # 4 routes: /ok/{id}, /fail/{id}, /slow/x and the first /word; the rest is /other
    assert routes[("GET", "/other")]["requests"] == 4
    s = [x for x in ev if x.get("type") == "summary"][0]
    assert s["routes"] == 4 and s["routes_overflowed"] == 4, s
    assert_server_ok(srv)


def test_interval(ebee_start, server):
    srv = server("plain")
    e = ebee_start(["-j", "http", "-p", str(srv.pid), "-i", "0.4", "-d", "3"])
    wait_attached(e)
    for i in range(12):
        srv.request("GET", f"/ok/{i % 3}")   # 3 keys: most are counted in the kernel
        time.sleep(0.05)
    assert e.wait(30) == 0, e.stderr
    rows = [r for r in e.json() if r.get("type") == "route"]
    # interval tables (and the last part at the end) add up to every request, none twice
    assert sum(r["requests"] for r in rows if r["route"] == "/ok/{id}") == 12, rows
    assert len(rows) >= 2, rows
    assert not requests_of(e.json())


@pytest.mark.parametrize("end", ["finish", "ret"])
def test_summary_in_kernel(ebee_start, server, end):
    """Without lines a request is aggregated in the kernel: a key (side, method, path, status
    class) crosses as an event until user space has given it a cell, then the requests add to
    the cell. The counts stay exact, the errors too; the guard's /other is never aggregated (its
    overflow count stays exact). One keep-alive connection alternates statuses, so that the
    goroutine's in-flight entry, reused in place, cannot leak one request's status into the
    next. end "ret": the WriteHeader + RET fallback (response.status made unknown)."""
    srv = server("plain")
    env = dict(os.environ, EBEE_HTTP_OFFSETS="rw_status=65535") if end == "ret" else None
    e = ebee_start(["-j", "http", "-p", str(srv.pid), "--summary", "--side", "server",
                    "--max-routes", "3"], env=env)
    wait_attached(e)
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    first = [("GET", "/ok/same", None, 200), ("GET", "/fail/x", None, 500),
             ("POST", "/post/x", b"abc", 200)]
    for m, p, b, st in first:   # each key crosses once, then has its cell
        assert srv.request(m, p, b, conn=conn)[0] == st
    time.sleep(1)
    for i in range(40):
        for m, p, b, st in first:
            assert srv.request(m, p, b, conn=conn)[0] == st
    for i in range(5):
        assert srv.request("GET", "/empty/w", conn=conn)[0] == 200   # past the guard: /other
    conn.close()
    time.sleep(0.3)
    e.stop()
    ev = e.json()
    assert not requests_of(ev)
    routes = {(r["method"], r["route"]): r for r in ev if r.get("type") == "route"}
    assert {k: (r["requests"], r["errors"]) for k, r in routes.items()} == {
        ("GET", "/ok/same"): (41, 0), ("GET", "/fail/x"): (41, 41),
        ("POST", "/post/x"): (41, 0), ("GET", "/other"): (5, 0)}, routes
    for r in routes.values():
        assert 0 < r["p50_ms"] <= r["p99_ms"] <= r["max_ms"] < 1000, r
    s = [x for x in ev if x.get("type") == "summary"][0]
    assert (s["aggregated"], s["events"], s["routes_overflowed"]) == (120, 3 + 5, 5), s
    assert_server_ok(srv)


def test_daemon_metrics_from_the_kernel(tmp_path, server):
    """The daemon (no lines) aggregates in the kernel: its Prometheus counter and histogram per
    (method, route, status class) count every request exactly, buckets cumulative, most of the
    requests never crossing as events."""
    from test_serve import get, metrics, serve, wait_until
    srv = server("plain")
    e, url, _ = serve(tmp_path, "listen: 127.0.0.1:0\ncollectors:\n"
                      f"  http: {{pid: {srv.pid}, side: server}}\n")
    try:
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        assert srv.request("GET", "/ok/same", conn=conn)[0] == 200
        assert srv.request("GET", "/fail/same", conn=conn)[0] == 500
        time.sleep(1)   # both keys have their cell: the rest stays in the kernel
        for i in range(9):
            assert srv.request("GET", "/fail/same", conn=conn)[0] == 500
        for i in range(29):   # last: once these are all counted, so is everything before
            assert srv.request("GET", "/ok/same", conn=conn)[0] == 200
        conn.close()
        lab = 'method="GET",route="/ok/same",status_class="2xx"'
        fam = "ebee_http_server_request"
        assert wait_until(lambda: metrics(url)[0].get(f"{fam}s_total{{{lab}}}") == 30), \
            metrics(url)[1]
        m, text = metrics(url)
        assert m[f'{fam}s_total{{method="GET",route="/fail/same",status_class="5xx"}}'] == 10
        assert m[f"{fam}_duration_seconds_count{{{lab}}}"] == 30
        assert m[f'{fam}_duration_seconds_bucket{{{lab},le="+Inf"}}'] == 30
        b = [v for k, v in m.items() if k.startswith(f"{fam}_duration_seconds_bucket{{{lab},")]
        assert len(b) == 15 and b == sorted(b), text
        assert 0 < m[f"{fam}_duration_seconds_sum{{{lab}}}"] < 30, text
        doc = json.loads(get(url + "api/http")[1])
        assert doc["aggregated"] == 38, doc
    finally:
        assert e.stop() == 0
    assert_server_ok(srv)


def test_exe_and_exit(ebee_start, go_bins, server):
    # --exe: a process started after ebee is traced; when -p's process exits, ebee stops
    e = ebee_start(["-j", "http", "--exe", go_bins["pie"]])
    wait_attached(e)
    srv = server("pie")
    srv.request("GET", "/ok/exe1")
    time.sleep(0.3)
    e.stop()
    reqs = by_path(requests_of(e.json()))
    assert reqs["/ok/exe1"]["pid"] == srv.pid

    e = ebee_start(["http", "-p", str(srv.pid)])
    wait_attached(e)
    srv.proc.send_signal(signal.SIGTERM)
    srv.proc.wait(10)
    assert e.wait(10) == 0
    assert "exited" in e.stderr


def test_offsets_dwarf_match_table(go_bins):
    """libdw's reading of the test server's DWARF (ebee -v) and the committed table row that
    gen-offsets.sh made with Go's own debug/dwarf agree, field by field."""
    import re
    p = run(["-v", "http", "--exe", go_bins["plain"], "-d", "0.1"], check=0)
    m = re.search(r"\((go\d+\.\d+)[^)]*\): struct offsets from dwarf: (.*)", p.stderr)
    assert m, p.stderr
    dwarf = dict(kv.split("=") for kv in m.group(2).split())
    table = os.path.join(os.path.dirname(__file__), "..", "..", "src", "http", "offsets_table.h")
    with open(table) as f:
        row = [l for l in f if f'"{m.group(1)}"' in l]
    assert len(row) == 1, f"{m.group(1)} not in the table"
    tab = dict(re.findall(r"\.(\w+) = (\d+)", row[0]))
    assert tab == dwarf, (tab, dwarf)


def patched(src, dst, old, new):
    """A copy of src with the first `old` after .go.buildinfo's magic replaced."""
    with open(src, "rb") as f:
        data = bytearray(f.read())
    i = data.find(old, data.find(b"\xff Go buildinf:"))
    assert i >= 0
    data[i:i + len(old)] = new
    with open(dst, "wb") as f:
        f.write(data)
    os.chmod(dst, 0o755)
    return dst


def test_bad_input(go_bins, tmp_path, server):
    nohttp = build_go(str(tmp_path), 'package main\nimport "fmt"\nfunc main() { fmt.Println("hi") }\n',
                      "nohttp", variants=("stripped",))["stripped"]
    future = patched(go_bins["stripped"], str(tmp_path / "future"), b"go1.19", b"go1.99")
    old = patched(go_bins["stripped"], str(tmp_path / "old"), b"go1.19", b"go1.16")
    dead = subprocess.Popen(["true"])
    dead.wait()
    cases = [
        (["--exe", "/bin/true"], 2, "is not a Go program"),
        (["--exe", nohttp], 2, "does not link net/http"),
        (["--exe", future], 2, "not in ebee's table"),
        (["--exe", old], 2, "passes arguments on the stack"),
        (["--exe", "/nonexistent/srv"], 2, "not found"),
        (["-p", str(dead.pid)], 2, f"process {dead.pid} not found"),
        ([], 2, "give one of -p PID or --exe PATH"),
        (["--side", "clients", "--exe", go_bins["plain"]], 2, "did you mean"),
    ]
    for args, code, msg in cases:
        p = run(["http"] + args)
        assert p.returncode == code, (args, p.returncode, p.stderr)
        assert msg in p.stderr, (args, p.stderr)
        assert p.stderr.count("ebee:") == 1 and len(p.stderr.splitlines()) == 1, p.stderr
        assert p.stdout == "", p.stdout
    p = run(["-j", "http", "--exe", "/bin/true"])
    assert p.returncode == 2 and "not a Go program" in json_lines(p.stdout + p.stderr)[0]["error"]
    # a server not built with DWARF but with a known release is fine: the table
    srv = server("stripped")
    p = run(["-j", "http", "-p", str(srv.pid), "-d", "0.5"])
    assert p.returncode == 0, p.stderr
    assert_server_ok(srv)


def test_garbage_pointers(ebee_start, go_bins, server):
    """Garbage pointers, made on purpose with wrong offsets (EBEE_HTTP_OFFSETS, the tests' fault
    hook): *url.URL read from ContentLength's slot, so a POST's body length becomes a pointer
    to an address nothing maps. Those requests are dropped and counted as faults, never sent
    half-read; GETs (length 0: no URL, so no path) still come through; the server notices
    nothing."""
    import re
    p = run(["-v", "http", "--exe", go_bins["stripped"], "-d", "0.1"], check=0)
    cl = re.search(r"req_content_length=(\d+)", p.stderr)
    assert cl, p.stderr
    srv = server("stripped")
    env = dict(os.environ, EBEE_HTTP_OFFSETS=f"req_url={cl.group(1)}")
    e = ebee_start(["-j", "http", "-p", str(srv.pid)], env=env)
    wait_attached(e)
    for i in range(3):
        st, body, _, _ = srv.request("POST", f"/post/g{i}", b"p" * (5000 + 1000 * i))
        assert st == 200 and int(body) == 5000 + 1000 * i
    for i in range(2):
        assert srv.request("GET", f"/ok/g{i}")[0] == 200
    time.sleep(0.3)
    e.stop()
    assert e.proc.returncode == 0, e.stderr
    ev = e.json()
    reqs = requests_of(ev)
    assert [(r["method"], r["path"], r["status"]) for r in reqs] == [("GET", "", 200)] * 2, reqs
    s = [x for x in ev if x.get("type") == "summary"][0]
    assert (s["faults"], s["events"], s["entries"]) == (3, 2, 5), s
    assert "3 requests dropped" in e.stderr
    assert_server_ok(srv)
    p = run(["http", "--exe", go_bins["stripped"]], env=dict(os.environ, EBEE_HTTP_OFFSETS="url_pth=1"))
    assert p.returncode == 2 and "bad item 'url_pth=1' in EBEE_HTTP_OFFSETS" in p.stderr, p.stderr
