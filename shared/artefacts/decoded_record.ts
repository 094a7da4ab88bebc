/**
 * The JSON files of a preprocess artefact: dataset.json (format "csn-decoded/1": dataset,
 * facts, image shape, count, names, notions, which notions have labels, triplet counts per
 * split; one line of JSON) and report.json (what was skipped or dropped, for people; any
 * object). The binary files beside them are read and checked by data/decoded_io.ts.
 */
import { z } from "zod";
import { DatasetFactsSchema } from "./dataset_facts.ts";
import { jsonArtefact } from "./json_artefact.ts";

export const DECODED_FORMAT = "csn-decoded/1";

export const DatasetJsonSchema = z.object({
  format: z.literal(DECODED_FORMAT),
  dataset: z.string().min(1),
  /** Absent in artefacts written before datasets declared facts. */
  facts: DatasetFactsSchema.optional(),
  height: z.number().int().positive(),
  width: z.number().int().positive(),
  channels: z.union([z.literal(1), z.literal(3)]),
  count: z.number().int().nonnegative(),
  names: z.array(z.string()),
  notions: z.array(z.object({ name: z.string(), values: z.array(z.string()) })),
  /** Notion names that have a labels/<name>.i32 file. */
  labels: z.array(z.string()),
  triplets: z.object({
    train: z.number().int().nonnegative(),
    val: z.number().int().nonnegative(),
    test: z.number().int().nonnegative(),
  }),
});
export type DatasetJson = z.output<typeof DatasetJsonSchema>;

export const datasetRecord = jsonArtefact("dataset.json", DatasetJsonSchema, { indent: 0 });

export const ReportSchema = z.record(z.string(), z.unknown());

export const reportRecord = jsonArtefact("report.json", ReportSchema);
