/**
 * The images dataset's adapter on folders the tests write: labels from CSV (BOM, CRLF,
 * quotes) or JSON Lines or folder levels, archives from a mirror, notions per column
 * (categorical, numeric, judged by a triplet file), splits by image; and every bad input a
 * clear error naming file, line and column.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { zipSync } from "fflate";
import { create as createTar } from "tar";
import sharp from "sharp";
import adapter from "../shared/data/images/adapter.ts";
import { decodeImage } from "../shared/data/decode/mod.ts";
import type { DecodedDataset, Split } from "../shared/data/dataset.ts";
import { SPLITS } from "../shared/data/dataset.ts";
import { keepDecoded } from "../shared/data/images/keep.ts";
import { drawSplits } from "../shared/data/images/split.ts";
import { sha256File } from "../shared/util/hash.ts";
import { removeTree } from "../shared/util/fs.ts";
import { writeImagesFixture } from "./support/images_fixture.ts";
import { makeJpeg } from "./zappos_fixture.ts";

const log = () => {};

async function fetchTo(params: Record<string, unknown>): Promise<string> {
  const out = await Deno.makeTempDir({ prefix: "csn-images-raw-" });
  try {
    await adapter.fetch(adapter.fetchParams.parse(params), { outDir: out, log, forced: false });
  } catch (error) {
    await removeTree(out);
    throw error;
  }
  return out;
}

async function load(
  raw: string,
  params: Record<string, unknown> = {},
  counts = [60, 20, 20],
): Promise<DecodedDataset> {
  const [num_train, num_val, num_test] = counts as [number, number, number];
  const ds = await adapter.load(
    raw,
    {
      size: 16,
      num_train,
      num_val,
      num_test,
      seed: 1,
      // In process: starting decode workers costs more than these few images.
      ...adapter.preprocessParams.parse({ workers: 1, ...params }),
    },
    { log, scratchDir: raw },
  );
  const pixels = ds.pixels;
  assert.ok(pixels instanceof Uint8Array, "no artefact file given: pixels in memory");
  return { ...ds, pixels };
}

/** Mean absolute difference of two images' bytes. */
function meanDiff(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

/** A folder of small JPEGs at `paths`, and a label file of `text` beside it. */
async function folder(paths: readonly string[], labels?: { name: string; text: string }) {
  const root = await Deno.makeTempDir({ prefix: "csn-images-" });
  const dir = join(root, "photos");
  await Deno.mkdir(dir);
  for (const [i, path] of paths.entries()) {
    await Deno.mkdir(dirname(join(dir, path)), { recursive: true });
    await Deno.writeFile(join(dir, path), makeJpeg(i, 12, 10));
  }
  if (labels) await Deno.writeTextFile(join(root, labels.name), labels.text);
  return { root, dir, labels: labels ? join(root, labels.name) : undefined };
}

/** Which split each image name is in, checking each image is in one split only. */
function splitOfNames(ds: DecodedDataset): Map<number, Split> {
  const of = new Map<number, Split>();
  for (const split of SPLITS) {
    const t = ds.triplets[split];
    for (let i = 0; i < t.length; i += 4) {
      for (const image of [t[i]!, t[i + 1]!, t[i + 2]!]) {
        const before = of.get(image);
        assert.ok(before === undefined || before === split, `image ${image} in two splits`);
        of.set(image, split);
      }
    }
  }
  return of;
}

Deno.test("images: CSV with BOM, CRLF and quotes; three notions; triplets by their rule", async () => {
  const fx = await writeImagesFixture(72);
  try {
    const raw = await fetchTo({ dir: fx.dir, labels: fx.labels });
    const ds = await load(raw, {
      numeric: "size",
      min_gap: 4,
      val_fraction: 0.2,
      test_fraction: 0.2,
      max_bad_fraction: 0.02,
    });
    assert.deepEqual(ds.notions.map((n) => n.name), ["colour", "size", "batch"]);
    assert.deepEqual(ds.notions[0]!.values, ["blue", "green", "red"]);
    assert.ok(ds.names.includes("deep/er/odd, name 7.jpg"), "quoted path with a comma");
    assert.deepEqual(ds.report.badImages, [
      { name: "deep/er/img_3.jpg", reason: "truncated or corrupt image data" },
    ]);
    assert.equal(ds.names.length, 71, "the PNGs, CMYK, grey and EXIF-rotated files decode");
    assert.equal(ds.pixels.length, ds.names.length * 16 * 16 * 3);
    const pixelsOf = (path: string) => {
      const i = ds.names.indexOf(path);
      return ds.pixels.subarray(i * 768, (i + 1) * 768);
    };
    const grey = pixelsOf(fx.rows.find((r) => r.kind === "grey")!.path);
    for (let i = 0; i < grey.length; i += 3) {
      assert.ok(grey[i] === grey[i + 1] && grey[i] === grey[i + 2], "grey decodes to R = G = B");
    }
    // EXIF orientation applied, CMYK converted: near the upright RGB reference (JPEG loss).
    for (const kind of ["exif", "cmyk"]) {
      const row = fx.rows.find((r) => r.kind === kind)!;
      const reference = await Deno.readFile(row.reference!);
      const expected = await decodeImage(reference, { size: 16, fit: "crop" }, "reference");
      const diff = meanDiff(pixelsOf(row.path), expected);
      assert.ok(diff < 12, `${kind}: mean difference ${diff.toFixed(1)} to the reference`);
      if (kind === "exif") {
        const turned = await sharp(reference).rotate(90).png().toBuffer();
        const wrong = await decodeImage(turned, { size: 16, fit: "crop" }, "turned");
        const off = meanDiff(pixelsOf(row.path), wrong);
        assert.ok(off > 2 * diff, `a quarter turn is further: ${off.toFixed(1)} vs ${diff}`);
      }
    }
    splitOfNames(ds);
    const byName = new Map(fx.rows.map((r) => [r.path, r]));
    const rowOf = (i: number) => byName.get(ds.names[i]!)!;
    const greyIndex = ds.names.indexOf(fx.rows.find((r) => r.kind === "grey")!.path);
    assert.equal(ds.labels.colour![greyIndex], -1, "an empty cell is unknown for colour only");
    for (const split of SPLITS) {
      const t = ds.triplets[split];
      assert.equal(t.length / 4, { train: 60, val: 20, test: 20 }[split]);
      for (let i = 0; i < t.length; i += 4) {
        const [a, f, c, n] = [rowOf(t[i]!), rowOf(t[i + 1]!), rowOf(t[i + 2]!), t[i + 3]!];
        if (n === 0) {
          assert.ok(a.colour !== "" && a.colour === c.colour && a.colour !== f.colour);
        } else if (n === 1) {
          const near = Math.abs(a.size - c.size), away = Math.abs(a.size - f.size);
          assert.ok(near < away && near + 4 <= away, `close nearer by min_gap: ${near}, ${away}`);
        } else assert.ok(a.batch === c.batch && a.batch !== f.batch);
      }
    }
    await removeTree(raw);
  } finally {
    await removeTree(fx.root);
  }
});

Deno.test("images: drawn splits put each image in one split, stratified and seeded", () => {
  const strata = Int32Array.from({ length: 300 }, (_, i) => i % 3);
  const splits = drawSplits(strata, { valFraction: 0.1, testFraction: 0.2, seed: 4 });
  assert.equal(splits.length, 300);
  assert.deepEqual(drawSplits(strata, { valFraction: 0.1, testFraction: 0.2, seed: 4 }), splits);
  for (const value of [0, 1, 2]) {
    const mine = splits.filter((_, i) => strata[i] === value);
    const val = mine.filter((s) => s === "val").length;
    const test = mine.filter((s) => s === "test").length;
    assert.ok(
      Math.abs(val - 10) <= 1 && Math.abs(test - 20) <= 1,
      `value ${value}: ${val}, ${test}`,
    );
  }
  assert.throws(
    () => drawSplits(strata, { valFraction: 0.5, testFraction: 0.5, seed: 1 }),
    /Cannot split images: val_fraction 0\.5 \+ test_fraction 0\.5/,
  );
});

Deno.test("images: a split column, JSON Lines, folder levels, a judged triplet file", async () => {
  const paths = Array.from(
    { length: 24 },
    (_, i) => `${["Boots", "Shoes"][i % 2]}/${["Mid", "Low", "High"][i % 3]}/p${i}.jpg`,
  );
  const jsonl = paths.map((p, i) =>
    JSON.stringify({
      path: p,
      kind: i % 3 ? "Shoes" : "Boots",
      split: SPLITS[i % 4 === 3 ? 1 : 0],
    }) +
    "\n"
  ).join("") + paths.map((p, i) =>
    JSON.stringify({ path: p.replace(".jpg", ".jpeg"), kind: i % 2 ? "x" : "y", split: "test" })
  ).join("\n");
  const all = [...paths, ...paths.map((p) => p.replace(".jpg", ".jpeg"))];
  const f = await folder(all, { name: "labels.jsonl", text: jsonl });
  const tripletDir = join(f.root, "judged");
  await Deno.mkdir(tripletDir);
  // By path (tab-separated) and by row number: anchor far close.
  await Deno.writeTextFile(
    join(tripletDir, "look.txt"),
    `# mine\n${paths[0]}\t${paths[1]}\t${paths[2]}\n4 5 6\n24 25 26\n`,
  );
  try {
    const raw = await fetchTo({ dir: f.dir, labels: f.labels, triplets: tripletDir });
    const ds = await load(raw, {}, [12, 6, 6]);
    assert.deepEqual(ds.notions.map((n) => n.name), ["kind", "look"]);
    assert.deepEqual(ds.report.split_from, "column split");
    const splitOf = splitOfNames(ds);
    for (const [image, split] of splitOf) {
      const row = all.indexOf(ds.names[image]!);
      const expected = row >= 24 ? "test" : row % 4 === 3 ? "val" : "train";
      assert.equal(split, expected, `${ds.names[image]} follows the split column`);
    }
    // The judged notion holds exactly the file's triplets that lie in one split.
    const judged = SPLITS.map((s) => {
      const t = ds.triplets[s], out: string[] = [];
      for (let i = 0; i < t.length; i += 4) {
        if (t[i + 3] === 1) out.push([t[i]!, t[i + 1]!, t[i + 2]!].map((x) => ds.names[x]).join());
      }
      return out.sort();
    });
    assert.deepEqual(judged, [
      [[paths[0], paths[1], paths[2]].join(), [paths[4], paths[5], paths[6]].join()].sort(),
      [],
      [[all[24], all[25], all[26]].join()],
    ]);
    await removeTree(raw);

    // No label file: one notion per folder level.
    const levels = await fetchTo({ dir: f.dir });
    const byFolder = await load(levels, {}, [12, 4, 4]);
    assert.deepEqual(byFolder.notions, [
      { name: "level_1", values: ["Boots", "Shoes"] },
      { name: "level_2", values: ["High", "Low", "Mid"] },
    ]);
    await removeTree(levels);
  } finally {
    await removeTree(f.root);
  }
});

Deno.test("images: archives (zip, tar.gz) from a mirror, sha256-checked, labels inside", async () => {
  const csv = "path,colour\n" +
    Array.from({ length: 12 }, (_, i) => `p${i}.jpg,${["red", "blue"][i % 2]}`).join("\n");
  const f = await folder(Array.from({ length: 12 }, (_, i) => `p${i}.jpg`));
  await Deno.writeTextFile(join(f.dir, "labels.csv"), csv);
  const mirror = join(f.root, "mirror");
  await Deno.mkdir(mirror);
  const files: Record<string, Uint8Array> = {};
  for await (const e of Deno.readDir(f.dir)) {
    files[`shop/${e.name}`] = await Deno.readFile(join(f.dir, e.name));
  }
  await Deno.writeFile(join(mirror, "shop.zip"), zipSync(files));
  await createTar({ gzip: true, file: join(mirror, "shop.tar.gz"), cwd: f.root }, ["photos"]);
  try {
    for (const name of ["shop.zip", "shop.tar.gz"]) {
      const url = `https://example.invalid/${name}`;
      const sha256 = await sha256File(join(mirror, name));
      const raw = await fetchTo({ url, sha256, mirror, labels: "labels.csv" });
      const ds = await load(raw, {}, [8, 0, 0]);
      assert.equal(ds.names.length, 12, name);
      assert.deepEqual(ds.notions, [{ name: "colour", values: ["blue", "red"] }]);
      await removeTree(raw);
      await assert.rejects(
        fetchTo({ url, sha256: "0".repeat(64), mirror, labels: "labels.csv" }),
        /sha256/,
      );
    }
  } finally {
    await removeTree(f.root);
  }
});

/** Bad inputs: each an error naming the file, line and column where there is one. */
const CSV_CASES: [string, string, RegExp][] = [
  [
    "a path not in the folder",
    "path,c\na.jpg,x\nb.jpg,y\nmissing.jpg,x\n",
    /label file "labels\.csv": line 4, column 1 \("path"\): "missing\.jpg" is not an image in/,
  ],
  [
    "a path twice",
    "path,c\na.jpg,x\nb.jpg,y\n./a.jpg,y\n",
    /line 4, column 1 \("path"\): "a\.jpg" is named on line 2 too, expected one row per image/,
  ],
  [
    "a row with the wrong number of fields",
    "path,c\na.jpg,x\nb.jpg,y,z\n",
    /Cannot read label file "labels\.csv": line 3 has 3 fields, expected 2 \(path, c\)/,
  ],
  [
    "a header and no rows",
    "\uFEFFpath,c\r\n",
    /Cannot read label file "labels\.csv": it holds a header and no rows, expected one row/,
  ],
  [
    "no path column",
    "file,c\na.jpg,x\n",
    /Cannot use path column "path": label file "labels\.csv" has no such column/,
  ],
];

for (const [what, csv, message] of CSV_CASES) {
  Deno.test(`images: bad input: ${what} is an error at fetch`, async () => {
    const f = await folder(["a.jpg", "b.jpg", "c.jpg"], { name: "labels.csv", text: csv });
    try {
      await assert.rejects(fetchTo({ dir: f.dir, labels: f.labels }), message);
    } finally {
      await removeTree(f.root);
    }
  });
}

Deno.test("images: bad input: images with no row are reported and counted, not fatal", async () => {
  const f = await folder(["a.jpg", "b.jpg", "c.jpg"], {
    name: "labels.csv",
    text: "path,c\na.jpg,x\nb.jpg,y\n",
  });
  const out = await Deno.makeTempDir();
  try {
    const lines: string[] = [];
    const metrics = await adapter.fetch(
      adapter.fetchParams.parse({ dir: f.dir, labels: f.labels }),
      { outDir: out, log: (m) => lines.push(m), forced: false },
    );
    assert.equal(metrics.unlabelled, 1);
    assert.equal(metrics.images, 2);
    assert.match(
      lines.join("\n"),
      /1 image\(s\) in the folder have no row in "labels\.csv".*c\.jpg/,
    );
  } finally {
    await removeTree(f.root);
    await removeTree(out);
  }
});

Deno.test("images: bad input: an empty folder is an error", async () => {
  const f = await folder([]);
  await Deno.writeTextFile(join(f.dir, "notes.txt"), "no images here");
  try {
    await assert.rejects(
      fetchTo({ dir: f.dir }),
      /Cannot list images in ".*photos": the folder holds no image files, expected files ending/,
    );
  } finally {
    await removeTree(f.root);
  }
});

const PATHS = Array.from({ length: 10 }, (_, i) => `p${i}.jpg`);
/** Label files that fetch accepts and preprocess refuses. */
const NOTION_CASES: [string, string, Record<string, unknown>, RegExp][] = [
  [
    "a notion column with one value",
    "path,c,d\n" + PATHS.map((p, i) => `${p},same,${i % 2}`).join("\n"),
    {},
    /Cannot use condition "c": label file "labels\.csv", column 2 \("c"\) holds one value \("same"\) in all 10 rows, expected two or more/,
  ],
  [
    "no value held by two images in a split",
    "path,c,split\n" +
    PATHS.map((p, i) => `${p},${i < 6 ? i % 2 : `v${i}`},${i < 6 ? "train" : "val"}`).join("\n"),
    {},
    /Cannot use condition "c": label file "labels\.csv", in the val split \(4 images\) no value is held by two images/,
  ],
  [
    "a numeric column with text",
    "path,c,heel\n" + PATHS.map((p, i) => `${p},${i % 2},${i === 6 ? "tall" : i}`).join("\n"),
    { numeric: "heel" },
    /Cannot use numeric column "heel": label file "labels\.csv", line 8, column 3 \("heel"\) holds "tall", expected a number/,
  ],
  [
    "a condition that does not exist",
    "path,colour,heel\n" + PATHS.map((p, i) => `${p},${i % 2},${i}`).join("\n"),
    { conditions: "colour,hel" },
    /Cannot use condition "hel": label file "labels\.csv" has no such column; did you mean "heel"\? Columns: path, colour, heel/,
  ],
  [
    "a split column value that is not a split",
    "path,c,split\n" + PATHS.map((p, i) => `${p},${i % 2},${i === 3 ? "tset" : "train"}`)
      .join("\n"),
    {},
    /Cannot split images: label file "labels\.csv", line 5, column 3 \("split"\) holds "tset", expected train, val or test/,
  ],
];

for (const [what, csv, params, message] of NOTION_CASES) {
  Deno.test(`images: bad input: ${what} is an error at preprocess`, async () => {
    const f = await folder(PATHS, { name: "labels.csv", text: csv });
    try {
      const raw = await fetchTo({ dir: f.dir, labels: f.labels });
      await assert.rejects(load(raw, params, [8, 4, 0]), message);
      await removeTree(raw);
    } finally {
      await removeTree(f.root);
    }
  });
}

Deno.test("images: unreadable images leave every per-image array and judged triplet in step", () => {
  const notions = [
    {
      kind: "categorical" as const,
      name: "c",
      values: ["x", "y"],
      labels: Int32Array.of(0, 1, 0, 1),
    },
    { kind: "numeric" as const, name: "n", numbers: Float64Array.of(1, 2, NaN, 4) },
    { kind: "judged" as const, name: "j" },
  ];
  const judged = new Map([[2, Int32Array.of(0, 1, 3, 0, 2, 3)]]);
  const kept = keepDecoded(4, new Set([2]), notions, judged, ["train", "val", "test", "train"]);
  assert.deepEqual(kept.keep, [0, 1, 3]);
  assert.deepEqual(kept.notions[0], { ...notions[0], labels: Int32Array.of(0, 1, 1) });
  assert.deepEqual(kept.notions[1], { ...notions[1], numbers: Float64Array.of(1, 2, 4) });
  assert.deepEqual(kept.splitOf, ["train", "val", "train"]);
  assert.deepEqual(kept.judged.get(2), Int32Array.of(0, 1, 2), "renumbered; the one using 2 gone");
  assert.equal(kept.droppedJudged, 1);
});

Deno.test("images: fit crop fills the square, letterbox puts the whole image on white", async () => {
  const root = await Deno.makeTempDir({ prefix: "csn-images-" });
  const red = { r: 200, g: 0, b: 0 };
  for (const folder of ["a", "b"]) {
    await Deno.mkdir(join(root, folder));
    const wide = sharp({ create: { width: 40, height: 20, channels: 3, background: red } });
    await Deno.writeFile(join(root, folder, "wide.png"), await wide.png().toBuffer());
  }
  try {
    const raw = await fetchTo({ dir: root });
    const cases: [string, number[]][] = [["crop", [200, 0, 0]], ["letterbox", [255, 255, 255]]];
    for (const [fit, corner] of cases) {
      const ds = await load(raw, { fit }, [0, 0, 0]);
      assert.deepEqual(Array.from(ds.pixels.subarray(0, 3)), corner, `${fit}: top left`);
      const centre = (8 * 16 + 8) * 3;
      assert.deepEqual(Array.from(ds.pixels.subarray(centre, centre + 3)), [200, 0, 0], fit);
    }
    await removeTree(raw);
  } finally {
    await removeTree(root);
  }
});

Deno.test("images: a CSV path in composed Unicode finds the file stored decomposed", async () => {
  const stored = "cafe\u0301.jpg"; // as macOS stores "café"
  const f = await folder([stored, "b.jpg"], {
    name: "labels.csv",
    text: "path,c\ncaf\u00e9.jpg,x\nb.jpg,y\n",
  });
  try {
    const raw = await fetchTo({ dir: f.dir, labels: f.labels });
    assert.ok((await Deno.stat(join(raw, "images", stored))).isFile);
    await removeTree(raw);
  } finally {
    await removeTree(f.root);
  }
});
