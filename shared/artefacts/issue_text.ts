/**
 * A zod issue as one line that names the field, what was expected and what the file holds:
 * `curve[2].accuracy expected number <= 1, got 1.5`.
 */
import type { z } from "zod";

type Issue = z.ZodError["issues"][number];
type Path = readonly PropertyKey[];

/** `curve[2].accuracy` (after `base` when given); `(root)` for the whole value. */
export function fieldName(path: Path, base = ""): string {
  let out = base;
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out || "(root)";
}

/** The value at `path` inside `root` (undefined where the path leads nowhere). */
export function valueAt(root: unknown, path: Path): unknown {
  let value = root;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** A short rendering of what a file holds: `"2"`, `null`, `an array of 3`, `nothing`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value !== null && typeof value === "object") return "an object";
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function expected(issue: Issue): string {
  switch (issue.code) {
    case "invalid_type":
      return issue.expected;
    case "invalid_value":
      return issue.values.length === 1
        ? JSON.stringify(issue.values[0])
        : `one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "too_small":
      return `${issue.origin} ${issue.inclusive ? ">=" : ">"} ${issue.minimum}`;
    case "too_big":
      return `${issue.origin} ${issue.inclusive ? "<=" : "<"} ${issue.maximum}`;
    case "invalid_format":
      return "pattern" in issue && typeof issue.pattern === "string"
        ? `a string matching ${issue.pattern}`
        : `a ${issue.format} string`;
    case "invalid_union":
      return "one of the record's kinds";
    default:
      return issue.message;
  }
}

/**
 * One issue of parsing `root`: the field (named from `base`, e.g. "csn.params", when given),
 * what was expected, what is there.
 */
export function describeIssue(issue: Issue, root: unknown, base = ""): string {
  if (issue.code === "unrecognized_keys") {
    return `${fieldName(issue.path, base)} has unexpected fields ${issue.keys.join(", ")}`;
  }
  // A union that matched no kind: its path is the field that tells the kinds apart.
  if (issue.code === "invalid_union" && "discriminator" in issue) {
    return `${fieldName(issue.path, base)} expected a known kind, got ${
      describeValue(valueAt(root, issue.path))
    }`;
  }
  return `${fieldName(issue.path, base)} expected ${expected(issue)}, got ${
    describeValue(valueAt(root, issue.path))
  }`;
}
