#!/usr/bin/env bash
# System packages campus_geo needs beyond PyPI, installed from Debian when missing:
# - fonts-noto-cjk: Chinese labels of charts and evidence maps (campus_geo/fonts.py);
# - chromium (only with --browser): the browser tests drive Debian's Chromium through
#   Playwright (executable_path=/usr/bin/chromium; no browser is ever downloaded).
# Run by `make demo`, `make test` and `.ci/run`. Without root or apt-get it only says
# what to install.
set -euo pipefail
want=()
if [ -z "$(fc-list :lang=zh family 2>/dev/null || true)" ]; then
    want+=(fonts-noto-cjk)
fi
if [ "${1:-}" = "--browser" ] && [ ! -x /usr/bin/chromium ]; then
    want+=(chromium)
fi
[ ${#want[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
else
    echo "campus_geo needs these system packages: ${want[*]} (Debian/Ubuntu: sudo apt-get install ${want[*]})" >&2
fi
