/**
 * Benchmark of `deno task serve` (started as users start it, with the task's permissions) on
 * a 20,000-item index: requests/s and p50/p99 latency at 1, 8 and 32 connections, for item
 * queries (GET /api/items/{id}/similar, notions and ids rotating) and for image uploads
 * (POST /api/similar with a PNG), driven by autocannon (bounded: fixed connections and
 * duration) against 127.0.0.1 from this process; the server's peak RSS. Beside them in the
 * same run: the same search in-process, and the same image embedded in-process by the eval
 * engine (one at a time, and in batches of 256 as evaluation does), so that uploads/s can be
 * read as a ratio to embedding speed. Then exact search latency at 10k, 100k and 1M
 * synthetic vectors (a 16-dim fixed mask of d = 64), beside knn.ts. Medians of `runs`.
 *
 *   deno run -A bench/serve_bench.ts [--backend=auto|native|wasm|...]
 * (default auto, as users serve)
 */
import autocannon from "autocannon";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { openProject } from "../shared/pipeline/project.ts";
import {
  type CatalogIndex,
  type IndexContents,
  readCatalogIndex,
  writeCatalogIndex,
} from "../shared/artefacts/catalog_index.ts";
import { Catalog } from "../shared/serve/catalog.ts";
import { NotionSpace } from "../shared/serve/notion_space.ts";
import { nearest } from "../shared/eval/knn.ts";
import { embedPixels, ModelSession } from "../shared/explore/gallery.ts";
import { openShards } from "../shared/data/shards/reader.ts";
import { Rng } from "../shared/util/rng.ts";
import { BACKEND_CHOICES, type BackendChoice } from "../shared/engine/choices.ts";
import { removeTree } from "../shared/util/fs.ts";
import { servedProject, startServe } from "../tests/support/served_project.ts";
import { median } from "./timing.ts";

const ITEMS = 20_000;
const CONNECTIONS = [1, 8, 32];
const NOTIONS = ["character", "family", "weight", "slant"];

/** The tiny run's index stretched to ITEMS items: its rows again, with a little noise. */
async function bigIndex(
  dir: string,
  index: string,
): Promise<{ id: string; contents: IndexContents }> {
  const store = openProject(dir).store;
  const small = await readCatalogIndex(await store.open(index));
  const { header } = small;
  const rng = new Rng(3);
  const d = header.d;
  const embeddings = small.embeddings.map((e) =>
    Float32Array.from({ length: ITEMS * d }, (_, i) => {
      const source = (Math.floor(i / d) % header.count) * d + (i % d);
      return e[source]! + 0.05 * rng.normal();
    })
  );
  const items = Array.from({ length: ITEMS }, (_, i) => header.items[i % header.count]!);
  const big: CatalogIndex = { ...header, count: ITEMS, items };
  const draft = await store.draft();
  await writeCatalogIndex(draft.dir, { header: big, embeddings });
  return { id: await draft.commit(), contents: { header: big, embeddings } };
}

interface Load {
  readonly requests_per_s: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly non_2xx: number;
  readonly errors: number;
  /** Requests answered per CPU second the server used: what free cores would allow. */
  readonly per_server_cpu_s?: number;
}

async function load(
  url: string,
  connections: number,
  seconds: number,
  requests: { method: "GET" | "POST"; path: string; body?: Uint8Array }[],
): Promise<Load> {
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    requests: requests.map((r) => ({
      method: r.method,
      path: r.path,
      ...(r.body ? { body: Buffer.from(r.body), headers: { "content-type": "image/png" } } : {}),
    })),
  });
  return {
    requests_per_s: result.requests.total / result.duration,
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    non_2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

function medianLoad(runs: Load[]): Load {
  const of = (key: "requests_per_s" | "p50_ms" | "p99_ms") => median(runs.map((r) => r[key]));
  return {
    requests_per_s: of("requests_per_s"),
    p50_ms: of("p50_ms"),
    p99_ms: of("p99_ms"),
    non_2xx: runs.reduce((n, r) => n + r.non_2xx, 0),
    errors: runs.reduce((n, r) => n + r.errors, 0),
  };
}

/** CPU seconds (user + system) a process has used so far (Linux, 100 ticks a second). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // The fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** VmHWM of a process, in MiB (Linux). */
async function peakRssMiB(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

function msPerCall(action: () => unknown, calls: number): number {
  const start = performance.now();
  for (let i = 0; i < calls; i++) action();
  return (performance.now() - start) / calls;
}

/** Exact search latency (ms per query) at n synthetic vectors, beside knn.ts. */
async function scaling(runs: number) {
  const d = 64;
  const rng = new Rng(11);
  const mask = Float32Array.from({ length: d }, (_, k) => (k < 16 ? 1 : 0));
  const out = [];
  for (const n of [10_000, 100_000, 1_000_000]) {
    const e = Float32Array.from({ length: n * d }, () => rng.normal());
    const space = new NotionSpace(e, d, mask);
    const queries = Array.from({ length: 15 }, (_, i) => (i * 7919) % n);
    const cpuBefore = await cpuSeconds(Deno.pid);
    const ours = median(
      Array.from({ length: runs }, () =>
        msPerCall(() => {
          for (const q of queries) space.nearest(space.projectItem(q), 10, q);
        }, 1) / queries.length),
    );
    const cpuMs = (1000 * ((await cpuSeconds(Deno.pid)) - cpuBefore)) / (runs * queries.length);
    const reference = msPerCall(() => {
      const q = queries[0]!;
      nearest(e, d, mask, e.slice(q * d, (q + 1) * d), 10, [q]);
    }, 3);
    out.push({ n, exact_ms: ours, exact_cpu_ms: cpuMs, knn_ts_ms: reference });
  }
  return out;
}

/** `backend`: the server's --backend, auto by default as `deno task serve` runs it (native
 * oneDNN where it loads). */
export async function serveBench(
  runs = 3,
  seconds = 4,
  backendChoice: BackendChoice = "auto",
): Promise<Record<string, unknown> & { summary: string }> {
  const loadBefore = Deno.loadavg();
  const { dir, index } = await servedProject();
  try {
    const { id, contents } = await bigIndex(dir, index);
    const server = await startServe(dir, ["--index", id, "--backend", backendChoice]);
    const results: Record<string, Load> = {};
    let rss: number;
    try {
      const { origin } = server;
      const png = new Uint8Array(await (await fetch(`${origin}/api/items/40/image`)).arrayBuffer());
      const rng = new Rng(5);
      const items = Array.from({ length: 64 }, (_, i) => ({
        method: "GET" as const,
        path: `/api/items/${rng.int(ITEMS)}/similar?notion=${NOTIONS[i % 4]}&k=10`,
      }));
      const uploads = NOTIONS.map((notion) => ({
        method: "POST" as const,
        path: `/api/similar?notion=${notion}&k=10`,
        body: png,
      }));
      // Warm-up: the engine loads on the first upload; the JIT settles.
      await load(origin, 4, 1, items);
      await load(origin, 1, 1, uploads);
      for (const [kind, requests] of [["items", items], ["uploads", uploads]] as const) {
        for (const c of CONNECTIONS) {
          const measured: Load[] = [];
          const cpuBefore = await cpuSeconds(server.child.pid);
          for (let r = 0; r < runs; r++) measured.push(await load(origin, c, seconds, requests));
          const cpu = (await cpuSeconds(server.child.pid)) - cpuBefore;
          const served = measured.reduce((n, m) => n + m.requests_per_s * seconds, 0);
          results[`${kind}_c${c}`] = { ...medianLoad(measured), per_server_cpu_s: served / cpu };
          console.error(
            `serve bench: ${kind} at ${c}: ${JSON.stringify(results[`${kind}_c${c}`])}`,
          );
        }
      }
      rss = await peakRssMiB(server.child.pid);
    } finally {
      server.child.kill("SIGTERM");
    }
    const { log } = await server.exit();
    const backend = /backend: (.*)/.exec(log)?.[1] ?? "unknown";
    // The reference embeds on the backend the server chose.
    const chosen = /^(\w+)/.exec(backend)?.[1] as BackendChoice | undefined;
    if (!chosen || !(BACKEND_CHOICES as readonly string[]).includes(chosen)) {
      throw new Error(`Cannot read the server's backend from its log: ${log}`);
    }

    // References in this process: the same search, the same image through the eval engine.
    const catalog = new Catalog(contents);
    const searchMs = median(
      Array.from({ length: runs }, () => msPerCall(() => catalog.similarToItem(0, 123, 10), 200)),
    );
    const shards = await openShards(await openProject(dir).store.open(contents.header.shards));
    const store = openProject(dir).store;
    const checkpoint = join(await store.open(contents.header.model), contents.header.checkpoint);
    const session = await ModelSession.open(checkpoint, { backend: chosen, log: () => {} });
    const model = await session.model(0);
    const record = new Uint8Array(shards.recordBytes);
    const reader = shards.records();
    reader.readInto([contents.header.items[40]!.record], record);
    reader.close();
    const batch = new Uint8Array(256 * record.length);
    for (let i = 0; i < 256; i++) batch.set(record, i * record.length);
    await embedPixels(model, shards, record, 1);
    const single: number[] = [], batched: number[] = [];
    let embedCpu = 0;
    for (let r = 0; r < runs; r++) {
      const cpuBefore = await cpuSeconds(Deno.pid);
      let start = performance.now();
      for (let i = 0; i < 50; i++) await embedPixels(model, shards, record, 1);
      single.push(50 / ((performance.now() - start) / 1000));
      embedCpu += (await cpuSeconds(Deno.pid)) - cpuBefore;
      start = performance.now();
      await embedPixels(model, shards, batch, 256);
      batched.push(256 / ((performance.now() - start) / 1000));
    }
    const embedOnePerCpuS = (runs * 50) / embedCpu;
    await session.close();
    const embedOne = median(single), embedBatched = median(batched);
    const scale = await scaling(runs);
    const loadAfter = Deno.loadavg();

    const r = (v: number) => Math.round(v).toLocaleString("en-US");
    const line = (kind: string) =>
      CONNECTIONS.map((c) => {
        const x = results[`${kind}_c${c}`]!;
        return `c${c} ${r(x.requests_per_s)}/s p50 ${x.p50_ms} p99 ${x.p99_ms} ms ` +
          `(${r(x.per_server_cpu_s!)} per server CPU-s)`;
      }).join(", ");
    const uploadsBest = Math.max(
      ...CONNECTIONS.map((c) => results[`uploads_c${c}`]!.requests_per_s),
    );
    const figures = {
      bench: "serve",
      items: ITEMS,
      backend,
      load: results,
      peak_rss_mib: rss,
      in_process: {
        search_ms: searchMs,
        embed_one_per_s: embedOne,
        embed_batched_256_per_s: embedBatched,
        embed_one_per_cpu_s: embedOnePerCpuS,
      },
      uploads_per_server_cpu_s_to_embed_one_per_cpu_s: Math.max(
        ...CONNECTIONS.map((c) => results[`uploads_c${c}`]!.per_server_cpu_s!),
      ) / embedOnePerCpuS,
      uploads_to_embed_one: uploadsBest / embedOne,
      uploads_to_embed_batched: uploadsBest / embedBatched,
      exact_scaling: scale,
      loadavg: { before: loadBefore, after: loadAfter },
    };
    return {
      ...figures,
      summary: `serve on ${ITEMS} items (${backend}; load ${loadBefore[0]!.toFixed(1)} -> ` +
        `${loadAfter[0]!.toFixed(1)} on 2 cores): item queries ${line("items")}; uploads ` +
        `${line("uploads")}; peak RSS ${r(rss)} MiB; in-process search ${
          searchMs.toFixed(3)
        } ms, ` +
        `embedding ${r(embedOne)} images/s one at a time (${r(embedBatched)}/s in batches of ` +
        `256): best uploads/s = ${(100 * figures.uploads_to_embed_one).toFixed(0)} % of one-at-a-` +
        `time embedding, ${
          (100 * figures.uploads_to_embed_batched).toFixed(0)
        } % of batched; per ` +
        `CPU-second, uploads ${
          (100 * figures.uploads_per_server_cpu_s_to_embed_one_per_cpu_s).toFixed(0)
        } % of ` +
        `in-process one-at-a-time embedding (${r(embedOnePerCpuS)}/CPU-s); ` +
        `exact k=10 latency ${
          scale.map((s) =>
            `${r(s.n)}: ${s.exact_ms.toFixed(2)} ms (CPU ${s.exact_cpu_ms.toFixed(1)} ms; knn.ts ` +
            `${s.knn_ts_ms.toFixed(1)} ms)`
          )
            .join(", ")
        }`,
    };
  } finally {
    await removeTree(dir);
  }
}

if (import.meta.main) {
  const flag = Deno.args.find((a) => a.startsWith("--backend="))?.slice("--backend=".length);
  if (flag !== undefined && !(BACKEND_CHOICES as readonly string[]).includes(flag)) {
    throw new RangeError(
      `Cannot read --backend "${flag}": expected one of ${BACKEND_CHOICES.join(", ")}`,
    );
  }
  console.log((await serveBench(3, 4, (flag ?? "auto") as BackendChoice)).summary);
}
