/**
 * runs/<name>/record.json: the lock-style record of a named run (per stage: key, the parts of
 * the key, output ids, seconds), and runs/<name>/params.json: the resolved params.
 */
import { join } from "node:path";
import { z } from "zod";
import { readJsonIfExists, writeFileAtomic } from "../util/fs.ts";
import { UsageError } from "../util/usage_error.ts";
import { formatZodError } from "../util/zod_error.ts";
import { type CacheEntry, KeyPartsSchema } from "./cache.ts";
import type { Project } from "./project.ts";

export const StageRecordSchema = z.object({
  uses: z.string(),
  key: z.string(),
  parts: KeyPartsSchema,
  codeFiles: z.record(z.string(), z.string()),
  outputs: z.record(z.string(), z.string()),
  seconds: z.number(),
  metrics: z.record(z.string(), z.unknown()).default({}),
  /** Every resolved param the stage ran (or was found cached) with, volatile ones too. */
  params: z.record(z.string(), z.unknown()).optional(),
  finished: z.string(),
});
export type StageRecord = z.output<typeof StageRecordSchema>;

export const RunRecordSchema = z.object({
  format: z.literal("csn-run/1"),
  pipeline: z.string(),
  run: z.string(),
  stages: z.record(z.string(), StageRecordSchema),
});
export type RunRecord = z.output<typeof RunRecordSchema>;

export function runDir(project: Project, runName: string): string {
  return join(project.runsDir, runName);
}

export async function readRunRecord(
  project: Project,
  runName: string,
): Promise<RunRecord | undefined> {
  const file = join(runDir(project, runName), "record.json");
  const raw = await readJsonIfExists(file);
  if (raw === undefined) return undefined;
  const parsed = RunRecordSchema.safeParse(raw);
  if (!parsed.success) {
    throw new TypeError(`Cannot read run record "${file}": ${formatZodError(parsed.error)}`);
  }
  return parsed.data;
}

/**
 * The record is the one source of truth; params.json is derived from it (per recorded stage,
 * the params its outputs were made with), so a `stage` run cannot leave them disagreeing.
 */
export async function writeRunRecord(project: Project, record: RunRecord): Promise<void> {
  const dir = runDir(project, record.run);
  await writeFileAtomic(join(dir, "record.json"), JSON.stringify(record, null, 2) + "\n");
  await writeFileAtomic(
    join(dir, "params.json"),
    JSON.stringify(paramsOfRecord(record), null, 2) + "\n",
  );
}

/** Per stage: its resolved params (the keyed ones for records written before they were kept). */
export function paramsOfRecord(record: RunRecord): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(record.stages).map((
      [name, stage],
    ) => [name, stage.params ?? stage.parts.params]),
  );
}

export function validRunName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new UsageError(
      `Cannot use run name "${name}": expected letters, digits, ".", "_" and "-"`,
    );
  }
  return name;
}

/** Copies the human-facing files of a stage's outputs into runs/<run>/<stage>/. */
export async function publish(
  project: Project,
  runName: string,
  stageName: string,
  entry: CacheEntry,
) {
  for (const [output, files] of Object.entries(entry.publish)) {
    const id = entry.outputs[output];
    if (!id) {
      throw new TypeError(
        `Cannot publish files of stage "${stageName}": it publishes from unknown output ` +
          `"${output}"`,
      );
    }
    // A remote store copies single files out, so publishing never fetches whole checkpoints.
    const source = project.store.copyOut ? undefined : await project.store.open(id);
    for (const file of files) {
      const target = join(runDir(project, runName), stageName, file);
      await Deno.mkdir(join(target, ".."), { recursive: true });
      await Deno.remove(target).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
      if (source) await Deno.copyFile(join(source, file), target);
      else await project.store.copyOut!(id, file, target);
      await Deno.chmod(target, 0o644);
    }
  }
}
