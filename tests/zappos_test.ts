import assert from "node:assert/strict";
import { join } from "node:path";
import type { DecodedDataset, Split } from "../shared/data/dataset.ts";
import { BAD_REASONS, decodeImage } from "../shared/data/decode/mod.ts";
import { Rng } from "../shared/util/rng.ts";
import { fetchZappos } from "../shared/data/zappos/fetch.ts";
import { loadZappos, type ZapposLoadOptions } from "../shared/data/zappos/load.ts";
import { parseFilenames } from "../shared/data/zappos/filenames.ts";
import { parseTripletList } from "../shared/data/zappos/triplets.ts";
import { sampleTriplets } from "../shared/data/zappos/sample.ts";
import { sha256Hex } from "../shared/util/hash.ts";
import { closedPortUrl, serveFiles } from "./loopback_server.ts";
import { buildFixture, type Fixture, makeJpeg, writeRawDir } from "./zappos_fixture.ts";

const SPLITS: Split[] = ["train", "val", "test"];
const logs: string[] = [];
const log = (m: string) => logs.push(m);
/** In-memory loads (no imagesFile): the pixels come back as bytes. */
type MemoryOptions = Omit<ZapposLoadOptions, "imagesFile">;
const OPTS: MemoryOptions = {
  size: 32,
  conditions: ["heel", "class"], // given out of order: notions come back in id order
  numTrain: 16,
  numVal: 8,
  numTest: 8,
  seed: 7,
  maxBadFraction: 0.01,
  workers: 1,
};

async function withDirs<T>(n: number, action: (...dirs: string[]) => Promise<T>): Promise<T> {
  const dirs = await Promise.all(Array.from({ length: n }, () => Deno.makeTempDir()));
  try {
    return await action(...dirs);
  } finally {
    for (const dir of dirs) await Deno.remove(dir, { recursive: true });
  }
}

async function loadFixture(fixture: Fixture, opts: Partial<MemoryOptions> = {}) {
  const raw = await writeRawDir(fixture);
  try {
    return await loadZappos(raw, { ...OPTS, ...opts }, log);
  } finally {
    await Deno.remove(raw, { recursive: true });
  }
}

/** Each triplet as names plus condition name: independent of image order. */
function namedTriplets(data: DecodedDataset, split: Split): string[] {
  const t = data.triplets[split];
  const out: string[] = [];
  for (let i = 0; i < t.length; i += 4) {
    const [a, f, c] = [t[i]!, t[i + 1]!, t[i + 2]!].map((k) => data.names[k]!);
    out.push(`${data.notions[t[i + 3]!]!.name}|${a}|${f}|${c}`);
  }
  return out;
}

/** Checks a loaded dataset against the fixture it came from, image by image, line by line. */
async function checkAgainstFixture(data: DecodedDataset, fixture: Fixture, size: number) {
  assert.equal(data.channels, 3);
  assert.equal(data.width, size);
  assert.equal(data.height, size);
  // The class notion is labelled by category, the first folder of each image path.
  const categories = [...new Set(data.names.map((n) => n.split("/")[0]!))].sort();
  assert.deepEqual(data.notions, [{ name: "class", values: categories }, {
    name: "heel",
    values: [],
  }]);
  assert.deepEqual(Object.keys(data.labels), ["class"]);
  assert.deepEqual(
    [...data.labels.class!],
    data.names.map((n) => categories.indexOf(n.split("/")[0]!)),
  );
  const bytes = size * size * 3;
  assert.equal(data.pixels.length, data.names.length * bytes);
  for (const [i, name] of data.names.entries()) {
    const want = await decodeImage(fixture.jpegs.get(name)!, { size, fit: "crop" }, name);
    assert.deepEqual(data.pixels.subarray(i * bytes, (i + 1) * bytes), want, name);
  }
  const usedNames = new Set<string>();
  for (const split of SPLITS) {
    for (const line of namedTriplets(data, split)) {
      const [condition, ...names] = line.split("|");
      names.forEach((n) => usedNames.add(n));
      const indices = names.map((n) => fixture.filenames.indexOf(n)).join(" ");
      const rows = fixture.lists.get(`${condition}_tripletlist_${split}.txt`)!;
      assert.ok(rows.some((r) => r.join(" ") === indices), `${split} ${line} not in its list`);
    }
  }
  assert.equal(usedNames.size, data.names.length, "every decoded image is used by a triplet");
}

Deno.test("fetch over HTTP with a dropped connection, then load the dataset", async () => {
  const fixture = buildFixture();
  const served = serveFiles({
    "ut-zap50k-images.zip": fixture.imagesZip,
    "csn_zappos_triplets.zip": fixture.tripletsZip,
  }, { dropAfter: { "ut-zap50k-images.zip": fixture.imagesZip.length >> 1 } });
  try {
    await withDirs(2, async (cacheDir, outDir) => {
      const sources = await fetchZappos(
        {
          imagesUrl: served.url("ut-zap50k-images.zip"),
          imagesSha256: sha256Hex(fixture.imagesZip),
          tripletsUrl: served.url("csn_zappos_triplets.zip"),
          cacheDir,
          retries: 2,
        },
        outDir,
        log,
      );
      const imageRequests = served.requests.filter((r) => r.path === "/ut-zap50k-images.zip");
      assert.equal(imageRequests.length, 2);
      assert.match(imageRequests[1]!.range ?? "", /^bytes=[1-9]\d*-$/, "resumed with Range");
      const written = JSON.parse(await Deno.readTextFile(join(outDir, "sources.json")));
      assert.deepEqual(written, sources);
      assert.deepEqual(written.triplets, {
        url: served.url("csn_zappos_triplets.zip"),
        file: "csn_zappos_triplets.zip",
        bytes: fixture.tripletsZip.length,
        sha256: sha256Hex(fixture.tripletsZip),
        via: "url",
      });
      assert.equal(
        sources.images && (sources.images as { sha256: string }).sha256,
        sha256Hex(fixture.imagesZip),
      );
      assert.deepEqual(
        await Deno.readFile(join(outDir, "ut-zap50k-images.zip")),
        fixture.imagesZip,
      );

      logs.length = 0;
      const data = await loadZappos(outDir, { ...OPTS, workers: 2 }, log);
      assert.ok(logs.some((m) => /with 2 worker\(s\)/.test(m)), logs.join("\n"));
      await checkAgainstFixture(data, fixture, OPTS.size);
      for (const split of SPLITS) {
        const t = data.triplets[split];
        const perCondition = [0, 0];
        for (let i = 3; i < t.length; i += 4) perCondition[t[i]!]!++;
        const want = { train: 16, val: 8, test: 8 }[split];
        assert.deepEqual(perCondition, [want / 2, want / 2], `${split}: even over conditions`);
      }
      assert.deepEqual(data.report.badImages, []);
      // Same seed in process: identical dataset; another seed: other triplets.
      const again = await loadZappos(outDir, OPTS, log);
      assert.deepEqual(again.names, data.names);
      assert.deepEqual(again.triplets, data.triplets);
      assert.deepEqual(again.pixels, data.pixels);
      const other = await loadZappos(outDir, { ...OPTS, seed: 8 }, log);
      assert.notDeepEqual(namedTriplets(other, "train"), namedTriplets(data, "train"));
    });
  } finally {
    await served.close();
  }
});

Deno.test("fetch takes both archives from the mirror folder without network", async () => {
  const fixture = buildFixture({ perCategory: 2 });
  await withDirs(3, async (mirrorDir, cacheDir, outDir) => {
    await Deno.writeFile(join(mirrorDir, "ut-zap50k-images.zip"), fixture.imagesZip);
    await Deno.writeFile(join(mirrorDir, "csn_zappos_triplets.zip"), fixture.tripletsZip);
    const sources = await fetchZappos(
      {
        imagesUrl: closedPortUrl("ut-zap50k-images.zip"),
        tripletsUrl: closedPortUrl("csn_zappos_triplets.zip"),
        tripletsSha256: sha256Hex(fixture.tripletsZip),
        mirrorDir,
        cacheDir,
        retries: 0,
      },
      outDir,
      log,
    );
    assert.equal((sources.images as { sha256: string }).sha256, sha256Hex(fixture.imagesZip));
    assert.deepEqual(
      await Deno.readFile(join(outDir, "csn_zappos_triplets.zip")),
      fixture.tripletsZip,
    );
  });
});

Deno.test("filenames.json as a JSON array with the images root prefix loads the same", async () => {
  const lines = await loadFixture(buildFixture());
  const array = await loadFixture(buildFixture({ jsonArray: true }));
  assert.ok(array.names.every((n) => !n.startsWith("ut-zap50k-images/")));
  assert.deepEqual(array.names, lines.names);
  assert.deepEqual(array.triplets, lines.triplets);
});

Deno.test("unreadable images are listed, their triplets dropped, or the load fails", async () => {
  const truncated = makeJpeg(3).subarray(0, 900);
  const text = new TextEncoder().encode("<html>404</html>");
  const all = { numTrain: 100, numVal: 100, numTest: 100 }; // every line of every list
  const clean = await loadFixture(buildFixture(), all);
  const bad = buildFixture({ corrupt: { 3: truncated, 5: text } });
  const badNames = [bad.filenames[3]!, bad.filenames[5]!];
  assert.ok(badNames.every((n) => clean.names.includes(n)), "fixture uses both bad images");

  const data = await loadFixture(bad, { ...all, maxBadFraction: 0.5, workers: 2 });
  const report = data.report as {
    badImages: { name: string; reason: string }[];
    droppedTriplets: Record<Split, number>;
  };
  assert.deepEqual(report.badImages.map((b) => b.name), badNames);
  // Stable categories, not the image library's text (which varied run to run).
  assert.deepEqual(report.badImages.map((b) => b.reason), [
    BAD_REASONS.corrupt,
    BAD_REASONS.unsupported,
  ]);
  assert.equal(data.names.length, clean.names.length - 2);
  await checkAgainstFixture(data, bad, OPTS.size); // pixels compacted, indices remapped
  for (const split of SPLITS) {
    const kept = namedTriplets(clean, split).filter((t) => !badNames.some((n) => t.includes(n)));
    assert.deepEqual(namedTriplets(data, split), kept, split);
    assert.equal(report.droppedTriplets[split], clean.triplets[split].length / 4 - kept.length);
    assert.ok(report.droppedTriplets[split] > 0, `${split}: some triplets dropped`);
  }
  await assert.rejects(
    () => loadFixture(bad, { ...all, maxBadFraction: 0.01 }),
    /Cannot load zappos: too many unreadable images: 2 of 20 used images .* more than maxBadFraction 0\.01/,
  );
  // Each log line names its file, a missing one included.
  logs.length = 0;
  const missing = buildFixture({ missing: [7] });
  await loadFixture(missing, { ...all, maxBadFraction: 0.5 });
  const line = logs.find((l) => l.includes("unreadable image"));
  assert.ok(line?.includes(`"${missing.filenames[7]}"`), `names the file: ${line}`);
  assert.match(line!, /: missing file/);
});

Deno.test("a malformed triplet list or a missing one fails naming file and line", async () => {
  await assert.rejects(
    () => loadFixture(buildFixture({ listText: { "heel_tripletlist_val.txt": "0 1 2\n3 4\n" } })),
    /Cannot parse triplet file "tripletlists\/heel_tripletlist_val\.txt": line 2 has 2 fields, expected 3/,
  );
  const missing = buildFixture({ omit: ["heel_tripletlist_test.txt"] });
  await assert.rejects(
    () => loadFixture(missing),
    /Cannot find triplet file "tripletlists\/heel_tripletlist_test\.txt" in "csn_zappos_triplets\.zip"/,
  );
  // The list is only needed when its condition is chosen.
  const classOnly = await loadFixture(missing, { conditions: ["class"] });
  assert.deepEqual(classOnly.notions.map((n) => n.name), ["class"]);
  await assert.rejects(() => loadFixture(missing, { conditions: ["shape"] }), /unknown condition/);
});

Deno.test("parseTripletList checks every line", () => {
  const f = "tripletlists/class_tripletlist_train.txt";
  const parse = (text: string) => parseTripletList(text, f, 20);
  assert.deepEqual(Array.from(parse("0 1 2\n\n 3\t4  5 \r\n")), [0, 1, 2, 3, 4, 5]);
  const cases: [string, RegExp][] = [
    ["0 1 2\n1 2", /line 2 has 2 fields, expected 3/],
    ["0 1 2 3", /line 1 has 4 fields, expected 3/],
    ["0 1 2\n\n1 x 2", /line 3: field 2 is "x", expected a non-negative integer/],
    ["1 2.5 3", /line 1: field 2 is "2.5"/],
    ["-1 2 3", /line 1: field 1 is "-1"/],
    ["1 2 20", /line 1: index 20 is out of range, filenames\.json lists 20 images \(0 to 19\)/],
    ["0 1 2\n4 1 4", /line 2: anchor and close are the same image \(4\)/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parse(text), (e: Error) => {
      assert.ok(e.message.includes(`"${f}"`), e.message);
      assert.match(e.message, message);
      return true;
    });
  }
});

Deno.test("parseFilenames reads lines or a JSON array and normalises the root", () => {
  const want = ["Shoes/Oxfords/Bostonian/100627.72.jpg", "Boots/Ankle/Dr. Martens/1.2.jpg"];
  assert.deepEqual(parseFilenames(want.join("\r\n") + "\r\n", "f"), want);
  assert.deepEqual(parseFilenames(`ut-zap50k-images/${want[0]}\n./${want[1]}`, "f"), want);
  assert.deepEqual(
    parseFilenames(JSON.stringify(want.map((p) => `ut-zap50k-images/${p}`)), "f"),
    want,
  );
  assert.throws(() => parseFilenames("a.jpg\n\nb.jpg\n", "filenames.json"), /line 2 is empty/);
  assert.throws(() => parseFilenames('["a.jpg", 3]', "filenames.json"), /item 1 is 3/);
  assert.throws(() => parseFilenames("", "filenames.json"), /lists no images/);
  // An object or a binary file is said to be so, not blamed on a triplet index later.
  assert.throws(
    () => parseFilenames('{"images": ["a.jpg"]}\n', "filenames.json"),
    /Cannot parse "filenames\.json": it is a JSON object, expected one image path per line or a JSON array of paths/,
  );
  assert.throws(
    () => parseFilenames("PK\u0003\u0004\u0000\u0000abc\n", "filenames.json"),
    /Cannot parse "filenames\.json": it is binary \(a NUL byte at offset 4\), expected text/,
  );
  assert.throws(
    () => parseFilenames("Shoes/a.jpg\n\ufffd\ufffd\n", "filenames.json"),
    /Cannot parse "filenames\.json": line 2 is not UTF-8 text, expected an image path/,
  );
});

Deno.test("seeded sampling is deterministic and spread evenly over conditions", () => {
  const list = (n: number, base: number) =>
    Int32Array.from({ length: n * 3 }, (_, i) => base + Math.floor(i / 3) * 3 + (i % 3));
  const lists = [list(1000, 0), list(1000, 10_000), list(30, 20_000), list(1000, 30_000)];
  const a = sampleTriplets(lists, 400, Rng.derive(5, "train"));
  const b = sampleTriplets(lists, 400, Rng.derive(5, "train"));
  const c = sampleTriplets(lists, 400, Rng.derive(6, "train"));
  assert.deepEqual(a.triplets, b.triplets);
  assert.notDeepEqual(a.triplets, c.triplets);
  assert.deepEqual(a.wanted, [100, 100, 100, 100]);
  assert.deepEqual(a.taken, [100, 100, 30, 100]);
  const seen = new Set<number>();
  const firstConditions = new Set<number>();
  for (let i = 0; i < a.triplets.length; i += 4) {
    const [anchor, far, close, condition] = a.triplets.subarray(i, i + 4);
    assert.equal(Math.floor(anchor! / 10_000), condition, "row comes from its condition's list");
    assert.deepEqual([far! - anchor!, close! - anchor!], [1, 2]);
    assert.ok(!seen.has(anchor!), "no triplet drawn twice");
    seen.add(anchor!);
    if (i < 40 * 4) firstConditions.add(condition!);
  }
  assert.equal(firstConditions.size, 4, "conditions are interleaved, not in blocks");
  assert.deepEqual(sampleTriplets(lists, 10, new Rng(1)).taken, [3, 3, 2, 2]);
});

Deno.test("triplet counts are reported once, with what was used and what fell short", async () => {
  logs.length = 0;
  const data = await loadFixture(buildFixture(), {
    conditions: ["class", "gender", "heel"],
    numTrain: 40, // 14/13/13 wanted; each list holds 12
    numVal: 9,
  });
  const lines = logs.filter((line) => /triplets used|wanted|fewer/.test(line));
  assert.equal(lines.length, 1, lines.join("\n"));
  assert.match(
    lines[0]!,
    /triplets used train 36 \(class 12, gender 12, heel 12\); val 9 \(class 3, gender 3, heel 3\); test 8 .*fewer than the even share for train\/class 12 of 14, train\/gender 12 of 13, train\/heel 12 of 13/,
  );
  assert.equal(data.triplets.train.length / 4, 36);
});

Deno.test("with a scratch folder, the unpack goes there and a killed run's leftover is cleared", async () => {
  await withDirs(1, async (scratch) => {
    const stale = join(scratch, "zappos-unpack", "images");
    await Deno.mkdir(stale, { recursive: true });
    await Deno.writeTextFile(join(stale, "half.jpg"), "left by a killed run");
    const data = await loadFixture(buildFixture(), { scratchDir: scratch });
    assert.ok(data.names.length > 0);
    assert.deepEqual([...Deno.readDirSync(scratch)], [], "the unpack folder is gone");
  });
});
