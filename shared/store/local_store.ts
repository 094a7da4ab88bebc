/**
 * Content-addressed artefacts on the local filesystem:
 *   <root>/objects/<id>/files/...       committed, read-only artefacts
 *   <root>/objects/<id>/LISTING_FILE   their listing (hashed into the id) and trust facts
 *   <root>/tmp/<host>-<pid>-<uuid>/     drafts being written (the same two parts)
 *   <root>/tmp/<host>-<pid>-<uuid>.lock  held (flock) by the draft's writer while it writes
 *   <root>/damaged/<id>-<time>/       quarantined artefacts
 * A draft becomes an artefact by one rename, so a crash leaves either nothing or a whole one.
 * The kernel drops a dead writer's lock as the process dies (a zombie holds no files), so the
 * next sweep removes its draft at once, without asking whether a pid still runs.
 */
import { hostname } from "node:os";
import { join } from "node:path";
import { exists, listFiles, NotPlainFileError, removeTree } from "../util/fs.ts";
import { sha256File } from "../util/hash.ts";
import { artefactId, assertArtefactId, LISTING_FILE, type ListingRecord } from "./listing.ts";
import type {
  ArtefactDraft,
  ArtefactStore,
  ListedFile,
  Verification,
  VerifyMode,
} from "./store.ts";

const FILES = "files";

export class LocalStore implements ArtefactStore {
  readonly objects: string;
  readonly temp: string;
  readonly damaged: string;

  constructor(readonly root: string) {
    this.objects = join(root, "objects");
    this.temp = join(root, "tmp");
    this.damaged = join(root, "damaged");
  }

  async sweep(): Promise<number> {
    if (!(await exists(this.temp))) return 0;
    let swept = 0;
    const names: string[] = [];
    for await (const entry of Deno.readDir(this.temp)) names.push(entry.name);
    for (const name of names.filter((name) => !name.endsWith(LOCK))) {
      if (await sweepIfOrphan(this.temp, name)) swept++;
    }
    // Lock files left without a draft (a writer killed between its rename and this removal).
    for (const name of names.filter((name) => name.endsWith(LOCK))) {
      const draft = name.slice(0, -LOCK.length);
      if (!names.includes(draft)) await sweepIfOrphan(this.temp, draft);
    }
    return swept;
  }

  async draft(): Promise<ArtefactDraft> {
    const draft = join(this.temp, `${hostname()}-${Deno.pid}-${crypto.randomUUID()}`);
    await Deno.mkdir(this.temp, { recursive: true });
    // The lock exists and is held before the draft does: a draft without one is an orphan.
    const lock = await Deno.open(`${draft}${LOCK}`, { read: true, write: true, createNew: true });
    await lock.lock(true);
    const release = async () => {
      await Deno.remove(`${draft}${LOCK}`);
      lock.close();
    };
    const dir = join(draft, FILES);
    await Deno.mkdir(dir, { recursive: true });
    return {
      dir,
      commit: async () => {
        const id = await this.#commit(draft);
        await release();
        return id;
      },
      abort: async () => {
        await removeTree(draft);
        await release();
      },
    };
  }

  async #commit(draft: string): Promise<string> {
    const dir = join(draft, FILES);
    const paths = await listFiles(dir);
    const files: ListedFile[] = [];
    const mtimes: Record<string, number> = {};
    for (const path of paths) {
      const full = join(dir, path);
      await syncFile(full);
      await Deno.chmod(full, 0o444);
      const info = await Deno.stat(full);
      files.push({ path, size: info.size, sha256: await sha256File(full) });
      mtimes[path] = info.mtime?.getTime() ?? 0;
    }
    const record: ListingRecord = { format: "csn-artefact/1", files, mtimes };
    const listingPath = join(draft, LISTING_FILE);
    await Deno.writeTextFile(listingPath, JSON.stringify(record));
    await syncFile(listingPath);
    await Deno.chmod(listingPath, 0o444);
    const id = artefactId(files);
    const target = join(this.objects, id);
    await Deno.mkdir(this.objects, { recursive: true });
    if (await exists(target)) {
      const check = await this.verify(id);
      if (check.intact) {
        await removeTree(draft);
        return id;
      }
      await this.quarantine(id, check.problem);
    }
    try {
      await Deno.rename(draft, target);
    } catch (error) {
      // Another writer committed the same content first: equal content, equal id, done.
      if ((await exists(target)) && (await this.verify(id)).intact) {
        await removeTree(draft);
        return id;
      }
      throw error;
    }
    await syncDir(this.objects);
    // Read-only after the rename: renaming a read-only folder needs more rights than root has
    // elsewhere.
    await makeDirsReadOnly(target);
    return id;
  }

  async verify(id: string, mode: VerifyMode = "fast"): Promise<Verification> {
    assertArtefactId(id);
    const base = join(this.objects, id);
    const dir = join(base, FILES);
    let record: ListingRecord;
    try {
      record = JSON.parse(await Deno.readTextFile(join(base, LISTING_FILE)));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        return { intact: false, problem: (await exists(base)) ? "listing missing" : "absent" };
      }
      if (error instanceof SyntaxError) return { intact: false, problem: "listing unreadable" };
      throw error;
    }
    if (!Array.isArray(record.files) || artefactId(record.files) !== id) {
      return { intact: false, problem: "listing does not match the id" };
    }
    if (!(await exists(dir))) return { intact: false, problem: "files folder missing" };
    let present: string[];
    try {
      present = await listFiles(dir);
    } catch (error) {
      // A link placed inside is damage like any other: the caller quarantines and rebuilds.
      if (error instanceof NotPlainFileError) {
        return { intact: false, problem: `"${error.path}" is not a plain file (a link?)` };
      }
      throw error;
    }
    const listed = record.files.map((file) => file.path);
    if (present.join("\n") !== [...listed].sort().join("\n")) {
      return { intact: false, problem: "files added or removed" };
    }
    let rehashed = 0;
    for (const file of record.files) {
      const full = join(dir, file.path);
      const info = await Deno.stat(full);
      if (info.size !== file.size) {
        return { intact: false, problem: `${file.path}: size ${info.size}, expected ${file.size}` };
      }
      const untouched = info.mtime?.getTime() === record.mtimes?.[file.path];
      if (mode === "fast" && untouched) continue;
      rehashed++;
      if ((await sha256File(full)) !== file.sha256) {
        return { intact: false, problem: `${file.path}: content does not match its sha256` };
      }
    }
    return { intact: true, rehashed };
  }

  async quarantine(id: string, why: string): Promise<void> {
    assertArtefactId(id);
    const source = join(this.objects, id);
    if (!(await exists(source))) return;
    await Deno.mkdir(this.damaged, { recursive: true });
    const stamp = new Date().toISOString().replaceAll(":", "-");
    const target = join(this.damaged, `${id}-${stamp}`);
    await Deno.rename(source, target);
    await Deno.writeTextFile(`${target}.why.txt`, `${why}\n`);
  }

  open(id: string): Promise<string> {
    assertArtefactId(id);
    return Promise.resolve(join(this.objects, id, FILES));
  }

  async listing(id: string): Promise<readonly ListedFile[]> {
    assertArtefactId(id);
    const path = join(this.objects, id, LISTING_FILE);
    const record: ListingRecord = JSON.parse(await Deno.readTextFile(path));
    return record.files;
  }

  async list(): Promise<string[]> {
    if (!(await exists(this.objects))) return [];
    const ids: string[] = [];
    for await (const entry of Deno.readDir(this.objects)) ids.push(entry.name);
    return ids.sort();
  }

  async modified(id: string): Promise<number> {
    assertArtefactId(id);
    return (await Deno.stat(join(this.objects, id, FILES))).mtime?.getTime() ?? 0;
  }

  async remove(id: string): Promise<void> {
    assertArtefactId(id);
    await removeTree(join(this.objects, id));
  }
}

const LOCK = ".lock";

/**
 * Removes draft `name` (and its lock file) when no writer holds its lock: taken here, the lock
 * keeps a writer from starting on it meanwhile. Drafts of other hosts are left alone (a shared
 * folder's locks need not reach across machines). True when a draft was removed.
 */
async function sweepIfOrphan(temp: string, name: string): Promise<boolean> {
  const match = /^(.*)-(\d+)-[0-9a-f-]{36}$/.exec(name);
  if (match && match[1] !== hostname()) return false;
  const lockPath = join(temp, `${name}${LOCK}`);
  let lock: Deno.FsFile;
  try {
    lock = await Deno.open(lockPath, { read: true, write: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    // No lock file: a writer of this format always has one, so nobody writes here.
    await removeTree(join(temp, name));
    return true;
  }
  try {
    if (!(await lock.tryLock(true))) return false;
    const draft = join(temp, name);
    const found = await exists(draft);
    await removeTree(draft);
    await Deno.remove(lockPath).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
    return found;
  } finally {
    lock.close();
  }
}

async function syncFile(path: string): Promise<void> {
  using file = await Deno.open(path, { read: true });
  await file.sync();
}

async function syncDir(path: string): Promise<void> {
  using dir = await Deno.open(path, { read: true });
  await dir.sync();
}

async function makeDirsReadOnly(dir: string): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory) await makeDirsReadOnly(join(dir, entry.name));
  }
  await Deno.chmod(dir, 0o555);
}
