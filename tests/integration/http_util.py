"""The Go HTTP server the ebee http tests and bench/http trace, built by them (unstripped,
stripped, stripped PIE) with uprobe_util.build_go, a client that times each request, and the Go
toolchains this machine has (Debian's golang-go, and those src/http/go-toolchains.sh fetched)."""
import glob
import http.client
import os
import re
import shutil
import subprocess
import threading
import time

from uprobe_util import GoServer, build_go

GO_HTTP_SERVER = r'''package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:"+os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	port := os.Args[1]
	mux := http.NewServeMux()
	// every route is a subtree, so that each request of a test can have its own path
	mux.HandleFunc("/ok/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	mux.HandleFunc("/fail/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	// writes nothing: net/http sends 200 after the handler returns
	mux.HandleFunc("/empty/", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/created/", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		w.WriteHeader(http.StatusTeapot) // superfluous: the client sees 201
	})
	mux.HandleFunc("/slow/", func(w http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		time.Sleep(time.Duration(ms) * time.Millisecond)
		fmt.Fprint(w, ms)
	})
	mux.HandleFunc("/post/", func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, n)
	})
	// the goroutine id as the runtime itself says ("goroutine 42 [running]:"), to check the
	// one ebee reads from runtime.g (its offset changes between Go releases)
	mux.HandleFunc("/gid/", func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 64)
		buf = buf[:runtime.Stack(buf, false)]
		fmt.Fprint(w, strings.Fields(string(buf))[1])
	})
	// makes a client call to this server's ?to=PATH: the client side
	mux.HandleFunc("/call/", func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Get("http://127.0.0.1:" + port + r.URL.Query().Get("to"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		fmt.Fprint(w, resp.StatusCode)
	})
	fmt.Println("ready")
	http.Serve(ln, mux) // everything else: 404 from the mux
}
'''


def build(outdir, variants=("plain", "stripped", "pie"), go="go", gocache=None):
    return build_go(outdir, GO_HTTP_SERVER, "httpsrv", variants, go, gocache)


# Where src/http/go-toolchains.sh keeps the Go toolchains it fetched from Debian.
GO_DIR = os.environ.get("EBEE_GO_DIR", "/var/cache/ebee/go")


def toolchains():
    """{"go1.NN": (path of bin/go, full version)}: go on PATH, Debian's /usr/lib/go-*, and the
    ones go-toolchains.sh unpacked; the first found per major.minor."""
    found = {}
    cands = [shutil.which("go")] + sorted(glob.glob("/usr/lib/go-*/bin/go")) + \
        sorted(glob.glob(os.path.join(GO_DIR, "root/usr/lib/go-*/bin/go")))
    for go in cands:
        if not go:
            continue
        p = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True,
                           env=dict(os.environ, GOTOOLCHAIN="local"))
        m = re.match(r"go\d+\.\d+", p.stdout.strip())
        if p.returncode == 0 and m:
            found.setdefault(m.group(0), (go, p.stdout.strip()))
    return found


class HttpServer(GoServer):
    """The server started and stopped as uprobe_util's, with requests of any method and path."""

    def request(self, method, path, body=None, conn=None):
        """One request; returns (status, body, t0, t1) with monotonic ns around it."""
        c = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        t0 = time.monotonic_ns()
        c.request(method, path, body=body)
        r = c.getresponse()
        data = r.read()
        t1 = time.monotonic_ns()
        if not conn:
            c.close()
        return r.status, data, t0, t1

    def concurrent(self, reqs, threads=8):
        """reqs: [(method, path, body)], sent by `threads` clients on keep-alive connections.
        Returns [(method, path, body, status, t0, t1)]."""
        out, lock = [], threading.Lock()
        chunks = [reqs[i::threads] for i in range(threads)]

        def worker(chunk):
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            for m, p, b in chunk:
                st, _, t0, t1 = self.request(m, p, b, conn=c)
                with lock:
                    out.append((m, p, b, st, t0, t1))
            c.close()
        ts = [threading.Thread(target=worker, args=(ch,)) for ch in chunks]
        for t in ts:
            t.start()
        for t in ts:
            t.join(120)
        return out
