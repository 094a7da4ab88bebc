/**
 * Preprocess throughput: images/s of decodeAndResize (read file, sharp decode, shorter side
 * to 112, centre crop) over Zappos-sized (136x102) JPEGs, with 1 and 2 decode workers, beside
 * the PIL reference (bench/preprocess_ref.py) on the same files, and beside the former
 * jpeg-js decoder (same resize, in process) in the same run, so the decoder's share is seen
 * apart from the machine's load.
 *
 *   deno run -A bench/preprocess_bench.ts [--images=600] [--runs=3] [--no-ref]
 *
 * Prints one JSON object on stdout (medians of the runs); progress on stderr. The files were
 * just written, so the page cache is warm: this measures decoding, not the disk.
 */
import jpeg from "jpeg-js";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Rng } from "../shared/util/rng.ts";
import { decodeAll, type DecodeItem } from "../shared/data/decode/mod.ts";
import { median, timeIt } from "./timing.ts";
import { decodeJpeg } from "../shared/data/jpeg_decode.ts";
import { resizeShorterAndCrop } from "../shared/data/resample.ts";

/** The former path: jpeg-js decode and the same resize, one image after another. */
function jpegJsAll(items: readonly DecodeItem[]): Promise<void> {
  for (const item of items) {
    const image = decodeJpeg(Deno.readFileSync(item.path), item.name);
    resizeShorterAndCrop(image.rgb, image.width, image.height, SIZE);
  }
  return Promise.resolve();
}

const SIZE = 112;

/** A catalogue-like shoe photo: white background, a shaded sole-and-upper blob, some texture. */
function shoeJpeg(rng: Rng): Uint8Array {
  const w = 136, h = 102;
  const data = new Uint8Array(w * h * 4).fill(255);
  const [r, g, b] = [rng.int(200), rng.int(200), rng.int(200)];
  const cx = 68 + rng.int(10) - 5, cy = 55, rx = 55 + rng.int(8), ry = 22 + rng.int(10);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const dx = (x - cx) / rx, dy = (y - cy) / ry;
      const heel = x > cx + rx * 0.4 && y < cy && y > cy - ry * 1.6; // the shaft or heel
      if (dx * dx + dy * dy > 1 && !heel) continue;
      const shade = 0.6 + 0.4 * (1 - y / h) + (rng.next() - 0.5) * 0.08;
      const p = (y * w + x) * 4;
      data[p] = Math.min(255, r * shade);
      data[p + 1] = Math.min(255, g * shade);
      data[p + 2] = Math.min(255, b * shade);
    }
  }
  return new Uint8Array(jpeg.encode({ width: w, height: h, data }, 85).data);
}

export async function preprocessBench(
  opts: { images?: number; runs?: number; ref?: boolean } = {},
): Promise<Record<string, unknown>> {
  const count = opts.images ?? 600;
  const runs = opts.runs ?? 3;
  const dir = await Deno.makeTempDir({ prefix: "preprocess-bench-" });
  try {
    const rng = new Rng(1);
    const items: DecodeItem[] = [];
    let bytes = 0;
    for (let i = 0; i < count; i++) {
      const folder = join(dir, "Shoes", "Loafers", `Brand ${i % 20}`);
      await Deno.mkdir(folder, { recursive: true });
      const path = join(folder, `${100000 + i}.${i % 7}.jpg`);
      const jpg = shoeJpeg(rng);
      bytes += jpg.length;
      await Deno.writeFile(path, jpg);
      items.push({ slot: i, path, name: path });
    }
    console.error(
      `preprocess bench: ${count} JPEGs, mean ${(bytes / count / 1024).toFixed(1)} KiB`,
    );
    const rates: Record<string, number> = {};
    for (const workers of [1, 2]) {
      await decodeAll(items.slice(0, 16), { size: SIZE, fit: "crop", workers, log: () => {} }); // warm up (JIT, workers)
      const times = [];
      for (let r = 0; r < runs; r++) {
        times.push(
          await timeIt(() => decodeAll(items, { size: SIZE, fit: "crop", workers, log: () => {} })),
        );
      }
      rates[String(workers)] = count / median(times);
      console.error(`  deno, ${workers} worker(s): ${rates[String(workers)]!.toFixed(0)} images/s`);
    }
    {
      await jpegJsAll(items.slice(0, 16));
      const times = [];
      for (let r = 0; r < runs; r++) times.push(await timeIt(() => jpegJsAll(items)));
      rates["jpeg-js 1"] = count / median(times);
      console.error(`  deno, jpeg-js in process: ${rates["jpeg-js 1"]!.toFixed(0)} images/s`);
    }
    let reference: Record<string, number> | undefined;
    if (opts.ref !== false) {
      const script = new URL("./preprocess_ref.py", import.meta.url).pathname;
      const out = await new Deno.Command("/usr/bin/python3", {
        args: [script, dir, `--size=${SIZE}`, `--runs=${runs}`],
        stderr: "inherit",
      }).output();
      if (!out.success) {
        throw new Error(`Cannot run preprocess_ref.py: it exited ${out.code}, expected 0`);
      }
      reference = JSON.parse(new TextDecoder().decode(out.stdout)).images_per_s;
      console.error(`  PIL reference: ${JSON.stringify(reference)} images/s`);
    }
    const ratio = reference &&
      Object.fromEntries(
        Object.keys(rates).map((k) => [k, rates[k]! / reference![k.replace("jpeg-js ", "")]!]),
      );
    const summary =
      `preprocess ${SIZE}px: deno ${rates["1"]!.toFixed(0)}/${
        rates["2"]!.toFixed(0)
      } images/s (1/2 workers)` +
      (reference
        ? `, PIL ${reference["1"]!.toFixed(0)}/${reference["2"]!.toFixed(0)}, ratio ` +
          `${ratio!["1"]!.toFixed(2)}/${ratio!["2"]!.toFixed(2)} (jpeg-js ` +
          `${ratio!["jpeg-js 1"]!.toFixed(2)} at 1)`
        : "");
    return {
      images: count,
      meanJpegBytes: Math.round(bytes / count),
      runs,
      imagesPerSecond: rates,
      reference,
      ratioToReference: ratio,
      summary,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      images: { type: "string", default: "600" },
      runs: { type: "string", default: "3" },
      "no-ref": { type: "boolean", default: false },
    },
  });
  const result = await preprocessBench({
    images: Number(values.images),
    runs: Number(values.runs),
    ref: !values["no-ref"],
  });
  console.error(result.summary);
  console.log(JSON.stringify(result));
}
