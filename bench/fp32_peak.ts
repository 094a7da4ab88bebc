/**
 * The machine's measured float32 peak: a large n x n x n GEMM on oneDNN, both as its BLAS-like
 * dnnl_sgemm and as a matmul primitive (brgemm kernels; on some CPUs much the faster of the
 * two), timed on `threads` OpenMP threads of this thread; the faster is the peak. A GEMM of
 * this size runs the FMA units flat out, so its rate is the ceiling a convolution network can
 * approach; the train bench prints achieved GFLOP/s as a fraction of it. Opens libdnnl.so.2
 * itself for the two symbols csn's kernels do not use.
 *
 *   deno run -A bench/fp32_peak.ts [--n=2048] [--threads=2]
 */
import { parseArgs } from "node:util";
import { median } from "./timing.ts";
import { nativeContext } from "../shared/engine/native/context.ts";
import { Primitive } from "../shared/engine/native/primitive.ts";
import { ARG, STRUCT_BYTES, TAG } from "../shared/engine/native/dnnl_abi.ts";

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
  dnnl_matmul_desc_init: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
} as const satisfies Deno.ForeignLibraryInterface;

export interface Fp32Peak {
  /** oneDNN's dispatch ISA on this CPU, e.g. "avx512_core_bf16". */
  readonly isa: string;
  readonly threads: number;
  readonly n: number;
  /** Median of the timed repetitions of the faster route. */
  readonly gflop_per_s: number;
  readonly best_gflop_per_s: number;
  /** Medians of each route. */
  readonly sgemm_gflop_per_s: number;
  readonly matmul_gflop_per_s: number;
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
    const timed = (call: () => void) => {
      const once = () => {
        const start = performance.now();
        call();
        return (performance.now() - start) / 1000;
      };
      once();
      return Array.from({ length: reps }, once);
    };
    const sgemm = timed(() => {
      const status = lib.symbols.dnnl_sgemm(T, T, N, N, N, 1, a, N, b, N, 0, c, N);
      if (status !== 0) {
        throw new Error(`Cannot measure the fp32 peak: dnnl_sgemm returned ${status}`);
      }
    });
    const md = dnnl.desc([n, n], TAG.nc);
    const desc = new Uint8Array(STRUCT_BYTES.opDesc);
    dnnl.check("dnnl_matmul_desc_init", lib.symbols.dnnl_matmul_desc_init(desc, md, md, null, md));
    const { pd, primitive } = dnnl.primitive(desc);
    const prim = new Primitive(dnnl, primitive, pd, [
      { arg: ARG.src, md },
      { arg: ARG.weights, md },
      { arg: ARG.dst, md },
    ]);
    const ptr = (x: Float32Array) => dnnl.addressOf(new Uint8Array(x.buffer));
    const matmul = timed(() => prim.execute([ptr(a), ptr(b), ptr(c)]));
    const flop = 2 * n ** 3 / 1e9;
    const best = median(matmul) < median(sgemm) ? matmul : sgemm;
    return {
      isa: dnnl.info.isa,
      threads,
      n,
      gflop_per_s: +(flop / median(best)).toFixed(1),
      best_gflop_per_s: +(flop / Math.min(...best)).toFixed(1),
      sgemm_gflop_per_s: +(flop / median(sgemm)).toFixed(1),
      matmul_gflop_per_s: +(flop / median(matmul)).toFixed(1),
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
