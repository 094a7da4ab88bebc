/**
 * The machine's measured float32 peak: a large oneDNN sgemm (dnnl_sgemm, row-major n x n),
 * timed on `threads` OpenMP threads of this thread. A GEMM of this size runs the FMA units
 * flat out, so its rate is the ceiling a convolution network can approach; the train bench
 * prints achieved GFLOP/s as a fraction of it. Opens libdnnl.so.2 itself (one symbol).
 *
 *   deno run -A bench/fp32_peak.ts [--n=2048] [--threads=2]
 */
import { parseArgs } from "node:util";
import { median } from "./timing.ts";
import { nativeContext } from "../shared/engine/native/context.ts";

const SGEMM = {
  dnnl_sgemm: {
    parameters: [
      "u8",
      "u8",
      "i64",
      "i64",
      "i64",
      "f32",
      "buffer",
      "i64",
      "buffer",
      "i64",
      "f32",
      "buffer",
      "i64",
    ],
    result: "i32",
  },
} as const satisfies Deno.ForeignLibraryInterface;

export interface Fp32Peak {
  /** oneDNN's dispatch ISA on this CPU, e.g. "avx512_core_bf16". */
  readonly isa: string;
  readonly threads: number;
  readonly n: number;
  /** Median of the timed repetitions. */
  readonly gflop_per_s: number;
  readonly best_gflop_per_s: number;
}

/** Times `reps` n x n x n sgemms after one warm-up; restores oneDNN's thread count. */
export function fp32Peak(n = 2048, threads = 2, reps = 5): Fp32Peak {
  const { dnnl } = nativeContext();
  const lib = Deno.dlopen("libdnnl.so.2", SGEMM);
  const before = dnnl.threads;
  try {
    dnnl.setThreads(threads);
    const a = new Float32Array(n * n).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
    const b = a.slice().reverse();
    const c = new Float32Array(n * n);
    const N = BigInt(n), T = "N".charCodeAt(0);
    const once = () => {
      const start = performance.now();
      const status = lib.symbols.dnnl_sgemm(T, T, N, N, N, 1, a, N, b, N, 0, c, N);
      if (status !== 0) {
        throw new Error(`Cannot measure the fp32 peak: dnnl_sgemm returned ${status}`);
      }
      return (performance.now() - start) / 1000;
    };
    once();
    const times = Array.from({ length: reps }, once);
    const flop = 2 * n ** 3 / 1e9;
    return {
      isa: dnnl.info.isa,
      threads,
      n,
      gflop_per_s: +(flop / median(times)).toFixed(1),
      best_gflop_per_s: +(flop / Math.min(...times)).toFixed(1),
    };
  } finally {
    dnnl.setThreads(before);
    lib.close();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { n: { type: "string", default: "2048" }, threads: { type: "string", default: "2" } },
  });
  console.log(JSON.stringify(fp32Peak(Number(values.n), Number(values.threads))));
}
