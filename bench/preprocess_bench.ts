/**
 * Preprocess throughput and memory: the decode path of the preprocess stage (decodeToFile:
 * read, sharp decode with shrink-on-load, EXIF, flatten, sRGB, resize, centre crop to 112,
 * positional writes into the pixel file, Deno workers) over a generated set of mixed sizes
 * and formats (bench/preprocess_images.ts), beside PIL (bench/preprocess_ref.py: Pillow's
 * open + convert + BILINEAR resize + crop, as torchvision's transforms do) on the same
 * files in the same run, alternating run by run.
 *
 *   deno task bench preprocess                     (50,000 images, 3 runs)
 *   deno run -A bench/preprocess_bench.ts [--images=50000] [--runs=3] [--workers=2]
 *       [--cache=data/bench/preprocess] [--no-ref] [--per-kind=200]
 *
 * Each side runs as its own process under /usr/bin/time, so its figures are its own: wall
 * images/s, images per CPU-second (user + system over every thread and child: the per-core
 * figure, and the one least bent by other load on a shared machine) and peak RSS. Prints one
 * JSON object on stdout (medians), progress on stderr. The set is generated once into the
 * cache folder and read back warm from the page cache: this measures decoding, not a disk.
 */
import { join, resolve } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import sharp from "sharp";
import { decodeImage } from "../shared/data/decode/mod.ts";
import { benchImages } from "./preprocess_images.ts";
import { median } from "./timing.ts";

const SIZE = 112;

interface Measured {
  readonly wallSeconds: number;
  readonly cpuSeconds: number;
  readonly peakRssBytes: number;
}

/** Runs `cmd args` under /usr/bin/time; its stdout, wall, user + sys and max RSS. */
async function timed(cmd: string, args: string[]): Promise<Measured & { stdout: string }> {
  const started = performance.now();
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "TIME %U %S %M", cmd, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const wallSeconds = (performance.now() - started) / 1000;
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) {
    throw new Error(`Cannot run ${cmd} ${args.join(" ")}: it exited ${out.code}: ${stderr}`);
  }
  const m = /TIME ([\d.]+) ([\d.]+) (\d+)/.exec(stderr);
  if (m === null) throw new Error(`Cannot read /usr/bin/time's figures from: ${stderr}`);
  return {
    stdout: new TextDecoder().decode(out.stdout),
    wallSeconds,
    cpuSeconds: Number(m[1]) + Number(m[2]),
    peakRssBytes: Number(m[3]) * 1024,
  };
}

/** Median figures of one side: wall images/s, images per CPU-second, peak RSS (MiB). */
function summarise(images: number, runs: Measured[]) {
  return {
    wallImagesPerSecond: median(runs.map((r) => images / r.wallSeconds)),
    imagesPerCpuSecond: median(runs.map((r) => images / r.cpuSeconds)),
    peakRssMiB: Math.max(...runs.map((r) => r.peakRssBytes)) / 2 ** 20,
    runs: runs.map((r) => ({
      wall: +r.wallSeconds.toFixed(2),
      cpu: +r.cpuSeconds.toFixed(2),
      rssMiB: +(r.peakRssBytes / 2 ** 20).toFixed(0),
    })),
  };
}

/** CPU ms per image of each kind of file, in this process (deno) and in Python (PIL). */
async function perKind(dir: string, files: readonly string[], sample: number, ref: boolean) {
  // Grouped by extension, pixel size, colour space, alpha and orientation (sharp's header).
  const kinds: Record<string, string[]> = {};
  for (const file of files) {
    const meta = await sharp(await Deno.readFile(join(dir, file))).metadata();
    const kind = `${file.split(".").pop()} ${meta.width}x${meta.height} ${meta.space}` +
      (meta.hasAlpha ? "+alpha" : "") + (meta.orientation ? ` exif${meta.orientation}` : "");
    const list = kinds[kind] ??= [];
    if (list.length < sample) list.push(join(dir, file));
  }
  const deno: Record<string, number> = {};
  for (const [kind, paths] of Object.entries(kinds)) {
    const bytes = await Promise.all(paths.map((p) => Deno.readFile(p)));
    await decodeImage(bytes[0]!, { size: SIZE, fit: "crop" }, "warm-up");
    const before = process.cpuUsage();
    for (const b of bytes) await decodeImage(b, { size: SIZE, fit: "crop" }, "x");
    const used = process.cpuUsage(before);
    deno[kind] = (used.user + used.system) / 1000 / bytes.length;
  }
  let pil: Record<string, number> | undefined;
  if (ref) {
    const list = await Deno.makeTempFile({ suffix: ".json" });
    try {
      await Deno.writeTextFile(list, JSON.stringify(kinds));
      const script = new URL("./preprocess_ref.py", import.meta.url).pathname;
      const out = await timed("/usr/bin/python3", [script, "--per-kind", list, `--size=${SIZE}`]);
      pil = JSON.parse(out.stdout).cpu_ms_per_image;
    } finally {
      await Deno.remove(list);
    }
  }
  return Object.fromEntries(
    Object.keys(kinds).sort().map((kind) => [kind, {
      files: kinds[kind]!.length,
      denoCpuMs: +deno[kind]!.toFixed(3),
      ...(pil
        ? { pilCpuMs: +pil[kind]!.toFixed(3), ratio: +(pil[kind]! / deno[kind]!).toFixed(2) }
        : {}),
    }]),
  );
}

export async function preprocessBench(
  opts: {
    images?: number;
    runs?: number;
    workers?: number;
    cache?: string;
    ref?: boolean;
    perKind?: number;
  } = {},
): Promise<Record<string, unknown>> {
  const count = opts.images ?? 50_000;
  const runs = opts.runs ?? 3;
  const workers = opts.workers ?? navigator.hardwareConcurrency;
  const ref = opts.ref !== false;
  const log = (m: string) => console.error(m);
  const set = await benchImages(resolve(opts.cache ?? "data/bench/preprocess"), count, log);
  log(
    `preprocess bench: ${count} images (${JSON.stringify(set.kinds)}), mean ` +
      `${(set.bytes / count / 1024).toFixed(1)} KiB, in ${set.dir}`,
  );
  const child = new URL("./preprocess_decode.ts", import.meta.url).pathname;
  const script = new URL("./preprocess_ref.py", import.meta.url).pathname;
  const outFile = await Deno.makeTempFile({ prefix: "preprocess-bench-", suffix: ".u8" });
  const deno: Measured[] = [];
  const pil: Measured[] = [];
  try {
    for (let r = 0; r < runs; r++) {
      const load = (await Deno.readTextFile("/proc/loadavg")).split(" ")[0];
      const d = await timed(Deno.execPath(), [
        "run",
        "-A",
        "--no-prompt",
        child,
        `--dir=${set.dir}`,
        `--workers=${workers}`,
        `--size=${SIZE}`,
        `--out=${outFile}`,
      ]);
      const bad = JSON.parse(d.stdout).bad;
      if (bad !== 0) throw new Error(`Cannot bench preprocess: ${bad} generated images failed`);
      deno.push(d);
      let line = `  run ${r + 1} (load ${load}): deno ${(count / d.wallSeconds).toFixed(0)} ` +
        `images/s, ${(count / d.cpuSeconds).toFixed(0)} per CPU-s, ` +
        `${(d.peakRssBytes / 2 ** 20).toFixed(0)} MiB`;
      if (ref) {
        const p = await timed("/usr/bin/python3", [
          script,
          set.dir,
          `--size=${SIZE}`,
          "--runs=1",
          `--workers=${workers}`,
        ]);
        pil.push(p);
        line += `; PIL ${(count / p.wallSeconds).toFixed(0)} images/s, ` +
          `${(count / p.cpuSeconds).toFixed(0)} per CPU-s, ` +
          `${(p.peakRssBytes / 2 ** 20).toFixed(0)} MiB`;
      }
      log(line);
    }
  } finally {
    await Deno.remove(outFile);
  }
  const denoSummary = summarise(count, deno);
  const pilSummary = ref ? summarise(count, pil) : undefined;
  const ratio = pilSummary && {
    perCpuSecond: denoSummary.imagesPerCpuSecond / pilSummary.imagesPerCpuSecond,
    wall: denoSummary.wallImagesPerSecond / pilSummary.wallImagesPerSecond,
  };
  const kinds = opts.perKind ? await perKind(set.dir, set.files, opts.perKind, ref) : undefined;
  const summary = `preprocess ${count} mixed images to ${SIZE}px, ${workers} workers: deno ` +
    `${denoSummary.imagesPerCpuSecond.toFixed(0)} images per CPU-s ` +
    `(${denoSummary.wallImagesPerSecond.toFixed(0)}/s wall), peak RSS ` +
    `${denoSummary.peakRssMiB.toFixed(0)} MiB` +
    (pilSummary && ratio
      ? `; PIL ${pilSummary.imagesPerCpuSecond.toFixed(0)} per CPU-s ` +
        `(${pilSummary.wallImagesPerSecond.toFixed(0)}/s wall); ratio ` +
        `${ratio.perCpuSecond.toFixed(2)} per core, ${ratio.wall.toFixed(2)} wall`
      : "");
  return {
    images: count,
    kinds: set.kinds,
    meanFileBytes: Math.round(set.bytes / count),
    size: SIZE,
    workers,
    runs,
    deno: denoSummary,
    reference: pilSummary,
    ratioToReference: ratio,
    perKind: kinds,
    summary,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      images: { type: "string", default: "50000" },
      runs: { type: "string", default: "3" },
      workers: { type: "string", default: String(navigator.hardwareConcurrency) },
      cache: { type: "string", default: "data/bench/preprocess" },
      "no-ref": { type: "boolean", default: false },
      "per-kind": { type: "string", default: "0" },
    },
  });
  const result = await preprocessBench({
    images: Number(values.images),
    runs: Number(values.runs),
    workers: Number(values.workers),
    cache: values.cache,
    ref: !values["no-ref"],
    perKind: Number(values["per-kind"]),
  });
  console.error(result.summary);
  console.log(JSON.stringify(result));
}
