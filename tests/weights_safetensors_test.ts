/** shared/weights/safetensors.ts: byte layout per the format, round trip, corrupt files. */
import assert from "node:assert/strict";
import type { SafeTensor } from "../shared/weights/dtype.ts";
import { decodeSafetensors, encodeSafetensors } from "../shared/weights/safetensors.ts";

Deno.test("safetensors: byte layout per the format, round trip, corrupt files rejected", () => {
  const tensors = new Map<string, SafeTensor>([
    ["b.f32", { dtype: "F32", shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-8, 7]) }],
    ["a.i64", { dtype: "I64", shape: [], data: BigInt64Array.of(-5n) }],
    ["c.u8", { dtype: "U8", shape: [3], data: Uint8Array.of(1, 2, 255) }],
    ["d.empty", { dtype: "F32", shape: [0, 4], data: new Float32Array(0) }],
    ["e.f64", { dtype: "F64", shape: [1], data: Float64Array.of(Math.PI) }],
    ["f.i32", { dtype: "I32", shape: [2], data: Int32Array.of(-1, 2 ** 30) }],
  ]);
  const bytes = encodeSafetensors(tensors, { step: "12" });
  const view = new DataView(bytes.buffer);
  const n = Number(view.getBigUint64(0, true));
  assert.equal((8 + n) % 8, 0, "data starts 8-aligned");
  const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  assert.ok(headerText.startsWith("{") && /^[^]*\} *$/.test(headerText), "JSON, space padded");
  const header = JSON.parse(headerText);
  assert.deepEqual(header.__metadata__, { step: "12" });
  assert.deepEqual(header["b.f32"], { dtype: "F32", shape: [2, 3], data_offsets: [16, 40] });
  assert.deepEqual(header["a.i64"].data_offsets, [0, 8]); // 8-byte dtypes first, then by name
  assert.deepEqual(header["e.f64"].data_offsets, [8, 16]);
  assert.equal(bytes.length, 8 + n + 8 + 8 + 24 + 8 + 3);
  assert.equal(view.getFloat32(8 + n + 16 + 4 * 2, true), 3.5, "little-endian F32 at its offset");
  assert.equal(view.getBigInt64(8 + n, true), -5n);
  const back = decodeSafetensors(bytes);
  assert.deepEqual(back.metadata, { step: "12" });
  for (const [name, t] of tensors) assert.deepEqual(back.tensors.get(name), t, name);

  const corrupt = (edit: (b: Uint8Array) => Uint8Array) => edit(bytes.slice());
  assert.throws(() => decodeSafetensors(bytes.subarray(0, 5), "x.st"), /"x.st".*shorter/);
  assert.throws(
    () => decodeSafetensors(corrupt((b) => b.subarray(0, b.length - 1)), "x.st"),
    /x.st/,
  );
  const bad = corrupt((b) => {
    new DataView(b.buffer).setBigUint64(0, BigInt(b.length), true);
    return b;
  });
  assert.throws(() => decodeSafetensors(bad, "x.st"), /header length/);
  const holey = corrupt((b) => {
    const text = new TextDecoder().decode(b.subarray(8, 8 + n)).replace("[16,40]", "[17,41]");
    b.set(new TextEncoder().encode(text), 8);
    return b;
  });
  assert.throws(() => decodeSafetensors(holey, "x.st"), /without holes|spans|starts at/);
});
