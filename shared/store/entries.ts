/**
 * Where cache entries (small JSON pointers from a stage's cache key to its output ids) live:
 * data/cache/ beside a local store, <prefix>/cache/ in a bucket. Writes are last-writer-wins;
 * two writers of one key have made equally valid outputs.
 */
import { join } from "node:path";
import { writeFileAtomic } from "../util/fs.ts";

export interface EntryStore {
  /** Where the entries are, for messages. */
  readonly where: string;
  read(key: string): Promise<string | undefined>;
  write(key: string, text: string): Promise<void>;
  list(): Promise<string[]>;
  remove(key: string): Promise<void>;
}

const KEY = /^[0-9a-f]{64}$/;

export function assertEntryKey(key: string): void {
  if (!KEY.test(key)) {
    throw new TypeError(
      `Cannot use "${key}" as a cache entry: it is not a cache key, expected 64 hex digits`,
    );
  }
}

export class LocalEntries implements EntryStore {
  constructor(readonly where: string) {}

  async read(key: string): Promise<string | undefined> {
    assertEntryKey(key);
    try {
      return await Deno.readTextFile(join(this.where, `${key}.json`));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
  }

  async write(key: string, text: string): Promise<void> {
    assertEntryKey(key);
    await writeFileAtomic(join(this.where, `${key}.json`), text);
  }

  async list(): Promise<string[]> {
    const keys: string[] = [];
    try {
      for await (const entry of Deno.readDir(this.where)) {
        const match = /^([0-9a-f]{64})\.json$/.exec(entry.name);
        if (entry.isFile && match) keys.push(match[1]!);
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    return keys.sort();
  }

  async remove(key: string): Promise<void> {
    assertEntryKey(key);
    await Deno.remove(join(this.where, `${key}.json`)).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }
}
