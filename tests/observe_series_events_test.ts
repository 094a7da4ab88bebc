/**
 * Live TensorBoard event files as a training series writes them, decoded by an independent
 * reader (tests/support/tb_proto.ts: protobufjs + a hand-typed schema, bitwise CRC-32C) and
 * PNGs decoded by Skia (@napi-rs/canvas), not by the PNG encoder used to write them.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createCanvas, loadImage } from "@napi-rs/canvas";
import { encodeSafetensors } from "../shared/weights/safetensors.ts";
import { EventWriter } from "../shared/observe/event_writer.ts";
import { seriesEventsDir } from "../shared/observe/series_events.ts";
import { readCompleteRecords, readRecords } from "../shared/observe/tfrecord.ts";
import { histogramOf, scalarValue } from "../shared/observe/tf_summary.ts";
import {
  pngSize,
  retrievalRows,
  retrievalSheet,
  rowNorms,
} from "../shared/observe/test_summaries.ts";
import { MetricsLog } from "../shared/observe/metrics_writer.ts";
import {
  type Decoded,
  decodeEvents,
  decodeHParams,
  EventType,
  frames,
} from "./support/tb_proto.ts";

async function eventFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.name.startsWith("events.out.tfevents.")) names.push(e.name);
  }
  return names.sort().map((n) => join(dir, n));
}

function values(events: Decoded[]): Decoded[] {
  return events.flatMap((e) =>
    (e.summary?.value ?? []).map((v: Decoded) => ({ ...v, step: e.step, wall: e.wallTime }))
  );
}

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "observe_live_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const MASKS = [[0, 0.5, 1, 0.25], [1, 0, 0, 0.75]];

Deno.test("a training series' event file holds scalars, images, histograms, text, hparams", () =>
  withDir(async (run) => {
    const log = await MetricsLog.open(run, "heel/toe", { fresh: true });
    await log.events.params({ lr: 5e-5, mode: "csn", flip: "auto", resume: false, epochs: 2 }, [
      "heel",
    ]);
    await log.append({ kind: "step", epoch: 1, step: 10, loss: 0.5, accuracy: 0.75 });
    await log.append({
      kind: "epoch",
      epoch: 1,
      step: 20,
      loss: 0.25,
      masks: MASKS,
      condition_names: ["heel", "toe"],
    });
    const weights = Float32Array.from({ length: 100 }, (_, i) => i / 10 - 5);
    const checkpoint = encodeSafetensors(
      new Map(
        [
          ["conv1.weight", { dtype: "F32", shape: [100], data: weights }],
          ["bn.num_batches_tracked", { dtype: "I64", shape: [1], data: BigInt64Array.of(3n) }],
          ["optimizer.conv1.weight.exp_avg", { dtype: "F32", shape: [100], data: weights }],
        ] as const,
      ),
    );
    await log.events.weights(20, checkpoint);
    await log.append({
      kind: "test",
      epoch: 0,
      step: 0,
      accuracy: 0.8,
      per_condition: { heel: 0.9 },
    });

    const dir = seriesEventsDir(run, "heel/toe");
    assert.equal(dir, join(run, "tb", "heel_toe"));
    const [file, ...more] = await eventFiles(dir);
    assert.deepEqual(more, []);
    const events = decodeEvents(await Deno.readFile(file!));
    assert.equal(events[0].fileVersion, "brain.Event:2");
    const all = values(events);
    const byTag = new Map<string, Decoded>(all.map((v) => [v.tag, v]));

    // Scalars at their steps and the line's wall time.
    const loss = all.filter((v) => v.tag === "train/loss");
    assert.deepEqual(loss.map((v) => [v.step, v.simpleValue]), [[10, 0.5]]);
    assert.ok(Math.abs(loss[0].wall - Date.now() / 1000) < 60, "wall time is now");
    assert.equal(byTag.get("test/accuracy/heel").simpleValue, Math.fround(0.9));

    // The masks heat map: a PNG of 4 x 2 cells (4 x 16 pixels each), max entry yellow.
    const heat = byTag.get("masks/heatmap");
    assert.equal(heat.step, 20);
    assert.deepEqual([heat.image.width, heat.image.height, heat.image.colorspace], [16, 32, 3]);
    const image = await loadImage(heat.image.encodedImageString);
    assert.deepEqual([image.width, image.height], [16, 32]);
    const ctx = createCanvas(16, 32).getContext("2d");
    ctx.drawImage(image, 0, 0);
    const pixel = (x: number, y: number) => [...ctx.getImageData(x, y, 1, 1).data];
    assert.deepEqual(pixel(9, 3), [253, 231, 37, 255]); // row 0, column 2: value 1 (max)
    assert.deepEqual(pixel(1, 3), [68, 1, 84, 255]); // row 0, column 0: value 0
    assert.deepEqual(pixel(13, 20), [94, 201, 98, 255]); // row 1, column 3: value 0.75

    // Mask values histogram: counts add up to the 8 entries, min/max/sum exact.
    const masks = byTag.get("masks/values").histo;
    assert.deepEqual([masks.min, masks.max, masks.num, masks.sum], [0, 1, 8, 3.5]);
    assert.equal(masks.bucket.reduce((a: number, b: number) => a + b, 0), 8);
    assert.equal(masks.bucketLimit.at(-1), 1);
    assert.equal(masks.sumSquares, MASKS.flat().reduce((s, v) => s + v * v, 0));

    // Weights: one histogram per float tensor, none for optimiser state or integer buffers.
    const histos = all.filter((v) => v.tag.startsWith("weights/")).map((v) => v.tag);
    assert.deepEqual(histos, ["weights/conv1.weight"]);
    const w = byTag.get("weights/conv1.weight").histo;
    assert.deepEqual([w.num, w.min, w.bucket.length], [100, -5, 30]);
    assert.ok(Math.abs(w.max - 4.9) < 1e-6);
    assert.deepEqual(w.bucket.slice(0, 3), [4, 3, 3]); // width 0.33: -5..-4.67 holds 4 values

    // Text: the resolved params as a DT_STRING tensor for the text plugin.
    const text = byTag.get("params");
    assert.equal(text.metadata.pluginData.pluginName, "text");
    assert.equal(text.tensor.dtype, 7);
    assert.match(new TextDecoder().decode(text.tensor.stringVal[0]), /"lr": 0\.00005/);

    // HParams: experiment, session start with typed values, session end after the test line.
    const hp = (tag: string) => {
      const v = byTag.get(tag);
      assert.equal(v.metadata.pluginData.pluginName, "hparams");
      return decodeHParams(v.metadata.pluginData.content);
    };
    const experiment = hp("_hparams_/experiment").experiment;
    assert.deepEqual(
      experiment.hparamInfos.map((h: Decoded) => [h.name, h.type]),
      [["lr", 3], ["mode", 1], ["flip", 1], ["resume", 2], ["epochs", 3]],
    );
    assert.deepEqual(
      experiment.metricInfos.map((m: Decoded) => m.name.tag),
      ["test/accuracy", "val/accuracy", "epoch/loss", "test/accuracy/heel"],
    );
    const start = hp("_hparams_/session_start_info").sessionStartInfo;
    assert.deepEqual(start.hparams.lr, { numberValue: 5e-5, kind: "numberValue" });
    assert.deepEqual(start.hparams.mode, { stringValue: "csn", kind: "stringValue" });
    assert.deepEqual(start.hparams.resume, { boolValue: false, kind: "boolValue" });
    const end = hp("_hparams_/session_end_info").sessionEndInfo;
    assert.equal(end.status, 1);
    const endIndex = all.findIndex((v) => v.tag === "_hparams_/session_end_info");
    assert.ok(endIndex > all.findIndex((v) => v.tag === "test/accuracy"), "end after test");
  }));

Deno.test("a flipped bit is caught by both CRCs' readers", () =>
  withDir(async (run) => {
    const log = await MetricsLog.open(run, "train", { fresh: true });
    await log.append({ kind: "step", epoch: 1, step: 1, loss: 0.5 });
    const [file] = await eventFiles(seriesEventsDir(run, "train"));
    const bytes = await Deno.readFile(file!);
    assert.equal(frames(bytes).length, 2);
    const flipped = bytes.slice();
    flipped[bytes.length - 8] = flipped[bytes.length - 8]! ^ 0x04; // inside the last record's data
    assert.throws(() => frames(flipped), /data CRC mismatch at byte \d+/);
    assert.throws(() => readRecords(flipped, file!), /record 2 at byte \d+: data CRC is 0x/);
    const header = bytes.slice();
    header[0] = header[0]! ^ 1; // the first length
    assert.throws(() => frames(header), /length CRC mismatch at byte 0/);
    assert.throws(() => readRecords(header, "f"), /record 1 at byte 0: length CRC is/);
  }));

/** Reads what a file has grown by since the last call, as a tailing reader does. */
class Tail {
  offset = 0;
  constructor(readonly file: string) {}
  async read(): Promise<Decoded[]> {
    using handle = await Deno.open(this.file);
    await handle.seek(this.offset, Deno.SeekMode.Start);
    const chunks: Uint8Array[] = [];
    const buffer = new Uint8Array(64 * 1024);
    for (let n = await handle.read(buffer); n !== null; n = await handle.read(buffer)) {
      chunks.push(buffer.slice(0, n));
    }
    const bytes = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
    chunks.reduce((at, c) => (bytes.set(c, at), at + c.length), 0);
    const { records, end } = readCompleteRecords(bytes, this.file);
    this.offset += end;
    return records.map((r) => EventType.toObject(EventType.decode(r), { longs: Number }));
  }
}

Deno.test("a tailing reader sees appended points; written bytes never change", () =>
  withDir(async (dir) => {
    const writer = await EventWriter.open(dir, { host: "box" });
    const tail = new Tail(writer.file);
    assert.equal((await tail.read())[0].fileVersion, "brain.Event:2");
    await writer.write(1, 100, [scalarValue("loss", 1)]);
    const first = await Deno.readFile(writer.file);
    const seen1 = await tail.read();
    assert.deepEqual(seen1.map((e) => [e.step, e.summary.value[0].simpleValue]), [[1, 1]]);
    assert.deepEqual(await tail.read(), []);
    // A half-written record (a writer mid-append) is left for later, not an error.
    await writer.write(2, 101, [scalarValue("loss", 0.5)]);
    const grown = await Deno.readFile(writer.file);
    const torn = join(dir, "torn");
    await Deno.writeFile(torn, grown.subarray(0, grown.length - 5));
    const tornTail = new Tail(torn);
    assert.equal((await tornTail.read()).length, 2);
    await Deno.writeFile(torn, grown.subarray(grown.length - 5), { append: true });
    assert.deepEqual((await tornTail.read()).map((e) => e.step), [2]);
    await writer.write(3, 102, [scalarValue("loss", 0.25)]);
    const seen2 = await tail.read();
    assert.deepEqual(seen2.map((e) => [e.step, e.summary.value[0].simpleValue]), [[2, 0.5], [
      3,
      0.25,
    ]]);
    const last = await Deno.readFile(writer.file);
    assert.deepEqual(last.subarray(0, first.length), first, "earlier bytes unchanged");
    assert.equal(tail.offset, last.length);
  }));

Deno.test("resume appends a new file with a restart marker; validate and test add theirs", () =>
  withDir(async (run) => {
    const first = await MetricsLog.open(run, "train", { fresh: true });
    await first.events.params({ lr: 1 });
    for (const step of [5, 10, 15]) {
      await first.append({ kind: "step", epoch: step > 10 ? 2 : 1, step, loss: 1 / step });
    }
    const dir = seriesEventsDir(run, "train");
    const [file1] = await eventFiles(dir);
    const before = await Deno.readFile(file1!);
    // Killed during epoch 2; resumed after epoch 1's checkpoint (step 10).
    const resumed = await MetricsLog.open(run, "train");
    await resumed.events.restart(10);
    await resumed.append({ kind: "step", epoch: 2, step: 15, loss: 0.06 });
    const validate = await MetricsLog.open(run, "train");
    await validate.append({ kind: "val", epoch: 2, step: 2, accuracy: 0.7 });
    const files = await eventFiles(dir);
    assert.equal(files.length, 3, "one file per writer, in name (= creation) order");
    assert.equal(files[0], file1);
    assert.deepEqual(await Deno.readFile(file1!), before, "the first file is not rewritten");
    const second = decodeEvents(await Deno.readFile(files[1]!));
    assert.deepEqual(second[1].sessionLog, { status: 1 });
    assert.equal(second[1].step, 10);
    const replay = values(second);
    assert.deepEqual(replay.map((v) => [v.tag, v.step]), [["train/loss", 15]]);
    const earlier = values(decodeEvents(before)).filter((v) => v.tag === "train/loss");
    assert.ok(replay[0].wall >= earlier.at(-1).wall, "wall time moves on");
    assert.deepEqual(values(decodeEvents(await Deno.readFile(files[2]!))).map((v) => v.tag), [
      "val/accuracy",
    ]);
    // A fresh start of the series drops its old files (and only its own).
    await MetricsLog.open(run, "other", { fresh: true });
    await MetricsLog.open(run, "train", { fresh: true });
    assert.equal((await eventFiles(dir)).length, 1);
    assert.equal((await eventFiles(seriesEventsDir(run, "other"))).length, 1);
  }));

Deno.test("test summaries: neighbours in the masked subspace share the notion's value", async () => {
  // 12 images, 2 dims: dim 0 separates "colour" (3 values), dim 1 is noise that would mix
  // them; the colour mask keeps dim 0 only.
  const ids = Int32Array.from({ length: 12 }, (_, i) => i + 100);
  const colour = Int32Array.from({ length: 112 }, (_, i) => (i < 100 ? -1 : (i - 100) % 3));
  const emb = new Float32Array(24);
  for (let i = 0; i < 12; i++) {
    emb[2 * i] = 10 * (i % 3) + i * 0.01;
    emb[2 * i + 1] = (i * 7) % 5;
  }
  const test = { ids, embeddings: [emb], masks: Float32Array.of(1, 0), conditionNames: ["colour"] };
  const shards = {
    labels: { colour },
    notions: [{ name: "colour", values: ["red", "green", "blue"] }],
  };
  const rows = retrievalRows(shards, test, 0)!;
  assert.equal(rows.ids.length, 4 * 8);
  for (let q = 0; q < 4; q++) {
    const row = [...rows.ids.subarray(q * 8, q * 8 + 8)];
    const values = row.map((id) => colour[id]);
    // Each query has 3 same-colour images, so ranks 1-3 share its value, the rest do not.
    assert.deepEqual(values.slice(1, 4), [values[0], values[0], values[0]], `row ${q}: ${row}`);
    assert.ok(values.slice(4).every((v) => v !== values[0]), `row ${q}: ${values}`);
    assert.match(rows.captions[q * 8]!, /^q (red|green|blue)$/);
  }
  assert.equal(retrievalRows({ labels: {}, notions: [] }, test, 0), undefined);
  const png = retrievalSheet({ height: 8, width: 8, channels: 1 }, rows, new Uint8Array(32 * 64));
  const image = await loadImage(png);
  assert.deepEqual(pngSize(png), { width: image.width, height: image.height, channels: 1 });
  assert.ok(image.width > 8 * 8 * 16, `8 columns of 128 px cells, got ${image.width}`);
  const norms = rowNorms(Float32Array.of(3, 4, 0, 0, 1, 0), 2);
  assert.deepEqual([...norms], [5, 0, 1]);
});

Deno.test("histogramOf counts like a naive loop over bucket ranges; sums exact to 1e-9", () => {
  let seed = 9;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const values = Float32Array.from({ length: 5000 }, () => (next() - 0.3) * 7);
  const h = histogramOf(values, 17);
  const min = Math.min(...values);
  const max = Math.max(...values);
  const width = (max - min) / 17;
  const naive = Array.from(
    { length: 17 },
    (_, i) =>
      values.filter((v) =>
        v >= min + i * width && (i === 16 ? v <= max : v < min + (i + 1) * width)
      )
        .length,
  );
  assert.deepEqual(h.bucket, naive);
  assert.deepEqual([h.min, h.max, h.num], [min, max, 5000]);
  assert.equal(h.bucketLimit.length, 17);
  assert.equal(h.bucketLimit.at(-1), max);
  const sum = values.reduce((s, v) => s + v, 0);
  assert.ok(Math.abs(h.sum - sum) < 1e-9 * Math.abs(sum) + 1e-9);
  assert.deepEqual(histogramOf([2, 2, 2]).bucket, [3], "equal values: one bucket");
  assert.throws(() => histogramOf([1, NaN]), /Cannot make a histogram: value 1 is NaN/);
  assert.throws(() => histogramOf([]), /Cannot make a histogram: there are no values/);
});
