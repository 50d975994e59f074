#!/usr/bin/env bash
# ebee's main job, started by `make run`: the daemon. It watches ingress traffic on every
# interface that is up and serves the world map, /api/netwatch, /metrics and /healthz on
# 127.0.0.1:8700 (it prints the URL). Extra arguments go to `ebee serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
exec build/ebee serve "$@"
