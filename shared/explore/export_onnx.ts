/**
 * `deno task export --run NAME --onnx FILE`: the run's model (the same checkpoint query and
 * export use, see run_model.ts) as one ONNX file, the embedding network with its masks
 * (shared/weights/onnx_csn.ts), for onnxruntime and other runtimes. Nothing is embedded, so
 * no engine opens; the file is written atomically (a failed export leaves none).
 */
import { basename } from "node:path";
import type { Project } from "../pipeline/project.ts";
import { decodeCheckpoint } from "../weights/checkpoint.ts";
import { csnOnnxSignature, encodeCsnOnnx, OPSET } from "../weights/onnx_csn.ts";
import type { ValueInfo } from "../weights/onnx_graph.ts";
import { conditionNamesOf } from "../artefacts/checkpoint_meta.ts";
import { normalisationOf } from "../data/shards/normalise.ts";
import { writeFileAtomic } from "../util/fs.ts";
import { describeModel, type ModelSource, resolveRunModel } from "./run_model.ts";

export interface OnnxExportResult {
  readonly run: string;
  readonly file: string;
  readonly bytes: number;
  readonly opset: number;
  readonly checkpoint: { readonly id: string; readonly source: ModelSource };
  readonly mode: string;
  readonly masks: string;
  readonly notions: string[];
  readonly input: ValueInfo;
  readonly outputs: readonly ValueInfo[];
  readonly normalisation: { readonly mean: number[]; readonly std: number[] };
}

export async function runOnnxExport(
  project: Project,
  options: { readonly run: string; readonly file: string; readonly log: (m: string) => void },
): Promise<OnnxExportResult> {
  const runModel = await resolveRunModel(project, options.run);
  const { checkpoint } = runModel;
  const source = `${checkpoint.id.slice(0, 12)}/${basename(checkpoint.file)}`;
  const decoded = decodeCheckpoint(await Deno.readFile(checkpoint.file), checkpoint.file);
  const notions = conditionNamesOf(decoded, checkpoint.file);
  const { config } = decoded;
  const normalisation = normalisationOf(config.backbone.inChannels);
  const bytes = encodeCsnOnnx({
    config,
    weights: decoded.weights,
    conditionNames: notions,
    normalisation,
    source: `run "${runModel.run}" (${checkpoint.source} ${source})`,
    metadata: {
      "csn.run": runModel.run,
      "csn.checkpoint": checkpoint.id,
      "csn.checkpoint_source": checkpoint.source,
      "csn.epoch": String(decoded.meta.epoch),
    },
  });
  await writeFileAtomic(options.file, bytes);
  const signature = csnOnnxSignature(config);
  const result: OnnxExportResult = {
    run: runModel.run,
    file: options.file,
    bytes: bytes.length,
    opset: OPSET,
    checkpoint: { id: checkpoint.id, source: checkpoint.source },
    mode: config.mode,
    masks: config.mode === "csn" ? config.masks : "none",
    notions,
    ...signature,
    normalisation,
  };
  options.log(
    `export: ${options.file} (${(bytes.length / 1e6).toFixed(2)} MB, opset ${OPSET}) from ` +
      `${describeModel(runModel)}: input ${result.input.name} [${result.input.shape}], outputs ` +
      result.outputs.map((o) => `${o.name} [${o.shape}]`).join(", ") +
      `; notions ${notions.join(", ")}`,
  );
  return result;
}
