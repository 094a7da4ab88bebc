/**
 * shared/stage/contract.ts: defineStage knows a stage's input and output names, so `run` reads
 * `ctx.inputs.shards` and writes `ctx.outputs.out` without assertions, and a name the stage
 * did not declare is a type error (checked by `deno check` of this file: @ts-expect-error
 * fails the check when the line is not an error).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { z } from "zod";
import { defineStage, type StageDefinition } from "../shared/stage/contract.ts";

const copy = defineStage({
  name: "copy",
  description: "copies its input's note into its output",
  params: z.object({ suffix: z.string().default("!") }),
  inputs: ["notes"],
  outputs: ["out"],
  async run(ctx) {
    const text = await Deno.readTextFile(join(ctx.inputs.notes.dir, "note.txt"));
    await Deno.writeTextFile(join(ctx.outputs.out, "note.txt"), text + ctx.params.suffix);
    if (ctx.name === "never") {
      // @ts-expect-error: "note" is not a declared input
      console.log(ctx.inputs.note);
      // @ts-expect-error: "results" is not a declared output
      console.log(ctx.outputs.results);
    }
    return { metrics: { chars: text.length } };
  },
});

Deno.test("defineStage: named inputs and outputs, and the runner's view of any stage", async () => {
  const dir = await Deno.makeTempDir({ prefix: "csn-contract-" });
  try {
    await Deno.mkdir(join(dir, "in"));
    await Deno.mkdir(join(dir, "out"));
    await Deno.writeTextFile(join(dir, "in", "note.txt"), "hi");
    // The runner holds every stage as a plain StageDefinition.
    const held: StageDefinition = copy;
    assert.deepEqual(held.inputs, ["notes"]);
    const result = await held.run({
      name: "copy",
      params: copy.params.parse({}),
      inputs: { notes: { id: "a".repeat(64), dir: join(dir, "in") } },
      outputs: { out: join(dir, "out") },
      runDir: dir,
      workDir: dir,
      log: () => {},
    });
    assert.deepEqual(result?.metrics, { chars: 2 });
    assert.equal(await Deno.readTextFile(join(dir, "out", "note.txt")), "hi!");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
