/** A row-major matrix (n rows) as nested arrays, for JSON. */
export function toRows(values: ArrayLike<number>, n: number): number[][] {
  const d = values.length / n;
  return Array.from(
    { length: n },
    (_, i) => Array.from({ length: d }, (_, j) => values[i * d + j]!),
  );
}
