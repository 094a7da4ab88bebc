/**
 * Training and evaluation throughput of the project's tfjs model (shared/model: CsnModel,
 * tripletLoss, Adam) on the webgpu backend, measured as bench/train_ref.py measures PyTorch:
 * synthetic triplets, warm-up steps excluded, median of timed windows, one JSON line on
 * stdout. Run by bench/gpu_bench.sh beside bench/gpu_torch.py.
 *
 * train_triplets_per_s and eval_triplets_per_s time the library's own trainStep and
 * evaluateTriplets (what the train stage runs: reads with `await data()`, since under Deno
 * tfjs's webgpu cannot dataSync; the gradients make one round trip through the host, as
 * data-parallel workers need). device_train_triplets_per_s times the same step with the
 * gradients kept on the GPU (Adam.apply on the gradient tensors), to show that round trip's
 * cost.
 *
 *   deno run -A --unstable-webgpu bench/gpu_webgpu.ts --size 112 --channels 3 --width 64 \
 *     --batch 64 --steps 3 --windows 3 --warmup 2
 *
 * Without a usable GPU it prints {"error": ...} (and says why on stderr) and exits with 2.
 * --allow-software accepts a software adapter (lavapipe), to test this script on a CPU.
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import { CsnModel, type TripletImages } from "../shared/model/csn.ts";
import { REFERENCE_LOSS, tripletLoss } from "../shared/model/loss.ts";
import { Adam } from "../shared/model/optim.ts";
import { evaluateTriplets, trainStep } from "../tests/support/step.ts";

const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader|software/i;

class NoGpu extends Error {}

/** Starts tfjs's webgpu backend on the first adapter; returns the adapter's description. */
async function startWebgpu(allowSoftware: boolean): Promise<string> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) {
    throw new NoGpu("navigator.gpu is missing: run Deno with --unstable-webgpu");
  }
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) {
    throw new NoGpu(
      "navigator.gpu.requestAdapter() found no adapter: no GPU, or no Vulkan loader/driver " +
        "(libvulkan.so.1 and the vendor's ICD) on this machine",
    );
  }
  const i = adapter.info;
  const name = [i.vendor, i.architecture, i.device, i.description].filter((s) => s).join(" ");
  if ((i.isFallbackAdapter || SOFTWARE_ADAPTER.test(name)) && !allowSoftware) {
    throw new NoGpu(`the only WebGPU adapter is a software renderer (${name})`);
  }
  await import("@tensorflow/tfjs-backend-webgpu");
  if (!(await tf.setBackend("webgpu"))) {
    throw new NoGpu(`tfjs's webgpu backend did not initialise on adapter ${name}`);
  }
  await tf.ready();
  return name;
}

/** Forward GFLOP of one image: 2 x multiply-adds of every conv and the Linear (as
 * train_ref.py's hook count). Output sides: floor((s + 2p - k) / stride) + 1. */
export function forwardGflop(
  size: number,
  inChannels: number,
  width: number,
  embed: number,
): number {
  const side = (s: number, k: number, stride: number, pad: number) =>
    Math.floor((s + 2 * pad - k) / stride) + 1;
  let s = side(size, 7, 2, 3);
  let macs = s * s * width * inChannels * 49;
  s = side(s, 3, 2, 1); // max-pool
  let c = width;
  for (const [layer, stride] of [[1, 1], [2, 2], [3, 2]] as const) {
    const out = width * 2 ** (layer - 1);
    for (const first of [true, false]) {
      const st = first ? stride : 1;
      const so = side(s, 3, st, 1);
      macs += so * so * out * c * 9 + so * so * out * out * 9;
      if (first && st !== 1) macs += so * so * out * c; // 1x1 downsample
      s = so;
      c = out;
    }
  }
  return (2 * (macs + c * embed)) / 1e9;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function windows(
  fn: () => Promise<void>,
  warmup: number,
  count: number,
  steps: number,
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let w = 0; w < count; w++) {
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) await fn(); // each step awaits its loss: GPU work done
    out.push((performance.now() - t0) / 1000);
  }
  return out;
}

/** Forward (three passes), loss, backward, Adam; only the loss comes back to the host. */
async function deviceTrainStep(model: CsnModel, adam: Adam, batch: TripletImages): Promise<number> {
  const params = model.trainable;
  const { value, grads } = tf.variableGrads(
    () => tripletLoss(model.forward(batch, { training: true }), REFERENCE_LOSS).total,
    params.map((p) => p.variable),
  );
  const list = params.map((p) => grads[p.variable.name] ?? tf.zerosLike(p.variable));
  adam.apply(list, 5e-5);
  const loss = (await value.data())[0]!;
  tf.dispose([value, ...list]);
  return loss;
}

function syntheticBatch(n: number, imageSize: number, conditions: number): TripletImages {
  let x = 12345;
  const fill = () =>
    Float32Array.from({ length: n * imageSize }, () => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0; // LCG: cheap, deterministic
      return x / 2 ** 31 - 1;
    });
  return {
    anchor: fill(),
    far: fill(),
    close: fill(),
    conditions: Int32Array.from({ length: n }, (_, i) => i % conditions),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      size: { type: "string", default: "112" },
      channels: { type: "string", default: "3" },
      width: { type: "string", default: "64" },
      batch: { type: "string", default: "64" },
      // Triplets per forward/backward pass of the library step (0: the whole batch).
      "micro-batch": { type: "string", default: "0" },
      steps: { type: "string", default: "3" },
      windows: { type: "string", default: "3" },
      warmup: { type: "string", default: "2" },
      "allow-software": { type: "boolean", default: false },
      // cpu: the same steps on tfjs's plain JS backend, to cross-check first_loss.
      backend: { type: "string", default: "webgpu" },
    },
  });
  const num = (key: keyof typeof values, min: number): number => {
    const v = Number(values[key]);
    if (!Number.isInteger(v) || v < min) {
      throw new RangeError(
        `Cannot read gpu_webgpu.ts --${key} "${values[key]}": expected an integer >= ${min}`,
      );
    }
    return v;
  };
  const [size, channels, width, batch] = [
    num("size", 16),
    num("channels", 1),
    num("width", 1),
    num("batch", 1),
  ];
  const [steps, count, warmup] = [num("steps", 1), num("windows", 1), num("warmup", 0)];
  const microBatch = num("micro-batch", 0) || batch;
  if (values.backend !== "webgpu" && values.backend !== "cpu") {
    throw new RangeError(
      `Cannot read gpu_webgpu.ts --backend "${values.backend}": expected webgpu or cpu`,
    );
  }
  let adapter = "none (cpu backend)";
  try {
    if (values.backend === "webgpu") adapter = await startWebgpu(values["allow-software"]);
    else await tf.setBackend("cpu");
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    console.error(`gpu_webgpu: no usable GPU: ${message}`);
    console.log(JSON.stringify({ framework: "tfjs", backend: values.backend, error: message }));
    Deno.exit(2);
  }
  console.error(`gpu_webgpu: adapter ${adapter}, tfjs ${tf.version.tfjs}`);
  const conditions = 4, embed = 64;
  const model = new CsnModel({
    mode: "csn",
    masks: "fixed",
    nConditions: conditions,
    backbone: { inChannels: channels, inputSize: size, width, embedDim: embed },
    seed: 1,
  });
  const adam = new Adam(model.trainable);
  const data = syntheticBatch(batch, model.imageSize, conditions);
  const options = { microBatch, lr: 5e-5 };
  const t0 = performance.now();
  const loss0 = (await trainStep(model, adam, data, options)).loss;
  const firstStep = (performance.now() - t0) / 1000; // includes shader compilation
  if (!Number.isFinite(loss0)) {
    throw new Error(
      `Cannot benchmark gpu_webgpu: the first loss is ${loss0}, expected a finite number`,
    );
  }
  const tensorsBefore = tf.memory().numTensors;
  const train = await windows(
    async () => {
      await trainStep(model, adam, data, options);
    },
    warmup,
    count,
    steps,
  );
  const evals = await windows(
    async () => {
      await evaluateTriplets(model, data, options);
    },
    warmup,
    count,
    steps,
  );
  const leaked = tf.memory().numTensors - tensorsBefore;
  const device = await windows(
    async () => {
      await deviceTrainStep(model, adam, data);
    },
    warmup,
    count,
    steps,
  );
  const fwd = forwardGflop(size, channels, width, embed);
  const trainTps = (batch * steps) / median(train), evalTps = (batch * steps) / median(evals);
  const deviceTps = (batch * steps) / median(device);
  console.log(JSON.stringify({
    framework: "tfjs",
    tfjs: tf.version.tfjs,
    backend: tf.getBackend(),
    adapter,
    size,
    channels,
    width,
    embed,
    masks: "fixed",
    batch,
    micro_batch: microBatch,
    steps_per_window: steps,
    windows: count,
    warmup,
    first_step_s: +firstStep.toFixed(3),
    first_loss: loss0,
    train_triplets_per_s: +trainTps.toFixed(3),
    eval_triplets_per_s: +evalTps.toFixed(3),
    device_train_triplets_per_s: +deviceTps.toFixed(3),
    train_window_s: train.map((t) => +t.toFixed(4)),
    eval_window_s: evals.map((t) => +t.toFixed(4)),
    device_train_window_s: device.map((t) => +t.toFixed(4)),
    train_method: "library trainStep: forward x3, tripletLoss, gradients read to the host, " +
      "Adam.apply (as each data-parallel worker runs it)",
    eval_method: "library evaluateTriplets: three forward passes per triplet, BatchNorm eval " +
      "mode, distances read back",
    device_train_method: "the same step with the gradients kept on the GPU",
    tensors_leaked_by_library_steps: leaked,
    gflop_per_image_forward: +fwd.toFixed(4),
    gflop_per_triplet: +(9 * fwd).toFixed(4),
    train_gflop_per_s: +(trainTps * 9 * fwd).toFixed(2),
    eval_gflop_per_s: +(evalTps * 3 * fwd).toFixed(2),
  }));
  model.dispose();
}

if (import.meta.main) await main();
