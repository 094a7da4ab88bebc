/**
 * What live TensorBoard logging costs training, beside what training already does at the same
 * moments: per log interval, appending a step line's event (scalars) vs appending the same
 * line to metrics.jsonl; per epoch, the weight histograms of the paper preset's checkpoint
 * (93 tensors, 2.8 M parameters, Adam moments alongside) plus the masks' heat map and
 * histogram vs writing that checkpoint (atomic write with fsync). Medians of several runs.
 */
import { join } from "node:path";
import { CsnModel } from "../shared/model/csn.ts";
import { PRESETS } from "../shared/model/choices.ts";
import type { SafeTensor } from "../shared/weights/dtype.ts";
import { encodeSafetensors } from "../shared/weights/safetensors.ts";
import { exportState } from "../shared/weights/state_dict.ts";
import { appendMetrics, type MetricsRecord } from "../shared/artefacts/metrics_log.ts";
import { SeriesEvents } from "../shared/observe/series_events.ts";
import { writeFileAtomic } from "../shared/util/fs.ts";
import { median, timeIt } from "./timing.ts";

const STEP_LINES = 200;
const EPOCHS = 5;

export async function tbBench(): Promise<Record<string, unknown>> {
  const dir = await Deno.makeTempDir({ prefix: "tb_bench_" });
  try {
    const model = new CsnModel({
      mode: "csn",
      masks: "learned",
      nConditions: 4,
      backbone: PRESETS.paper,
      seed: 1,
    });
    const state = await exportState(model);
    const tensors = new Map<string, SafeTensor>(state);
    for (const [name, t] of state) {
      if (t.dtype !== "F32") continue;
      tensors.set(`optimizer.${name}.exp_avg`, t);
      tensors.set(`optimizer.${name}.exp_avg_sq`, t);
    }
    const checkpoint = encodeSafetensors(tensors);
    const events = await SeriesEvents.open(dir, "train", true);
    const line = (step: number): MetricsRecord => ({
      time: new Date().toISOString(),
      kind: "step",
      series: "train",
      epoch: 1,
      step,
      loss: 0.3,
      accuracy: 0.7,
      lr: 5e-5,
      embed_norm: 3,
      mask_norm: 12,
      triplets_per_s: 40,
      per_condition: { a: 0.7, b: 0.6, c: 0.8, d: 0.75 },
    });
    const jsonl = join(dir, "metrics.jsonl");
    const eventLine = median(
      await seq(STEP_LINES, (i) => timeIt(() => events.record(line(i + 1)))),
    );
    const jsonLine = median(
      await seq(STEP_LINES, (i) => timeIt(() => appendMetrics(jsonl, line(i + 1)))),
    );
    const masks = Array.from(
      { length: 4 },
      (_, c) => Array.from({ length: 64 }, (_, k) => (c * k) % 7 / 7),
    );
    const epochSummaries = median(
      await seq(EPOCHS, (e) =>
        timeIt(async () => {
          await events.weights(e, checkpoint);
          await events.record({ ...line(e), kind: "epoch", masks });
        })),
    );
    const checkpointWrite = median(
      await seq(EPOCHS, (e) => timeIt(() => writeFileAtomic(join(dir, `ckpt-${e}`), checkpoint))),
    );
    const size = (await Deno.stat(events.writer.file)).size;
    const result = {
      step_event_ms: eventLine * 1000,
      step_jsonl_ms: jsonLine * 1000,
      epoch_summaries_ms: epochSummaries * 1000,
      checkpoint_write_ms: checkpointWrite * 1000,
      checkpoint_mb: checkpoint.length / 2 ** 20,
      event_file_kb: size / 1024,
    };
    return {
      ...result,
      summary: `tb: step event ${result.step_event_ms.toFixed(2)} ms vs metrics.jsonl line ${
        result.step_jsonl_ms.toFixed(2)
      } ms (${(eventLine / jsonLine).toFixed(2)}x); epoch summaries ${
        result.epoch_summaries_ms.toFixed(0)
      } ms vs checkpoint write ${result.checkpoint_write_ms.toFixed(0)} ms (${
        (epochSummaries / checkpointWrite).toFixed(2)
      }x, ${result.checkpoint_mb.toFixed(1)} MB); event file ${
        result.event_file_kb.toFixed(0)
      } KB after ${STEP_LINES} steps and ${EPOCHS} epochs`,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function seq(n: number, f: (i: number) => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await f(i));
  return out;
}

if (import.meta.main) console.log((await tbBench()).summary);
