"""Test hosts for netwatch: a server network namespace with one veth per client namespace,
each client with its own IPv4 and IPv6 address. Every name starts with "ebnw" plus this
process's id, so concurrent runs never meet, and everything is deleted at the end. Static
neighbour entries and no DAD keep ARP/NDP out of the way, so a client's global addresses send
exactly the packets a test makes them send."""
import ipaddress
import json
import os
import subprocess
import time

from conftest import EBEE, Ebee

PREFIX = f"ebnw{os.getpid() % 100000}"
UDP_HDR = {4: 14 + 20 + 8, 6: 14 + 40 + 8}   # Ethernet + IP + UDP bytes per datagram
RAW_BYTES = 14 + 20 + 8 + 4                  # a datagram of send_raw, as the TC program sees it


def sh(*args, check=True, ns=None, **kw):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and p.returncode:
        raise AssertionError(f"{' '.join(cmd)}: exit {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


class Client:
    def __init__(self, lab, i):
        self.i = i
        self.ns = f"{lab.prefix}c{i}"
        self.srv_if = f"{lab.prefix}s{i}"
        self.v4 = f"10.213.{i}.2"
        self.v6 = str(ipaddress.ip_address(f"fd00:ebee:{i}::2"))
        self.srv_v4 = f"10.213.{i}.1"
        self.srv_v6 = str(ipaddress.ip_address(f"fd00:ebee:{i}::1"))

    def send_udp(self, family, count, size, port, src=None):
        """count datagrams of size payload bytes to the server."""
        dst = self.srv_v4 if family == 4 else self.srv_v6
        code = ("import socket,sys\n"
                f"s=socket.socket(socket.AF_INET{'6' if family == 6 else ''},socket.SOCK_DGRAM)\n"
                f"[s.sendto(b'x'*{size},('{dst}',{port})) for _ in range({count})]\n")
        sh("python3", "-c", code, ns=self.ns)

    def send_raw(self, sources, port=7000):
        """UDP datagrams of 4 payload bytes from crafted IPv4 sources (IP_HDRINCL): sources is
        a list of (address, datagrams), sent in that order."""
        code = f"""
import json, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
dst = socket.inet_aton('{self.srv_v4}')
k = 0
for a, n in json.load(sys.stdin):
    src = socket.inet_aton(a)
    for _ in range(n):
        udp = struct.pack('!HHHH', 40000, {port}, 8 + 4, 0) + b'ebee'
        ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), k & 0xffff, 0, 64, 17, 0, src, dst)
        s.sendto(ip + udp, ('{self.srv_v4}', 0))
        k += 1
"""
        sh("python3", "-c", code, ns=self.ns, input=json.dumps(list(sources)))

    def send_raw_sources(self, count, first="10.220.0.0", port=7000):
        """One UDP datagram from each of count distinct IPv4 sources."""
        base = ipaddress.IPv4Address(first)
        self.send_raw([(str(base + k), 1) for k in range(count)], port)


class Lab:
    def __init__(self, nclients=2, prefix=PREFIX):
        self.prefix = prefix
        self.srv = f"{prefix}srv"
        self.clients = []
        self.cleanup()
        # A failure half-way (e.g. `ip netns exec` refused in a chroot whose root is not a mount
        # point) raises before the fixture's yield, so its teardown never runs: undo here.
        try:
            sh("ip", "netns", "add", self.srv)
            sh("ip", "link", "set", "lo", "up", ns=self.srv)
            for i in range(nclients):
                self.add_client(i)
        except BaseException:
            self.cleanup()
            raise

    def add_client(self, i):
        c = Client(self, i)
        sh("ip", "netns", "add", c.ns)
        sh("ip", "-n", self.srv, "link", "add", c.srv_if, "type", "veth", "peer", "name", "eth0",
           "netns", c.ns)
        for ns, dev, mine, peer, peer6, mine6 in (
                (self.srv, c.srv_if, c.srv_v4, c.v4, c.v6, c.srv_v6),
                (c.ns, "eth0", c.v4, c.srv_v4, c.srv_v6, c.v6)):
            sh("sysctl", "-qw", f"net.ipv6.conf.{dev}.accept_dad=0", ns=ns, check=False)
            sh("ip", "-n", ns, "addr", "add", f"{mine}/24", "dev", dev)
            sh("ip", "-n", ns, "addr", "add", f"{mine6}/64", "dev", dev, "nodad")
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        mac = {ns: json.loads(sh("ip", "-n", ns, "-j", "link", "show", dev).stdout)[0]["address"]
               for ns, dev in ((self.srv, c.srv_if), (c.ns, "eth0"))}
        for ns, dev, other, a4, a6 in ((self.srv, c.srv_if, c.ns, c.v4, c.v6),
                                       (c.ns, "eth0", self.srv, c.srv_v4, c.srv_v6)):
            for a in (a4, a6):
                sh("ip", "-n", ns, "neigh", "replace", a, "lladdr", mac[other], "dev", dev,
                   "nud", "permanent")
        self.clients.append(c)
        return c

    def tc(self, *args, check=True):
        return sh("tc", *args, ns=self.srv, check=check)

    def qdiscs(self, dev):
        out = self.tc("-j", "qdisc", "show", "dev", dev).stdout
        return [q["kind"] for q in json.loads(out or "[]")]

    def filters(self, dev, direction="ingress"):
        out = self.tc("-j", "filter", "show", "dev", dev, direction, check=False).stdout
        return [f for f in json.loads(out or "[]") if "options" in f]

    def udp_sink(self, port):
        """A UDP socket (IPv4 and IPv6) in the server namespace; .count() stops it and returns
        how many datagrams were delivered to it: what passed the TC program."""
        code = ("import socket,select,sys\n"
                "s=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM)\n"
                "s.setsockopt(socket.IPPROTO_IPV6,socket.IPV6_V6ONLY,0)\n"
                "s.setsockopt(socket.SOL_SOCKET,socket.SO_RCVBUF,1<<22)\n"
                f"s.bind(('::',{port}))\nprint('ready',flush=True)\nn=0\n"
                "while True:\n"
                "  r,_,_=select.select([s,sys.stdin],[],[])\n"
                "  if sys.stdin in r: break\n"
                "  s.recv(65536); n+=1\n"
                "print(n,flush=True)\n")
        p = subprocess.Popen(["ip", "netns", "exec", self.srv, "python3", "-c", code],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert p.stdout.readline().strip() == "ready"
        except BaseException:
            p.kill()
            p.wait()
            raise

        class Sink:
            def count(self):
                time.sleep(0.2)
                try:
                    out, _ = p.communicate("stop\n", timeout=10)
                finally:
                    if p.poll() is None:
                        p.kill()
                        p.wait()
                return int(out.strip())
        return Sink()

    def ebee_args(self, *args):
        """Command line running ebee inside the server namespace (same pid: ip execs)."""
        return ["ip", "netns", "exec", self.srv, EBEE] + [str(a) for a in args]

    def cleanup(self):
        names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        for line in names.splitlines():
            name = line.split()[0] if line.split() else ""
            if name.startswith(self.prefix):
                subprocess.run(["ip", "netns", "del", name], capture_output=True)

    def close(self):
        self.cleanup()


class NsEbee(Ebee):
    """A long-running ebee in the lab's server namespace (`ip netns exec` execs ebee, so the
    pid is ebee's), with conftest's readiness wait and leftover checks."""

    def __init__(self, lab, args, env=None):
        super().__init__(args, env=env, prefix=["ip", "netns", "exec", lab.srv])
        self.lab = lab


def wait_until(pred, timeout=5.0, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def http(lab, url, method="GET", raw=None):
    """HTTP request from inside the server namespace (where serve listens on its loopback).
    Returns (status, body); raw sends bytes as is and returns the first response line."""
    if raw is not None:
        code = ("import socket,sys,urllib.parse as u\n"
                f"p=u.urlsplit({url!r})\n"
                "s=socket.create_connection((p.hostname,p.port),timeout=5)\n"
                f"s.sendall({raw!r})\n"
                "d=b''\n"
                "while True:\n"
                "  b=s.recv(65536)\n"
                "  if not b: break\n"
                "  d+=b\n"
                "sys.stdout.write(d.decode(errors='replace').split('\\r\\n')[0])\n")
        p = sh("python3", "-c", code, ns=lab.srv)
        return None, p.stdout
    code = ("import urllib.request as r,urllib.error as e,sys\n"
            f"q=r.Request({url!r},method={method!r},data=b'x=1' if {method!r}=='POST' else None)\n"
            "try:\n"
            "  o=r.urlopen(q,timeout=10); c=o.status; b=o.read()\n"
            "except e.HTTPError as x:\n"
            "  c=x.code; b=x.read()\n"
            "sys.stdout.write(str(c)+'\\n'+b.decode())\n")
    p = sh("python3", "-c", code, ns=lab.srv)
    status, _, body = p.stdout.partition("\n")
    return int(status), body


LABELS = """# test hosts of the netwatch tests
10.213.0.0/24      lab-amsterdam  52.37  4.90
fd00:ebee::/48     lab-amsterdam  52.37  4.90
10.213.1.0/24      lab-tokyo      35.68  139.69
fd00:ebee:1::/48   lab-tokyo      35.68  139.69
"""
