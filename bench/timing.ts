/** Timing helpers for benchmarks: wall seconds and medians (the machines are noisy). */
export async function timeIt(action: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await action();
  return (performance.now() - start) / 1000;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) {
    throw new RangeError("Cannot take the median: there are no values, expected at least one");
  }
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
