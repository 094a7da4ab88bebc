/**
 * Chooses and initialises the TensorFlow.js backend: tensorflow (tfjs-node-gpu / tfjs-node,
 * when the user installed them), webgpu (a real GPU adapter only), native (wasm with oneDNN
 * kernels, where libdnnl.so.2 loads), wasm, cpu.
 */
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";

import { BACKEND_CHOICES, type BackendChoice, type ConcreteBackend, NATIVE } from "./choices.ts";
import { ensureRuntimeDir, isSoftwareAdapter, probeNative, resolveBackend } from "./probe.ts";
import { INSTALL_HINT } from "./native/dnnl.ts";
import { maxPoolGradKernel } from "./wasm_max_pool_grad.ts";

export interface SelectedBackend {
  /** tfjs backend name: "tensorflow", "webgpu", "native", "wasm" or "cpu". */
  readonly name: ConcreteBackend;
  /** Why it was chosen (and why the ones before it were not, for "auto"). */
  readonly reason: string;
}

const TFJS_NODE_HINT = "install it with `deno add npm:@tensorflow/tfjs-node@" + tf.version.tfjs +
  "` (or npm:@tensorflow/tfjs-node-gpu@" + tf.version.tfjs + " for CUDA) and run " +
  "`deno approve-scripts`; note its install script downloads libtensorflow from " +
  "storage.googleapis.com, which machines that reach only package registries cannot";

function message(e: unknown): string {
  return e instanceof Error ? e.message.split("\n")[0]! : String(e);
}

async function tryTensorflow(detailed: boolean): Promise<string> {
  const failures: string[] = [];
  for (const pkg of ["tfjs-node-gpu", "tfjs-node"]) {
    // Computed so that `deno check` and the lockfile never need these optional packages.
    const specifier = ["@tensorflow", pkg].join("/");
    try {
      await import(specifier);
    } catch (e) {
      failures.push(`${specifier}: ${message(e)}`);
      continue;
    }
    if (!(await tf.setBackend("tensorflow"))) {
      throw new Error(
        `Cannot start the tensorflow backend: ${specifier} loaded but the backend did not ` +
          `initialise (is it built for @tensorflow/tfjs ${tf.version.tfjs}?)`,
      );
    }
    return `${specifier} is installed`;
  }
  if (!detailed) {
    throw new Error(
      "Cannot start the tensorflow backend: neither @tensorflow/tfjs-node-gpu nor tfjs-node " +
        "is installed",
    );
  }
  throw new Error(
    `Cannot start the tensorflow backend: it needs @tensorflow/tfjs-node-gpu or ` +
      `@tensorflow/tfjs-node; ${TFJS_NODE_HINT}. (${failures.join("; ")})`,
  );
}

async function tryWebgpu(): Promise<string> {
  ensureRuntimeDir();
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  const cannot = "Cannot start the webgpu backend";
  if (!gpu) throw new Error(`${cannot}: navigator.gpu is not available in this runtime`);
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error(`${cannot}: navigator.gpu.requestAdapter() found no adapter`);
  const info = adapter.info;
  const name = [info.vendor, info.architecture, info.device, info.description]
    .filter((s) => s !== "").join(" ");
  if (isSoftwareAdapter(info)) {
    throw new Error(`${cannot}: the only WebGPU adapter is a software renderer (${name})`);
  }
  await import("@tensorflow/tfjs-backend-webgpu");
  if (!(await tf.setBackend("webgpu"))) {
    throw new Error(`${cannot}: the backend did not initialise on adapter ${name}`);
  }
  return `WebGPU adapter ${name}`;
}

/** Directory URL of the .wasm binaries shipped with @tensorflow/tfjs-backend-wasm. */
export function wasmDirectory(): string {
  const entry = import.meta.resolve("@tensorflow/tfjs-backend-wasm");
  if (!entry.startsWith("file:")) {
    throw new Error(
      `Cannot locate the tfjs wasm binaries: @tensorflow/tfjs-backend-wasm resolved to ` +
        `${entry}, expected a file: URL (deno.json needs "nodeModulesDir": "auto")`,
    );
  }
  return new URL(".", entry).href;
}

let wasmPathsSet = false;

/** Points tfjs at the wasm binaries and replaces its broken MaxPoolGrad (once). */
function prepareWasm(): void {
  if (wasmPathsSet) return;
  setWasmPaths(wasmDirectory());
  tf.unregisterKernel("MaxPoolGrad", "wasm");
  tf.registerKernel(maxPoolGradKernel("wasm"));
  wasmPathsSet = true;
}

async function tryWasm(): Promise<string> {
  prepareWasm();
  if (!(await tf.setBackend("wasm"))) {
    throw new Error("Cannot start the wasm backend: tfjs did not initialise it");
  }
  return "portable WebAssembly backend";
}

let nativeRegistered = false;

async function tryNative(): Promise<string> {
  const probe = probeNative();
  if (!probe.ok) throw new Error(probe.reason);
  if (!nativeRegistered) {
    prepareWasm();
    const { registerNativeBackend } = await import("./native/register.ts");
    registerNativeBackend();
    nativeRegistered = true;
  }
  if (!(await tf.setBackend(NATIVE))) {
    throw new Error("Cannot start the native backend: tfjs did not initialise it");
  }
  const { version, isa, runtime } = probe.info;
  return `oneDNN ${version} (${isa}, ${runtime} threads) on the wasm backend`;
}

async function tryCpu(): Promise<string> {
  if (!(await tf.setBackend("cpu"))) {
    throw new Error("Cannot start the cpu backend: tfjs did not initialise it");
  }
  return "plain JavaScript backend";
}

const ATTEMPTS: Record<ConcreteBackend, (detailed: boolean) => Promise<string>> = {
  tensorflow: tryTensorflow,
  webgpu: tryWebgpu,
  native: tryNative,
  wasm: tryWasm,
  cpu: tryCpu,
};

let hinted = false;

/** Said once per process: training is several times faster with oneDNN. */
function logNativeHintOnce(log: (message: string) => void): void {
  if (hinted) return;
  hinted = true;
  log(`backend: the native backend (oneDNN) is several times faster for training; ${INSTALL_HINT}`);
}

/**
 * Sets the global tfjs backend. An explicit choice that cannot start is an error; "auto"
 * starts the backend resolveBackend names (tensorflow, webgpu, native, else wasm: the one the
 * cache key was made with), and says how to get oneDNN when it fell to wasm for want of it.
 */
export async function selectBackend(
  choice: BackendChoice,
  log: (message: string) => void,
  /** `choice` is what "auto" settled on (probed once for several workers). */
  autoChosen = false,
): Promise<SelectedBackend> {
  const name = await resolveBackend(choice);
  const attempt = ATTEMPTS[name];
  if (!attempt) {
    throw new TypeError(
      `Cannot select backend "${choice}": expected one of ${BACKEND_CHOICES.join(", ")}`,
    );
  }
  if (choice !== "auto") {
    const why = await attempt(true);
    if (autoChosen) {
      // As the auto path below says it: the user asked for auto, not for this backend.
      log(`backend: ${name} (auto: ${why})`);
      return { name, reason: why };
    }
    const reason = `requested; ${why}`;
    log(`backend: ${name} (${reason})`);
    return { name, reason };
  }
  const native = name === "wasm" ? probeNative() : undefined;
  const skipped = native && !native.ok ? `; skipped ${NATIVE}: ${native.reason}` : "";
  const reason = `${await attempt(false)}${skipped}`;
  log(`backend: ${name} (auto: ${reason})`);
  if (skipped) logNativeHintOnce(log);
  return { name, reason };
}
