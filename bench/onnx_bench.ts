/**
 * Benchmark: embedding throughput (images/s) of the ONNX export in onnxruntime-node beside
 * csn's eval engine in the same run, on the paper preset (112x112x3, width 64, 64-d, four
 * fixed masks) and synthetic N(0, 1) images, at batch 16 and 32. The engines take turns in
 * every window (3 batches each) so that the machine's load falls on each alike; each figure is
 * the median of the windows, after one warm-up batch each. Engines:
 * - csn eval, as the validate/test stages run it (2 Deno workers, native: 1 oneDNN thread
 *   each), and one replica in this thread (native: 2 oneDNN threads);
 * - onnxruntime-node on the CPU, intra-op threads = the machine's cores, and 1 thread (a
 *   thread pool of several suffers most when other processes hold the cores).
 * The largest difference between the two engines' embeddings is reported as a check.
 *
 *   deno run -A bench/onnx_bench.ts [--runs=7]
 */
import * as ort from "onnxruntime-node";
import { CsnModel, type ModelConfig } from "../shared/model/csn.ts";
import { decodeCheckpoint, encodeCheckpoint } from "../shared/weights/checkpoint.ts";
import { encodeCsnOnnx, INPUT, OUTPUTS } from "../shared/weights/onnx_csn.ts";
import { Engine } from "../shared/engine/engine.ts";
import { selectBackend } from "../shared/engine/backend.ts";
import { probeNative } from "../shared/engine/probe.ts";
import { normalisationOf } from "../shared/data/shards/normalise.ts";
import { Rng } from "../shared/util/rng.ts";
import { median, timeIt } from "./timing.ts";

const SIZE = 112, CHANNELS = 3, PIXELS = SIZE * SIZE * CHANNELS;
const CONFIG: ModelConfig = {
  mode: "csn",
  masks: "fixed",
  nConditions: 4,
  backbone: { inChannels: CHANNELS, inputSize: SIZE, width: 64, embedDim: 64 },
  seed: 0,
};
const BATCHES = [16, 32];
/** Batches per timed window: one batch takes 0.1-0.5 s here, too short on a loaded machine. */
const PER_WINDOW = 3;

interface Runner {
  readonly name: string;
  /** The batch's [n x d] embedding. */
  embed(nhwc: Float32Array, nchw: Float32Array, n: number): Promise<Float32Array>;
  close(): Promise<void>;
}

function nchwOf(x: Float32Array, n: number): Float32Array {
  const out = new Float32Array(x.length);
  const plane = SIZE * SIZE;
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < CHANNELS; c++) {
        out[(i * CHANNELS + c) * plane + p] = x[(i * plane + p) * CHANNELS + c]!;
      }
    }
  }
  return out;
}

async function csnRunner(checkpoint: Uint8Array, workers: number, backend: "native" | "wasm") {
  const engine = await Engine.open({
    workers,
    model: { config: CONFIG, backend, checkpoint },
    log: () => {},
  });
  return {
    name: `csn ${backend}, ${workers === 0 ? "1 replica" : `${workers} workers`}`,
    embed: async (nhwc: Float32Array, _: Float32Array, n: number) =>
      (await engine.embed(nhwc, n, PIXELS))[0]!,
    close: () => Promise.resolve(engine.close()),
  } satisfies Runner;
}

async function ortRunner(file: Uint8Array, threads: number): Promise<Runner> {
  const session = await ort.InferenceSession.create(file, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionProviders: ["cpu"],
  });
  return {
    name: `onnxruntime-node ${ort.env.versions.node ?? "?"}, ${threads} thread${
      threads === 1 ? "" : "s"
    }`,
    embed: async (_: Float32Array, nchw: Float32Array, n: number) => {
      const out = await session.run({
        [INPUT]: new ort.Tensor("float32", nchw, [n, CHANNELS, SIZE, SIZE]),
      });
      return out[OUTPUTS.embedding]!.data as Float32Array;
    },
    close: () => session.release(),
  };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;

export async function onnxBench(
  runs = Number(Deno.args.find((a) => a.startsWith("--runs="))?.slice(7) ?? 7),
): Promise<Record<string, unknown> & { summary: string }> {
  const native = probeNative();
  const backend = native.ok ? "native" : "wasm";
  await selectBackend("wasm", () => {});
  const model = new CsnModel(CONFIG);
  const checkpoint = await encodeCheckpoint(model, null, {
    epoch: 0,
    step: 0,
    rng: "",
    params: {},
  });
  model.dispose();
  const decoded = decodeCheckpoint(checkpoint, "bench.safetensors");
  const onnxFile = encodeCsnOnnx({
    config: CONFIG,
    weights: decoded.weights,
    conditionNames: ["class", "closure", "gender", "heel"],
    normalisation: normalisationOf(CHANNELS),
    source: "bench.safetensors",
  });
  const cores = navigator.hardwareConcurrency;
  const load = () => round(Deno.loadavg()[0]!, 2);
  const loadBefore = load();
  const runners: Runner[] = [
    await csnRunner(checkpoint, 2, backend),
    await csnRunner(checkpoint, 0, backend),
    await ortRunner(onnxFile, cores),
    await ortRunner(onnxFile, 1),
  ];
  const rows: Record<string, unknown>[] = [];
  const lines: string[] = [];
  const rng = new Rng(1);
  try {
    for (const n of BATCHES) {
      const nhwc = Float32Array.from({ length: n * PIXELS }, () => rng.normal());
      const nchw = nchwOf(nhwc, n);
      const outputs = [];
      for (const r of runners) outputs.push(await r.embed(nhwc, nchw, n)); // warm-up
      const diff = maxAbsDiff(outputs[0]!, outputs[2]!);
      const seconds: number[][] = runners.map(() => []);
      for (let w = 0; w < runs; w++) {
        for (const [i, r] of runners.entries()) {
          seconds[i]!.push(
            await timeIt(async () => {
              for (let b = 0; b < PER_WINDOW; b++) await r.embed(nhwc, nchw, n);
            }),
          );
        }
        console.error(`onnx_bench: batch ${n}, window ${w + 1}/${runs} done (load ${load()})`);
      }
      const rates = seconds.map((s) => (PER_WINDOW * n) / median(s));
      const ortRate = rates[2]!;
      runners.forEach((r, i) =>
        rows.push({
          engine: r.name,
          batch: n,
          images_per_s: round(rates[i]!),
          window_s: seconds[i]!.map((s) => round(s, 3)),
        })
      );
      lines.push(
        `  batch ${n}: ` + runners.map((r, i) => `${r.name} ${round(rates[i]!)}`).join("; ") +
          ` images/s; onnxruntime (${cores} threads) / csn (stages' 2 workers) = ${
            round(ortRate / rates[0]!, 2)
          }x, / csn 1 replica = ${round(ortRate / rates[1]!, 2)}x; onnxruntime 1 thread / csn ` +
          `2 workers = ${round(rates[3]! / rates[0]!, 2)}x; ` +
          `largest embedding difference ${diff.toExponential(1)}`,
      );
    }
  } finally {
    for (const r of runners) await r.close();
  }
  const isa = native.ok ? `oneDNN ${native.info.version} ${native.info.isa}` : "no oneDNN (wasm)";
  const loadAfter = load();
  return {
    bench: "onnx",
    input: `${SIZE}x${SIZE}x${CHANNELS}, width 64, 64-d, 4 fixed masks`,
    runs,
    batches_per_window: PER_WINDOW,
    cpus: cores,
    onednn: isa,
    onnxruntime: ort.env.versions.node,
    load_1min: { before: loadBefore, after: loadAfter },
    rows,
    summary: `onnx (embedding images/s at ${SIZE}x${SIZE}x${CHANNELS}, medians of ${runs}; ` +
      `${cores} cpus, ${isa}, load ${loadBefore} -> ${loadAfter}):\n` + lines.join("\n"),
  };
}

if (import.meta.main) console.log((await onnxBench()).summary);
