#!/usr/bin/env bash
# Install the customer pages' tools (web/package-lock.json) with npm ci. No browser is
# downloaded: the tests drive Debian's chromium (scripts/apt-packages.txt) through
# playwright-core, which never fetches one; PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD is belt and braces.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v npm >/dev/null; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian's npm"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends npm >/dev/null
  else
    echo "setup: npm is missing (install Node.js 20 or later with npm)" >&2
    exit 1
  fi
fi
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if ((major < 20)); then
  # playwright-core needs Node 20 (Debian 12's own nodejs is 18; the machine image ships 20).
  echo "setup: Node.js 20 or later is needed for web/ (found $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi
cd "$here/web"
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
