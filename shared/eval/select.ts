/**
 * Partial selection: the k smallest items of a list by (key, item), sorted. Items are
 * non-negative integers (positions) that also index `keys`; ties in key go to the smaller
 * item, so results are deterministic even with duplicate images (equal distances).
 * Quickselect is O(n) on average, then only the k selected items are sorted.
 */

/** (key, item) order: true when item a comes before item b. */
function before(keys: Float64Array, a: number, b: number): boolean {
  const ka = keys[a]!, kb = keys[b]!;
  return ka < kb || (ka === kb && a < b);
}

/**
 * Reorders items[0..count) so that items[0..k) are the k smallest by (keys[item], item) in
 * ascending order; the rest is left in some order. Keys must not be NaN.
 */
export function smallestK(keys: Float64Array, items: Int32Array, count: number, k: number): void {
  if (count > items.length) {
    throw new RangeError(
      `Cannot select the smallest k: count ${count} exceeds ${items.length} items`,
    );
  }
  const take = Math.min(Math.max(0, k), count);
  if (take === 0) return;
  if (take < count) quickselect(keys, items, count, take - 1);
  items.subarray(0, take).sort((a, b) => keys[a]! - keys[b]! || a - b);
}

/** Hoare-partition quickselect: afterwards items[target] is in its sorted place. */
function quickselect(keys: Float64Array, items: Int32Array, count: number, target: number): void {
  let lo = 0, hi = count - 1;
  while (hi > lo) {
    // Median of three, so sorted or reversed input (ties ordered by index) stays linear.
    const mid = (lo + hi) >>> 1;
    let a = items[lo]!, b = items[mid]!;
    const c = items[hi]!;
    if (before(keys, b, a)) [a, b] = [b, a];
    if (before(keys, c, b)) {
      b = c;
      if (before(keys, b, a)) b = a;
    }
    const pivot = b;
    let i = lo, j = hi;
    while (i <= j) {
      while (before(keys, items[i]!, pivot)) i++;
      while (before(keys, pivot, items[j]!)) j--;
      if (i <= j) {
        const t = items[i]!;
        items[i] = items[j]!;
        items[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return;
  }
}

/**
 * The value of rank `target` (0-based) among values[0..count), by quickselect on the raw
 * numbers; reorders values[0..count) (pass a scratch copy). Faster than `smallestK` when only
 * a threshold is needed.
 */
export function kthValue(values: Float64Array, count: number, target: number): number {
  if (!(target >= 0 && target < count && count <= values.length)) {
    throw new RangeError(
      `Cannot select the kth value: rank ${target} is outside ${count} values ` +
        `(of ${values.length})`,
    );
  }
  let lo = 0, hi = count - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    let a = values[lo]!, b = values[mid]!;
    const c = values[hi]!;
    if (b < a) [a, b] = [b, a];
    if (c < b) b = c < a ? a : c;
    const pivot = b;
    let i = lo, j = hi;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (pivot < values[j]!) j--;
      if (i <= j) {
        const t = values[i]!;
        values[i] = values[j]!;
        values[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  return values[target]!;
}
