#!/usr/bin/env bash
# Install headless Chromium and its WebDriver (Debian packages) for the browser tests.
#
# Idempotent and non-interactive: does nothing when chromium, chromium-driver and the fonts are
# already installed. Needs root (or sudo) and access to the Debian package mirror.
set -euo pipefail

# Fonts: without them headless Chromium draws text as boxes; Liberation is metric-compatible with Arial.
PACKAGES=(chromium chromium-driver fonts-liberation fonts-dejavu-core)

have() { command -v "$1" >/dev/null 2>&1; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing=()
for p in "${PACKAGES[@]}"; do
    installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ] && [ -x /usr/bin/chromium ] && have chromedriver; then
    echo "chromium and chromedriver already installed: $(/usr/bin/chromium --version 2>/dev/null || true)"
    exit 0
fi
if ! have apt-get; then
    echo "install_browser.sh: apt-get not found; install chromium and chromedriver by hand" >&2
    exit 1
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
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "installed: $(/usr/bin/chromium --version 2>/dev/null || true); $(chromedriver --version 2>/dev/null || true)"
