/** fetch -> ... -> test on real glyphs, end to end through the CLI (small but real). */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cli, cliCommand, runJson, statuses } from "./support/cli.ts";
import { tinyProject } from "./support/tiny_project.ts";
import { decodeEvents } from "./support/tb_proto.ts";
import { readCompleteRecords } from "../shared/observe/tfrecord.ts";
import { decodeEvent } from "../shared/observe/tfevents.ts";
import { removeTree } from "../shared/util/fs.ts";
import { CsnModel } from "../shared/model/csn.ts";
import { encodeCheckpoint } from "../shared/weights/checkpoint.ts";
import { selectBackend } from "../shared/engine/backend.ts";

Deno.test("a short fonts run learns well above chance; reruns are cached; epochs rerun train on", async () => {
  const dir = await tinyProject();
  const report = await runJson(dir, "pipeline", ["tiny"]);
  assert.deepEqual(Object.values(statuses(report)), Array(6).fill("ran"));
  const test = report.stages.at(-1)!.metrics as {
    accuracy: number;
    per_condition: Record<string, number>;
    triplets: number;
    retrieval: Record<string, { precision_at_1: number }>;
  };
  assert.ok(test.accuracy > 0.62, `test accuracy ${test.accuracy} should be well above 0.5`);
  assert.equal(test.triplets, 400);
  assert.deepEqual(Object.keys(test.per_condition).sort(), [
    "character",
    "family",
    "slant",
    "weight",
  ]);
  assert.ok(test.retrieval.character!.precision_at_1 > 1 / 62, "character retrieval beats chance");
  const validation = JSON.parse(
    await Deno.readTextFile(join(dir, "runs/tiny/validate/validation.json")),
  );
  assert.equal(validation.curve.length, 2);
  const lines = (await Deno.readTextFile(join(dir, "runs/tiny/metrics.jsonl"))).trim().split("\n")
    .map((line) => JSON.parse(line));
  assert.deepEqual(lines.filter((l) => l.kind === "epoch").map((l) => l.epoch), [1, 2]);
  assert.equal(lines.filter((l) => l.kind === "val").length, 2);
  assert.equal(lines.filter((l) => l.kind === "test").length, 1);
  // One step axis: the global optimiser step. A validation line sits at its epoch's last step,
  // the test line at the step of the checkpoint it scored (the best epoch's).
  const stepOf = new Map(lines.filter((l) => l.kind === "epoch").map((l) => [l.epoch, l.step]));
  assert.ok(stepOf.get(1)! > 2, "global steps, not epoch numbers");
  for (const val of lines.filter((l) => l.kind === "val")) {
    assert.equal(val.step, stepOf.get(val.epoch), `val line of epoch ${val.epoch}`);
  }
  const testLine = lines.find((l) => l.kind === "test")!;
  assert.equal(testLine.step, stepOf.get(validation.best_epoch), "test at the best epoch's step");
  assert.ok((await Deno.stat(join(dir, "runs/tiny/report.html"))).size > 1000);
  // Live event files: train wrote one, validate and test appended a file each, all decoded
  // by the independent protobufjs reader.
  const tb = join(dir, "runs/tiny/tb/train");
  const files = [...Deno.readDirSync(tb)].map((e) => e.name).sort();
  assert.equal(files.length, 3, `event files ${files}`);
  const tags = new Set(
    files.flatMap((f) =>
      decodeEvents(Deno.readFileSync(join(tb, f))).flatMap((e) =>
        (e.summary?.value ?? []).map((v: { tag: string }) => v.tag)
      )
    ),
  );
  for (const tag of ["train/loss", "epoch/accuracy", "val/accuracy", "test/accuracy", "params"]) {
    assert.ok(tags.has(tag), `tag ${tag} in ${[...tags].slice(0, 20)}`);
  }
  for (
    const tag of [
      "masks/heatmap",
      "masks/values",
      "_hparams_/session_end_info",
      "test/embed_norms",
      "retrieval/character",
    ]
  ) {
    assert.ok(tags.has(tag), `tag ${tag}`);
  }
  assert.ok([...tags].filter((t) => t.startsWith("weights/")).length > 10, "weight histograms");

  const again = await runJson(dir, "pipeline", ["tiny"]);
  assert.deepEqual(Object.values(statuses(again)), Array(6).fill("cached"));
  // Identical trainings give identical ids: timings live in the run record, not in train.json
  // or validation.json, so a forced retrain leaves validate and test cached.
  const retrained = await runJson(dir, "pipeline", ["tiny", "--force", "train"]);
  assert.equal(statuses(retrained).train, "ran");
  assert.deepEqual(retrained.stages[3]!.outputs, report.stages[3]!.outputs);
  assert.equal(statuses(retrained).validate, "cached");
  assert.equal(statuses(retrained).test, "cached");
  const trainMetrics = retrained.stages[3]!.metrics as Record<string, number>;
  assert.ok(trainMetrics.train_seconds! > 0, "the time is in the train stage's metrics");
  assert.ok(trainMetrics.triplets_per_s! > 0);
  const trainJson = await Deno.readTextFile(join(dir, "runs/tiny/train/train.json"));
  assert.doesNotMatch(trainJson, /seconds|triplets_per_s/);
  assert.doesNotMatch(JSON.stringify(validation), /seconds/);

  // validate killed with -9 after its first line, then rerun: each line once, none left over
  // from the killed attempt; a rerun of test likewise.
  const metricsFile = join(dir, "runs/tiny/metrics.jsonl");
  const records = () =>
    Deno.readTextFileSync(metricsFile).trim().split("\n").map((line) => JSON.parse(line));
  const since = new Date().toISOString();
  const killed = cliCommand(dir, "stage", ["validate", "--pipeline", "tiny", "--force"]).spawn();
  const deadline = Date.now() + 60_000;
  while (!records().some((r) => r.kind === "val" && r.time > since) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  killed.kill("SIGKILL");
  assert.equal((await killed.status).signal, "SIGKILL");
  await runJson(dir, "stage", ["validate", "--pipeline", "tiny", "--force"]);
  assert.deepEqual(records().filter((r) => r.kind === "val").map((r) => r.epoch), [1, 2]);
  await runJson(dir, "stage", ["test", "--pipeline", "tiny", "--force"]);
  assert.equal(records().filter((r) => r.kind === "test").length, 1);
  const more = await runJson(dir, "pipeline", ["tiny", "--set", "train.epochs=3"]);
  assert.deepEqual(statuses(more), {
    fetch: "cached",
    preprocess: "cached",
    shard: "cached",
    train: "ran",
    validate: "ran",
    test: "ran",
  });
  assert.match(more.stages[3]!.reason, /params changed \(epochs: 2 -> 3\)/);
  const testOnly = await runJson(dir, "pipeline", ["tiny", "--set", "test.margin=0.3"]);
  assert.equal(testOnly.stages.filter((s) => s.status === "ran").map((s) => s.name).join(), "test");
  await removeTree(dir);
});

Deno.test("train killed with kill -9 mid-epoch resumes to the same weights as an uninterrupted run", async () => {
  const straight = await tinyProject({ train: { epochs: 3 } });
  await runJson(straight, "pipeline", ["tiny", "--until", "train"]);
  const interrupted = await tinyProject({ train: { epochs: 3 } });
  await runJson(interrupted, "pipeline", ["tiny", "--until", "shard"]);
  const child = cliCommand(interrupted, "pipeline", ["tiny", "--until", "train"]).spawn();
  const work = join(interrupted, "data/work");
  const deadline = Date.now() + 120_000;
  let firstEpochDone = false;
  while (!firstEpochDone && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    firstEpochDone = listDeep(work).some((path) => path.endsWith("epoch-001.safetensors"));
  }
  assert.ok(firstEpochDone, "epoch 1 finished");
  child.kill("SIGKILL");
  assert.equal((await child.status).signal, "SIGKILL");
  const resumed = await runJson(interrupted, "pipeline", ["tiny", "--until", "train"]);
  assert.equal(resumed.stages.at(-1)!.status, "ran");
  const straightRun = JSON.parse(
    await Deno.readTextFile(join(straight, "runs/tiny/train/train.json")),
  );
  const resumedRun = JSON.parse(
    await Deno.readTextFile(join(interrupted, "runs/tiny/train/train.json")),
  );
  assert.equal(straightRun.resumed_from_epoch, 0);
  assert.ok(resumedRun.resumed_from_epoch >= 1 && resumedRun.resumed_from_epoch < 3, "it resumed");
  // TensorBoard: the killed run's file stays as it was; the resumed run appends a new file that
  // opens with a restart marker at the resumed step and ends at the same step as a straight run.
  const tbFiles = (dir: string) =>
    [...Deno.readDirSync(join(dir, "runs/tiny/tb/train"))].map((e) => e.name).sort().map((
      name,
    ) => join(dir, "runs/tiny/tb/train", name));
  const [killedFile, resumedFile, ...extra] = tbFiles(interrupted);
  assert.deepEqual(extra, [], "one file per writer");
  const resumedEvents = decodeEvents(Deno.readFileSync(resumedFile!));
  const restart = resumedEvents.find((e) => e.sessionLog);
  assert.equal(restart?.sessionLog.status, 1, "a SessionLog START");
  const steps = (events: ReturnType<typeof decodeEvents>, tag: string) =>
    events.filter((e) => e.summary?.value.some((v: { tag: string }) => v.tag === tag))
      .map((e) => ({ step: e.step as number, wall: e.wallTime as number }));
  const resumedSteps = steps(resumedEvents, "epoch/loss");
  assert.equal(resumedSteps.length, 3 - resumedRun.resumed_from_epoch);
  assert.ok(resumedSteps.every((p) => p.step > restart.step), "steps go on after the restart");
  const straightSteps = steps(decodeEvents(Deno.readFileSync(tbFiles(straight)[0]!)), "epoch/loss");
  assert.equal(resumedSteps.at(-1)!.step, straightSteps.at(-1)!.step);
  assert.equal(restart.step, straightSteps[resumedRun.resumed_from_epoch - 1]!.step);
  const killedBytes = Deno.readFileSync(killedFile!);
  const killedWall = Math.max(
    ...readCompleteRecords(killedBytes, killedFile!).records.map((r) => decodeEvent(r).wallTime),
  );
  assert.ok(resumedSteps[0]!.wall >= killedWall, "wall time moves on");
  const final = (dir: string, report: typeof resumed) =>
    Deno.readFile(
      join(
        dir,
        "data/store/objects",
        report.stages.at(-1)!.outputs.checkpoints!,
        "files",
        "epoch-003.safetensors",
      ),
    );
  const straightReport = await runJson(straight, "status", ["tiny", "--until", "train"]);
  assert.deepEqual(await final(interrupted, resumed), await final(straight, straightReport));
  assert.deepEqual(listDeep(work), [], "the work folder is removed once the outputs commit");
  // The whole history survives the resume, and the log holds each step once.
  const losses = (run: { history: { epoch: number; loss: number }[] }) =>
    run.history.map((h) => [h.epoch, h.loss]);
  assert.deepEqual(losses(resumedRun), losses(straightRun));
  const lines = (await Deno.readTextFile(join(interrupted, "runs/tiny/metrics.jsonl"))).trim()
    .split("\n").map((line) => JSON.parse(line)).filter((l) => l.series === "train");
  const logged: number[] = lines.filter((l) => l.kind === "step").map((l) => l.step);
  assert.deepEqual(logged, [...new Set(logged)].sort((a, b) => a - b), "no step logged twice");
  assert.deepEqual(lines.filter((l) => l.kind === "epoch").map((l) => l.epoch), [1, 2, 3]);
  await killedBeforeCommit(straight, straightRun);
  await removeTree(straight);
  await removeTree(interrupted);
});

Deno.test("evaluation refuses missing checkpoints, other shapes and unknown notions", async () => {
  const dir = await tinyProject();
  await runJson(dir, "pipeline", ["tiny", "--until", "shard"]);
  const missing = await cli(dir, "stage", [
    "test",
    "--pipeline",
    "tiny",
    "--checkpoint",
    "0123456789abcdef",
  ]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /Cannot find artefact "0123456789abcdef": it is not in the store/);
  await selectBackend("cpu", () => {});
  const other = new CsnModel({
    mode: "csn",
    masks: "fixed",
    nConditions: 4,
    backbone: { inChannels: 1, inputSize: 16, width: 4, embedDim: 8 },
    seed: 1,
  });
  const file = join(dir, "other.safetensors");
  await Deno.writeFile(
    file,
    await encodeCheckpoint(other, null, {
      epoch: 1,
      step: 1,
      rng: "{}",
      params: { condition_names: ["character", "family", "weight", "slant"] },
    }),
  );
  other.dispose();
  const shape = await cli(dir, "stage", ["test", "--pipeline", "tiny", "--checkpoint", file]);
  assert.notEqual(shape.code, 0);
  assert.match(
    shape.stderr,
    /Cannot evaluate checkpoint .* it takes 16x16x1 images, the shards hold 32x32x1/,
  );
  assert.ok(shape.stderr.includes(`checkpoint "${file}"`), "names the file given, not a copy");
  // Trained on a notion these shards lack: refused before it enters the store.
  const stored = () => [...Deno.readDirSync(join(dir, "data/store/objects"))].length;
  const before = stored();
  const foreign = new CsnModel({
    mode: "csn",
    masks: "fixed",
    nConditions: 2,
    backbone: { inChannels: 1, inputSize: 32, width: 4, embedDim: 8 },
    seed: 1,
  });
  const foreignFile = join(dir, "foreign.safetensors");
  await Deno.writeFile(
    foreignFile,
    await encodeCheckpoint(foreign, null, {
      epoch: 1,
      step: 1,
      rng: "{}",
      params: { condition_names: ["character", "colour"] },
    }),
  );
  foreign.dispose();
  const unknown = await cli(dir, "stage", [
    "test",
    "--pipeline",
    "tiny",
    "--checkpoint",
    foreignFile,
  ]);
  assert.equal(unknown.code, 1);
  assert.match(
    unknown.stderr,
    /checkpoint ".*foreign\.safetensors" .*notion "colour", which these shards lack \(they have: character, family, weight, slant\)/,
  );
  assert.equal(stored(), before, "nothing stored for a refused checkpoint");
  const notion = await cli(dir, "pipeline", ["tiny", "--set", "train.conditions=colour"]);
  assert.notEqual(notion.code, 0);
  assert.match(
    notion.stderr,
    /train\.conditions names "colour", which dataset "fonts" does not have \(it has: character, family, weight, slant\)/,
  );
  await removeTree(dir);
});

/**
 * A kill between the last epoch checkpoint and the commit leaves the epoch files in the work
 * folder and no cache entry; the rerun trains no epoch, yet train.json keeps the whole history
 * (carried in the checkpoints) and the stage's metrics the throughput (from the epoch lines).
 */
async function killedBeforeCommit(
  dir: string,
  first: { history: { epoch: number; loss: number }[] },
) {
  const record = JSON.parse(await Deno.readTextFile(join(dir, "runs/tiny/record.json")));
  const { key, outputs, metrics } = record.stages.train;
  const work = join(dir, "data/work", key);
  await Deno.mkdir(work, { recursive: true });
  for (const epoch of [1, 2, 3]) {
    const name = `epoch-00${epoch}.safetensors`;
    const stored = join(dir, "data/store/objects", outputs.checkpoints, "files", name);
    await Deno.copyFile(stored, join(work, name));
  }
  await Deno.remove(join(dir, "data/cache", `${key}.json`));
  const again = await runJson(dir, "pipeline", ["tiny", "--until", "train"]);
  assert.equal(again.stages.at(-1)!.status, "ran");
  const resumed = JSON.parse(await Deno.readTextFile(join(dir, "runs/tiny/train/train.json")));
  assert.equal(resumed.resumed_from_epoch, 3);
  const losses = (run: typeof first) => run.history.map((h) => [h.epoch, h.loss]);
  assert.deepEqual(losses(resumed), losses(first));
  // Tolerance: the seconds are recomputed from the logged rates; 1 % covers float rounding.
  const rate = (again.stages.at(-1)!.metrics as { triplets_per_s: number }).triplets_per_s;
  const rel = Math.abs(rate - metrics.triplets_per_s) / metrics.triplets_per_s;
  assert.ok(rel < 0.01, `throughput ${rate} vs ${metrics.triplets_per_s}`);
}

function listDeep(path: string): string[] {
  const found: string[] = [];
  try {
    for (const entry of Deno.readDirSync(path)) {
      const child = join(path, entry.name);
      if (entry.isDirectory) found.push(...listDeep(child));
      else found.push(child);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return found;
}
