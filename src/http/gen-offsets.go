//go:build ignore

// Prints one row of src/http/offsets_table.h: the offsets of the fields ebee http reads, from
// the DWARF of a binary built by the Go toolchain being described (gen-offsets.sh builds it).
// This is Go's own DWARF reader, independent of the libdw reader in offsets.c, so a test can
// check one against the other.
package main

import (
	"debug/dwarf"
	"debug/elf"
	"fmt"
	"os"
	"strings"
)

var want = []struct{ typ, field, key string }{
	{"net/http.Request", "Method", "req_method"},
	{"net/http.Request", "URL", "req_url"},
	{"net/http.Request", "ContentLength", "req_content_length"},
	{"net/http.Request", "RemoteAddr", "req_remote_addr"},
	{"net/url.URL", "Host", "url_host"},
	{"net/url.URL", "Path", "url_path"},
	{"net/http.Response", "StatusCode", "resp_status_code"},
	{"runtime.g", "goid", "g_goid"},
	{"net/http.response", "status", "rw_status"},
}

func main() {
	f, err := elf.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	d, err := f.DWARF()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	got := map[string]int64{}
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil || e == nil {
			break
		}
		if e.Tag != dwarf.TagStructType {
			continue
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		t, err := d.Type(e.Offset)
		if err != nil {
			continue
		}
		st, ok := t.(*dwarf.StructType)
		if !ok {
			continue
		}
		for _, w := range want {
			if w.typ != name {
				continue
			}
			for _, fld := range st.Field {
				if fld.Name == w.field {
					got[w.key] = fld.ByteOffset
				}
			}
		}
	}
	var parts []string
	for _, w := range want {
		v, ok := got[w.key]
		if !ok {
			fmt.Fprintf(os.Stderr, "%s.%s not in the DWARF\n", w.typ, w.field)
			os.Exit(1)
		}
		parts = append(parts, fmt.Sprintf(".%s = %d", w.key, v))
	}
	fmt.Printf("\t{ \"%s\", { %s } },\n", os.Args[2], strings.Join(parts, ", "))
}
