/**
 * The fonts dataset library: fetching from node_modules, rendering, labels, split, triplets,
 * and the seeded RNG they share. Uses three real families (23 font files); about 5 s.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { DecodedDataset, Split } from "../shared/data/dataset.ts";
import { SPLITS } from "../shared/data/dataset.ts";
import { Rng } from "../shared/util/rng.ts";
import { CHARACTERS, slantOf, weightBucket } from "../shared/data/fonts/labels.ts";
import { fetchFonts } from "../shared/data/fonts/fetch.ts";
import { loadFonts } from "../shared/data/fonts/load.ts";
import { readFontFile } from "../shared/data/fonts/font_file.ts";
import { fontPackagesDir } from "../shared/data/fonts/fetch.ts";
import { glyphFor, type OtFont } from "../shared/data/fonts/font_file.ts";
import { fontLayout, glyphOffsetX, GlyphRenderer } from "../shared/data/fonts/render.ts";
import { splitCounts } from "../shared/data/fonts/split.ts";

const FAMILIES = ["bebas-neue", "caveat", "roboto"]; // 1 + 4 + 18 files
const quiet = () => {};
const OPTS = { size: 64, numTrain: 400, numVal: 80, numTest: 80, seed: 7 };

const tempDirs: string[] = [];
globalThis.addEventListener("unload", () => {
  for (const d of tempDirs) Deno.removeSync(d, { recursive: true });
});
async function tempDir(): Promise<string> {
  const d = await Deno.makeTempDir({ prefix: "fonts_test_" });
  tempDirs.push(d);
  return d;
}

let rawDirPromise: Promise<string> | undefined;
function rawDir(): Promise<string> {
  rawDirPromise ??= (async () => {
    const d = await tempDir();
    await fetchFonts({ families: FAMILIES }, d, quiet);
    return d;
  })();
  return rawDirPromise;
}
let datasetPromise: Promise<DecodedDataset> | undefined;
function dataset(): Promise<DecodedDataset> {
  datasetPromise ??= rawDir().then((d) => loadFonts(d, OPTS, quiet));
  return datasetPromise;
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("fetchFonts copies TTFs and records their sources and hashes", async () => {
  const dir = await rawDir();
  const sources = JSON.parse(await Deno.readTextFile(join(dir, "sources.json"))) as {
    family: string;
    package: string;
    version: string;
    file: string;
    bytes: number;
    sha256: string;
  }[];
  assert.equal(sources.length, 23);
  assert.deepEqual([...new Set(sources.map((s) => s.family))], FAMILIES);
  for (const s of sources) {
    const copied = await Deno.readFile(join(dir, s.file));
    assert.equal(s.bytes, copied.byteLength, s.file);
    assert.equal(s.sha256, await sha256(copied), s.file);
    assert.match(s.file, new RegExp(`^fonts/${s.family}/[A-Za-z0-9_]+\\.ttf$`));
    assert.equal(s.package, `@expo-google-fonts/${s.family}`);
    const pkg = JSON.parse(
      await Deno.readTextFile(join(fontPackagesDir(), s.family, "package.json")),
    );
    assert.equal(s.version, pkg.version);
  }
  // The copy is byte-identical to the installed file.
  const thin = sources.find((s) => s.file.endsWith("Roboto_100Thin.ttf"));
  assert.ok(thin);
  const original = await Deno.readFile(
    join(fontPackagesDir(), "roboto", "100Thin", "Roboto_100Thin.ttf"),
  );
  assert.equal(thin.sha256, await sha256(original));
});

Deno.test("fetchFonts names a family that node_modules lacks", async () => {
  const d = await tempDir();
  await assert.rejects(
    fetchFonts({ families: ["roboto", "no-such-family"] }, d, quiet),
    /Cannot fetch font family "no-such-family": it is not installed/,
  );
  await assert.rejects(
    fetchFonts({ families: ["../etc"] }, d, quiet),
    /Cannot fetch font family "\.\.\/etc": expected a slug/,
  );
});

Deno.test("loadFonts renders 62 glyphs per font minus the skipped ones", async () => {
  const ds = await dataset();
  const report = ds.report as { fonts: number; skippedGlyphs: unknown[]; skippedFonts: [] };
  assert.equal(report.fonts, 23);
  assert.deepEqual(report.skippedFonts, []);
  assert.equal(ds.names.length, 23 * 62 - report.skippedGlyphs.length);
  assert.equal(ds.channels, 1);
  assert.equal(ds.height, 64);
  assert.equal(ds.pixels.length, ds.names.length * 64 * 64);
  const px = 64 * 64;
  for (let i = 0; i < ds.names.length; i++) {
    const img = ds.pixels.subarray(i * px, (i + 1) * px);
    let ink = 0, max = 0, zeros = 0;
    for (const v of img) {
      ink += v;
      max = Math.max(max, v);
      if (v === 0) zeros++;
    }
    assert.ok(max >= 200, `${ds.names[i]}: max ${max}`);
    assert.ok(zeros > px / 3, `${ds.names[i]}: only ${zeros} background pixels`);
    assert.ok(ink > 255 * 20, `${ds.names[i]}: ink ${ink}`);
    // The border stays blank: glyphs fit the cell.
    for (let k = 0; k < 64; k++) {
      assert.equal(img[k], 0, `${ds.names[i]}: top row ink`);
      assert.equal(img[63 * 64 + k], 0, `${ds.names[i]}: bottom row ink`);
    }
  }
});

function labelOf(ds: DecodedDataset, notion: string, name: string): string | undefined {
  const i = ds.names.indexOf(name);
  assert.ok(i >= 0, `no image ${name}`);
  const id = ds.labels[notion]?.[i] as number;
  return ds.notions.find((n) => n.name === notion)?.values[id];
}

Deno.test("labels: character, family, weight bucket and slant from the font tables", async () => {
  const ds = await dataset();
  assert.deepEqual(ds.notions.map((n) => n.name), ["character", "family", "weight", "slant"]);
  assert.equal(labelOf(ds, "weight", "roboto/Roboto_100Thin.ttf:A"), "light");
  assert.equal(labelOf(ds, "weight", "roboto/Roboto_200ExtraLight.ttf:A"), "light");
  assert.equal(labelOf(ds, "weight", "roboto/Roboto_400Regular.ttf:A"), "regular");
  assert.equal(labelOf(ds, "weight", "roboto/Roboto_500Medium.ttf:A"), "regular");
  assert.equal(labelOf(ds, "weight", "roboto/Roboto_700Bold.ttf:A"), "bold");
  assert.equal(labelOf(ds, "slant", "roboto/Roboto_400Regular_Italic.ttf:A"), "italic");
  assert.equal(labelOf(ds, "slant", "roboto/Roboto_100Thin_Italic.ttf:q"), "italic");
  assert.equal(labelOf(ds, "slant", "roboto/Roboto_400Regular.ttf:A"), "upright");
  assert.equal(labelOf(ds, "family", "bebas-neue/BebasNeue_400Regular.ttf:x"), "bebas-neue");
  ds.names.forEach((name, i) => {
    const char = name.slice(name.lastIndexOf(":") + 1);
    assert.equal(CHARACTERS[ds.labels.character?.[i] as number], char, name);
    const family = name.slice(0, name.indexOf("/"));
    assert.equal(ds.notions[1]?.values[ds.labels.family?.[i] as number], family, name);
  });
  assert.equal(weightBucket(250), "light");
  assert.equal(weightBucket(275), "light");
  assert.equal(weightBucket(300), "light");
  assert.equal(weightBucket(400), "regular");
  assert.equal(weightBucket(500), "regular");
  assert.equal(weightBucket(600), "bold");
  assert.equal(weightBucket(900), "bold");
  assert.equal(weightBucket(0), undefined);
  assert.equal(slantOf(0x0040, 0), "upright"); // REGULAR bit only
  assert.equal(slantOf(0x0001, 0), "italic");
  assert.equal(slantOf(0x0200, 0), "italic"); // oblique
  assert.equal(slantOf(undefined, 0x0002), "italic"); // head.macStyle
  assert.equal(slantOf(undefined, undefined), undefined);
});

function fileOf(name: string): string {
  return name.slice(0, name.lastIndexOf(":"));
}

function splitOfImages(ds: DecodedDataset): Map<string, Split> {
  const report = ds.report as { splits: Record<Split, { files: string[] }> };
  const splitOf = new Map<string, Split>();
  for (const s of SPLITS) {
    for (const f of report.splits[s].files) {
      assert.ok(!splitOf.has(f), `${f} is in two splits`);
      splitOf.set(f, s);
    }
  }
  return splitOf;
}

Deno.test("split by font file: no file in two splits, single-file families in train", async () => {
  const ds = await dataset();
  const splitOf = splitOfImages(ds);
  assert.equal(splitOf.size, 23);
  assert.equal(splitOf.get("bebas-neue/BebasNeue_400Regular.ttf"), "train");
  const roboto = [...splitOf].filter(([f]) => f.startsWith("roboto/")).map(([, s]) => s);
  assert.deepEqual(SPLITS.map((s) => roboto.filter((x) => x === s).length), [14, 2, 2]);
  assert.deepEqual(splitCounts(1, { valFraction: 0.1, testFraction: 0.1 }), { val: 0, test: 0 });
  assert.deepEqual(splitCounts(2, { valFraction: 0.1, testFraction: 0.1 }), { val: 0, test: 1 });
  assert.deepEqual(splitCounts(4, { valFraction: 0.1, testFraction: 0.1 }), { val: 1, test: 1 });
  assert.deepEqual(splitCounts(18, { valFraction: 0.1, testFraction: 0.1 }), { val: 2, test: 2 });
  assert.deepEqual(splitCounts(10, { valFraction: 0, testFraction: 0.3 }), { val: 0, test: 3 });
});

Deno.test("triplets: anchor/close share the notion's value, far differs, all in one split", async () => {
  const ds = await dataset();
  const splitOf = splitOfImages(ds);
  const wanted: Record<Split, number> = { train: 400, val: 80, test: 80 };
  for (const split of SPLITS) {
    const t = ds.triplets[split];
    assert.equal(t.length, wanted[split] * 4);
    const perCondition = [0, 0, 0, 0];
    for (let k = 0; k < t.length; k += 4) {
      const [a, far, close, c] = [t[k], t[k + 1], t[k + 2], t[k + 3]] as number[];
      const labels = ds.labels[ds.notions[c as number]?.name as string] as Int32Array;
      perCondition[c as number]! += 1;
      assert.ok(labels[a as number]! >= 0);
      assert.equal(labels[a as number], labels[close as number]);
      assert.notEqual(labels[a as number], labels[far as number]);
      assert.notEqual(a, close);
      for (const i of [a, far, close] as number[]) {
        assert.equal(splitOf.get(fileOf(ds.names[i] as string)), split);
      }
    }
    assert.deepEqual(perCondition, Array(4).fill(wanted[split] / 4), split);
  }
});

Deno.test("triplets and split are seeded: same seed same, other seed different", async () => {
  const dir = await rawDir();
  const ds = await dataset();
  const again = await loadFonts(dir, OPTS, quiet);
  const other = await loadFonts(dir, { ...OPTS, seed: 8 }, quiet);
  for (const s of SPLITS) assert.deepEqual(again.triplets[s], ds.triplets[s]);
  assert.deepEqual(again.pixels, ds.pixels);
  assert.notDeepEqual(other.triplets.train, ds.triplets.train);
  assert.notDeepEqual(other.triplets.test, ds.triplets.test);
});

Deno.test("an empty or garbage font file gives an error naming it and is skipped", async () => {
  const d = await tempDir();
  await Deno.mkdir(join(d, "fonts", "x"), { recursive: true });
  await Deno.writeFile(join(d, "fonts", "x", "Empty.ttf"), new Uint8Array(0));
  await assert.rejects(
    readFontFile(join(d, "fonts", "x", "Empty.ttf")),
    /Cannot parse font file ".*fonts\/x\/Empty\.ttf": the file is empty/,
  );
  await assert.rejects(loadFonts(d, OPTS, quiet), /no usable font.*Empty\.ttf.*empty/);
  await Deno.writeFile(join(d, "fonts", "x", "Junk.ttf"), new TextEncoder().encode("not a font"));
  await assert.rejects(readFontFile(join(d, "fonts", "x", "Junk.ttf")), /"[^"]*Junk\.ttf"/);
  const good = join(fontPackagesDir(), "bebas-neue", "400Regular", "BebasNeue_400Regular.ttf");
  await Deno.copyFile(good, join(d, "fonts", "x", "Good.ttf"));
  // One font: no notion has a value shared by two images and another value, so no triplets.
  await assert.rejects(loadFonts(d, OPTS, quiet), /Cannot sample 400 train triplets/);
  const ds = await loadFonts(d, { ...OPTS, numTrain: 0, numVal: 0, numTest: 0 }, quiet);
  assert.equal(ds.names.length, 62);
  const skipped = (ds.report as { skippedFonts: { file: string; reason: string }[] })
    .skippedFonts;
  assert.deepEqual(skipped.map((s) => s.file), ["x/Empty.ttf", "x/Junk.ttf"]);
  assert.match(skipped[1]?.reason ?? "", /Cannot parse font file/);
});

Deno.test("a notion with one value gives its triplet share to the others", async () => {
  const d = await tempDir();
  await Deno.mkdir(join(d, "fonts", "roboto"), { recursive: true });
  for (const w of ["100Thin", "400Regular", "400Regular_Italic", "700Bold"]) {
    await Deno.copyFile(
      join(fontPackagesDir(), "roboto", w, `Roboto_${w}.ttf`),
      join(d, "fonts", "roboto", `Roboto_${w}.ttf`),
    );
  }
  const opts = { ...OPTS, numTrain: 30, numVal: 0, numTest: 0, valFraction: 0, testFraction: 0 };
  const ds = await loadFonts(d, opts, quiet);
  const report = ds.report as {
    triplets: Record<Split, { perNotion: Record<string, number>; impossible: string[] }>;
  };
  assert.deepEqual(report.triplets.train.impossible, ["family"]);
  assert.deepEqual(report.triplets.train.perNotion, {
    character: 10,
    family: 0,
    weight: 10,
    slant: 10,
  });
  const conditions = new Set<number>();
  for (let k = 3; k < ds.triplets.train.length; k += 4) conditions.add(ds.triplets.train[k]!);
  assert.deepEqual([...conditions].sort(), [0, 2, 3]);
});

/** Rows holding ink of one image. */
function inkRows(ds: DecodedDataset, name: string): { top: number; bottom: number } {
  const i = ds.names.indexOf(name);
  const img = ds.pixels.subarray(i * 4096, (i + 1) * 4096);
  let top = 64, bottom = -1;
  for (let y = 0; y < 64; y++) {
    for (let x = 0; x < 64; x++) {
      if (img[y * 64 + x]! > 64) {
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
      }
    }
  }
  return { top, bottom };
}

Deno.test("one scale per font: 'o' is shorter than 'O', both sit on the baseline", async () => {
  const ds = await dataset();
  for (const f of ["roboto/Roboto_400Regular.ttf", "caveat/Caveat_700Bold.ttf"]) {
    const o = inkRows(ds, `${f}:o`), O = inkRows(ds, `${f}:O`);
    const ho = o.bottom - o.top, hO = O.bottom - O.top;
    assert.ok(ho < 0.85 * hO, `${f}: o ${ho} px, O ${hO} px`);
    // Handwriting (Caveat) lets letters wander around the baseline; Roboto does not.
    if (f.startsWith("roboto/")) {
      assert.ok(
        Math.abs(o.bottom - O.bottom) <= 1,
        `${f}: o and O end at rows ${o.bottom}, ${O.bottom}`,
      );
    }
  }
});

/** Naive reference: flatten the outline, 8x8 supersampling, nonzero winding. */
function naiveRaster(font: OtFont, char: string, size: number): Float64Array {
  const boxes = CHARACTERS.map((c) => glyphFor(font, c)!.path.getBoundingBox());
  const layout = fontLayout(boxes, size);
  const glyph = glyphFor(font, char)!;
  const ox = glyphOffsetX(glyph.path.getBoundingBox(), layout);
  const tx = (x: number) => ox + x * layout.scale,
    ty = (y: number) => layout.baseline - y * layout.scale;
  const edges: number[][] = [];
  let sx = 0, sy = 0, px = 0, py = 0;
  const line = (x: number, y: number) => {
    edges.push([px, py, x, y]);
    px = x;
    py = y;
  };
  for (const c of glyph.path.commands) {
    if (c.type === "M") [sx, sy, px, py] = [tx(c.x!), ty(c.y!), tx(c.x!), ty(c.y!)];
    else if (c.type === "L") line(tx(c.x!), ty(c.y!));
    else if (c.type === "Q") {
      const [x0, y0, x1, y1, x2, y2] = [px, py, tx(c.x1!), ty(c.y1!), tx(c.x!), ty(c.y!)];
      for (let k = 1; k <= 16; k++) {
        const t = k / 16, u = 1 - t;
        line(u * u * x0 + 2 * u * t * x1 + t * t * x2, u * u * y0 + 2 * u * t * y1 + t * t * y2);
      }
    } else if (c.type === "Z") line(sx, sy);
    else throw new Error(`unexpected command ${c.type}`);
  }
  const out = new Float64Array(size * size);
  const n = 8;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let hits = 0;
      for (let j = 0; j < n; j++) {
        for (let i = 0; i < n; i++) {
          const qx = x + (i + 0.5) / n, qy = y + (j + 0.5) / n;
          let winding = 0;
          for (const [x0, y0, x1, y1] of edges as [number, number, number, number][]) {
            if ((y0 <= qy) !== (y1 <= qy)) {
              const cx = x0 + (qy - y0) / (y1 - y0) * (x1 - x0);
              if (cx > qx) winding += y1 > y0 ? 1 : -1;
            }
          }
          if (winding !== 0) hits++;
        }
      }
      out[y * size + x] = 255 * hits / (n * n);
    }
  }
  return out;
}

Deno.test("rendering matches a naive supersampled rasteriser (mean |diff| < 3 of 255)", async () => {
  const path = join(fontPackagesDir(), "roboto", "400Regular", "Roboto_400Regular.ttf");
  const font = await readFontFile(path);
  const rendered = new GlyphRenderer(32, 62).render(font, CHARACTERS);
  for (const char of ["O", "g", "7"]) {
    const k = rendered.chars.indexOf(char);
    const got = rendered.pixels.subarray(k * 1024, (k + 1) * 1024);
    const want = naiveRaster(font, char, 32);
    let diff = 0, inkGot = 0, inkWant = 0;
    for (let i = 0; i < 1024; i++) {
      diff += Math.abs(got[i]! - want[i]!);
      inkGot += got[i]!;
      inkWant += want[i]!;
    }
    assert.ok(diff / 1024 < 3, `${char}: mean |diff| ${diff / 1024}`);
    assert.ok(Math.abs(inkGot - inkWant) / inkWant < 0.02, `${char}: ink ${inkGot} vs ${inkWant}`);
  }
});

Deno.test("Rng: seeded, restorable, uniform enough", () => {
  const a = new Rng(42), b = new Rng(42), c = new Rng(43);
  const seqA = Array.from({ length: 5 }, () => a.nextUint32());
  assert.deepEqual(Array.from({ length: 5 }, () => b.nextUint32()), seqA);
  assert.notDeepEqual(Array.from({ length: 5 }, () => c.nextUint32()), seqA);
  const resumed = Rng.fromState(a.state);
  assert.equal(resumed.nextUint32(), a.nextUint32());
  assert.notEqual(Rng.derive(1, "x").nextUint32(), Rng.derive(1, "y").nextUint32());
  assert.equal(Rng.derive(1, "x", 2).nextUint32(), Rng.derive(1, "x", 2).nextUint32());
  const counts = new Array(10).fill(0);
  const r = new Rng(5);
  for (let i = 0; i < 100_000; i++) counts[r.int(10)]++;
  for (const n of counts) assert.ok(Math.abs(n - 10_000) < 500, `bucket ${n}`); // ~5 sigma
  const perm = r.shuffle([...Array(50).keys()]);
  assert.deepEqual([...perm].sort((x, y) => x - y), [...Array(50).keys()]);
  assert.throws(() => new Rng(1.5), /safe integer/);
});
