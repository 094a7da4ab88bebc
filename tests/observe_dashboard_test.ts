import assert from "node:assert/strict";
import { join } from "node:path";
import { syntheticRecords } from "../shared/observe/demo_writer.ts";
import { appendMetrics, type MetricsRecord } from "../shared/artefacts/metrics_log.ts";
import { serveDashboard } from "../shared/observe/dashboard/server.ts";
import { tailLines } from "../shared/observe/dashboard/tail_lines.ts";
import { parseDashboardArgs } from "../shared/cli/dashboard_main.ts";

const SECRET = "TOP-SECRET-OUTSIDE-RUNS";

async function writeRun(dir: string, records: MetricsRecord[], accuracy?: number) {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    join(dir, "metrics.jsonl"),
    records.map((r) => JSON.stringify(r) + "\n").join(""),
  );
  await Deno.writeTextFile(join(dir, "params.json"), JSON.stringify({ train: { epochs: 2 } }));
  const metrics = accuracy === undefined
    ? {}
    : { accuracy, per_condition: { heel: accuracy }, triplets: 10 };
  await Deno.writeTextFile(
    join(dir, "record.json"),
    JSON.stringify({
      format: "csn-run/1",
      pipeline: "full",
      run: "x",
      stages: { test: { uses: "test", seconds: 1, outputs: {}, metrics } },
    }),
  );
}

/** A fixture: two runs, plus links that lead out of runs/ to a folder holding a secret. */
async function fixture() {
  const base = await Deno.makeTempDir({ prefix: "observe_dash_" });
  const runs = join(base, "runs");
  const outside = join(base, "outside");
  await Deno.mkdir(outside, { recursive: true });
  await Deno.writeTextFile(join(outside, "secret.txt"), SECRET);
  const secretRecord = { ...syntheticRecords({ epochs: 1, stepsPerEpoch: 1 })[0]!, series: SECRET };
  await Deno.writeTextFile(join(outside, "metrics.jsonl"), JSON.stringify(secretRecord) + "\n");
  await writeRun(join(runs, "alpha"), syntheticRecords({ epochs: 2, stepsPerEpoch: 3 }), 0.81);
  await writeRun(
    join(runs, "beta"),
    syntheticRecords({ epochs: 1, stepsPerEpoch: 2, seed: 2 }),
    0.62,
  );
  await Deno.symlink(outside, join(runs, "evil"));
  await Deno.mkdir(join(runs, "leaky"));
  await Deno.symlink(join(outside, "metrics.jsonl"), join(runs, "leaky", "metrics.jsonl"));
  await Deno.symlink(join(base, "nowhere"), join(runs, "dangling"));
  // A hard link inside runs/ to the file outside: no realpath can tell, the link count can.
  await Deno.mkdir(join(runs, "hard"));
  await Deno.link(join(outside, "metrics.jsonl"), join(runs, "hard", "metrics.jsonl"));
  await Deno.link(join(outside, "metrics.jsonl"), join(runs, "hard", "report.html"));
  return { base, runs };
}

/** Sends `path` byte for byte (no client-side URL normalisation) and returns status and body. */
async function rawGet(port: number, path: string): Promise<{ status: number; body: string }> {
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(
    new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
  );
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(65536);
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) break;
    chunks.push(buffer.slice(0, n));
  }
  const text = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
  const status = Number(text.match(/^HTTP\/1\.1 (\d{3})/)?.[1]);
  return { status, body: text.slice(text.indexOf("\r\n\r\n") + 4) };
}

interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

/** Reads server-sent events from a fetch body, one at a time. */
function sseReader(body: ReadableStream<Uint8Array>) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  return {
    async next(): Promise<SseEvent> {
      for (;;) {
        const end = buffer.indexOf("\n\n");
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: SseEvent = { event: "message", data: "" };
          for (const line of block.split("\n")) {
            const [field, ...rest] = line.split(": ");
            if (field === "event") event.event = rest.join(": ");
            else if (field === "id") event.id = rest.join(": ");
            else if (field === "data") event.data = rest.join(": ");
          }
          if (event.data !== "" || event.event !== "message") return event;
          continue; // retry and comments
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("event stream ended");
        buffer += value;
      }
    },
    cancel: () => reader.cancel(),
  };
}

Deno.test("dashboard binds to 127.0.0.1 by default and refuses paths outside runs/", async () => {
  const { base, runs } = await fixture();
  const controller = new AbortController();
  const server = serveDashboard({
    runsDir: runs,
    port: 0,
    signal: controller.signal,
    onListen: () => {},
  });
  try {
    assert.equal(server.addr.hostname, "127.0.0.1");
    const port = server.addr.port;
    // Not reachable on another interface of this machine.
    const external = Deno.networkInterfaces().find((i) =>
      i.family === "IPv4" && !i.address.startsWith("127.")
    );
    if (external) {
      await assert.rejects(
        Deno.connect({ hostname: external.address, port }),
        Deno.errors.ConnectionRefused,
      );
    } else {
      console.error("no non-loopback IPv4 interface here: external-bind check skipped");
    }
    const refused: Array<[string, number]> = [
      ["/run/../../outside/secret.txt", 404],
      ["/run/..%2f..%2foutside%2fsecret.txt", 400],
      ["/api/runs/%2e%2e/records", 404],
      ["/api/runs/%2E%2E%2Foutside/records", 400],
      ["/api/runs/..%5coutside/records", 400],
      [`/api/runs/${encodeURIComponent(join(base, "outside"))}/records`, 400],
      ["/api/runs/evil/records", 404],
      ["/api/runs/evil/events", 404],
      ["/run/evil", 404],
      ["/api/runs/leaky/records", 404],
      ["/api/runs/dangling/records", 404],
      ["/api/runs/hard/records", 404],
      ["/api/runs/hard/events", 404],
      ["/run/.hidden", 400],
      ["/api/runs/%ZZ/records", 400],
      ["/static/../../deno.json", 404],
      ["/static/run_paths.ts", 404],
      ["/compare?runs=alpha,../outside", 400],
      ["/compare?runs=alpha,evil", 404],
      [`/run/${"a".repeat(300)}`, 400],
    ];
    for (const [path, status] of refused) {
      const response = await rawGet(port, path);
      assert.equal(response.status, status, `GET ${path}`);
      assert.ok(!response.body.includes(SECRET), `GET ${path} leaked the secret`);
    }
    const index = await rawGet(port, "/");
    assert.equal(index.status, 200);
    assert.match(index.body, /href="\/run\/alpha"/);
    assert.match(index.body, /href="\/run\/beta"/);
    assert.ok(!/evil|dangling/.test(index.body), "links that lead out are not listed");
    assert.match(index.body, /<td data-value="0.81">0\.810<\/td>/); // alpha test accuracy (record.json)
    // A refused file says it was refused, not that it is not there yet.
    const hardReport = await rawGet(port, "/run/hard/report.html");
    assert.equal(hardReport.status, 404);
    assert.match(hardReport.body, /runs\/hard\/report\.html is refused: .*hard link/);
    assert.doesNotMatch(hardReport.body, /no report\.html yet/);
    const hardRecords = await rawGet(port, "/api/runs/hard/records");
    assert.match(hardRecords.body, /runs\/hard\/metrics\.jsonl is refused: .*hard link/);
    const list = JSON.parse((await rawGet(port, "/api/runs")).body);
    assert.deepEqual(list.map((r: { name: string }) => r.name), ["alpha", "beta", "hard", "leaky"]);
    assert.equal((await rawGet(port, "/api/runs/leaky/events")).status, 404);
    const post = await fetch(`http://127.0.0.1:${port}/`, { method: "POST" });
    assert.equal(post.status, 405);
    await post.body?.cancel();
  } finally {
    controller.abort();
    await server.finished;
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("dashboard serves records, pages, static modules and a comparison", async () => {
  const { base, runs } = await fixture();
  const controller = new AbortController();
  const server = serveDashboard({
    runsDir: runs,
    port: 0,
    signal: controller.signal,
    onListen: () => {},
  });
  const url = `http://127.0.0.1:${server.addr.port}`;
  try {
    const records = await (await fetch(`${url}/api/runs/alpha/records`)).json();
    assert.deepEqual(records, syntheticRecords({ epochs: 2, stepsPerEpoch: 3 }));
    const page = await fetch(`${url}/run/alpha`);
    assert.match(page.headers.get("content-security-policy")!, /default-src 'self'/);
    const html = await page.text();
    for (
      const id of [
        "lr",
        "loss",
        "train_accuracy",
        "val_accuracy",
        "embed_norm",
        "mask_norm",
        "masks",
      ]
    ) {
      assert.match(html, new RegExp(`data-chart="${id}"`), id);
    }
    assert.match(html, /<script type="module" src="\/static\/live_client.js"><\/script>/);
    assert.ok(!/<script>|<script type="module">/.test(html), "no inline code");
    const client = await fetch(`${url}/static/live_client.js`);
    assert.equal(client.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.match(await client.text(), /new EventSource/);
    const compare = await (await fetch(`${url}/compare?runs=alpha,beta`)).text();
    assert.match(compare, /data-series="alpha"/);
    assert.match(compare, /data-series="beta"/);
    assert.match(compare, /data-chart="val_accuracy_slant"/);
    assert.match(compare, /<th scope="row">beta<\/th><td>0\.620<\/td>/);
    const single = await fetch(`${url}/compare?runs=alpha`);
    assert.equal(single.status, 400);
    await single.body?.cancel();
    const missing = await fetch(`${url}/run/alpha/report.html`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  } finally {
    controller.abort();
    await server.finished;
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("event stream: backlog, growth, half lines, bad lines, truncation, resume", async () => {
  const { base, runs } = await fixture();
  const controller = new AbortController();
  const server = serveDashboard({
    runsDir: runs,
    port: 0,
    signal: controller.signal,
    pollMs: 40,
    onListen: () => {},
  });
  const url = `http://127.0.0.1:${server.addr.port}/api/runs/beta/events`;
  const file = join(runs, "beta", "metrics.jsonl");
  const backlog = syntheticRecords({ epochs: 1, stepsPerEpoch: 2, seed: 2 });
  try {
    const response = await fetch(url);
    assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const events = sseReader(response.body!);
    const ids: string[] = [];
    for (const expected of backlog) {
      const event = await events.next();
      assert.equal(event.event, "record");
      assert.deepEqual(JSON.parse(event.data), expected);
      ids.push(event.id!);
    }
    assert.deepEqual(await events.next(), { event: "synced", data: '{"lines":5}' });
    assert.equal(Number(ids.at(-1)), (await Deno.stat(file)).size);

    const extra = { ...backlog[0]!, step: 99 };
    await appendMetrics(file, extra);
    assert.deepEqual(JSON.parse((await events.next()).data), extra);
    // A half-written line waits for its end.
    const half = JSON.stringify({ ...extra, step: 100 });
    await Deno.writeTextFile(file, half.slice(0, 20), { append: true });
    await new Promise((r) => setTimeout(r, 150));
    await Deno.writeTextFile(file, half.slice(20) + "\n{oops\n", { append: true });
    assert.equal(JSON.parse((await events.next()).data).step, 100);
    const problem = await events.next();
    assert.equal(problem.event, "problem");
    assert.match(
      JSON.parse(problem.data).message,
      /^Cannot parse "runs\/beta\/metrics.jsonl": line 8: /,
    );
    // Truncation (a rerun starting over): reset, then the new content.
    await Deno.writeTextFile(file, JSON.stringify({ ...extra, step: 1 }) + "\n");
    assert.equal((await events.next()).event, "reset");
    const restarted = await events.next();
    assert.equal(JSON.parse(restarted.data).step, 1);
    await events.cancel();

    // Resume after the first record: EventSource sends Last-Event-ID on reconnect.
    await Deno.writeTextFile(file, backlog.map((r) => JSON.stringify(r) + "\n").join(""));
    const resumed = sseReader((await fetch(url, { headers: { "last-event-id": ids[0]! } })).body!);
    assert.deepEqual(JSON.parse((await resumed.next()).data), backlog[1]);
    await resumed.cancel();
  } finally {
    controller.abort();
    await server.finished;
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("tailLines replays from the start when the resume offset is not a line end", async () => {
  const dir = await Deno.makeTempDir({ prefix: "observe_tail_" });
  const file = join(dir, "m.jsonl");
  await Deno.writeTextFile(file, "a\nbb\nccc\n");
  const controller = new AbortController();
  const seen: string[] = [];
  try {
    for await (
      const event of tailLines(() => Promise.resolve(file), {
        from: 3,
        pollMs: 10,
        signal: controller.signal,
      })
    ) {
      seen.push(event.type === "line" ? `${event.line}:${event.text}@${event.end}` : event.type);
      if (event.type === "synced") break;
    }
    assert.deepEqual(seen, ["reset", "1:a@2", "2:bb@5", "3:ccc@9", "synced"]);
    seen.length = 0;
    for await (
      const event of tailLines(() => Promise.resolve(file), {
        from: 5,
        pollMs: 10,
        signal: controller.signal,
      })
    ) {
      seen.push(event.type === "line" ? `${event.line}:${event.text}@${event.end}` : event.type);
      if (event.type === "synced") break;
    }
    assert.deepEqual(seen, ["3:ccc@9", "synced"]);
  } finally {
    controller.abort();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dashboard_main flags: defaults, validation, unknown flags", () => {
  assert.deepEqual(parseDashboardArgs([]), { port: 8080, host: "127.0.0.1", runs: "runs" });
  assert.deepEqual(parseDashboardArgs(["--port", "0", "--runs", "/tmp/r"]), {
    port: 0,
    host: "127.0.0.1",
    runs: "/tmp/r",
  });
  assert.throws(
    () => parseDashboardArgs(["--port", "http"]),
    /Cannot read --port "http": expected a whole number from 0 to 65535/,
  );
  assert.throws(
    () => parseDashboardArgs(["--prot", "1"]),
    /Cannot read flag --prot: unknown flag; did you mean --port\?/,
  );
});
