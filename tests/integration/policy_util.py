"""Workloads for the policy tests: processes in cgroups the test creates (addresses in
127.0.0.0/8) or test hosts in network namespaces behind a router namespace (10.213.0.0/16, which
never leaves these namespaces). Every name starts with "ebpol" plus this process's id; World.close()
removes everything and is called on every path, a failing setup included."""
import json
import os
import subprocess
import sys
import time

import pytest
import yaml

PREFIX = f"ebpol{os.getpid() % 100000}"
CGROOT = "/sys/fs/cgroup/unified"
AGENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "policy_agent.py")
PORTS = [80, 6379, 8080, 32000, 32769]
PY = sys.executable


def sh(*args, check=True):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if check and p.returncode:
        raise AssertionError(f"{' '.join(map(str, args))}: exit {p.returncode}\n{p.stdout}{p.stderr}")
    return p


def leftovers():
    """Netns and cgroups named like this process's, for the cleanup checks."""
    ns = [l.split()[0] for l in sh("ip", "netns", "list").stdout.splitlines()
          if l.startswith(PREFIX)]
    cg = [d for d in os.listdir(CGROOT) if d.startswith(PREFIX)] if os.path.isdir(CGROOT) else []
    return ns + cg


class Workload:
    def __init__(self, world, i, name, ns, labels, ports):
        self.world, self.i, self.name, self.ns = world, i, name, ns
        self.labels, self.ports = labels or {}, ports or {}
        self.server = None
        if world.kind == "cgroup":
            self.addr = f"127.77.0.{i + 1}"
            self.cgroup = os.path.join(CGROOT, f"{PREFIX}-{name}")
        else:
            self.addr = f"10.213.{i + 1}.1"
            self.addr6 = f"fd00:ebee:{i + 1}::1"
            self.netns = f"{PREFIX}-{name}"

    def _prefix(self):
        return [] if self.world.kind == "cgroup" else ["ip", "netns", "exec", self.netns]

    def _enter(self):
        # In the child, before exec: join the workload's cgroup.
        if self.world.kind == "cgroup":
            with open(os.path.join(self.cgroup, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))

    def spawn(self, *args, **kw):
        return subprocess.Popen(self._prefix() + [PY, AGENT] + [str(a) for a in args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=self._enter, **kw)

    def run(self, *args, timeout=30):
        p = self.spawn(*args)
        out, err = p.communicate(timeout=timeout)
        assert p.returncode == 0, f"agent {args}: exit {p.returncode}\n{out}\n{err}"
        return out

    def probe(self, tries, timeout=1.0):
        """tries: [(workload, "TCP"|"UDP", port)] -> list of bools."""
        spec = [[w.addr, proto, port] for w, proto, port in tries]
        return json.loads(self.run("probe", self.addr, timeout, json.dumps(spec)))

    def spec(self):
        d = {"name": self.name, "namespace": self.ns, "labels": self.labels}
        if self.ports:
            d["ports"] = self.ports
        if self.world.kind == "cgroup":
            d["cgroup"] = self.cgroup
            d["addresses"] = [self.addr]
        else:
            d["netns"] = self.netns
        return d


class World:
    def __init__(self, tmp_path, kind="cgroup"):
        self.tmp, self.kind = tmp_path, kind
        self.wl, self.nss = [], {}
        self.router = f"{PREFIX}-r"
        self.made_ns, self.made_cg = [], []

    def namespace(self, name, labels=None):
        self.nss[name] = labels or {}

    def add(self, name, ns="default", labels=None, ports=None):
        w = Workload(self, len(self.wl), name, ns, labels, ports)
        self.wl.append(w)
        return w

    def __getitem__(self, name):
        return next(w for w in self.wl if w.name == name)

    def setup(self):
        if self.kind == "netns":
            sh("ip", "netns", "add", self.router)
            self.made_ns.append(self.router)
            sh("ip", "netns", "exec", self.router, "sysctl", "-qw", "net.ipv4.ip_forward=1",
               "net.ipv6.conf.all.forwarding=1")
            sh("ip", "-n", self.router, "link", "set", "lo", "up")
        for w in self.wl:
            if self.kind == "cgroup":
                os.mkdir(w.cgroup)
                self.made_cg.append(w.cgroup)
            else:
                veth = f"{PREFIX}h{w.i}"
                sh("ip", "netns", "add", w.netns)
                self.made_ns.append(w.netns)
                sh("ip", "link", "add", veth, "netns", self.router, "type", "veth", "peer", "name",
                   "eth0", "netns", w.netns)
                sh("ip", "-n", self.router, "addr", "add", f"10.213.{w.i + 1}.254/24", "dev", veth)
                sh("ip", "-n", self.router, "link", "set", veth, "up")
                sh("ip", "-n", w.netns, "addr", "add", f"{w.addr}/24", "dev", "eth0")
                sh("ip", "-n", w.netns, "link", "set", "eth0", "up")
                sh("ip", "-n", w.netns, "link", "set", "lo", "up")
                sh("ip", "-n", w.netns, "route", "add", "default", "via", f"10.213.{w.i + 1}.254")
                # IPv6 too, without duplicate address detection (no wait, no extra packets)
                sh("ip", "-n", self.router, "addr", "add", f"fd00:ebee:{w.i + 1}::fe/64", "dev", veth, "nodad")
                sh("ip", "-n", w.netns, "addr", "add", f"{w.addr6}/64", "dev", "eth0", "nodad")
                sh("ip", "-n", w.netns, "-6", "route", "add", "default", "via", f"fd00:ebee:{w.i + 1}::fe")
            w.server = w.spawn("serve", "::" if self.kind == "netns" else w.addr, *PORTS)
            line = w.server.stdout.readline()
            assert line.strip() == "ready", f"server of {w.name}: {line}{w.server.stderr.read()}"
        return self

    def workloads_file(self):
        doc = {"namespaces": [{"name": n, "labels": l} for n, l in self.nss.items()],
               "workloads": [w.spec() for w in self.wl]}
        path = os.path.join(self.tmp, "workloads.yaml")
        with open(path, "w") as f:
            yaml.safe_dump(doc, f)
        return path

    def ebee_prefix(self):
        """How ebee runs: in the router namespace for netns workloads (their veths are there)."""
        return [] if self.kind == "cgroup" else ["nsenter", f"--net=/run/netns/{self.router}"]

    def matrix(self, pairs, protos=("TCP", "UDP"), timeout=1.0, v6=False):
        """{(src, dst, proto, port): connected} for pairs [(src, dst, port)], every src probing
        in parallel (over IPv6 with v6, netns workloads only)."""
        by_src = {}
        for s, d, port in pairs:
            for proto in protos:
                by_src.setdefault(s, []).append((self[d], proto, port))
        res = {}
        a = (lambda w: w.addr6) if v6 else (lambda w: w.addr)
        procs = {s: self[s].spawn("probe", a(self[s]), timeout,
                                  json.dumps([[a(w), pr, p] for w, pr, p in t]))
                 for s, t in by_src.items()}
        for s, p in procs.items():
            out, err = p.communicate(timeout=60)
            assert p.returncode == 0, err
            for (w, pr, port), ok in zip(by_src[s], json.loads(out)):
                res[(s, w.name, pr, port)] = ok
        return res

    def close(self):
        for w in self.wl:
            if w.server and w.server.poll() is None:
                w.server.kill()
                w.server.wait()
        for cg in reversed(self.made_cg):
            # Processes may take a moment to leave a cgroup after being reaped.
            for _ in range(50):
                try:
                    os.rmdir(cg)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)
        for ns in reversed(self.made_ns):
            sh("ip", "netns", "del", ns, check=False)
        self.made_cg, self.made_ns = [], []


def policy_file(tmp_path, name, docs):
    path = os.path.join(tmp_path, name)
    with open(path, "w") as f:
        yaml.safe_dump_all(docs, f)
    return path


def netpol(name, ns="default", pod=None, types=None, ingress=None, egress=None):
    spec = {"podSelector": pod if pod is not None else {}}
    if types:
        spec["policyTypes"] = types
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def world_fixture(kind):
    """A pytest fixture: a World of this kind (cgroup or netns), closed on every path."""
    @pytest.fixture
    def fixture(tmp_path):
        if kind == "cgroup" and not os.path.exists(os.path.join(CGROOT, "cgroup.procs")):
            pytest.skip("no cgroup2 at " + CGROOT)
        w = World(tmp_path, kind)
        try:
            yield w
        finally:
            w.close()
    return fixture
