"""Bad input: one clear line, the right exit code, nothing attached."""
import json
import os
import subprocess

import pytest

from conftest import EBEE, run


@pytest.mark.parametrize("args,needle,code", [
    (["nosuch"], "unknown command 'nosuch'", 2),
    (["count", "--bogus"], "unknown option '--bogus'", 2),
    (["count", "--syscall", "clonee"], "unknown syscall 'clonee' (did you mean 'clone'?)", 2),
    (["count", "--uid", "no_such_user_ebee"], "user 'no_such_user_ebee' does not exist", 2),
    (["count", "--uid", "3999999999"], "uid '3999999999' does not exist", 2),
    (["count", "--cgroup", "/tmp"], "'/tmp' is not a cgroup v2 directory", 2),
    (["count", "--cgroup", "/nonexistent"], "cgroup '/nonexistent' not found", 2),
    (["count", "--pid", "4000000"], "process '4000000' not found", 2),
    (["count", "--by", "gid"], "unknown key 'gid' for --by", 2),
    (["count", "--interval", "soon"], "bad value 'soon' for '--interval'", 2),
    (["count", "--all", "--syscall", "read"], "--all and --syscall exclude each other", 2),
    (["count", "--comm", "a_name_longer_than_15"], "longer than the kernel's 15 characters", 2),
    (["count", "extra"], "unexpected argument 'extra'", 2),
    (["help", "nosuch"], "no help for 'nosuch'", 2),
])
def test_bad_input(args, needle, code):
    p = run(args)
    assert p.returncode == code, (p.returncode, p.stderr)
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, p.stderr          # one line
    assert needle in lines[0], lines[0]
    assert lines[0].startswith("ebee: ")
    assert "AddressSanitizer" not in p.stderr


def test_error_as_json():
    p = run(["count", "--json", "--syscall", "nope"])
    assert p.returncode == 2
    doc = json.loads(p.stdout.strip().splitlines()[-1])
    assert "unknown syscall 'nope'" in doc["error"] and doc["exit"] == 2


def test_not_root():
    if not os.path.exists("/usr/bin/setpriv"):
        pytest.skip("setpriv missing")
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        "--inh-caps=-all", EBEE, "count", "-d", "1"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert "needs root" in p.stderr and "CAP_BPF" in p.stderr


def test_help_everywhere():
    top = run(["--help"], check=0).stdout
    assert "count" in top and "doctor" in top
    for args in (["count", "--help"], ["help", "count"]):
        out = run(args, check=0).stdout
        assert "Usage: ebee count" in out and "--interval SECONDS" in out and "Examples:" in out
    man = run(["help", "--man", "count"], check=0).stdout
    assert man.startswith(".TH EBEE-COUNT 8")
    assert run(["--version"], check=0).stdout.startswith("ebee ")
    # unique prefixes work, ambiguous ones do not
    assert "Usage: ebee count" in run(["cou", "--help"], check=0).stdout


def test_no_command():
    p = run([])
    assert p.returncode == 2 and "no command given" in p.stderr


def test_bash_completion_from_tables(tmp_path):
    script = tmp_path / "ebee.bash"
    script.write_text(run(["completion", "bash"], check=0).stdout)
    probe = ("source %s; COMP_WORDS=(ebee count --sys); COMP_CWORD=2; _ebee; echo ${COMPREPLY[@]};"
             " COMP_WORDS=(ebee do); COMP_CWORD=1; _ebee; echo ${COMPREPLY[@]}") % script
    out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "--syscall" and out[1] == "doctor"
    assert run(["completion", "zsh"]).returncode == 2


def test_man_pages_for_every_command(tmp_path):
    gen = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "gen-man.sh")
    subprocess.run([gen, EBEE, str(tmp_path)], check=True, capture_output=True)
    pages = sorted(p.name for p in tmp_path.iterdir())
    assert "ebee-count.8" in pages and "ebee-doctor.8" in pages
    for p in pages:
        text = (tmp_path / p).read_text()
        assert text.startswith(".TH EBEE-"), p
        assert ".SH SYNOPSIS" in text and ".SH COMMON OPTIONS" in text, p
