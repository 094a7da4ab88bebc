/**
 * The live dashboard: Deno.serve on localhost by default.
 *   /                         runs table (params x metrics; sortable, filterable)
 *   /run/NAME                 a run's charts, live over server-sent events
 *   /run/NAME/report.html     the run's static report, when written
 *   /compare?runs=a,b         several runs overlaid, params side by side (also ?runs=a&runs=b)
 *   /api/runs                 the run list as JSON
 *   /api/runs/NAME/records    a run's metrics lines as JSON
 *   /api/runs/NAME/events     the same, then new lines, as server-sent events
 *   /static/FILE.js           the browser modules (a fixed list)
 * Every path is checked by RunsRoot; nothing outside the runs folder is ever read.
 */
import { metricsEventStream } from "./metrics_events.ts";
import { comparePage, indexPage, runPage } from "./pages.ts";
import { overview, readRunData } from "./run_overview.ts";
import { isRunName, RunsRoot } from "./run_paths.ts";

export interface DashboardOptions {
  runsDir: string;
  /** 0 picks a free port (see the returned server's addr). Default 8080. */
  port?: number;
  hostname?: string;
  signal?: AbortSignal;
  /** How often the event stream looks at metrics.jsonl. */
  pollMs?: number;
  onListen?: (addr: Deno.NetAddr) => void;
}

const STATIC = [
  "html_escape.js",
  "line_chart.js",
  "heatmap.js",
  "run_charts.js",
  "test_table.js",
  "live_client.js",
  "chart_view.js",
  "runs_table.js",
  "runs_filter.js",
];

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "content-security-policy":
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  "referrer-policy": "no-referrer",
};

export function serveDashboard(options: DashboardOptions): Deno.HttpServer<Deno.NetAddr> {
  const handler = dashboardHandler(options);
  return Deno.serve({
    port: options.port ?? 8080,
    hostname: options.hostname ?? "127.0.0.1",
    signal: options.signal,
    onListen: options.onListen ?? ((addr) => {
      console.error(
        `dashboard: http://${addr.hostname}:${addr.port}/ (runs from ${options.runsDir})`,
      );
    }),
  }, handler);
}

export function dashboardHandler(
  options: Pick<DashboardOptions, "runsDir" | "pollMs" | "signal">,
): (request: Request) => Promise<Response> {
  const root = new RunsRoot(options.runsDir);
  return async (request) => {
    try {
      return await route(request, root, options);
    } catch (error) {
      console.error(
        `dashboard: ${request.method} ${request.url}: ${(error as Error).stack ?? error}`,
      );
      return text(500, "Internal error; see the dashboard's log");
    }
  };
}

async function route(
  request: Request,
  root: RunsRoot,
  options: Pick<DashboardOptions, "pollMs" | "signal">,
): Promise<Response> {
  if (request.method !== "GET" && request.method !== "HEAD") return text(405, "Only GET and HEAD");
  const url = new URL(request.url);
  const segments = decodeSegments(url.pathname);
  if (segments === undefined) return text(400, "Malformed percent-encoding in the path");
  const [a, b, c, d] = segments;
  const n = segments.length;

  if (n === 0) {
    const names = await root.list();
    const data = await Promise.all(names.map((name) => readRunData(root, name)));
    return html(indexPage(data.filter((x) => x !== undefined)));
  }
  if (a === "static" && n === 2 && STATIC.includes(b!)) {
    const source = await Deno.readTextFile(new URL(`../../charts/${b}`, import.meta.url));
    return respond(200, source, "text/javascript; charset=utf-8");
  }
  if (a === "compare" && n === 1) {
    const names = url.searchParams.getAll("runs").flatMap((v) => v.split(",")).filter((v) =>
      v !== ""
    );
    if (names.length < 2) return text(400, "Compare needs two or more runs: /compare?runs=a,b");
    const bad = names.find((name) => !isRunName(name));
    if (bad !== undefined) return text(400, `Invalid run name ${JSON.stringify(bad)}`);
    const runs = await Promise.all([...new Set(names)].map((name) => readRunData(root, name)));
    const missing = names.find((_, i) => runs[i] === undefined);
    if (missing !== undefined) return text(404, `No run named ${missing}`);
    return html(comparePage(runs.filter((r) => r !== undefined)));
  }
  if (a === "api" && b === "runs" && n === 2) {
    const names = await root.list();
    const data = await Promise.all(names.map((name) => readRunData(root, name)));
    return json(data.filter((x) => x !== undefined).map(overview));
  }

  const run = a === "run" ? b : a === "api" && b === "runs" ? c : undefined;
  const rest = a === "run" ? segments.slice(2) : segments.slice(3);
  if (run === undefined) return text(404, "Not found");
  if (!isRunName(run)) return text(400, `Invalid run name ${JSON.stringify(run)}`);
  if ((await root.runDir(run)) === undefined) return text(404, `No run named ${run}`);

  if (a === "run" && rest.length === 0) {
    const data = await readRunData(root, run);
    return data ? html(runPage(data)) : text(404, `No run named ${run}`);
  }
  if (a === "run" && rest.length === 1 && rest[0] === "report.html") {
    const file = await root.runFile(run, "report.html");
    if (!file) return text(404, refusedFile(run, "report.html"));
    const body = await readIfExists(file.path);
    return body === undefined ? text(404, `Run ${run} has no report.html yet`) : html(body);
  }
  if (a === "api" && n === 4 && d === "records") {
    if (!(await root.runFile(run, "metrics.jsonl"))) {
      return text(404, refusedFile(run, "metrics.jsonl"));
    }
    const data = await readRunData(root, run);
    if (!data) return text(404, `No run named ${run}`);
    if (data.problems.length > 0) return text(422, data.problems.join("\n"));
    return json(data.records);
  }
  if (a === "api" && n === 4 && d === "events") {
    if (!(await root.runFile(run, "metrics.jsonl"))) {
      return text(404, refusedFile(run, "metrics.jsonl"));
    }
    const body = metricsEventStream({
      locate: async () => (await root.runFile(run, "metrics.jsonl"))?.path,
      label: `runs/${run}/metrics.jsonl`,
      lastEventId: request.headers.get("last-event-id"),
      pollMs: options.pollMs,
      signal: options.signal,
    });
    return new Response(body, {
      headers: {
        ...SECURITY_HEADERS,
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
      },
    });
  }
  return text(404, "Not found");
}

/** A file runFile refused (it exists, as a link): said so, not "not there yet". */
function refusedFile(run: string, file: string): string {
  return `runs/${run}/${file} is refused: a symlink leading out of the run's folder or a hard ` +
    "link (csn writes neither into runs/)";
}

/** Path segments, each percent-decoded; undefined when an escape is malformed. */
function decodeSegments(pathname: string): string[] | undefined {
  try {
    return pathname.split("/").filter((s) => s !== "").map(decodeURIComponent);
  } catch (error) {
    if (error instanceof URIError) return undefined;
    throw error;
  }
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

function respond(status: number, body: string, type: string): Response {
  return new Response(body, {
    status,
    headers: { ...SECURITY_HEADERS, "content-type": type, "cache-control": "no-store" },
  });
}

const text = (status: number, body: string) =>
  respond(status, body + "\n", "text/plain; charset=utf-8");
const html = (body: string) => respond(200, body, "text/html; charset=utf-8");
const json = (value: unknown) =>
  respond(200, JSON.stringify(value), "application/json; charset=utf-8");
