/**
 * deno task workflow argo NAME --store s3://bucket/prefix [--image IMG] [--pull-policy P]
 *                             [--name RUN] [--set stage.param=value] [--secret NAME]
 *                             [--retries N]
 * Prints an Argo Workflows `Workflow` (YAML) that runs the pipeline on Kubernetes. The store is
 * required (from --store or CSN_STORE): pods share nothing else.
 */
import { stringify } from "yaml";
import { argoWorkflow, PULL_POLICIES, type PullPolicy } from "../cluster/argo.ts";
import { clusterJobs } from "../cluster/job_plan.ts";
import { loadManifest } from "../pipeline/manifest.ts";
import { openProject } from "../pipeline/project.ts";
import { validRunName } from "../pipeline/run_record.ts";
import { planStages } from "../pipeline/plan.ts";
import { type FlagSpec, main, parseArgs, usage } from "./args.ts";
import { UsageError } from "../util/usage_error.ts";
import { overridesFromSets } from "./overrides.ts";
import { seedsOf } from "../cluster/seeds.ts";

const FLAGS: Record<string, FlagSpec> = {
  store: {
    value: true,
    help: "required: the shared store, s3://bucket/prefix (or set CSN_STORE)",
  },
  image: { value: true, help: "container image built from the Dockerfile (default: csn:latest)" },
  "pull-policy": {
    value: true,
    help: "the image's imagePullPolicy: Always, IfNotPresent (default) or Never",
  },
  name: { value: true, help: "run name (default: the pipeline's name)" },
  set: { value: true, repeat: true, help: "override a param: stage.param=value (repeatable)" },
  secret: { value: true, help: "Kubernetes secret with the AWS keys (default: csn-s3)" },
  retries: { value: true, help: "retries per task (default 2)" },
  help: { value: false, help: "show this help" },
};

if (import.meta.main) {
  await main(async () => {
    const args = parseArgs(Deno.args, FLAGS);
    if (args.flags.help) {
      console.log(
        usage(
          "workflow argo NAME --store s3://bucket/prefix [flags]",
          "Prints an Argo Workflow.",
          FLAGS,
        ),
      );
      return 0;
    }
    const [engine, name, ...more] = args.positional;
    if (engine !== "argo" || !name || more.length) {
      throw new UsageError(
        "Cannot write a workflow: expected `deno task workflow argo NAME`, " +
          "e.g. `workflow argo full`",
      );
    }
    const store = args.flags.store?.[0] || Deno.env.get("CSN_STORE") || "";
    if (store === "") {
      throw new UsageError(
        "Cannot write an Argo workflow: --store s3://bucket/prefix is required (or CSN_STORE): " +
          "Argo tasks share nothing but the store",
      );
    }
    if (!store.startsWith("s3://")) {
      throw new UsageError(
        `Cannot write an Argo workflow: store "${store}" is not shared; Argo tasks need a shared ` +
          "store, --store s3://bucket/prefix or CSN_STORE",
      );
    }
    const pullPolicy = args.flags["pull-policy"]?.[0] ?? "IfNotPresent";
    if (!(PULL_POLICIES as readonly string[]).includes(pullPolicy)) {
      throw new UsageError(
        `Cannot read --pull-policy "${pullPolicy}": expected ${
          PULL_POLICIES.slice(0, -1).join(", ")
        } ` +
          `or ${PULL_POLICIES.at(-1)}`,
      );
    }
    const retries = Number(args.flags.retries?.[0] ?? 2);
    if (!Number.isInteger(retries) || retries < 0) {
      throw new UsageError(
        `Cannot read --retries "${args.flags.retries?.[0]}": expected a whole number >= 0`,
      );
    }
    const project = openProject(undefined, "local");
    const source = await loadManifest(project.root, name);
    const overrides = overridesFromSets(args.flags.set ?? []);
    const plan = await planStages(project, source, overrides);
    const workflow = argoWorkflow(clusterJobs(source, seedsOf(source, plan.manifest)), {
      pipeline: source.name,
      run: validRunName(args.flags.name?.[0] ?? source.name),
      image: args.flags.image?.[0] ?? "csn:latest",
      pullPolicy: pullPolicy as PullPolicy,
      store,
      secret: args.flags.secret?.[0] ?? "csn-s3",
      endpoint: Deno.env.get("AWS_ENDPOINT_URL") || undefined,
      region: Deno.env.get("AWS_REGION") || undefined,
      overrides,
      retries,
    });
    console.log(stringify(workflow.toJSON()));
  });
}
