/**
 * Shard format and streaming reader on a small synthetic dataset: byte-exact round trip,
 * index checks, checksum errors, seeded order, coverage, normalisation and flips against a
 * naive float64 loop (tolerance 1e-6), the open-shard bound, resume; decoded_io errors.
 */
import assert from "node:assert/strict";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { DecodedDataset, Split } from "../shared/data/dataset.ts";
import { readDecoded, readDecodedMeta, writeDecoded } from "../shared/data/decoded_io.ts";
import { Rng } from "../shared/util/rng.ts";
import { fixedSubset, flipBits } from "../shared/data/shards/order.ts";
import {
  imageBatches,
  type TripletBatch,
  tripletBatchCount,
  tripletBatches,
} from "../shared/data/shards/batches.ts";
import { memoryRecordSource, writeShards } from "../shared/data/shards/writer.ts";
import { normalisationTable, normaliseImage } from "../shared/data/shards/normalise.ts";
import { openShards, type ShardSet } from "../shared/data/shards/reader.ts";
import { parseShardIndex } from "../shared/artefacts/shard_index.ts";
import { encodeInt32LE } from "../shared/data/shards/int32_file.ts";

const H = 5;
const W = 7;
const C = 3;
const COUNT = 50;
const PER_SHARD = 8; // 7 shards, the last with 2 records
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];
const TOL = 1e-6;

function randomTriplets(rng: Rng, n: number, notions: number): Int32Array {
  const t = new Int32Array(n * 4);
  for (let i = 0; i < n; i++) {
    t.set([rng.int(COUNT), rng.int(COUNT), rng.int(COUNT), rng.int(notions)], i * 4);
  }
  return t;
}

function syntheticDataset(): DecodedDataset {
  const rng = new Rng(7);
  const pixels = new Uint8Array(COUNT * H * W * C);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rng.int(256);
  pixels[0] = 0;
  pixels[1] = 255;
  return {
    dataset: "synthetic",
    height: H,
    width: W,
    channels: C,
    names: Array.from({ length: COUNT }, (_, i) => `img ${i}.jpg`),
    pixels,
    notions: [{ name: "colour", values: ["red", "green"] }, { name: "shape", values: [] }],
    labels: { colour: Int32Array.from({ length: COUNT }, (_, i) => (i % 3) - 1) },
    triplets: {
      train: randomTriplets(rng, 103, 2),
      val: randomTriplets(rng, 20, 2),
      test: randomTriplets(rng, 0, 2),
    },
    report: { skipped: [] },
  };
}

async function withShards(fn: (dir: string, ds: DecodedDataset) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "csn_shards_" });
  try {
    const ds = syntheticDataset();
    await writeShards(memoryRecordSource(ds.pixels, H * W * C), ds, dir, {
      recordsPerShard: PER_SHARD,
    });
    await fn(dir, ds);
  } finally {
    await rm(dir, { recursive: true });
  }
}

/** Naive reference: float64 normalisation with an explicit mirror index. */
function naiveImage(ds: DecodedDataset, id: number, flip: boolean): Float64Array {
  const out = new Float64Array(H * W * C);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const sx = flip ? W - 1 - x : x;
      for (let c = 0; c < C; c++) {
        const v = ds.pixels[((id * H + y) * W + sx) * C + c]!;
        out[(y * W + x) * C + c] = (v / 255 - MEAN[c]!) / STD[c]!;
      }
    }
  }
  return out;
}

function assertClose(actual: Float32Array, offset: number, expected: Float64Array, what: string) {
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[offset + i]! - expected[i]!);
    if (d > TOL) assert.fail(`${what}: element ${i} differs by ${d} (> ${TOL})`);
  }
}

async function collect(
  shards: ShardSet,
  split: Split,
  extra: Partial<Parameters<typeof tripletBatches>[1]> = {},
): Promise<TripletBatch[]> {
  const out: TripletBatch[] = [];
  const opts = { split, batchSize: 16, seed: 3, epoch: 1, flip: true, mean: MEAN, std: STD };
  for await (const b of tripletBatches(shards, { ...opts, ...extra })) out.push(b);
  return out;
}

Deno.test("shards round trip: records byte-exact, index valid, tables equal", async () => {
  await withShards(async (dir, ds) => {
    const shards = await openShards(dir, { verify: "full" });
    const index = parseShardIndex(await readFile(join(dir, "index.json"), "utf8"), "index.json");
    assert.deepEqual(index.shape, [H, W, C]);
    assert.equal(index.record_bytes, H * W * C);
    assert.equal(index.shards.length, 7);
    assert.equal(index.shards[6]!.count, 2);
    // Shard files concatenated are exactly the pixels.
    const parts = await Promise.all(index.shards.map((s) => readFile(join(dir, s.file))));
    assert.deepEqual(new Uint8Array(Buffer.concat(parts)), ds.pixels);
    // Random access, repeated and unordered ids.
    const ids = [49, 0, 8, 7, 7, 23, 48, 1];
    const raw = new Uint8Array(ids.length * H * W * C);
    const reader = shards.records(2);
    reader.readInto(ids, raw);
    reader.close();
    ids.forEach((id, k) => {
      const rb = H * W * C;
      assert.deepEqual(
        raw.subarray(k * rb, (k + 1) * rb),
        ds.pixels.subarray(id * rb, (id + 1) * rb),
      );
    });
    assert.deepEqual(shards.triplets, ds.triplets);
    assert.deepEqual(shards.labels, ds.labels);
    assert.deepEqual(shards.notions, ds.notions);
    assert.deepEqual(await shards.names(), ds.names);
  });
});

Deno.test("openShards: checksum mismatch names the shard and both hashes", async () => {
  await withShards(async (dir) => {
    const index = parseShardIndex(await readFile(join(dir, "index.json"), "utf8"), "index.json");
    const shard = index.shards[3]!;
    const bytes = await readFile(join(dir, shard.file));
    bytes[5] = bytes[5]! ^ 1;
    await writeFile(join(dir, shard.file), bytes);
    await openShards(dir, { verify: "size" }); // same size: only a full check sees it
    await assert.rejects(openShards(dir, { verify: "full" }), (e: Error) => {
      assert.match(e.message, /images-00003\.rec/);
      assert.ok(e.message.includes(shard.sha256), "expected hash in message");
      assert.match(e.message, /sha256 is [0-9a-f]{64}/);
      return true;
    });
    await writeFile(join(dir, shard.file), bytes.subarray(1));
    await assert.rejects(
      openShards(dir),
      /Cannot open shard ".*images-00003\.rec": it has \d+ bytes, index\.json says/,
    );
  });
});

Deno.test("openShards: bad index and bad triplets are named", async () => {
  await withShards(async (dir) => {
    const text = await readFile(join(dir, "index.json"), "utf8");
    const bad = JSON.parse(text);
    bad.record_bytes = 10;
    await writeFile(join(dir, "index.json"), JSON.stringify(bad));
    await assert.rejects(openShards(dir), /index\.json": record_bytes = 10, expected shape 5x7x3/);
    delete bad.shape;
    await writeFile(join(dir, "index.json"), JSON.stringify(bad));
    await assert.rejects(openShards(dir), /Cannot read ".*index\.json": .*shape/s);
    await writeFile(join(dir, "index.json"), text);
    await writeFile(join(dir, "triplets/val.i32"), encodeInt32LE(new Int32Array(80).fill(50)));
    await assert.rejects(openShards(dir), /val\.i32": triplet 0 field anchor = 50, .*\[0, 50\)/);
  });
});

Deno.test("tripletBatches: seeded order, every triplet once, conditions filter", async () => {
  await withShards(async (dir, ds) => {
    const shards = await openShards(dir);
    const a = await collect(shards, "train");
    const b = await collect(shards, "train");
    assert.deepEqual(a, b);
    assert.equal(a.length, tripletBatchCount(shards, { split: "train", batchSize: 16 }));
    assert.deepEqual(a.map((x) => x.size), [16, 16, 16, 16, 16, 16, 7]);
    const seen = a.flatMap((x) => [...x.indices]).sort((p, q) => p - q);
    assert.deepEqual(seen, Array.from({ length: 103 }, (_, i) => i));
    const other = await collect(shards, "train", { epoch: 2 });
    assert.notDeepEqual(other.map((x) => [...x.indices]), a.map((x) => [...x.indices]));
    const otherSeed = await collect(shards, "train", { seed: 4 });
    assert.notDeepEqual(otherSeed[0]!.indices, a[0]!.indices);
    // Condition ids come from the table.
    for (const batch of a) {
      batch.indices.forEach((t, i) =>
        assert.equal(batch.condition[i], ds.triplets.train[t * 4 + 3])
      );
    }
    const only1 = await collect(shards, "train", { conditions: [1] });
    const want = [...Array(103).keys()].filter((t) => ds.triplets.train[t * 4 + 3] === 1);
    assert.ok(want.length > 0 && want.length < 103);
    assert.deepEqual(only1.flatMap((x) => [...x.indices]).sort((p, q) => p - q), want);
    assert.ok(only1.every((x) => x.condition.every((c) => c === 1)));
    const dropped = await collect(shards, "train", { dropLast: true });
    assert.equal(dropped.length, 6);
    const unshuffled = await collect(shards, "val", { shuffle: false });
    assert.deepEqual(unshuffled.flatMap((x) => [...x.indices]), [...Array(20).keys()]);
  });
});

Deno.test("tripletBatches: normalisation and flips equal a naive float64 loop", async () => {
  await withShards(async (dir, ds) => {
    const shards = await openShards(dir);
    for (const flip of [false, true]) {
      let flipped = 0;
      for (const batch of await collect(shards, "train", { flip })) {
        const size = H * W * C;
        for (let i = 0; i < batch.size; i++) {
          const t = batch.indices[i]! * 4;
          const bits = flip ? flipBits(3, 1, batch.batchIndex * 16 + i) : 0;
          const roles = [batch.anchor, batch.far, batch.close] as const;
          roles.forEach((arr, r) => {
            const f = ((bits >> r) & 1) === 1;
            if (f) flipped++;
            const expected = naiveImage(ds, ds.triplets.train[t + r]!, f);
            assertClose(arr, i * size, expected, `batch ${batch.batchIndex} item ${i} role ${r}`);
          });
        }
      }
      if (flip) assert.ok(flipped > 103 * 3 * 0.3 && flipped < 103 * 3 * 0.7, `${flipped} flips`);
      else assert.equal(flipped, 0);
    }
  });
});

Deno.test("normaliseImage: 1, 2 and 3 channels, flipped or not, equal a naive loop", () => {
  const rng = new Rng(11);
  for (const c of [1, 2, 3]) {
    const [h, w] = [4, 9];
    const mean = [0.1, 0.5, 0.9].slice(0, c);
    const std = [0.2, 0.7, 0.3].slice(0, c);
    const src = Uint8Array.from({ length: 3 + h * w * c }, () => rng.int(256));
    const lut = normalisationTable(mean, std, c);
    for (const flip of [false, true]) {
      const out = new Float32Array(5 + h * w * c).fill(NaN);
      normaliseImage(src, 3, out, 5, h, w, c, lut, flip);
      assert.ok(out.slice(0, 5).every(Number.isNaN), "writes nothing before outOffset");
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          for (let k = 0; k < c; k++) {
            const v = src[3 + (y * w + (flip ? w - 1 - x : x)) * c + k]!;
            const want = (v / 255 - mean[k]!) / std[k]!;
            const got = out[5 + (y * w + x) * c + k]!;
            assert.ok(Math.abs(got - want) <= TOL, `c=${c} flip=${flip} y=${y} x=${x} k=${k}`);
          }
        }
      }
    }
  }
  assert.throws(() => normalisationTable([0.5], [0], 1), /channel 0: mean 0.5, std 0/);
});

Deno.test("tripletBatches and imageBatches: reused buffers hold the same values", async () => {
  await withShards(async (dir) => {
    const shards = await openShards(dir);
    const fresh = await collect(shards, "train");
    const reused: Float32Array[][] = [];
    for await (
      const b of tripletBatches(shards, {
        split: "train",
        batchSize: 16,
        seed: 3,
        epoch: 1,
        flip: true,
        mean: MEAN,
        std: STD,
        reuseBuffers: true,
      })
    ) reused.push([b.anchor.slice(), b.far.slice(), b.close.slice()]);
    assert.deepEqual(reused, fresh.map((b) => [b.anchor, b.far, b.close]));
    const images: Float32Array[] = [];
    const opts = { batchSize: 12, mean: MEAN, std: STD };
    for await (const b of imageBatches(shards, { ...opts, reuseBuffers: true })) {
      images.push(b.images.slice());
    }
    const plain: Float32Array[] = [];
    for await (const b of imageBatches(shards, opts)) plain.push(b.images);
    assert.deepEqual(images, plain);
  });
});

Deno.test("tripletBatches: resume at batch k equals the tail of the epoch", async () => {
  await withShards(async (dir) => {
    const shards = await openShards(dir);
    const full = await collect(shards, "train");
    for (const k of [0, 3, 6, 7]) {
      assert.deepEqual(await collect(shards, "train", { startBatch: k }), full.slice(k));
    }
  });
});

Deno.test("tripletBatches: at most maxCachedShards shard files open", async () => {
  await withShards(async (dir) => {
    const shards = await openShards(dir);
    const records = shards.records(2);
    let batches = 0;
    for await (
      const _ of tripletBatches(shards, {
        split: "train",
        batchSize: 16,
        seed: 1,
        epoch: 0,
        flip: false,
        mean: MEAN,
        std: STD,
        records,
      })
    ) {
      batches++;
      assert.ok(records.openCount <= 2, `${records.openCount} shards open`);
    }
    assert.equal(batches, 7);
    assert.equal(records.stats.maxOpenSeen, 2);
    assert.ok(records.stats.opened > 7, "shards were evicted and reopened");
    records.close();
    assert.equal(records.openCount, 0);
    assert.throws(() => shards.records(0), /maxCachedShards = 0/);
  });
});

Deno.test("imageBatches: every image once, in order, normalised", async () => {
  await withShards(async (dir, ds) => {
    const shards = await openShards(dir);
    const firsts: number[] = [];
    for await (const batch of imageBatches(shards, { batchSize: 12, mean: MEAN, std: STD })) {
      firsts.push(batch.first);
      for (let i = 0; i < batch.size; i++) {
        assertClose(batch.images, i * H * W * C, naiveImage(ds, batch.first + i, false), "image");
      }
    }
    assert.deepEqual(firsts, [0, 12, 24, 36, 48]);
    await assert.rejects(
      imageBatches(shards, { batchSize: 4, mean: [0.5], std: [0.5] }).next(),
      /Cannot normalise 3 channel\(s\): got mean\[1\], std\[1\], expected one mean and one std per channel/,
    );
  });
});

Deno.test("decoded_io: round trip and errors naming file and field", async () => {
  const dir = await Deno.makeTempDir({ prefix: "csn_decoded_" });
  try {
    const ds = syntheticDataset();
    await writeDecoded(ds, dir);
    assert.deepEqual(await readDecoded(dir), ds);

    const meta = await readFile(join(dir, "dataset.json"), "utf8");
    await writeFile(join(dir, "dataset.json"), meta.replace('"height":5', '"height":"5"'));
    await assert.rejects(readDecoded(dir), /dataset\.json".*height/s);
    await writeFile(join(dir, "dataset.json"), meta.replace('"count":50', '"count":51'));
    await assert.rejects(readDecoded(dir), /field names has 50 entries, expected count = 51/);
    await writeFile(join(dir, "dataset.json"), meta);

    const images = await readFile(join(dir, "images.u8"));
    await writeFile(join(dir, "images.u8"), images.subarray(0, images.length - 1));
    await assert.rejects(
      readDecoded(dir),
      /Cannot read images file ".*images\.u8": it has 5249 bytes, expected .* = 5250/,
    );
    await writeFile(join(dir, "images.u8"), images);

    const bad = ds.triplets.train.slice();
    bad[4 * 10 + 1] = -2;
    await writeFile(join(dir, "triplets/train.i32"), encodeInt32LE(bad));
    await assert.rejects(readDecoded(dir), /train\.i32": triplet 10 field far = -2/);
    bad[4 * 10 + 1] = 0;
    bad[4 * 11 + 3] = 2;
    await writeFile(join(dir, "triplets/train.i32"), encodeInt32LE(bad));
    await assert.rejects(readDecoded(dir), /triplet 11 field condition = 2, .*\[0, 2\)/);
    await writeFile(join(dir, "triplets/train.i32"), encodeInt32LE(bad.subarray(0, 8)));
    await assert.rejects(readDecoded(dir), /train\.i32": holds 8 values, expected 412/);
    await writeFile(join(dir, "triplets/train.i32"), encodeInt32LE(ds.triplets.train));

    await writeFile(join(dir, "labels/colour.i32"), encodeInt32LE(new Int32Array(COUNT).fill(2)));
    await assert.rejects(readDecoded(dir), /colour\.i32": image 0 has label 2, expected -1 or/);

    await assert.rejects(
      writeDecoded({ ...ds, pixels: ds.pixels.subarray(1) }, join(dir, "x")),
      /pixels has 5249 bytes, expected 50 names/,
    );
  } finally {
    await rm(dir, { recursive: true });
  }
});

Deno.test("facts: carried from dataset.json to index.json; older files without them still read", async () => {
  const dir = await Deno.makeTempDir({ prefix: "csn_facts_" });
  try {
    // Written before datasets declared facts: both files read, with facts left undefined.
    const old = syntheticDataset();
    await writeDecoded(old, join(dir, "old"));
    assert.equal((await readDecoded(join(dir, "old"))).facts, undefined);
    const oldIndex = await writeShards(
      memoryRecordSource(old.pixels, H * W * C),
      old,
      join(dir, "o"),
    );
    assert.equal("facts" in oldIndex, false);
    assert.equal((await openShards(join(dir, "o"))).index.facts, undefined);

    const ds = { ...syntheticDataset(), facts: { photos: true } };
    await writeDecoded(ds, join(dir, "new"));
    const decoded = await readDecodedMeta(join(dir, "new"));
    assert.deepEqual(decoded.facts, { photos: true });
    await writeShards(memoryRecordSource(ds.pixels, H * W * C), decoded, join(dir, "n"));
    const text = await readFile(join(dir, "n", "index.json"), "utf8");
    assert.deepEqual(parseShardIndex(text, "index.json").facts, { photos: true });
    const bad = text.replace('"photos": true', '"photos": "yes"');
    assert.notEqual(bad, text);
    assert.throws(() => parseShardIndex(bad, "x/index.json"), /"x\/index\.json".*facts\.photos/s);
  } finally {
    await rm(dir, { recursive: true });
  }
});

Deno.test("writeShards: bad records_per_shard is rejected", async () => {
  const ds = syntheticDataset();
  const dir = await Deno.makeTempDir({ prefix: "csn_shards_" });
  try {
    await assert.rejects(
      writeShards(memoryRecordSource(ds.pixels, H * W * C), ds, dir, { recordsPerShard: 0 }),
      /records_per_shard = 0, expected a positive integer/,
    );
  } finally {
    await rm(dir, { recursive: true });
  }
});

Deno.test("fixedSubset keeps the same seeded triplets every epoch", () => {
  const items = Int32Array.from({ length: 100 }, (_, i) => i);
  const a = fixedSubset(items, 7, 30);
  assert.equal(a.length, 30);
  assert.deepEqual([...a], [...fixedSubset(items, 7, 30)]);
  assert.notDeepEqual([...a], [...fixedSubset(items, 8, 30)]);
  assert.ok(a.every((v, i) => i === 0 || v > a[i - 1]!), "kept in table order");
  assert.equal(fixedSubset(items, 7, 500), items);
  assert.throws(() => fixedSubset(items, 7, 0), RangeError);
});
