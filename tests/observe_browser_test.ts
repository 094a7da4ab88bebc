/**
 * The dashboard and the static report in a real headless Chromium (Debian's `chromium`,
 * driven by playwright-core). A real writer process appends metrics lines while the page is
 * open, as training does; the page's charts must gain points. Skipped only when
 * /usr/bin/chromium is absent (apt-get install -y chromium).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { serveDashboard } from "../shared/observe/dashboard/server.ts";
import { writeReport } from "../shared/observe/run_files.ts";
import { toFileUrl } from "../shared/util/file_url.ts";
import { REPO } from "./support/cli.ts";

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = await Deno.stat(CHROMIUM).then(() => true, () => false);
if (!haveChromium) {
  console.error(
    `observe_browser_test: ${CHROMIUM} is absent, so the browser test is skipped (apt-get install -y chromium)`,
  );
}

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const EPOCHS = 3;
const STEPS = 8;
const LINES = EPOCHS * (STEPS + 2) + 1; // step lines, an epoch and a val line per epoch, a test line

async function isPng(file: string): Promise<number> {
  const bytes = await Deno.readFile(file);
  assert.deepEqual(
    [...bytes.subarray(0, 8)],
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    `${file} is a PNG`,
  );
  return bytes.length;
}

Deno.test({
  name:
    "browser: the run page charts grow live while a writer appends; the report renders from file://",
  ignore: !haveChromium,
  // playwright-core keeps pipes and timers of its own between calls.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const base = await Deno.makeTempDir({ prefix: "observe_browser_" });
    const shots = Deno.env.get("OBSERVE_SCREENSHOT_DIR") ?? join(base, "shots");
    await Deno.mkdir(shots, { recursive: true });
    const runDir = join(base, "runs", "live");
    await Deno.mkdir(runDir, { recursive: true });
    await Deno.writeTextFile(
      join(runDir, "params.json"),
      JSON.stringify({ train: { epochs: EPOCHS } }),
    );
    await Deno.writeTextFile(
      join(runDir, "record.json"),
      JSON.stringify({ format: "csn-run/1", pipeline: "full", run: "live", stages: {} }),
    );
    const controller = new AbortController();
    const server = serveDashboard({
      runsDir: join(base, "runs"),
      port: 0,
      signal: controller.signal,
      onListen: () => {},
    });
    const origin = `http://127.0.0.1:${server.addr.port}`;
    const context = await chromium.launchPersistentContext(join(base, "profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1320, height: 900 },
    });
    let writer: Deno.ChildProcess | undefined;
    let writerDone = false;
    try {
      const page = await context.newPage();
      const requests: string[] = [];
      const errors: string[] = [];
      page.on("request", (request) => requests.push(request.url()));
      page.on("pageerror", (error) => errors.push(error.message));
      page.on("console", (message) => {
        if (message.type() === "error") errors.push(message.text());
      });
      await page.goto(`${origin}/run/live`);
      assert.match(await page.locator("#charts").innerHTML(), /no data yet/);

      writer = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--no-prompt",
          join(REPO, "shared/observe/demo_writer.ts"),
          "--out",
          join(runDir, "metrics.jsonl"),
          "--interval-ms",
          "120",
          "--epochs",
          String(EPOCHS),
          "--steps",
          String(STEPS),
        ],
        stdout: "null",
        stderr: "piped",
      }).spawn();
      // In-page code is passed as source text: this file is type-checked without the DOM lib.
      const lossPoints = () =>
        page.evaluate<number>(
          `[...document.querySelectorAll('[data-chart="loss"] path.line')]
             .reduce((n, path) => n + Number(path.getAttribute("data-n")), 0)`,
        );
      const writerLog = new Response(writer.stderr).text();
      writer.status.then(() => (writerDone = true));
      // Sample the loss chart while the writer runs: it must gain points more than once.
      const samples: number[] = [];
      while (!writerDone) {
        samples.push(await lossPoints());
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.equal((await writer.status).code, 0, await writerLog);
      // Polled from here: the page's CSP (no eval) rules out waitForFunction with source text.
      const shownLines = () =>
        page.evaluate<string>(`document.getElementById("status")?.dataset.lines ?? ""`);
      for (let tries = 0; (await shownLines()) !== String(LINES); tries++) {
        assert.ok(tries < 40, `page shows ${await shownLines()} lines, expected ${LINES}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      samples.push(await lossPoints());
      const distinct = [...new Set(samples)];
      assert.ok(distinct.length >= 3, `loss points over time: ${samples.join(",")}`);
      assert.deepEqual(distinct, [...distinct].sort((a, b) => a - b), "points only grow");
      assert.equal(samples.at(-1), EPOCHS * STEPS);
      const valPoints = await page.evaluate<string[]>(
        `[...document.querySelectorAll('[data-chart="val_accuracy"] path.line')].map((p) => p.getAttribute("data-n"))`,
      );
      assert.deepEqual(valPoints, Array(5).fill(String(EPOCHS)));
      assert.equal(await page.locator('[data-chart="masks"] svg.heatmap').count(), EPOCHS);
      assert.match(
        await page.locator("#test-metrics").innerHTML(),
        /<th scope="row">overall<\/th><td>0\.\d{3}<\/td>/,
      );
      assert.match(
        (await page.locator("#status").textContent()) ?? "",
        /31 metrics lines · last .* · live/,
      );
      const dashboardShot = join(shots, "dashboard.png");
      await page.locator("#charts").evaluate((element) => element.scrollIntoView());
      await page.screenshot({ path: dashboardShot });
      assert.ok((await isPng(dashboardShot)) > 10_000);
      assert.deepEqual(
        requests.filter((url) => !url.startsWith(`${origin}/`)),
        [],
        "only the dashboard is contacted",
      );
      assert.deepEqual(errors, []);

      // The static report, opened from disk.
      const report = await writeReport(runDir);
      requests.length = 0;
      await page.goto(toFileUrl(report).href);
      // A path counts when it has a d attribute and the browser laid it out with a width.
      const drawn = await page.evaluate<Array<[string, number, number]>>(
        `[...document.querySelectorAll("figure[data-chart]")].map((figure) => [
          figure.getAttribute("data-chart"),
          [...figure.querySelectorAll("path.line")]
            .filter((p) => (p.getAttribute("d") ?? "").length > 2 && p.getBBox().width > 0).length,
          figure.querySelectorAll("rect.cell").length,
        ])`,
      );
      assert.deepEqual(drawn, [
        ["lr", 1, 0],
        ["loss", 1, 0],
        ["train_accuracy", 5, 0],
        ["val_accuracy", 5, 0],
        ["embed_norm", 1, 0],
        ["mask_norm", 1, 0],
        ["throughput", 1, 0],
        ["masks", 0, EPOCHS * 4 * 64],
      ]);
      assert.deepEqual(
        requests.filter((url) => !url.startsWith("file://")),
        [],
        "the report is self-contained",
      );
      const reportShot = join(shots, "report.png");
      await page.screenshot({ path: reportShot });
      assert.ok((await isPng(reportShot)) > 10_000);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
      // Only a writer left running by a failed assertion is stopped.
      if (writer && !writerDone) writer.kill();
      await writer?.status;
      controller.abort();
      await server.finished;
      await Deno.remove(base, { recursive: true });
    }
  },
});
