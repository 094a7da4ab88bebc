/**
 * deno task stage NAME [--pipeline full] [--name RUN] [--PARAM value | --SWITCH] [--set p=v]
 *                      [--input NAME=REF] [--force] [--dry-run] [--json]
 * Runs one stage of a pipeline, its inputs taken from the run's last recorded upstream outputs.
 */
import { loadManifest } from "../pipeline/manifest.ts";
import { paramNames, type ParamValues, parseParamValue, parseSetting } from "../pipeline/params.ts";
import type { Project } from "../pipeline/project.ts";
import { openShards } from "../data/shards/reader.ts";
import { validRunName } from "../pipeline/run_record.ts";
import { planStages, unknownStage } from "../pipeline/plan.ts";
import { runPipeline } from "../pipeline/runner.ts";
import { loadStage } from "../pipeline/stage_loader.ts";
import type { StageDefinition } from "../stage/contract.ts";
import { type FlagSpec, log, main, parseArgs, unknownFlag, usage } from "./args.ts";
import { UsageError } from "../util/usage_error.ts";
import { resolveArtefactRef, resolveCheckpointRef } from "./refs.ts";
import { overridesFromSets } from "./overrides.ts";
import { printReport } from "./report.ts";
import { writeRunViews } from "./after_run.ts";
import { projectWithStore, STORE_FLAG } from "./store_flag.ts";

const FLAGS: Record<string, FlagSpec> = {
  pipeline: { value: true, help: "pipeline the stage belongs to (default: full)" },
  name: { value: true, help: "run whose record supplies inputs (default: the pipeline's name)" },
  set: { value: true, repeat: true, help: "override a param: param=value (repeatable)" },
  input: { value: true, repeat: true, help: "use this input: NAME=<artefact id | runs/RUN>" },
  checkpoint: {
    value: true,
    help: "evaluate this checkpoint: <artefact id | runs/RUN | file.safetensors>",
  },
  with: {
    value: true,
    repeat: true,
    help: "as pipeline --set, for any stage: stage.param=value (upstream keys depend on it)",
  },
  job: {
    value: false,
    help: "run as a cluster job: inputs from the cache, no run record (the submitter writes it)",
  },
  force: { value: false, help: "rerun even when cached" },
  "dry-run": { value: false, help: "say whether it would run, run nothing" },
  store: STORE_FLAG,
  json: { value: false, help: "print one JSON object on stdout" },
  help: { value: false, help: "show this help; with NAME, the stage's params" },
};

/** `--epochs 3`, `--learned`, `--no-learned`: flags named after the stage's params. */
export function paramFlags(definition: StageDefinition, rest: readonly string[]): ParamValues {
  const names = paramNames(definition.params);
  const values: ParamValues = {};
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i]!;
    const body = token.slice(2);
    const eq = body.indexOf("=");
    const flag = eq < 0 ? body : body.slice(0, eq);
    const negated = flag.startsWith("no-") && names.includes(toParam(flag.slice(3)));
    const param = negated ? toParam(flag.slice(3)) : toParam(flag);
    if (!names.includes(param)) {
      throw unknownFlag(flag, [...Object.keys(FLAGS), ...names.map(toFlag)]);
    }
    const isSwitch = isBooleanParam(definition, param);
    const next = rest[i + 1];
    if (eq >= 0) values[param] = parseParamValue(body.slice(eq + 1));
    else if (isSwitch) values[param] = !negated;
    else if (next !== undefined && !next.startsWith("--")) {
      values[param] = parseParamValue(next), i++;
    } else throw new UsageError(`Cannot read flag --${flag}: it needs a value`);
  }
  return values;
}

function isBooleanParam(definition: StageDefinition, param: string): boolean {
  const schema = definition.params.shape[param];
  return Boolean(schema?.safeParse(true).success && !schema.safeParse("text").success);
}

/** The image shape of the shards the stage would read (given, or recorded), if known. */
async function shardShape(
  project: Project,
  runName: string,
  wiring: string | undefined,
  given: string | undefined,
) {
  if (wiring === undefined) return undefined;
  let id = given;
  if (id === undefined) {
    try {
      id = await resolveArtefactRef(project, `runs/${runName}`, wiring);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined; // the run will say so
      throw error;
    }
  }
  const { height, width, channels, notions } = await openShards(await project.store.open(id));
  return { height, width, channels, notions: notions.map((notion) => notion.name) };
}

const toParam = (flag: string) => flag.replaceAll("-", "_");
const toFlag = (param: string) => param.replaceAll("_", "-");

if (import.meta.main) {
  await main(async () => {
    const args = parseArgs(Deno.args, FLAGS, { allowRest: true });
    if (args.positional.length !== 1) {
      if (args.flags.help) {
        console.log(usage("stage NAME [flags]", "Runs one stage of a pipeline.", FLAGS));
        return 0;
      }
      throw new UsageError(
        "Cannot run a stage: expected one stage name, e.g. `deno task stage train --learned`",
      );
    }
    const project = projectWithStore(args.flags);
    const source = await loadManifest(project.root, args.flags.pipeline?.[0] ?? "full");
    const pipelineWide = overridesFromSets(args.flags.with ?? []);
    const { manifest } = await planStages(project, source, pipelineWide);
    const stageName = args.positional[0]!;
    const entry = manifest.stages.find((stage) => stage.name === stageName);
    if (!entry) {
      const names = manifest.stages.map((stage) => stage.name);
      throw unknownStage(`run stage "${stageName}"`, stageName, manifest, names);
    }
    const definition = await loadStage(project.root, entry.uses ?? entry.name);
    if (args.flags.help) {
      const params = paramNames(definition.params).map((name) => `--${toFlag(name)}`);
      console.log(`${definition.name}: ${definition.description}\nparams: ${params.join(" ")}`);
      return 0;
    }
    const overrides: ParamValues = paramFlags(definition, args.rest);
    for (const setting of args.flags.set ?? []) {
      const eq = setting.indexOf("=");
      if (eq < 0) throw new UsageError(`Cannot parse --set "${setting}": expected param=value`);
      // param=value is this stage's; stage.param=value must name it (--with is for others).
      const qualified = setting.slice(0, eq).includes(".") ? setting : `${stageName}.${setting}`;
      const { stage, param, value } = parseSetting(qualified);
      if (stage !== stageName) {
        throw new UsageError(
          `Cannot apply --set "${setting}": it names stage "${stage}", but stage ` +
            `"${stageName}" runs (set other stages' params with --with ${setting})`,
        );
      }
      overrides[param] = value;
    }
    const runName = validRunName(args.flags.name?.[0] ?? manifest.name);
    const inputs: Record<string, string> = {};
    for (const given of args.flags.input ?? []) {
      const eq = given.indexOf("=");
      const input = given.slice(0, eq);
      if (eq < 0 || !definition.inputs.includes(input)) {
        throw new UsageError(
          `Cannot read --input "${given}": expected NAME=REF with NAME one of ${
            definition.inputs.join(", ")
          }`,
        );
      }
      inputs[input] = await resolveArtefactRef(project, given.slice(eq + 1), entry.inputs[input]!);
    }
    if (args.flags.checkpoint) {
      if (!definition.inputs.includes("model")) {
        throw new UsageError(`Cannot use --checkpoint: stage "${stageName}" takes no model input`);
      }
      inputs.model = await resolveCheckpointRef(
        project,
        args.flags.checkpoint[0]!,
        entry.inputs.model!,
        await shardShape(project, runName, entry.inputs.shards, inputs.shards),
      );
    }
    const report = await runPipeline(project, {
      pipeline: manifest.name,
      runName,
      only: [stageName],
      overrides: {
        ...pipelineWide,
        [stageName]: { ...pipelineWide[stageName], ...overrides },
      },
      inputOverrides: { [stageName]: inputs },
      force: args.flags.force ? [stageName] : [],
      dryRun: Boolean(args.flags["dry-run"]),
      job: Boolean(args.flags.job),
      log,
    });
    if (!args.flags["dry-run"] && !args.flags.job) await writeRunViews(project, report.run, log);
    printReport(report, Boolean(args.flags.json));
  });
}
