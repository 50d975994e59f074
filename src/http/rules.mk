# ebee http reads Go struct offsets from DWARF (elfutils libdw) when the binary has it.
PKGS += libdw
# fuzz target tests/fuzz/fuzz_route.c: the route normaliser and histogram alone
FUZZ_route := src/http/route.c src/http/hist.c
