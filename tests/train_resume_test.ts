/** A train stage killed after its last checkpoint but before its commit still reports it all. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runJson } from "./support/cli.ts";
import { tinyProject } from "./support/tiny_project.ts";
import { removeTree } from "../shared/util/fs.ts";

Deno.test("a resume with every epoch done keeps the history and throughput in train.json", async () => {
  const dir = await tinyProject({ train: { epochs: 2 } });
  try {
    await runJson(dir, "pipeline", ["tiny", "--until", "train"]);
    const trainJson = () =>
      Deno.readTextFile(join(dir, "runs/tiny/train/train.json")).then(JSON.parse);
    const first = await trainJson();
    const record = JSON.parse(await Deno.readTextFile(join(dir, "runs/tiny/record.json")));
    const { key, outputs } = record.stages.train;
    // The state a kill between the last checkpoint and the commit leaves: the epoch files in
    // the work folder, no cache entry.
    const work = join(dir, "data/work", key);
    await Deno.mkdir(work, { recursive: true });
    for (const name of ["epoch-001.safetensors", "epoch-002.safetensors"]) {
      await Deno.copyFile(
        join(dir, "data/store/objects", outputs.checkpoints, "files", name),
        join(work, name),
      );
    }
    await Deno.remove(join(dir, "data/cache", `${key}.json`));
    const again = await runJson(dir, "pipeline", ["tiny", "--until", "train"]);
    assert.equal(again.stages.at(-1)!.status, "ran");
    const resumed = await trainJson();
    assert.equal(resumed.resumed_from_epoch, 2);
    assert.deepEqual(
      resumed.history.map((h: { epoch: number; loss: number }) => [h.epoch, h.loss]),
      first.history.map((h: { epoch: number; loss: number }) => [h.epoch, h.loss]),
    );
    assert.ok(resumed.triplets_per_s > 0, `triplets_per_s ${resumed.triplets_per_s}`);
    const rel = Math.abs(resumed.triplets_per_s - first.triplets_per_s) / first.triplets_per_s;
    assert.ok(rel < 0.01, `throughput ${resumed.triplets_per_s} vs ${first.triplets_per_s}`);
    assert.equal(again.stages.at(-1)!.metrics.train_loss, first.history.at(-1).loss);
  } finally {
    await removeTree(dir);
  }
});
