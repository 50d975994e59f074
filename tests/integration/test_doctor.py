"""ebee doctor reports what the kernel really allows."""
import json
import os
import subprocess

import pytest

from conftest import NO_MODULES, bpf_ids, json_lines, run
from http_util import HttpServer, build as build_http
from uprobe_util import build_c


def bpftool_features():
    p = subprocess.run(["bpftool", "-j", "feature", "probe", "kernel"], capture_output=True, text=True)
    return json.loads(p.stdout)


def test_doctor_json_matches_kernel():
    p = run(["doctor", "--json"], timeout=120)
    rows = {(r["section"], r["check"]): r for r in json_lines(p.stdout)}
    assert p.returncode == 0, p.stderr
    bpf = {c: r["ok"] for (s, c), r in rows.items() if s == "bpf"}
    assert bpf["tracepoint"] and bpf["ringbuf"]
    # kprobes need the kprobe_events interface of tracefs.
    tracefs = "/sys/kernel/tracing" if os.path.exists("/sys/kernel/tracing/events") else "/sys/kernel/debug/tracing"
    assert bpf["kprobe"] == os.path.exists(os.path.join(tracefs, "kprobe_events"))
    # fentry and lsm programs are of the 'tracing' and 'lsm' types: bpftool's own probe agrees.
    types = bpftool_features()["program_types"]
    if not types.get("have_tracing_prog_type", True):
        assert not bpf["fentry"]
    if not types.get("have_lsm_prog_type", True):
        assert not bpf["lsm"]
    assert rows[("feature", "count")]["ok"]
    assert rows[("kernel", "btf")]["ok"] == os.path.exists("/sys/kernel/btf/vmlinux")
    # a sandbox kernel's gate that hides events in PID 1's context from ebee (hardening.md)
    try:
        with open("/proc/sys/kernel/init_private") as f:
            gate = f.read().strip()
    except OSError:
        gate = None
    if gate is None:
        assert ("kernel", "init_private") not in rows
    else:
        assert rows[("kernel", "init_private")]["ok"] == (gate != "1")


def test_doctor_table():
    p = run(["doctor"], timeout=120)
    assert p.returncode == 0
    head = p.stdout.splitlines()[0].split()
    assert head == ["SECTION", "CHECK", "STATUS", "DETAIL"]
    assert any(l.split()[:3] == ["bpf", "tracepoint", "ok"] for l in p.stdout.splitlines())


def features(env=None):
    p = run(["doctor", "--json"], timeout=120, env=env)
    assert p.returncode == 0, p.stderr
    return {r["check"]: r for r in json_lines(p.stdout) if r["section"] == "feature"}


def commands():
    out = run(["--help"], check=0).stdout
    return {l.split()[0] for l in out.splitlines() if l.startswith("  ") and l.split()}


def test_doctor_features_are_commands_with_hooks():
    """Doctor claims no feature ebee does not have: each is a command with a hook table, and a
    hook's variants say what it would fall back to (tcp has raw_tp since it has that program)."""
    f = features()
    assert f, "no features"
    assert set(f) <= commands(), (set(f), commands())
    assert not {"enforce", "netpolicy"} & set(f)
    for name, r in f.items():
        assert r["hooks"], name
        for h in r["hooks"]:
            assert h["variants"] and (h["kind"] is None or h["kind"] in h["variants"]), r
            used = h["variants"].index(h["kind"]) if h["kind"] else len(h["variants"])
            for skipped in h["variants"][:used]:
                assert skipped in r["detail"], r
    assert f["tcp"]["hooks"][0]["variants"] == ["tp_btf", "raw_tp", "tracepoint"]


@pytest.mark.parametrize("disable", [None, "tracepoint"])
def test_doctor_module_attempts(disable):
    """The event features say whether module-load attempts need --module-attempts here: on a
    kernel without module support while the per-syscall tracepoints are the choice; not where
    the dispatcher is chosen anyway (tracepoints not allowed: they cost nothing extra)."""
    # without tracepoints doctor fails its required check (exit 1) but still reports features
    p = run(["doctor", "--json"], timeout=120,
            env=dict(os.environ, EBEE_DISABLE=disable) if disable else None)
    assert p.returncode == (1 if disable else 0), p.stderr
    f = {r["check"]: r for r in json_lines(p.stdout) if r.get("section") == "feature"}
    optin = "no module support: module-load attempts watched only with --module-attempts"
    for name in ("events", "guard", "graph"):
        assert (optin in f[name]["detail"]) == (NO_MODULES and not disable), f[name]
        if NO_MODULES and disable:
            assert "with module events: sys_exit via tp_btf for all" in f[name]["detail"], f[name]


# What bpftool calls the program type of each attach kind.
PROG_TYPE = {"tp_btf": "tracing", "raw_tp": "raw_tracepoint", "tracepoint": "tracepoint",
             "uprobe": "kprobe", "kprobe": "kprobe", "fentry": "tracing", "tc": "sched_cls",
             "tcx": "sched_cls", "xdp": "xdp", "iter": "tracing", "bpf_stats": None,
             # where the events collector's syscall programs read the arguments: not a hook
             # of its own (its sys_exit hook says which programs load)
             "task_pt_regs": None}


def attached_types(e):
    types = set()
    for pid in bpf_ids(e.proc.pid):
        p = subprocess.run(["bpftool", "-j", "prog", "show", "id", str(pid)], capture_output=True,
                           text=True)
        if p.returncode == 0:
            types.add(json.loads(p.stdout)["type"])
    return types


@pytest.mark.parametrize("disable", [None, "tp_btf", "tp_btf,raw_tp,iter,task_pt_regs"])
def test_doctor_kind_is_what_commands_attach(ebee_start, tmp_path, disable):
    """Each feature's chosen kind, as doctor reports it, is the program type the command
    really loads (also when fallbacks are forced with EBEE_DISABLE)."""
    env = dict(os.environ, EBEE_DISABLE=disable) if disable else None
    f = features(env)
    assert set(f) == {"count", "tcp", "uprobe", "prog", "events", "guard", "policy", "graph", "http"} | ({"netwatch"} if "netwatch" in f else set())
    # count --children: its fork and exit hooks are loaded too
    runs = {"count": ["count", "--pid", str(os.getpid()), "--children"], "tcp": ["tcp", "states"],
            "prog": ["top", "-b", "-i", "0.2"],
            # the three sched hooks and the syscalls' (per-syscall tracepoints: no module
            # events)
            "events": ["events", "--type", "fork,exit,exec,open"],
            # the events collector's hooks, as many syscalls as its rules need (with module
            # loads: the sys_exit dispatcher where doctor says so)
            "guard": ["guard", "run"],
            # the events collector's programs, which the graph subscribes to (module too)
            "graph": ["graph", "run"]}
    target = go = None
    go_bins = build_http(str(tmp_path)) if "http" in f else None
    if go_bins:
        go = HttpServer(go_bins["stripped"])
        runs["http"] = ["http", "-p", str(go.pid)]
    if "uprobe" in f:
        target = subprocess.Popen([build_c(str(tmp_path))], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        target.stdout.readline()
        runs["uprobe"] = ["uprobe", "-p", str(target.pid), "compute"]
    try:
        for name, args in runs.items():
            kinds = {h["kind"] for h in f[name]["hooks"]}
            if name in ("events", "guard", "graph"):
                assert "syscall tracepoints" in f[name]["detail"], f[name]
                # the sys_exit row is the choice without module events; the detail says
                # when module events (guard's rules, the graph) take the dispatcher
                if name != "events" and \
                        "with module events: sys_exit via tp_btf" in f[name]["detail"]:
                    kinds = {"tp_btf" if h["hook"] == "sys_exit" else h["kind"]
                             for h in f[name]["hooks"]}
            want = {PROG_TYPE[k] for k in kinds} - {None}   # bpf_stats: nothing loaded
            e = ebee_start(args, env=env, min_progs=1 if want else 0, settle=0.5)
            got = attached_types(e)
            e.stop()
            assert got == want, (name, kinds, got)
    finally:
        if target:
            target.kill()
            target.wait()
        if go:
            go.stop()
