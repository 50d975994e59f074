#!/usr/bin/env python3
"""netwatch's BPF cost per packet, two builds side by side: BPF_PROG_TEST_RUN on one crafted
frame (testrun.c against each build's skeleton) and the kernel's run-time statistics
(run_time_ns / run_cnt of the TC program, TCX) over a storm of real 64-byte datagrams through
bench.py's veth pair, from one source and from SOURCES distinct crafted sources, netwatch
refreshing every second as the daemon does. The builds alternate within each repetition.

usage: BEFORE=/path/to/older/ebee bench/netwatch/ab.py [--packets N] [--reps N] [--sources N]
(root; the older build's tree is the binary's ../.. : its src/ and build/skel/)"""
import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (its namespaces, blast.c and helpers)


def tree(ebee):
    return os.path.abspath(os.path.join(os.path.dirname(ebee), ".."))


def testrun(root, out):
    bench.sh("gcc", "-O2", "-I", os.path.join(root, "src"), "-I", os.path.join(root, "build", "skel"),
             "-o", out, os.path.join(bench.HERE, "testrun.c"), "-lbpf", "-lelf", "-lz")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--packets", type=int, default=2_000_000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--sources", type=int, default=10_000)
    a = ap.parse_args()
    if not os.environ.get("BEFORE"):
        sys.exit("ab.py: BEFORE=path/to/older/ebee is required")
    bins = {"before": os.path.abspath(os.environ["BEFORE"]), "after": bench.EBEE}
    trs = {k: testrun(tree(b), f"/tmp/{bench.P}-testrun-{k}") for k, b in bins.items()}
    cases = [("1 source", 0), (f"{a.sources} sources", a.sources)]
    res = {k: {"test_run_ns": []} | {c: [] for c, _ in cases} for k in bins}
    sink = bench.setup()
    stats_fd = bench.enable_stats()
    try:
        bench.blast(200_000)   # warm-up
        for r in range(a.reps):
            order = list(bins) if r % 2 == 0 else list(reversed(bins))
            for k in order:
                res[k]["test_run_ns"].append(json.loads(bench.sh(trs[k]).stdout)["test_run_ns"])
            for c, srcs in cases:
                for k in order:
                    bench.EBEE = bins[k]
                    e = bench.Ebee("netwatch", "-i", bench.RX_IF, "--attach", "tcx", "--interval", "1",
                                   "--max-sources", 65536)
                    r0, t0 = e.bpf_stats()
                    bench.blast(a.packets, srcs)
                    r1, t1 = e.bpf_stats()
                    e.stop()
                    res[k][c].append((t1 - t0) / max(1, r1 - r0))
            print(f"rep {r + 1}: " + "  ".join(
                f"{k}: test_run {res[k]['test_run_ns'][-1]} ns, " +
                ", ".join(f"{c} {res[k][c][-1]:.1f} ns" for c, _ in cases) for k in bins), flush=True)
    finally:
        os.close(stats_fd)
        sink.kill()
        bench.teardown()
        for t in trs.values():
            os.unlink(t)
        os.unlink(bench.BLAST)
    print()
    for m in ["test_run_ns"] + [c for c, _ in cases]:
        line = []
        for k in bins:
            v = res[k][m]
            line.append(f"{k} {statistics.median(v):.1f} [{min(v):.1f}-{max(v):.1f}]")
        d = [y - x for x, y in zip(res["before"][m], res["after"][m])]
        print(f"{m:18} " + "  ".join(line) + f"  after-before per rep: median {statistics.median(d):+.1f} "
              f"[{min(d):+.1f} .. {max(d):+.1f}] ns")


if __name__ == "__main__":
    main()
