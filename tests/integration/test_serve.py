"""ebee serve as a node daemon: the YAML config (every collector, combinations, bad files with
FILE:LINE, a collector that fails while the others run, SIGHUP reload keeping counters), the
bearer token, the SSE event stream (order, Last-Event-ID reconnection, bounds), and two daemons
in their own network namespaces scraped by a real Prometheus whose HTTP API must show each one's
count of a known workload."""
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import EBEE, NO_MODULES, RAW_SYS_EXIT, Ebee, prog_names

TOKEN = "t0ken-for-the-serve-test-0123456789"


def wait_until(pred, timeout=10.0, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def get(url, token=None, headers=None, timeout=5):
    req = urllib.request.Request(url, headers=dict(headers or {}))
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def serve(tmp_path, config, *extra, prefix=None, min_progs=1):
    cfg = tmp_path / "ebee.yaml"
    cfg.write_text(config)
    e = Ebee(["serve", "--json", "-c", str(cfg)] + list(extra), prefix=prefix)
    e.start(min_progs=min_progs)
    first = json.loads(e.readline())
    return e, first["url"], first


def metrics(url, token=None):
    status, text = get(url + "metrics", token)
    assert status == 200
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out, text


def named_copy(tmp_path, src, name):
    """A copy of a program under a name of the test's own: the comm filters select it."""
    p = tmp_path / name
    shutil.copy(src, p)
    return str(p)


def forker(tmp_path, name):
    return named_copy(tmp_path, os.path.realpath("/usr/bin/python3"), name)


FORK = "import os\nfor _ in range({n}):\n    p = os.fork()\n    os._exit(0) if p == 0 else os.waitpid(p, 0)\n"


# --- config ---------------------------------------------------------------------------------

COMBOS = [
    ("netwatch", "netwatch: {interface: [lo]}"),
    ("tcp", "tcp: {lport: [9]}"),
    ("count", "count: {comm: [nosuchcomm]}"),
    ("prog", "prog:"),
    ("events", "events: {type: [exec], comm: [nosuchcomm]}"),
    ("guard", "guard:"),
    ("graph", "graph: {comm: [nosuchcomm]}"),
]


def strict_json(text):
    """json.loads that refuses a key twice in one object (a member the daemon and a collector
    both wrote)."""
    def pairs(kv):
        keys = [k for k, _ in kv]
        assert len(keys) == len(set(keys)), f"duplicate keys in {keys}"
        return dict(kv)
    return json.loads(text, object_pairs_hook=pairs)


@pytest.mark.parametrize("combo", [[0], [1], [2], [3], [4], [0, 1, 3], [1, 2, 4], [0, 1, 2, 3, 4], [5, 6]],
                         ids=lambda c: "+".join(COMBOS[i][0] for i in c))
def test_collector_combinations(tmp_path, combo):
    body = "".join(f"  {COMBOS[i][1]}\n" for i in combo)
    e, url, first = serve(tmp_path, "listen: 127.0.0.1:0\ninterval: 200ms\ncollectors:\n" + body)
    try:
        names = [COMBOS[i][0] for i in combo]
        assert first["collectors"].split(",") == names and "failed" not in first
        status, body = get(url + "api/collectors")
        doc = json.loads(body)
        assert [c["name"] for c in doc["collectors"]] == names
        assert all(c["running"] and c["health"] == "ok" for c in doc["collectors"]), doc
        assert get(url + "readyz")[0] == 200
        for n in names:
            if n == "events":     # /api/events is the event stream (the collector feeds it)
                continue
            status, body = get(url + "api/" + n)
            assert status == 200 and strict_json(body)["collector"] == n
        m, text = metrics(url)
        for n in names:
            assert m[f'ebee_collector_up{{collector="{n}"}}'] == 1
        if shutil.which("promtool"):
            p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
            assert p.returncode == 0, p.stdout + p.stderr
    finally:
        assert e.stop() == 0, e.stderr


def test_module_attempts_opt_in(tmp_path):
    """The daemon with every event collector at its defaults (events: every type) loads no
    program on the raw sys_exit on a kernel without module support (three of them would run on
    every syscall); `module_attempts: true` in a collector's options is its opt-in."""
    for opts, want in (("", set()), ("{module_attempts: true}", {"ev_sys_exit"} if NO_MODULES else set())):
        e, url, first = serve(tmp_path, "listen: 127.0.0.1:0\ncollectors:\n  events:\n"
                              f"  guard: {opts}\n  graph:\n", min_progs=9)
        try:
            assert first["collectors"] == "events,guard,graph" and "failed" not in first
            names = prog_names(e.proc.pid)
            assert names & RAW_SYS_EXIT == want, names
            assert "ev_exec_btf" in names or "ev_exec_tp" in names, names
        finally:
            assert e.stop() == 0, e.stderr


def test_default_collectors(tmp_path):
    e = Ebee(["serve", "--json", "--listen", "127.0.0.1:0", "-i", "lo"]).start()
    try:
        first = json.loads(e.readline())
        assert first["collectors"] == "netwatch,tcp,prog"
        status, body = get(first["url"] + "api/tcp")
        assert status == 200 and json.loads(body)["mode"] == "count"
        assert len(json.loads(get(first["url"] + "api/tcp?top=5")[1])["recent"]) <= 5
        # The last closed connections, newest first, with lifetimes: the requests above. The
        # list is the whole machine's (100 by default), so search all of it: other TCP work
        # on the machine pushes ours out of the newest few within a second.
        def mine():
            recent = json.loads(get(first["url"] + "api/tcp?top=0")[1])["recent"]
            return [c for c in recent if c.get("comm") == "ebee" and c["raddr"] == "127.0.0.1"]
        got = wait_until(mine, timeout=5)
        assert got and got[0]["tx_bytes"] > 0 and got[0]["ms"] >= 0, got
    finally:
        assert e.stop() == 0


BAD = [
    ("collectors: [\n", "ebee.yaml:2: invalid YAML"),
    ("collectors:\n  tpc:\n", "ebee.yaml:2: unknown collector 'tpc' (did you mean 'tcp'?)"),
    ("collectors:\n  tcp: {lportt: 80}\n", "ebee.yaml:2: unknown option 'lportt' of collector 'tcp' (did you mean 'lport'?)"),
    ("collectors:\n  tcp:\n    lport: [eighty]\n", "ebee.yaml:3: bad value 'eighty' for '--lport'"),
    ("collectors:\n  tcp:\n  tcp:\n", "collector 'tcp' named twice"),
    ("lisen: 127.0.0.1:1\n", "ebee.yaml:1: unknown key 'lisen' (did you mean 'listen'?)"),
    ("interval: forever\n", "ebee.yaml:1: 'interval' must be a duration"),
    ("collectors:\n  prog: {interval: [1, {a: b}]}\n", "ebee.yaml:2: option 'interval' of 'prog' takes a value"),
    ("- a\n- b\n", "ebee.yaml:1: the config must be a map"),
    ("listen: 0.0.0.0:8799\n", "listening on '0.0.0.0:8799' needs --token-file or --insecure-no-auth"),
    # the collectors built on events, policy and http take their commands' options too
    ("collectors:\n  graph: {windw: 30}\n", "ebee.yaml:2: unknown option 'windw' of collector 'graph' (did you mean 'window'?)"),
    ("collectors:\n  guard: {drop_threshold: lots}\n", "ebee.yaml:2:"),
    ("collectors:\n  http: {pid: 0}\n", "ebee.yaml:2:"),
]


@pytest.mark.parametrize("text,msg", BAD, ids=range(len(BAD)))
def test_bad_configs(tmp_path, text, msg):
    cfg = tmp_path / "ebee.yaml"
    cfg.write_text(text)
    os.chdir(tmp_path)
    for args in (["--check-config"], ["--duration", "1"]):
        p = subprocess.run([EBEE, "serve", "-c", "ebee.yaml"] + args, capture_output=True, text=True, timeout=30)
        assert p.returncode == 2, p.stderr
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1 and msg in lines[0], p.stderr


def test_check_config_ok(tmp_path):
    cfg = tmp_path / "ebee.yaml"
    cfg.write_text("listen: 127.0.0.1:8700\ncollectors:\n  tcp: {lport: [80, 443]}\n  count:\n    all: true\n    by: [syscall]\n")
    p = subprocess.run([EBEE, "serve", "-c", str(cfg), "--check-config"], capture_output=True, text=True)
    assert p.returncode == 0 and "is valid" in p.stdout and "collectors tcp,count" in p.stdout
    cfg.write_text("collectors:\n  guard: {drop_threshold: 20, ring_size: 8M}\n  graph: {window: 30, scan_min: 50}\n"
                   "  policy: {audit: true, idle_timeout: 30s}\n  http: {exe: /usr/bin/true, side: server}\n")
    p = subprocess.run([EBEE, "serve", "-c", str(cfg), "--check-config"], capture_output=True, text=True)
    assert p.returncode == 0 and "collectors guard,graph,policy,http" in p.stdout, p.stderr
    p = subprocess.run([EBEE, "serve", "--check-config"], capture_output=True, text=True)
    assert p.returncode == 2 and "--check-config needs --config FILE" in p.stderr


def test_failing_collector_keeps_others(tmp_path):
    e, url, first = serve(tmp_path, "listen: 127.0.0.1:0\ncollectors:\n"
                          "  netwatch: {interface: [ebeenosuch0]}\n  tcp:\n  prog:\n")
    try:
        assert first["failed"] == "netwatch" and first["collectors"] == "tcp,prog"
        status, body = get(url + "readyz")
        assert status == 503 and body.startswith("not ready\n")
        assert "netwatch: failed: " in body and "ebeenosuch0" in body
        assert get(url + "healthz") == (200, "ok\n")
        doc = json.loads(get(url + "api/collectors")[1])
        by = {c["name"]: c for c in doc["collectors"]}
        assert not by["netwatch"]["running"] and "ebeenosuch0" in by["netwatch"]["detail"]
        assert by["tcp"]["running"] and by["prog"]["running"]
        m, _ = metrics(url)
        assert m['ebee_collector_up{collector="netwatch"}'] == 0
        assert m['ebee_collector_up{collector="tcp"}'] == 1
    finally:
        assert e.stop() == 0


def test_sighup_reload(tmp_path):
    wl = forker(tmp_path, "ebeehup")
    cfg1 = ("listen: 127.0.0.1:0\ninterval: 100ms\ncollectors:\n"
            "  count: {comm: [ebeehup]}\n  tcp: {lport: [9]}\n")
    e, url, _ = serve(tmp_path, cfg1)
    try:
        subprocess.run([wl, "-c", FORK.format(n=5)], check=True)
        key = 'ebee_collector_events_total{collector="count"}'
        assert wait_until(lambda: metrics(url)[0].get(key) == 5), metrics(url)[0].get(key)
        # count unchanged, tcp changed, prog added: count keeps its 5.
        (tmp_path / "ebee.yaml").write_text(cfg1.replace("lport: [9]", "lport: [10]") + "  prog:\n")
        e.proc.send_signal(signal.SIGHUP)
        assert wait_until(lambda: metrics(url)[0].get('ebee_serve_config_reloads_total{result="ok"}') == 1)
        m, _ = metrics(url)
        assert m[key] == 5 and m['ebee_collector_up{collector="prog"}'] == 1
        subprocess.run([wl, "-c", FORK.format(n=3)], check=True)
        assert wait_until(lambda: metrics(url)[0].get(key) == 8)
        # A bad file changes nothing.
        (tmp_path / "ebee.yaml").write_text("collectors:\n  tpc:\n")
        e.proc.send_signal(signal.SIGHUP)
        assert wait_until(lambda: metrics(url)[0].get('ebee_serve_config_reloads_total{result="failed"}') == 1)
        doc = json.loads(get(url + "api/collectors")[1])
        assert [c["name"] for c in doc["collectors"]] == ["count", "tcp", "prog"]
        assert e.proc.poll() is None
        # Server settings are not applied by a reload: said in one line, the old socket serves.
        (tmp_path / "ebee.yaml").write_text(cfg1.replace("127.0.0.1:0", "127.0.0.1:1")
                                            .replace("interval: 100ms", "interval: 100ms\nmax_streams: 3"))
        e.proc.send_signal(signal.SIGHUP)
        assert wait_until(lambda: metrics(url)[0].get('ebee_serve_config_reloads_total{result="ok"}') == 2)
        e.progs = set()     # reloads replaced programs; the end state is checked below
    finally:
        pid = e.proc.pid
        assert e.stop(check_clean=False) == 0, e.stderr
    assert "ebee.yaml:2: unknown collector 'tpc'" in e.stderr
    assert "config: listen, max_streams changed: server settings need a restart" in e.stderr, e.stderr
    assert not os.path.exists(f"/proc/{pid}")


# --- auth -----------------------------------------------------------------------------------

def test_auth(tmp_path):
    tok = tmp_path / "token"
    tok.write_text(TOKEN + "\n")
    e, url, _ = serve(tmp_path, f"listen: 127.0.0.1:0\ntoken_file: {tok}\ncollectors:\n  tcp:\n")
    try:
        for path in ("metrics", "api/tcp", "api/collectors", "api/events"):
            assert get(url + path)[0] == 401
            assert get(url + path, token="wrong-token-of-the-same-len-000000000")[0] == 401
            assert get(url + path, headers={"Authorization": "Basic " + TOKEN})[0] == 401
        for path in ("metrics", "api/tcp", "api/collectors"):
            assert get(url + path, token=TOKEN)[0] == 200
        assert get(url + "healthz") == (200, "ok\n")
        assert get(url + "readyz") == (200, "ready\n")       # no details without the token
        assert get(url + "readyz", token=TOKEN)[1].startswith("ready\ntcp: ok")
        # The page is served without the token (a browser's navigation cannot carry it; the
        # page takes it from #token= and sends it on every API call): it must be the same
        # compiled-in bytes whoever asks, with nothing of this daemon's state in them.
        status, page = get(url)
        assert status == 200 and (status, page) == get(url, token=TOKEN)
        assert TOKEN not in page and "tcp: ok" not in page and url not in page
        assert "Authorization" in page and "Bearer" in page  # its API calls carry the token
        m, _ = metrics(url, TOKEN)
        assert m["ebee_serve_unauthorized_total"] == 12
    finally:
        assert e.stop() == 0


def test_non_loopback_needs_token(tmp_path):
    ns = f"ebee-sa{os.getpid() % 10000}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        base = ["ip", "netns", "exec", ns, EBEE, "serve", "--collectors", "tcp", "--listen", "0.0.0.0:0"]
        p = subprocess.run(base + ["--duration", "1"], capture_output=True, text=True, timeout=30)
        assert p.returncode == 2
        assert "listening on '0.0.0.0:0' needs --token-file or --insecure-no-auth" in p.stderr
        p = subprocess.run(base + ["--duration", "1", "--insecure-no-auth"], capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr
        short = tmp_path / "short"
        short.write_text("abc\n")
        p = subprocess.run(base + ["--token-file", str(short)], capture_output=True, text=True, timeout=30)
        assert p.returncode == 2 and "must hold one token of at least 16 characters" in p.stderr
    finally:
        subprocess.run(["ip", "netns", "del", ns])


# --- the event stream ----------------------------------------------------------------------

class Sse:
    """A raw SSE client: events as (id, type, data) in arrival order."""

    def __init__(self, url, last_id=None, query=""):
        host, port = url.split("//")[1].rstrip("/").rsplit(":", 1)
        self.s = socket.create_connection((host, int(port)), timeout=10)
        hdr = f"GET /api/events{query} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
        if last_id is not None:
            hdr += f"Last-Event-ID: {last_id}\r\n"
        self.s.sendall((hdr + "\r\n").encode())
        self.buf = b""
        self.status = None

    def _fill(self):
        chunk = self.s.recv(65536)
        if not chunk:
            raise EOFError
        self.buf += chunk

    def events(self, n, timeout=10):
        out = []
        deadline = time.time() + timeout
        self.s.settimeout(1)
        while len(out) < n and time.time() < deadline:
            if self.status is None:
                while b"\r\n\r\n" not in self.buf:
                    self._fill()
                head, self.buf = self.buf.split(b"\r\n\r\n", 1)
                self.status = int(head.split()[1])
                if self.status != 200:
                    return out
            # chunked transfer: strip the chunk framing lazily by scanning for SSE blocks
            text = self.buf.decode(errors="replace")
            while "\n\n" in text and len(out) < n:
                block, text = text.split("\n\n", 1)
                ev = {}
                for line in block.splitlines():
                    if ":" in line and not line.startswith(":"):
                        k, v = line.split(":", 1)
                        ev[k.strip()] = v.strip()
                if "data" in ev:
                    out.append(ev)
            self.buf = text.encode()
            if len(out) < n:
                try:
                    self._fill()
                except socket.timeout:
                    pass
        return out

    def close(self):
        self.s.close()


def exec_events(evs, comm):
    return [e for e in evs if e.get("event") == "exec" and json.loads(e["data"]).get("proc.comm") == comm]


def test_sse_order_and_reconnect(tmp_path):
    wl = named_copy(tmp_path, "/bin/sh", "ebeesse")
    e, url, _ = serve(tmp_path, "listen: 127.0.0.1:0\ncollectors:\n  events: {type: [exec], comm: [ebeesse]}\n")
    try:
        c1 = Sse(url, query="?type=exec")
        assert c1.events(0) == [] or True
        time.sleep(0.3)
        # 10 execs, one after the other: the stream must give them in this order.
        # (each exec is of the named copy, so that its comm passes the kernel's filter)
        script = f"for i in 0 1 2 3 4 5 6 7 8 9; do {wl} -c :; done"
        subprocess.run([wl, "-c", script], check=True)
        got = c1.events(4)
        assert len(got) == 4 and all(g["event"] == "exec" for g in got)
        ids = [int(g["id"]) for g in got]
        assert ids == sorted(ids) and len(set(ids)) == 4
        c1.close()
        # Reconnect from the last id seen: the other 6, in order, none twice.
        c2 = Sse(url, last_id=ids[-1], query="?type=exec")
        rest = c2.events(7)
        c2.close()
        assert len(rest) == 7, rest
        ids2 = [int(g["id"]) for g in rest]
        assert ids2 == sorted(ids2) and ids2[0] > ids[-1]
        times = [json.loads(g["data"])["evt.time"] for g in got + rest]
        assert times == sorted(times)
        pids = [json.loads(g["data"])["proc.pid"] for g in got + rest]
        assert len(set(pids)) == 11
        # A filter that matches nothing gets nothing; a bad one is a 400.
        assert get(url + "api/events?type=nosuch")[0] == 400
        assert get(url + "api/events?priority=loud")[0] == 400
    finally:
        assert e.stop() == 0


def test_sse_bounds_and_gap(tmp_path):
    wl = named_copy(tmp_path, "/bin/sh", "ebeegap")
    e, url, _ = serve(tmp_path, "listen: 127.0.0.1:0\nmax_streams: 2\nevent_buffer: 16\n"
                      "collectors:\n  events: {type: [exec], comm: [ebeegap]}\n")
    try:
        a, b = Sse(url), Sse(url)
        a.events(0), b.events(0)
        time.sleep(0.2)
        assert get(url + "api/events")[0] == 503
        m, _ = metrics(url)
        assert m["ebee_serve_event_streams"] == 2 and m["ebee_serve_event_streams_refused_total"] == 1
        a.close()
        b.close()
        subprocess.run([wl, "-c", f"for i in $(seq 40); do {wl} -c :; done"], check=True)
        assert wait_until(lambda: metrics(url)[0]["ebee_serve_events_total"] >= 40)
        # From the start: 16 kept, the rest reported as a gap first.
        c = Sse(url, last_id=0)
        evs = c.events(17)
        c.close()
        assert evs[0]["event"] == "gap"
        gap = json.loads(evs[0]["data"])
        total = int(metrics(url)[0]["ebee_serve_events_total"])
        assert gap["first_id"] == 1 and gap["next_id"] == total - 15 and gap["missed"] == total - 16
        assert [int(x["id"]) for x in evs[1:]] == list(range(total - 15, total + 1))
        # A client that never reads does not stop the daemon from serving others.
        stuck = Sse(url, last_id=0)
        subprocess.run([wl, "-c", f"for i in $(seq 20); do {wl} -c :; done"], check=True)
        assert get(url + "healthz")[0] == 200
        stuck.close()
    finally:
        assert e.stop() == 0


def test_sse_byte_bound(tmp_path):
    """The ring is bounded in bytes as well as in events (event_buffer KiB, at least room for
    four of the longest): execs with 900 bytes of arguments are fewer kept than event_buffer,
    the oldest dropped first, the rest whole and in order after the gap."""
    wl = named_copy(tmp_path, "/bin/sh", "ebeebig")
    e, url, _ = serve(tmp_path, "listen: 127.0.0.1:0\nevent_buffer: 16\n"
                      "collectors:\n  events: {type: [exec], comm: [ebeebig]}\n")
    try:
        arg = "x" * 900
        subprocess.run([wl, "-c", f"for i in $(seq 40); do {wl} -c : {arg}; done"], check=True)
        assert wait_until(lambda: metrics(url)[0]["ebee_serve_events_total"] >= 40)
        total = int(metrics(url)[0]["ebee_serve_events_total"])
        c = Sse(url, last_id=0)
        evs = c.events(17, timeout=3)
        c.close()
        assert evs and evs[0]["event"] == "gap", evs[:1]
        gap, kept = json.loads(evs[0]["data"]), evs[1:]
        size = sum(len(x["data"]) for x in kept)
        # 16 x 1 KiB = 16 KiB, raised to 4 x (4 KiB + headers): 16 960 bytes of records
        assert 4 <= len(kept) < 16 and size <= 16960, (len(kept), size)
        assert gap["first_id"] == 1 and gap["next_id"] == total - len(kept) + 1
        assert [int(x["id"]) for x in kept] == list(range(total - len(kept) + 1, total + 1))
        # each one whole: valid JSON, its arguments there (the JSON shortens long strings)
        assert all(json.loads(x["data"])["proc.args"][-1].startswith("x" * 64) for x in kept)
    finally:
        assert e.stop() == 0


# --- two daemons, one Prometheus ----------------------------------------------------------

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


@pytest.mark.skipif(not shutil.which("prometheus"), reason="prometheus is not installed")
def test_prometheus_scrapes_two_netns(tmp_path):
    tag = os.getpid() % 10000
    hosts = []
    tok = tmp_path / "token"
    tok.write_text(TOKEN)
    daemons = []
    prom = None
    try:
        for i, (n, comm) in enumerate(((7, "ebeepa"), (11, "ebeepb"))):
            ns, veth = f"ebee-sp{tag}{i}", f"ebsp{tag}{i}"
            subprocess.run(["ip", "netns", "add", ns], check=True)
            hosts.append((ns, veth))
            subprocess.run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns], check=True)
            subprocess.run(["ip", "addr", "add", f"10.254.{tag % 200}.{4 * i + 1}/30", "dev", veth], check=True)
            subprocess.run(["ip", "link", "set", veth, "up"], check=True)
            for cmd in (["addr", "add", f"10.254.{tag % 200}.{4 * i + 2}/30", "dev", "eth0"],
                        ["link", "set", "eth0", "up"], ["link", "set", "lo", "up"]):
                subprocess.run(["ip", "-n", ns] + cmd, check=True)
            addr = f"10.254.{tag % 200}.{4 * i + 2}:8700"
            (tmp_path / f"{ns}.yaml").write_text(
                f"listen: {addr}\ntoken_file: {tok}\ninterval: 200ms\n"
                f"collectors:\n  count: {{comm: [{comm}]}}\n  tcp:\n")
            d = Ebee(["serve", "--json", "-c", str(tmp_path / f"{ns}.yaml")], prefix=["ip", "netns", "exec", ns])
            d.start()
            daemons.append(d)
            hosts[-1] = (ns, veth, addr, n, comm)
        pport = free_port()
        (tmp_path / "prom.yml").write_text(
            "global: {scrape_interval: 1s, scrape_timeout: 900ms}\n"
            "scrape_configs:\n"
            "  - job_name: ebee\n"
            f"    authorization: {{credentials_file: {tok}}}\n"
            "    static_configs:\n"
            f"      - targets: [{hosts[0][2]}, {hosts[1][2]}]\n")
        prom = subprocess.Popen(["prometheus", f"--config.file={tmp_path / 'prom.yml'}",
                                 f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                                 f"--web.listen-address=127.0.0.1:{pport}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _, _, _, n, comm in hosts:
            subprocess.run([forker(tmp_path, comm), "-c", FORK.format(n=n)], check=True)
        api = f"http://127.0.0.1:{pport}/api/v1/query?query="

        def values():
            try:
                st, body = get(api + urllib.request.quote('ebee_collector_events_total{collector="count"}'))
            except OSError:
                return None
            if st != 200:
                return None
            res = json.loads(body)["data"]["result"]
            return {r["metric"]["instance"]: float(r["value"][1]) for r in res}
        want = {hosts[0][2]: 7.0, hosts[1][2]: 11.0}
        assert wait_until(lambda: values() == want, timeout=40, step=0.5), values()
        st, body = get(api + "up")
        ups = {r["metric"]["instance"]: r["value"][1] for r in json.loads(body)["data"]["result"]}
        assert ups == {hosts[0][2]: "1", hosts[1][2]: "1"}
        st, body = get(api + urllib.request.quote('ebee_collector_up{collector="tcp"}'))
        assert len(json.loads(body)["data"]["result"]) == 2
    finally:
        if prom:
            prom.terminate()
            prom.wait(timeout=20)
        for d in daemons:
            assert d.stop() == 0, d.stderr
        for h in hosts:
            subprocess.run(["ip", "netns", "del", h[0]])
            subprocess.run(["ip", "link", "del", h[1]], stderr=subprocess.DEVNULL)


# --- the page -------------------------------------------------------------------------------

WEB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "test_netwatch_web")


def test_page_panels_in_chromium(tmp_path):
    """The page shows a panel per running collector (tcp, prog, the live list), none for one
    that is not configured (netwatch) and a failed badge for one that failed; the event list
    fills with the test's execs; the token travels from #token= to every API request."""
    if not os.access("/usr/bin/chromium", os.X_OK) or not shutil.which("node"):
        pytest.skip("needs /usr/bin/chromium and node")
    p = subprocess.run([os.path.join(WEB, "install.sh")], capture_output=True, text=True, timeout=300)
    if p.returncode:
        pytest.skip(f"cannot install playwright-core from npm: {p.stderr.strip()[-300:]}")
    from conftest import ROOT
    tok = tmp_path / "token"
    tok.write_text(TOKEN)
    wl = named_copy(tmp_path, "/bin/sh", "ebeepage")
    # policy: one cgroup workload of the test's own, a policy that selects it (audit mode)
    cg = f"/sys/fs/cgroup/unified/ebeepage{os.getpid()}"
    os.makedirs(cg, exist_ok=True)
    (tmp_path / "wl.yaml").write_text(f"namespaces:\n  - {{name: prod}}\nworkloads:\n  - name: pagew\n"
                                      f"    namespace: prod\n    labels: {{app: pagew}}\n    cgroup: {cg}\n"
                                      "    addresses: [127.0.77.2]\n")
    (tmp_path / "pol.yaml").write_text("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                                       "metadata: {name: pagew-in, namespace: prod}\nspec:\n"
                                       "  podSelector: {matchLabels: {app: pagew}}\n  ingress:\n"
                                       "    - ports: [{port: 80}]\n")
    # tcp counts the daemon's own port only: other work on the machine must not crowd the
    # browser's connections out of the panel's table
    port = free_port()
    e, url, _ = serve(tmp_path, f"listen: 127.0.0.1:{port}\ntoken_file: {tok}\ninterval: 300ms\ncollectors:\n"
                      f"  tcp: {{lport: [{port}]}}\n"
                      "  prog:\n  events: {type: [exec], comm: [ebeepage]}\n  count: {comm: [x], by: [bogus]}\n"
                      "  guard:\n  graph:\n"
                      f"  policy: {{file: {tmp_path}/pol.yaml, workloads: {tmp_path}/wl.yaml, audit: true}}\n")
    try:
        shot = os.path.join(ROOT, "tests", "artifacts", "serve-page.png")
        os.makedirs(os.path.dirname(shot), exist_ok=True)
        browser = subprocess.Popen(["node", os.path.join(WEB, "serve_page.js"), url + "#token=" + TOKEN, shot, "5", "4"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=WEB)
        time.sleep(4)    # the page is up and following the stream
        for _ in range(5):
            subprocess.run([wl, "-c", ":"], check=True)
            time.sleep(0.3)
        out, err = browser.communicate(timeout=60)
        assert browser.returncode == 0, err
        r = json.loads(out)
        assert r["errors"] == [], r["errors"]
        assert all(u.startswith(url) for u in r["requests"]), r["requests"]
        panels = {p["collector"]: p for p in r["panels"]}
        # every running collector with a panel shows it, with its data (guard has none of its
        # own: its alerts are the live list's)
        assert set(panels) == {"tcp", "prog", "events", "graph", "policy"}, panels.keys()
        assert not any(p["hidden"] for p in panels.values())
        assert all(p["ready"] for c, p in panels.items() if c != "events"), panels
        assert "nodes" in panels["graph"]["text"] and "edges" in panels["graph"]["text"], panels["graph"]["text"]
        assert "audit mode" in panels["policy"]["text"] and "prod/pagew-in" in panels["policy"]["text"], \
            panels["policy"]["text"]
        assert dict(r["health"]) == {"tcp": "ok", "prog": "ok", "events": "ok", "count": "failed",
                                     "guard": "ok", "graph": "ok", "policy": "ok"}
        assert "failed: count" in r["status"]
        assert "ESTABLISHED" in r["tcp"]         # the browser's own connections
        assert any(row[1].startswith("ebee (") and row[2].startswith("127.0.0.1:") for row in r["conns"]), r["conns"]
        assert any(row[1] for row in r["prog"])             # program names
        assert sum(1 for row in r["events"] if row[2] == "exec" and "ebeepage" in row[3]) >= 5
        assert os.path.getsize(shot) > 10000
        m, _ = metrics(url, TOKEN)
        assert m["ebee_serve_unauthorized_total"] == 0       # the page always sent the token
    finally:
        assert e.stop() == 0, e.stderr
        os.rmdir(cg)


# --- TLS and bounds -------------------------------------------------------------------------

def test_tls(tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("needs openssl")
    import ssl
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", tmp_path / "k.pem",
                    "-out", tmp_path / "c.pem", "-days", "1", "-subj", "/CN=localhost"],
                   check=True, capture_output=True)
    e, url, _ = serve(tmp_path, f"listen: 127.0.0.1:0\ntls_cert: {tmp_path / 'c.pem'}\n"
                      f"tls_key: {tmp_path / 'k.pem'}\ncollectors:\n  tcp:\n")
    try:
        assert url.startswith("https://")
        ctx = ssl.create_default_context(cafile=str(tmp_path / "c.pem"))
        ctx.check_hostname = False
        with urllib.request.urlopen(url + "metrics", context=ctx, timeout=5) as r:
            assert r.status == 200 and b"ebee_tcp_state_entered_total" in r.read()
        # Plain HTTP to the TLS port gets no answer.
        with pytest.raises(Exception):
            get(url.replace("https", "http") + "healthz", timeout=3)
    finally:
        assert e.stop() == 0
    p = subprocess.run([EBEE, "serve", "--collectors", "tcp", "--tls-cert", str(tmp_path / "c.pem")],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "TLS needs both a certificate and a key" in p.stderr
    p = subprocess.run([EBEE, "serve", "--collectors", "tcp", "--listen", "127.0.0.1:0", "--duration", "1",
                        "--tls-cert", str(tmp_path / "k.pem"), "--tls-key", str(tmp_path / "c.pem")],
                       capture_output=True, text=True)
    assert p.returncode != 0 and "cannot start the HTTP server" in p.stderr


def test_ten_thousand_streams_and_oversized_requests(tmp_path):
    """10 000 clients ask for the event stream at once: max_streams get it, the others 503 or
    a refused connection (max_connections), and the daemon serves on and frees them all."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < 11000:
        pytest.skip("needs 11000 file descriptors")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 11000), hard))
    e, url, _ = serve(tmp_path, "listen: 127.0.0.1:0\nmax_streams: 50\nmax_connections: 300\n"
                      "collectors:\n  tcp:\n")
    host, port = url.split("//")[1].rstrip("/").rsplit(":", 1)
    import select
    socks, sent, codes = [], set(), {}
    req = b"GET /api/events HTTP/1.1\r\nHost: x\r\n\r\n"
    try:
        for _ in range(10000):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex((host, int(port)))
            socks.append(s)
        # Each client sends its request once its connection is up (beyond the listen backlog
        # the kernel answers SYNs later), then reads the status line.
        ep = select.epoll()
        for i, s in enumerate(socks):
            ep.register(s.fileno(), select.EPOLLOUT | select.EPOLLIN)
        by_fd = {s.fileno(): s for s in socks}
        # How soon the answers come is the machine's load: wait until what is checked below
        # has come (boundedly), rather than counting what came in a fixed 6 s.
        deadline = time.time() + 60
        while time.time() < deadline and not (codes.get("200", 0) >= 50 and
                                              codes.get("503", 0) >= 1000):
            for fd, ev in ep.poll(0.2):
                s = by_fd[fd]
                if fd not in sent and ev & select.EPOLLOUT:
                    try:
                        s.send(req)
                        sent.add(fd)
                    except OSError:
                        pass
                    ep.modify(fd, select.EPOLLIN)
                elif ev & (select.EPOLLIN | select.EPOLLHUP | select.EPOLLERR):
                    try:
                        head = s.recv(64)
                    except OSError:
                        head = b""
                    code = head.split(b" ")[1].decode() if head.startswith(b"HTTP/1.1 ") else "closed"
                    codes[code] = codes.get(code, 0) + 1
                    ep.unregister(fd)
        # the rest, briefly: a 51st stream would show now
        for fd, ev in ep.poll(0.5):
            if ev & select.EPOLLIN:
                head = by_fd[fd].recv(64)
                if head.startswith(b"HTTP/1.1 200"):
                    codes["200"] += 1
        ep.close()
        assert codes.get("200", 0) == 50, codes
        assert codes.get("503", 0) >= 1000, codes
        assert set(codes) <= {"200", "503", "closed"}, codes
    finally:
        for s in socks:
            s.close()
    def streams_gone():
        # thousands of the closed clients may still wait in the listen queue (the loop above
        # stops once it has what it checks): until the daemon has worked through them, a new
        # connection can time out in the full backlog
        try:
            return metrics(url)[0]["ebee_serve_event_streams"] == 0
        except OSError:
            return False
    assert wait_until(streams_gone, timeout=60)
    assert metrics(url)[0]["ebee_serve_event_streams_refused_total"] >= codes["503"]
    assert get(url + "healthz") == (200, "ok\n")
    # Oversized: a URL or headers past the request bound, a body on a GET.
    for raw in (b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 100000 + b"\r\n\r\n"):
        s = socket.create_connection((host, int(port)), timeout=5)
        try:
            s.sendall(raw)
            line = s.recv(64).split(b"\r\n")[0]
        except OSError:
            line = b""
        s.close()
        assert line in (b"", b"HTTP/1.1 414 URI Too Long", b"HTTP/1.1 431 Request Header Fields Too Large"), line
    s = socket.create_connection((host, int(port)), timeout=5)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
    assert s.recv(64).startswith(b"HTTP/1.1 413"), "a body on a GET is refused"
    s.close()
    assert get(url + "healthz") == (200, "ok\n")
    assert e.stop() == 0
    fds = len(os.listdir("/proc/self/fd"))
    assert fds < 1000
