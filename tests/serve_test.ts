/**
 * The index stage and `deno task serve` on a tiny trained fonts run, through the CLI with the
 * tasks' permissions: every endpoint with real PNG, JPEG and WebP images, answers checked
 * against a naive search over the index artefact; every bad request's status, field and
 * message, with the server still answering after each; queueing past the concurrency bound;
 * SIGTERM draining the requests in flight; the OpenAPI document through an npm validator;
 * and the page in headless Chromium (screenshot in SERVE_SCREENSHOT_DIR when set).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import jpeg from "jpeg-js";
import sharp from "sharp";
import { decode as decodePng } from "fast-png";
import { Validator } from "@seriousme/openapi-schema-validator";
import { chromium } from "playwright-core";
import { openProject } from "../shared/pipeline/project.ts";
import { type IndexContents, readCatalogIndex } from "../shared/artefacts/catalog_index.ts";
import { removeTree } from "../shared/util/fs.ts";
import { cli, runJson } from "./support/cli.ts";
import { removeTreeSync } from "./support/tiny_project.ts";
import { servedProject, type ServeProcess, startServe } from "./support/served_project.ts";

/** Upload vs index embeddings: the same pixels through the same wasm kernels. */
const EMBED_TOLERANCE = 1e-4;
const CHROMIUM = "/usr/bin/chromium";
const haveChromium = await Deno.stat(CHROMIUM).then(() => true, () => false);

let built: Promise<{ dir: string; index: string; contents: IndexContents }> | undefined;
function project() {
  built ??= (async () => {
    const { dir, index } = await servedProject();
    // Removed when the test process ends, whichever tests ran (even after a failure).
    globalThis.addEventListener("unload", () => removeTreeSync(dir));
    const contents = await readCatalogIndex(await openProject(dir).store.open(index));
    return { dir, index, contents };
  })();
  return built;
}

async function getJson(url: string, init?: RequestInit) {
  const response = await fetch(url, init);
  return { status: response.status, body: await response.json() };
}

/** Masked distances over every dimension, float64, every item: the reference. */
function naiveSimilar(contents: IndexContents, c: number, q: ArrayLike<number>, skip: number) {
  const { d, count, mask_values } = contents.header;
  const e = contents.embeddings.length === 1 ? contents.embeddings[0]! : contents.embeddings[c]!;
  const m = mask_values[c]!;
  const rows = Array.from({ length: count }, (_, i) => {
    let sum = 0;
    for (let k = 0; k < d; k++) sum += ((e[i * d + k]! - q[k]!) * m[k]!) ** 2;
    return { id: i, distance: Math.sqrt(sum) };
  }).filter((r) => r.id !== skip);
  return rows.sort((a, b) => a.distance - b.distance || a.id - b.id);
}

function row(contents: IndexContents, id: number): Float32Array {
  const d = contents.header.d;
  return contents.embeddings[0]!.slice(id * d, (id + 1) * d);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  return Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)));
}

async function withServer(args: string[], body: (s: ServeProcess) => Promise<void>) {
  const { dir } = await project();
  const server = await startServe(dir, ["--run", "tiny", ...args]);
  try {
    await body(server);
  } finally {
    server.child.kill("SIGTERM");
    await server.exit();
  }
}

Deno.test("index stage: one artefact of every image with path and labels; cached on rerun", async () => {
  const { dir, index, contents } = await project();
  const { header } = contents;
  assert.equal(header.format, "csn-index/1");
  assert.equal(header.split, "all");
  assert.deepEqual(header.notions.map((n) => n.name), ["character", "family", "weight", "slant"]);
  assert.ok(header.count > 1000, `${header.count} items`);
  assert.equal(contents.embeddings[0]!.length, header.count * header.d);
  const families = new Set(header.items.map((item) => item.labels.family));
  assert.deepEqual([...families].sort(), ["caveat", "lato", "roboto"]);
  for (const item of header.items.slice(0, 50)) {
    assert.equal(item.path.split("/")[0], item.labels.family, item.path);
    assert.equal(item.path.split(":").at(-1), item.labels.character, item.path);
  }
  // Nothing changed, or only a param that cannot change the embeddings: no re-embedding.
  const again = await runJson(dir, "pipeline", ["tiny", "--set", "index.batch_size=7"]);
  const stage = again.stages.find((s) => s.name === "index")!;
  assert.equal(stage.status, "cached");
  assert.equal(stage.outputs.index, index);
});

Deno.test({
  name:
    "serve: every endpoint with PNG, JPEG, WebP and EXIF-turned TIFF images, against a naive search",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { contents } = await project();
    await withServer([], async ({ origin }) => {
      const notions = await getJson(`${origin}/api/notions`);
      assert.equal(notions.status, 200);
      assert.equal(notions.body.count, contents.header.count);
      assert.deepEqual(notions.body.notions.map((n: { dims: number }) => n.dims), [16, 16, 16, 16]);

      const page = await getJson(`${origin}/api/items?offset=10&limit=5`);
      assert.deepEqual(page.body.items.map((i: { id: number }) => i.id), [10, 11, 12, 13, 14]);
      const item = await getJson(`${origin}/api/items/7`);
      assert.equal(item.status, 200);
      assert.deepEqual(item.body.labels, contents.header.items[7]!.labels);
      assert.equal(item.body.path, contents.header.items[7]!.path);

      for (const [c, notion] of ["character", "family", "weight", "slant"].entries()) {
        const similar = await getJson(`${origin}/api/items/7/similar?notion=${notion}&k=12`);
        assert.equal(similar.status, 200);
        const expected = naiveSimilar(contents, c, row(contents, 7), 7).slice(0, 12);
        assert.deepEqual(
          similar.body.neighbours.map((n: { id: number }) => n.id),
          expected.map((r) => r.id),
        );
        similar.body.neighbours.forEach((n: { distance: number; rank: number }, i: number) => {
          assert.equal(n.rank, i + 1);
          assert.ok(Math.abs(n.distance - expected[i]!.distance) < 1e-5);
        });
      }

      const image = await fetch(`${origin}/api/items/7/image`);
      assert.equal(image.headers.get("content-type"), "image/png");
      const png = new Uint8Array(await image.arrayBuffer());
      const decoded = decodePng(png);
      assert.deepEqual([decoded.width, decoded.height, decoded.channels], [32, 32, 1]);

      // The item's own image, uploaded: the index's embedding of it, and itself first.
      const embed = await getJson(`${origin}/api/embed`, { method: "POST", body: png });
      assert.equal(embed.status, 200);
      assert.ok(maxDiff(embed.body.embedding, row(contents, 7)) < EMBED_TOLERANCE);
      const mask = contents.header.mask_values[1]!;
      assert.ok(
        maxDiff(embed.body.masked.family, Array.from(row(contents, 7), (v, k) => v * mask[k]!)) <
          EMBED_TOLERANCE,
      );
      const byPng = await getJson(`${origin}/api/similar?notion=family&k=5`, {
        method: "POST",
        headers: { "content-type": "image/png" },
        body: png,
      });
      assert.equal(byPng.status, 200);
      assert.equal(byPng.body.neighbours[0].id, 7);
      assert.ok(byPng.body.neighbours[0].distance < EMBED_TOLERANCE);

      // Lossless WebP: the same pixels, the same embedding.
      const webp = new Uint8Array(await sharp(png).webp({ lossless: true }).toBuffer());
      const byWebp = await getJson(`${origin}/api/embed`, { method: "POST", body: webp });
      assert.equal(byWebp.status, 200, JSON.stringify(byWebp.body));
      assert.ok(maxDiff(byWebp.body.embedding, row(contents, 7)) < EMBED_TOLERANCE);

      // TIFF stored sideways with orientation 6 (lossless): decoded upright, the same embedding.
      const sideways = new Uint8Array(
        await sharp(png).rotate(-90).tiff({ compression: "lzw" }).withMetadata({ orientation: 6 })
          .toBuffer(),
      );
      const byTiff = await getJson(`${origin}/api/embed`, { method: "POST", body: sideways });
      assert.equal(byTiff.status, 200, JSON.stringify(byTiff.body));
      assert.ok(maxDiff(byTiff.body.embedding, row(contents, 7)) < EMBED_TOLERANCE);
      const unturned = new Uint8Array(
        await sharp(png).rotate(-90).tiff({ compression: "lzw" }).toBuffer(),
      );
      const byUnturned = await getJson(`${origin}/api/embed`, { method: "POST", body: unturned });
      assert.ok(maxDiff(byUnturned.body.embedding, row(contents, 7)) > EMBED_TOLERANCE * 10);

      // JPEG (lossy, RGB): answered, neighbours ordered, distances from its own embedding.
      const rgba = new Uint8Array(32 * 32 * 4);
      decoded.data.forEach((v, p) => rgba.set([v, v, v, 255], p * 4));
      const jpg = new Uint8Array(jpeg.encode({ data: rgba, width: 32, height: 32 }, 95).data);
      const jpgEmbed = await getJson(`${origin}/api/embed`, { method: "POST", body: jpg });
      const byJpeg = await getJson(`${origin}/api/similar?notion=character&k=4`, {
        method: "POST",
        body: jpg,
      });
      assert.equal(byJpeg.status, 200);
      const expected = naiveSimilar(contents, 0, jpgEmbed.body.embedding, -1).slice(0, 4);
      assert.deepEqual(
        byJpeg.body.neighbours.map((n: { id: number }) => n.id),
        expected.map((r) => r.id),
      );

      const spec = await getJson(`${origin}/api/openapi.json`);
      const validator = new Validator();
      const result = await validator.validate(spec.body);
      assert.equal(result.valid, true, JSON.stringify(result.errors));
      assert.equal(validator.version, "3.1");
      assert.deepEqual(
        Object.keys(spec.body.paths).sort(),
        [
          "/api/embed",
          "/api/items",
          "/api/items/{id}",
          "/api/items/{id}/image",
          "/api/items/{id}/similar",
          "/api/notions",
          "/api/similar",
        ],
      );
    });
  },
});

Deno.test({
  name: "serve: each bad request gets its status and a message naming the field; serving goes on",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { contents } = await project();
    const count = contents.header.count;
    await withServer(["--max-upload", "4096"], async ({ origin }) => {
      const png = new Uint8Array(await (await fetch(`${origin}/api/items/3/image`)).arrayBuffer());
      const corrupt = png.slice();
      corrupt.fill(7, 40, 90);
      // A valid PNG header claiming 60,000 x 60,000 pixels: refused before decoding.
      const bomb = png.slice();
      new DataView(bomb.buffer).setUint32(16, 60_000);
      new DataView(bomb.buffer).setUint32(20, 60_000);
      const cases: [string, string, BodyInit | undefined, number, string | undefined, RegExp][] = [
        ["GET", `/api/items/${count}`, undefined, 404, "id", new RegExp(`ids 0 to ${count - 1}`)],
        [
          "GET",
          "/api/items/x1/similar?notion=family",
          undefined,
          404,
          "id",
          /Cannot find item "x1"/,
        ],
        [
          "GET",
          "/api/items/3/similar?notion=heel",
          undefined,
          400,
          "notion",
          /notion "heel": it is unknown; expected one of character, family, weight, slant/,
        ],
        [
          "GET",
          "/api/items/3/similar?notion=famly",
          undefined,
          400,
          "notion",
          /did you mean "family"/,
        ],
        ["GET", "/api/items/3/similar", undefined, 400, "notion", /notion is missing/],
        [
          "GET",
          "/api/items/3/similar?notion=family&k=0",
          undefined,
          400,
          "k",
          /k="0": expected a whole number from 1 to 100/,
        ],
        ["GET", "/api/items/3/similar?notion=family&k=101", undefined, 400, "k", /k="101"/],
        ["GET", "/api/items/3/similar?notion=family&k=ten", undefined, 400, "k", /k="ten"/],
        ["GET", "/api/items?limit=0", undefined, 400, "limit", /limit="0"/],
        ["POST", "/api/similar?notion=family&k=-1", png, 400, "k", /k="-1"/],
        ["POST", "/api/similar?notion=shoe", png, 400, "notion", /notion "shoe"/],
        ["POST", "/api/embed?invert=maybe", png, 400, "invert", /expected true or false/],
        [
          "POST",
          "/api/embed",
          new Uint8Array(5000).fill(0x89),
          413,
          undefined,
          /the limit is 4096 bytes/,
        ],
        [
          "POST",
          "/api/similar?notion=family",
          "just text",
          415,
          "body",
          /not a JPEG, PNG, WebP, TIFF or AVIF image \(it starts with bytes 6a 75 73 74\)/,
        ],
        ["POST", "/api/embed", new Uint8Array(0), 400, "body", /the body is empty/],
        ["POST", "/api/embed", corrupt, 400, "body", /Cannot decode the uploaded png image/],
        ["POST", "/api/embed", bomb, 400, "body", /60000x60000, over the limit of 50 megapixels/],
        ["DELETE", "/api/notions", undefined, 405, undefined, /it answers GET/],
        ["GET", "/api/nothing", undefined, 404, undefined, /no such route/],
      ];
      for (const [method, path, body, status, field, message] of cases) {
        const answer = await getJson(`${origin}${path}`, { method, body });
        assert.equal(answer.status, status, `${method} ${path}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.error.status, status);
        assert.equal(answer.body.error.field, field, `${method} ${path}`);
        assert.match(answer.body.error.message, message, `${method} ${path}`);
        assert.match(answer.body.error.message, /^Cannot /);
        const alive = await fetch(`${origin}/api/notions`);
        assert.equal(alive.status, 200, `after ${method} ${path}`);
        await alive.body?.cancel();
      }
      // An upload streamed without Content-Length is cut off at the limit too.
      const stream = new ReadableStream({
        start(controller) {
          for (let i = 0; i < 10; i++) controller.enqueue(new Uint8Array(1000));
          controller.close();
        },
      });
      const streamed = await getJson(`${origin}/api/embed`, {
        method: "POST",
        body: stream,
        // @ts-ignore: Deno's fetch takes duplex for streamed bodies
        duplex: "half",
      });
      assert.equal(streamed.status, 413);
    });
  },
});

Deno.test({
  name: "serve: requests past the concurrency bound queue; SIGTERM drains those in flight",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { dir } = await project();
    const server = await startServe(dir, ["--run", "tiny", "--concurrency", "2"]);
    const { origin } = server;
    const png = new Uint8Array(await (await fetch(`${origin}/api/items/3/image`)).arrayBuffer());
    const many = await Promise.all(
      Array.from(
        { length: 200 },
        (_, i) =>
          fetch(`${origin}/api/items/${i}/similar?notion=weight&k=3`).then(async (r) => {
            await r.body?.cancel();
            return r.status;
          }),
      ),
    );
    assert.deepEqual(new Set(many), new Set([200]));
    // In flight when SIGTERM lands: uploads whose bodies arrive slowly, in two halves.
    const slowUpload = () => {
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(png.slice(0, 40));
          await new Promise((r) => setTimeout(r, 400));
          controller.enqueue(png.slice(40));
          controller.close();
        },
      });
      // @ts-ignore: Deno's fetch takes duplex for streamed bodies
      return fetch(`${origin}/api/embed`, { method: "POST", body, duplex: "half" })
        .then(async (r) => ({ status: r.status, d: (await r.json()).d }));
    };
    const uploads = Array.from({ length: 6 }, slowUpload);
    await new Promise((r) => setTimeout(r, 200));
    server.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 50));
    const late = await getJson(`${origin}/api/notions`);
    assert.equal(late.status, 503);
    assert.match(late.body.error.message, /the server is stopping/);
    const results = await Promise.all(uploads);
    assert.deepEqual(results, Array(6).fill({ status: 200, d: 64 }));
    const { code, log } = await server.exit();
    assert.equal(code, 0, log);
    assert.match(log, /SIGTERM: finishing the requests in flight/);
    assert.match(log, /serve: stopped/);
    await assert.rejects(fetch(`${origin}/api/notions`));
  },
});

Deno.test({
  name: "serve page: pick an item, switch notions without reloading, drop an image (Chromium)",
  ignore: !haveChromium,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { contents } = await project();
    const shots = Deno.env.get("SERVE_SCREENSHOT_DIR") ?? await Deno.makeTempDir();
    // The default backend (auto), as users start it.
    await withServer(["--backend", "auto"], async ({ origin }) => {
      const profile = await Deno.makeTempDir({ prefix: "serve_browser_" });
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
        viewport: { width: 1100, height: 900 },
      });
      try {
        const page = await context.newPage();
        const errors: string[] = [];
        page.on("pageerror", (error) => errors.push(error.message));
        let loads = 0;
        page.on("load", () => loads++);
        await page.goto(origin);
        await page.locator("#catalog .card").first().waitFor();
        assert.equal(await page.locator("#catalog .card").count(), 48);
        await page.locator('#catalog .card[data-id="40"]').click();
        // In-page code as source text: this file is type-checked without the DOM lib.
        const ids = () =>
          page.evaluate<string[]>(
            `[...document.querySelectorAll("#results .card")].map((c) => c.dataset.id)`,
          );
        const waitFor = async (check: () => Promise<boolean>, what: string) => {
          for (let tries = 0; !(await check()); tries++) {
            assert.ok(tries < 100, `page never showed ${what}`);
            await new Promise((r) => setTimeout(r, 50));
          }
        };
        await waitFor(async () => (await ids()).length === 10, "10 neighbours");
        const expected = (c: number) =>
          naiveSimilar(contents, c, row(contents, 40), 40).slice(0, 10).map((r) => String(r.id));
        assert.deepEqual(await ids(), expected(0));
        const current = await page.locator("#results .card span.current").allTextContents();
        assert.deepEqual(
          current,
          expected(0).map((id) => contents.header.items[Number(id)]!.labels.character),
        );

        await page.selectOption("#notion", "family");
        await waitFor(
          async () => (await ids()).join() === expected(1).join(),
          "family's neighbours",
        );
        const families = await page.locator("#results .card span.current").allTextContents();
        assert.deepEqual(
          families,
          expected(1).map((id) => contents.header.items[Number(id)]!.labels.family),
        );
        assert.equal(loads, 1, "the page reloaded");

        // A file of the user's: item 40's image, so its nearest neighbour is item 40 itself.
        const png = new Uint8Array(
          await (await fetch(`${origin}/api/items/40/image`)).arrayBuffer(),
        );
        await page.setInputFiles("#file", {
          name: "mine.png",
          mimeType: "image/png",
          buffer: Buffer.from(png),
        });
        await waitFor(async () => (await ids())[0] === "40", "the upload's neighbours");
        assert.equal(await page.locator("#query img").getAttribute("alt"), "mine.png");
        await page.selectOption("#notion", "weight");
        await waitFor(
          async () =>
            (await page.locator("#results .card span.current").first().getAttribute("title")) ===
              "weight",
          "the upload's weight neighbours",
        );
        assert.equal((await ids())[0], "40");
        await page.selectOption("#notion", "character");
        await page.locator('#catalog .card[data-id="40"]').click();
        await waitFor(async () => (await ids()).join() === expected(0).join(), "item 40 again");
        await page.evaluate("window.scrollTo(0, 0)");
        await page.screenshot({ path: join(shots, "serve_page.png"), fullPage: false });
        assert.deepEqual(errors, []);
        assert.equal(await page.locator("#status").textContent(), "");
      } finally {
        await context.close();
        await removeTree(profile);
      }
    });
  },
});

Deno.test("serve: a run without a record or an index, or both flags, is a clear error", async () => {
  const { dir } = await project();
  const missing = await cli(dir, "serve", ["--run", "nope", "--port", "0"]);
  assert.equal(missing.code, 1, missing.stderr);
  assert.match(missing.stderr, /Cannot serve run "nope": runs\/nope\/record\.json does not exist/);
  const both = await cli(dir, "serve", ["--run", "tiny", "--index", "abc", "--port", "0"]);
  assert.equal(both.code, 2, both.stderr);
  assert.match(both.stderr, /give --run NAME or --index REF, not both/);
  const unknown = await cli(dir, "serve", ["--index", "0123456789abcdef", "--port", "0"]);
  assert.equal(unknown.code, 1, unknown.stderr);
  assert.match(unknown.stderr, /Cannot find artefact "0123456789abcdef": it is not in the store/);
});
