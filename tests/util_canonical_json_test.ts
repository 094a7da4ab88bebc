/** shared/util/canonical_json.ts: the JSON that cache keys and artefact ids hash. */
import assert from "node:assert/strict";
import { canonicalJson } from "../shared/util/canonical_json.ts";

Deno.test("canonical JSON sorts keys at every depth and rejects non-finite numbers", () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: "x" } }),
    '{"a":{"c":"x","d":[2,{"y":2,"z":1}]},"b":1}',
  );
  assert.throws(() => canonicalJson({ a: NaN }), RangeError);
});
