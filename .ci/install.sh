#!/usr/bin/env bash
# Installs what csn needs on a registries-only machine: Deno (pinned, from npm), the npm
# packages of deno.lock (frozen), and the Debian packages the tests and benchmarks use.
set -euo pipefail
cd "$(dirname "$0")/.."
DENO_VERSION=2.9.6
if ! deno --version 2>/dev/null | grep -q "deno $DENO_VERSION"; then
  npm install -g "deno@$DENO_VERSION"
fi
# The first call right after install can fail with "Text file busy".
for attempt in 1 2 3; do
  if deno --version >/dev/null 2>&1; then break; fi
  sleep 2
done
deno --version
deno install --frozen

# Headless Chromium for the dashboard/report browser test (driven by playwright-core).
if [ ! -x /usr/bin/chromium ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
fi

# PIL for the preprocess benchmark's reference (bench/preprocess_ref.py, run with /usr/bin/python3).
if ! /usr/bin/python3 -c "import PIL" 2>/dev/null; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-pil
fi
