/** Fetch side of the Zappos dataset: both archives, verified, plus a sources.json record. */
import { join } from "node:path";
import { download } from "../../net/download.ts";
import { checkMirror } from "../../net/mirror_hashes.ts";
import { normaliseSha256, safeFileName, urlBasename } from "../../net/http_range.ts";
import { sha256File } from "../../util/hash.ts";
import { type ArchiveSource, archiveSources } from "../../artefacts/sources_record.ts";

export interface ZapposFetchOptions {
  imagesUrl: string;
  imagesSha256?: string;
  tripletsUrl: string;
  tripletsSha256?: string;
  mirrorDir?: string;
  cacheDir: string;
  retries: number;
  /** Download again even when a cached copy exists (the stage was forced). */
  refetch?: boolean;
}

/** One archive as obtained (its schema is sources.json's). */
export type ZapposSource = ArchiveSource;

/**
 * Downloads (or takes from the mirror folder) both archives and copies them into `outDir`
 * unchanged, with `sources.json` = { images: ZapposSource, triplets: ZapposSource }.
 */
export async function fetchZappos(
  opts: ZapposFetchOptions,
  outDir: string,
  log: (m: string) => void,
): Promise<Record<string, unknown>> {
  const wanted = [
    { key: "images", url: opts.imagesUrl, sha256: opts.imagesSha256 },
    { key: "triplets", url: opts.tripletsUrl, sha256: opts.tripletsSha256 },
  ];
  // Both archives at once, so the error names everything the folder lacks.
  if (opts.mirrorDir !== undefined) await checkMirror(opts.mirrorDir, wanted.map((w) => w.url));
  const sources: Record<string, ZapposSource> = {};
  const used = new Set<string>();
  for (const { key, url, sha256 } of wanted) {
    const pinned = normaliseSha256(sha256, url);
    const cached = await download({
      url,
      sha256: pinned,
      cacheDir: opts.cacheDir,
      retries: opts.retries,
      mirrorDir: opts.mirrorDir,
      refetch: opts.refetch,
      log,
    });
    const via = opts.mirrorDir !== undefined && cached === join(opts.mirrorDir, urlBasename(url))
      ? "mirror"
      : "url";
    let file = safeFileName(urlBasename(url));
    if (used.has(file)) file = `${key}-${file}`; // two URLs may end in the same name
    used.add(file);
    const target = join(outDir, file);
    await Deno.copyFile(cached, target);
    const actual = pinned ?? await sha256File(target);
    if (pinned === undefined) {
      log(`zappos: no sha256 pinned for ${url}; received sha256 ${actual} (pin it to verify)`);
    }
    sources[key] = { url, file, bytes: (await Deno.stat(target)).size, sha256: actual, via };
  }
  await archiveSources.write(outDir, { images: sources.images!, triplets: sources.triplets! });
  return sources;
}
