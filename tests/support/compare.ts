import assert from "node:assert/strict";

/** max |ours - ref| / max(1, max |ref|): the error measure the numerics tests bound. */
export function maxRelErr(ours: Float32Array, ref: Float32Array): number {
  assert.equal(ours.length, ref.length, "length");
  let err = 0, scale = 1;
  for (let i = 0; i < ref.length; i++) {
    err = Math.max(err, Math.abs(ours[i]! - ref[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return err / scale;
}
