"""ebee policy: Kubernetes NetworkPolicy enforced on workloads the tests create, checked against
truth tables written from the Kubernetes documentation's examples (every pair tries TCP and UDP
on the relevant ports), plus verdict events, audit mode, aggregation and cleanup."""
import os
import subprocess
import time

import pytest

from conftest import EBEE, Ebee, assert_clean, json_lines, run
from policy_util import world_fixture, PREFIX, World, leftovers, netpol, policy_file

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


cgworld = world_fixture("cgroup")
nsworld = world_fixture("netns")


def apply(world, files, extra=(), env=None, interval=5):
    args = ["policy", "apply", "--workloads", world.workloads_file(), "--json", "-i", str(interval)]
    for f in files:
        args += ["-f", f]
    return Ebee(args + list(extra), env=env, prefix=world.ebee_prefix()).start()


def check_table(world, files, expect, protos=("TCP", "UDP"), extra=(), v6=False):
    """expect: {(src, dst, port): connects} for every protocol in protos (a dict value
    {"TCP": bool, "UDP": bool} when they differ). Returns the events and the run."""
    e = apply(world, files, extra)
    try:
        got = world.matrix(list(expect), protos, v6=v6)
    finally:
        e.stop()
    want = {(s, d, pr, p): ok[pr] if isinstance(ok, dict) else ok
            for (s, d, p), ok in expect.items() for pr in protos}
    wrong = {k: got[k] for k in want if got[k] != want[k]}
    assert not wrong, f"differs from the truth table (got): {wrong}\n{e.stderr}"
    return [x for x in e.json() if x.get("type") != "summary"], e


def all_pairs(names, ports, ok):
    return {(s, d, p): ok(s, d, p) for s in names for d in names if s != d for p in ports}


# ---- the Kubernetes documentation's examples, as truth tables ----

def three(world):
    world.namespace("prod", {"team": "a"})
    world.namespace("dev", {"team": "b"})
    world.add("web", "prod", {"app": "web"}, {"http": 8080})
    world.add("db", "prod", {"app": "db", "role": "db"})
    world.add("cli", "dev", {"app": "cli", "role": "frontend"})
    return world.setup()


def test_default_deny_ingress(cgworld, tmp_path):
    three(cgworld)
    p = policy_file(tmp_path, "p.yaml", [netpol("default-deny-ingress", "prod", types=["Ingress"])])
    # Nothing enters prod; dev is not isolated.
    events, _ = check_table(cgworld, [p], all_pairs(["web", "db", "cli"], [80],
                                                    lambda s, d, p: d == "cli"))
    drops = [x for x in events if x["verdict"] == "DROPPED"]
    # one DROPPED flow per refused attempt (4 pairs into prod, TCP and UDP), each with the
    # attempt's own addresses and port; retransmitted SYNs add no event
    attempts = {(s, d, pr) for s in ["web", "db", "cli"] for d in ["web", "db"] if s != d
                for pr in ["TCP", "UDP"]}
    seen = [(x["source"]["pod_name"], x["destination"]["pod_name"], next(iter(x["l4"])))
            for x in drops if x["event"] == "new"]
    assert sorted(seen) == sorted(attempts)
    assert all(next(iter(x["l4"].values()))["destination_port"] == 80 for x in drops)
    assert drops and all(x["traffic_direction"] == "INGRESS" and
                         x["policies"][0]["name"] == "default-deny-ingress" and
                         x["drop_reason_desc"] == "POLICY_DENIED" for x in drops)


def test_allow_all_ingress(cgworld, tmp_path):
    three(cgworld)
    p = policy_file(tmp_path, "p.yaml", [netpol("default-deny-ingress", "prod", types=["Ingress"]),
                                         netpol("allow-all-ingress", "prod", ingress=[{}])])
    events, _ = check_table(cgworld, [p], all_pairs(["web", "db", "cli"], [80], lambda s, d, p: True))
    into_prod = [x for x in events if x["destination"].get("namespace") == "prod"
                 and x["traffic_direction"] == "INGRESS" and x["event"] == "new"]
    assert into_prod and all(x["verdict"] == "FORWARDED" and
                             x["policies"][0]["name"] == "allow-all-ingress" for x in into_prod)


def test_default_deny_egress(cgworld, tmp_path):
    three(cgworld)
    p = policy_file(tmp_path, "p.yaml", [netpol("default-deny-egress", "prod", types=["Egress"])])
    check_table(cgworld, [p], all_pairs(["web", "db", "cli"], [80], lambda s, d, p: s == "cli"))


def test_allow_all_egress(cgworld, tmp_path):
    three(cgworld)
    p = policy_file(tmp_path, "p.yaml", [netpol("default-deny-egress", "prod", types=["Egress"]),
                                         netpol("allow-all-egress", "prod", egress=[{}],
                                                types=["Egress"])])
    check_table(cgworld, [p], all_pairs(["web", "db", "cli"], [80], lambda s, d, p: True))


def test_default_deny_all(cgworld, tmp_path):
    three(cgworld)
    p = policy_file(tmp_path, "p.yaml", [netpol("default-deny-all", "prod",
                                                types=["Ingress", "Egress"])])
    check_table(cgworld, [p], all_pairs(["web", "db", "cli"], [80], lambda s, d, p: False))


def test_allow_from_namespace(cgworld, tmp_path):
    three(cgworld)
    p = policy_file(tmp_path, "p.yaml", [netpol("from-team-b", "prod", pod={"matchLabels": {"app": "web"}},
                                                ingress=[{"from": [{"namespaceSelector":
                                                                    {"matchLabels": {"team": "b"}}}]}])])
    check_table(cgworld, [p], all_pairs(["web", "db", "cli"], [80],
                                        lambda s, d, p: d != "web" or s == "cli"))


def test_allow_from_pods_with_labels(cgworld, tmp_path):
    three(cgworld)
    # podSelector alone: pods of the policy's own namespace only (cli has role=frontend too, but
    # lives in dev).
    p = policy_file(tmp_path, "p.yaml", [netpol(
        "from-db", "prod", pod={"matchLabels": {"app": "web"}},
        ingress=[{"from": [{"podSelector": {"matchExpressions": [
            {"key": "role", "operator": "In", "values": ["db", "frontend"]}]}}]}])])
    check_table(cgworld, [p], all_pairs(["web", "db", "cli"], [80],
                                        lambda s, d, p: d != "web" or s == "db"))


def five(world):
    world.namespace("prod", {"team": "a"})
    world.namespace("dev", {"team": "b"})
    world.add("web", "prod", {"app": "web"})
    world.add("front", "prod", {"role": "frontend"})
    world.add("db", "prod", {"role": "db"})
    world.add("cli", "dev", {"role": "frontend"})
    world.add("other", "dev", {"role": "other"})
    return world.setup()


@pytest.mark.parametrize("mode", ["and", "or"])
def test_and_vs_or_peers(cgworld, tmp_path, mode):
    five(cgworld)
    ns = {"namespaceSelector": {"matchLabels": {"team": "b"}}}
    pod = {"podSelector": {"matchLabels": {"role": "frontend"}}}
    peers = [dict(ns, **pod)] if mode == "and" else [ns, pod]
    p = policy_file(tmp_path, "p.yaml", [netpol("web", "prod", pod={"matchLabels": {"app": "web"}},
                                                ingress=[{"from": peers}])])
    allowed = {"and": {"cli"}, "or": {"cli", "other", "front"}}[mode]
    check_table(cgworld, [p], {(s, "web", 80): s in allowed
                               for s in ["front", "db", "cli", "other"]})


def test_documentation_example_ipblock_except_and_ports(cgworld, tmp_path):
    """The documentation's test-network-policy, with addresses of this test: role=db pods
    accept TCP 6379 from an ipBlock with an except, a namespace and frontend pods, and may
    only send TCP 8080 to an ipBlock."""
    three(cgworld)   # web 127.77.0.1, db .2 (role=db), cli .3 (dev, role=frontend)
    p = policy_file(tmp_path, "p.yaml", [netpol(
        "test-network-policy", "prod", pod={"matchLabels": {"role": "db"}},
        types=["Ingress", "Egress"],
        ingress=[{"from": [{"ipBlock": {"cidr": "127.77.0.0/24", "except": ["127.77.0.1/32"]}},
                           {"namespaceSelector": {"matchLabels": {"team": "c"}}},
                           {"podSelector": {"matchLabels": {"role": "frontend"}}}],
                  "ports": [{"protocol": "TCP", "port": 6379}]}],
        egress=[{"to": [{"ipBlock": {"cidr": "127.77.0.0/30"}}],
                 "ports": [{"protocol": "TCP", "port": 8080}]}])])
    tcp_only = {"TCP": True, "UDP": False}
    check_table(cgworld, [p], {
        ("web", "db", 6379): False,        # in the cidr, but excepted; not a frontend
        ("cli", "db", 6379): tcp_only,     # in the cidr
        ("cli", "db", 80): False,          # port
        ("db", "web", 8080): tcp_only,     # egress rule
        ("db", "cli", 8080): tcp_only,
        ("db", "web", 80): False,
        ("web", "cli", 80): True,          # neither isolated
    })


def test_ipblock_v4_except_nested(cgworld, tmp_path):
    three(cgworld)
    # cidr /29 except /31 (.2-.3): web (.1) allowed, db (.2) and cli (.3) not.
    p = policy_file(tmp_path, "p.yaml", [netpol(
        "web", "prod", pod={"matchLabels": {"app": "web"}},
        ingress=[{"from": [{"ipBlock": {"cidr": "127.77.0.0/29", "except": ["127.77.0.2/31"]}}]}]),
        netpol("cli-in", "dev", ingress=[{"from": [{"ipBlock": {"cidr": "127.77.0.0/29",
                                                                "except": ["127.77.0.2/31"]}}]}])])
    check_table(cgworld, [p], {("db", "web", 80): False, ("cli", "web", 80): False,
                               ("web", "cli", 80): True, ("db", "cli", 80): False})


def test_port_range_endport(cgworld, tmp_path):
    three(cgworld)
    p = policy_file(tmp_path, "p.yaml", [netpol(
        "multi-port-egress", "prod", pod={"matchLabels": {"app": "web"}}, types=["Egress"],
        egress=[{"to": [{"ipBlock": {"cidr": "127.77.0.0/24"}}],
                 "ports": [{"protocol": "TCP", "port": 32000, "endPort": 32768},
                           {"protocol": "UDP", "port": 80}]}])])
    check_table(cgworld, [p], {
        ("web", "db", 32000): {"TCP": True, "UDP": False},
        ("web", "db", 32769): False,
        ("web", "db", 80): {"TCP": False, "UDP": True},
        ("db", "web", 32769): True,
    })


def test_named_ports(cgworld, tmp_path):
    three(cgworld)   # web: http = 8080
    p = policy_file(tmp_path, "p.yaml", [
        netpol("web-http", "prod", pod={"matchLabels": {"app": "web"}},
               ingress=[{"ports": [{"port": "http"}]}]),
        # egress: the name resolves on the destination (cli has no "http")
        netpol("db-out", "prod", pod={"matchLabels": {"app": "db"}}, types=["Egress"],
               egress=[{"ports": [{"port": "http"}]}])])
    tcp_only = {"TCP": True, "UDP": False}
    check_table(cgworld, [p], {
        ("cli", "web", 8080): tcp_only,
        ("cli", "web", 80): False,
        ("db", "web", 8080): tcp_only,
        ("db", "cli", 8080): False,
        ("web", "cli", 8080): True,
    })


def test_netns_hosts_tc(nsworld, tmp_path):
    """Test hosts in their own network namespaces: TC on their host-side veths."""
    three(nsworld)
    p = policy_file(tmp_path, "p.yaml", [
        netpol("default-deny-ingress", "prod", types=["Ingress"]),
        netpol("web-from-db", "prod", pod={"matchLabels": {"app": "web"}},
               ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "db"}}}],
                         "ports": [{"port": 80}, {"port": 80, "protocol": "UDP"}]}])])
    events, _ = check_table(nsworld, [p], {
        ("db", "web", 80): True,      # replies come back through web's egress: conntrack
        ("db", "web", 6379): False,
        ("cli", "web", 80): False,
        ("web", "db", 80): False,
        ("web", "cli", 80): True,
    })
    assert {x["observation_point"] for x in events} == {"tc"}
    allowed = [x for x in events if x["verdict"] == "FORWARDED" and x["policies"]]
    assert any(p["name"] == "web-from-db" for x in allowed for p in x["policies"])


def test_netns_ipv6_ipblock_except(nsworld, tmp_path):
    three(nsworld)   # web fd00:ebee:1::1, db fd00:ebee:2::1, cli fd00:ebee:3::1
    p = policy_file(tmp_path, "p.yaml", [netpol(
        "web-v6", "prod", pod={"matchLabels": {"app": "web"}},
        ingress=[{"from": [{"ipBlock": {"cidr": "fd00:ebee::/32", "except": ["fd00:ebee:2::/48"]}}]}])])
    events, _ = check_table(nsworld, [p], {("db", "web", 80): False, ("cli", "web", 80): True,
                                           ("web", "db", 80): True}, v6=True)
    assert events and all(x["IP"]["ipVersion"] == "IPv6" for x in events)


def test_audit_drops_nothing(cgworld, tmp_path):
    three(cgworld)
    p = policy_file(tmp_path, "p.yaml", [netpol("default-deny-ingress", "prod", types=["Ingress"])])
    events, _ = check_table(cgworld, [p], all_pairs(["web", "db", "cli"], [80], lambda *a: True),
                            extra=["--audit"])
    new = [x for x in events if x["event"] == "new" and x["traffic_direction"] == "INGRESS"]
    audit = {(x["source"]["pod_name"], x["destination"]["pod_name"]) for x in new
             if x["verdict"] == "AUDIT"}
    # AUDIT exactly where enforce mode drops: everything into prod.
    want = {(s, d) for s in ["web", "db", "cli"] for d in ["web", "db"] if s != d}
    assert audit == want
    assert not any(x["verdict"] == "DROPPED" for x in events)


def test_aggregation_and_summary(cgworld, tmp_path):
    three(cgworld)
    p = policy_file(tmp_path, "p.yaml", [netpol(
        "web", "prod", pod={"matchLabels": {"app": "web"}},
        ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "db"}}}]}])])
    e = apply(cgworld, [p], interval=60)
    try:
        assert cgworld["db"].run("stream", cgworld["db"].addr, cgworld["web"].addr, 80, 1000).startswith("done")
    finally:
        e.stop()
    flows = [x for x in e.json() if x.get("type") != "summary"
             and x["IP"]["destination"] == cgworld["web"].addr and
             x["l4"]["TCP"]["destination_port"] == 80]
    by_point = {}
    for x in flows:
        by_point.setdefault(x["traffic_direction"], []).append(x)
    # 1000 round trips are 2000+ packets per side; events: new (SYN), then FIN (and maybe RST).
    for d, xs in by_point.items():
        assert 1 <= len(xs) <= 3, f"{d}: {len(xs)} events for one connection: {xs}"
        assert xs[0]["event"] == "new"
    total = sum(x["packets"] for x in by_point["INGRESS"])
    assert total >= 2000
    summary = [x for x in e.json() if x.get("type") == "summary"]
    assert len(summary) == 1 and summary[0]["collector"] == "policy"
    assert summary[0]["lost"] == 0 and summary[0]["events"] == len(e.json()) - 1
    assert set(summary[0]) >= {"type", "collector", "events", "lost", "missed", "duration_s"}


def test_sigkill_leaves_no_workload_cut_off(cgworld, tmp_path):
    three(cgworld)
    p = policy_file(tmp_path, "p.yaml", [netpol("deny", "prod", types=["Ingress", "Egress"])])
    e = apply(cgworld, [p])
    assert cgworld["cli"].probe([(cgworld["web"], "TCP", 80)]) == [False]
    progs, links = set(e.progs), set(e.links)
    e.proc.kill()
    e.wait()
    assert_clean(progs, links)
    assert cgworld["cli"].probe([(cgworld["web"], "TCP", 80)]) == [True]
    # Its verdict socket file stays until the next apply or flows sweeps it.
    sock = f"/run/ebee/policy/{e.proc.pid}.sock"
    assert os.path.exists(sock)
    run(["policy", "flows", "--duration", "0.1"])
    assert not os.path.exists(sock)


def test_fixture_failing_during_setup_cleans_up(tmp_path):
    w = World(tmp_path, "netns")
    w.add("a")
    w.add("b")
    w.wl[1].addr = "not-an-address"   # the server of b cannot bind: setup fails midway
    try:
        with pytest.raises(AssertionError):
            w.setup()
        assert leftovers(), "setup should have created something before failing"
    finally:
        w.close()
    assert not leftovers()


# ---- check and bad input ----

def test_check_selects_and_isolation(cgworld, tmp_path):
    three(cgworld)
    p = policy_file(tmp_path, "p.yaml", [netpol("default-deny-ingress", "prod", types=["Ingress"]),
                                         netpol("db-out", "prod", pod={"matchLabels": {"role": "db"}},
                                                egress=[{}])])
    r = run(["policy", "check", "-f", p, "--workloads", cgworld.workloads_file(), "--json"], check=0)
    rows = {(x["kind"], x["name"]): x for x in json_lines(r.stdout)}
    assert rows[("policy", "default-deny-ingress")]["selects"] == "prod/web,prod/db"
    assert rows[("policy", "db-out")]["egress"] == "yes"
    assert (rows[("workload", "db")]["ingress"], rows[("workload", "db")]["egress"]) == ("isolated", "isolated")
    assert (rows[("workload", "web")]["ingress"], rows[("workload", "web")]["egress"]) == ("isolated", "open")
    assert (rows[("workload", "cli")]["ingress"], rows[("workload", "cli")]["egress"]) == ("open", "open")


BAD = [
    ("kind: NetworkPolicy\napiVersion: networking.k8s.io/v1\nmetadata: {name: a\n", "invalid YAML", 4),
    ("apiVersion: networking.k8s.io/v2\nkind: NetworkPolicy\n", "unknown apiVersion", 1),
    ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolcy\n", "unknown kind", 2),
    ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a}\nspec:\n"
     "  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.0/33}\n", "invalid cidr", 8),
    ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a}\nspec:\n"
     "  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock:\n        cidr: 10.0.0.0/8\n"
     "        except: [11.0.0.0/16]\n", "is not inside cidr", 10),
    ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a}\nspec:\n"
     "  podSelector: {}\n  egress:\n  - ports:\n    - {port: 32000, endPort: 31000}\n", "below port", 8),
    ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a, namespace: prod}\nspec:\n"
     "  podSelector: {}\n  ingress:\n  - ports:\n    - port: grpc\n", "named port 'grpc/TCP' unknown", 8),
    ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a}\nspec:\n"
     "  podSelector:\n    matchExpressions:\n    - {key: app, operator: Inn, values: [a]}\n",
     "did you mean 'In'", 7),
    ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a}\nspec:\n"
     "  podselector: {}\n", "did you mean 'podSelector'", 5),
]


@pytest.mark.parametrize("text,msg,line", BAD, ids=[b[1] for b in BAD])
def test_bad_input_exit_2_with_file_line(cgworld, tmp_path, text, msg, line):
    three(cgworld)
    path = os.path.join(tmp_path, "bad.yaml")
    with open(path, "w") as f:
        f.write(text)
    for cmd in ("check", "apply"):
        r = run(["policy", cmd, "-f", path, "--workloads", cgworld.workloads_file()])
        assert r.returncode == 2, r.stderr
        err = r.stderr.strip().splitlines()
        assert len(err) == 1 and msg in err[0] and f"bad.yaml:{line}:" in err[0], err


def test_whatif_replays_recorded_flows(cgworld, tmp_path):
    three(cgworld)
    # Record with nothing isolated (a policy that selects no workload).
    none = policy_file(tmp_path, "none.yaml", [netpol("nobody", "prod",
                                                      pod={"matchLabels": {"app": "nobody"}})])
    table = all_pairs(["web", "db", "cli"], [80], lambda *a: True)
    events, e = check_table(cgworld, [none], table, protos=("TCP",))
    rec = os.path.join(tmp_path, "flows.ndjson")
    with open(rec, "w") as f:
        f.write(e.stdout)
    deny = policy_file(tmp_path, "deny.yaml", [netpol("default-deny-ingress", "prod", types=["Ingress"])])
    r = run(["policy", "whatif", "-f", deny, "--workloads", cgworld.workloads_file(), "--flows", rec,
             "--json"], check=0)
    rows = json_lines(r.stdout)
    assert len(rows) == 6, r.stdout   # one per connection, replies and repeats folded
    would = {(x["src"].split("/")[1], x["dst"].split("/")[1]): x["verdict"] for x in rows}
    assert would == {(s, d): "DROPPED" if d != "cli" else "FORWARDED"
                     for s in ["web", "db", "cli"] for d in ["web", "db", "cli"] if s != d}
    assert all(x["recorded"] == "FORWARDED" for x in rows)
    bad = os.path.join(tmp_path, "bad.ndjson")
    with open(bad, "w") as f:
        f.write('{"IP": {"source": "1.2.3.4"}}\n')
    r = run(["policy", "whatif", "-f", deny, "--workloads", cgworld.workloads_file(), "--flows", bad])
    assert r.returncode == 2 and "bad.ndjson:1:" in r.stderr


def test_flows_follows_a_running_apply(cgworld, tmp_path):
    three(cgworld)
    p = policy_file(tmp_path, "p.yaml", [netpol("default-deny-ingress", "prod", types=["Ingress"])])
    e = apply(cgworld, [p])
    followers = [Ebee(["policy", "flows", "--pid", str(e.proc.pid)] + mode) for mode in (["--json"], [])]
    for f in followers:
        f.start(min_progs=0, settle=0.5)
    try:
        got = cgworld.matrix([("cli", "web", 80), ("web", "cli", 80)], ("TCP",))
        assert got == {("cli", "web", "TCP", 80): False, ("web", "cli", "TCP", 80): True}
    finally:
        e.stop()
    for f in followers:
        assert f.wait(timeout=10) == 0, f.stderr   # ends with the apply
    applied = [x for x in e.json() if x.get("type") != "summary"]
    assert applied and followers[0].json() == applied
    table = followers[1].stdout.splitlines()
    assert table[0].split()[:3] == ["TIME", "VERDICT", "DIR"]
    assert sum("DROPPED" in l and "web" in l for l in table) == sum(x["verdict"] == "DROPPED" for x in applied)
    r = run(["policy", "flows", "--pid", "1"])
    assert r.returncode == 2 and "no 'ebee policy apply' with pid 1" in r.stderr


def test_lost_events_counted_and_reported(cgworld, tmp_path):
    three(cgworld)
    p = policy_file(tmp_path, "p.yaml", [netpol("default-deny-ingress", "prod", types=["Ingress"])])
    # One page of ring (about 26 events) against 900 new flows sent in a burst.
    e = apply(cgworld, [p], env=dict(os.environ, EBEE_POLICY_RING_BYTES="4096"))
    try:
        cgworld["cli"].run("udpburst", cgworld["cli"].addr, cgworld["web"].addr, 80, 900)
    finally:
        e.stop()
    summary = [x for x in e.json() if x.get("type") == "summary"][0]
    # every new flow is an event at cli's egress and at web's ingress: seen or counted lost
    assert summary["lost"] > 0
    assert summary["events"] + summary["lost"] >= 2 * 900
    # told in the stream as they happen (Hubble's LostEvent), all of them, and warned
    told = [x for x in e.json() if x.get("type") == "lost_events"]
    assert told and sum(x["num_events_lost"] for x in told) == summary["lost"]
    assert f"lost {summary['lost']} events (verdict events" in e.stderr


def test_vanishing_workload_is_a_warning(cgworld, tmp_path):
    three(cgworld)
    p = policy_file(tmp_path, "p.yaml", [netpol("default-deny-ingress", "prod", types=["Ingress"])])
    e = apply(cgworld, [p])
    try:
        db = cgworld["db"]
        db.server.kill()
        db.server.wait()
        for _ in range(100):
            try:
                os.rmdir(db.cgroup)
                break
            except OSError:
                time.sleep(0.05)
        deadline = time.time() + 10
        while "disappeared" not in "".join(e._err) and time.time() < deadline:
            time.sleep(0.1)
        # the others stay enforced
        got = cgworld.matrix([("cli", "web", 80), ("web", "cli", 80)], ("TCP",))
        assert got == {("cli", "web", "TCP", 80): False, ("web", "cli", "TCP", 80): True}
        assert e.proc.poll() is None
    finally:
        e.stop()
    assert "workload 'prod/db' disappeared" in e.stderr


def test_clsact_fallback_and_cleanup_after_sigkill(nsworld, tmp_path):
    """Without TCX (EBEE_DISABLE=tcx, as before 6.6): clsact filters on both sides of each veth,
    removed on exit; after a SIGKILL they stay until `ebee cleanup`."""
    three(nsworld)
    p = policy_file(tmp_path, "p.yaml", [netpol("default-deny-ingress", "prod", types=["Ingress"])])
    env = dict(os.environ, EBEE_DISABLE="tcx")
    veths = [f"{PREFIX}h{w.i}" for w in nsworld.wl]

    def filters():
        out = []
        for v in veths:
            for d in ("ingress", "egress"):
                r = subprocess.run(["ip", "netns", "exec", nsworld.router, "tc", "filter", "show",
                                    "dev", v, d], capture_output=True, text=True)
                out += [l for l in r.stdout.splitlines() if "ebee_pol" in l]
        return out

    e = apply(nsworld, [p], env=env)
    assert len(filters()) == 2 * len(veths)
    assert nsworld["cli"].probe([(nsworld["web"], "TCP", 80)]) == [False]
    e.stop()
    assert filters() == []
    e = apply(nsworld, [p], env=env)
    e.proc.kill()
    e.wait()
    assert len(filters()) == 2 * len(veths)   # a killed run cannot remove netlink filters
    r = subprocess.run(nsworld.ebee_prefix() + [EBEE, "cleanup", "--json"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert filters() == []
    assert nsworld["cli"].probe([(nsworld["web"], "TCP", 80)]) == [True]
    run(["policy", "flows", "--duration", "0.1"])   # sweeps the killed run's socket file
    assert not os.path.exists(f"/run/ebee/policy/{e.proc.pid}.sock")


def test_missing_workload_is_a_usage_error(tmp_path):
    wf = os.path.join(tmp_path, "w.yaml")
    p = policy_file(tmp_path, "p.yaml", [netpol("deny", types=["Ingress"])])
    for body, msg in (
            ("- {name: a, cgroup: /, addresses: [127.77.9.1]}\n"
             f"- {{name: b, cgroup: /sys/fs/cgroup/unified/{PREFIX}-none, addresses: [127.77.9.2]}}\n",
             "cgroup '/sys/fs/cgroup/unified/"),
            (f"- {{name: c, netns: {PREFIX}-none}}\n", "network namespace '")):
        with open(wf, "w") as f:
            f.write("workloads:\n" + body)
        r = run(["policy", "apply", "-f", p, "--workloads", wf])
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and msg in r.stderr, r.stderr
