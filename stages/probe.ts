/**
 * probe: off-task use of a trained network's frozen features. A nearest-class-mean probe for
 * serif vs sans-serif (a label no triplet uses) is fitted on the training images' embeddings
 * and scored on the test images', on the whole embedding and, for CSN, on each masked
 * subspace; for CSN it also draws a 2-D UMAP map of every masked subspace (test images).
 */
import { join } from "node:path";
import { z } from "zod";
import { defineStage } from "../shared/stage/contract.ts";
import {
  EvalParamsShape,
  evalRuntimeFacts,
  VOLATILE_EVAL_PARAMS,
} from "../shared/eval/eval_params.ts";
import { nearestMeanProbe, type ProbeScore } from "../shared/paper/probe.ts";
import { TYPE_CLASSES, typeLabels } from "../shared/paper/font_categories.ts";
import { modelCheckpoint, openEvaluator } from "../shared/eval/eval_inputs.ts";
import { PROBE_FORMAT, probeRecord } from "../shared/artefacts/probe_record.ts";

export default defineStage({
  name: "probe",
  description: "linear probe of an off-task label (serif vs sans) on frozen embeddings; maps",
  params: z.object({
    ...EvalParamsShape,
    /** Seed of the maps' subsample and UMAP. */
    seed: z.number().int().min(0).default(1),
    /** Test images per map at most (0: no maps). */
    map_points: z.number().int().min(0).default(2000),
  }),
  inputs: ["model", "shards"],
  outputs: ["results"],
  volatileParams: VOLATILE_EVAL_PARAMS,
  runtimeFacts: evalRuntimeFacts,
  async run(ctx) {
    const file = await modelCheckpoint(ctx);
    const { shards, evaluate } = await openEvaluator(ctx);
    const family = shards.notions.find((n) => n.name === "family");
    const familyLabels = shards.labels.family;
    if (!family || !familyLabels) {
      throw new TypeError(
        `Cannot probe serif vs sans: the shards have no "family" labels ` +
          `(notions: ${shards.notions.map((n) => n.name).join(", ")}); the probe needs fonts`,
      );
    }
    const imageType = typeLabels(familyLabels, family.values);
    const train = await evaluate(file, { split: "train", retrieval: false });
    const test = await evaluate(file, { split: "test", retrieval: false });
    if (train.embeddings.length !== 1) {
      throw new TypeError(
        `Cannot probe a ${train.mode} model: it has ${train.embeddings.length} embeddings, ` +
          "the probe takes one (standard or csn)",
      );
    }
    const d = train.embeddings[0]!.length / train.ids.length;
    const sets = [train, test].map((e) => ({
      embeddings: e.embeddings[0]!,
      labels: Int32Array.from(e.ids, (id) => imageType[id]!),
    }));
    const rows: { features: string; score: ProbeScore }[] = [{
      features: "whole embedding",
      score: nearestMeanProbe(sets[0]!, sets[1]!, d, TYPE_CLASSES.length),
    }];
    const csn = train.mode === "csn";
    const names = train.conditionNames;
    if (csn) {
      names.forEach((name, c) => {
        const mask = train.masks.subarray(c * d, (c + 1) * d);
        if (!mask.some((v) => v !== 0)) return;
        rows.push({
          features: `${name} subspace`,
          score: nearestMeanProbe(sets[0]!, sets[1]!, d, TYPE_CLASSES.length, mask),
        });
      });
    }
    for (const row of rows) {
      ctx.log(
        `probe (${row.features}): ${(100 * row.score.accuracy).toFixed(1)}% on ` +
          `${row.score.test} test images (chance ${(100 * row.score.chance).toFixed(1)}%)`,
      );
    }
    const out = ctx.outputs.results;
    const maps: string[] = [];
    if (csn && ctx.params.map_points > 0) {
      const { notionMap } = await import("../shared/eval/map2d.ts");
      const { mapSvg } = await import("../shared/eval/map_svg.ts");
      for (const [c, name] of names.entries()) {
        const notion = shards.notions.find((n) => n.name === name);
        const labels = shards.labels[name];
        if (!notion || !labels) continue;
        const mapLabels = Int32Array.from(test.ids, (id) => labels[id]!);
        const map = notionMap(
          test.embeddings[0]!,
          d,
          test.masks.subarray(c * d, (c + 1) * d),
          mapLabels,
          { seed: ctx.params.seed, points: ctx.params.map_points },
        );
        const title = `${name} subspace (csn, ${test.maskKind} masks), test: ` +
          `${map.indices.length} images`;
        const svg = `map_${name.replace(/[^a-z0-9_-]/gi, "_")}.svg`;
        await Deno.writeTextFile(join(out, svg), mapSvg(map, notion.values, { title }));
        maps.push(svg);
      }
    }
    await probeRecord.write(out, {
      format: PROBE_FORMAT,
      model: ctx.inputs.model.id,
      mode: train.mode,
      masks: train.maskKind,
      label: "serif vs sans-serif (family's Google Fonts category)",
      classes: [...TYPE_CLASSES],
      classifier: "nearest class mean, squared Euclidean",
      rows,
      maps,
    });
    return {
      metrics: { probe_accuracy: rows[0]!.score.accuracy, chance: rows[0]!.score.chance },
      publish: { results: [probeRecord.file, ...maps] },
    };
  },
});
