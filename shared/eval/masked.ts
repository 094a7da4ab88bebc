/**
 * Shape checks and masked subspaces shared by the evaluation code. Embeddings are n x d
 * row-major Float32Arrays; a mask is a length-d row (already ReLU'd). Distances under a mask
 * only involve the dimensions it keeps, so the subspace drops the others up front: with the
 * default disjoint masks that is 4x less work per distance.
 */

/** Rows of a row-major matrix, checking that its length divides by `cols`. */
export function rowsOf(name: string, data: ArrayLike<number>, cols: number): number {
  if (!Number.isInteger(cols) || cols <= 0) {
    throw new RangeError(
      `Cannot read ${name}: the dimension is ${cols}, expected a positive integer`,
    );
  }
  if (data.length % cols !== 0) {
    throw new RangeError(
      `Cannot read ${name}: length ${data.length} is not a multiple of the dimension ${cols}`,
    );
  }
  return data.length / cols;
}

/** Throws on NaN or infinity, naming the row and column (a diverged model shows up here). */
export function checkFinite(name: string, data: ArrayLike<number>, cols: number): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new RangeError(
        `Cannot read ${name}: row ${Math.floor(i / cols)} column ${i % cols} is ${data[i]}, ` +
          `expected a finite number`,
      );
    }
  }
}

/** Validates an n x d embedding matrix; returns n. */
export function checkEmbeddings(embeddings: Float32Array, d: number): number {
  const n = rowsOf("embeddings", embeddings, d);
  checkFinite("embeddings", embeddings, d);
  return n;
}

/** Validates a length-d mask row. */
export function checkMask(mask: Float32Array, d: number, name = "mask"): void {
  if (mask.length !== d) {
    throw new RangeError(`Cannot read ${name}: length ${mask.length}, expected ${d}`);
  }
  checkFinite(name, mask, d);
}

/** Indices of the dimensions a mask keeps (non-zero weight). */
export function activeDims(mask: Float32Array): Int32Array {
  const dims: number[] = [];
  for (let k = 0; k < mask.length; k++) if (mask[k] !== 0) dims.push(k);
  return Int32Array.from(dims);
}

/** Masked embeddings restricted to the kept dimensions, in float64 (products are exact). */
export interface Subspace {
  /** rows x dims, row-major: e[i][k] * m[k] for each kept k. */
  readonly data: Float64Array;
  readonly rows: number;
  readonly dims: number;
}

/** The masked subspace of the given rows (default: all rows), in the given order. */
export function maskedSubspace(
  embeddings: Float32Array,
  d: number,
  mask: Float32Array,
  rows?: Int32Array,
): Subspace {
  const n = rowsOf("embeddings", embeddings, d);
  checkMask(mask, d);
  const dims = activeDims(mask);
  const count = rows ? rows.length : n;
  const data = new Float64Array(count * dims.length);
  for (let r = 0; r < count; r++) {
    const i = rows ? rows[r]! : r;
    if (i < 0 || i >= n) {
      throw new RangeError(
        `Cannot take row ${i} of the embeddings: it is out of range, expected [0, ${n})`,
      );
    }
    const src = i * d;
    const dst = r * dims.length;
    for (let j = 0; j < dims.length; j++) {
      const k = dims[j]!;
      data[dst + j] = embeddings[src + k]! * mask[k]!;
    }
  }
  return { data, rows: count, dims: dims.length };
}
