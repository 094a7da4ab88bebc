/**
 * A tiny trained fonts run with an index (the tiny pipeline plus the index stage), and the
 * service started on it through the CLI with the serve task's permissions, as users start it.
 */
import { join } from "node:path";
import { cliCommand, runJson } from "./cli.ts";
import { tinyProject } from "./tiny_project.ts";

export const SERVED_RUN = "tiny";

/** The project folder and the index artefact id (about 10 s: fetch to index). */
export async function servedProject(): Promise<{ dir: string; index: string }> {
  const dir = await tinyProject({
    fetch: { families: "roboto,lato,caveat" },
    preprocess: { num_train: 640, num_val: 160, num_test: 160 },
    train: { epochs: 1, lr: 0.001, num_train_triplets: 320, workers: 1 },
    validate: { workers: 1 },
    test: { retrieval: false, workers: 1 },
  });
  const file = join(dir, "pipelines", "tiny.json");
  const manifest = JSON.parse(await Deno.readTextFile(file));
  manifest.stages.push({
    name: "index",
    inputs: { model: "validate.best", shards: "shard.shards" },
    params: { backend: "wasm", workers: 1 },
  });
  await Deno.writeTextFile(file, JSON.stringify(manifest, null, 2));
  const report = await runJson(dir, "pipeline", [SERVED_RUN]);
  const index = report.stages.find((s) => s.name === "index")!.outputs.index!;
  return { dir, index };
}

export interface ServeProcess {
  readonly origin: string;
  readonly child: Deno.ChildProcess;
  /** stderr so far (the serve log). */
  log(): string;
  /** Waits for the exit; returns its code and the whole log. */
  exit(): Promise<{ code: number; log: string }>;
}

/** Starts `deno task serve` in `dir` on a free port (wasm unless `args` name a backend). */
export async function startServe(dir: string, args: string[]): Promise<ServeProcess> {
  const backend = args.includes("--backend") ? [] : ["--backend", "wasm"];
  const child = cliCommand(dir, "serve", ["--port", "0", ...backend, ...args]).spawn();
  let text = "";
  const done = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) text += chunk;
  })();
  await child.stdout.cancel();
  const started = Date.now();
  for (;;) {
    const match = /listening on (http:\/\/\S+)/.exec(text);
    if (match) {
      return {
        origin: match[1]!,
        child,
        log: () => text,
        exit: async () => {
          const { code } = await child.status;
          await done;
          return { code, log: text };
        },
      };
    }
    if (Date.now() - started > 30_000 || /^error:/m.test(text)) {
      child.kill();
      await child.status;
      throw new Error(`serve did not start:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
