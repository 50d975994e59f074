"""ebee doctor reports what the kernel really allows."""
import json
import os
import subprocess

from conftest import json_lines, run


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
    # Fallbacks are named: a feature not using its first choice says what it skipped.
    enforce = rows[("feature", "enforce")]["detail"]
    if not bpf["lsm"]:
        assert "not lsm" in enforce


def test_doctor_table():
    p = run(["doctor"], timeout=120)
    assert p.returncode == 0
    head = p.stdout.splitlines()[0].split()
    assert head == ["SECTION", "CHECK", "STATUS", "DETAIL"]
    assert any(l.split()[:3] == ["bpf", "tracepoint", "ok"] for l in p.stdout.splitlines())
