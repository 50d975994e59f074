#!/bin/sh
# Installs the schema validators (pinned by package-lock.json) for the deploy test, only when
# the pinned version is not already there.
set -e
cd "$(dirname "$0")"
want=$(node -p 'require("./package-lock.json").packages["node_modules/kubernetes-models"].version')
have=$(node -p 'require("./node_modules/kubernetes-models/package.json").version' 2>/dev/null || true)
[ "$have" = "$want" ] && exit 0
npm ci --no-audit --no-fund --loglevel=error >/dev/null
