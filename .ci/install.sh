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

# Debian packages the tests use, installed in one apt run when any is missing:
# - libdnnl2: oneDNN for the native backend (loaded with Deno's FFI; the native kernel tests);
# - chromium: headless browser for the dashboard/report tests (driven by playwright-core);
# - python3-numpy: the README's Python shard reader (tests/shards_python_test.ts);
# - python3-onnx: the ONNX project's model checker, run on csn's ONNX export
#   (tests/weights_onnx_test.ts);
# - slurmctld, slurmd, slurm-client, munge: a single-node SLURM cluster for the executor's tests
#   (tests/support/slurm.ts writes its configuration and starts it on 127.0.0.1).
missing=()
ldconfig -p | grep 'libdnnl\.so\.2 ' >/dev/null || missing+=(libdnnl2)
[ -x /usr/bin/chromium ] || missing+=(chromium)
/usr/bin/python3 -c "import numpy" 2>/dev/null || missing+=(python3-numpy)
/usr/bin/python3 -c "import onnx" 2>/dev/null || missing+=(python3-onnx)
for tool in sbatch slurmctld slurmd munged; do
  if ! command -v "$tool" >/dev/null; then
    missing+=(slurmctld slurmd slurm-client munge)
    break
  fi
done
# With --bench, also the references the benchmarks run beside csn (not needed by the tests):
# PyTorch for train_ref.py, PIL for preprocess_ref.py and glyph_ref.py, hyperfine, and
# OpenBLAS (pthread build), which update-alternatives then makes PyTorch's libblas.so.3 (the
# netlib reference BLAS it gets otherwise is about 15x slower at matmul).
if [ "${1:-}" = "--bench" ]; then
  /usr/bin/python3 -c "import torch" 2>/dev/null || missing+=(python3-torch python3-torchvision)
  [ -e /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 ] || missing+=(libopenblas0-pthread)
  /usr/bin/python3 -c "import PIL" 2>/dev/null || missing+=(python3-pil)
  command -v hyperfine >/dev/null || missing+=(hyperfine)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
