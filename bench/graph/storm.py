#!/usr/bin/python3
"""The workload of bench/graph: an exec + open + connect (+ datagram) storm, timed.
   storm.py EXECS OPENS CONNECTS DIR [SENDS [FILES]]   prints {"seconds": S} on stdout
   (FILES: distinct files opened, 5000 by default)"""
import json, os, socket, sys, time

execs, opens, connects, d = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
sends = int(sys.argv[5]) if len(sys.argv) > 5 else 0
files = int(sys.argv[6]) if len(sys.argv) > 6 else 5000
t0 = time.monotonic()
for i in range(execs):
    pid = os.posix_spawn("/bin/true", ["true"], os.environ)
    os.waitpid(pid, 0)
for i in range(opens):
    # distinct files: new nodes and edges, not only counts on the same edge
    with open(os.path.join(d, "f%d" % (i % files)), "w") as f:
        pass
for i in range(connects):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", 1 + i % 2000))
    except OSError:
        pass
    s.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(sends):
    # unconnected datagrams to 50 ports of loopback (nothing listens: they are dropped)
    u.sendto(b"x" * 32, ("127.0.0.1", 40000 + i % 50))
print(json.dumps({"seconds": time.monotonic() - t0}))
