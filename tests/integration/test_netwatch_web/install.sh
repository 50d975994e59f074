#!/bin/sh
# Installs playwright-core (pinned by package-lock.json) for the browser test, only when it
# is missing. It drives Debian's /usr/bin/chromium: no browser is downloaded.
set -e
cd "$(dirname "$0")"
[ -f node_modules/playwright-core/package.json ] && exit 0
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null
