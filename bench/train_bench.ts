/**
 * Benchmark: csn's training and evaluation throughput (triplets/s) through the real engine
 * (shared/engine/engine.ts: Deno workers, one backend each), beside the PyTorch reference
 * (bench/train_ref.py, 2 threads) in the same run, on synthetic normalised images; cases:
 * the paper preset at 112x112x3 and at 64x64x3 (width 64), the small preset (width 16,
 * 64x64x1), each on the wasm and native backends with 1 worker (native: 2 oneDNN threads)
 * and 2 workers (native: 1 thread each). Measurements live in train_measure.ts; at the end,
 * milliseconds per kernel type of one paper112 step, wasm vs native (op_profile.ts).
 *
 * - train: ReplicaPool.step = split the batch over the workers, forward (three passes) +
 *   backward in micro-batches, gradients averaged on the host, Adam step on every replica.
 * - eval: the validate/test stages' method: every image embedded once (ReplicaPool.embed,
 *   eval-mode BatchNorm), then triplets scored from the cached embeddings (scoreTriplets).
 *   A triplet here has three distinct images, so that is 3 forward passes per triplet: the
 *   same work as the reference's three no_grad passes.
 * Warm-up excluded; each figure is the median of timed windows, the slowest and fastest
 * beside it, on both sides. The reference is PyTorch at its best: oneDNN on, NCHW and
 * channels_last both measured and the faster taken, the BLAS it loaded named (OpenBLAS once
 * libopenblas0-pthread is installed); where oneDNN reports bf16 (avx512_core_bf16, AMX) it
 * also runs under torch.autocast bf16. GFLOP/s use the reference's FLOP counts (forward =
 * 2 x multiply-adds; a training triplet = 9 forwards, eval = 3), as a fraction of the
 * measured fp32 peak of the two cores (a large oneDNN GEMM's fastest run, fp32_peak.ts, taken
 * at the start and around each case's reference, the highest kept), with
 * oneDNN's ISA. Where the CPU has bf16, csn native also trains with train.precision=bf16,
 * compared with PyTorch's autocast bf16 and with its own fp32.
 *
 *   deno run -A bench/train_bench.ts [--quick] [--no-ref] [--python=/usr/bin/python3]
 *     [--cases=paper112,paper64,small64] [--workers=1,2] [--micro-batch=N]
 *     [--backends=wasm,native] [--no-profile] [--no-bf16-ref]
 */
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { forwardGflop } from "./gpu_webgpu.ts";
import { type BenchCase, EMBED, measureCsn, measureTorch, wasmRates } from "./train_measure.ts";
import { type OpTime, profileStep, profileTable } from "./op_profile.ts";
import { probeNative } from "../shared/engine/probe.ts";
import { type Fp32Peak, fp32Peak } from "./fp32_peak.ts";
import { isaHasBf16, type Precision } from "../shared/engine/precision.ts";

type Backend = "wasm" | "native";

export interface TrainBenchOptions {
  readonly quick?: boolean;
  /** Skip the PyTorch reference. */
  readonly noRef?: boolean;
  readonly python?: string;
  /** Case names to run (default: all). */
  readonly cases?: readonly string[];
  readonly workers?: readonly number[];
  /** Overrides every case's micro-batch. */
  readonly microBatch?: number;
  /** Default: wasm, and native where oneDNN loads. */
  readonly backends?: readonly Backend[];
  /** Skip the per-kernel profile. */
  readonly noProfile?: boolean;
  /** Skip PyTorch's autocast bf16 run (on by default where the CPU has bf16). */
  readonly noBf16Ref?: boolean;
}

/** The paper preset at 112 and at 64, the small preset; micro-batches as the train stage's
 * defaults (train.micro_batch 0: 8 for paper, 32 otherwise). */
export function benchCases(quick: boolean): BenchCase[] {
  const w = quick ? 2 : 5;
  return [
    {
      name: "paper112",
      size: 112,
      channels: 3,
      width: 64,
      batch: 16,
      microBatch: 8,
      steps: 1,
      windows: w,
    },
    {
      name: "paper112b32",
      size: 112,
      channels: 3,
      width: 64,
      batch: 32,
      microBatch: 8,
      steps: 1,
      windows: w,
    },
    {
      name: "paper64",
      size: 64,
      channels: 3,
      width: 64,
      batch: 32,
      microBatch: 8,
      steps: 1,
      windows: w,
    },
    {
      name: "small64",
      size: 64,
      channels: 1,
      width: 16,
      batch: 64,
      microBatch: 32,
      steps: quick ? 1 : 2,
      windows: w,
    },
  ];
}

const round = (v: number, digits = 2) => Number.isFinite(v) ? +v.toFixed(digits) : v;

/** A warning line when the machine had more runnable work than cores: PyTorch's OpenMP team
 * then waits on descheduled threads far more than csn's one-thread workers do, so wall-clock
 * ratios (and the in-run peak) stop describing the machine; CPU ms per triplet hold better. */
function loadWarning(loads: readonly number[]): string {
  const worst = Math.max(...loads), cores = navigator.hardwareConcurrency;
  return worst > cores
    ? `WARNING: load average up to ${worst} on ${cores} cores: wall-clock ratios and the peak ` +
      `are disturbed; compare train_cpu_ms_per_triplet, or rerun on a quieter machine\n`
    : "";
}

/** "slowest-fastest" triplets/s of a spread, or "-" where there is none. */
function spreadText(s: unknown): string {
  const x = s as { slowest?: number; fastest?: number } | undefined;
  return typeof x?.slowest === "number" ? `${round(x.slowest, 1)}-${round(x.fastest!, 1)}` : "-";
}

function loadAverage(): number {
  return round(Deno.loadavg()[0]!);
}

/** Runs every case: the PyTorch reference, then csn with each worker count. Without options,
 * `--quick` among the process's arguments picks the quick run (so `deno task bench train
 * --quick` works through bench/main.ts). About 5 minutes in full, 1.5 quick, on 2 cores. */
export async function trainBench(
  options: TrainBenchOptions = { quick: Deno.args.includes("--quick") },
): Promise<Record<string, unknown> & { summary: string }> {
  const quick = options.quick ?? false;
  const python = options.python ?? "/usr/bin/python3";
  const workerCounts = options.workers ?? [1, 2];
  const backends = options.backends ?? (probeNative().ok ? ["wasm", "native"] : ["wasm"]);
  const chosen = benchCases(quick).filter((c) => !options.cases || options.cases.includes(c.name))
    .map((c) => options.microBatch ? { ...c, microBatch: options.microBatch } : c);
  if (chosen.length === 0) {
    throw new RangeError(
      `Cannot run train_bench: no case named ${options.cases?.join(", ")} (known: ` +
        `${benchCases(quick).map((c) => c.name).join(", ")})`,
    );
  }
  const started = performance.now();
  const loads = [loadAverage()];
  const rows: Record<string, unknown>[] = [];
  const lines: string[] = [];
  const wasm = await wasmRates(64);
  console.error(
    `train_bench: one wasm thread: conv ${round(wasm.conv, 1)} GFLOP/s, matmul ` +
      `${round(wasm.matmul, 1)} GFLOP/s`,
  );
  const native = probeNative();
  // Measured again before each case: on a shared machine the peak moves with the load, and
  // the highest reading is the one closest to the machine's own.
  let peak: Fp32Peak | undefined = native.ok ? fp32Peak(2048, 2) : undefined;
  const remeasure = () => {
    const again = native.ok ? fp32Peak(2048, 2) : undefined;
    if (again && peak && again.best_gflop_per_s > peak.best_gflop_per_s) peak = again;
  };
  if (peak) {
    console.error(
      `train_bench: oneDNN ISA ${peak.isa}; fp32 peak (sgemm ${peak.n}, ${peak.threads} ` +
        `threads) ${peak.gflop_per_s} GFLOP/s (best ${peak.best_gflop_per_s})`,
    );
  }
  const bf16Ref = !options.noRef && !options.noBf16Ref && !!peak && isaHasBf16(peak.isa);
  for (const c of chosen) {
    remeasure();
    const shape = `${c.size}x${c.size}x${c.channels} width ${c.width}`;
    let torch: Record<string, unknown> = { skipped: "--no-ref" };
    if (!options.noRef) {
      console.error(`train_bench: ${c.name} (${shape}, batch ${c.batch}): PyTorch`);
      torch = { load_avg_1m: loadAverage(), ...await measureTorch(c, python) };
      if (torch.error) console.error(`train_bench: PyTorch failed: ${torch.error}`);
    }
    let torchBf16: Record<string, unknown> = { skipped: "no bf16 on this CPU, or turned off" };
    if (bf16Ref) {
      console.error(`train_bench: ${c.name}: PyTorch autocast bf16`);
      torchBf16 = { load_avg_1m: loadAverage(), ...await measureTorch(c, python, "bf16") };
      if (torchBf16.error) console.error(`train_bench: PyTorch bf16 failed: ${torchBf16.error}`);
    }
    const numOf = (ref: Record<string, unknown>, key: string) =>
      typeof ref[key] === "number" ? ref[key] as number : NaN;
    const num = (key: string) => numOf(torch, key);
    const forward = Number.isFinite(num("gflop_per_image_forward"))
      ? num("gflop_per_image_forward")
      : forwardGflop(c.size, c.channels, c.width, EMBED);
    // The fraction-of-peak denominator: the measured sgemm peak, else PyTorch's matmul.
    remeasure();
    const peakRate = peak?.best_gflop_per_s ?? num("matmul_gflop_per_s");
    const variants: [Backend, Precision][] = backends.flatMap((b): [Backend, Precision][] =>
      b === "native" && peak && isaHasBf16(peak.isa) && !options.noBf16Ref
        ? [[b, "fp32"], [b, "bf16"]]
        : [[b, "fp32"]]
    );
    for (const [backend, precision] of variants) {
      // bf16 against PyTorch's autocast bf16, fp32 against its fp32.
      const ref = precision === "bf16" ? torchBf16 : torch;
      const num = (key: string) => numOf(ref, key);
      const torchTrainGflop = num("train_triplets_per_s") * 9 * forward;
      for (const workers of workerCounts) {
        console.error(
          `train_bench: ${c.name}: csn ${backend} ${precision}, ${workers} worker(s), micro-batch ` +
            `${c.microBatch}`,
        );
        const load = loadAverage();
        loads.push(load);
        const csn = await measureCsn(c, workers, backend, precision);
        const fp32Row = rows.find((r) =>
          r.case === c.name && r.backend === backend && r.precision === "fp32" &&
          r.workers === workers
        );
        const row = {
          case: c.name,
          backend,
          precision,
          size: c.size,
          channels: c.channels,
          width: c.width,
          batch: c.batch,
          micro_batch: c.microBatch,
          load_avg_1m: load,
          ...csn,
          train_gflop_per_s: round(csn.train_triplets_per_s * 9 * forward),
          eval_gflop_per_s: round(csn.eval_triplets_per_s * 3 * forward),
          train_fraction_of_peak: round(csn.train_triplets_per_s * 9 * forward / peakRate, 3),
          torch_train_gflop_per_s: round(torchTrainGflop),
          torch_train_fraction_of_peak: round(torchTrainGflop / peakRate, 3),
          torch_precision: precision,
          torch_train_format: ref.train_format,
          torch_eval_format: ref.eval_format,
          train_fraction_of_wasm_conv: round(
            csn.train_triplets_per_s * 9 * forward / (workers * wasm.conv),
            3,
          ),
          torch_train_triplets_per_s: num("train_triplets_per_s"),
          torch_eval_triplets_per_s: num("eval_triplets_per_s"),
          train_ratio: round(csn.train_triplets_per_s / num("train_triplets_per_s"), 3),
          eval_ratio: round(csn.eval_triplets_per_s / num("eval_triplets_per_s"), 3),
          // Against PyTorch's fastest window: the least disturbed by other processes.
          train_ratio_vs_best: round(
            csn.train_triplets_per_s / num("train_triplets_per_s_best"),
            3,
          ),
          eval_ratio_vs_best: round(csn.eval_triplets_per_s / num("eval_triplets_per_s_best"), 3),
          train_ratio_vs_csn_fp32: precision === "bf16" && fp32Row
            ? round(csn.train_triplets_per_s / (fp32Row.train_triplets_per_s as number), 3)
            : undefined,
        };
        rows.push(row);
        const versus = (kind: "train" | "eval") => {
          const ratio = row[`${kind}_ratio`];
          if (!Number.isFinite(ratio)) return `${row[`${kind}_gflop_per_s`]} GFLOP/s`;
          return `${ratio}x PyTorch ${precision} ${
            round(row[`torch_${kind}_triplets_per_s`], 1)
          }, ` +
            `${row[`${kind}_ratio_vs_best`]}x its best window; ${
              row[`${kind}_gflop_per_s`]
            } GFLOP/s`;
        };
        lines.push(
          `  ${c.name} ${shape}, batch ${c.batch} (micro ${c.microBatch}), ${backend} ${precision}, ` +
            `${workers} worker(s): ` +
            `train ${round(row.train_triplets_per_s, 1)}/s (${versus("train")}); eval ` +
            `${round(row.eval_triplets_per_s, 1)}/s (${versus("eval")}); ` +
            `fraction of peak: csn ${row.train_fraction_of_peak}, PyTorch ` +
            `${row.torch_train_fraction_of_peak} (${ref.train_format}); windows csn ` +
            `${spreadText(csn.train_triplets_per_s_spread)}, PyTorch ` +
            `${spreadText(ref.train_triplets_per_s_spread)}` +
            (row.train_ratio_vs_csn_fp32 ? `; ${row.train_ratio_vs_csn_fp32}x csn fp32` : ""),
        );
        console.error(lines.at(-1));
      }
    }
    rows.push({ case: c.name, framework: "pytorch", ...torch });
    if (bf16Ref) {
      rows.push({ case: c.name, framework: "pytorch-autocast-bf16", ...torchBf16 });
      lines.push(
        `  ${c.name}: PyTorch autocast bf16 (${torchBf16.train_format}): train ` +
          `${torchBf16.train_triplets_per_s}/s (windows ` +
          `${spreadText(torchBf16.train_triplets_per_s_spread)}), eval ` +
          `${torchBf16.eval_triplets_per_s}/s`,
      );
    }
  }
  let profile: Record<string, { wallMs: number; ops: OpTime[] }> | undefined;
  if (!options.noProfile) {
    const paper = benchCases(true).find((x) => x.name === "paper112")!;
    profile = {};
    for (const backend of backends) {
      console.error(`train_bench: profiling one paper112 step on ${backend}`);
      profile[backend] = await profileStep(backend, paper);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const torchPeaks = rows.flatMap((r) =>
    typeof r.matmul_gflop_per_s === "number" ? [r.matmul_gflop_per_s as number] : []
  );
  return {
    bench: "train",
    quick,
    tfjs: tf.version.tfjs,
    wasm_simd: await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"),
    wasm_threads: await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT"),
    cpus: navigator.hardwareConcurrency,
    wasm_conv_gflop_per_s_one_thread: round(wasm.conv),
    wasm_matmul_gflop_per_s_one_thread: round(wasm.matmul),
    torch_matmul_gflop_per_s: torchPeaks.map((v) => round(v)),
    fp32_peak: peak,
    eval_method: "each of a triplet's 3 images embedded once (ReplicaPool.embed, eval-mode " +
      "BatchNorm), then scoreTriplets on the cached embeddings: the same forward work as " +
      "the reference's three no_grad passes",
    seconds: round(seconds, 1),
    rows,
    profile,
    summary: loadWarning([...loads, loadAverage()]) +
      `train (triplets/s, csn vs PyTorch 2 threads, medians; oneDNN ISA ` +
      `${peak?.isa ?? "-"}, fp32 peak ${
        peak?.best_gflop_per_s ?? "-"
      } GFLOP/s (GEMM, 2 threads); ` +
      `wasm conv ${round(wasm.conv, 1)} GFLOP/s per thread, PyTorch matmul (its BLAS) ` +
      `${torchPeaks.map((v) => round(v, 0)).join("/")} GFLOP/s; load ${loadAverage()}; ` +
      `${round(seconds, 0)} s):\n` +
      lines.join("\n") +
      (profile
        ? `\nms per kernel type, one paper112 step (batch 16, micro 8, this thread):\n` +
          profileTable(profile)
        : ""),
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      "no-ref": { type: "boolean", default: false },
      python: { type: "string", default: "/usr/bin/python3" },
      cases: { type: "string" },
      workers: { type: "string", default: "1,2" },
      "micro-batch": { type: "string" },
      backends: { type: "string" },
      "no-profile": { type: "boolean", default: false },
      "no-bf16-ref": { type: "boolean", default: false },
    },
  });
  const list = (text: string, what: string) =>
    text.split(",").map((part) => {
      const v = Number(part);
      if (!Number.isInteger(v) || v < 0) {
        throw new RangeError(`Cannot read train_bench --${what} "${part}": expected integers >= 0`);
      }
      return v;
    });
  const result = await trainBench({
    quick: values.quick,
    noRef: values["no-ref"],
    python: values.python,
    cases: values.cases?.split(","),
    workers: list(values.workers, "workers"),
    microBatch: values["micro-batch"] ? list(values["micro-batch"], "micro-batch")[0] : undefined,
    backends: values.backends?.split(",").map((b) => {
      if (b !== "wasm" && b !== "native") {
        throw new RangeError(`Cannot read train_bench --backends "${b}": expected wasm or native`);
      }
      return b;
    }),
    noProfile: values["no-profile"],
    noBf16Ref: values["no-bf16-ref"],
  });
  console.error(result.summary);
  console.log(JSON.stringify(result));
}
