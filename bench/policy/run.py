#!/usr/bin/env python3
"""ebee policy's costs, on two test hosts in network namespaces behind a router namespace
(10.213.0.0/16, never leaving them), with ebee in the router namespace:
  1. BPF ns per packet (ebee bench, bpf_stats) under a storm of short TCP connections, with
     1, 100 and 10 000 ipBlock entries in the allowing rule (the LPM trie is asked once per
     new flow; later packets hit the connection table);
  2. veth throughput: one 300 MB TCP stream, runs with the policy enforced alternated with
     runs with nothing loaded (ebee bench's slowdown), and the established path's ns/packet;
  3. verdict events per connection under the storm (target <= 3 per connection and side,
     0 lost).
Usage: bench/policy/run.py [CONNECTIONS] [REPS]   Results: bench/results/policy-*.json
EBEE=path selects the binary (default build/ebee)."""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from policy_util import PY, AGENT, World, netpol, policy_file  # noqa: E402

EBEE = os.path.abspath(os.environ.get("EBEE", os.path.join(ROOT, "build", "ebee")))


def blocks(client, n):
    """n ipBlock peers: the client's address and n-1 other /32s."""
    out = [{"ipBlock": {"cidr": f"{client.addr}/32"}}]
    for k in range(n - 1):
        out.append({"ipBlock": {"cidr": f"10.{100 + k // 65536}.{(k // 256) % 256}.{k % 256}/32"}})
    return out


def main():
    conns = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    tmp = tempfile.mkdtemp(prefix="ebpol-bench-")
    w = World(tmp, "netns")
    res = {"connections": conns, "reps": reps, "ns_per_packet": {}}
    try:
        w.namespace("prod")
        cli = w.add("cli", "prod", {"app": "cli"})
        web = w.add("web", "prod", {"app": "web"})
        w.setup()
        wf = w.workloads_file()
        router = ["nsenter", f"--net=/run/netns/{w.router}"]
        inns = ["ip", "netns", "exec", cli.netns]

        for n in (1, 100, 10000):
            pf = policy_file(tmp, f"p{n}.yaml", [netpol("web", "prod", pod={"matchLabels": {"app": "web"}},
                                                       ingress=[{"from": blocks(cli, n)}])])
            p = subprocess.run(router + [EBEE, "bench", "--json", "-r", str(reps), "--ready-timeout", "120",
                                         "--feature", f"policy apply -f {pf} -w {wf} -i 3600", "--"]
                               + inns + [PY, AGENT, "storm", cli.addr, web.addr, "80", str(conns)],
                               capture_output=True, text=True)
            assert p.returncode == 0, p.stderr
            rows = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
            res["ns_per_packet"][n] = {r["name"]: r.get("ns_per_run_median") for r in rows
                                       if r.get("kind") == "program" and r.get("d_run_cnt")}
            print(f"ipBlock entries {n:>5}: ns/packet {res['ns_per_packet'][n]}", flush=True)

        # throughput: one TCP stream cli -> web:5001, nothing vs the policy (1 entry + port)
        sink = web.spawn("sink", web.addr, 5001)
        assert sink.stdout.readline().strip() == "ready"
        pf = policy_file(tmp, "tp.yaml", [netpol("web", "prod", pod={"matchLabels": {"app": "web"}},
                                                 ingress=[{"from": blocks(cli, 1),
                                                           "ports": [{"port": 5001}]}])])

        # ebee bench alternates baseline runs (nothing loaded) and traced runs: the slowdown of
        # a 300 MB stream is the throughput loss, and the programs' ns/run here is the
        # established path (connection table hits).
        p = subprocess.run(router + [EBEE, "bench", "--json", "-r", str(reps), "--ready-timeout", "60",
                                     "--feature", f"policy apply -f {pf} -w {wf} -i 3600", "--"]
                           + inns + [PY, AGENT, "blast", cli.addr, web.addr, "5001", "300"],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        rows = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
        wl = [r for r in rows if r.get("kind") == "workload"][0]
        res["stream"] = {"slowdown": wl["slowdown"], "throughput_loss": 1 - 1 / wl["slowdown"],
                         "baseline_s": wl["baseline_ns_per_op"] / 1e9,
                         "traced_s": wl["traced_ns_per_op"] / 1e9,
                         "ns_per_packet": {r["name"]: r.get("ns_per_run_median") for r in rows
                                           if r.get("kind") == "program" and r.get("d_run_cnt")},
                         "packets_per_run": {r["name"]: r.get("runs_per_op") for r in rows
                                             if r.get("kind") == "program" and r.get("d_run_cnt")}}
        sink.kill()
        sink.wait()
        print(f"300 MB stream: {res['stream']}", flush=True)

        # verdict events per connection under the storm
        pf = policy_file(tmp, "ev.yaml", [netpol("web", "prod", pod={"matchLabels": {"app": "web"}},
                                                 ingress=[{"from": blocks(cli, 1)}])])
        e = subprocess.Popen(router + [EBEE, "policy", "apply", "--json", "-f", pf, "-w", wf, "-i", "3600"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        subprocess.run(inns + [PY, AGENT, "storm", cli.addr, web.addr, "80", str(conns)], check=True,
                       capture_output=True)
        time.sleep(0.5)
        e.send_signal(2)
        out, err = e.communicate(timeout=30)
        evs = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
        summ = [x for x in evs if x.get("type") == "summary"][0]
        per = {}   # (client port, side): the client's hook sees EGRESS, the server's INGRESS
        for x in evs:
            if x.get("type") == "summary" or "TCP" not in x["l4"]:
                continue
            t = x["l4"]["TCP"]
            cport = t["source_port"] if t["destination_port"] == 80 else t["destination_port"]
            per.setdefault((cport, x["traffic_direction"]), []).append(x)
        counts = {}
        for (cport, _), xs in per.items():
            counts[cport] = counts.get(cport, 0) + len(xs)
        n_side = [len(xs) for xs in per.values()]
        res["events"] = {"connections_seen": len(counts), "per_connection_both_sides_max": max(counts.values()),
                         "per_connection_per_side_max": max(n_side),
                         "per_connection_per_side_median": statistics.median(n_side),
                         "lost": summ["lost"], "events": summ["events"]}
        print(f"events: {res['events']}", flush=True)
    finally:
        w.close()
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    path = os.path.join(ROOT, "bench", "results", time.strftime("policy-%Y%m%dT%H%M%SZ.json", time.gmtime()))
    with open(path, "w") as f:
        json.dump(res, f, indent=1)
    print("results:", path)


if __name__ == "__main__":
    main()
