/** shared/pipeline/params.ts: parsing `--set stage.param=value`. */
import assert from "node:assert/strict";
import { parseSetting } from "../shared/pipeline/params.ts";

Deno.test("--set parsing: stage, param and a JSON or string value; a bare name is rejected", () => {
  assert.deepEqual(parseSetting("train.epochs=3"), { stage: "train", param: "epochs", value: 3 });
  assert.deepEqual(parseSetting("fetch.mirror=/x y"), {
    stage: "fetch",
    param: "mirror",
    value: "/x y",
  });
  assert.deepEqual(parseSetting("train.conditions=[0,2]"), {
    stage: "train",
    param: "conditions",
    value: [0, 2],
  });
  assert.throws(() => parseSetting("epochs=3"), /expected stage\.param=value/);
});
