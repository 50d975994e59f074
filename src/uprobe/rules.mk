# ebee uprobe disassembles Go functions to find RET instructions and the stack-check prologue.
PKGS += capstone
