/**
 * The measurements behind bench/train_bench.ts: csn through the real engine
 * (shared/engine/engine.ts Engine, Deno workers with a wasm backend each), PyTorch through
 * bench/train_ref.py, and one wasm thread's convolution and matmul rates.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../shared/util/rng.ts";
import { selectBackend } from "../shared/engine/backend.ts";
import type { TripletImages } from "../shared/model/csn.ts";
import { scoreTriplets } from "../shared/eval/triplet_scores.ts";
import { Engine } from "../shared/engine/engine.ts";
import process from "node:process";
import { median } from "./timing.ts";
import type { Precision } from "../shared/engine/precision.ts";

export interface BenchCase {
  readonly name: string;
  readonly size: number;
  readonly channels: number;
  readonly width: number;
  /** Triplets per optimiser step (csn and PyTorch alike). */
  readonly batch: number;
  /** Triplets per forward/backward pass in each csn worker. */
  readonly microBatch: number;
  readonly steps: number;
  readonly windows: number;
}

export const CONDITIONS = 4, EMBED = 64;
const LR = 5e-5;

/** N(0, 1) pixels: what normalised images look like to the network. */
function syntheticImages(count: number, pixels: number, rng: Rng): Float32Array {
  const out = new Float32Array(count * pixels);
  for (let i = 0; i < out.length; i++) out[i] = rng.normal();
  return out;
}

async function timedWindows(
  fn: () => Promise<unknown>,
  warmup: number,
  windows: number,
  steps: number,
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let w = 0; w < windows; w++) {
    const start = performance.now();
    for (let i = 0; i < steps; i++) await fn();
    out.push((performance.now() - start) / 1000);
  }
  return out;
}

/** Triplets/s of the median, slowest and fastest windows (as train_ref.py reports them). */
export interface Spread {
  readonly median: number;
  readonly slowest: number;
  readonly fastest: number;
}

export function spread(triplets: number, windows: readonly number[]): Spread {
  const r = (s: number) => +(triplets / s).toFixed(3);
  return {
    median: r(median(windows)),
    slowest: r(Math.max(...windows)),
    fastest: r(Math.min(...windows)),
  };
}

export interface CsnFigures {
  readonly workers: number;
  readonly train_triplets_per_s: number;
  readonly eval_triplets_per_s: number;
  readonly train_triplets_per_s_spread: Spread;
  readonly train_cpu_ms_per_triplet: number;
  readonly eval_triplets_per_s_spread: Spread;
  readonly train_window_s: number[];
  readonly eval_window_s: number[];
  readonly startup_s: number;
}

/** Trains and evaluates one case with `workers` Deno workers. */
export async function measureCsn(
  c: BenchCase,
  workers: number,
  backend: "wasm" | "native" = "wasm",
  precision: Precision = "fp32",
): Promise<CsnFigures> {
  const started = performance.now();
  const pool = await Engine.open({
    workers,
    model: {
      config: {
        mode: "csn",
        masks: "fixed",
        nConditions: CONDITIONS,
        backbone: { inChannels: c.channels, inputSize: c.size, width: c.width, embedDim: EMBED },
        seed: 0,
      },
      backend,
    },
    training: {
      microBatch: c.microBatch,
      batched: false,
      precision,
      loss: { margin: 0.2, embed: 5e-3, mask: 5e-4 },
    },
    log: () => {},
  });
  const startup = (performance.now() - started) / 1000;
  try {
    const pixels = c.size * c.size * c.channels;
    const rng = new Rng(1);
    const batch: TripletImages = {
      anchor: syntheticImages(c.batch, pixels, rng),
      far: syntheticImages(c.batch, pixels, rng),
      close: syntheticImages(c.batch, pixels, rng),
      conditions: Int32Array.from({ length: c.batch }, (_, i) => i % CONDITIONS),
    };
    const cpu = process.cpuUsage();
    const train = await timedWindows(() => pool.step(batch, pixels, LR), 1, c.windows, c.steps);
    const used = process.cpuUsage(cpu);
    // Eval: the batch's 3n images embedded once each, then its n triplets scored.
    const images = new Float32Array(3 * c.batch * pixels);
    [batch.anchor, batch.far, batch.close].forEach((a, k) => images.set(a, k * c.batch * pixels));
    const table = new Int32Array(4 * c.batch);
    for (let t = 0; t < c.batch; t++) {
      table.set([t, c.batch + t, 2 * c.batch + t, t % CONDITIONS], 4 * t);
    }
    const masks = (await pool.masks())!;
    const evaluate = async () => {
      const [embeddings] = await pool.embed(images, 3 * c.batch, pixels);
      const scores = scoreTriplets(embeddings!, EMBED, masks, table);
      if (scores.triplets !== c.batch) {
        throw new Error(
          `Cannot evaluate in train_bench: scored ${scores.triplets} triplets, expected ${c.batch}`,
        );
      }
    };
    const evals = await timedWindows(evaluate, 1, c.windows, c.steps);
    return {
      workers,
      train_triplets_per_s: (c.batch * c.steps) / median(train),
      eval_triplets_per_s: (c.batch * c.steps) / median(evals),
      train_triplets_per_s_spread: spread(c.batch * c.steps, train),
      // Process CPU ms per training triplet, warm-up step included (every worker's thread).
      train_cpu_ms_per_triplet: +(
        (used.user + used.system) / 1000 / (c.batch * c.steps * (c.windows + 1))
      ).toFixed(3),
      eval_triplets_per_s_spread: spread(c.batch * c.steps, evals),
      train_window_s: train.map((t) => +t.toFixed(3)),
      eval_window_s: evals.map((t) => +t.toFixed(3)),
      startup_s: +startup.toFixed(2),
    };
  } finally {
    pool.close();
  }
}

/** Runs bench/train_ref.py on the same case (both memory formats, the faster reported; bf16:
 * under torch.autocast); its JSON line, or {error}. */
export async function measureTorch(
  c: BenchCase,
  python: string,
  precision: "fp32" | "bf16" = "fp32",
): Promise<Record<string, unknown>> {
  const script = new URL("./train_ref.py", import.meta.url).pathname;
  const args = [
    script,
    ...["--size", c.size, "--channels", c.channels, "--width", c.width].map(String),
    ...["--batch", c.batch, "--steps", c.steps, "--windows", c.windows].map(String),
    ...["--warmup", "1", "--threads", "2", "--conditions", String(CONDITIONS)],
    ...["--precision", precision, "--formats", "nchw,channels_last"],
  ];
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(python, { args, stdout: "piped", stderr: "piped" }).output();
  } catch (e) {
    return { error: `cannot run ${python}: ${e instanceof Error ? e.message : e}` };
  }
  const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
  if (!output.success) {
    const err = new TextDecoder().decode(output.stderr).trim().split("\n").slice(-3).join(" | ");
    return { error: `${python} train_ref.py exited with ${output.code}: ${err}` };
  }
  try {
    return JSON.parse(lines.at(-1)!);
  } catch (e) {
    return { error: `train_ref.py's last line is not JSON (${e}): ${lines.at(-1)}` };
  }
}

/** One wasm thread's float32 rate on a layer3-like 3x3 convolution (as train_ref.py's
 * conv_gflops: 4w -> 4w channels, 14x14, batch 32) and on a 1024^2 matmul. Runs in this
 * thread, which the workers leave idle. */
export async function wasmRates(width: number): Promise<{ conv: number; matmul: number }> {
  await selectBackend("wasm", () => {});
  const c = 4 * width, n = 1024;
  const rate = async (flop: number, make: () => tf.Tensor) => {
    const once = async () => {
      const start = performance.now();
      const t = make();
      await t.data();
      t.dispose();
      return (performance.now() - start) / 1000;
    };
    await once();
    const times: number[] = [];
    for (let i = 0; i < 5; i++) times.push(await once());
    return flop / median(times) / 1e9;
  };
  const rng = new Rng(2);
  const x = tf.tensor4d(syntheticImages(32, 14 * 14 * c, rng), [32, 14, 14, c]);
  const w = tf.tensor4d(syntheticImages(9, c * c, rng), [3, 3, c, c]);
  const a = tf.tensor2d(syntheticImages(n, n, rng), [n, n]);
  const conv = await rate(2 * 32 * 14 * 14 * c * c * 9, () => tf.conv2d(x, w, 1, "same"));
  const matmul = await rate(2 * n ** 3, () => tf.matMul(a, a));
  tf.dispose([x, w, a]);
  return { conv, matmul };
}
