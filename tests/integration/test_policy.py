"""ebee policy: Kubernetes NetworkPolicy enforced on workloads the tests create, checked against
truth tables written from the Kubernetes documentation's examples (every pair tries TCP and UDP
on the relevant ports), plus verdict events, audit mode, aggregation and cleanup."""
import os
import signal
import subprocess
import time

import pytest

from conftest import Ebee, assert_clean, json_lines, run
from policy_util import PREFIX, World, leftovers, netpol, policy_file

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def cgroup2_ok():
    return os.path.exists("/sys/fs/cgroup/unified/cgroup.procs")


@pytest.fixture
def cgworld(tmp_path):
    if not cgroup2_ok():
        pytest.skip("no cgroup2 at /sys/fs/cgroup/unified")
    w = World(tmp_path, "cgroup")
    try:
        yield w
    finally:
        w.close()


@pytest.fixture
def nsworld(tmp_path):
    w = World(tmp_path, "netns")
    try:
        yield w
    finally:
        w.close()


def apply(world, files, extra=(), env=None):
    args = ["policy", "apply", "--workloads", world.workloads_file(), "--json", "-i", "5"]
    for f in files:
        args += ["-f", f]
    return Ebee(args + list(extra), env=env, prefix=world.ebee_prefix()).start()


def check_table(world, files, expect, protos=("TCP", "UDP")):
    """expect: {(src, dst, port): connects} for every protocol in protos. Returns the events."""
    e = apply(world, files)
    try:
        got = world.matrix(list(expect), protos)
    finally:
        e.stop()
    want = {(s, d, pr, p): ok for (s, d, p), ok in expect.items() for pr in protos}
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
    assert drops and all(x["traffic_direction"] == "INGRESS" and
                         x["policies"][0]["name"] == "default-deny-ingress" and
                         x["drop_reason_desc"] == "POLICY_DENIED" for x in drops)
