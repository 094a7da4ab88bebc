/**
 * Throughput of tripletBatches (triplets/s, batch 256) on synthetic shard sets shaped like
 * the two datasets (64x64x1 glyphs; 112x112x3 photos, flipped, ImageNet normalisation), and
 * of the PyTorch/PIL-style reference loader (bench/shard_read_ref.py) on the same files.
 *
 *   deno run -A bench/shard_read_bench.ts [--quick] [--no-ref] [--python=/usr/bin/python3]
 *
 * Each Deno case runs twice: fresh arrays per batch, and `reuseBuffers` (what a trainer that
 * copies each batch into tensors can use). Prints one JSON object on stdout; progress goes
 * to stderr. The page cache is warm (the
 * shards were just written), so this measures the reader, not the disk.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Rng } from "../shared/util/rng.ts";
import { memoryRecordSource, writeShards } from "../shared/data/shards/writer.ts";
import { openShards } from "../shared/data/shards/reader.ts";
import { tripletBatches } from "../shared/data/shards/batches.ts";

interface Case {
  name: string;
  size: number;
  channels: 1 | 3;
  images: number;
  batches: number;
  flip: boolean;
  mean: number[];
  std: number[];
}

const BATCH = 256;

function cases(quick: boolean): Case[] {
  const q = quick ? 4 : 1;
  return [
    {
      name: "64x64x1",
      size: 64,
      channels: 1,
      images: 20000 / q,
      batches: 40 / q,
      flip: false,
      mean: [0.5],
      std: [0.5],
    },
    {
      name: "112x112x3",
      size: 112,
      channels: 3,
      images: 6000 / q,
      batches: 20 / q,
      flip: true,
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
    },
  ];
}

async function buildShards(c: Case, dir: string): Promise<void> {
  const recordBytes = c.size * c.size * c.channels;
  const pixels = new Uint8Array(c.images * recordBytes);
  for (let i = 0; i < pixels.length; i += 65536) {
    crypto.getRandomValues(pixels.subarray(i, Math.min(i + 65536, pixels.length)));
  }
  const rng = new Rng(1);
  const n = BATCH * (c.batches + 2);
  const train = new Int32Array(n * 4);
  for (let t = 0; t < n; t++) {
    train.set([rng.int(c.images), rng.int(c.images), rng.int(c.images), rng.int(4)], t * 4);
  }
  await writeShards(memoryRecordSource(pixels, recordBytes), {
    dataset: "synthetic",
    height: c.size,
    width: c.size,
    channels: c.channels,
    names: Array.from({ length: c.images }, (_, i) => `img${i}`),
    notions: ["a", "b", "c", "d"].map((name) => ({ name, values: [] })),
    labels: {},
    triplets: { train, val: new Int32Array(0), test: new Int32Array(0) },
  }, dir);
}

async function measureDeno(c: Case, dir: string, reuseBuffers: boolean): Promise<number> {
  const shards = await openShards(dir);
  const it = tripletBatches(shards, {
    split: "train",
    batchSize: BATCH,
    seed: 0,
    epoch: 0,
    flip: c.flip,
    mean: c.mean,
    std: c.std,
    reuseBuffers,
  });
  await it.next(); // warm-up (JIT)
  let n = 0;
  const start = performance.now();
  for (let b = 0; b < c.batches; b++) {
    const r = await it.next();
    if (r.done) throw new Error(`Cannot read ${c.batches} batches: the shards ran out after ${b}`);
    n += r.value.size;
  }
  const seconds = (performance.now() - start) / 1000;
  await it.return(undefined);
  return n / seconds;
}

async function measureRef(c: Case, dir: string, python: string): Promise<Record<string, unknown>> {
  const args = [
    "bench/shard_read_ref.py",
    `--dir=${dir}`,
    `--batches=${c.batches}`,
    `--batch-size=${BATCH}`,
    `--flip=${c.flip ? 1 : 0}`,
    "--mean",
    ...c.mean.map(String),
    "--std",
    ...c.std.map(String),
  ];
  const out = await new Deno.Command(python, { args, stderr: "inherit" }).output();
  if (!out.success) {
    throw new Error(`Cannot run ${python} ${args.join(" ")}: it exited ${out.code}, expected 0`);
  }
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

export async function shardReadBench(
  options: { quick?: boolean; ref?: boolean; python?: string } = {},
): Promise<Record<string, unknown>> {
  const python = options.python ?? "/usr/bin/python3";
  const root = await Deno.makeTempDir({ prefix: "csn_shard_bench_" });
  const results: Record<string, unknown>[] = [];
  try {
    for (const c of cases(options.quick ?? false)) {
      const dir = join(root, c.name);
      console.error(`bench: writing ${c.images} synthetic ${c.name} images`);
      await buildShards(c, dir);
      const deno = await measureDeno(c, dir, false);
      const reuse = await measureDeno(c, dir, true);
      console.error(
        `bench: ${c.name}: tripletBatches ${deno.toFixed(0)} triplets/s, ` +
          `${reuse.toFixed(0)} with reuseBuffers`,
      );
      const row: Record<string, unknown> = {
        case: c.name,
        batch: BATCH,
        flip: c.flip,
        deno_triplets_per_s: Math.round(deno),
        deno_reuse_triplets_per_s: Math.round(reuse),
      };
      if (options.ref ?? true) {
        const ref = await measureRef(c, dir, python);
        const refRate = ref.triplets_per_s as number;
        console.error(`bench: ${c.name}: reference ${refRate.toFixed(0)} triplets/s`);
        row.ref_triplets_per_s = Math.round(refRate);
        row.ref_torch = ref.torch;
        row.ratio_deno_over_ref = Math.round((deno / refRate) * 100) / 100;
        row.ratio_deno_reuse_over_ref = Math.round((reuse / refRate) * 100) / 100;
      }
      results.push(row);
      await rm(dir, { recursive: true });
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  const summary = results.map((row) =>
    `shard read ${row.case}: ${row.deno_reuse_triplets_per_s} triplets/s` +
    (row.ref_triplets_per_s
      ? ` vs PyTorch/PIL loader ${row.ref_triplets_per_s} ` +
        `(${row.ratio_deno_reuse_over_ref}x)`
      : "")
  ).join("; ");
  return { bench: "shard_read", results, summary };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      "no-ref": { type: "boolean", default: false },
      python: { type: "string", default: "/usr/bin/python3" },
    },
  });
  const result = await shardReadBench({
    quick: values.quick,
    ref: !values["no-ref"],
    python: values.python,
  });
  console.log(JSON.stringify(result));
}
