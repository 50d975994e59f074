#!/usr/bin/env bash
# ebee's main job, started by `make run`: a live view of who forks, per uid and syscall.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "ebee: counting clone/fork per uid every 2 s (Ctrl-C to stop)" >&2
exec build/ebee count --by uid,comm,syscall --interval 2 "$@"
