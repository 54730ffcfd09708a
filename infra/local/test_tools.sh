#!/usr/bin/env bash
# What `make test` needs besides the Python packages (Debian packages, installed when missing and we
# are root; otherwise stop at once with the command to run):
#   prometheus (prometheus, promtool)  the metrics tests run them for real
#   chromium                           the Swagger UI test drives it headless (Playwright, tests/e2e/test_swagger_ui.py)
#   (and Node.js 20 with npm for the web app: checked, never installed here)
set -euo pipefail

if ! command -v npm >/dev/null || ! node -e 'process.exit(Number(process.versions.node.split(".")[0] < 20))'; then
    echo "The web app (web/) needs Node.js 20 or later with npm: install it (e.g. \`sudo apt-get install nodejs npm\`), then make test again." >&2
    exit 1
fi

missing=()
{ command -v prometheus >/dev/null && command -v promtool >/dev/null; } || missing+=(prometheus)
command -v chromium >/dev/null || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "The tests need ${missing[*]}: run \`sudo apt-get install ${missing[*]}\`, then make test again." >&2
    exit 1
fi

# Installing the packages must not leave a packaged service running (prometheus on :9090): a
# policy-rc.d that denies service starts is in place for the install unless the machine already has one.
created_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    created_policy=yes
fi
trap '[ -z "$created_policy" ] || rm -f /usr/sbin/policy-rc.d' EXIT
echo "[test] installing ${missing[*]} (Debian packages) for the tests"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
