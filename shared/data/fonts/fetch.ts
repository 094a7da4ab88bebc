/**
 * "Fetching" the fonts dataset: copy TTFs of @expo-google-fonts packages (already installed by
 * deno into node_modules, pinned in deno.json and deno.lock) into an artefact folder, with a
 * sources.json that records where each file came from and its sha256.
 */
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { sha256Hex } from "../../util/hash.ts";
import { type FontSource, fontSources } from "../../artefacts/sources_record.ts";

export interface FontsFetchOptions {
  /** Family slugs such as "roboto"; default: every @expo-google-fonts family installed. */
  readonly families?: readonly string[];
}

export type { FontSource } from "../../artefacts/sources_record.ts";

const SCOPE = "@expo-google-fonts";

/** node_modules/@expo-google-fonts of this repository (module-relative, not cwd-relative). */
export function fontPackagesDir(): string {
  return fileURLToPath(new URL(`../../../node_modules/${SCOPE}/`, import.meta.url));
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Family slugs installed under `root`, sorted. */
export async function installedFamilies(root = fontPackagesDir()): Promise<string[]> {
  if (!(await isDir(root))) {
    throw new Error(`Cannot list font packages: "${root}" does not exist (run \`deno install\`)`);
  }
  const names: string[] = [];
  for await (const entry of Deno.readDir(root)) {
    if (await isDir(join(root, entry.name))) names.push(entry.name);
  }
  return names.sort();
}

async function packageVersion(dir: string): Promise<string> {
  const path = join(dir, "package.json");
  const json = JSON.parse(await Deno.readTextFile(path)) as { version?: unknown };
  if (typeof json.version !== "string") {
    throw new TypeError(`Cannot read "${path}": field "version" is missing or not a string`);
  }
  return json.version;
}

/** TTF paths of one package: <package>/<weight dir>/<File>.ttf, sorted. */
async function packageTtfs(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const sub of Deno.readDir(dir)) {
    if (!(await isDir(join(dir, sub.name)))) continue;
    for await (const f of Deno.readDir(join(dir, sub.name))) {
      if (f.name.toLowerCase().endsWith(".ttf")) found.push(join(dir, sub.name, f.name));
    }
  }
  return found.sort();
}

/** The families a fetch would copy: the wanted ones, each checked to be installed, or all. */
export async function resolveFamilies(
  root: string,
  wanted?: readonly string[],
): Promise<string[]> {
  if (wanted === undefined) return await installedFamilies(root);
  if (wanted.length === 0) throw new RangeError("Cannot fetch fonts: no font families requested");
  for (const family of wanted) {
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(family)) {
      throw new TypeError(`Cannot fetch font family "${family}": expected a slug such as "roboto"`);
    }
    if (!(await isDir(join(root, family)))) {
      throw new Error(
        `Cannot fetch font family "${family}": it is not installed, "${join(root, family)}" ` +
          `does not exist (add it with \`deno add npm:${SCOPE}/${family}@VERSION\`)`,
      );
    }
  }
  return [...new Set(wanted)].sort();
}

/**
 * Copies the TTF files of the chosen families into outDir/fonts/<family>/<File>.ttf and
 * writes outDir/sources.json. Errors clearly when node_modules lacks a family.
 */
export async function fetchFonts(
  opts: FontsFetchOptions,
  outDir: string,
  log: (m: string) => void,
): Promise<{ families: number; files: number }> {
  const root = fontPackagesDir();
  const families = await resolveFamilies(root, opts.families);
  const sources: FontSource[] = [];
  for (const family of families) {
    const dir = join(root, family);
    const version = await packageVersion(dir);
    const ttfs = await packageTtfs(dir);
    if (ttfs.length === 0) {
      throw new Error(`Cannot fetch font package "${dir}": it holds no .ttf files`);
    }
    await Deno.mkdir(join(outDir, "fonts", family), { recursive: true });
    const seen = new Set<string>();
    for (const src of ttfs) {
      const name = basename(src);
      if (seen.has(name)) {
        throw new Error(`Cannot fetch font package "${dir}": it holds two files named ${name}`);
      }
      seen.add(name);
      const bytes = await Deno.readFile(src);
      const file = `fonts/${family}/${name}`;
      await Deno.writeFile(join(outDir, file), bytes);
      sources.push({
        family,
        package: `${SCOPE}/${family}`,
        version,
        file,
        bytes: bytes.byteLength,
        sha256: sha256Hex(bytes),
      });
    }
    log(`fonts: ${family}@${version}: ${ttfs.length} files`);
  }
  await fontSources.write(outDir, sources);
  log(`fonts: copied ${sources.length} files of ${families.length} families`);
  return { families: families.length, files: sources.length };
}
