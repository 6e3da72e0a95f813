#!/usr/bin/env bash
# Makes sure Debian's headless-capable Chromium is at /usr/bin/chromium for the explorer's browser test
# (test/integration/explorer-browser.test.ts drives it with playwright-core; no browser is downloaded from
# anywhere but Debian's archive). Installs the `chromium` package when it is missing. Idempotent; run by
# jest's globalSetup, so `npm test` and `.ci/run` need no hand steps on a fresh machine. Exits non-zero
# when it cannot be had, and the browser test then fails saying so.
set -euo pipefail
BIN="${CHROMIUM_PATH:-/usr/bin/chromium}"

works() { [ -x "$BIN" ] && "$BIN" --headless=new --no-sandbox --version >/dev/null 2>&1; }

if works; then exit 0; fi

echo "ensure-chromium: installing chromium (Debian package) for the explorer's browser test" >&2
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq >&2 || true
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >&2
if works; then exit 0; fi
echo "ensure-chromium: $BIN still does not run after installing the chromium package" >&2
exit 1
