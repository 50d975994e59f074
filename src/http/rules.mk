# ebee http reads Go struct offsets from DWARF (elfutils libdw) when the binary has it.
PKGS += libdw
