"""Targets and helpers for the ebee uprobe tests: a Go HTTP server and a C program, built in a
temporary folder by the tests themselves (Debian golang-go and gcc), and the client side."""
import http.client
import os
import shutil
import socket
import subprocess
import threading
import time


GO_SERVER = r'''package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// grow recurses with big frames so the goroutine stack must be copied.
//go:noinline
func grow(n int) int {
	var buf [2048]byte
	buf[n%2048] = byte(n)
	if n <= 0 {
		return 0
	}
	return grow(n-1) + 1 + int(buf[n%2048]) - int(byte(n)) // = n
}

//go:noinline
func process(input string) int {
	if strings.HasPrefix(input, "slow") {
		ms, _ := strconv.Atoi(strings.SplitN(input[4:], "-", 2)[0])
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	if strings.HasPrefix(input, "grow") {
		grow(64) // 128 KiB of frames: the stack is copied while process runs
	}
	h := 7
	for i := 0; i < len(input); i++ {
		h = (h*31 + int(input[i])) % 1000003
	}
	return h
}

// mix takes a slice (three registers) and an int, and returns a string (two registers).
//go:noinline
func mix(b []byte, k int) string {
	return string(b[:k/2])
}

// descend puts frames of 512 bytes and then small ones between the handler and process, so
// that for some (depth, small) the stack check in process's own prologue fails and
// runtime.morestack runs before process does.
func descend(depth, small int, input string) int {
	var pad [512]byte
	if depth > 0 {
		pad[depth%512] = 1
		return descend(depth-1, small, input) + int(pad[depth%512]) - 1
	}
	return step(small, input)
}

//go:noinline
func step(n int, input string) int {
	if n > 0 {
		return step(n-1, input)
	}
	return process(input)
}

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:"+os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// /gid answers with process's result and the goroutine id, from the runtime's own stack
	// dump ("goroutine 42 [running]:"), for checking the id ebee reads from runtime.g
	http.HandleFunc("/gid", func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 64)
		buf = buf[:runtime.Stack(buf, false)]
		gid, _ := strconv.Atoi(strings.Fields(string(buf))[1])
		fmt.Fprintf(w, "%d %d\n", process(r.URL.Query().Get("in")), gid)
	})
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		d, _ := strconv.Atoi(q.Get("depth"))
		k, _ := strconv.Atoi(q.Get("small"))
		in := q.Get("in")
		fmt.Fprintf(w, "%d\n", descend(d, k, in)+0*len(mix([]byte(in), len(in))))
	})
	fmt.Println("ready")
	http.Serve(ln, nil)
}
'''

C_PROG = r'''#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* noipa: no inlining, cloning or interprocedural changes of the calling convention */
__attribute__((noipa)) long compute(const char *word, int n)
{
	long h = n;

	for (size_t i = 0; i < strlen(word); i++)
		h = (h * 31 + (unsigned char)word[i]) % 1000003;
	return h;
}

/* recursive: each level's return must be paired with its own entry */
__attribute__((noipa)) long fact(int n)
{
	long r;

	if (n <= 1)
		return 1;
	r = fact(n - 1);
	__asm__ volatile("" : "+r"(r));   /* keeps gcc from turning the recursion into a loop */
	return n * r;
}

/* through a pointer: glibc headers turn a direct atoi() into an inline strtol() at -O2 */
static int (*volatile to_int)(const char *) = atoi;

int main(void)
{
	char line[256], word[128], num[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	puts("ready");
	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "%127s %63s", word, num) != 2)
			continue;
		{ int n = to_int(num);

			printf("%ld %d\n", strcmp(word, "fact") ? compute(word, n) : fact(n), n); }
	}
	return 0;
}
'''


def go_hash(s):
    """What process(input) returns (same arithmetic as the Go code)."""
    h = 7
    for c in s.encode():
        h = (h * 31 + c) % 1000003
    return h


def c_compute(word, n):
    """compute(word, n) of the C program (C's % truncates toward zero)."""
    h = n
    for c in word.encode():
        v = h * 31 + c
        h = abs(v) % 1000003 * (-1 if v < 0 else 1)
    return h


def build_go(outdir, source=GO_SERVER, name="upsrv", variants=("plain", "stripped", "pie"),
             go="go", gocache=None):
    """Builds a Go program (the uprobe test server by default) unstripped, stripped (-s -w),
    stripped PIE and (asked for by name) unstripped PIE, with the toolchain `go`. Returns
    {variant: path}."""
    if not shutil.which(go):
        return None
    src = os.path.join(outdir, name + ".go")
    with open(src, "w") as f:
        f.write(source)
    env = dict(os.environ, HOME=outdir, GOCACHE=gocache or os.path.join(outdir, "gocache"),
               GOPATH=os.path.join(outdir, "gopath"), GO111MODULE="off", CGO_ENABLED="0",
               GOFLAGS="", GOTOOLCHAIN="local")
    builds = {"plain": [], "stripped": ["-ldflags=-s -w"],
              "pie": ["-buildmode=pie", "-ldflags=-s -w"], "pie_dwarf": ["-buildmode=pie"]}
    out = {}
    for variant, flags in builds.items():
        if variant not in variants:
            continue
        path = os.path.join(outdir, f"{name}_{variant}")
        subprocess.run([go, "build", "-o", path] + flags + [src], check=True, env=env,
                       cwd=outdir, capture_output=True, timeout=300)
        out[variant] = path
    return out


def build_c(outdir):
    src = os.path.join(outdir, "upprog.c")
    with open(src, "w") as f:
        f.write(C_PROG)
    path = os.path.join(outdir, "upprog")
    subprocess.run(["gcc", "-O2", "-g", "-o", path, src], check=True, capture_output=True)
    return path


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class GoServer:
    def __init__(self, path):
        self.port = free_port()
        self.log = open(path + ".%d.log" % self.port, "w+")
        self.proc = subprocess.Popen([path, str(self.port)], stdout=subprocess.PIPE,
                                     stderr=self.log, text=True)
        try:
            line = self.proc.stdout.readline()
            assert line.strip() == "ready", f"server did not start: {line!r}"
        except BaseException:
            self.stop()
            raise

    @property
    def pid(self):
        return self.proc.pid

    def get(self, inp, depth=0, small=0):
        """One request on a fresh connection; returns (result, seconds)."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        t = time.monotonic()
        c.request("GET", f"/?in={inp}&depth={depth}&small={small}")
        r = c.getresponse()
        body = r.read().decode()
        dt = time.monotonic() - t
        c.close()
        assert r.status == 200, body
        return int(body), dt

    def get_gid(self, inp):
        """process(inp) called from /gid: returns (result, goroutine id as the runtime says)."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        c.request("GET", f"/gid?in={inp}")
        res, gid = c.getresponse().read().decode().split()
        c.close()
        return int(res), int(gid)

    def concurrent(self, reqs):
        """reqs: [(input, depth)]; all at once. Returns {input: (result, seconds)}."""
        res = {}

        def one(i, d):
            res[i] = self.get(i, d)
        ts = [threading.Thread(target=one, args=r) for r in reqs]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        return res

    def alive(self):
        return self.proc.poll() is None

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def wait_attached(e, timeout=20.0):
    """ebee attaches its uprobes after loading: wait until its set of links stops growing, then
    record them so that stop() checks that all of them are gone."""
    from conftest import bpf_ids   # here: the benchmark imports this module without pytest
    deadline = time.time() + timeout
    last, since = None, time.time()
    while time.time() < deadline:
        links = bpf_ids(e.proc.pid, "link_id")
        if links != last:
            last, since = links, time.time()
        elif links and time.time() - since > 0.5:
            break
        time.sleep(0.05)
    e.links = last or set()
    e.progs = bpf_ids(e.proc.pid)
    return len(e.links)
