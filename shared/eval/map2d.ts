/**
 * 2-D maps of one notion's masked subspace (the paper's per-subspace figures), by UMAP
 * (umap-js) over a seeded subsample of the images whose label is known. The k-NN graph UMAP
 * starts from is computed exactly here, in the masked subspace, and UMAP's own random source
 * is our seeded Rng, so a map is a pure function of (embeddings, mask, labels, options).
 * Rendering to SVG lives in map_svg.ts.
 */
import { UMAP } from "umap-js";
import { Rng } from "../util/rng.ts";
import { checkEmbeddings, maskedSubspace } from "./masked.ts";
import { smallestK } from "./select.ts";

export interface MapOptions {
  /** Seed of the subsample and of UMAP; default 0. */
  readonly seed?: number;
  /** Images to map at most (a uniform subsample of the labelled ones); default 2000. */
  readonly points?: number;
  /** UMAP neighbourhood size (including the point itself); default 15. */
  readonly neighbours?: number;
  /** UMAP min_dist; default 0.1. */
  readonly minDist?: number;
  /** UMAP optimisation epochs; default umap-js's choice (500 up to 2500 points). */
  readonly epochs?: number;
}

export interface NotionMap {
  /** Image index of each mapped point (drawing order: a seeded shuffle). */
  readonly indices: Int32Array;
  /** Label of each mapped point. */
  readonly labels: Int32Array;
  /** x, y per point, scaled into [0, 1] (the larger extent spans exactly 0..1). */
  readonly coords: Float64Array;
}

/** Exact neighbours (self first) in a subspace, in the shape umap-js takes. */
function exactKnn(data: Float64Array, rows: number, dims: number, k: number) {
  const indices: number[][] = [], distances: number[][] = [];
  const squared = new Float64Array(rows);
  const items = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < rows; j++) {
      let sum = 0;
      for (let t = 0; t < dims; t++) {
        const diff = data[i * dims + t]! - data[j * dims + t]!;
        sum += diff * diff;
      }
      // Self first even when duplicates sit at distance 0 too.
      squared[j] = j === i ? -1 : sum;
      items[j] = j;
    }
    smallestK(squared, items, rows, k);
    const row = Array.from(items.subarray(0, k));
    indices.push(row);
    distances.push(row.map((j) => Math.sqrt(Math.max(0, squared[j]!))));
  }
  return { indices, distances };
}

function scaled(points: number[][]): Float64Array {
  const out = new Float64Array(points.length * 2);
  const lo = [Infinity, Infinity], hi = [-Infinity, -Infinity];
  for (const p of points) {
    for (let a = 0; a < 2; a++) {
      lo[a] = Math.min(lo[a]!, p[a]!);
      hi[a] = Math.max(hi[a]!, p[a]!);
    }
  }
  const span = Math.max(hi[0]! - lo[0]!, hi[1]! - lo[1]!) || 1;
  points.forEach((p, i) => {
    // Centre the smaller extent inside the unit square.
    for (let a = 0; a < 2; a++) {
      out[2 * i + a] = (p[a]! - lo[a]!) / span + (1 - (hi[a]! - lo[a]!) / span) / 2;
    }
  });
  return out;
}

/** A 2-D UMAP map of one notion: mask row `mask`, labels per image (-1 unknown). */
export function notionMap(
  embeddings: Float32Array,
  d: number,
  mask: Float32Array,
  labels: Int32Array,
  options: MapOptions = {},
): NotionMap {
  const n = checkEmbeddings(embeddings, d);
  if (labels.length !== n) {
    throw new RangeError(
      `Cannot map a notion: labels have ${labels.length} entries, expected ${n} (one per image)`,
    );
  }
  const seed = options.seed ?? 0;
  const points = options.points ?? 2000;
  if (!Number.isInteger(points) || points < 3) {
    throw new RangeError(`Cannot map a notion: points is ${points}, expected an integer >= 3`);
  }
  const labelled: number[] = [];
  for (let i = 0; i < n; i++) if (labels[i]! >= 0) labelled.push(i);
  if (labelled.length < 3) {
    throw new RangeError(`Cannot map ${labelled.length} labelled images: need at least 3`);
  }
  const indices = Int32Array.from(
    Rng.derive(seed, "map2d", "subsample").shuffle(labelled).slice(0, points),
  );
  const space = maskedSubspace(embeddings, d, mask, indices);
  if (space.dims === 0) throw new RangeError("Cannot map a notion whose mask keeps no dimensions");
  const k = Math.min(options.neighbours ?? 15, indices.length - 1);
  const knn = exactKnn(space.data, space.rows, space.dims, k);
  const rng = Rng.derive(seed, "map2d", "umap");
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors: k,
    minDist: options.minDist ?? 0.1,
    nEpochs: options.epochs ?? 0,
    random: () => rng.next(),
  });
  umap.setPrecomputedKNN(knn.indices, knn.distances);
  // With the k-NN given, umap-js only reads the rows' count (and keeps them for transform).
  const rows = Array.from(
    { length: space.rows },
    (_, i) => Array.from(space.data.subarray(i * space.dims, (i + 1) * space.dims)),
  );
  const coords = scaled(umap.fit(rows));
  return { indices, labels: Int32Array.from(indices, (i) => labels[i]!), coords };
}
