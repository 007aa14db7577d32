#!/bin/sh
# Install what the tests need from Debian: Chromium and the Noto CJK fonts for the
# headless-browser tests (tests/test_*browser*.py, bench/viz.py), and docker-compose,
# which checks docker-compose.yml offline (tests/test_deploy.py; no engine needed).
#
# Why Debian's packages: `playwright install` downloads a browser from the internet,
# which intranet machines cannot do; Debian's chromium comes from the same apt mirror
# as everything else. fonts-noto-cjk is needed because vis-network draws labels on a
# canvas, and headless Chromium without a CJK font draws Chinese names as boxes.
#
# Idempotent: does nothing when /usr/bin/chromium and a CJK font are present. Needs
# root for apt-get; without apt (not Debian) it prints one line and exits 0, so CI on
# another system skips the browser tests instead of failing here.
set -eu

have_font() {
    command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh 2>/dev/null | head -n 1)" ]
}

if [ -x /usr/bin/chromium ] && have_font && command -v docker-compose >/dev/null 2>&1; then
    echo "install-test-deps: chromium, CJK fonts and docker-compose already installed"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-test-deps: apt-get not available; browser tests will be skipped"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-test-deps: needs root for apt-get; browser tests will be skipped"
        exit 0
    fi
fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends chromium fonts-noto-cjk fontconfig docker-compose; then
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends chromium fonts-noto-cjk fontconfig docker-compose
fi
echo "install-test-deps: installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
