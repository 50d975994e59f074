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
	// aborts: net/http closes the connection without a response (and logs nothing for this
	// panic value); finishRequest never runs
	mux.HandleFunc("/abort/", func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) })
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


# A fast client (its own binary, so never traced): `httpload PORT N CONNS [RATE]`, CONNS
# keep-alive connections send N requests in all, closed loop or paced at RATE requests/s,
# request i being "GET /ok/<i>", "/fail/<i>" (500) or "/nothere/<i>" (404) by i % 4; every
# answer's status is checked. Prints {"ok": answered as expected, "errors": N, "secs": S}.
GO_HTTP_LOAD = r'''package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	port := os.Args[1]
	n, _ := strconv.Atoi(os.Args[2])
	conns, _ := strconv.Atoi(os.Args[3])
	per := time.Duration(0)
	if len(os.Args) > 4 {
		rate, _ := strconv.ParseFloat(os.Args[4], 64)
		per = time.Duration(float64(conns) / rate * 1e9)
	}
	var ok, bad int64
	var wg sync.WaitGroup
	t0 := time.Now()
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			conn, err := net.Dial("tcp", "127.0.0.1:"+port)
			if err != nil {
				atomic.AddInt64(&bad, 1)
				return
			}
			defer conn.Close()
			r := bufio.NewReader(conn)
			for i, k := c, 0; i < n; i, k = i+conns, k+1 {
				if d := time.Until(t0.Add(time.Duration(k) * per)); d > 0 {
					time.Sleep(d)
				}
				path, want := "/ok/", 200
				switch i % 4 {
				case 1:
					path, want = "/fail/", 500
				case 2:
					path, want = "/nothere/", 404
				}
				if _, err := fmt.Fprintf(conn, "GET %s%d HTTP/1.1\r\nHost: t\r\n\r\n", path, i); err != nil {
					atomic.AddInt64(&bad, 1)
					return
				}
				resp, err := http.ReadResponse(r, nil)
				if err != nil {
					atomic.AddInt64(&bad, 1)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == want {
					atomic.AddInt64(&ok, 1)
				} else {
					atomic.AddInt64(&bad, 1)
				}
			}
		}(c)
	}
	wg.Wait()
	fmt.Printf("{\"ok\": %d, \"errors\": %d, \"secs\": %.3f}\n", ok, bad, time.Since(t0).Seconds())
}
'''


def load_path(i):
    """(path, status) of request i of GO_HTTP_LOAD."""
    return {1: (f"/fail/{i}", 500), 2: (f"/nothere/{i}", 404)}.get(i % 4, (f"/ok/{i}", 200))


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
