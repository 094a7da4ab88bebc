/**
 * Gallery embeddings cached in the run's folder (runs/NAME/query-cache/), so a second query
 * or export skips embedding the gallery. Keyed by checkpoint artefact id + file, shards id
 * and split; two files per entry: gallery-<split>-<key>.bin (int32 image ids, then float32
 * embeddings nets x n x d, little-endian) and its .json header (the key, shapes, condition
 * names, masks and the sha256 of the .bin). The header is written last, so it only ever
 * describes a whole .bin. A header that does not match (stale, damaged, edited) is a miss.
 */
import { join } from "node:path";
import { canonicalJson } from "../util/canonical_json.ts";
import { sha256Hex } from "../util/hash.ts";
import { writeFileAtomic } from "../util/fs.ts";

export const GALLERY_FORMAT = "csn-query-gallery/1";

export interface GalleryKey {
  readonly checkpoint: string;
  /** Checkpoint file name inside the artefact. */
  readonly file: string;
  readonly shards: string;
  readonly split: string;
}

export interface Gallery {
  /** Shard record ids of the gallery images, ascending. */
  readonly ids: Int32Array;
  readonly d: number;
  /** One n x d matrix per backbone (several only for task-specific models). */
  readonly embeddings: Float32Array[];
  readonly conditionNames: readonly string[];
  /** conditions x d, as used in the forward pass. */
  readonly masks: Float32Array;
}

interface Header {
  format: string;
  key: GalleryKey;
  count: number;
  d: number;
  nets: number;
  condition_names: string[];
  masks: number[];
  bytes: number;
  sha256: string;
}

export function galleryFiles(cacheDir: string, key: GalleryKey): { bin: string; json: string } {
  const stem = `gallery-${key.split}-${sha256Hex(canonicalJson(key)).slice(0, 16)}`;
  return { bin: join(cacheDir, `${stem}.bin`), json: join(cacheDir, `${stem}.json`) };
}

export function encodeGallery(gallery: Gallery): Uint8Array {
  const n = gallery.ids.length, d = gallery.d;
  const out = new Uint8Array(4 * n + 4 * gallery.embeddings.length * n * d);
  const view = new DataView(out.buffer);
  gallery.ids.forEach((id, i) => view.setInt32(4 * i, id, true));
  let offset = 4 * n;
  for (const matrix of gallery.embeddings) {
    for (const v of matrix) view.setFloat32(offset, v, true), offset += 4;
  }
  return out;
}

export async function writeGalleryCache(
  cacheDir: string,
  key: GalleryKey,
  gallery: Gallery,
): Promise<string> {
  const files = galleryFiles(cacheDir, key);
  const bin = encodeGallery(gallery);
  const header: Header = {
    format: GALLERY_FORMAT,
    key,
    count: gallery.ids.length,
    d: gallery.d,
    nets: gallery.embeddings.length,
    condition_names: [...gallery.conditionNames],
    masks: Array.from(gallery.masks),
    bytes: bin.length,
    sha256: sha256Hex(bin),
  };
  await writeFileAtomic(files.bin, bin);
  await writeFileAtomic(files.json, JSON.stringify(header) + "\n");
  await pruneOthers(cacheDir, key.split, files.json);
  return files.json;
}

/** Other entries of the same split belong to older checkpoints: one per split is kept. */
async function pruneOthers(cacheDir: string, split: string, keep: string): Promise<void> {
  const stem = keep.slice(0, -".json".length);
  for await (const entry of Deno.readDir(cacheDir)) {
    const path = join(cacheDir, entry.name);
    if (!entry.name.startsWith(`gallery-${split}-`) || path.startsWith(stem)) continue;
    await Deno.remove(path).catch((error) => {
      // A concurrent query may have removed it first.
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }
}

/** The cached gallery, or why there is none ("absent", or what did not match). */
export async function readGalleryCache(
  cacheDir: string,
  key: GalleryKey,
): Promise<{ gallery: Gallery; file: string } | { miss: string }> {
  const files = galleryFiles(cacheDir, key);
  let header: Header, bin: Uint8Array;
  try {
    header = JSON.parse(await Deno.readTextFile(files.json));
    bin = await Deno.readFile(files.bin);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { miss: "absent" };
    if (error instanceof SyntaxError) return { miss: `${files.json} is not JSON` };
    throw error;
  }
  if (header.format !== GALLERY_FORMAT || canonicalJson(header.key) !== canonicalJson(key)) {
    return { miss: `${files.json} is for another checkpoint or format` };
  }
  const { count: n, d, nets } = header;
  if (bin.length !== header.bytes || bin.length !== 4 * n + 4 * nets * n * d) {
    return { miss: `${files.bin} has ${bin.length} bytes, expected ${header.bytes}` };
  }
  if (sha256Hex(bin) !== header.sha256) return { miss: `${files.bin} does not match its sha256` };
  if (header.masks.length !== header.condition_names.length * d) {
    return {
      miss: `${files.json} has ${header.masks.length} mask values, expected conditions x d`,
    };
  }
  const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  const ids = Int32Array.from({ length: n }, (_, i) => view.getInt32(4 * i, true));
  const embeddings = Array.from({ length: nets }, (_, net) => {
    const base = 4 * n + 4 * net * n * d;
    return Float32Array.from({ length: n * d }, (_, j) => view.getFloat32(base + 4 * j, true));
  });
  return {
    file: files.json,
    gallery: {
      ids,
      d,
      embeddings,
      conditionNames: header.condition_names,
      masks: Float32Array.from(header.masks),
    },
  };
}
