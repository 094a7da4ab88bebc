/**
 * The dashboard's only way from a URL to a file: a validated run name, resolved with realpath
 * and accepted only when it stays inside the runs folder (so `..`, encoded dots, absolute paths
 * and symlinks that lead out are all refused), not hard-linked, and one of a fixed set of file
 * names.
 */
import { join, resolve, sep } from "node:path";

/** The rule of validRunName (shared/pipeline/run_record.ts), plus a length cap. */
const RUN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export const RUN_FILES = ["metrics.jsonl", "record.json", "params.json", "report.html"] as const;
export type RunFile = (typeof RUN_FILES)[number];

export function isRunName(name: string): boolean {
  return RUN_NAME.test(name);
}

export class RunsRoot {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  /** The real path of the runs folder, or undefined while it does not exist yet. */
  async real(): Promise<string | undefined> {
    return await realPathOrUndefined(this.dir);
  }

  /** The real directory of run `name`, or undefined when it is absent or leads outside. */
  async runDir(name: string): Promise<string | undefined> {
    if (!isRunName(name)) return undefined;
    const root = await this.real();
    if (root === undefined) return undefined;
    const real = await realPathOrUndefined(join(root, name));
    if (real === undefined || !inside(root, real)) return undefined;
    const info = await Deno.stat(real);
    return info.isDirectory ? real : undefined;
  }

  /**
   * The path of `file` in run `name`: `{ path }` (which may not exist yet) or undefined when the
   * run is refused or the file is a link that leads out of the run's folder.
   */
  async runFile(name: string, file: RunFile): Promise<{ path: string } | undefined> {
    const dir = await this.runDir(name);
    if (dir === undefined) return undefined;
    const path = join(dir, file);
    const real = await realPathOrUndefined(path);
    if (real === undefined) {
      // A dangling symlink is refused too; only a truly absent file is "not yet".
      return (await lstatOrUndefined(path)) === undefined ? { path } : undefined;
    }
    if (!inside(dir, real)) return undefined;
    // A hard link looks like a file of the run but may share its bytes with one outside;
    // csn writes none into runs/ (copies and renames only), so a second link is refused.
    const info = await Deno.lstat(real);
    return info.isFile && (info.nlink ?? 1) > 1 ? undefined : { path: real };
  }

  /** Names of the runs (folders with valid names that resolve inside), sorted. */
  async list(): Promise<string[]> {
    const root = await this.real();
    if (root === undefined) return [];
    const names: string[] = [];
    for await (const entry of Deno.readDir(root)) {
      if (isRunName(entry.name) && (await this.runDir(entry.name)) !== undefined) {
        names.push(entry.name);
      }
    }
    return names.sort();
  }
}

function inside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

async function realPathOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await Deno.realPath(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

async function lstatOrUndefined(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}
