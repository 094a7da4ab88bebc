/**
 * Which backend `auto` would pick, found without loading TensorFlow.js or initialising any
 * backend (cheap enough for cache keys and `status`).
 */
import type { BackendChoice } from "./choices.ts";

/** Adapter descriptions of software rasterisers, which are slower than wasm for training. */
const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader|software/i;

export function isSoftwareAdapter(info: GPUAdapterInfo): boolean {
  const name = [info.vendor, info.architecture, info.device, info.description].join(" ");
  return info.isFallbackAdapter || SOFTWARE_ADAPTER.test(name);
}

/** Without XDG_RUNTIME_DIR the GPU stack prints an error line on every probe: give it one. */
export function ensureRuntimeDir(): void {
  if (Deno.env.get("XDG_RUNTIME_DIR")) return;
  const dir = Deno.makeTempDirSync({ prefix: "csn-xdg-" });
  Deno.chmodSync(dir, 0o700);
  Deno.env.set("XDG_RUNTIME_DIR", dir);
}

let probed: Promise<Exclude<BackendChoice, "auto">> | undefined;

/** tensorflow when tfjs-node(-gpu) resolves, webgpu on a hardware adapter, else wasm. */
export function probeAutoBackend(): Promise<Exclude<BackendChoice, "auto">> {
  return probed ??= probe();
}

async function probe(): Promise<Exclude<BackendChoice, "auto">> {
  for (const pkg of ["tfjs-node-gpu", "tfjs-node"]) {
    try {
      import.meta.resolve(["@tensorflow", pkg].join("/"));
      return "tensorflow";
    } catch (error) {
      if (!(error instanceof TypeError)) throw error; // not resolvable: not installed
    }
  }
  ensureRuntimeDir();
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  const adapter = gpu ? await gpu.requestAdapter() : null;
  return adapter && !isSoftwareAdapter(adapter.info) ? "webgpu" : "wasm";
}
