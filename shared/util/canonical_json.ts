/** Canonical JSON: object keys sorted, no whitespace, so equal values hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value, []));
}

/** `path` is the keys down to `value` (a stack, joined only for an error message). */
function sortKeys(value: unknown, path: (string | number)[]): unknown {
  if (Array.isArray(value)) {
    return value.map((item, i) => {
      path.push(i);
      const sorted = sortKeys(item, path);
      path.pop();
      return sorted;
    });
  }
  if (value instanceof Object && value.constructor === Object) {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item === undefined) continue;
      path.push(key);
      sorted[key] = sortKeys(item, path);
      path.pop();
    }
    return sorted;
  }
  if (typeof value === "number" && !Number.isFinite(value)) {
    const where = path.length ? path.join(".") : "(root)";
    throw new RangeError(
      `Cannot canonicalise JSON: ${where} is ${value}, expected a finite number`,
    );
  }
  return value;
}
