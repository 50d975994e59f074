"""/api/netwatch and /metrics keep today's structure through the move to the output layer: the
JSON keys, their order and value types, the compact byte layout, and the Prometheus families
(HELP/TYPE lines verbatim, series names and label keys, in order) are compared with a golden file
captured from the hand-written renderer (tests/integration/golden/netwatch_serve.json).
Values that change from run to run (times, counters, rates) are not compared.
EBEE_WRITE_GOLDEN=1 rewrites the golden file from the binary under test."""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from netwatch_util import http, wait_until
from test_netwatch_serve import lab, send_known, start_serve  # noqa: F401 (fixture)

GOLDEN = Path(__file__).parent / "golden" / "netwatch_serve.json"
# Label values that are part of the structure; every other value is masked.
STATIC_LABELS = {"reason", "code", "mode", "version"}


def shape(v):
    """Keys in order and value types; lists as the shapes of their elements."""
    if isinstance(v, dict):
        return [[k, shape(x)] for k, x in v.items()]
    if isinstance(v, list):
        out = []
        for x in v:
            s = shape(x)
            if s not in out:
                out.append(s)
        return {"list": out}
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if v is None:
        return "null"
    return "str"


SERIES = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def metrics_shape(text):
    """HELP/TYPE lines verbatim and series as name{key=value-or-*}, consecutive repeats merged."""
    assert text.endswith("\n")
    out = []
    for line in text.splitlines():
        if line.startswith("#"):
            item = line
        else:
            m = SERIES.match(line)
            assert m, f"not a sample line: {line!r}"
            float(m.group(4))
            labels = LABEL.findall(m.group(3) or "")
            assert ",".join(f'{k}="{v}"' for k, v in labels) == (m.group(3) or ""), line
            item = m.group(1) + "{" + ",".join(
                f"{k}={v if k in STATIC_LABELS else '*'}" for k, v in labels) + "}"
        if not out or out[-1] != item:
            out.append(item)
    return out


def test_api_and_metrics_match_golden(lab, tmp_path):  # noqa: F811
    c0, c1 = lab.clients
    e, url = start_serve(lab, tmp_path)
    send_known(lab, url, ports=(8080, 8081, 8080))

    status, body = http(lab, url + "api/netwatch")
    assert status == 200
    doc = json.loads(body)
    # Byte layout: compact, sources last with a newline after each (one per line), one
    # newline at the end.
    def compact(v):
        return json.dumps(v, separators=(",", ":"))
    head = compact({k: v for k, v in doc.items() if k != "sources"})
    assert list(doc)[-1] == "sources"
    assert body == (head[:-1] + ',"sources":[' + ",".join(compact(s) + "\n" for s in doc["sources"])
                    + "]}\n")
    # The test's own sources only (the veths may carry other packets), in a fixed role order.
    by = {s["addr"]: s for s in doc["sources"]}
    got = {
        "api": shape({k: v for k, v in doc.items() if k != "sources"}),
        "api_sources": [shape(by[a]) for a in (c0.v4, c1.v6, c1.v4)],
    }
    status, text = http(lab, url + "metrics")
    assert status == 200
    got["metrics"] = metrics_shape(text)
    if shutil.which("promtool"):
        p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                           text=True)
        assert p.returncode == 0, p.stdout + p.stderr
    assert e.stop() == 0, e.stderr

    if os.environ.get("EBEE_WRITE_GOLDEN"):
        GOLDEN.write_text(json.dumps(got, indent=1) + "\n")
        pytest.skip("golden file written")
    golden = json.loads(GOLDEN.read_text())
    assert got["api"] == golden["api"]
    assert got["api_sources"] == golden["api_sources"]
    assert got["metrics"] == golden["metrics"]
