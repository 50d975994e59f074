"""Loopback TCP traffic for the `ebee tcp` tests: a server in its own process (so that the
owner of accepted sockets differs from the client's) and a client in the test process.

Server: `python3 tcp_util.py HOST PORT RX:TX[:DELAY] ...` waits for a line on stdin (so that a
test can start a tracer for its pid first), listens, prints "ready", then per
connection receives exactly RX bytes, sends TX bytes, waits for the client's EOF, sleeps DELAY
seconds and closes; it prints one JSON line per connection and exits after the last one.
"""
import json
import os
import random
import re
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER_COMM = "ebtcp_srv"
# IPv4 tests use their own loopback addresses (all of 127.0.0.0/8 is local), so that an
# in-kernel --laddr filter selects exactly this test's traffic: a /24 of this test process
# (others run the suite on the same machine at the same time; the policy tests use 127.77.0.x
# and 127.77.9.x), so that counts without a port filter count this run's sockets only.
_NET = 100 + os.getpid() % 128
V4_NET = f"127.77.{_NET}.0/24"
V4_SERVER = f"127.77.{_NET}.1"
V4_CLIENT = f"127.77.{_NET}.2"
V6_SERVER = V6_CLIENT = "::1"


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def free_port(host, avoid=()):
    """A free port for `host`, below the ephemeral range (32768-60999) so that no client
    socket on the machine can be holding it, and below the peers harness's 61000-64999; never
    one of `avoid` (a port the test used and closed is free again)."""
    for _ in range(200):
        port = random.randint(20000, 32767)
        if port in avoid:
            continue
        s = socket.socket(family_of(host), socket.SOCK_STREAM)
        try:
            s.bind((host, port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free port")


def attached(e, timeout=20.0):
    """Waits until a started ebee holds its BPF link (the program is attached, not just
    loaded): on a loaded machine the gap can pass the fixture's fixed settle time."""
    from conftest import bpf_ids
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if bpf_ids(e.proc.pid, "link_id"):
            return e
        assert e.proc.poll() is None, f"ebee exited {e.proc.returncode}"
        time.sleep(0.02)
    raise AssertionError("ebee did not attach its program")


def settle(*ports, timeout=10.0):
    """Waits until no socket on these ports is still closing. The last transitions of a
    connection (the peer's FIN, the final ACK) run in softirq, which a loaded machine defers to
    ksoftirqd: they can come after the test's own calls have returned."""
    want = {f"{p:04X}" for p in ports}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = False
        for path in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(path) as f:
                for line in f.readlines()[1:]:
                    fields = line.split()
                    lport, rport, st = fields[1][-4:], fields[2][-4:], fields[3]
                    if (lport in want or rport in want) and st not in ("06", "07"):
                        busy = True   # anything but TIME_WAIT / CLOSE
        if not busy:
            # The kernel makes the TIME_WAIT mini socket visible before the full socket's own
            # FIN_WAIT2 -> CLOSE transition (tcp_time_wait: hashdance, then tcp_done), and a
            # loaded machine may run that part a little later: leave it a moment.
            time.sleep(0.25)
            return
        time.sleep(0.05)
    raise AssertionError(f"connections on ports {ports} still closing after {timeout} s")


def init_private():
    """kernel.init_private, a sysctl of this sandbox's kernel (not mainline): 1 makes the kernel
    run no BPF tracing program loaded by another process while a thread of PID 1 is current
    (bpf_trace_run*, trace_call_bpf), without counting the skip anywhere. Softirq work runs on
    top of whatever task it interrupts, so a connection's last transitions can land there."""
    try:
        with open("/proc/sys/kernel/init_private") as f:
            return f.read().strip() == "1"
    except OSError:
        return False


class KernelWitness:
    """An ftrace instance of the test's own recording sock:inet_sock_set_state on its ports,
    each call with the process that was current (record-tgid): ftrace's probe is no BPF program,
    so it sees the calls the init_private gate hides from ebee. close() removes it."""
    _n = 0

    def __init__(self, ports):
        base = "/sys/kernel/tracing" if os.path.isdir("/sys/kernel/tracing/instances") \
            else "/sys/kernel/debug/tracing"
        KernelWitness._n += 1
        self.dir = f"{base}/instances/ebee_tcp_test_{os.getpid()}_{KernelWitness._n}"
        os.mkdir(self.dir)
        try:
            ev = self.dir + "/events/sock/inet_sock_set_state/"
            self._write("buffer_size_kb", "256")
            self._write("options/record-tgid", "1")
            self._write(ev + "filter", " || ".join(f"sport == {p} || dport == {p}" for p in ports))
            self._write(ev + "enable", "1")
        except BaseException:
            self.close()
            raise

    def _write(self, name, value):
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(value)

    def calls(self):
        """[(tgid, sport, dport, oldstate, newstate)] in the order the kernel made them."""
        with open(self.dir + "/trace") as f:
            text = f.read()
        return [(m[0], int(m[1]), int(m[2]), m[3], m[4]) for m in re.findall(
            r"^\s*.*?-\d+\s+\(\s*(\S+)\)\s+\[\d+\].*?inet_sock_set_state: .*?sport=(\d+) "
            r"dport=(\d+) .*?oldstate=TCP_(\w+) newstate=TCP_(\w+)", text, re.M)]

    def hidden(self):
        """The calls made while a thread of PID 1 was current: with init_private on, no BPF
        program of ebee's ran for them and the kernel counted nothing."""
        return [c[1:] for c in self.calls() if c[0] == "1"]

    def close(self):
        if self.dir and os.path.isdir(self.dir):
            try:
                self._write("events/sock/inet_sock_set_state/enable", "0")
            finally:
                os.rmdir(self.dir)
        self.dir = None


def recv_exact(s, n):
    got = 0
    while got < n:
        b = s.recv(min(65536, n - got))
        if not b:
            raise EOFError(f"peer closed after {got} of {n} bytes")
        got += len(b)
    return got


class Server:
    """The server process; plan = [(rx, tx, delay), ...] one per connection."""

    def __init__(self, host, port, plan, listen=True):
        args = [f"{rx}:{tx}:{d}" for rx, tx, d in plan]
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "tcp_util.py"), host,
                                      str(port), *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.pid = self.proc.pid
        if listen:
            self.listen()

    def listen(self):
        try:
            self.proc.stdin.write("go\n")
            self.proc.stdin.close()
            self.proc.stdin = None   # closed: communicate() must not flush it
            line = self.proc.stdout.readline()
            assert line.strip() == "ready", f"server did not start: {line!r}"
        except BaseException:
            self.kill()
            raise

    def wait(self, timeout=30):
        # communicate, not stdout.read(): a server that never finishes must not hang the test,
        # and one that is given up on is killed.
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        finally:
            self.kill()
        assert self.proc.returncode == 0, out
        return [json.loads(l) for l in out.splitlines() if l.startswith("{")]


    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def client(host, port, send, expect, hold=0.0, bind=None):
    """One connection: send `send` bytes, read `expect`, hold, close (client closes first).
    Returns (local port, seconds from connect() to close())."""
    s = socket.socket(family_of(host), socket.SOCK_STREAM)
    if bind:
        s.bind((bind, 0))
    t0 = time.monotonic()
    s.connect((host, port))
    lport = s.getsockname()[1]
    s.sendall(b"c" * send)
    recv_exact(s, expect)
    if hold:
        time.sleep(hold)
    s.close()
    return lport, time.monotonic() - t0


def refused(host, port, bind=None):
    """A connection to a port that is bound but not listening: refused by a reset."""
    holder = socket.socket(family_of(host), socket.SOCK_STREAM)
    holder.bind((host, port))
    s = socket.socket(family_of(host), socket.SOCK_STREAM)
    if bind:
        s.bind((bind, 0))
    try:
        s.connect((host, port))
        raise AssertionError("connection to a closed port succeeded")
    except ConnectionRefusedError:
        pass
    lport = s.getsockname()[1]
    s.close()
    holder.close()
    return lport


def _serve(host, port, plan):
    with open("/proc/self/comm", "w") as f:
        f.write(SERVER_COMM)
    sys.stdin.readline()
    ls = socket.socket(family_of(host), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port))
    ls.listen(64)
    print("ready", flush=True)
    for rx, tx, delay in plan:
        c, peer = ls.accept()
        t0 = time.monotonic()
        got = recv_exact(c, rx)
        c.sendall(b"s" * tx)
        while c.recv(65536):
            pass
        time.sleep(delay)
        c.close()
        print(json.dumps({"peer_port": peer[1], "rx": got, "tx": tx,
                          "secs": time.monotonic() - t0}), flush=True)
    ls.close()


if __name__ == "__main__":
    plan = []
    for a in sys.argv[3:]:
        rx, tx, d = (a.split(":") + ["0"])[:3]
        plan.append((int(rx), int(tx), float(d)))
    _serve(sys.argv[1], int(sys.argv[2]), plan)
