"""ebee graph: a Mirai-like infection replayed with harmless stand-ins, everything local.

Two network namespaces the test creates (names ebgr-*) joined by a veth pair: B serves the
"bot" over HTTP, receives the flood and holds the 300 addresses the bot scans (closed ports:
resets); A holds the loader and the bot. Nothing is routed out of either. The
loader downloads the bot into a temporary directory, chmods and runs it; the bot deletes its
own file, kills two decoys with "competitor" names, scans ports 23 and 2323 on 300 addresses
and sends a bounded number of UDP packets to one host. Beside it a compiler, a curl download
from a local server and a web server with many clients run in the same cgroup: they must
raise nothing. ebee graph traces only that cgroup (--cgroup), so other work on the machine
does not enter the graph."""
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import EBEE, NO_MODULES, RAW_SYS_EXIT, bpf_ids, cgroup_dirs, prog_names, run

PY = "/usr/bin/python3"
SCAN_ADDRS = 300
FLOOD_PACKETS = 1500

BOT = textwrap.dedent("""\
    #!/usr/bin/python3
    # the stand-in bot: every stage harmless and bounded
    import json, os, signal, socket, sys
    me = os.path.abspath(sys.argv[0])
    os.unlink(me)                                   # self-deleting executable
    names = sys.argv[1].split(",")                  # competitors, found by name like Mirai's killer
    killed = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            comm = open("/proc/%s/comm" % d).read().strip()
        except OSError:
            continue
        if comm in names:
            os.kill(int(d), signal.SIGKILL)
            killed.append(int(d))
    n = 0
    for i in range(SCAN_N):                       # scan 23 and 2323 on the test network
        addr = "10.202.%d.%d" % (i // 250, i % 250 + 2)
        for port in (23, 2323):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect((addr, port))
            except OSError:
                pass
            s.close()
            n += 1
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent = 0
    for i in range(FLOOD_N):                      # bounded UDP flood of one host
        try:
            u.sendto(b"x" * 64, ("10.201.0.2", 9999))   # unconnected: the address each time
            sent += 1
        except OSError:
            pass
    print(json.dumps({"pid": os.getpid(), "killed": killed, "connects": n, "sent": sent}))
""").replace("SCAN_N", str(SCAN_ADDRS)).replace("FLOOD_N", str(FLOOD_PACKETS))

LOADER = textwrap.dedent("""\
    import json, os, subprocess, sys, urllib.request
    url, path, names = sys.argv[1:4]
    data = urllib.request.urlopen(url, timeout=10).read()
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o755)
    p = subprocess.run([path, names], capture_output=True, timeout=120)
    sys.stdout.write(p.stdout.decode())
    sys.stderr.write(p.stderr.decode())
    print(json.dumps({"loader": os.getpid()}))
    sys.exit(p.returncode)
""")

CLIENTS = textwrap.dedent("""\
    import sys, urllib.request
    for i in range(int(sys.argv[2])):
        urllib.request.urlopen(sys.argv[1], timeout=5).read()
""")


def sh(*args, check=True):
    return subprocess.run(list(args), capture_output=True, text=True, check=check, timeout=30)


@pytest.fixture
def cg():
    yield from cgroup_dirs(f"ebgr-test-{os.getpid()}")


@pytest.fixture
def nets():
    """Namespaces ebgr-a-PID (loader, bot) and ebgr-b-PID (HTTP server and flood target
    10.201.0.2, scanned hosts 10.202.0.2-10.202.1.51), joined by a veth pair. Removed on every path, a
    failing setup included."""
    if not shutil.which("ip"):
        pytest.skip("no iproute2")
    tag = str(os.getpid())
    a, b = f"ebgr-a-{tag}", f"ebgr-b-{tag}"
    va, vb = f"ebgra{tag[-6:]}", f"ebgrb{tag[-6:]}"
    made = []
    try:
        for ns in (a, b):
            sh("ip", "netns", "add", ns)
            made.append(ns)
        sh("ip", "link", "add", va, "netns", a, "type", "veth", "peer", "name", vb, "netns", b)
        sh("ip", "-n", a, "addr", "add", "10.201.0.1/24", "dev", va)
        sh("ip", "-n", b, "addr", "add", "10.201.0.2/24", "dev", vb)
        for ns, dev in ((a, va), (b, vb), (a, "lo"), (b, "lo")):
            sh("ip", "-n", ns, "link", "set", dev, "up")
        # the scanned network: 300 hosts, all of them addresses of B (closed ports answer
        # with a reset), reached from A over the veth only
        sh("ip", "-n", a, "route", "add", "10.202.0.0/23", "dev", va)
        batch = "".join(f"addr add 10.202.{i // 250}.{i % 250 + 2}/32 dev {vb}\n"
                        for i in range(SCAN_ADDRS))
        subprocess.run(["ip", "-n", b, "-batch", "-"], input=batch, text=True, check=True,
                       capture_output=True, timeout=30)
        yield {"a": a, "b": b}
    finally:
        for ns in made:
            sh("ip", "netns", "del", ns, check=False)


class Procs:
    """Processes the test starts: always killed (by pid) and reaped."""

    def __init__(self):
        self.p = []

    def start(self, argv, cg=None, **kw):
        def enter():
            if cg:
                with open(os.path.join(cg, "cgroup.procs"), "w") as f:
                    f.write(str(os.getpid()))
        p = subprocess.Popen(argv, preexec_fn=enter, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, **kw)
        self.p.append(p)
        return p

    def close(self):
        for p in self.p:
            if p.poll() is None:
                p.kill()
            try:
                p.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                pass


@pytest.fixture
def procs():
    ps = Procs()
    yield ps
    ps.close()


def start_graph(args):
    """ebee graph run, ready once every program it loaded has its link."""
    p = subprocess.Popen([EBEE, "graph", "run", "--json", *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 90
    while time.time() < deadline:
        if p.poll() is not None:
            raise AssertionError("ebee graph exited early: " + p.stderr.read())
        progs, links = bpf_ids(p.pid), bpf_ids(p.pid, "link_id")
        if progs and len(links) >= len(progs):
            time.sleep(0.3)
            if bpf_ids(p.pid, "link_id") == links:
                return p
        time.sleep(0.05)
    p.kill()
    p.communicate()
    raise AssertionError("ebee graph did not attach")


def stop_graph(p):
    time.sleep(0.5)   # the reader drains every 20 ms: let the last records arrive
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    lines = [json.loads(x) for x in out.splitlines() if x.strip()]
    return lines[:-1], lines[-1], err


def wait_port(ns, port, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = sh("ip", "netns", "exec", ns, "ss", "-Hltn", f"sport = :{port}", check=False)
        if r.stdout.strip():
            return
        time.sleep(0.1)
    raise AssertionError(f"nothing listening on {port} in {ns}")


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_mirai_like_infection(cg, nets, procs, tmp_path):
    if not shutil.which("gcc") or not shutil.which("curl"):
        pytest.skip("needs gcc and curl for the benign workloads")
    www, work = tmp_path / "www", tmp_path / "work"
    www.mkdir()
    work.mkdir()
    (www / "bot").write_text(BOT)
    (www / "pkg.tar").write_bytes(os.urandom(200000))
    (work / "loader.py").write_text(LOADER)
    (work / "clients.py").write_text(CLIENTS)
    (work / "hello.c").write_text('#include <stdio.h>\nint main(void){puts("hi");return 0;}\n')
    suffix = secrets.token_hex(3)
    names = [f"qbot{suffix}", f"kaiten{suffix}"]
    bot_path = str(work / "bot")

    # infrastructure (outside the traced cgroup): the bot's server and flood sink in B, a
    # local web server and a package server on loopback for the benign workloads
    procs.start(["ip", "netns", "exec", nets["b"], PY, "-m", "http.server", "--bind",
                 "10.201.0.2", "8080", "--directory", str(www)])
    procs.start(["ip", "netns", "exec", nets["b"], PY, "-c",
                 "import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                 "s.bind(('10.201.0.2',9999))\nwhile True: s.recv(2048)"])
    web_port, pkg_port = free_port(), free_port()
    web = procs.start([PY, "-m", "http.server", "--bind", "127.0.0.1", str(web_port),
                       "--directory", str(www)], cg=cg)
    pkg = procs.start([PY, "-m", "http.server", "--bind", "127.0.0.1", str(pkg_port),
                       "--directory", str(www)])
    wait_port(nets["b"], 8080)
    # decoys with competitor names: not the bot's children
    decoys = []
    for n in names:
        exe = work / n
        shutil.copy("/bin/sleep", exe)
        decoys.append(procs.start([str(exe), "300"]))

    g = start_graph(["--cgroup", cg, "--save", str(tmp_path / "g.ebg")])
    try:
        # the benign workloads, beside the infection
        benign = [
            procs.start(["gcc", "-o", str(work / "hello"), str(work / "hello.c")], cg=cg),
            procs.start(["curl", "-sf", "-o", str(work / "pkg.tar"),
                         f"http://127.0.0.1:{pkg_port}/pkg.tar"], cg=cg),
            procs.start([PY, str(work / "clients.py"), f"http://127.0.0.1:{web_port}/pkg.tar",
                         "200"], cg=cg),
        ]
        loader = procs.start(["ip", "netns", "exec", nets["a"], PY, str(work / "loader.py"),
                              "http://10.201.0.2:8080/bot", bot_path, ",".join(names)], cg=cg)
        out, err = loader.communicate(timeout=180)
        assert loader.returncode == 0, err
        res = [json.loads(x) for x in out.decode().splitlines()]
        bot, ld = res[0], res[1]
        for p in benign:
            p.wait(timeout=120)
            assert p.returncode == 0, p.stderr.read()
        hello = procs.start([str(work / "hello")], cg=cg)
        hello.wait(timeout=10)
    finally:
        alerts, summary, gerr = stop_graph(g)

    # the stages really happened
    assert sorted(bot["killed"]) == sorted(d.pid for d in decoys)
    assert bot["connects"] == 2 * SCAN_ADDRS and bot["sent"] == FLOOD_PACKETS
    assert not os.path.exists(bot_path)

    assert summary["type"] == "summary" and summary["collector"] == "graph"
    assert summary["lost"] == 0, gerr
    by_rule = {}
    for a in alerts:
        assert a["source"] == "graph" and a["hostname"] and a["time"].endswith("Z")
        assert set(a) >= {"time", "rule", "priority", "output", "output_fields", "source",
                          "tags", "hostname"}
        by_rule.setdefault(a["rule"], []).append(a)
    # every detection of the infection, each once, each naming the bot's lineage
    assert set(by_rule) == {"Dropper executed", "Self-deleting executable",
                            "Processes killed by name", "Network scan", "Flood"}, \
        [a["output"] for a in alerts]
    for rule, lst in by_rule.items():
        assert len(lst) == 1, rule
        f = lst[0]["output_fields"]
        assert f["proc.pid"] == bot["pid"], (rule, f["proc.pid"], bot)
        assert f["proc.exe"] == bot_path
        assert f["graph.nodes"] and f["graph.alert_id"].startswith("g")
    drop = by_rule["Dropper executed"][0]["output_fields"]
    labels = {n["label"] for n in drop["graph.nodes"]}
    assert bot_path in labels and "10.201.0.2:8080" in labels
    writer = [n for n in drop["graph.nodes"] if n["type"] == "proc" and n["pid"] == ld["loader"]]
    assert writer, drop["graph.nodes"]
    assert {e["type"] for e in drop["graph.edges"]} >= {"created", "chmod_x", "executed",
                                                          "connected"}
    kill = by_rule["Processes killed by name"][0]["output_fields"]
    victims = {n["pid"] for n in kill["graph.nodes"] if n["type"] == "proc"}
    assert victims >= {d.pid for d in decoys}
    scan = by_rule["Network scan"][0]
    assert scan["priority"] == "Warning" and "T1046" in scan["tags"]
    assert any(n["label"].startswith("10.202.") for n in scan["output_fields"]["graph.nodes"])
    flood = by_rule["Flood"][0]["output_fields"]
    assert any(n["label"] == "10.201.0.2:9999" for n in flood["graph.nodes"])
    sent = [e for e in flood["graph.edges"] if e["type"] == "sent"]
    assert len(sent) == 1 and sent[0]["count"] >= 1000, flood["graph.edges"]

    # the saved graph answers queries and shows the alert's subgraph
    gfile = str(tmp_path / "g.ebg")
    r = run(["graph", "show", gfile, by_rule["Dropper executed"][0]["output_fields"]
             ["graph.alert_id"]])
    assert r.returncode == 0 and "Dropper executed" in r.stdout and bot_path in r.stdout
    r = run(["graph", "query", "--json", gfile, f"lineage {bot['pid']}"])
    assert r.returncode == 0, r.stderr
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert any(x["relation"] == "self" and x["label"] == bot_path for x in rows)
    assert any(x["relation"] == "ancestor" and x["pid"] == ld["loader"] for x in rows)
    r = run(["graph", "query", "--json", gfile, "fanout --min 100"])
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["pid"] for x in rows] == [bot["pid"]] and rows[0]["addresses"] >= SCAN_ADDRS
    r = run(["graph", "query", "--json", gfile, f"who-wrote {bot_path}"])
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert {x["edge"] for x in rows if x["pid"] == ld["loader"]} >= {"created", "chmod_x"}
    r = run(["graph", "query", "--json", gfile, "exec-dropped"])
    assert any(x["pid"] == bot["pid"] for x in map(json.loads, r.stdout.splitlines()))
    # the compiled program: executed, written by another process, no network: no alert
    assert any(str(work / "hello") in x for x in r.stdout.splitlines())
    r = run(["graph", "export", gfile, "--format", "json"])
    doc = json.loads(r.stdout)
    assert doc["directed"] and len(doc["nodes"]) > SCAN_ADDRS and doc["links"]
    ids = {n["id"] for n in doc["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in doc["links"])
    r = run(["graph", "export", gfile, "--format", "graphml"])
    import xml.etree.ElementTree as ET
    root = ET.fromstring(r.stdout)
    ns = "{http://graphml.graphdrawing.org/xmlns}"
    assert len(root.find(ns + "graph").findall(ns + "node")) == len(doc["nodes"])
    r = run(["graph", "export", gfile, "--format", "dot"])
    assert r.stdout.startswith("digraph ebee {") and r.stdout.count(" -> ") == len(doc["links"])


@pytest.mark.parametrize("opt_in", [False, True], ids=["default", "module-attempts"])
def test_module_edges_opt_in(ebee_start, tmp_path, opt_in):
    """A kernel without module support: no program on the raw sys_exit and no loaded_module
    edge for a module-load attempt unless --module-attempts (then both); said in -v's info
    line. A kernel with module support: the edge either way, no raw program."""
    path = str(tmp_path / "g.ebg")
    code = "import ctypes, sys; sys.stdin.readline(); ctypes.CDLL(None).syscall(313, -1, b'', 0)"
    w = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, text=True)
    try:
        e = ebee_start(["-v", "graph", "run", "--pid", str(w.pid), "--save", path] +
                       (["--module-attempts"] if opt_in else []), min_progs=4)
        names = prog_names(e.proc.pid)
        w.communicate("go\n", timeout=30)
        time.sleep(0.5)
        assert e.stop() == 0, e.stderr
    finally:
        if w.poll() is None:
            w.kill()
            w.wait()
    doc = json.loads(run(["graph", "export", path, "--format", "json"]).stdout)
    mods = [l for l in doc["links"] if l["type"] == "loaded_module"]
    if NO_MODULES and not opt_in:
        assert not names & RAW_SYS_EXIT, names
        assert "graph: no loaded_module edges: a kernel without module support" in e.stderr
        assert mods == [], mods
    else:
        assert ("ev_sys_exit" in names) == NO_MODULES and not names & {"ev_raw_exit_tp"}, names
        assert "no loaded_module edges" not in e.stderr
        assert len(mods) == 1, doc["links"]


@pytest.fixture(scope="module")
def saved_graph(tmp_path_factory):
    """A small real graph: a short traced run of the test's own process."""
    path = str(tmp_path_factory.mktemp("graph") / "small.ebg")
    r = run(["graph", "run", "--duration", "1", "--pid", str(os.getpid()), "--save", path],
            timeout=120)
    assert r.returncode == 0, r.stderr
    return path


@pytest.mark.parametrize("args,msg", [
    (["query", "FILE", "bogus"], "unknown query 'bogus'"),
    (["query", "FILE", "neighbours n999999"], "unknown node 'n999999'"),
    (["query", "FILE", "lineage 4000000"], "unknown node 'proc:4000000'"),
    (["query", "FILE", "fanout --min x"], "invalid minimum 'x'"),
    (["show", "FILE", "g77"], "unknown alert 'g77'"),
    (["export", "FILE", "--format", "svg"], "svg"),
    (["export", "TRUNC"], "corrupt or truncated graph"),
    (["export", "FLIP"], "corrupt or truncated graph"),
    (["export", "EMPTY"], "not an ebee graph"),
    (["export", "/nonexistent/g"], "cannot open graph '/nonexistent/g'"),
])
def test_bad_input(saved_graph, tmp_path, args, msg):
    path = saved_graph
    data = open(path, "rb").read()
    files = {"FILE": path, "TRUNC": str(tmp_path / "t"), "FLIP": str(tmp_path / "f"),
             "EMPTY": str(tmp_path / "e")}
    open(files["TRUNC"], "wb").write(data[:len(data) // 2])
    flipped = bytearray(data)
    flipped[len(data) // 3] ^= 0x40
    open(files["FLIP"], "wb").write(bytes(flipped))
    open(files["EMPTY"], "wb").write(b"")
    r = run(["graph", *[files.get(a, a) for a in args]])
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and msg in lines[0], r.stderr


def test_loss_marks_graph_incomplete(tmp_path):
    """A deliberately tiny ring buffer: the storm's events are lost, the summary says so, the
    saved graph keeps the flag and a detection computed over that window is flagged."""
    d = tmp_path / "files"
    d.mkdir()
    storm = textwrap.dedent(f"""\
        import os, signal, socket, time
        os.kill(os.getpid(), signal.SIGSTOP)          # continued once ebee is attached
        for i in range(30000):
            open("{d}/f%d" % (i % 3000), "w").close()
        time.sleep(0.3)
        for i in range(150):
            s = socket.socket(); s.setblocking(False)
            try: s.connect(("127.3.%d.%d" % (i // 250, i % 250 + 1), 23))
            except OSError: pass
            s.close()
            time.sleep(0.005)   # slow enough for the tiny ring: the scan itself arrives
    """)
    p = subprocess.Popen([PY, "-c", storm])
    try:
        deadline = time.time() + 10
        while open(f"/proc/{p.pid}/stat").read().split(")")[1].split()[0] != "T":
            assert time.time() < deadline, "storm did not stop itself"
            time.sleep(0.02)
        g = start_graph(["--pid", str(p.pid), "--ring-size", "4096",
                         "--save", str(tmp_path / "lossy.ebg")])
        os.kill(p.pid, signal.SIGCONT)
        p.wait(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        alerts, summary, err = stop_graph(g)
    assert summary["lost"] > 0 and summary["incomplete"] is True, summary
    scans = [a for a in alerts if a["rule"] == "Network scan"]
    assert scans and scans[0]["output_fields"]["graph.incomplete"] is True
    doc = json.loads(run(["graph", "export", str(tmp_path / "lossy.ebg")]).stdout)
    assert doc["graph"]["incomplete"] is True and doc["graph"]["lost"] == summary["lost"]


def http_get(url, timeout=5):
    import urllib.request
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


SCANNER = textwrap.dedent("""\
    import json, os, signal, socket, sys, time
    os.kill(os.getpid(), signal.SIGSTOP)          # continued once the daemon is attached
    for i in range(120):                          # refused at once: nothing listens there
        s = socket.socket(); s.setblocking(False)
        try: s.connect(("127.4.%d.%d" % (i // 250, i % 250 + 1), 2323))
        except OSError: pass
        s.close()
    print(os.getpid())
""")


def serve_with_scan(ebee_start, top=40):
    """ebee serve -c graph while a process of the test scans 120 addresses: the daemon, its
    URL, the scanner's pid, /api/graph once the scan alert is there and that alert."""
    p = subprocess.Popen([PY, "-c", SCANNER], stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 10
        while open(f"/proc/{p.pid}/stat").read().split(")")[1].split()[0] != "T":
            assert time.time() < deadline, "scanner did not stop itself"
            time.sleep(0.02)
        e = ebee_start(["serve", "--json", "--collectors", "graph", "--listen", "127.0.0.1:0",
                        "--interval", "0.2"], min_progs=4)   # 3 sched + at least the sys_exit dispatcher
        url = json.loads(e.readline())["url"]
        os.kill(p.pid, signal.SIGCONT)
        assert p.wait(timeout=60) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()

    def scan_alert():
        doc = json.loads(http_get(url + f"api/graph?top={top}")[1])
        return doc, [a for a in doc["alerts"] if a["rule"] == "Network scan"
                     and a["output_fields"].get("proc.pid") == p.pid]
    deadline = time.time() + 10
    doc, mine = scan_alert()
    while not mine and time.time() < deadline:
        time.sleep(0.2)
        doc, mine = scan_alert()
    assert mine, [a["output"] for a in doc["alerts"]]
    return e, url, p.pid, doc, mine[0]


def test_serve_graph_api_and_metrics(ebee_start):
    """The daemon runs the graph collector: a scan by a process of the test shows in
    /api/graph (its alert, its lineage first, nodes bounded by ?top=N) and in /metrics."""
    e, url, pid, doc, a = serve_with_scan(ebee_start)
    assert a["source"] == "graph" and a["priority"] == "Warning" and a["time"].endswith("Z")
    assert doc["collector"] == "graph" and doc["health"] == "ok"
    assert doc["detections"]["Network scan"] >= 1
    # the bound: at most top nodes, the edges between them only
    assert 0 < len(doc["nodes"]) <= 40 and len(doc["edges"]) <= 160
    ids = {n["id"] for n in doc["nodes"]}
    assert all(x["source"] in ids and x["target"] in ids for x in doc["edges"])
    # an alerted lineage comes first: the scanner's, with its process and endpoints
    lin = doc["lineages"][0]
    assert lin["alerts"] >= 1
    scanner = [n for n in doc["nodes"] if n["type"] == "proc" and n.get("pid") == pid]
    assert scanner and any(x["source"] == scanner[0]["id"] and x["type"] == "connected"
                           for x in doc["edges"])
    status, metrics = http_get(url + "metrics")
    assert status == 200
    line = [x for x in metrics.splitlines()
            if x.startswith('ebee_graph_detections_total{rule="Network scan"}')]
    assert line and int(line[0].split()[-1]) >= 1, line
    assert 'ebee_graph_nodes{type="proc"}' in metrics
    assert "ebee_graph_evicted_nodes_total" in metrics
    if shutil.which("promtool"):
        r = subprocess.run(["promtool", "check", "metrics"], input=metrics, text=True,
                           capture_output=True)
        assert r.returncode == 0, r.stdout + r.stderr
    assert e.stop() == 0


WEB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "test_graph_web")
PLAYWRIGHT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "test_netwatch_web")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_graph_panel_in_chromium(ebee_start, tmp_path):
    """The daemon page's graph panel (src/graph/web/panel.js bundled with cytoscape from the
    pinned npm tree, as serve's build does) fed a real /api/graph document in headless
    Chromium: the alerted lineage is chosen first and drawn, every alert is listed, choosing
    another lineage redraws, clicking the alert brings its lineage back."""
    npm = os.path.join(ROOT, "build", "npm", "serve", "node_modules")
    esbuild = os.path.join(npm, ".bin", "esbuild")
    if not os.access("/usr/bin/chromium", os.X_OK) or not shutil.which("node"):
        pytest.skip("needs /usr/bin/chromium and node")
    if not os.path.isdir(os.path.join(npm, "cytoscape")) or not os.access(esbuild, os.X_OK):
        pytest.skip("no build/npm/serve tree with cytoscape (make builds it)")
    p = subprocess.run([os.path.join(PLAYWRIGHT, "install.sh")], capture_output=True, text=True,
                       timeout=300)
    if p.returncode:
        pytest.skip(f"cannot install playwright-core from npm: {p.stderr.strip()[-300:]}")
    e, url, pid, doc, alert = serve_with_scan(ebee_start, top=60)
    assert e.stop() == 0

    entry = tmp_path / "entry.js"
    entry.write_text(
        f'import panel from "{os.path.join(ROOT, "src", "graph", "web", "panel.js")}";\n'
        'const root = document.getElementById("root");\n'
        'panel.mount(root);\n'
        'panel.update(JSON.parse(document.getElementById("data").textContent));\n'
        'window.panelReady = true;\n')
    r = subprocess.run([esbuild, str(entry), "--bundle", "--format=iife", "--target=es2020",
                        "--log-level=warning", f"--outfile={tmp_path / 'bundle.js'}"],
                       env=dict(os.environ, NODE_PATH=npm), capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    data = json.dumps(doc).replace("</", "<\\/")
    (tmp_path / "index.html").write_text(
        '<!doctype html><meta charset="utf-8"><body><div id="root"></div>'
        f'<script id="data" type="application/json">{data}</script>'
        '<script src="bundle.js"></script></body>')
    os.makedirs(os.path.join(ROOT, "tests", "artifacts"), exist_ok=True)
    shot = os.path.join(ROOT, "tests", "artifacts", "graph-panel.png")
    r = subprocess.run(["node", os.path.join(WEB, "page.js"), f"file://{tmp_path}/index.html",
                        shot], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, NODE_PATH=os.path.join(PLAYWRIGHT, "node_modules")))
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["errors"] == [], res["errors"]
    # self-contained: nothing fetched but the page and its bundle
    assert all(u.startswith("file://") for u in res["requests"]), res["requests"]
    head = doc["lineages"][0]["id"]
    assert res["options"][0]["value"] == head and res["options"][0]["selected"]
    assert f"({pid})" in res["options"][0]["text"]
    # drawn: the lineage's processes and what they touched, as the document has them
    procs = {n["id"] for n in doc["nodes"] if n["type"] == "proc"
             and (n["id"] == head or n.get("lineage") == head)}
    touched = {x for ed in doc["edges"] if ed["source"] in procs or ed["target"] in procs
               for x in (ed["source"], ed["target"])}
    assert res["before"]["lineage"] == head and res["before"]["canvases"] > 0
    assert int(res["before"]["nodes"]) == len(procs | touched) > 1
    assert int(res["before"]["edges"]) >= 1
    assert [a["rule"] for a in res["alerts"]] == [a["rule"] for a in doc["alerts"]]
    assert alert["output_fields"]["graph.alert_id"] in {a["id"] for a in res["alerts"]}
    assert str(doc["nodes_total"]) in res["stats"]
    if "other" in res:
        assert res["other"]["lineage"] == res["options"][1]["value"]
    first = doc["alerts"][0]["output_fields"].get("graph.lineage")
    if first:
        assert res["after"]["lineage"] == first
    assert os.path.getsize(shot) > 5000
