/**
 * Fetch side of the images dataset: find the images (a local folder, or an archive from its
 * URL or a mirror, sha256-checked, unpacked), check the label file against them (every row an
 * image, no path twice), and copy the labelled images, the label file and any triplet files
 * into the raw artefact with a sources.json. Every check runs before anything is copied.
 */
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { download } from "../../net/download.ts";
import { normaliseSha256, urlBasename } from "../../net/http_range.ts";
import { exists, removeTree } from "../../util/fs.ts";
import { sha256File } from "../../util/hash.ts";
import { contentRoot, unpackArchive } from "./archive.ts";
import { folderTable, listImages, matchRows } from "./folder.ts";
import { IMAGES_DIR, imageSources, type Sources, SOURCES_FORMAT, TRIPLETS_DIR } from "./layout.ts";
import { type LabelFormat, labelFormatOf, parseLabels } from "./table.ts";

export interface ImagesFetchOptions {
  readonly dir?: string;
  readonly url?: string;
  readonly sha256?: string;
  readonly mirror?: string;
  readonly labels?: string;
  readonly pathColumn: string;
  readonly triplets?: string;
  readonly cacheDir: string;
  readonly retries: number;
  readonly refetch: boolean;
}

const UNPACK_DIR = ".unpack";

export async function fetchImages(
  opts: ImagesFetchOptions,
  outDir: string,
  log: (m: string) => void,
): Promise<Record<string, unknown>> {
  if ((opts.dir === undefined) === (opts.url === undefined)) {
    throw new RangeError(
      "Cannot fetch images: expected exactly one of fetch.dir (a local folder) or fetch.url " +
        `(an archive), got ${opts.dir === undefined ? "neither" : "both"}`,
    );
  }
  const unpacked = join(outDir, UNPACK_DIR);
  try {
    let root: string;
    let source: Sources["source"];
    if (opts.dir !== undefined) {
      root = resolve(opts.dir);
      if (!(await Deno.stat(root).catch(() => undefined))?.isDirectory) {
        throw new RangeError(`Cannot fetch images: fetch.dir "${opts.dir}" is not a folder`);
      }
      source = { kind: "folder" };
    } else {
      const url = opts.url!;
      const pinned = normaliseSha256(opts.sha256, url);
      const mirrorDir = opts.mirror === undefined ? undefined : resolve(opts.mirror);
      const archive = await download({
        url,
        sha256: pinned,
        cacheDir: opts.cacheDir,
        retries: opts.retries,
        mirrorDir,
        refetch: opts.refetch,
        log,
      });
      const sha256 = pinned ?? await sha256File(archive);
      if (pinned === undefined) {
        log(`images: no sha256 pinned for ${url}; received sha256 ${sha256} (pin it to verify)`);
      }
      const name = urlBasename(url);
      const via = mirrorDir !== undefined && archive === join(mirrorDir, name) ? "mirror" : "url";
      await unpackArchive(archive, name, unpacked);
      root = await contentRoot(unpacked);
      source = { kind: "archive", url, sha256, via };
    }
    const images = await listImages(root);
    const labelsPath = opts.labels === undefined
      ? undefined
      : await findLabels(opts.labels, opts.dir !== undefined ? [root] : [unpacked, root]);
    let labels: Sources["labels"] = null;
    let keep: readonly string[] = images;
    let unlabelled: readonly string[] = [];
    if (labelsPath !== undefined) {
      const name = basename(labelsPath);
      const format = labelFormatOf(name) ?? badLabelName(name);
      const table = parseLabels(await Deno.readTextFile(labelsPath), name, format);
      const matched = matchRows(table, opts.pathColumn, images, opts.dir ?? basename(root));
      keep = matched.paths;
      unlabelled = matched.unlabelled;
      const file = `labels.${format}` as const;
      await Deno.copyFile(labelsPath, join(outDir, file));
      labels = { name, file, format, sha256: await sha256File(labelsPath), rows: keep.length };
      if (unlabelled.length > 0) {
        log(
          `images: ${unlabelled.length} image(s) in the folder have no row in "${name}" and ` +
            `are left out, e.g. ${unlabelled.slice(0, 3).map((p) => `"${p}"`).join(", ")}`,
        );
      }
    } else {
      // Checked here so a folder that cannot give a notion fails before the copy.
      folderTable(images, opts.pathColumn);
    }
    const tripletFiles = opts.triplets === undefined
      ? []
      : await copyTripletFiles(resolve(opts.triplets), join(outDir, TRIPLETS_DIR));
    for (const path of keep) {
      const target = join(outDir, IMAGES_DIR, path);
      await Deno.mkdir(dirname(target), { recursive: true });
      if (source.kind === "archive") await Deno.rename(join(root, path), target);
      else await Deno.copyFile(join(root, path), target);
    }
    const sources: Sources = {
      format: SOURCES_FORMAT,
      source,
      labels,
      path_column: opts.pathColumn,
      images: keep.length,
      unlabelled: [...unlabelled],
      triplet_files: tripletFiles,
    };
    await imageSources.write(outDir, sources);
    log(
      `images: ${keep.length} images` + (labels ? ` labelled by "${labels.name}"` : "") +
        (tripletFiles.length ? `, triplet files ${tripletFiles.join(", ")}` : ""),
    );
    return { images: keep.length, unlabelled: unlabelled.length, triplet_files: tripletFiles };
  } finally {
    await removeTree(unpacked);
  }
}

function badLabelName(name: string): LabelFormat {
  throw new RangeError(
    `Cannot read label file "${name}": unknown format, expected a name ending in .csv or .jsonl`,
  );
}

/** The label file: a local path, else a path inside the image folder or archive. */
async function findLabels(given: string, archiveRoots: readonly string[]): Promise<string> {
  const candidates = [
    resolve(given),
    ...(isAbsolute(given) ? [] : archiveRoots)
      .map((r) => join(r, given)),
  ];
  for (const path of candidates) {
    if ((await Deno.stat(path).catch(() => undefined))?.isFile) return path;
  }
  throw new RangeError(
    `Cannot fetch images: label file "${given}" does not exist here or inside the images' ` +
      `folder`,
  );
}

/** Copies the `<notion>.txt` files of `from` into `to`; returns their names, sorted. */
async function copyTripletFiles(from: string, to: string): Promise<string[]> {
  if (!(await exists(from)) || !(await Deno.stat(from)).isDirectory) {
    throw new RangeError(`Cannot fetch images: fetch.triplets "${from}" is not a folder`);
  }
  const names: string[] = [];
  for await (const entry of Deno.readDir(from)) {
    if (entry.isFile && entry.name.endsWith(".txt")) names.push(entry.name);
  }
  if (names.length === 0) {
    throw new RangeError(
      `Cannot fetch images: fetch.triplets "${from}" holds no .txt files, expected one ` +
        `<notion>.txt per notion`,
    );
  }
  await Deno.mkdir(to, { recursive: true });
  for (const name of names) await Deno.copyFile(join(from, name), join(to, name));
  return names.sort();
}
