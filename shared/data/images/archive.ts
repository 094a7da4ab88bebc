/**
 * Unpacks an image archive (.zip through csn's own extractor, .tar.gz / .tgz / .tar through
 * node-tar) into a folder. node-tar keeps every entry inside the folder (it strips absolute
 * paths and "..") and only files and folders are taken: links and devices are skipped.
 */
import { extract } from "tar";
import { unzipTo } from "../unzip.ts";

export type ArchiveKind = "zip" | "tar";

/** The kind an archive's file name implies, or an error naming the accepted endings. */
export function archiveKindOf(name: string): ArchiveKind {
  const lower = name.toLowerCase();
  if (lower.endsWith(".zip")) return "zip";
  if (/\.(tar\.gz|tgz|tar)$/.test(lower)) return "tar";
  throw new RangeError(
    `Cannot unpack "${name}": unknown archive kind, expected a name ending in .zip, .tar.gz, ` +
      `.tgz or .tar`,
  );
}

export async function unpackArchive(path: string, name: string, dest: string): Promise<void> {
  await Deno.mkdir(dest, { recursive: true });
  if (archiveKindOf(name) === "zip") {
    await unzipTo(path, dest);
    return;
  }
  try {
    await extract({
      file: path,
      cwd: dest,
      strict: true,
      filter: (_path, entry) => {
        const type = "type" in entry ? entry.type : undefined;
        return type === "File" || type === "OldFile" || type === "Directory";
      },
    });
  } catch (error) {
    throw new Error(`Cannot unpack "${name}": ${(error as Error).message}`, { cause: error });
  }
}

/** The folder the images are in: `root`, or its only entry when that is a folder. */
export async function contentRoot(root: string): Promise<string> {
  const entries: Deno.DirEntry[] = [];
  for await (const entry of Deno.readDir(root)) {
    if (!entry.name.startsWith(".") && entry.name !== "__MACOSX") entries.push(entry);
  }
  const only = entries.length === 1 ? entries[0]! : undefined;
  return only?.isDirectory ? `${root}/${only.name}` : root;
}
