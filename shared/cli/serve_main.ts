/**
 * deno task serve [--run NAME | --index REF] [--port 8080] [--host 127.0.0.1]
 * The similarity service: a JSON API (described at /api/openapi.json) and a web page at /, on
 * an index artefact (the index stage's output). SIGTERM or Ctrl-C stops it after the requests
 * in flight have their answers.
 */
import { BACKEND_CHOICES, type BackendChoice } from "../engine/choices.ts";
import { openProject } from "../pipeline/project.ts";
import { readRunRecord } from "../pipeline/run_record.ts";
import { openService } from "../serve/open_service.ts";
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_HOST,
  DEFAULT_MAX_UPLOAD,
  startServer,
} from "../serve/server.ts";
import { UsageError } from "../util/usage_error.ts";
import { type FlagSpec, integerFlag, log, main, oneOf, parseArgs, usage } from "./args.ts";
import { resolveArtefactRef } from "./refs.ts";

const SUMMARY = `Serves nearest catalog items by notion over HTTP, and a page to try it.

The catalog is an index artefact, made by the index stage (the last stage of the full,
zappos and images pipelines; for an earlier run: deno task stage index --name NAME). --run NAME serves
the run's index (default: the run "full"); --index takes an artefact id, a unique prefix or
runs/NAME. Uploads are embedded by the checkpoint the index names, one at a time, on the
backend --backend picks (default auto: native oneDNN where it loads, else wasm).`;

const FLAGS: Record<string, FlagSpec> = {
  run: { value: true, help: "serve this run's index (runs/NAME; default full)" },
  index: { value: true, help: "serve this index: <artefact id | prefix | runs/NAME>" },
  port: { value: true, help: "TCP port (default 8080; 0: any free port)" },
  host: { value: true, help: `address to bind (default ${DEFAULT_HOST}: this machine only)` },
  "max-upload": { value: true, help: `upload limit in bytes (default ${DEFAULT_MAX_UPLOAD})` },
  concurrency: {
    value: true,
    help: `requests handled at once, more wait (default ${DEFAULT_CONCURRENCY})`,
  },
  backend: {
    value: true,
    help: `tfjs backend for uploads: ${BACKEND_CHOICES.join(", ")} (default auto)`,
  },
  help: { value: false, help: "show this help" },
};

if (import.meta.main) {
  await main(async () => {
    const args = parseArgs(Deno.args, FLAGS);
    const flag = (name: string) => args.flags[name]?.[0];
    if (flag("help")) {
      console.log(usage("serve [--run NAME | --index REF] [--port 8080]", SUMMARY, FLAGS));
      return 0;
    }
    if (args.positional.length > 0) {
      throw new UsageError(
        `Cannot serve: unexpected argument "${args.positional[0]}", it takes only flags`,
      );
    }
    if (flag("run") !== undefined && flag("index") !== undefined) {
      throw new UsageError("Cannot serve: give --run NAME or --index REF, not both");
    }
    const project = openProject();
    const run = (flag("run") ?? "full").replace(/^(\.\/)?runs\//, "").replace(/\/+$/, "");
    const ref = flag("index") ?? `runs/${run}`;
    if (flag("index") === undefined) {
      const record = await readRunRecord(project, run);
      const indexed = Object.values(record?.stages ?? {}).some((s) => s.uses === "index");
      if (!record) {
        throw new Deno.errors.NotFound(
          `Cannot serve run "${run}": runs/${run}/record.json does not exist (start one with ` +
            `\`deno task pipeline full\`, or give --index REF)`,
        );
      }
      if (!indexed) {
        throw new Deno.errors.NotFound(
          `Cannot serve run "${run}": it has no index yet (its pipeline ${record.pipeline} ` +
            `has not run the index stage); make it with \`deno task stage index --pipeline ` +
            `${record.pipeline} --name ${run}\` or \`deno task pipeline full\``,
        );
      }
    }
    const indexId = await resolveArtefactRef(project, ref, "index.index");
    const service = await openService(project, indexId, {
      backend: oneOf<BackendChoice>("backend", flag("backend") ?? "auto", BACKEND_CHOICES),
      log,
    });
    const server = startServer(service, {
      host: flag("host") ?? DEFAULT_HOST,
      port: integerFlag("port", flag("port") ?? "8080", 0),
      maxUpload: integerFlag("max-upload", flag("max-upload") ?? `${DEFAULT_MAX_UPLOAD}`, 1),
      concurrency: integerFlag("concurrency", flag("concurrency") ?? `${DEFAULT_CONCURRENCY}`, 1),
      log,
    });
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log(`serve: ${signal}: finishing the requests in flight, then stopping`);
      server.shutdown();
    };
    Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
    Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
    log(`serve: listening on ${server.origin} (the page at /, the API under /api/)`);
    await server.finished;
    await service.close();
    log("serve: stopped");
  });
}
