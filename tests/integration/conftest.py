"""Shared fixtures for the integration tests: they run the real ebee binary against the real
kernel. EBEE names the binary (build/ebee by default; the ASan pass sets build/asan/ebee).

Conventions every feature's tests follow:
- trigger their own workload and filter to their own pid / uid / netns / port;
- use `Ebee.start()` for long-running commands: it waits until the process holds BPF programs,
  and `stop()` sends SIGINT, reaps it, and asserts that every program and link it held is gone
  from the kernel (`ebee_leftovers`), which is what "leaves the kernel as it found it" means;
- a kernel feature that is missing skips with the reason, never fails.
"""
import json
import os
import signal
import subprocess
import threading
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EBEE = os.path.abspath(os.environ.get("EBEE", os.path.join(ROOT, "build", "ebee")))
# Under ASan a run is slower and leaks are reported at exit: keep the report visible.
SAN = "asan" in EBEE

# ebee honours a SIGINT, SIGTERM or SIGHUP it inherits as ignored (a background job of a script
# has SIGINT so, `nohup` SIGHUP). The tests stop ebee with SIGINT and reload serve with SIGHUP,
# so the children must not inherit that: a handler in this process becomes SIG_DFL in every
# child it execs. This process keeps ignoring what it was asked to ignore.
for _sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    if signal.getsignal(_sig) == signal.SIG_IGN:
        signal.signal(_sig, signal.default_int_handler if _sig == signal.SIGINT
                      else lambda *_: None)


def bpf_ids(pid, kind="prog_id"):
    """BPF object ids (prog_id or link_id) held through fds by one process."""
    ids = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fdinfo")
    except OSError:
        return ids
    for fd in fds:
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                for line in f:
                    if line.startswith(kind + ":"):
                        ids.add(int(line.split()[1]))
        except OSError:
            pass
    return ids


def _bpftool_ids(kind):
    # An object freed while bpftool walks the ids shows up as {"error": ...} without an id.
    out = subprocess.run(["bpftool", "-j", kind, "show"], capture_output=True, text=True)
    try:
        data = json.loads(out.stdout or "[]")
    except json.JSONDecodeError:
        return set()
    return {p["id"] for p in data if isinstance(p, dict) and "id" in p}


def loaded_prog_ids():
    return _bpftool_ids("prog")


def prog_names(pid, timeout=60):
    """The names of the BPF programs one process holds (bpftool: at most 15 characters), once
    every one has its link (a large program's verification can outlast a start's settle)."""
    deadline = time.time() + timeout
    progs = bpf_ids(pid)
    while not progs or len(bpf_ids(pid, "link_id")) < len(progs):
        assert time.time() < deadline, f"pid {pid}: {len(progs)} programs, not all attached"
        time.sleep(0.05)
        progs = bpf_ids(pid)
    names = set()
    for i in progs:
        p = subprocess.run(["bpftool", "-j", "prog", "show", "id", str(i)], capture_output=True,
                           text=True)
        if p.returncode == 0:
            names.add(json.loads(p.stdout).get("name", ""))
    return names


# A kernel without module support (no /proc/modules, no (f)init_module tracepoints): module-load
# attempts need --module-attempts there, as seeing them takes a program on the raw sys_exit
# (ev_sys_exit, the tp_btf dispatcher; ev_raw_exit_tp where tp_btf is not allowed).
NO_MODULES = not os.path.exists("/proc/modules") and not all(
    os.path.exists(f"/sys/kernel/tracing/events/syscalls/sys_enter_{n}")
    for n in ("init_module", "finit_module"))
RAW_SYS_EXIT = {"ev_sys_exit", "ev_raw_exit_tp"}


def loaded_link_ids():
    return _bpftool_ids("link")


def run(args, timeout=60, check=None, input=None, env=None):
    """Runs ebee to completion; returns CompletedProcess (text)."""
    p = subprocess.run([EBEE] + list(args), capture_output=True, text=True, timeout=timeout,
                       input=input, env=env)
    if check is not None:
        assert p.returncode == check, f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    return p


def _unique_keys(pairs):
    """A JSON object names each key once: ebee's output must not rely on last-one-wins."""
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), f"duplicate keys in {keys}"
    return dict(pairs)


def json_lines(text):
    return [json.loads(l, object_pairs_hook=_unique_keys)
            for l in text.splitlines() if l.strip().startswith("{")]


SUMMARY_KEYS = ("type", "collector", "events", "lost", "missed", "duration_s")


def data_rows(text):
    """The rows of a collector's --json output, its closing summary apart."""
    return [r for r in json_lines(text) if r.get("type") != "summary"]


def summary_row(text, collector=None):
    """The closing summary of a collector's --json run: the last line, in the one shape every
    collector shares ({"type":"summary","collector",...,"duration_s", extra keys})."""
    lines = json_lines(text)
    assert lines and lines[-1].get("type") == "summary", text[-2000:]
    assert sum(1 for r in lines if r.get("type") == "summary") == 1, text[-2000:]
    s = lines[-1]
    assert list(s)[:len(SUMMARY_KEYS)] == list(SUMMARY_KEYS), s
    assert all(isinstance(s[k], int) and s[k] >= 0 for k in ("events", "lost", "missed")), s
    assert isinstance(s["duration_s"], (int, float)) and s["duration_s"] >= 0, s
    if collector:
        assert s["collector"] == collector, s
    return s


_live = []   # every Ebee started by the current test: killed after it, pass or fail
_children = []   # every process the current test started (Popen, run): the same


class _TrackedPopen(subprocess.Popen):
    """subprocess.Popen (and so subprocess.run) remembering each child, so that a test that
    gives up half-way (an assertion, a timeout) never leaves a server, a peer tool or a
    workload running into the next test, whatever path it took."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        _children.append(self)


subprocess.Popen = _TrackedPopen


@pytest.fixture(autouse=True)
def _kill_leftover_ebee():
    del _children[:]
    yield
    while _live:
        _live.pop().kill()
    while _children:
        p = _children.pop()
        if p.poll() is None:
            p.kill()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass


class Ebee:
    """A long-running ebee (count, tcp states, netwatch, serve...). Its stdout and stderr are read
    by threads as they come, so a chatty command never blocks on a full pipe."""

    def __init__(self, args, env=None, prefix=None):
        self.args = list(args)
        self.env = env
        self.proc = None
        self.progs = set()
        self.links = set()
        self.stdout = self.stderr = ""
        self._out, self._err, self._threads = [], [], []
        self._pos = 0
        self.prefix = list(prefix or [])

    def _drain(self, stream, sink):
        # readline, not read(n): a text pipe's read(n) waits for n characters or EOF.
        for line in iter(stream.readline, ""):
            sink.append(line)

    def start(self, ready_timeout=20.0, min_progs=1, settle=0.3):
        # prefix: e.g. ["ip", "netns", "exec", NS] to run ebee in a network namespace (exec'd,
        # so the pid is still ebee's).
        self.proc = subprocess.Popen(self.prefix + [EBEE] + self.args, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=self.env,
                                     start_new_session=True)
        _live.append(self)
        for stream, sink in ((self.proc.stdout, self._out), (self.proc.stderr, self._err)):
            t = threading.Thread(target=self._drain, args=(stream, sink), daemon=True)
            t.start()
            self._threads.append(t)
        # Ready = it holds programs and its set of programs and links stopped changing for
        # `settle` seconds (links are created right after the load).
        deadline = time.time() + ready_timeout
        seen, since, held = None, None, 0
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self._join()
                raise AssertionError(f"ebee {self.args} exited {self.proc.returncode} before ready\n"
                                     f"{self.stdout}\n{self.stderr}")
            now = (frozenset(bpf_ids(self.proc.pid)), frozenset(bpf_ids(self.proc.pid, "link_id")))
            held = len(now[0])
            if held >= min_progs:
                if now != seen:
                    seen, since = now, time.time()
                elif time.time() - since >= settle:
                    self.progs, self.links = set(now[0]), set(now[1])
                    return self
            time.sleep(0.05)
        where = self._where()
        self.kill()
        raise AssertionError(f"ebee {self.args} did not load BPF programs in {ready_timeout}s "
                             f"(held {held} programs, wanted {min_progs}; "
                             f"{where})\n{self.stdout}\n{self.stderr}")

    def _where(self):
        # What a stuck start was doing: its state and kernel stack, so that a rare hang in a run
        # we cannot repeat names its cause (a lock, a sleep, a read) instead of "timed out".
        pid = self.proc.pid
        try:
            with open(f"/proc/{pid}/status") as f:
                state = next((l.split(None, 1)[1].strip() for l in f if l.startswith("State:")), "?")
            with open(f"/proc/{pid}/stack") as f:
                stack = " < ".join(l.split()[1].split("+")[0] for l in f if len(l.split()) > 1)
            return f"state {state}, kernel stack {stack or '(in user space)'}"
        except OSError as e:
            return f"no /proc view: {e.strerror}"

    def _join(self, timeout=10):
        self.proc.wait(timeout=timeout)
        for t in self._threads:
            t.join(timeout)
        self.stdout, self.stderr = "".join(self._out), "".join(self._err)

    def stop(self, sig=signal.SIGINT, timeout=30, check_clean=True):
        self.proc.send_signal(sig)
        try:
            self._join(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"ebee {self.args} did not exit {timeout}s after signal {sig}")
        if check_clean:
            assert_clean(self.progs, self.links)
        return self.proc.returncode

    def output(self):
        """What it printed so far (while running)."""
        return "".join(self._out)

    def readline(self, timeout=10.0):
        """The next whole line of stdout (waits for it), like proc.stdout.readline()."""
        deadline = time.time() + timeout
        while True:
            text = self.output()
            nl = text.find("\n", self._pos)
            if nl >= 0:
                line, self._pos = text[self._pos:nl + 1], nl + 1
                return line
            if time.time() > deadline or (self.proc.poll() is not None and not any(
                    t.is_alive() for t in self._threads)):
                return ""
            time.sleep(0.02)

    def wait(self, timeout=30):
        """Waits for an ebee that ends by itself; stdout/stderr are then complete."""
        self._join(timeout)
        return self.proc.returncode

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            try:
                self._join()
            except subprocess.TimeoutExpired:
                pass

    def json(self):
        return json_lines(self.stdout)

    def rows(self):
        return data_rows(self.stdout)

    def summary(self, collector=None):
        return summary_row(self.stdout, collector)


def assert_clean(progs, links, timeout=5.0):
    """Programs and links are freed asynchronously after the last fd closes: allow a moment."""
    deadline = time.time() + timeout
    while True:
        left_p = progs & loaded_prog_ids()
        left_l = links & loaded_link_ids()
        if not left_p and not left_l:
            return
        if time.time() > deadline:
            raise AssertionError(f"ebee left BPF objects behind: progs {sorted(left_p)} links {sorted(left_l)}")
        time.sleep(0.1)


CG_ROOT = "/sys/fs/cgroup/unified"


def cgroup_dirs(*rel):
    """Makes CG_ROOT/rel[0]/rel[1]/... (skips the test without cgroup2 there), yields the
    deepest path, then removes them deepest first, waiting for their last processes to exit."""
    if not os.path.isdir(CG_ROOT):
        pytest.skip("no cgroup2 at " + CG_ROOT)
    paths = [os.path.join(CG_ROOT, *rel[:i + 1]) for i in range(len(rel))]
    os.makedirs(paths[-1])
    yield paths[-1]
    for p in reversed(paths):
        for _ in range(100):
            try:
                os.rmdir(p)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.1)


@pytest.fixture
def ebee_start():
    """Starts ebee processes and always stops them, even when the test fails."""
    started = []

    def _start(args, **kw):
        e = Ebee(args, env=kw.pop("env", None), prefix=kw.pop("prefix", None))
        started.append(e)
        return e.start(**kw)

    yield _start
    for e in started:
        e.kill()
