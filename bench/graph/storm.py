#!/usr/bin/python3
"""The workload of bench/graph: an exec + open + connect storm, timed.
   storm.py EXECS OPENS CONNECTS DIR   prints {"seconds": S} on stdout"""
import json, os, socket, sys, time

execs, opens, connects, d = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
t0 = time.monotonic()
for i in range(execs):
    pid = os.posix_spawn("/bin/true", ["true"], os.environ)
    os.waitpid(pid, 0)
for i in range(opens):
    # distinct files: new nodes and edges, not only counts on the same edge
    with open(os.path.join(d, "f%d" % (i % 5000)), "w") as f:
        pass
for i in range(connects):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", 1 + i % 2000))
    except OSError:
        pass
    s.close()
print(json.dumps({"seconds": time.monotonic() - t0}))
