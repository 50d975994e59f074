"""ebee policy in the daemon and the connection table's ageing: `ebee serve --collectors policy`
enforces the policies of a directory, serves /api/policy and the policy families of /metrics
(checked with promtool when present), and `ebee policy flows` follows it; closed and idle flows
leave the connection table (real TCP and UDP between test hosts the test creates)."""
import json
import os
import shutil
import subprocess
import time
import urllib.request

import pytest

from conftest import Ebee, json_lines, run
from policy_util import netpol, policy_file, world_fixture

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

cgworld = world_fixture("cgroup")
nsworld = world_fixture("netns")


def unique_keys(kv):
    """A JSON object's members, refusing a key written twice (by the daemon and the collector)."""
    keys = [k for k, _ in kv]
    assert len(keys) == len(set(keys)), keys
    return dict(kv)


def three(world):
    world.namespace("prod", {"team": "a"})
    world.namespace("dev", {"team": "b"})
    world.add("web", "prod", {"app": "web"}, {"http": 8080})
    world.add("db", "prod", {"app": "db"})
    world.add("cli", "dev", {"app": "cli"})
    return world.setup()


POLICIES = [netpol("default-deny-ingress", "prod", types=["Ingress"]),
            netpol("web-from-db", "prod", pod={"matchLabels": {"app": "web"}},
                   ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "db"}}}]}])]


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.read().decode()


def wait_until(f, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if f():
            return True
        time.sleep(0.1)
    return f()


def rmdir(path):
    """True once the cgroup is gone (its processes take a moment to leave it)."""
    try:
        os.rmdir(path)
    except FileNotFoundError:
        pass
    except OSError:
        return False
    return True


def samples(metrics):
    out = {}
    for line in metrics.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def policy_dir(world, tmp_path):
    d = tmp_path / "policy.d"
    d.mkdir()
    shutil.copy(world.workloads_file(), d / "workloads.yaml")
    policy_file(str(d), "10-netpol.yaml", POLICIES)
    return d


def serve_policy(world, tmp_path):
    """`ebee serve` with the policy collector on the three workloads' policy: (Ebee, its URL)."""
    three(world)
    env = dict(os.environ, EBEE_POLICY_DIR=str(policy_dir(world, tmp_path)))
    e = Ebee(["serve", "--json", "--collectors", "policy", "--listen", "127.0.0.1:0",
              "--interval", "0.2"], env=env).start()
    return e, json.loads(e.readline())["url"]


def policy_api(url):
    """/api/policy, refusing a document with a key twice."""
    return json.loads(get(url + "api/policy")[1], object_pairs_hook=unique_keys)


def test_serve_enforces_and_serves_policy(cgworld, tmp_path):
    e, url = serve_policy(cgworld, tmp_path)
    try:
        follower = Ebee(["policy", "flows", "--json", "--pid", str(e.proc.pid)]).start(
            min_progs=0, settle=0.5)
        got = cgworld.matrix([("cli", "web", 80), ("db", "web", 80), ("web", "cli", 80)], ("TCP",))
        assert got == {("cli", "web", "TCP", 80): False, ("db", "web", "TCP", 80): True,
                       ("web", "cli", "TCP", 80): True}

        def api():
            return policy_api(url)
        assert wait_until(lambda: api()["verdicts"]["dropped"] >= 1 and
                          api()["verdicts"]["forwarded"] >= 3), api()
        d = api()
        assert d["collector"] == "policy" and d["health"] == "ok" and d["lost"] == 0
        pols = {p["name"]: p for p in d["policies"]}
        assert pols["default-deny-ingress"]["selects"] == ["web", "db"]
        assert pols["default-deny-ingress"]["ingress"]["flows"]["dropped"] >= 1
        assert pols["web-from-db"]["ingress"]["flows"]["forwarded"] >= 1
        assert pols["default-deny-ingress"]["ingress"]["isolates"] and not pols["default-deny-ingress"]["egress"]["isolates"]
        wls = {w["name"]: w for w in d["workloads"]}
        assert wls["web"]["isolated_ingress"] and not wls["web"]["isolated_egress"]
        assert not wls["cli"]["isolated_ingress"] and wls["cli"]["cgroup"] == cgworld["cli"].cgroup
        drops = [f for f in d["flows"] if f["verdict"] == "DROPPED"]
        assert drops and drops[0]["source"]["pod_name"] == "cli" and \
            drops[0]["destination"]["pod_name"] == "web"
        assert d["conntrack"]["entries"] >= 4
        assert len(json.loads(get(url + "api/policy?top=2")[1])["flows"]) == 2
        panel_shows(d, cgworld)

        status, metrics = get(url + "metrics")
        assert status == 200
        if shutil.which("promtool"):
            p = subprocess.run(["promtool", "check", "metrics"], input=metrics,
                               capture_output=True, text=True)
            assert p.returncode == 0, p.stdout + p.stderr
        m = samples(metrics)
        assert m['ebee_policy_verdicts_total{direction="ingress",verdict="DROPPED",'
                 'policy="prod/default-deny-ingress"}'] >= 1
        assert m['ebee_policy_verdicts_total{direction="ingress",verdict="FORWARDED",'
                 'policy="prod/web-from-db"}'] >= 1
        assert m['ebee_policy_verdicts_total{direction="egress",verdict="FORWARDED",policy=""}'] >= 2
        assert m['ebee_policy_packets_total{direction="ingress",verdict="DROPPED"}'] >= 1
        assert m['ebee_policy_packets_total{direction="ingress",verdict="FORWARDED"}'] >= 6
        assert m["ebee_policy_events_lost_total"] == 0
        assert m["ebee_policy_conntrack_entries"] >= 4
        assert m['ebee_policy_workloads{state="enforced"}'] == 3
        # bounded labels: directions x verdicts x (the two policies or none)
        pol_labels = {k.split('policy="')[1].split('"')[0] for k in m
                      if k.startswith("ebee_policy_verdicts_total")}
        assert pol_labels <= {"", "prod/default-deny-ingress", "prod/web-from-db"}
    finally:
        e.stop()
    assert follower.wait(timeout=10) == 0, follower.stderr
    flows = json_lines(follower.stdout)
    assert any(f["verdict"] == "DROPPED" and f["source"]["pod_name"] == "cli" for f in flows)


def panel_shows(d, world):
    """The daemon's panel (src/policy/web/panel.js) on this /api/policy document, in node with
    a minimal DOM: the counters, a row per policy and workload, the newest verdicts."""
    if not shutil.which("node"):
        return
    here = os.path.dirname(os.path.abspath(__file__))
    panel = os.path.join(here, "..", "..", "src", "policy", "web", "panel.js")
    p = subprocess.run(["node", os.path.join(here, "policy_panel.mjs"), os.path.abspath(panel)],
                       input=json.dumps(d), capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "collector=policy title=Policy verdicts"
    v = d["verdicts"]
    assert any(l.startswith("p: ") and f"forwarded {v['forwarded']}, dropped {v['dropped']}" in l
               for l in lines), lines
    assert "prod/default-deny-ingress | web, db | " in p.stdout
    assert f"dev/cli | cgroup {world['cli'].cgroup} | open | open" in p.stdout
    assert f"prod/web | cgroup {world['web'].cgroup} | isolated | open" in p.stdout
    drops = [l for l in lines if " | DROPPED | " in l]
    assert drops and "dev/cli 127.77.0.3:" in drops[0] and "prod/web 127.77.0.1:80" in drops[0]
    assert "isolated by prod/default-deny-ingress" in drops[0]


def test_serve_without_policy_dir_is_a_usage_error(tmp_path):
    env = dict(os.environ, EBEE_POLICY_DIR=str(tmp_path / "none"))
    r = run(["serve", "--collectors", "policy", "--listen", "127.0.0.1:0"], env=env)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "policy directory '" in r.stderr
    (tmp_path / "empty").mkdir()
    env["EBEE_POLICY_DIR"] = str(tmp_path / "empty")
    r = run(["serve", "--collectors", "policy", "--listen", "127.0.0.1:0"], env=env)
    assert r.returncode == 2 and "no policy file in '" in r.stderr, r.stderr


def test_closed_and_idle_flows_leave_the_table(nsworld, tmp_path):
    """Short TCP connections (FIN both ways) and UDP datagrams through enforced test hosts:
    while they live they are in the table; after the close/idle timeouts the sweep deletes
    them, and a flow of the same hosts afterwards is judged again (a new event)."""
    three(nsworld)
    p = policy_file(tmp_path, "p.yaml", POLICIES)
    e = Ebee(["policy", "apply", "-f", p, "--workloads", nsworld.workloads_file(), "--json",
              "--close-timeout", "0.5", "--idle-timeout", "1.5"], prefix=nsworld.ebee_prefix()).start()
    try:
        db, web, cli = nsworld["db"], nsworld["web"], nsworld["cli"]
        assert db.run("storm", db.addr, web.addr, 80, 20).startswith("done")
        cli.run("udpburst", cli.addr, web.addr, 80, 10)          # refused: web isolates
        time.sleep(4)   # > idle timeout + the 1 s sweep, with margin for a loaded machine
        assert db.run("storm", db.addr, web.addr, 80, 1).startswith("done")
        time.sleep(3)
    finally:
        e.stop()
    rows = e.json()
    s = [x for x in rows if x.get("type") == "summary"][0]
    # 21 connections seen from both ends, 10 refused datagrams at both ends: all expired
    assert s["conntrack_expired"] >= 2 * 21 + 2 * 10, s
    assert s["conntrack_entries"] == 0, s
    new = [x for x in rows if x.get("event") == "new" and x.get("traffic_direction") == "INGRESS"
           and x["destination"].get("pod_name") == "web" and "TCP" in x["l4"]]
    assert len(new) == 21   # the later connection is judged as a new flow
    fins = [x for x in rows if x.get("event") == "flags" and "TCP" in x.get("l4", {})
            and x["l4"]["TCP"]["flags"].get("FIN")]
    assert len(fins) >= 2 * 21   # each side reports its connection's first FIN


def test_serve_vanishing_workload_degrades_health(cgworld, tmp_path):
    e, url = serve_policy(cgworld, tmp_path)
    try:
        db = cgworld["db"]
        db.server.kill()
        db.server.wait()
        assert wait_until(lambda: rmdir(db.cgroup))

        def api():
            return policy_api(url)
        assert wait_until(lambda: api()["health"] == "degraded"), api()
        assert {w["name"]: w["gone"] for w in api()["workloads"]} == {"web": False, "db": True,
                                                                     "cli": False}
        m = samples(get(url + "metrics")[1])
        assert m['ebee_policy_workloads{state="gone"}'] == 1
        # the others stay enforced
        got = cgworld.matrix([("cli", "web", 80), ("web", "cli", 80)], ("TCP",))
        assert got == {("cli", "web", "TCP", 80): False, ("web", "cli", "TCP", 80): True}
    finally:
        e.stop()
    assert "workload 'prod/db' disappeared" in e.stderr
