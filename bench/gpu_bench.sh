#!/usr/bin/env bash
# GPU benchmark in one run: the tfjs webgpu backend (bench/gpu_webgpu.ts under Deno) against
# PyTorch CUDA (bench/gpu_torch.py) on the same network, the paper's preset (RGB 112x112,
# width 64, fc_embed 64, fixed masks), batch 64 triplets. Prints one JSON object on stdout
# (logs on stderr) and copies it and each part's output to $OUT (or /tmp/gpu_bench).
#
#   bash bench/gpu_bench.sh              # on the GPU machine
#   bash bench/gpu_bench.sh --prepare    # here, before: writes .gpu/ for machines without
#                                        # Deno or node_modules (see below)
#
# The device machine has python3 with CUDA PyTorch but no Deno and no registry access, so
# --prepare puts into .gpu/ an xz-compressed copy of this Deno (about 30 MB) and a one-file
# bundle of gpu_webgpu.ts with its npm packages (about 1.6 MB). Add `/.gpu/` to
# .git/info/exclude and name `.gpu` in the run's carry list. If that machine lacks the Vulkan
# loader, also carry the `.gl` folder of debs described in the device README; it is
# unpacked here when present.
#
# The parts are capped at 180 s (PyTorch) and 300 s (webgpu, shader compilation included), so
# a device run with timeout_s 540 always returns the JSON.
# Exit status: 0 both parts measured; 1 one part failed (its "error" is in the JSON);
# 2 no NVIDIA GPU (nothing measured).
set -uo pipefail
cd "$(dirname "$0")/.."
PRESET=(--size 112 --channels 3 --width 64 --batch 64)
TORCH_TIMING=(--steps 5 --windows 3 --warmup 3)
WEBGPU_TIMING=(--steps 3 --windows 3 --warmup 2)
GPU_DIR=${GPU_BENCH_DIR:-.gpu} # where --prepare writes and the run looks

log() { echo "gpu_bench: $*" >&2; }

if [[ "${1:-}" == "--prepare" ]]; then
  set -e
  mkdir -p "$GPU_DIR"
  deno bundle --platform deno --minify -o "$GPU_DIR/gpu_webgpu.js" bench/gpu_webgpu.ts
  log "compressing $(command -v deno) (a minute)"
  xz -T2 -6 -c "$(readlink -f "$(command -v deno)")" >"$GPU_DIR/deno.xz"
  ls -la "$GPU_DIR" >&2
  log "now: echo /.gpu/ >>.git/info/exclude, and run with carry [\".gpu\"]"
  exit 0
fi

OUT_DIR=${OUT:-/tmp/gpu_bench}
mkdir -p "$OUT_DIR"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}

json_error() { # framework message -> one JSON line
  python3 -c 'import json,sys; print(json.dumps({"framework": sys.argv[1], "error": sys.argv[2]}))' "$1" "$2"
}

# 1. Is there an NVIDIA GPU at all?
if ! gpu_name=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1) ||
  [[ -z "$gpu_name" ]]; then
  message="no NVIDIA GPU: nvidia-smi failed or listed none (${gpu_name:-nvidia-smi not found}); this benchmark needs a CUDA machine"
  log "$message"
  python3 -c 'import json,sys; print(json.dumps({"gpu": None, "error": sys.argv[1]}))' "$message" |
    tee "$OUT_DIR/gpu_bench.json"
  exit 2
fi
log "GPU: $gpu_name"

# 2. PyTorch CUDA.
log "PyTorch CUDA: ${PRESET[*]} ${TORCH_TIMING[*]}"
timeout 180 python3 bench/gpu_torch.py "${PRESET[@]}" "${TORCH_TIMING[@]}" >"$OUT_DIR/torch.json"
torch_status=$?
[[ -s "$OUT_DIR/torch.json" ]] || json_error pytorch "gpu_torch.py exited with $torch_status and printed nothing (timeout 180 s?)" >"$OUT_DIR/torch.json"

# 3. tfjs webgpu under Deno: Vulkan loader and driver, a Deno, the script or its bundle.
webgpu_error=""
if compgen -G ".gl/*.deb" >/dev/null; then
  log "unpacking the carried Vulkan/EGL loaders in .gl/"
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [[ -z "${VK_DRIVER_FILES:-}" && -f "$nvidia_icd" ]]; then export VK_DRIVER_FILES=$nvidia_icd; fi
if ! ldconfig -p | grep 'libvulkan.so.1' >/dev/null; then # not -q: SIGPIPE + pipefail
  webgpu_error="no Vulkan loader (libvulkan.so.1) on this machine: carry the .gl debs (device README)"
fi
deno_bin=$(command -v deno || true)
if [[ -z "$deno_bin" && -f "$GPU_DIR/deno.xz" ]]; then
  deno_bin=/tmp/gpu_bench_deno
  xz -dc "$GPU_DIR/deno.xz" >"$deno_bin" && chmod +x "$deno_bin"
fi
if [[ -z "$deno_bin" ]]; then
  webgpu_error="Deno is not installed here: run 'bash bench/gpu_bench.sh --prepare' beforehand and carry .gpu"
fi
entry=bench/gpu_webgpu.ts
if [[ ! -d node_modules/@tensorflow/tfjs-backend-webgpu ]]; then
  entry=$GPU_DIR/gpu_webgpu.js
  [[ -f "$entry" ]] || webgpu_error="no node_modules and no $entry: run 'bash bench/gpu_bench.sh --prepare' and carry .gpu"
fi
if [[ -n "$webgpu_error" ]]; then
  log "webgpu: $webgpu_error"
  json_error tfjs "$webgpu_error" >"$OUT_DIR/webgpu.json"
else
  log "tfjs webgpu ($deno_bin, $entry): ${PRESET[*]} ${WEBGPU_TIMING[*]}"
  timeout 300 "$deno_bin" run -A --unstable-webgpu "$entry" "${PRESET[@]}" "${WEBGPU_TIMING[@]}" \
    >"$OUT_DIR/webgpu.json"
  webgpu_status=$?
  [[ -s "$OUT_DIR/webgpu.json" ]] || json_error tfjs "gpu_webgpu exited with $webgpu_status and printed nothing (timeout 300 s?)" >"$OUT_DIR/webgpu.json"
fi

# 4. One summary object.
python3 - "$gpu_name" "$OUT_DIR" <<'PY' | tee "$OUT_DIR/gpu_bench.json"
import json, sys
gpu, out = sys.argv[1], sys.argv[2]
def load(name):
    try:
        with open(f"{out}/{name}") as f:
            return json.loads(f.read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError) as e:
        return {"error": f"{name}: unreadable ({e})"}
torch_r, webgpu = load("torch.json"), load("webgpu.json")
summary = {"gpu": gpu, "torch": torch_r, "webgpu": webgpu}
base = torch_r.get("float32", {})
for kind in ("train", "eval"):
    key = f"{kind}_triplets_per_s"
    if key in webgpu and key in base:
        summary[f"{kind}_webgpu_over_torch_fp32"] = round(webgpu[key] / base[key], 4)
print(json.dumps(summary))
PY
grep -q '"error"' "$OUT_DIR/torch.json" "$OUT_DIR/webgpu.json" && exit 1
exit 0
