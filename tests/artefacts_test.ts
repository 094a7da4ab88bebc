/**
 * The files stages hand each other: each format round-trips through its module's write and
 * read (and writes the very bytes the stages wrote before, so artefact ids keep meaning the
 * same thing), a file that does not match is refused naming the file and the field, and the
 * records in tests/fixtures/artefacts/ (copied from a store, some from before budgets
 * existed) still read.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { trainRecord, tripletsSeenBy } from "../shared/artefacts/train_record.ts";
import { validationRecord } from "../shared/artefacts/validation_record.ts";
import { testRecord } from "../shared/artefacts/test_record.ts";
import { probeRecord } from "../shared/artefacts/probe_record.ts";
import {
  appendMetrics,
  type MetricsRecord,
  parseMetricsLines,
} from "../shared/artefacts/metrics_log.ts";
import {
  CarriedHistorySchema,
  checkpointParams,
  conditionNamesOf,
} from "../shared/artefacts/checkpoint_meta.ts";
import type { JsonArtefact } from "../shared/artefacts/json_artefact.ts";
import { rawRecord } from "../shared/artefacts/raw_record.ts";
import { datasetRecord, reportRecord } from "../shared/artefacts/decoded_record.ts";
import { parseShardIndex, shardIndex } from "../shared/artefacts/shard_index.ts";
import {
  archiveSources,
  fontSources,
  generatedSource,
  imageSources,
} from "../shared/artefacts/sources_record.ts";
import type { z } from "zod";

const FIXTURES = new URL("./fixtures/artefacts/", import.meta.url).pathname;

// deno-lint-ignore no-explicit-any
type AnyArtefact = JsonArtefact<any>;

const STORED: [AnyArtefact, string][] = [
  [trainRecord, "train_without_timings.json"],
  [validationRecord, "validation_without_timings.json"],
  [testRecord, "test_csn.json"],
  [testRecord, "test_raw_pixels.json"],
  [probeRecord, "probe.json"],
];

/**
 * The data stages' files, as their writers wrote them before they moved behind jsonArtefact
 * (one-line fetch.json and dataset.json, index.json one space per level). Kept as .txt so that
 * the formatter leaves their bytes alone.
 */
const EXCHANGED: [AnyArtefact, string][] = [
  [rawRecord, "exchanged/fetch.json.txt"],
  [datasetRecord, "exchanged/dataset.json.txt"],
  [reportRecord, "exchanged/report.json.txt"],
  [shardIndex, "exchanged/index.json.txt"],
  [fontSources, "exchanged/sources_fonts.json.txt"],
  [archiveSources, "exchanged/sources_zappos.json.txt"],
  [generatedSource, "exchanged/sources_shapes.json.txt"],
  [imageSources, "exchanged/sources_images.json.txt"],
];

async function fixture(name: string): Promise<string> {
  return await Deno.readTextFile(join(FIXTURES, name));
}

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "csn-artefacts-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Each fixture reads, writes back to its very bytes, and reads back whole. */
async function roundTrip(fixtures: [AnyArtefact, string][]): Promise<void> {
  for (const [artefact, name] of fixtures) {
    const text = await fixture(name);
    const raw = JSON.parse(text);
    await withDir(async (dir) => {
      await artefact.write(dir, raw);
      assert.equal(await Deno.readTextFile(join(dir, artefact.file)), text, name);
      assert.deepEqual(await artefact.read(dir), raw, `${name}: read back whole`);
    });
  }
}

Deno.test("stored records read, and write back to the same bytes", async () => {
  await roundTrip(STORED);
});

Deno.test("the data stages' files read, and write back to the bytes their writers wrote", async () => {
  await roundTrip(EXCHANGED);
  const index = parseShardIndex(await fixture("exchanged/index.json.txt"), "x/index.json");
  assert.deepEqual(index.shape, [2, 2, 1]);
  assert.equal(index.shards.length, 2);
});

Deno.test("records written with timings still read, and are written back without them", async () => {
  const timed: [AnyArtefact, string, string][] = [
    [trainRecord, "train_before_budgets.json", ""],
    [trainRecord, "train_with_budget.json", "train_without_timings.json"],
    [validationRecord, "validation_before_budgets.json", ""],
    [validationRecord, "validation_with_budget.json", "validation_without_timings.json"],
  ];
  for (const [artefact, name, timeless] of timed) {
    await withDir(async (dir) => {
      await artefact.write(dir, await artefact.parse(await fixture(name), name));
      const written = await Deno.readTextFile(join(dir, artefact.file));
      assert.doesNotMatch(written, /seconds|triplets_per_s/, name);
      if (timeless !== "") assert.equal(written, await fixture(timeless), name);
    });
  }
});

Deno.test("records from before budgets still read; triplets seen fall back to whole epochs", async () => {
  const old = trainRecord.parse(await fixture("train_before_budgets.json"), "old/train.json");
  assert.equal(old.budget, undefined);
  assert.equal(old.triplets_by_epoch, undefined);
  assert.equal(tripletsSeenBy(old, 3), 3 * old.triplets_per_epoch);
  const now = trainRecord.parse(await fixture("train_with_budget.json"), "new/train.json");
  assert.equal(now.budget, "triplets:144000");
  const last = now.epochs.at(-1)!;
  assert.equal(tripletsSeenBy(now, last), now.triplets_seen);
  assert.ok(tripletsSeenBy(now, last) < last * now.triplets_per_epoch, "the budget cut it");
  const validation = validationRecord.parse(
    await fixture("validation_before_budgets.json"),
    "old/validation.json",
  );
  assert.equal(validation.budget, undefined);
  assert.equal(validation.curve[0]!.triplets_seen, undefined);
  const raw = testRecord.parse(await fixture("test_raw_pixels.json"), "raw/test.json");
  assert.equal(raw.mode, "raw-pixels");
  const model = testRecord.parse(await fixture("test_csn.json"), "csn/test.json");
  assert.ok(model.mode !== "raw-pixels" && model.condition_names.length === 4);
});

Deno.test("a record made in code round-trips; retrieval without queries is NaN, read as null", async () => {
  const record = {
    format: "csn-test/1" as const,
    split: "test" as const,
    model: "a".repeat(64),
    mode: "csn" as const,
    masks: "learned" as const,
    accuracy: 0.75,
    per_condition: { heel: 0.75 },
    triplets: 4,
    counts: { heel: 4, toe: 0 },
    loss: 0.1,
    images: 9,
    retrieval: {
      heel: {
        queries: 0,
        skipped: 9,
        gallery: 9,
        dims: 2,
        precision_at_1: NaN,
        r_precision: NaN,
        map_at_r: NaN,
        recall_at_k: { "1": NaN },
      },
    },
    condition_names: ["heel", "toe"],
    mask_values: [[1, 0], [0, 1]],
  };
  await withDir(async (dir) => {
    await testRecord.write(dir, record);
    const back = await testRecord.read(dir);
    assert.ok(back.mode !== "raw-pixels");
    assert.equal(back.retrieval.heel!.precision_at_1, null);
    assert.deepEqual(back.mask_values, record.mask_values);
    assert.deepEqual(back.condition_names, ["heel", "toe"]);
  });
});

/** Parses `value` as artefact's file in a fresh folder; the error it throws. */
async function refusal(artefact: AnyArtefact, value: unknown): Promise<Error> {
  let caught: Error | undefined;
  await withDir(async (dir) => {
    await Deno.writeTextFile(join(dir, artefact.file), JSON.stringify(value));
    try {
      await artefact.read(dir);
    } catch (error) {
      caught = error as Error;
    }
  });
  assert.ok(caught, `expected ${artefact.file} to be refused`);
  return caught;
}

Deno.test("a file that does not match is refused, naming the file and the field", async () => {
  const train = JSON.parse(await fixture("train_with_budget.json"));
  const cases: [AnyArtefact, unknown, RegExp][] = [
    [
      trainRecord,
      { ...train, epochs: ["x"] },
      /^Cannot read ".*train\.json": epochs\[0\] expected number, got "x"$/,
    ],
    [
      trainRecord,
      { ...train, format: "csn-train/2" },
      /^Cannot read ".*train\.json": format expected "csn-train\/1", got "csn-train\/2"$/,
    ],
    [
      trainRecord,
      { ...train, series: undefined, steps: -1 },
      /: series expected string, got nothing \(and 1 more\)$/,
    ],
    [
      validationRecord,
      {
        ...JSON.parse(await fixture("validation_with_budget.json")),
        curve: [{ epoch: 1, accuracy: 1.5, loss: 0, triplets: 1, per_condition: {}, counts: {} }],
      },
      /^Cannot read ".*validation\.json": curve\[0\]\.accuracy expected number <= 1, got 1\.5$/,
    ],
    [
      testRecord,
      { ...JSON.parse(await fixture("test_raw_pixels.json")), mode: "nope" },
      /^Cannot read ".*test\.json": mode expected a known kind, got "nope"$/,
    ],
    [
      testRecord,
      { ...JSON.parse(await fixture("test_raw_pixels.json")), mode: "csn" },
      /^Cannot read ".*test\.json": model expected string, got nothing/,
    ],
    [
      probeRecord,
      { ...JSON.parse(await fixture("probe.json")), maps: ["../escape.svg"] },
      /^Cannot read ".*probe\.json": maps\[0\] expected a string matching \/.*\/, got "\.\.\/escape\.svg"$/,
    ],
  ];
  const index = JSON.parse(await fixture("exchanged/index.json.txt"));
  const zappos = JSON.parse(await fixture("exchanged/sources_zappos.json.txt"));
  cases.push(
    [
      rawRecord,
      { format: "csn-raw/2", dataset: "fonts" },
      /^Cannot read ".*fetch\.json": format expected "csn-raw\/1", got "csn-raw\/2"$/,
    ],
    [
      shardIndex,
      { ...index, shape: [2, 2, 2] },
      /^Cannot read ".*index\.json": shape\[2\] /,
    ],
    [
      archiveSources,
      { ...zappos, images: { ...zappos.images, file: "../x.zip" } },
      /^Cannot read ".*sources\.json": images\.file expected a string matching/,
    ],
    [reportRecord, [1, 2], /^Cannot read ".*report\.json": /],
  );
  for (const [artefact, value, pattern] of cases) {
    const error = await refusal(artefact, value);
    assert.ok(error instanceof TypeError, error.message);
    assert.match(error.message, pattern);
  }
});

Deno.test("not JSON, a missing file, and a bad value to write are errors naming the file", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "probe.json"), "{ not json");
    await assert.rejects(
      () => probeRecord.read(dir),
      (e: Error) =>
        e instanceof SyntaxError && /^Cannot parse ".*probe\.json" as JSON/.test(e.message),
    );
    assert.equal(await testRecord.readIfExists(dir), undefined);
    await assert.rejects(
      () => testRecord.read(dir),
      /Cannot read ".*test\.json": the artefact has no test\.json/,
    );
    const probe = JSON.parse(await fixture("probe.json"));
    await assert.rejects(
      () => probeRecord.write(join(dir, "out"), { ...probe, rows: [] }),
      /^TypeError: Cannot write ".*probe\.json": rows expected array >= 1, got an array of 0$/,
    );
  });
});

Deno.test("metrics lines round-trip; a bad line is named by number and field", async () => {
  const text = await fixture("metrics.jsonl");
  const records = parseMetricsLines(text, "metrics.jsonl");
  assert.deepEqual(records.map((r) => r.kind), ["step", "epoch", "val", "test"]);
  await withDir(async (dir) => {
    const path = join(dir, "metrics.jsonl");
    for (const record of records) await appendMetrics(path, record);
    assert.deepEqual(parseMetricsLines(await Deno.readTextFile(path), path), records);
  });
  const line = (r: Partial<MetricsRecord>) =>
    JSON.stringify({ time: "t", kind: "val", epoch: 1, step: 1, ...r });
  // A half-written last line (training still running) is skipped; one inside is an error.
  assert.equal(parseMetricsLines(`${line({})}\n{"time":`, "m.jsonl").length, 1);
  assert.throws(
    () => parseMetricsLines(`{"time":\n${line({})}\n`, "m.jsonl"),
    /^SyntaxError: Cannot parse "m\.jsonl": line 1: /,
  );
  assert.throws(
    () => parseMetricsLines(`${line({})}\n${line({ accuracy: 2 })}\n`, "m.jsonl"),
    /^TypeError: Cannot read "m\.jsonl": line 2: accuracy expected number <= 1, got 2$/,
  );
});

Deno.test("checkpoint params carry the condition names, checked in one place", () => {
  const params = checkpointParams({ lr: 0.1 }, ["heel", "toe"], "zappos");
  const checkpoint = (p: unknown, n = 2) => ({ config: { nConditions: n }, meta: { params: p } });
  assert.deepEqual(conditionNamesOf(checkpoint(JSON.parse(JSON.stringify(params))), "c"), [
    "heel",
    "toe",
  ]);
  assert.equal(params.lr, 0.1);
  assert.throws(
    () => conditionNamesOf(checkpoint(params, 3), "w.safetensors"),
    /^TypeError: Cannot read checkpoint "w\.safetensors": it does not record its condition names: csn\.params\.condition_names has 2, expected one per condition of its model \(3\)$/,
  );
  assert.throws(
    () => conditionNamesOf(checkpoint({ lr: 0.1 }), "w.safetensors"),
    /does not record its condition names: csn\.params\.condition_names expected array, got nothing$/,
  );
  assert.throws(
    () => conditionNamesOf(checkpoint(null), "w.safetensors"),
    /does not record its condition names: csn\.params expected object, got null$/,
  );
  const history: z.input<typeof CarriedHistorySchema> = [
    { epoch: 1, lr: 0.1, loss: 0.2, accuracy: 0.6, per_condition: { heel: 0.6 } },
  ];
  assert.deepEqual(CarriedHistorySchema.parse(history), history);
  assert.equal(CarriedHistorySchema.safeParse([{ ...history[0], epoch: 0 }]).success, false);
});
