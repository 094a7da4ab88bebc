/**
 * Milliseconds per image when embedding `batch` images in one engine call, in this thread (as
 * query and serve embed uploads), on wasm and native in the same process, medians of several.
 *
 *   deno run -A bench/embed_latency.ts [--backends=wasm,native] [--batches=1,16]
 *     [--preset=small|paper] [--size=N] [--reps=20]
 */
import { parseArgs } from "node:util";
import { Engine } from "../shared/engine/engine.ts";
import { type PresetName, PRESETS } from "../shared/model/choices.ts";
import type { ConcreteBackend } from "../shared/engine/choices.ts";
import { Rng } from "../shared/util/rng.ts";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    backends: { type: "string", default: "wasm,native" },
    batches: { type: "string", default: "1,16" },
    preset: { type: "string", default: "small" },
    size: { type: "string" },
    reps: { type: "string", default: "20" },
    threads: { type: "string" },
  },
});
const preset = PRESETS[values.preset as PresetName];
const size = values.size ? Number(values.size) : preset.inputSize;
const backbone = { ...preset, inputSize: size };
const pixels = size * size * backbone.inChannels;
const rng = new Rng(1);
const reps = Number(values.reps);
const load = () => Deno.loadavg().map((x) => x.toFixed(1)).join(" ");
console.error(
  `embed_latency: ${values.preset} ${size}x${size}x${backbone.inChannels}, load ${load()}`,
);
for (const backend of values.backends.split(",") as ConcreteBackend[]) {
  const engine = await Engine.open({
    workers: 0,
    model: {
      config: { mode: "csn", masks: "fixed", nConditions: 4, backbone, seed: 0 },
      backend,
      threads: values.threads ? Number(values.threads) : undefined,
    },
    log: () => {},
  });
  for (const batch of values.batches.split(",").map(Number)) {
    const images = Float32Array.from({ length: batch * pixels }, () => rng.normal());
    const first = performance.now();
    await engine.embed(images, batch, pixels);
    const firstMs = performance.now() - first;
    const times: number[] = [];
    for (let r = 0; r < reps; r++) {
      const start = performance.now();
      await engine.embed(images, batch, pixels);
      times.push((performance.now() - start) / batch);
    }
    console.log(
      `${backend} batch ${batch}: first call ${firstMs.toFixed(1)} ms, then median ` +
        `${median(times).toFixed(2)} ms/image (min ${Math.min(...times).toFixed(2)}, max ` +
        `${Math.max(...times).toFixed(2)}; ${reps} calls), load ${load()}`,
    );
  }
  engine.close();
}
