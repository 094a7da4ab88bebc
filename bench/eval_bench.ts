/**
 * Benchmark: triplets/s of scoreTriplets and queries/s of retrieval at n = 20000, d = 64,
 * each beside a naive reference loop timed in the same run (the definitions written plainly:
 * masked vectors and Math.hypot per triplet; every distance and a full sort per query).
 * Prints medians and the speed-up ratios.
 */
import { Rng } from "../shared/util/rng.ts";
import { retrievalMetrics } from "../shared/eval/retrieval.ts";
import { scoreTriplets } from "../shared/eval/triplet_scores.ts";
import { median } from "./timing.ts";

const N = 20_000, D = 64, CONDITIONS = 4, CLASSES = 10;

function timeSync(action: () => unknown): number {
  const start = performance.now();
  action();
  return (performance.now() - start) / 1000;
}

function data(seed: number) {
  const rng = new Rng(seed);
  const centres = Array.from({ length: CLASSES * D }, () => rng.normal());
  const labels = Int32Array.from({ length: N }, () => rng.int(CLASSES));
  const embeddings = Float32Array.from(
    { length: N * D },
    (_, i) => centres[labels[Math.floor(i / D)]! * D + (i % D)]! + 1.5 * rng.normal(),
  );
  // The default fixed masks: disjoint blocks of D / CONDITIONS dimensions.
  const masks = Float32Array.from(
    { length: CONDITIONS * D },
    (_, i) => (Math.floor((i % D) / (D / CONDITIONS)) === Math.floor(i / D) ? 1 : 0),
  );
  const triplets = Int32Array.from(
    { length: 4 * 160_000 },
    (_, i) => (i % 4 === 3 ? rng.int(CONDITIONS) : rng.int(N)),
  );
  return { embeddings, labels, masks, triplets };
}

function naiveTriplets(e: Float32Array, masks: Float32Array, quads: Int32Array): number {
  let right = 0;
  const dist = (i: number, j: number, c: number) => {
    const parts: number[] = [];
    for (let k = 0; k < D; k++) {
      parts.push(e[i * D + k]! * masks[c * D + k]! - e[j * D + k]! * masks[c * D + k]!);
    }
    return Math.hypot(...parts);
  };
  for (let t = 0; t < quads.length; t += 4) {
    if (
      dist(quads[t]!, quads[t + 1]!, quads[t + 3]!) > dist(quads[t]!, quads[t + 2]!, quads[t + 3]!)
    ) right++;
  }
  return right;
}

function naiveRetrieval(
  e: Float32Array,
  mask: Float32Array,
  labels: Int32Array,
  queries: number,
): number {
  let p1 = 0;
  for (let q = 0; q < queries; q++) {
    const others: { i: number; dist: number }[] = [];
    for (let i = 0; i < N; i++) {
      if (i === q) continue;
      let s = 0;
      for (let k = 0; k < D; k++) s += ((e[q * D + k]! - e[i * D + k]!) * mask[k]!) ** 2;
      others.push({ i, dist: Math.sqrt(s) });
    }
    others.sort((a, b) => a.dist - b.dist || a.i - b.i);
    if (labels[others[0]!.i] === labels[q]) p1++;
  }
  return p1;
}

/** Runs the measurements (synchronous CPU work) and resolves with figures and a summary. */
export function evalBench(runs = 3): Promise<Record<string, unknown> & { summary: string }> {
  return Promise.resolve(measure(runs));
}

function measure(runs: number): Record<string, unknown> & { summary: string } {
  const { embeddings, labels, masks, triplets } = data(1);
  const tripletCount = triplets.length / 4;
  const naiveTripletCount = 20_000;
  const queries = Int32Array.from({ length: 1000 }, (_, i) => i * 20);
  const naiveQueries = 100;
  const block = masks.subarray(0, D);
  const full = new Float32Array(D).fill(1);
  const fast: number[] = [], slow: number[] = [], retBlock: number[] = [], retFull: number[] = [];
  const retNaive: number[] = [];
  for (let r = 0; r < runs; r++) {
    fast.push(timeSync(() => scoreTriplets(embeddings, D, masks, triplets)) / tripletCount);
    slow.push(
      timeSync(() =>
        naiveTriplets(embeddings, masks, triplets.subarray(0, 4 * naiveTripletCount))
      ) / naiveTripletCount,
    );
    retBlock.push(
      timeSync(() => retrievalMetrics(embeddings, D, block, labels, { queries })) / queries.length,
    );
    retFull.push(
      timeSync(() => retrievalMetrics(embeddings, D, full, labels, { queries })) / queries.length,
    );
    retNaive.push(
      timeSync(() => naiveRetrieval(embeddings, full, labels, naiveQueries)) / naiveQueries,
    );
    console.error(`run ${r + 1}/${runs} done`);
  }
  const result = {
    bench: "eval",
    n: N,
    d: D,
    triplets_per_s: 1 / median(fast),
    naive_triplets_per_s: 1 / median(slow),
    retrieval_queries_per_s_16_dims: 1 / median(retBlock),
    retrieval_queries_per_s_64_dims: 1 / median(retFull),
    naive_retrieval_queries_per_s_64_dims: 1 / median(retNaive),
  };
  const f = (v: number) => Math.round(v).toLocaleString("en-US");
  return {
    ...result,
    summary:
      `eval at n=${N}, d=${D}: scoreTriplets ${f(result.triplets_per_s)} triplets/s vs naive ` +
      `${f(result.naive_triplets_per_s)} (${
        (result.triplets_per_s / result.naive_triplets_per_s).toFixed(1)
      }x); ` +
      `retrieval ${f(result.retrieval_queries_per_s_64_dims)} queries/s over 64 dims ` +
      `(${f(result.retrieval_queries_per_s_16_dims)} over a 16-dim fixed mask) vs naive sort-all ` +
      `${f(result.naive_retrieval_queries_per_s_64_dims)} (${
        (result.retrieval_queries_per_s_64_dims / result.naive_retrieval_queries_per_s_64_dims)
          .toFixed(1)
      }x)`,
  };
}

if (import.meta.main) console.log((await evalBench()).summary);
