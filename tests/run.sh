#!/usr/bin/env bash
# The test command (README, .ci/run): on a fresh machine it sets up everything the suite needs.
#
#   bash tests/run.sh              # the suite (slow end-to-end tests excluded), < 15 min on 2 cores
#   bash tests/run.sh -m slow      # only the slow end-to-end tests (training, full recipes)
#   bash tests/run.sh tests/surgery -x   # any pytest arguments
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the recipe tests synthesise or decode speech with, and the browser the page tests
# read the reports in (installed when root; without them those tests skip, and fail under CI=true).
packages=(espeak-ng flite festival festvox-kdlpc16k wordnet-base fortunes-min
          asterisk-core-sounds-en asterisk-core-sounds-en-g722 chromium)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})) && ((EUID == 0)) && command -v apt-get >/dev/null; then
  echo "installing Debian packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
elif ((${#missing[@]})); then
  echo "note: tests that need ${missing[*]} will skip (sudo apt-get install ${missing[*]})"
fi

if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

export TF_CPP_MIN_LOG_LEVEL=2 PYTHONUNBUFFERED=1
exec .venv/bin/python -m pytest "$@"
