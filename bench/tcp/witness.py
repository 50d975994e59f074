#!/usr/bin/python3
"""The missing-transition check with a witness outside BPF (not in CI, root, ~15 s a run).
   bench/tcp/witness.py [HOOK] [SECONDS] [THREADS]     HOOK: tp_btf (default), raw_tp, tracepoint
Runs `ebee -j tcp states` on a /24 of 127.78.0.0/16 while client threads make connections the way
test_tcp.py does (the client closes first, the server closes 0-200 ms later), and at the same time
an ftrace instance of its own records sock:inet_sock_set_state FIN_WAIT1 -> FIN_WAIT2 (ftrace's
probe is called from the same tracepoint call as the BPF links but is not a BPF program). Prints
per run: connections, clients whose FIN_WAIT1 -> FIN_WAIT2 -> CLOSE ebee did not print, how many
of those ftrace saw, and ebee's lost/missed. Uncounted = missing transitions beyond `missed`."""
import json, os, random, re, socket, subprocess, sys, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
EBEE = os.environ.get("EBEE", os.path.join(HERE, "../../build/ebee"))
hook = sys.argv[1] if len(sys.argv) > 1 else "tp_btf"
secs = float(sys.argv[2]) if len(sys.argv) > 2 else 10
nthreads = int(sys.argv[3]) if len(sys.argv) > 3 else 4
net = 100 + os.getpid() % 128
SRV, CLI = f"127.78.{net}.1", f"127.78.{net}.2"
disable = {"tp_btf": None, "raw_tp": "tp_btf", "tracepoint": "tp_btf,raw_tp"}[hook]
env = dict(os.environ, **({"EBEE_DISABLE": disable} if disable else {}))
TI = f"/sys/kernel/tracing/instances/ebee_witness_{os.getpid()}"
EV = TI + "/events/sock/inet_sock_set_state/"


def client_loop(port, stop, clients, lock):
    while time.monotonic() < stop:
        s = socket.socket()
        s.bind((CLI, 0))
        s.connect((SRV, port))
        lp = s.getsockname()[1]
        s.sendall(b"c" * 100)
        n = 0
        while n < 50:
            b = s.recv(50 - n)
            if not b:
                break
            n += len(b)
        s.close()
        with lock:
            clients.append(lp)


def serve_one(c):
    try:
        n = 0
        while n < 100:
            b = c.recv(100 - n)
            if not b:
                break
            n += len(b)
        c.sendall(b"s" * 50)
        while c.recv(100):
            pass
        time.sleep(random.choice([0.0, 0.05, 0.2]))
    finally:
        c.close()


def accept_loop(ls):
    while True:
        try:
            c, _ = ls.accept()
        except OSError:
            return
        threading.Thread(target=serve_one, args=(c,), daemon=True).start()


def main():
    os.mkdir(TI)
    e = None
    try:
        with open(TI + "/buffer_size_kb", "w") as f:
            f.write("4096")
        with open(TI + "/options/record-tgid", "w") as f:   # the process, not just the thread
            f.write("1")
        with open(EV + "filter", "w") as f:
            f.write("family == 2 && oldstate == 4 && newstate == 5")
        with open(EV + "enable", "w") as f:
            f.write("1")
        out = open(f"/tmp/ebee-witness-{os.getpid()}.json", "w+")
        e = subprocess.Popen([EBEE, "-j", "tcp", "states", "--laddr", f"127.78.{net}.0/24"],
                             stdout=out, stderr=subprocess.DEVNULL, env=env)
        time.sleep(1.5)
        ls = socket.socket()
        ls.bind((SRV, 0))
        ls.listen(512)
        port = ls.getsockname()[1]
        threading.Thread(target=accept_loop, args=(ls,), daemon=True).start()
        clients, lock = [], threading.Lock()
        stop = time.monotonic() + secs
        ts = [threading.Thread(target=client_loop, args=(port, stop, clients, lock))
              for _ in range(nthreads)]
        [t.start() for t in ts]
        [t.join() for t in ts]
        time.sleep(3)   # the last FINs (server delays of up to 0.2 s, a loaded machine)
        e.send_signal(2)
        e.wait()
        e = None
        ls.close()
        with open(EV + "enable", "w") as f:
            f.write("0")
        with open(TI + "/trace") as f:
            ftr = f.read()
        over = sum(int(x) for c in os.listdir(TI + "/per_cpu")
                   for x in re.findall(r"overrun: (\d+)", open(f"{TI}/per_cpu/{c}/stats").read()))
    finally:
        if e:
            e.kill()
            e.wait()
        os.rmdir(TI)
    out.seek(0)
    recs = [json.loads(l) for l in out if l.startswith("{")]
    os.unlink(out.name)
    summ = [r for r in recs if r.get("type") == "summary"][0]
    seen = {}
    for r in recs:
        if r.get("type") != "summary" and r["laddr"] == CLI and r["rport"] == port:
            seen.setdefault(r["lport"], set()).add((r["oldstate"], r["newstate"]))
    fin = {("FIN_WAIT1", "FIN_WAIT2"), ("FIN_WAIT2", "CLOSE")}
    bad = [lp for lp in clients if not fin <= seen.get(lp, set())]
    missing = sum(len(fin - seen.get(lp, set())) for lp in bad)
    # ftrace's line names the task that was current when the tracepoint fired (in softirq: the
    # interrupted one) and its process: TASK-TID (TGID) [CPU] FLAGS TS: inet_sock_set_state: ...
    ctx = {}
    for m in re.finditer(r"^\s*(.*?)-(\d+)\s+\(\s*(\S+)\)\s+\[(\d+)\]\s+(\S+)\s+[\d.]+: "
                         r"inet_sock_set_state: .*?sport=(\d+) dport=%d saddr=%s "
                         % (port, re.escape(CLI)), ftr, re.M):
        ctx.setdefault(int(m.group(6)), []).append((m.group(1), m.group(3), m.group(5)))
    on_init = lambda lps: sum(any(tgid == "1" for _, tgid, _ in ctx.get(lp, [])) for lp in lps)
    good = [lp for lp in clients if lp not in bad]
    print(f"{hook}: {len(clients)} connections, {len(bad)} clients without FIN_WAIT1->FIN_WAIT2->CLOSE "
          f"({missing} transitions; ftrace saw {sum(lp in ctx for lp in bad)} of them, ftrace overrun "
          f"{over}), lost={summ['lost']} missed={summ['missed']}, uncounted={max(0, missing - summ['missed'])}; "
          f"made while a thread of PID 1 was current: {on_init(bad)} of the missing, {on_init(good)} of the "
          f"{len(good)} seen", flush=True)
    for lp in bad:
        print(f"  missing :{lp}: ftrace context {ctx.get(lp)}", flush=True)


main()
