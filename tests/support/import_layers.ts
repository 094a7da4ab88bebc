/**
 * The layers of the tree and what each may import: the rules the README's architecture section
 * states, in a form a test can check. A layer is a folder of shared/ (or stages/); an import is
 * any relative specifier in a static import, an `export ... from`, a dynamic import() or a JSDoc
 * `import("...")` type.
 */
import { dirname, join, normalize, relative } from "node:path";

/** layer -> the other layers it may import (a layer may always import itself). */
export const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  // The core: runs stages and keeps artefacts, knows nothing of images or models.
  util: [],
  store: ["util"],
  stage: ["util"],
  pipeline: ["stage", "store", "util"],
  cluster: ["pipeline", "stage", "util"],
  // The library.
  artefacts: ["util"],
  net: ["util"],
  data: ["artefacts", "net", "util"],
  model: ["util"],
  weights: ["artefacts", "model", "util"],
  engine: ["model", "weights", "util"],
  charts: ["artefacts"],
  train: ["artefacts", "data", "engine", "model", "net", "observe", "weights", "util"],
  eval: ["artefacts", "data", "engine", "model", "stage", "weights", "util"],
  observe: ["artefacts", "charts", "data", "eval", "weights", "util"],
  paper: ["artefacts", "eval", "util"],
  // The edges.
  explore: ["artefacts", "data", "engine", "eval", "model", "pipeline", "weights", "util"],
  // The service: explore's reach for uploads and the index, never shared/train.
  serve: ["artefacts", "data", "engine", "eval", "explore", "model", "pipeline", "weights", "util"],
  stages: [
    "artefacts",
    "charts",
    "data",
    "engine",
    "eval",
    "observe",
    "paper",
    "stage",
    "train",
    "util",
    "weights",
  ],
  cli: [
    "artefacts",
    "cluster",
    "data",
    "engine",
    "eval",
    "explore",
    "observe",
    "pipeline",
    "serve",
    "stage",
    "store",
    "util",
  ],
};

/** The layer a repository path belongs to, or undefined outside shared/ and stages/. */
export function layerOf(path: string): string | undefined {
  const parts = normalize(path).split("/");
  if (parts[0] === "stages") return "stages";
  if (parts[0] === "shared" && parts.length > 2) return parts[1];
  return undefined;
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"']+)["']/g;

/** The repository paths `source` (the text of file `path`) imports by relative specifier. */
export function relativeImports(path: string, source: string): string[] {
  return [...source.matchAll(SPECIFIER)].map((m) => normalize(join(dirname(path), m[1]!)));
}

export interface Violation {
  readonly file: string;
  readonly imports: string;
  readonly rule: string;
}

/** Every import in `files` (repository path -> text) that the layer rules forbid. */
export function layerViolations(files: ReadonlyMap<string, string>): Violation[] {
  const found: Violation[] = [];
  for (const [file, source] of files) {
    const from = layerOf(file);
    if (from === undefined) continue;
    for (const target of relativeImports(file, source)) {
      const to = layerOf(target);
      if (to === undefined) continue; // deno.json and other root files
      if (from === "stages" && to === "stages") {
        found.push({ file, imports: target, rule: "a stage never imports another stage" });
      } else if (to !== from && !(MAY_IMPORT[from] ?? []).includes(to)) {
        found.push({ file, imports: target, rule: `${from} may not import ${to}` });
      }
    }
  }
  return found;
}

/**
 * A circle in a layer table (["train", "observe", "eval", "train"]), or undefined when the
 * layers form a hierarchy: with a circle, "lower" means nothing and an edit anywhere on it
 * changes the code hash of every stage that imports any of its layers.
 */
export function layerCircle(
  table: Readonly<Record<string, readonly string[]>>,
): string[] | undefined {
  const done = new Set<string>();
  const visit = (layer: string, path: string[]): string[] | undefined => {
    const at = path.indexOf(layer);
    if (at >= 0) return [...path.slice(at), layer];
    if (done.has(layer)) return undefined;
    for (const next of table[layer] ?? []) {
      const circle = visit(next, [...path, layer]);
      if (circle) return circle;
    }
    done.add(layer);
    return undefined;
  };
  for (const layer of Object.keys(table).sort()) {
    const circle = visit(layer, []);
    if (circle) return circle;
  }
  return undefined;
}

/**
 * The files that import each other in a circle, directly or through others (type-only imports
 * count: they tie the two files' concerns as much), one sorted list per circle.
 */
export function fileCircles(files: ReadonlyMap<string, string>): string[][] {
  const edges = new Map<string, string[]>();
  for (const [file, source] of files) {
    edges.set(file, relativeImports(file, source).filter((target) => files.has(target)));
  }
  // Tarjan's strongly connected components.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const connect = (file: string): void => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    onStack.add(file);
    for (const target of edges.get(file) ?? []) {
      if (!index.has(target)) {
        connect(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file)!, index.get(target)!));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || (edges.get(file) ?? []).includes(file)) {
      circles.push(component.sort());
    }
  };
  for (const file of [...files.keys()].sort()) if (!index.has(file)) connect(file);
  return circles.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** The .ts and .js files under `dirs` of the checkout at `root`, as repository path -> text. */
export async function readSources(root: string, dirs: string[]): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const visit = async (dir: string): Promise<void> => {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) await visit(path);
      else if (/\.(ts|js)$/.test(entry.name)) {
        files.set(relative(root, path), await Deno.readTextFile(path));
      }
    }
  };
  for (const dir of dirs) await visit(join(root, dir));
  return files;
}
