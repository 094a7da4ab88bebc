/**
 * Milliseconds per kernel type in one training step, by wrapping every kernel registered for
 * the current backend with a timer (kernels on wasm and native run synchronously, so the time
 * inside the call is the kernel's). Shows which op holds a step back. Each kernel's process
 * CPU time is taken too (one oneDNN thread, in this thread): on a shared, loaded machine that
 * is the steadier figure, and the table shows it where wall and CPU time part.
 *
 *   deno run -A bench/op_profile.ts [--backends=wasm,native] [--case=paper112|paper64|small64]
 *     [--precision=fp32|bf16] [--implementations] [--eval]
 * (--eval: one evaluation batch, embedding `batch` images as validate/test and index do, the
 * mean of 10 batches after 3 warm-ups, instead of a training step.)
 * (bf16: the native backend's convolutions in bf16, as train.precision=bf16; --implementations
 * lists the oneDNN implementation of every native primitive built.)
 */
import { parseArgs } from "node:util";
import process from "node:process";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../shared/engine/backend.ts";
import { nativeContext } from "../shared/engine/native/context.ts";
import { CsnModel, type TripletImages } from "../shared/model/csn.ts";
import { Adam } from "../shared/model/optim.ts";
import { trainStep } from "../tests/support/step.ts";
import { Rng } from "../shared/util/rng.ts";
import { benchCases } from "./train_bench.ts";
import type { BenchCase } from "./train_measure.ts";
import { setConvPrecision } from "../shared/engine/native/conv_precision.ts";
import type { Precision } from "../shared/engine/precision.ts";

export interface OpTime {
  readonly kernel: string;
  readonly ms: number;
  /** Process CPU milliseconds inside the kernel. */
  readonly cpuMs: number;
  readonly calls: number;
}

const timers = new Map<string, { ms: number; cpuMs: number; calls: number }>();
const wrapped = new Set<string>();

/** Wraps the current backend's kernels (once per backend) so that calls are timed. */
function instrument(backend: string): void {
  if (wrapped.has(backend)) return;
  wrapped.add(backend);
  for (const kernel of tf.getKernelsForBackend(backend)) {
    const inner = kernel.kernelFunc;
    tf.unregisterKernel(kernel.kernelName, backend);
    tf.registerKernel({
      ...kernel,
      kernelFunc: (args) => {
        const start = performance.now();
        const cpu = process.cpuUsage();
        try {
          return inner(args);
        } finally {
          const t = timers.get(kernel.kernelName) ?? { ms: 0, cpuMs: 0, calls: 0 };
          t.ms += performance.now() - start;
          const used = process.cpuUsage(cpu);
          t.cpuMs += (used.user + used.system) / 1000;
          t.calls++;
          timers.set(kernel.kernelName, t);
        }
      },
    });
  }
}

/** The case's model on `backend` (native: one oneDNN thread, the share of one replica in the
 * default two-worker configuration), its kernels instrumented. */
async function profiledModel(
  backend: "wasm" | "native",
  c: BenchCase,
  precision: Precision,
): Promise<CsnModel> {
  await selectBackend(backend, () => {});
  if (backend === "native") {
    nativeContext().dnnl.setThreads(1);
    setConvPrecision(nativeContext().dnnl, precision);
  }
  instrument(tf.getBackend());
  return new CsnModel({
    mode: "csn",
    masks: "fixed",
    nConditions: 4,
    backbone: { inChannels: c.channels, inputSize: c.size, width: c.width, embedDim: 64 },
    seed: 0,
  });
}

function collected(scale: number): OpTime[] {
  return [...timers].map(([kernel, t]) => ({
    kernel,
    ms: t.ms / scale,
    cpuMs: t.cpuMs / scale,
    calls: t.calls / scale,
  })).sort((a, b) => b.ms - a.ms);
}

/** Kernel times of one evaluation batch (`c.batch` images, eval-mode BatchNorm): the mean of
 * `reps` batches after three warm-ups. */
export async function profileEval(
  backend: "wasm" | "native",
  c: BenchCase,
  precision: Precision = "fp32",
  reps = 10,
): Promise<{ wallMs: number; cpuMs: number; ops: OpTime[] }> {
  const model = await profiledModel(backend, c, precision);
  const rng = new Rng(5);
  const images = Float32Array.from(
    { length: c.batch * c.size * c.size * c.channels },
    () => rng.normal(),
  );
  const once = async () => {
    const e = tf.tidy(() => model.embed(images, c.batch));
    await e.data();
    e.dispose();
  };
  for (let i = 0; i < 3; i++) await once();
  timers.clear();
  const start = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < reps; i++) await once();
  const wallMs = (performance.now() - start) / reps;
  const used = process.cpuUsage(cpu);
  const ops = collected(reps);
  model.dispose();
  return { wallMs, cpuMs: (used.user + used.system) / 1000 / reps, ops };
}

/** One warm-up step, then the kernel times of one more (sorted, slowest first) and its wall. */
export async function profileStep(
  backend: "wasm" | "native",
  c: BenchCase,
  precision: Precision = "fp32",
): Promise<{ wallMs: number; cpuMs: number; ops: OpTime[] }> {
  const model = await profiledModel(backend, c, precision);
  const adam = new Adam(model.trainable);
  const rng = new Rng(3);
  const pixels = c.size * c.size * c.channels;
  const images = () => Float32Array.from({ length: c.batch * pixels }, () => rng.normal());
  const batch: TripletImages = {
    anchor: images(),
    far: images(),
    close: images(),
    conditions: Int32Array.from({ length: c.batch }, (_, i) => i % 4),
  };
  const options = { microBatch: c.microBatch, lr: 5e-5 };
  await trainStep(model, adam, batch, options);
  timers.clear();
  const start = performance.now();
  const cpu = process.cpuUsage();
  await trainStep(model, adam, batch, options);
  const wallMs = performance.now() - start;
  // The process's CPU time: with one oneDNN thread, the step's own compute, which other
  // processes on a shared machine disturb far less than the wall time.
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  const ops = collected(1);
  adam.dispose();
  model.dispose();
  return { wallMs, cpuMs, ops };
}

/** A table: kernel, ms and calls per backend, slowest (on the first backend) first. */
export function profileTable(
  results: Record<string, { wallMs: number; cpuMs?: number; ops: OpTime[] }>,
): string {
  const names = Object.keys(results);
  const kernels = [...new Set(names.flatMap((n) => results[n]!.ops.map((o) => o.kernel)))];
  const total = (n: string) => results[n]!.ops.reduce((s, o) => s + o.ms, 0);
  const cell = (n: string, k: string) => {
    const o = results[n]!.ops.find((x) => x.kernel === k);
    return o ? `${o.ms.toFixed(1)} ms, cpu ${o.cpuMs.toFixed(1)} (${o.calls})` : "-";
  };
  const ms = (n: string, k: string) => results[n]!.ops.find((x) => x.kernel === k)?.ms ?? 0;
  kernels.sort((a, b) =>
    Math.max(...names.map((n) => ms(n, b))) - Math.max(...names.map((n) => ms(n, a)))
  );
  const lines = [`kernel | ${names.join(" | ")}`];
  for (const k of kernels.slice(0, 25)) {
    lines.push(`${k} | ${names.map((n) => cell(n, k)).join(" | ")}`);
  }
  const cpuTotal = (n: string) => results[n]!.ops.reduce((s, o) => s + o.cpuMs, 0);
  lines.push(
    `all kernels | ${
      names.map((n) => `${total(n).toFixed(0)} ms, cpu ${cpuTotal(n).toFixed(0)}`).join(" | ")
    }`,
  );
  lines.push(`step wall | ${names.map((n) => `${results[n]!.wallMs.toFixed(0)} ms`).join(" | ")}`);
  const cpu = (n: string) => results[n]!.cpuMs;
  lines.push(`step cpu | ${names.map((n) => `${cpu(n)?.toFixed(0) ?? "-"} ms`).join(" | ")}`);
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      backends: { type: "string", default: "wasm,native" },
      case: { type: "string", default: "paper112" },
      "micro-batch": { type: "string" },
      precision: { type: "string", default: "fp32" },
      implementations: { type: "boolean", default: false },
      eval: { type: "boolean", default: false },
    },
  });
  if (values.precision !== "fp32" && values.precision !== "bf16") {
    throw new RangeError(`Cannot read --precision "${values.precision}": expected fp32 or bf16`);
  }
  const precision: Precision = values.precision;
  const base = benchCases(true).find((x) => x.name === values.case);
  if (!base) {
    throw new RangeError(
      `Cannot profile case "${values.case}": op_profile has no such case (known: ${
        benchCases(true).map((x) => x.name).join(", ")
      })`,
    );
  }
  const c = values["micro-batch"] ? { ...base, microBatch: Number(values["micro-batch"]) } : base;
  const results: Record<string, { wallMs: number; cpuMs: number; ops: OpTime[] }> = {};
  for (const b of values.backends.split(",")) {
    const profile = values.eval ? profileEval : profileStep;
    results[b] = await profile(b as "wasm" | "native", c, b === "native" ? precision : "fp32");
  }
  console.log(profileTable(results));
  if (values.implementations) {
    for (const [key, impl] of nativeContext().cache.implementations()) {
      console.log(`${impl}\t${key}`);
    }
  }
}
