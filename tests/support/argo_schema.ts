/**
 * The types Argo Workflows' published JSON schema gives the fields csn's exported Workflow
 * writes, as this test suite's own zod schema (independent of @kubernetes-models, whose
 * validator accepts integers where Argo's schema does not).
 *
 * Source: argoproj/argo-workflows `api/jsonschema/schema.json`, the v3 schema at commit
 * 71dfc797 (templates with `containerSet` and `data`, before `http` and `plugin`), read with
 * the project's search tool. What it says for these fields:
 * - `io.k8s.apimachinery.pkg.util.intstr.IntOrString` is `{"type": "string"}`: so
 *   `retryStrategy.limit` and `retryStrategy.backoff.factor` are strings ("2"), as Argo's own
 *   examples write them (`limit: "10"`); an integer is a schema error.
 * - RetryStrategy: limit IntOrString, retryPolicy string, backoff Backoff {duration string,
 *   factor IntOrString, maxDuration string}.
 * - Template: name string, inputs Inputs {parameters: Parameter[]}, container Container,
 *   dag DAGTemplate {tasks: DAGTask[] (required)}, retryStrategy RetryStrategy.
 * - Parameter: name string (required), value string, default string.
 * - DAGTask: name string (required), template string, dependencies string[], arguments
 *   Arguments {parameters: Parameter[]}, withItems Item[] (Item: any value).
 * - Container: name, image, imagePullPolicy strings; command, args string[]; env EnvVar[]
 *   {name required, value string, valueFrom {secretKeyRef {key required, name string}}};
 *   resources {requests, limits: map of Quantity strings}.
 * Objects are strict here (unknown keys refused) so a field csn starts writing is added to
 * this schema, with its type from Argo's, before the test passes.
 */
import { z } from "zod";

const IntOrString = z.string();
const Quantity = z.string();

const Parameter = z.strictObject({
  name: z.string(),
  value: z.string().optional(),
  default: z.string().optional(),
});

const Arguments = z.strictObject({ parameters: z.array(Parameter).optional() });

const EnvVar = z.strictObject({
  name: z.string(),
  value: z.string().optional(),
  valueFrom: z.strictObject({
    secretKeyRef: z.strictObject({ key: z.string(), name: z.string().optional() }),
  }).optional(),
});

const Container = z.strictObject({
  name: z.string().optional(),
  image: z.string().optional(),
  imagePullPolicy: z.string().optional(),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  env: z.array(EnvVar).optional(),
  resources: z.strictObject({
    requests: z.record(z.string(), Quantity).optional(),
    limits: z.record(z.string(), Quantity).optional(),
  }).optional(),
});

const RetryStrategy = z.strictObject({
  limit: IntOrString.optional(),
  retryPolicy: z.string().optional(),
  backoff: z.strictObject({
    duration: z.string().optional(),
    factor: IntOrString.optional(),
    maxDuration: z.string().optional(),
  }).optional(),
});

const DAGTask = z.strictObject({
  name: z.string(),
  template: z.string().optional(),
  dependencies: z.array(z.string()).optional(),
  arguments: Arguments.optional(),
  withItems: z.array(z.unknown()).optional(),
});

const Template = z.strictObject({
  name: z.string().optional(),
  inputs: z.strictObject({ parameters: z.array(Parameter).optional() }).optional(),
  container: Container.optional(),
  dag: z.strictObject({ tasks: z.array(DAGTask) }).optional(),
  retryStrategy: RetryStrategy.optional(),
});

export const ArgoWorkflowSchema = z.strictObject({
  apiVersion: z.literal("argoproj.io/v1alpha1"),
  kind: z.literal("Workflow"),
  metadata: z.strictObject({
    generateName: z.string().optional(),
    name: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
  }),
  spec: z.strictObject({
    entrypoint: z.string().optional(),
    templates: z.array(Template).optional(),
  }),
});
