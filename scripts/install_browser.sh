#!/usr/bin/env bash
# Install headless Chromium and its WebDriver (Debian packages) for the browser tests.
#
# Idempotent and non-interactive: does nothing when /usr/bin/chromium and chromedriver are
# already present. Needs root (or sudo) and access to the Debian package mirror.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

if [ -x /usr/bin/chromium ] && have chromedriver; then
    echo "chromium and chromedriver already installed: $(/usr/bin/chromium --version 2>/dev/null || true)"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif have sudo; then
    SUDO="sudo -n"
else
    echo "install_browser.sh: need root or sudo to apt-get install chromium" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends chromium chromium-driver fonts-dejavu-core
echo "installed: $(/usr/bin/chromium --version 2>/dev/null || true); $(chromedriver --version 2>/dev/null || true)"
