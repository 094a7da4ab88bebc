/**
 * push / pull: copy one run (its artefacts, cache entries and record) between the local store
 * and an S3 store. Resumable: an artefact already whole at the destination is skipped, so a
 * rerun after a kill carries on. Verified: pushed artefacts are rehashed first, pulled ones
 * are checked file by file against their listing as they arrive.
 */
import { join } from "node:path";
import { LocalStore } from "../store/local_store.ts";
import { S3Store } from "../store/s3_store.ts";
import type { Project } from "./project.ts";
import {
  readRunRecord,
  runDir,
  type RunRecord,
  RunRecordSchema,
  writeRunRecord,
} from "./run_record.ts";

export interface SyncReport {
  run: string;
  store: string;
  /** Artefacts copied now, and those the destination already had. */
  copied: string[];
  present: string[];
  entries: number;
}

function remoteOf(remote: Project): S3Store {
  if (!(remote.store instanceof S3Store)) {
    throw new TypeError(
      `Cannot push or pull with store "${remote.storeUrl}": give a remote, --store s3://bucket/prefix`,
    );
  }
  return remote.store;
}

/** The local store of `local`, which a push reads from and a pull writes to. */
function localOf(local: Project, action: string): LocalStore {
  if (!(local.store instanceof LocalStore)) {
    throw new TypeError(`Cannot ${action}: the store here is ${local.storeUrl}, not local`);
  }
  return local.store;
}

function recordKey(store: S3Store, run: string, file: string): string {
  return `${store.base}runs/${run}/${file}`;
}

function outputsOf(record: RunRecord): string[] {
  const ids = Object.values(record.stages).flatMap((stage) => Object.values(stage.outputs));
  return [...new Set(ids)].sort();
}

/** Copies the cache entries of a run's stages; returns how many there were. */
async function copyEntries(record: RunRecord, from: Project, to: Project): Promise<number> {
  let copied = 0;
  for (const stage of Object.values(record.stages)) {
    const entry = await from.entries.read(stage.key);
    if (entry === undefined) continue;
    await to.entries.write(stage.key, entry);
    copied++;
  }
  return copied;
}

export async function pushRun(
  local: Project,
  remote: Project,
  run: string,
  log: (message: string) => void,
): Promise<SyncReport> {
  const store = remoteOf(remote);
  const here = localOf(local, `push run "${run}"`);
  const record = await readRunRecord(local, run);
  if (!record) {
    throw new Deno.errors.NotFound(
      `Cannot push run "${run}": ${join(runDir(local, run), "record.json")} does not exist`,
    );
  }
  const report: SyncReport = { run, store: remote.storeUrl, copied: [], present: [], entries: 0 };
  for (const id of outputsOf(record)) {
    const check = await here.verify(id, "full");
    if (!check.intact) {
      throw new Error(
        `Cannot push run "${run}": artefact ${id} is damaged here (${check.problem})`,
      );
    }
    const done = await store.upload(id, here);
    (done === "uploaded" ? report.copied : report.present).push(id);
    log(`push ${id.slice(0, 12)}: ${done}`);
  }
  report.entries = await copyEntries(record, local, remote);
  // The record last: a remote record names only artefacts that are all there. (params.json is
  // derived from the record, so it does not travel.)
  await store.client.put(recordKey(store, run, "record.json"), JSON.stringify(record, null, 2));
  return report;
}

export async function pullRun(
  local: Project,
  remote: Project,
  run: string,
  log: (message: string) => void,
): Promise<SyncReport> {
  const store = remoteOf(remote);
  const here = localOf(local, `pull run "${run}"`);
  const key = recordKey(store, run, "record.json");
  const bytes = await store.client.get(key);
  if (!bytes) {
    throw new Deno.errors.NotFound(
      `Cannot pull run "${run}": s3://${store.client.bucket}/${key} does not exist ` +
        `(push it first: deno task push ${run} --store ${remote.storeUrl})`,
    );
  }
  const parsed = RunRecordSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
  if (!parsed.success) {
    throw new TypeError(
      `Cannot pull run "${run}": s3://${store.client.bucket}/${key} is malformed`,
    );
  }
  const record = parsed.data;
  const report: SyncReport = { run, store: remote.storeUrl, copied: [], present: [], entries: 0 };
  for (const id of outputsOf(record)) {
    const done = await store.download(id, here);
    (done === "downloaded" ? report.copied : report.present).push(id);
    log(`pull ${id.slice(0, 12)}: ${done}`);
  }
  report.entries = await copyEntries(record, remote, local);
  await writeRunRecord(local, record); // and the params.json derived from it
  return report;
}
