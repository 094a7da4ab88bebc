import assert from "node:assert/strict";
import { join } from "node:path";
import { crc32c, maskCrc, maskedCrc32c, unmaskCrc } from "../shared/observe/crc32c.ts";
import type { MetricsRecord } from "../shared/artefacts/metrics_log.ts";
import { int64Value, ProtoReader, ProtoWriter } from "../shared/observe/protobuf.ts";
import { frameRecord, readRecords } from "../shared/observe/tfrecord.ts";
import {
  decodeEvent,
  decodeEventFile,
  encodeEvent,
  encodeEventFile,
  FILE_VERSION,
  readTensorboard,
  writeTensorboard,
} from "../shared/observe/tfevents.ts";

/** Bit-at-a-time CRC-32C straight from the definition, the reference for the table version. */
function naiveCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (crc & 1 ? 0x82f63b78 : 0);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function hexBytes(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, "");
  return Uint8Array.from(clean.match(/../g)!.map((h) => parseInt(h, 16)));
}

Deno.test("crc32c matches RFC 3720 B.4 and the 123456789 check value", () => {
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
  assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0)), 0);
});

Deno.test("crc32c equals a bitwise reference on random inputs; masking inverts", () => {
  let seed = 12345;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
  for (let n = 0; n < 200; n += 7) {
    const bytes = Uint8Array.from({ length: n }, next);
    assert.equal(crc32c(bytes), naiveCrc32c(bytes), `length ${n}`);
    const crc = crc32c(bytes);
    const rotated = ((crc >>> 15) | (crc << 17)) >>> 0;
    assert.equal(maskCrc(crc), (rotated + 0xa282ead8) % 2 ** 32);
    assert.equal(unmaskCrc(maskCrc(crc)), crc);
    assert.equal(maskedCrc32c(bytes), maskCrc(crc));
  }
});

Deno.test("protobuf varints round-trip, including 64-bit and negative values", () => {
  const values = [0, 1, 127, 128, 300, 2 ** 31, 2 ** 53 - 1, -1, -300];
  const writer = new ProtoWriter();
  values.forEach((v, i) => writer.int64(i + 1, v));
  const bytes = writer.finish();
  // Known encodings: 300 = ac 02; -1 takes ten bytes.
  assert.deepEqual([...new ProtoWriter().varint(300).finish()], [0xac, 0x02]);
  assert.equal(new ProtoWriter().varint(-1).finish().length, 10);
  const reader = new ProtoReader(bytes, "test message");
  for (let i = 0; i < values.length; i++) {
    const field = reader.next();
    assert.equal(field.field, i + 1);
    assert.equal(field.wireType, 0);
    assert.equal(int64Value(field.value as bigint), values[i]);
  }
  assert.ok(reader.done);
  assert.throws(
    () => new ProtoReader(Uint8Array.of(0x08, 0x80), "cut message").next(),
    /Cannot decode cut message: truncated varint at byte 2/,
  );
});

// Published bytes of an event file: tensorboard_logger's test_serialization (wall time 256.5;
// "v/1" = 1.5 at step 1; "v/22" = 16.0 at step 2), written there by TensorFlow's protobufs.
const PUBLISHED = hexBytes(`
  18000000 00000000 a37f4b22 09000000 00000870 401a0d62 7261696e 2e457665 6e743a32 bc98212b
  19000000 00000000 8bf10828 09000000 00000870 40100 12a0c0a 0a0a0376 2f311500 00c03f2c ecc087
  1a000000 00000000 129bd82d 09000000 00000870 40100 22a0d0a 0b0a0476 2f323215 00008041 8fa3b688`);

Deno.test("event file bytes equal a published TensorBoard event file exactly", () => {
  const bytes = encodeEventFile([
    { wallTime: 256.5, step: 1, summary: [{ tag: "v/1", simpleValue: 1.5 }] },
    { wallTime: 256.5, step: 2, summary: [{ tag: "v/22", simpleValue: 16 }] },
  ], 256.5);
  assert.deepEqual([...bytes], [...PUBLISHED]);
  // The framing of the first record on its own: length 24, CRCs as published.
  const header = encodeEvent({ wallTime: 256.5, step: 0, fileVersion: FILE_VERSION });
  assert.equal(header.length, 24);
  assert.deepEqual([...frameRecord(header)], [...PUBLISHED.subarray(0, 12 + 24 + 4)]);
  const events = decodeEventFile(PUBLISHED, "published");
  assert.deepEqual(events, [
    { wallTime: 256.5, step: 0, fileVersion: "brain.Event:2" },
    { wallTime: 256.5, step: 1, summary: [{ tag: "v/1", simpleValue: 1.5 }] },
    { wallTime: 256.5, step: 2, summary: [{ tag: "v/22", simpleValue: 16 }] },
  ]);
});

Deno.test("a corrupted record is refused with the file, record and byte offset", () => {
  const bytes = PUBLISHED.slice();
  bytes[60] = bytes[60]! ^ 0xff; // inside record 2's data (bytes 52..76)
  assert.throws(
    () => readRecords(bytes, "bad.tfevents"),
    /Cannot read TFRecord file "bad.tfevents": record 2 at byte 40: data CRC is 0x[0-9a-f]{8}, expected/,
  );
  assert.throws(
    () => readRecords(PUBLISHED.subarray(0, 60), "torn.tfevents"),
    /record 2 at byte 40: 25 data bytes announced, file ends first/,
  );
});

Deno.test("decodeEvent skips fields it does not know", () => {
  const bytes = new ProtoWriter().double(1, 3.25).string(4, "graph bytes").int64(2, 7).finish();
  assert.deepEqual(decodeEvent(bytes), { wallTime: 3.25, step: 7 });
});

function record(partial: Partial<MetricsRecord> & Pick<MetricsRecord, "kind" | "step">) {
  return { time: "2025-01-02T03:04:05.000Z", series: "train", epoch: 1, ...partial };
}

Deno.test("writeTensorboard backfills tagged scalars that read back, once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "observe_tb_" });
  try {
    const records: MetricsRecord[] = [
      record({ kind: "step", step: 10, loss: 0.5, accuracy: 0.75, lr: 5e-5, embed_norm: 2 }),
      record({ kind: "step", step: 20, loss: 0.25, per_condition: { heel: 0.8, class: 0.9 } }),
      record({ kind: "epoch", step: 20, loss: 0.3, mask_norm: 1.5, masks: [[1, 0]] }),
      record({ kind: "val", step: 20, accuracy: 0.7, per_condition: { heel: 0.6 } }),
      record({
        kind: "test",
        step: 20,
        accuracy: 0.65,
        extra: { retrieval: { heel: { precision_at_1: 0.5, note: "x" } } },
      }),
    ];
    const now = new Date("2025-01-02T03:05:00Z");
    const files = await writeTensorboard(records, dir, { host: "box", now });
    assert.deepEqual(files, [
      join(dir, "train", `events.out.tfevents.${now.getTime() / 1000}.box`),
    ]);
    // A backfill never touches a folder that already has (live) event files.
    const before = await Deno.readFile(files[0]!);
    assert.deepEqual(await writeTensorboard(records, dir, { host: "box", now: new Date() }), []);
    assert.deepEqual(await Deno.readFile(files[0]!), before);
    assert.deepEqual([...Deno.readDirSync(join(dir, "train"))].map((e) => e.name), [
      `events.out.tfevents.1735787100.box`,
    ]);
    const events = await readTensorboard(files[0]!);
    assert.equal(events[0]!.fileVersion, FILE_VERSION);
    const scalars = events.slice(1).flatMap((e) =>
      e.summary!.map((v) => `${e.step} ${v.tag}=${Math.fround(v.simpleValue)}`)
    );
    const f = Math.fround;
    assert.deepEqual(scalars, [
      `10 train/loss=0.5`,
      `10 train/accuracy=0.75`,
      `10 train/lr=${f(5e-5)}`,
      `10 train/embed_norm=2`,
      `20 train/loss=0.25`,
      `20 train/accuracy/heel=${f(0.8)}`,
      `20 train/accuracy/class=${f(0.9)}`,
      `20 epoch/loss=${f(0.3)}`,
      `20 epoch/mask_norm=1.5`,
      `20 val/accuracy=${f(0.7)}`,
      `20 val/accuracy/heel=${f(0.6)}`,
      `20 test/accuracy=${f(0.65)}`,
      `20 test/retrieval/heel/precision_at_1=0.5`,
    ]);
    assert.equal(events[1]!.wallTime, Date.parse("2025-01-02T03:04:05Z") / 1000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("several series go to one subfolder each", async () => {
  const dir = await Deno.makeTempDir({ prefix: "observe_tb_" });
  try {
    const records: MetricsRecord[] = [
      { ...record({ kind: "step", step: 1, loss: 1 }), series: "class" },
      { ...record({ kind: "step", step: 1, loss: 2 }), series: "../heel" },
    ];
    const files = await writeTensorboard(records, dir, { host: "h", now: new Date(5000) });
    assert.deepEqual(files, [
      join(dir, "class", "events.out.tfevents.5.h"),
      join(dir, ".._heel", "events.out.tfevents.5.h"),
    ]);
    const losses = await Promise.all(
      files.map(async (file) => (await readTensorboard(file))[1]!.summary![0]!.simpleValue),
    );
    assert.deepEqual(losses, [1, 2]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
