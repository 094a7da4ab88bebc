/**
 * probe.json (format "csn-probe/1"), in a probe stage's output beside its map_*.svg files: the
 * off-task probe's score on each feature set (the whole embedding, each masked subspace).
 */
import { z } from "zod";
import { ArtefactId, Count, Fraction, MaskKindName, ModelMode } from "./fields.ts";
import { jsonArtefact } from "./json_artefact.ts";

export const PROBE_FORMAT = "csn-probe/1";

export const ProbeScoreSchema = z.object({
  /** Test rows with a label. */
  test: Count,
  train: Count,
  accuracy: Fraction,
  /** Share of the test rows in their most frequent class. */
  chance: Fraction,
  /** Mean over classes of the per-class accuracy. */
  balanced: Fraction,
});

export const ProbeRecordSchema = z.object({
  format: z.literal(PROBE_FORMAT),
  model: ArtefactId,
  mode: ModelMode,
  masks: MaskKindName,
  /** What the probe predicts, in words. */
  label: z.string(),
  classes: z.array(z.string()).min(2),
  classifier: z.string(),
  rows: z.array(z.object({ features: z.string(), score: ProbeScoreSchema })).min(1),
  /** SVG files beside probe.json. */
  maps: z.array(z.string().regex(/^[^/\\]+\.svg$/)),
});
export type ProbeRecord = z.output<typeof ProbeRecordSchema>;

export const probeRecord = jsonArtefact("probe.json", ProbeRecordSchema);
