#!/usr/bin/env bash
# What `make test` needs besides the Python packages: Prometheus and promtool (Debian's
# `prometheus`), which the metrics tests run for real. Installed when missing and we are root;
# otherwise stop at once with the command to run.
set -euo pipefail

command -v prometheus >/dev/null && command -v promtool >/dev/null && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "The metrics tests need Prometheus and promtool: run \`sudo apt-get install prometheus\`, then make test again." >&2
    exit 1
fi

# Installing the package must not leave a packaged service running on :9090: a policy-rc.d
# that denies service starts is in place for the install unless the machine already has one.
created_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    created_policy=yes
fi
trap '[ -z "$created_policy" ] || rm -f /usr/sbin/policy-rc.d' EXIT
echo "[test] installing prometheus (Debian package) for the metrics tests"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
