/** Small filesystem helpers shared by the store and the runner. */
import { dirname, join } from "node:path";

/** Writes a file atomically: temp file in the same folder, fsync, rename. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const temp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  {
    using file = await Deno.open(temp, { write: true, create: true, truncate: true });
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    await file.sync();
  }
  await Deno.rename(temp, path);
}

/** JSON text of `source` (a file's path); a SyntaxError naming it otherwise. */
export function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SyntaxError(`Cannot parse "${source}" as JSON: ${(error as Error).message}`);
  }
}

/** The text of `path`; undefined when there is no such file. */
export async function textIfExists(path: string): Promise<string | undefined> {
  return await Deno.readTextFile(path).catch((error: unknown) => {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  });
}

/** Reads JSON, or returns undefined when the file does not exist. */
export async function readJsonIfExists(path: string): Promise<unknown> {
  const text = await textIfExists(path);
  return text === undefined ? undefined : parseJson(text, path);
}

/** A JSON file given by path (a user's or a tool's, not an artefact's). */
export async function readJsonFile(path: string): Promise<unknown> {
  const text = await textIfExists(path);
  if (text === undefined) throw new Deno.errors.NotFound(`Cannot read "${path}": no such file`);
  return parseJson(text, path);
}

export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** An artefact folder holds a link, socket or device where only plain files belong. */
export class NotPlainFileError extends TypeError {
  override name = "NotPlainFileError";
  constructor(readonly root: string, readonly path: string) {
    super(`Cannot list artefact "${root}": "${path}" is not a plain file`);
  }
}

/** Lists every regular file under `root`, as sorted POSIX relative paths. */
export async function listFiles(root: string, skip: (rel: string) => boolean = () => false) {
  const files: string[] = [];
  async function walk(rel: string): Promise<void> {
    for await (const entry of Deno.readDir(rel ? join(root, rel) : root)) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (skip(child)) continue;
      if (entry.isDirectory) await walk(child);
      else if (entry.isFile) files.push(child);
      else throw new NotPlainFileError(root, child);
    }
  }
  await walk("");
  return files.sort();
}

/** Removes a tree even when the store made it read-only. */
export async function removeTree(path: string): Promise<void> {
  if (!(await exists(path))) return;
  await makeWritable(path);
  await Deno.remove(path, { recursive: true });
}

async function makeWritable(path: string): Promise<void> {
  const info = await Deno.lstat(path);
  if (!info.isDirectory) return;
  await Deno.chmod(path, 0o755);
  for await (const entry of Deno.readDir(path)) {
    if (entry.isDirectory) await makeWritable(join(path, entry.name));
  }
}

/** Removes `dir` if it exists and holds nothing. */
export async function removeIfEmpty(dir: string): Promise<void> {
  try {
    for await (const _ of Deno.readDir(dir)) return;
    await Deno.remove(dir);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
