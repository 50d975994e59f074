#!/bin/sh
# Installs playwright-core (pinned by package-lock.json) for the browser test, only when the
# pinned version is not already there (a checkout that ran an older pin gets the new one). It
# drives Debian's /usr/bin/chromium: no browser is downloaded.
set -e
cd "$(dirname "$0")"
want=$(node -p 'require("./package-lock.json").packages["node_modules/playwright-core"].version')
have=$(node -p 'require("./node_modules/playwright-core/package.json").version' 2>/dev/null || true)
[ "$have" = "$want" ] && exit 0
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null
