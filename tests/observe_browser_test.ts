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
import { syntheticRecords } from "../shared/observe/demo_writer.ts";
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
          join(REPO, "shared/cli/demo_writer_main.ts"),
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

async function writeViewRun(dir: string, lr: number, accuracy: number, seed: number) {
  await Deno.mkdir(dir, { recursive: true });
  const records = syntheticRecords({ epochs: 2, stepsPerEpoch: 12, seed });
  await Deno.writeTextFile(
    join(dir, "metrics.jsonl"),
    records.map((r) => JSON.stringify(r) + "\n").join(""),
  );
  await Deno.writeTextFile(
    join(dir, "params.json"),
    JSON.stringify({ train: { lr, epochs: 2, mode: "csn" } }),
  );
  await Deno.writeTextFile(
    join(dir, "record.json"),
    JSON.stringify({
      format: "csn-run/1",
      pipeline: "full",
      run: "x",
      stages: { test: { metrics: { accuracy, per_condition: { heel: accuracy } } } },
    }),
  );
  return records;
}

Deno.test({
  name:
    "browser: runs table sorts and filters; compare shows params; smoothing, log y, CSV download",
  ignore: !haveChromium,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const base = await Deno.makeTempDir({ prefix: "observe_views_" });
    const runs = join(base, "runs");
    await writeViewRun(join(runs, "alpha"), 5e-5, 0.81, 1);
    await writeViewRun(join(runs, "beta"), 2e-4, 0.62, 2);
    await writeViewRun(join(runs, "gamma"), 1e-3, 0.7, 3);
    const controller = new AbortController();
    const server = serveDashboard({
      runsDir: runs,
      port: 0,
      signal: controller.signal,
      onListen: () => {},
    });
    const origin = `http://127.0.0.1:${server.addr.port}`;
    const context = await chromium.launchPersistentContext(join(base, "profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      acceptDownloads: true,
      viewport: { width: 1320, height: 900 },
    });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      await page.goto(`${origin}/`);
      const order = () =>
        page.evaluate<string[]>(
          `[...document.querySelectorAll("table.runs tbody tr")].filter((r) => !r.hidden).map((r) => r.dataset.run)`,
        );
      assert.deepEqual(await order(), ["alpha", "beta", "gamma"]);
      const sortBy = (key: string) => page.locator(`th[data-key="${key}"] button.sort`).click();
      await sortBy("test.accuracy");
      assert.deepEqual(await order(), ["beta", "gamma", "alpha"]);
      assert.equal(
        await page.locator('th[data-key="test.accuracy"]').getAttribute("aria-sort"),
        "ascending",
      );
      await sortBy("test.accuracy");
      assert.deepEqual(await order(), ["alpha", "gamma", "beta"]);
      await sortBy("train.lr");
      assert.deepEqual(await order(), ["alpha", "beta", "gamma"]);
      await page.locator("#runs-filter").fill("train.lr<0.0005 test.accuracy>0.7");
      assert.deepEqual(await order(), ["alpha"]);
      assert.equal(await page.locator("#runs-shown").textContent(), "1 of 3 runs");
      await page.locator("#runs-filter").fill("");
      assert.deepEqual(await order(), ["alpha", "beta", "gamma"]);
      // train.epochs is 2 everywhere: hidden until asked for.
      const epochsShown = () => page.locator('th[data-key="train.epochs"]').isVisible();
      assert.equal(await epochsShown(), false);
      await page.locator("#runs-all-params").check();
      assert.equal(await epochsShown(), true);
      const runsShot = join(Deno.env.get("OBSERVE_SCREENSHOT_DIR") ?? base, "runs.png");
      await page.screenshot({ path: runsShot });
      assert.ok((await isPng(runsShot)) > 5_000);
      // Compare two ticked runs.
      await page.locator('input[name="runs"][value="alpha"]').check();
      await page.locator('input[name="runs"][value="gamma"]').check();
      await Promise.all([
        page.waitForURL(/\/compare\?/),
        page.locator('button[type="submit"]').click(),
      ]);
      assert.match(
        await page.locator('table[data-table="params"] tr.differs').first().innerText(),
        /train\.lr\s+5\.00e-5\s+0\.001/,
      );
      assert.equal(await page.locator('table[data-table="params"] tr.differs').count(), 1);
      const synced = () =>
        page.evaluate<string>(`document.getElementById("status")?.dataset.lines ?? ""`);
      for (let tries = 0; (await synced()) === ""; tries++) {
        assert.ok(tries < 40, "the compare page never synced");
        await new Promise((r) => setTimeout(r, 250));
      }
      const lossPath = () =>
        page.locator('[data-chart="loss"] path.line[data-series="alpha"]').getAttribute("d");
      const raw = await lossPath();
      await page.locator("#smoothing").fill("0.9");
      const smooth = await lossPath();
      assert.notEqual(smooth, raw, "smoothing redraws the curve");
      assert.equal(await page.locator("#smoothing-value").textContent(), "0.9");
      // Smoothed paths wiggle less: total vertical travel shrinks.
      const travel = (d: string | null) => {
        const ys = [...(d ?? "").matchAll(/[ML][\d.]+ ([\d.]+)/g)].map((m) => Number(m[1]));
        return ys.slice(1).reduce((s, y, i) => s + Math.abs(y - ys[i]!), 0);
      };
      assert.ok(travel(smooth) < travel(raw), `${travel(smooth)} < ${travel(raw)}`);
      assert.equal(await page.locator('[data-chart="loss"] svg[data-log-y]').count(), 0);
      await page.locator("#log-y").check();
      assert.equal(await page.locator('[data-chart="loss"] svg[data-log-y="1"]').count(), 1);
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.locator('[data-chart="loss"] a.csv').click(),
      ]);
      assert.equal(download.suggestedFilename(), "loss.csv");
      const csv = await Deno.readTextFile((await download.path())!);
      const lines = csv.trim().split("\n");
      assert.equal(lines[0], "series,step,value,smoothed");
      assert.equal(lines.length, 1 + 2 * 24, "every step of both runs");
      assert.match(lines[1]!, /^alpha,1,[\d.]+,[\d.]+$/);
      assert.deepEqual(errors, []);
      const shot = join(Deno.env.get("OBSERVE_SCREENSHOT_DIR") ?? base, "compare.png");
      await page.screenshot({ path: shot, fullPage: true });
      assert.ok((await isPng(shot)) > 10_000);
    } finally {
      await context.close();
      controller.abort();
      await server.finished;
      await Deno.remove(base, { recursive: true });
    }
  },
});
