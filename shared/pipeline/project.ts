/** Where a project keeps its manifests, stages, store, cache and run records. */
import { join } from "node:path";
import { type EntryStore, LocalEntries } from "../store/entries.ts";
import { LocalStore } from "../store/local_store.ts";
import { S3Client } from "../store/s3_client.ts";
import { parseS3Url, s3SettingsFromEnv } from "../store/s3_config.ts";
import { S3Entries } from "../store/s3_entries.ts";
import { S3Store } from "../store/s3_store.ts";
import type { ArtefactStore } from "../store/store.ts";
import { assertNoLinksInData } from "../util/no_links.ts";

export interface Project {
  readonly root: string;
  /** "local" or the s3://bucket/prefix URL the store lives at. */
  readonly storeUrl: string;
  readonly store: ArtefactStore;
  /** Cache entries: beside the store (data/cache/ locally, <prefix>/cache/ in a bucket). */
  readonly entries: EntryStore;
  readonly locksDir: string;
  readonly runsDir: string;
  /** Per cache key, resumable scratch space of stage runs in progress. */
  readonly workDir: string;
}

/**
 * The project rooted at `root` (default: CSN_ROOT, else the working directory), with its
 * store at `store` (default: CSN_STORE, else local under data/). Refuses a project whose data/
 * holds a symbolic link where csn writes (util/no_links.ts).
 */
export function openProject(
  root = Deno.env.get("CSN_ROOT") ?? Deno.cwd(),
  store = Deno.env.get("CSN_STORE") || "local",
): Project {
  assertNoLinksInData(root);
  const base = {
    root,
    locksDir: join(root, "data", "locks"),
    runsDir: join(root, "runs"),
    workDir: join(root, "data", "work"),
  };
  if (store === "local") {
    return {
      ...base,
      storeUrl: "local",
      store: new LocalStore(join(root, "data", "store")),
      entries: new LocalEntries(join(root, "data", "cache")),
    };
  }
  if (!store.startsWith("s3://")) {
    throw new TypeError(`Cannot use store "${store}": expected "local" or s3://bucket/prefix`);
  }
  const location = parseS3Url(store);
  const client = new S3Client(s3SettingsFromEnv((name) => Deno.env.get(name)), location.bucket);
  const remote = new S3Store(client, location.prefix, join(root, "data", "remote-cache"), {
    partSize: envNumber("CSN_S3_PART_MB", 8) * (1 << 20),
    parallel: envNumber("CSN_S3_PARALLEL", 8),
  });
  return {
    ...base,
    storeUrl: store,
    store: remote,
    entries: new S3Entries(client, `${remote.base}cache/`),
  };
}

function envNumber(name: string, fallback: number): number {
  const text = Deno.env.get(name);
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new TypeError(`Cannot use ${name}="${text}": expected a positive number`);
  }
  return value;
}
