/**
 * Hash of a stage's code: its module and every local module it imports, transitively
 * (static imports, re-exports, dynamic imports and `new URL("./x.ts", import.meta.url)` worker
 * scripts with literal specifiers), plus deno.lock. npm packages enter through deno.lock.
 */
import { dirname, relative, resolve } from "node:path";
import { sha256Hex } from "../util/hash.ts";
import { canonicalJson } from "../util/canonical_json.ts";

const SPECIFIER_PATTERNS = [
  /\b(?:import|export)\s[^'"]*?\bfrom\s*["']([^"']+)["']/g,
  /\bimport\s*["']([^"']+)["']/g,
  /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
  /\bnew\s+URL\(\s*["']([^"']+)["']\s*,\s*import\.meta\.url\s*\)/g,
];

/** Local module specifiers a source file refers to. */
export function localSpecifiers(source: string): string[] {
  const found = new Set<string>();
  for (const pattern of SPECIFIER_PATTERNS) {
    for (const match of source.matchAll(pattern)) {
      const specifier = match[1]!;
      if (specifier.startsWith("./") || specifier.startsWith("../")) found.add(specifier);
    }
  }
  return [...found];
}

export interface CodeHash {
  readonly hash: string;
  /** Relative path -> sha256, for explaining what changed. */
  readonly files: Record<string, string>;
}

export async function hashModuleGraph(entry: string, root: string): Promise<CodeHash> {
  const files: Record<string, string> = {};
  const pending = [resolve(entry)];
  const seen = new Set<string>();
  while (pending.length > 0) {
    const path = pending.pop()!;
    if (seen.has(path)) continue;
    seen.add(path);
    let source: string;
    try {
      source = await Deno.readTextFile(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new Deno.errors.NotFound(
          `Cannot hash the stage's code: module "${path}" (imported by the stage) does not exist`,
        );
      }
      throw error;
    }
    files[relative(root, path)] = sha256Hex(source);
    if (/\.(m?[jt]sx?)$/.test(path)) {
      for (const specifier of localSpecifiers(source)) {
        pending.push(resolve(dirname(path), specifier));
      }
    }
  }
  const lock = await readOptional(resolve(root, "deno.lock"));
  files["deno.lock"] = sha256Hex(lock);
  return { hash: sha256Hex(canonicalJson(files)), files };
}

async function readOptional(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "";
    throw error;
  }
}
