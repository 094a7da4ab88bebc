/**
 * Which backend `auto` would pick, found without loading TensorFlow.js or initialising any
 * backend (cheap enough for cache keys and `status`).
 */
import { type BackendChoice, type ConcreteBackend, NATIVE } from "./choices.ts";
import { makeRuntimeDir } from "../util/runtime_dir.ts";
import { nativeContext } from "./native/context.ts";
import type { DnnlInfo } from "./native/dnnl.ts";

/** Adapter descriptions of software rasterisers, which are slower than wasm for training. */
const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader|software/i;

export function isSoftwareAdapter(info: GPUAdapterInfo): boolean {
  const name = [info.vendor, info.architecture, info.device, info.description].join(" ");
  return info.isFallbackAdapter || SOFTWARE_ADAPTER.test(name);
}

/** Without XDG_RUNTIME_DIR the GPU stack prints an error line on every probe: give it one. */
export function ensureRuntimeDir(): void {
  if (Deno.env.get("XDG_RUNTIME_DIR")) return;
  // Removed on exit by the CLI's main (cli/args.ts); a killed command's by the next one.
  Deno.env.set("XDG_RUNTIME_DIR", makeRuntimeDir());
}

export type NativeProbe =
  | { readonly ok: true; readonly info: DnnlInfo }
  | { readonly ok: false; readonly reason: string };

/** Whether oneDNN loads in this process (it needs --allow-ffi), and what it dispatches. */
export function probeNative(): NativeProbe {
  try {
    return { ok: true, info: nativeContext().dnnl.info };
  } catch (error) {
    if (error instanceof Error && error.message.startsWith("Cannot load")) {
      return { ok: false, reason: error.message };
    }
    throw error;
  }
}

let probed: Promise<ConcreteBackend> | undefined;

/**
 * The backend a choice stands for: the one place `auto` is resolved (probed once per
 * process), so that a stage's cache key (its runtime facts) and the engine it opens can never
 * name different backends.
 */
export async function resolveBackend(choice: BackendChoice): Promise<ConcreteBackend> {
  return choice === "auto" ? await probeAutoBackend() : choice;
}

/** tensorflow when tfjs-node(-gpu) resolves, webgpu on a hardware adapter, native where
 * oneDNN loads, else wasm. */
export function probeAutoBackend(): Promise<ConcreteBackend> {
  return probed ??= probe();
}

async function probe(): Promise<ConcreteBackend> {
  for (const pkg of ["tfjs-node-gpu", "tfjs-node"]) {
    try {
      import.meta.resolve(["@tensorflow", pkg].join("/"));
      return "tensorflow";
    } catch (error) {
      if (!(error instanceof TypeError)) throw error; // not resolvable: not installed
    }
  }
  if (await hardwareAdapter()) return "webgpu";
  return probeNative().ok ? NATIVE : "wasm";
}

/** Whether WebGPU offers a hardware adapter; not where the process may not write (the GPU
 * stack's runtime dir), as in a process run without --allow-write. */
async function hardwareAdapter(): Promise<boolean> {
  try {
    ensureRuntimeDir();
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) return false;
    throw error;
  }
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  const adapter = gpu ? await gpu.requestAdapter() : null;
  return adapter !== null && !isSoftwareAdapter(adapter.info);
}

/** The runtime facts a backend adds to cache keys and train.json: for native, oneDNN's
 * version and the instruction set it dispatches (results differ in the last bits by ISA). */
export function backendFacts(backend: ConcreteBackend): Record<string, string> {
  if (backend !== NATIVE) return { backend };
  const probe = probeNative();
  if (!probe.ok) return { backend };
  return { backend, onednn: probe.info.version, isa: probe.info.isa };
}
