/**
 * deno task query and deno task export on a tiny trained fonts run (through the CLI), plus the
 * image preprocessing of query files against naive per-pixel references.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { decode as decodePng, encode as encodePng } from "fast-png";
import jpeg from "jpeg-js";
import { cli, runJson } from "./support/cli.ts";
import { QUICK_RUN, removeTreeSync, tinyProject } from "./support/tiny_project.ts";
import { openProject } from "../shared/pipeline/project.ts";
import { openShards, type ShardSet } from "../shared/data/shards/reader.ts";
import { readGalleryCache } from "../shared/explore/gallery_cache.ts";
import type { QueryResult } from "../shared/explore/query.ts";
import type { ExportResult } from "../shared/explore/export.ts";
import { decodeRgba } from "../shared/explore/image_decode.ts";
import { prepareImage } from "../shared/explore/image_input.ts";
import { readFontFile } from "../shared/data/fonts/font_file.ts";
import { GlyphRenderer } from "../shared/data/fonts/render.ts";
import { REPO } from "./support/cli.ts";

const NOTIONS = ["character", "family", "weight", "slant"];
const SIZE = 32;
/** Contact sheet geometry (contact_sheet.ts defaults): 2 px borders, 14 px captions; 32 px
 * images are enlarged 4x. */
const CELL = SIZE * 4, BORDER = 2, CAPTION = 14;

let project: Promise<string> | undefined;

/** One tiny trained run shared by the tests of this file (about 5 s to build). */
function trainedProject(): Promise<string> {
  project ??= (async () => {
    const dir = await tinyProject(QUICK_RUN);
    // Removed when the test process ends, whichever tests ran (even after a failure).
    globalThis.addEventListener("unload", () => removeTreeSync(dir));
    await runJson(dir, "pipeline", ["tiny"]);
    return dir;
  })();
  return project;
}

async function queryJson(dir: string, args: string[]): Promise<QueryResult> {
  const result = await cli(dir, "query", ["--run", "tiny", ...args, "--json"]);
  assert.equal(result.code, 0, `query ${args.join(" ")} failed:\n${result.stderr}`);
  return JSON.parse(result.stdout);
}

async function runShards(dir: string): Promise<ShardSet> {
  const record = JSON.parse(await Deno.readTextFile(join(dir, "runs/tiny/record.json")));
  return await openShards(await openProject(dir).store.open(record.stages.shard.outputs.shards));
}

/** Masked Euclidean distance in float64, every dimension visited. */
function naiveDistance(e: Float32Array, i: number, q: Float32Array, m: Float32Array): number {
  const d = q.length;
  let sum = 0;
  for (let k = 0; k < d; k++) sum += ((e[i * d + k]! - q[k]!) * m[k]!) ** 2;
  return Math.sqrt(sum);
}

function checkSheet(bytes: Uint8Array, cells: number): void {
  const png = decodePng(bytes);
  assert.equal(png.width, BORDER + cells * (CELL + BORDER));
  assert.equal(png.height, BORDER + CELL + CAPTION + BORDER);
  assert.equal(png.channels, 1, "glyph shards give a gray sheet");
}

function grayPng(pixels: Uint8Array, width: number, height: number): Uint8Array {
  return encodePng({ width, height, data: pixels, channels: 1, depth: 8 });
}

Deno.test("query by index: k nearest, self left out, sorted, exact masked distances, cached", async () => {
  const dir = await trainedProject();
  const args = ["--condition", "character", "--index", "7", "-k", "6"];
  const t0 = performance.now();
  const cold = await queryJson(dir, args);
  const coldSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const warm = await queryJson(dir, args);
  const warmSeconds = (performance.now() - t1) / 1000;
  console.error(
    `query latency: cold ${coldSeconds.toFixed(2)} s, warm ${warmSeconds.toFixed(2)} s`,
  );
  assert.equal(cold.gallery.cached, false);
  assert.equal(warm.gallery.cached, true);
  assert.deepEqual(warm.neighbours, cold.neighbours, "the cache gives the same answer");
  assert.equal(cold.model.source, "validate.best");

  const { neighbours } = cold;
  assert.equal(neighbours.length, 6);
  assert.deepEqual(neighbours.map((n) => n.rank), [1, 2, 3, 4, 5, 6]);
  assert.ok(neighbours.every((n) => n.index !== 7), "the query image itself is left out");
  for (let i = 1; i < neighbours.length; i++) {
    assert.ok(neighbours[i - 1]!.distance <= neighbours[i]!.distance, "sorted by distance");
  }

  const header = JSON.parse(await Deno.readTextFile(cold.gallery.cache));
  const hit = await readGalleryCache(join(dir, "runs/tiny/query-cache"), header.key);
  assert.ok("gallery" in hit, "the cache reads back");
  const { embeddings: [emb], ids, masks, d, conditionNames } = hit.gallery;
  assert.equal(ids.length, cold.gallery.images);
  const c = conditionNames.indexOf("character");
  const mask = masks.slice(c * d, (c + 1) * d);
  const query = emb!.slice(7 * d, 8 * d);
  const shards = await runShards(dir);
  const names = await shards.names();
  for (const n of neighbours) {
    assert.ok(Math.abs(n.distance - naiveDistance(emb!, n.index, query, mask)) < 1e-4);
    assert.equal(n.record, ids[n.index]);
    assert.equal(n.name, names[n.record]);
    const label = shards.labels.character![n.record]!;
    assert.equal(n.value, shards.notions[0]!.values[label]);
  }
  // No image left out of the answer is nearer than its last place.
  const last = neighbours.at(-1)!.distance;
  const chosen = new Set(neighbours.map((n) => n.index));
  for (let i = 0; i < ids.length; i++) {
    if (i === 7 || chosen.has(i)) continue;
    assert.ok(naiveDistance(emb!, i, query, mask) >= last - 1e-6, `image ${i} beats the last`);
  }
  assert.equal(cold.sheet, join(dir, "runs/tiny/query-character.png"));
  checkSheet(await Deno.readFile(cold.sheet), 7);

  const text = await cli(dir, "query", ["--run", "tiny", ...args]);
  assert.equal(text.code, 0, text.stderr);
  const rows = text.stdout.trim().split("\n").slice(2, -1);
  assert.equal(rows.length, 6);
  assert.match(rows[0]!, new RegExp(`^\\s+1\\s+${neighbours[0]!.distance.toFixed(4)}\\s`));
});

Deno.test("query with image files: a gallery image's own PNG finds itself; a rendered glyph; a JPEG", async () => {
  const dir = await trainedProject();
  const shards = await runShards(dir);
  const base = await queryJson(dir, ["--condition", "family", "--index", "3", "-k", "1"]);
  const record = base.query.record!;
  const pixels = new Uint8Array(shards.recordBytes);
  const reader = shards.records();
  reader.readInto([record], pixels);
  reader.close();
  const own = join(dir, "own.png");
  await Deno.writeFile(own, grayPng(pixels, SIZE, SIZE));
  const self = await queryJson(dir, ["--condition", "family", "--image", own, "-k", "3"]);
  assert.equal(self.query.image, own);
  assert.equal(self.neighbours[0]!.index, 3, "the same pixels embed to the same point");
  assert.ok(self.neighbours[0]!.distance < 1e-4, `distance ${self.neighbours[0]!.distance}`);

  const font = await readFontFile(
    join(REPO, "node_modules/@expo-google-fonts/roboto/400Regular/Roboto_400Regular.ttf"),
  );
  const glyph = new GlyphRenderer(48, 1).render(font, ["A"]);
  const glyphFile = join(dir, "glyph_A.png");
  await Deno.writeFile(glyphFile, grayPng(glyph.pixels, 48, 48));
  const out = join(dir, "sheets", "glyph.png");
  const result = await queryJson(dir, [
    "--condition",
    "character",
    "--image",
    glyphFile,
    "-k",
    "4",
    "--split",
    "all",
    "--out",
    out,
  ]);
  assert.equal(result.neighbours.length, 4);
  assert.equal(result.gallery.images, shards.count, "--split all searches every image");
  assert.equal(result.query.value, null);
  assert.equal(result.sheet, out);
  checkSheet(await Deno.readFile(out), 5);

  const rgba = new Uint8Array(48 * 48 * 4);
  glyph.pixels.forEach((v, p) => rgba.set([v, v, v, 255], 4 * p));
  const jpegFile = join(dir, "glyph_A.jpg");
  await Deno.writeFile(jpegFile, jpeg.encode({ data: rgba, width: 48, height: 48 }, 95).data);
  const fromJpeg = await queryJson(dir, ["--condition", "character", "--image", jpegFile]);
  assert.equal(fromJpeg.neighbours.length, 10, "k defaults to 10");
});

Deno.test("query rejects bad input with a clear error and a non-zero exit", async () => {
  const dir = await trainedProject();
  const notImage = join(dir, "notes.txt");
  await Deno.writeTextFile(notImage, "hello, not an image");
  const cases: [string[], RegExp][] = [
    [
      ["--condition", "character", "--image", notImage],
      /Cannot read image ".*notes\.txt": not a JPEG, PNG, WebP, TIFF or AVIF file/,
    ],
    [
      ["--condition", "character", "--image", join(dir, "missing.png")],
      /Cannot read image file ".*missing\.png": it does not exist/,
    ],
    [
      ["--condition", "colour", "--index", "0"],
      /Cannot query notion "colour": it is unknown.*character, family, weight, slant/,
    ],
    [["--condition", "weigth", "--index", "0"], /did you mean "weight"/],
    [
      ["--condition", "character", "--index", "100000"],
      /Cannot query index 100000: it is out of range, the test gallery .* has \d+ images/,
    ],
    [["--condition", "character", "--index", "-1"], /--index "-1": expected an integer >= 0/],
    [["--condition", "character"], /exactly one of --image FILE and --index N/],
  ];
  for (const [args, pattern] of cases) {
    const result = await cli(dir, "query", ["--run", "tiny", ...args]);
    assert.notEqual(result.code, 0, `query ${args.join(" ")} should fail`);
    // A name or number typed wrong is a usage error (exit 2); a bad or missing file is not.
    if (!args.includes("--image")) {
      assert.equal(result.code, 2, `query ${args.join(" ")}: exit ${result.code}`);
    }
    assert.match(result.stderr, pattern);
    assert.equal(result.stdout, "");
  }
  await runJson(dir, "pipeline", ["tiny", "--until", "shard", "--name", "untrained"]);
  const untrained = await cli(dir, "query", [
    "--run",
    "untrained",
    "--condition",
    "character",
    "--index",
    "0",
  ]);
  assert.equal(untrained.code, 1);
  assert.match(untrained.stderr, /Cannot use run "untrained": it has no trained model/);
  const missing = await cli(dir, "query", [
    "--run",
    "nope",
    "--condition",
    "character",
    "--index",
    "0",
  ]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /Cannot find run "nope": .*runs: tiny, untrained/);
});

Deno.test("export writes projector files and one map per notion with consistent row counts", async () => {
  const dir = await trainedProject();
  const result = await cli(dir, "export", ["--run", "tiny", "--points", "60", "--json"]);
  assert.equal(result.code, 0, result.stderr);
  const exported: ExportResult = JSON.parse(result.stdout);
  const out = join(dir, "runs/tiny/export");
  assert.equal(exported.dir, out);
  const expected = [
    "tensors.tsv",
    ...NOTIONS.map((n) => `tensors_${n}.tsv`),
    "metadata.tsv",
    "projector_config.pbtxt",
    ...NOTIONS.map((n) => `map_${n}.svg`),
  ];
  assert.deepEqual(exported.files.map((f) => f.slice(out.length + 1)).sort(), expected.sort());
  const n = exported.images;
  const lines = async (file: string) =>
    (await Deno.readTextFile(join(out, file))).replace(/\n$/, "").split("\n");
  const full = await lines("tensors.tsv");
  assert.equal(full.length, n);
  assert.ok(full.every((row) => row.split("\t").length === 64));
  const metadata = await lines("metadata.tsv");
  assert.deepEqual(metadata[0]!.split("\t"), ["name", ...NOTIONS]);
  assert.equal(metadata.length, n + 1);
  const config = await Deno.readTextFile(join(out, "projector_config.pbtxt"));
  for (const notion of NOTIONS) {
    const rows = await lines(`tensors_${notion}.tsv`);
    assert.equal(rows.length, n);
    assert.ok(rows.every((row) => row.split("\t").length === 16), "fixed masks keep 64/4 dims");
    assert.match(
      config,
      new RegExp(`tensor_name: "${notion}"\\n  tensor_shape: ${n}\\n  tensor_shape: 16\\n`),
    );
    const svg = await Deno.readTextFile(join(out, `map_${notion}.svg`));
    const points = svg.match(/<circle /g)?.length ?? 0;
    assert.equal(points, Math.min(60, n));
    assert.equal(exported.maps[notion], points);
  }
  const listed = await cli(dir, "export", [
    "--run",
    "tiny",
    "--points",
    "60",
    "--out",
    join(dir, "ex2"),
  ]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.equal(listed.stdout.trim().split("\n").length, expected.length, "one file per line");
});

Deno.test("image files of every PNG kind and JPEG prepare like the naive reference", async () => {
  // A 4x4 picture: gray levels 0..240, exactly the target size (the resize is the identity).
  const gray = Uint8Array.from({ length: 16 }, (_, i) => i * 16);
  const want = gray;
  const shape = { size: 4, channels: 1 as const };
  const prepare = async (bytes: Uint8Array) =>
    prepareImage(await decodeRgba(bytes, "x.png"), shape);
  assert.deepEqual(await prepare(grayPng(gray, 4, 4)), want);
  const gray16 = Uint16Array.from(gray, (v) => v * 257);
  assert.deepEqual(
    await prepare(encodePng({ width: 4, height: 4, data: gray16, channels: 1, depth: 16 })),
    want,
  );
  const rgb = new Uint8Array(48);
  gray.forEach((v, p) => rgb.set([v, v, v], 3 * p));
  assert.deepEqual(
    await prepare(encodePng({ width: 4, height: 4, data: rgb, channels: 3, depth: 8 })),
    want,
  );
  const palette = Array.from(gray, (v) => [v, v, v]);
  const indexed = encodePng({
    width: 4,
    height: 4,
    data: Uint8Array.from({ length: 16 }, (_, i) => i),
    channels: 1,
    depth: 8,
    palette,
  });
  assert.deepEqual(await prepare(indexed), want);
  // 1-bit gray: rows packed into bytes, 0 -> 0 and 1 -> 255.
  const bits = [1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 0, 0, 0, 0];
  const packed = Uint8Array.from(
    [0, 1, 2, 3],
    (r) => bits.slice(4 * r, 4 * r + 4).reduce((byte, b, x) => byte | (b << (7 - x)), 0),
  );
  const oneBit = encodePng({ width: 4, height: 4, data: packed, channels: 1, depth: 1 });
  assert.deepEqual(await prepare(oneBit), Uint8Array.from(bits, (b) => b * 255));

  // Colour to gray by luminance; alpha over the dataset's background; --invert.
  const colours = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 200, 30]];
  const rgba = new Uint8Array(16);
  colours.forEach((c, p) => rgba.set([...c, p === 3 ? 128 : 255], 4 * p));
  const png = encodePng({ width: 2, height: 2, data: rgba, channels: 4, depth: 8 });
  const lum = ([r, g, b]: number[]) => 0.299 * r! + 0.587 * g! + 0.114 * b!;
  const onBlack = colours.map((c, p) =>
    Math.round(lum(c.map((v) => p === 3 ? Math.round(v * 128 / 255) : v)))
  );
  const image = await decodeRgba(png, "rgba.png");
  assert.deepEqual(Array.from(prepareImage(image, { size: 2, channels: 1 })), onBlack);
  const onWhite = colours.map((c, p) =>
    p === 3 ? c.map((v) => Math.round(v * 128 / 255 + 255 * (1 - 128 / 255))) : c
  ).flat();
  assert.deepEqual(Array.from(prepareImage(image, { size: 2, channels: 3 })), onWhite);
  const inverted = colours.map((c, p) =>
    255 - Math.round(lum(c.map((v) => p === 3 ? Math.round(v * 128 / 255 + 255 * (127 / 255)) : v)))
  );
  assert.deepEqual(
    Array.from(prepareImage(image, { size: 2, channels: 1, invert: true })),
    inverted,
  );

  // JPEG: a flat colour survives (lossy, so within a few levels); wide images are centre-cropped.
  // Black bars on whole 8x8 JPEG blocks, so the kept centre has no ringing.
  const wide = new Uint8Array(32 * 16 * 4);
  for (let y = 0; y < 16; y++) {
    for (let x = 0; x < 32; x++) {
      wide.set(x < 8 || x >= 24 ? [0, 0, 0, 255] : [200, 200, 200, 255], 4 * (y * 32 + x));
    }
  }
  const jpg = jpeg.encode({ data: wide, width: 32, height: 16 }, 100).data;
  const centre = prepareImage(await decodeRgba(jpg, "wide.jpg"), { size: 16, channels: 1 });
  assert.ok(centre.every((v) => Math.abs(v - 200) <= 3), `centre crop ${centre}`);

  await assert.rejects(
    () => decodeRgba(new TextEncoder().encode("GIF89a..."), "a.gif"),
    /Cannot read image "a.gif": not a JPEG, PNG, WebP, TIFF or AVIF file \(it starts with/,
  );
  await assert.rejects(
    () => decodeRgba(new Uint8Array(0), "empty.png"),
    /Cannot read image "empty.png": the file is empty/,
  );
  const truncated = grayPng(gray, 4, 4).slice(0, 40);
  await assert.rejects(
    () => decodeRgba(truncated, "cut.png"),
    /Cannot read image "cut.png": png data is unusable/,
  );
});
