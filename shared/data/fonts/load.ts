/**
 * Builds the fonts DecodedDataset from a fetched fonts folder: render 62 glyphs per font,
 * label them (character, family, weight, slant), split by font file, sample triplets.
 */
import { join } from "node:path";
import type { DecodedDataset, Notion, Split } from "../dataset.ts";
import { readFontFile } from "./font_file.ts";
import { CHARACTERS, fontStyle, NOTION_NAMES, SLANTS, WEIGHTS } from "./labels.ts";
import { GlyphRenderer, type SkipReason } from "./render.ts";
import { checkFractions, DEFAULT_FRACTIONS, splitFontFiles } from "./split.ts";
import { sampleTriplets } from "../label_triplets.ts";

export interface FontsLoadOptions {
  /** Image side in pixels (the stage's default is 64). */
  readonly size: number;
  readonly numTrain: number;
  readonly numVal: number;
  readonly numTest: number;
  readonly seed: number;
  /** Share of each multi-file family's files held out; default 0.1 each. */
  readonly valFraction?: number;
  readonly testFraction?: number;
}

/** A font file found under rawDir/fonts, as "<family>/<File>.ttf". */
interface FontEntry {
  readonly family: string;
  readonly file: string;
}

/** Every TTF under rawDir/fonts/<family>/, sorted by family then file. */
export async function listFontFiles(rawDir: string): Promise<FontEntry[]> {
  const root = join(rawDir, "fonts");
  const entries: FontEntry[] = [];
  try {
    for await (const fam of Deno.readDir(root)) {
      if (!fam.isDirectory) continue;
      for await (const f of Deno.readDir(join(root, fam.name))) {
        if (f.isFile && f.name.toLowerCase().endsWith(".ttf")) {
          entries.push({ family: fam.name, file: `${fam.name}/${f.name}` });
        }
      }
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(`Cannot load fonts: folder "${root}" does not exist`, { cause: error });
    }
    throw error;
  }
  if (entries.length === 0) throw new Error(`Cannot load fonts: no .ttf files under "${root}"`);
  return entries.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

function checkOptions(o: FontsLoadOptions): void {
  for (const key of ["numTrain", "numVal", "numTest"] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 0) {
      throw new RangeError(`Cannot load fonts: ${key} = ${o[key]}, expected an integer >= 0`);
    }
  }
  if (!Number.isSafeInteger(o.seed)) {
    throw new RangeError(`Cannot load fonts: seed = ${o.seed}, expected a safe integer`);
  }
  checkFractions(fractionsOf(o));
}

function fractionsOf(o: FontsLoadOptions) {
  return {
    valFraction: o.valFraction ?? DEFAULT_FRACTIONS.valFraction,
    testFraction: o.testFraction ?? DEFAULT_FRACTIONS.testFraction,
  };
}

/** What rendering produced for one usable font. */
interface FontResult {
  readonly entry: FontEntry;
  readonly weightClass: number | undefined;
  readonly weight: number;
  readonly slant: number;
  readonly scale: number;
  readonly chars: string[];
  readonly pixels: Uint8Array;
}

/** Reads every TTF under rawDir/fonts and builds the dataset (see the module comment). */
export async function loadFonts(
  rawDir: string,
  opts: FontsLoadOptions,
  log: (m: string) => void,
): Promise<DecodedDataset> {
  checkOptions(opts);
  const started = performance.now();
  const entries = await listFontFiles(rawDir);
  const renderer = new GlyphRenderer(opts.size, CHARACTERS.length);
  const fonts: FontResult[] = [];
  const skippedFonts: { file: string; reason: string }[] = [];
  const skippedGlyphs: { file: string; char: string; reason: SkipReason }[] = [];
  for (const entry of entries) {
    const path = join(rawDir, "fonts", entry.file);
    let font;
    try {
      font = await readFontFile(path);
    } catch (error) {
      // One bad file must not sink the dataset: it is logged and listed in the report.
      const reason = error instanceof Error ? error.message : String(error);
      skippedFonts.push({ file: entry.file, reason });
      log(`fonts: skipping ${entry.file}: ${reason}`);
      continue;
    }
    const style = fontStyle(font);
    const r = renderer.render(font, CHARACTERS);
    for (const s of r.skipped) skippedGlyphs.push({ file: entry.file, ...s });
    if (r.chars.length === 0 || !r.layout) {
      skippedFonts.push({ file: entry.file, reason: "no character drew any ink" });
      log(`fonts: skipping ${entry.file}: no character drew any ink`);
      continue;
    }
    fonts.push({
      entry,
      weightClass: style.weightClass,
      weight: style.weight ? WEIGHTS.indexOf(style.weight) : -1,
      slant: style.slant ? SLANTS.indexOf(style.slant) : -1,
      scale: r.layout.scale,
      chars: r.chars,
      pixels: r.pixels,
    });
    if (fonts.length % 50 === 0) log(`fonts: rendered ${fonts.length}/${entries.length} fonts`);
  }
  if (fonts.length === 0) {
    throw new Error(
      `Cannot load fonts from "${rawDir}": no usable font (${
        skippedFonts.map((s) => s.reason).join("; ")
      })`,
    );
  }
  const renderSeconds = (performance.now() - started) / 1000;
  const dataset = assemble(fonts, opts, log);
  const glyphs = dataset.names.length;
  log(
    `fonts: ${glyphs} glyphs of ${fonts.length} fonts in ${renderSeconds.toFixed(1)} s; ` +
      `skipped ${skippedFonts.length} fonts, ${skippedGlyphs.length} glyphs`,
  );
  Object.assign(dataset.report, {
    fontFiles: entries.length,
    skippedFonts,
    skippedGlyphs,
  });
  return dataset;
}

/** Pure part: labels, split, triplets and report from rendered fonts. */
function assemble(
  fonts: readonly FontResult[],
  opts: FontsLoadOptions,
  log: (m: string) => void,
): DecodedDataset {
  const size = opts.size;
  const familyNames = [...new Set(fonts.map((f) => f.entry.family))].sort();
  const byFamily = new Map<string, string[]>();
  for (const f of fonts) {
    const list = byFamily.get(f.entry.family) ?? [];
    list.push(f.entry.file);
    byFamily.set(f.entry.family, list);
  }
  const splitOfFile = splitFontFiles(byFamily, fractionsOf(opts), opts.seed);

  const count = fonts.reduce((n, f) => n + f.chars.length, 0);
  const pixels = new Uint8Array(count * size * size);
  const labels = {
    character: new Int32Array(count),
    family: new Int32Array(count),
    weight: new Int32Array(count),
    slant: new Int32Array(count),
  };
  const names: string[] = [];
  const splitOf: Split[] = [];
  const splitFiles: Record<Split, string[]> = { train: [], val: [], test: [] };
  const fontInfo = [];
  for (const f of fonts) {
    const split = splitOfFile.get(f.entry.file) as Split;
    splitFiles[split].push(f.entry.file);
    pixels.set(f.pixels, names.length * size * size);
    const family = familyNames.indexOf(f.entry.family);
    for (const char of f.chars) {
      const i = names.length;
      names.push(`${f.entry.file}:${char}`);
      splitOf.push(split);
      labels.character[i] = CHARACTERS.indexOf(char);
      labels.family[i] = family;
      labels.weight[i] = f.weight;
      labels.slant[i] = f.slant;
    }
    fontInfo.push({
      file: f.entry.file,
      split,
      weightClass: f.weightClass ?? null,
      weight: WEIGHTS[f.weight] ?? null,
      slant: SLANTS[f.slant] ?? null,
      glyphs: f.chars.length,
      scale: Math.round(f.scale * 1e6) / 1e6,
    });
  }

  const notions: Notion[] = [
    { name: "character", values: CHARACTERS },
    { name: "family", values: familyNames },
    { name: "weight", values: WEIGHTS },
    { name: "slant", values: SLANTS },
  ];
  const sampled = sampleTriplets({
    notions: NOTION_NAMES,
    labels,
    splitOf,
    counts: { train: opts.numTrain, val: opts.numVal, test: opts.numTest },
    seed: opts.seed,
  });
  for (const [split, r] of Object.entries(sampled.report)) {
    if (r.impossible.length > 0) {
      log(`fonts: no ${split} triplets possible for ${r.impossible.join(", ")}; shared out`);
    }
  }
  const splits = Object.fromEntries(
    Object.entries(splitFiles).map(([s, files]) => [
      s,
      { fonts: files.length, images: splitOf.filter((x) => x === s).length, files },
    ]),
  );
  return {
    dataset: "fonts",
    height: size,
    width: size,
    channels: 1,
    names,
    pixels,
    notions,
    labels,
    triplets: sampled.triplets,
    report: {
      rendering: "one scale per font (its tallest extent or widest glyph fills the cell), " +
        "baseline fixed per font, glyphs centred horizontally; pixel = ink coverage 0-255",
      fonts: fonts.length,
      images: count,
      splits,
      triplets: sampled.report,
      fontInfo,
    },
  };
}
