/**
 * Content-addressed artefacts in an S3 bucket:
 *   <prefix>/objects/<id>/files/<path>    the files (written first)
 *   <prefix>/objects/<id>/LISTING_FILE   the listing, written last: without it there is no artefact;
 *                                        it records each file's ETag as S3 stored it
 *   <prefix>/damaged/<id>-<time>.json     why an artefact was moved aside (its listing removed)
 * Drafts are written and committed in a local read-through cache (a LocalStore, usually
 * data/remote-cache/), then uploaded; reads download into that cache once, checking every
 * file's sha256 against the listing before anyone sees the bytes. No conditional writes are
 * needed: a rewrite of an id writes the same bytes.
 * The fast check (what a cached run relies on) compares the bucket's listing of the files, size
 * and ETag, with the ETags recorded at upload, as the local store compares sizes and mtimes: an
 * object rewritten through S3 has a new ETag. Bytes changed below S3's API (on a server's disk)
 * are found by a full verify and by every read.
 */
import { join } from "node:path";
import { sha256File } from "../util/hash.ts";
import { Limiter } from "../util/limit.ts";
import { artefactId, assertArtefactId, LISTING_FILE, type ListingRecord } from "./listing.ts";
import { LocalStore } from "./local_store.ts";
import type { S3Client } from "./s3_client.ts";
import { downloadFile, uploadFile } from "./s3_transfer.ts";
import type {
  ArtefactDraft,
  ArtefactStore,
  ListedFile,
  Verification,
  VerifyMode,
} from "./store.ts";

/** S3's smallest part of a multipart upload (all but the last). */
export const MIN_PART = 5 << 20;

export interface S3StoreOptions {
  /** Files above this size go up and down in parts of this size (default 8 MiB as the AWS CLI's, min 5 MiB). */
  readonly partSize?: number;
  /** Requests in flight at once, over all files and parts (default 8). */
  readonly parallel?: number;
}

export class DamagedArtefactError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DamagedArtefactError";
  }
}

export class S3Store implements ArtefactStore {
  readonly local: LocalStore;
  readonly base: string;
  readonly partSize: number;
  readonly #limit: Limiter;

  constructor(
    readonly client: S3Client,
    prefix: string,
    cacheRoot: string,
    options: S3StoreOptions = {},
  ) {
    this.local = new LocalStore(cacheRoot);
    this.base = prefix ? `${prefix}/` : "";
    this.partSize = options.partSize ?? 8 << 20;
    if (!(this.partSize >= MIN_PART)) {
      throw new RangeError(
        `Cannot use S3 parts of ${this.partSize} bytes: S3 needs at least ${MIN_PART} (5 MiB)`,
      );
    }
    this.#limit = new Limiter(options.parallel ?? 8);
  }

  /** s3://bucket/prefix, for messages. */
  get where(): string {
    return `s3://${this.client.bucket}/${this.base} at ${this.client.settings.endpoint}`;
  }

  #key(id: string, rest: string): string {
    return `${this.base}objects/${id}/${rest}`;
  }

  sweep(): Promise<number> {
    // Remotely, a killed upload left files without a listing: invisible, and rewritten by the
    // next commit of the same id. Locally, drafts of dead writers go.
    return this.local.sweep();
  }

  async draft(): Promise<ArtefactDraft> {
    const draft = await this.local.draft();
    return {
      dir: draft.dir,
      abort: () => draft.abort(),
      commit: async () => {
        const id = await draft.commit();
        await this.upload(id);
        return id;
      },
    };
  }

  /** Uploads an artefact of the local cache: files first, listing last. Skipped when the
   * bucket holds it intact (sizes and ETags as recorded); a damaged copy is written over. */
  async upload(id: string, from: LocalStore = this.local): Promise<"uploaded" | "present"> {
    const files = await from.listing(id);
    const remote = await this.#remoteListing(id);
    if (remote.record && (await this.#filesProblem(id, remote.record)) === undefined) {
      return "present";
    }
    const dir = await from.open(id);
    const etags = await Promise.all(files.map((file) =>
      uploadFile(this.client, this.#limit, {
        key: this.#key(id, `files/${file.path}`),
        path: join(dir, file.path),
        size: file.size,
        partSize: this.partSize,
      })
    ));
    const record: ListingRecord = {
      format: "csn-artefact/1",
      files,
      mtimes: {},
      etags: Object.fromEntries(files.map((file, i) => [file.path, etags[i]!])),
    };
    await this.client.put(this.#key(id, LISTING_FILE), JSON.stringify(record), "application/json");
    return "uploaded";
  }

  async #remoteListing(
    id: string,
  ): Promise<{ files?: readonly ListedFile[]; record?: ListingRecord; problem?: string }> {
    const bytes = await this.client.get(this.#key(id, LISTING_FILE));
    if (!bytes) return { problem: "absent" };
    let record: ListingRecord;
    try {
      record = JSON.parse(new TextDecoder().decode(bytes));
    } catch (error) {
      if (error instanceof SyntaxError) return { problem: "listing unreadable" };
      throw error;
    }
    if (!Array.isArray(record.files) || artefactId(record.files) !== id) {
      return { problem: "listing does not match the id" };
    }
    return { files: record.files, record };
  }

  /** What is wrong with the artefact's objects as the bucket lists them (undefined: nothing):
   * each listed file present, of its size, with the ETag recorded at upload (listings written
   * before ETags were recorded are checked by size). */
  async #filesProblem(id: string, record: ListingRecord): Promise<string | undefined> {
    const prefix = this.#key(id, "files/");
    const { keys } = await this.client.list(prefix);
    const found = new Map(keys.map((key) => [key.key.slice(prefix.length), key]));
    for (const file of record.files) {
      const object = found.get(file.path);
      const where = `s3://${this.client.bucket}/${prefix}${file.path}`;
      if (!object) return `${file.path}: missing (${where})`;
      if (object.size !== file.size) {
        return `${file.path}: size ${object.size}, expected ${file.size} (${where})`;
      }
      const etag = record.etags?.[file.path];
      if (etag !== undefined && object.etag !== etag) {
        return `${file.path}: rewritten since upload, ETag ${object.etag}, expected ${etag} ` +
          `(${where})`;
      }
    }
    return undefined;
  }

  /** "fast": the listing names this id and the bucket lists every file as uploaded (size,
   * ETag). "full": every byte is fetched and hashed. */
  async verify(id: string, mode: VerifyMode = "fast"): Promise<Verification> {
    assertArtefactId(id);
    const remote = await this.#remoteListing(id);
    if (!remote.files || !remote.record) return { intact: false, problem: remote.problem! };
    const problem = await this.#filesProblem(id, remote.record);
    if (problem) return { intact: false, problem };
    if (mode === "fast") return { intact: true, rehashed: 0 };
    try {
      await this.#materialise(id, remote.files, { quarantine: false, trustLocal: false });
    } catch (error) {
      if (error instanceof DamagedArtefactError) return { intact: false, problem: error.message };
      throw error;
    }
    return { intact: true, rehashed: remote.files.length };
  }

  async quarantine(id: string, why: string): Promise<void> {
    assertArtefactId(id);
    const listing = await this.client.get(this.#key(id, LISTING_FILE));
    if (listing) {
      const stamp = new Date().toISOString().replaceAll(":", "-");
      const note = JSON.stringify({ id, why, listing: new TextDecoder().decode(listing) });
      await this.client.put(`${this.base}damaged/${id}-${stamp}.json`, note, "application/json");
      await this.client.delete(this.#key(id, LISTING_FILE));
    }
    await this.local.quarantine(id, why);
  }

  async open(id: string): Promise<string> {
    assertArtefactId(id);
    const remote = await this.#remoteListing(id);
    if (!remote.files) {
      throw new Deno.errors.NotFound(
        `Cannot read artefact ${id} from ${this.where}: ${remote.problem}`,
      );
    }
    return await this.#materialise(id, remote.files, { quarantine: true, trustLocal: true });
  }

  async copyOut(id: string, path: string, target: string): Promise<void> {
    assertArtefactId(id);
    if ((await this.local.verify(id)).intact) {
      await Deno.copyFile(join(await this.local.open(id), path), target);
      return;
    }
    const remote = await this.#remoteListing(id);
    const file = remote.files?.find((f) => f.path === path);
    if (!file) {
      throw new Deno.errors.NotFound(
        `Cannot read ${path} of artefact ${id} from ${this.where}: ${
          remote.problem ?? "not listed"
        }`,
      );
    }
    const key = this.#key(id, `files/${path}`);
    const part = `${target}.part-${crypto.randomUUID().slice(0, 8)}`;
    await downloadFile(this.client, this.#limit, {
      key,
      path: part,
      size: file.size,
      partSize: this.partSize,
    });
    if ((await sha256File(part)) !== file.sha256) {
      await Deno.remove(part);
      const problem =
        `${path}: content does not match its sha256 (s3://${this.client.bucket}/${key})`;
      await this.quarantine(id, problem);
      throw new DamagedArtefactError(
        `Cannot read artefact ${id} from ${this.where}: ${problem}; it was moved aside and the ` +
          "next run rebuilds it",
      );
    }
    await Deno.rename(part, target);
  }

  /** Downloads an artefact into another local store (pull), checked as every read is. */
  async download(id: string, into: LocalStore): Promise<"downloaded" | "present"> {
    assertArtefactId(id);
    if ((await into.verify(id)).intact) return "present";
    const remote = await this.#remoteListing(id);
    if (!remote.files) {
      throw new Deno.errors.NotFound(
        `Cannot pull artefact ${id} from ${this.where}: ${remote.problem}`,
      );
    }
    await this.#materialise(id, remote.files, { quarantine: true, trustLocal: false }, into);
    return "downloaded";
  }

  /** The artefact's files in the local cache: downloaded once, each hashed before use. */
  async #materialise(
    id: string,
    files: readonly ListedFile[],
    how: { quarantine: boolean; trustLocal: boolean },
    into: LocalStore = this.local,
  ): Promise<string> {
    if (how.trustLocal && (await into.verify(id)).intact) return await into.open(id);
    const draft = await into.draft();
    try {
      await Promise.all(files.map((file) =>
        downloadFile(this.client, this.#limit, {
          key: this.#key(id, `files/${file.path}`),
          path: join(draft.dir, file.path),
          size: file.size,
          partSize: this.partSize,
        })
      ));
    } catch (error) {
      await draft.abort();
      throw error;
    }
    // Committing hashes every file once; a different id means different bytes.
    const made = await draft.commit();
    if (made !== id) {
      const got = new Map((await into.listing(made)).map((file) => [file.path, file.sha256]));
      await into.remove(made);
      const bad = files.find((file) => got.get(file.path) !== file.sha256);
      const key = this.#key(id, `files/${bad?.path ?? ""}`);
      const problem = `${bad?.path ?? "a file"}: content does not match its sha256 ` +
        `(s3://${this.client.bucket}/${key})`;
      if (!how.quarantine) throw new DamagedArtefactError(problem);
      await this.quarantine(id, problem);
      throw new DamagedArtefactError(
        `Cannot read artefact ${id} from ${this.where}: ${problem}; it was moved aside ` +
          "and the next run rebuilds it",
      );
    }
    return await into.open(id);
  }

  async listing(id: string): Promise<readonly ListedFile[]> {
    assertArtefactId(id);
    const remote = await this.#remoteListing(id);
    if (!remote.files) {
      throw new Deno.errors.NotFound(
        `Cannot list artefact ${id} in ${this.where}: ${remote.problem}`,
      );
    }
    return remote.files;
  }

  /** Checks the bucket exists and the credentials are accepted (one small listing). */
  async probe(): Promise<void> {
    await this.client.probe(this.base);
  }

  async list(): Promise<string[]> {
    const { keys } = await this.client.list(`${this.base}objects/`);
    const suffix = `/${LISTING_FILE}`;
    return keys.map((k) => k.key).filter((k) => k.endsWith(suffix))
      .map((k) => k.slice(`${this.base}objects/`.length, -suffix.length))
      .filter((id) => /^[0-9a-f]{64}$/.test(id)).sort();
  }

  async modified(id: string): Promise<number> {
    assertArtefactId(id);
    const head = await this.client.head(this.#key(id, LISTING_FILE));
    if (!head) {
      throw new Deno.errors.NotFound(`Cannot date artefact ${id} in ${this.where}: absent`);
    }
    return head.modified;
  }

  async remove(id: string): Promise<void> {
    assertArtefactId(id);
    // Listing first: from then on the artefact does not exist, whatever happens to its files.
    await this.client.delete(this.#key(id, LISTING_FILE));
    const { keys } = await this.client.list(this.#key(id, ""));
    await Promise.all(keys.map((k) => this.#limit.run(() => this.client.delete(k.key))));
    await this.local.remove(id);
  }
}
