#!/usr/bin/env bash
# Installs what the browser test of viz.animate_backward needs on a fresh Debian machine (run as
# root): Debian's chromium and its chromedriver, and Selenium. Idempotent and quiet: it does
# nothing when they are already there.
set -euo pipefail

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
fi

if ! python -c "import selenium" >/dev/null 2>&1; then
    python -m pip install -q "selenium>=4.15"
fi
