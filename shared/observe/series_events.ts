/**
 * The TensorBoard side of a series' metrics log: runs/NAME/tb/<series>/ gets every metrics
 * line as scalars the moment it is logged, each epoch's masks as a heat map image and a
 * histogram, the weights per layer as histograms, the resolved params as text and as an
 * HParams session (started with training, ended by the test line), so every tracker that
 * imports TensorBoard files sees the run live.
 */
import { join } from "node:path";
import { decodeSafetensors } from "../weights/safetensors.ts";
import { EventWriter } from "./event_writer.ts";
import { heatmapPng } from "./heatmap_png.ts";
import type { MetricsRecord } from "../artefacts/metrics_log.ts";
import { recordScalars } from "./tb_scalars.ts";
import { seriesFolder } from "./tfevents.ts";
import { experimentValue, hparamsOf, sessionEndValue, sessionStartValue } from "./tf_hparams.ts";
import {
  type EncodedValue,
  histogramOf,
  histogramValue,
  imageValue,
  scalarValue,
  textValue,
} from "./tf_summary.ts";

export function seriesEventsDir(runDir: string, series: string): string {
  return join(runDir, "tb", seriesFolder(series));
}

const now = () => Date.now() / 1000;

export class SeriesEvents {
  private constructor(readonly writer: EventWriter) {}

  /** A new event file for `series`; `fresh` drops the series' earlier files first. */
  static async open(runDir: string, series: string, fresh: boolean): Promise<SeriesEvents> {
    return new SeriesEvents(await EventWriter.open(seriesEventsDir(runDir, series), { fresh }));
  }

  /** Scalars of a metrics line; epoch lines add mask images; a test line ends the session. */
  async record(line: MetricsRecord): Promise<void> {
    const parsed = Date.parse(line.time) / 1000;
    const wallTime = Number.isFinite(parsed) ? parsed : now();
    const values: EncodedValue[] = recordScalars(line).map((s) => scalarValue(s.tag, s.value));
    if (line.kind === "epoch" && line.masks && line.masks.length > 0) {
      const heat = heatmapPng(line.masks);
      values.push(imageValue("masks/heatmap", heat.png, heat));
      values.push(histogramValue("masks/values", histogramOf(line.masks.flat())));
    }
    await this.writer.write(line.step, wallTime, values);
    if (line.kind === "test") {
      await this.writer.write(line.step, wallTime, [sessionEndValue(wallTime)]);
    }
  }

  /**
   * The resolved params as a text summary and as an HParams session start; the HParams tab
   * then lists `metricTags` (test and validation accuracy, overall and per condition).
   */
  async params(params: Record<string, unknown>, conditionNames: readonly string[] = []) {
    const hparams = hparamsOf(params);
    const metricTags = ["test/accuracy", "val/accuracy", "epoch/loss"].concat(
      conditionNames.map((name) => `test/accuracy/${name}`),
    );
    const text = "    " + JSON.stringify(params, null, 2).replaceAll("\n", "\n    ");
    const t = now();
    await this.writer.write(0, t, [
      textValue("params", text),
      experimentValue(hparams, metricTags, t),
      sessionStartValue(hparams, t),
    ]);
  }

  /** A histogram per floating-point tensor of a safetensors checkpoint (optimiser state aside). */
  async weights(step: number, checkpoint: Uint8Array): Promise<void> {
    const values: EncodedValue[] = [];
    for (const [name, tensor] of decodeSafetensors(checkpoint, "checkpoint").tensors) {
      if (name.startsWith("optimizer.") || tensor.data.length === 0) continue;
      if (tensor.dtype !== "F32" && tensor.dtype !== "F64") continue;
      values.push(histogramValue(`weights/${name}`, histogramOf(tensor.data as Float32Array)));
    }
    await this.writer.write(step, now(), values);
  }

  async histogram(tag: string, step: number, values: ArrayLike<number>): Promise<void> {
    await this.writer.write(step, now(), [histogramValue(tag, histogramOf(values))]);
  }

  async image(
    tag: string,
    step: number,
    png: Uint8Array,
    size: { height: number; width: number; channels: number },
  ): Promise<void> {
    await this.writer.write(step, now(), [imageValue(tag, png, size)]);
  }

  /** A resumed run restarts at `step`: points an interrupted run logged from there are dropped. */
  async restart(step: number): Promise<void> {
    await this.writer.restart(step, now());
  }
}
