/**
 * What `report`, `query` and `export` may write, found from their arguments before they start:
 * Deno's permissions are fixed at launch and a deno.json task is a static string, so these
 * tasks run a small launcher (fence_main.ts) that grants the command exactly its run folder
 * and its --out, then runs it. Pure: the launcher does the I/O.
 */
import { dirname, isAbsolute, join, resolve } from "node:path";

export const FENCED = ["report", "query", "export"] as const;
export type FencedCommand = typeof FENCED[number];

export interface Fence {
  /** Paths the command may write (folders or files), absolute. */
  readonly writes: string[];
  /** Folders to make before it starts (it may write inside, not make them). */
  readonly folders: string[];
  /** Whether it loads native code (oneDNN, sharp, canvas): query and export open the engine. */
  readonly ffi: boolean;
}

/** The value of --NAME (as `--NAME V` or `--NAME=V`), the last one given. */
function flagValue(args: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  args.forEach((token, i) => {
    if (token === `--${name}`) value = args[i + 1];
    else if (token.startsWith(`--${name}=`)) value = token.slice(name.length + 3);
  });
  return value;
}

/** runs/NAME under `root` for a --run value (NAME, runs/NAME or ./runs/NAME/). */
function runFolder(root: string, run: string): string {
  return join(root, "runs", run.replace(/^(\.\/)?runs\//, "").replace(/\/+$/, ""));
}

export function fenceOf(
  command: FencedCommand,
  args: readonly string[],
  root: string,
  cwd: string,
): Fence {
  const at = (path: string) => isAbsolute(path) ? path : resolve(cwd, path);
  if (command === "report") {
    // Each run folder given: its report.html and tb/ go inside.
    const dirs = args.filter((token) => !token.startsWith("--")).map(at);
    return { writes: dirs, folders: [], ffi: false };
  }
  const run = flagValue(args, "run");
  const writes = run === undefined ? [] : [runFolder(root, run)];
  const onnx = command === "export" ? flagValue(args, "onnx") : undefined;
  if (onnx) {
    // One file written atomically (a temp file beside it, renamed): its folder, then.
    const folder = dirname(at(onnx));
    return { writes: [...writes, folder], folders: [folder], ffi: true };
  }
  const out = flagValue(args, "out");
  if (out === undefined) return { writes, folders: [], ffi: true };
  // query writes one PNG (its folder is made first); export fills a folder.
  const target = at(out);
  const folder = command === "query" ? dirname(target) : target;
  return { writes: [...writes, target], folders: [folder], ffi: true };
}

/**
 * The command's own permissions: the stage task's reads, environment, system info and FFI
 * libraries, no network (unless the store is a bucket), no subprocesses, and writes only to
 * `fence.writes`.
 */
export function fencedFlags(stageFlags: readonly string[], fence: Fence, s3: boolean): string[] {
  const kept = stageFlags.filter((flag) =>
    !flag.startsWith("--allow-write") && !flag.startsWith("--allow-run") &&
    !(flag.startsWith("--allow-net") && !s3) && !(flag.startsWith("--allow-ffi") && !fence.ffi)
  );
  return fence.writes.length > 0 ? [...kept, `--allow-write=${fence.writes.join(",")}`] : kept;
}
