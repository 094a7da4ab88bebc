/** Pipeline manifests (pipelines/<name>.json): which stages run, wired how, with which params. */
import { z } from "zod";
import { join } from "node:path";
import { formatZodError } from "../util/zod_error.ts";
import { UsageError } from "../util/usage_error.ts";

const stageName = z.string().regex(/^[a-z][a-z0-9_-]*$/, "lowercase name: a-z, 0-9, _ or -");

/** "<stage>.<output>" */
const outputRef = z.string().regex(/^[a-z][a-z0-9_-]*\.[a-z][a-z0-9_]*$/, '"<stage>.<output>"');

/** "<stage>.<param>" */
const paramRef = z.string().regex(/^[a-z][a-z0-9_-]*\.[a-z][a-z0-9_]*$/, '"<stage>.<param>"');

export const StageEntrySchema = z.strictObject({
  name: stageName,
  /** The stage module (stages/<uses>.ts); defaults to `name`. */
  uses: stageName.optional(),
  inputs: z.record(z.string(), outputRef).default({}),
  params: z.record(z.string(), z.unknown()).default({}),
  /** Run once per seed (see the manifest's seeds_from): name-s1, name-s2, ... */
  per_seed: z.boolean().default(false),
  /** What a cluster job of this stage asks for (SLURM, Argo); not part of the cache key. */
  resources: z.strictObject({
    cpus: z.number().int().min(1).max(1024).optional(),
    memory_gb: z.number().positive().max(65536).optional(),
    gpus: z.number().int().min(0).max(64).optional(),
  }).optional(),
  /**
   * Params taken from another stage's resolved params: { "budget": "paper.budget" } gives
   * this stage that stage's value (after the command line), so one setting reaches several
   * stages; this stage's own --set still wins.
   */
  params_from: z.record(z.string(), paramRef).default({}),
});

export const ManifestSchema = z.strictObject({
  name: stageName,
  description: z.string().default(""),
  /** "<stage>.<param>": the integer param that says how many seeds per_seed stages run. */
  seeds_from: paramRef.optional(),
  stages: z.array(StageEntrySchema).min(1),
});

export type StageEntry = z.output<typeof StageEntrySchema>;
export type Manifest = z.output<typeof ManifestSchema>;

export function parseManifest(raw: unknown, file: string): Manifest {
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new TypeError(`Cannot read pipeline manifest "${file}": ${formatZodError(parsed.error)}`);
  }
  const manifest = parsed.data;
  const seen = new Set<string>();
  manifest.stages.forEach((stage, index) => {
    if (seen.has(stage.name)) {
      throw new TypeError(
        `Cannot read pipeline manifest "${file}": stages.${index}.name "${stage.name}" is used ` +
          "twice",
      );
    }
    if (stage.per_seed && manifest.seeds_from === undefined) {
      throw new TypeError(
        `Cannot read pipeline manifest "${file}": stages.${index} ("${stage.name}") has per_seed ` +
          `true, but the manifest has no seeds_from ("<stage>.<param>") saying how many seeds`,
      );
    }
    for (const [input, ref] of Object.entries(stage.inputs)) {
      const upstream = ref.split(".")[0]!;
      if (!seen.has(upstream)) {
        throw new TypeError(
          `Cannot read pipeline manifest "${file}": stages.${index}.inputs.${input} refers to ` +
            `"${ref}", but no earlier stage is named "${upstream}"`,
        );
      }
    }
    seen.add(stage.name);
  });
  return manifest;
}

/** A pipeline name is a file name in pipelines/: no separators, so none can point elsewhere. */
const PIPELINE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

export async function loadManifest(root: string, name: string): Promise<Manifest> {
  if (!PIPELINE_NAME.test(name)) {
    throw new UsageError(
      `Cannot load pipeline "${name}": expected a manifest name under pipelines/ ` +
        `(letters, digits, "_" and "-"; known: ${(await listManifests(root)).join(", ")})`,
    );
  }
  const file = join(root, "pipelines", `${name}.json`);
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      const known = await listManifests(root);
      throw new UsageError(
        `Cannot load pipeline "${name}": ${file} does not exist (known: ${
          known.join(", ") || "none"
        })`,
      );
    }
    throw error;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new SyntaxError(`Cannot parse pipeline manifest "${file}": ${(error as Error).message}`);
  }
  return parseManifest(raw, file);
}

export async function listManifests(root: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(join(root, "pipelines"))) {
      if (entry.isFile && entry.name.endsWith(".json")) names.push(entry.name.slice(0, -5));
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return names.sort();
}
