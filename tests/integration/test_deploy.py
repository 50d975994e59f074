"""deploy/: the Kubernetes manifests validate against the Kubernetes and prometheus-operator
schemas (kubernetes-models, pinned in test_deploy/package-lock.json, run by node), hold what a
node agent needs, carry a config `ebee serve --check-config` accepts, and the Grafana
dashboard's queries name only metric families a running ebee serve exports."""
import json
import os
import re
import shutil
import subprocess

import pytest
yaml = pytest.importorskip("yaml")

from conftest import EBEE, ROOT, Ebee
from test_serve import TOKEN, get, serve

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "test_deploy")
K8S = os.path.join(ROOT, "deploy", "kubernetes")
DASH = os.path.join(ROOT, "deploy", "grafana", "ebee-dashboard.json")


@pytest.fixture(scope="module")
def validator():
    if not shutil.which("node"):
        pytest.skip("needs node")
    p = subprocess.run([os.path.join(HERE, "install.sh")], capture_output=True, text=True, timeout=300)
    if p.returncode:
        pytest.skip(f"cannot install the schema validators from npm: {p.stderr.strip()[-300:]}")

    def run(*files):
        p = subprocess.run(["node", os.path.join(HERE, "validate.mjs")] + list(files), capture_output=True,
                           text=True, timeout=60, cwd=HERE)
        assert p.returncode == 0, p.stderr
        return [json.loads(line) for line in p.stdout.splitlines()]
    return run


def manifests():
    return sorted(os.path.join(K8S, f) for f in os.listdir(K8S) if f.endswith(".yaml"))


def test_manifests_are_valid_kubernetes_objects(validator):
    objs = validator(*manifests())
    assert {(o["kind"], o["name"]) for o in objs} == {
        ("Namespace", "ebee"), ("ConfigMap", "ebee-config"), ("Secret", "ebee-token"),
        ("DaemonSet", "ebee"), ("Service", "ebee"), ("PodMonitor", "ebee")}
    assert [o for o in objs if o["errors"]] == []


def test_validator_refuses_a_broken_daemonset(validator, tmp_path):
    ds = yaml.safe_load(open(os.path.join(K8S, "daemonset.yaml")))
    c = ds["spec"]["template"]["spec"]["containers"][0]
    del c["name"]
    c["ports"][0]["containerPort"] = "http"
    ds["spec"]["template"]["spec"]["hostPID"] = "yes"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(ds))
    (o,) = validator(str(bad))
    err = " ".join(o["errors"])
    for want in ("required property name", "containerPort must be integer", "hostPID must be boolean"):
        assert want in err, err


def load(name):
    return list(yaml.safe_load_all(open(os.path.join(K8S, name))))


def test_daemonset_is_a_node_agent():
    (ds,) = load("daemonset.yaml")
    (cm,) = load("configmap.yaml")
    spec = ds["spec"]["template"]["spec"]
    assert spec["hostPID"] and spec["hostNetwork"]
    (c,) = spec["containers"]
    assert c["securityContext"]["privileged"] is True
    assert c["resources"]["limits"]["memory"] and c["resources"]["limits"]["cpu"]
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    vols = {v["name"]: v for v in spec["volumes"]}
    for path in ("/sys/fs/bpf", "/sys/kernel/btf", "/sys/kernel/tracing", "/sys/fs/cgroup"):
        assert vols[mounts[path]]["hostPath"]["path"] == path
    # The config the container is told to read is the ConfigMap's key, mounted there.
    i = c["args"].index("-c")
    cfgdir, key = os.path.split(c["args"][i + 1])
    assert vols[mounts[cfgdir]]["configMap"]["name"] == cm["metadata"]["name"] and key in cm["data"]
    cfg = yaml.safe_load(cm["data"][key])
    port = int(cfg["listen"].rsplit(":", 1)[1])
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port}
    assert c["ports"][0]["containerPort"] == port
    # The token file the config names is the Secret, mounted there.
    tdir, tkey = os.path.split(cfg["token_file"])
    assert vols[mounts[tdir]]["secret"]["secretName"] == "ebee-token"
    (sec,) = load("secret.yaml")
    assert tkey in sec["stringData"]
    (pm,) = load("podmonitor.yaml")
    ep = pm["spec"]["podMetricsEndpoints"][0]
    assert ep["port"] == c["ports"][0]["name"] and ep["bearerTokenSecret"] == {"name": "ebee-token", "key": tkey}
    ann = ds["spec"]["template"]["metadata"]["annotations"]
    assert ann["prometheus.io/scrape"] == "true" and ann["prometheus.io/port"] == str(port)


def test_configmap_config_checks(tmp_path):
    (cm,) = load("configmap.yaml")
    text = cm["data"]["ebee.yaml"]
    assert text == open(os.path.join(ROOT, "deploy", "ebee.yaml")).read()
    tok = tmp_path / "token"
    tok.write_text(TOKEN)
    cfg = tmp_path / "ebee.yaml"
    cfg.write_text(text.replace(yaml.safe_load(text)["token_file"], str(tok)))
    p = subprocess.run([EBEE, "serve", "-c", str(cfg), "--check-config"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "collectors netwatch,tcp,prog,count,events" in p.stdout


def test_dashboard_names_only_exported_metrics(tmp_path):
    dash = json.load(open(DASH))
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    exprs += [v["query"] for v in dash["templating"]["list"]]
    used = set()
    for e in exprs:
        used |= set(re.findall(r"\bebee_[a-z0-9_]+", e))
    assert len(used) >= 15
    # Every collector the deployment runs, with a workload for each, then its families.
    e, url, _ = serve(tmp_path, "listen: 127.0.0.1:0\ninterval: 200ms\ncollectors:\n"
                      "  netwatch: {interface: [lo]}\n  tcp:\n  prog:\n  count:\n  events: {type: [exec]}\n")
    try:
        get(url + "healthz")
        status, text = get(url + "metrics")
        assert status == 200
    finally:
        assert e.stop() == 0
    families = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    assert used - families == set(), f"dashboard queries metrics ebee does not export: {used - families}"
    # and every panel queries something
    assert all(p["targets"] and all(t["expr"] for t in p["targets"]) for p in dash["panels"])
