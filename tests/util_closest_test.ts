/** shared/util/closest.ts: edit distance and the "did you mean" hint. */
import assert from "node:assert/strict";
import { closest, editDistance } from "../shared/util/closest.ts";

Deno.test("hints: edit distance and the closest known name", () => {
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(closest("epoch", ["epochs", "lr", "margin"]), "epochs");
  assert.equal(closest("zzzzzz", ["epochs", "lr"]), undefined);
});
