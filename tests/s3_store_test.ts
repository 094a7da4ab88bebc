/** The S3 store against a real S3 server (fauxqs on 127.0.0.1), in-process and via the CLI. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { S3Client } from "../shared/store/s3_client.ts";
import { parseS3Url, s3SettingsFromEnv } from "../shared/store/s3_config.ts";
import { S3Store } from "../shared/store/s3_store.ts";
import { partRanges } from "../shared/store/s3_transfer.ts";
import { Limiter } from "../shared/util/limit.ts";
import { exists, removeTree } from "../shared/util/fs.ts";
import { sha256Hex } from "../shared/util/hash.ts";
import { cli, copyProject, runJson, statuses } from "./support/cli.ts";
import { startS3, startSignedS3, type TestS3 } from "./support/s3_server.ts";
import { proxyS3 } from "./support/s3_proxy.ts";
import { bytesOf } from "./support/values.ts";

function storeOf(s3: TestS3, prefix: string, cacheRoot: string, partSize = 5 << 20) {
  const client = new S3Client(s3SettingsFromEnv((name) => s3.env[name]), s3.bucket);
  return new S3Store(client, prefix, cacheRoot, { partSize, parallel: 3 });
}

Deno.test("s3:// URLs and AWS settings are parsed, bad ones are clear errors", () => {
  assert.deepEqual(parseS3Url("s3://my-bucket/runs/csn/"), {
    bucket: "my-bucket",
    prefix: "runs/csn",
  });
  assert.deepEqual(parseS3Url("s3://my-bucket"), { bucket: "my-bucket", prefix: "" });
  assert.throws(() => parseS3Url("http://x/y"), /Cannot use store "http:\/\/x\/y": expected s3:/);
  assert.throws(() => parseS3Url("s3://B_ad/x"), /bucket "B_ad" is not a valid/);
  assert.throws(() => parseS3Url("s3://good/../x"), /may not contain/);
  const env: Record<string, string> = { AWS_REGION: "eu-west-1" };
  assert.throws(
    () => s3SettingsFromEnv((name) => env[name]),
    /Cannot use the S3 store at https:\/\/s3\.eu-west-1\.amazonaws\.com: AWS_ACCESS_KEY_ID/,
  );
  assert.deepEqual(partRanges(10, 4), [[0, 4], [4, 8], [8, 10]]);
  assert.deepEqual(partRanges(0, 4), []);
});

Deno.test("the limiter never runs more than its bound at once", async () => {
  const limit = new Limiter(3);
  let peak = 0;
  await Promise.all(Array.from({ length: 20 }, (_, i) =>
    limit.run(async () => {
      peak = Math.max(peak, limit.active);
      await new Promise((resolve) => setTimeout(resolve, i % 3));
    })));
  assert.equal(peak, 3);
  assert.equal(limit.active, 0);
});

Deno.test("an artefact goes up in parts and comes back verified on another machine", async () => {
  const s3 = await startS3();
  const [one, two] = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  try {
    const writer = storeOf(s3, "p", one);
    const big = bytesOf(11 << 20, 7); // 3 parts of 5 MiB
    const draft = await writer.draft();
    await Deno.mkdir(join(draft.dir, "sub"));
    await Deno.writeFile(join(draft.dir, "sub", "big.bin"), big);
    await Deno.writeTextFile(join(draft.dir, "small.txt"), "hello");
    await Deno.writeFile(join(draft.dir, "empty"), new Uint8Array());
    const id = await draft.commit();
    assert.deepEqual(await writer.list(), [id]);
    assert.ok(s3.objectFile(`p/objects/${id}/listing.json`));
    const reader = storeOf(s3, "p", two);
    assert.deepEqual(await reader.verify(id), { intact: true, rehashed: 0 });
    const dir = await reader.open(id);
    assert.equal(dir, join(two, "objects", id, "files"), "materialised in the reader's cache");
    assert.equal(sha256Hex(await Deno.readFile(join(dir, "sub", "big.bin"))), sha256Hex(big));
    assert.equal(await Deno.readTextFile(join(dir, "small.txt")), "hello");
    assert.equal((await Deno.stat(join(dir, "empty"))).size, 0);
    assert.deepEqual(await reader.verify(id, "full"), { intact: true, rehashed: 3 });
    assert.equal(await writer.upload(id), "present", "a second upload of an id is skipped");
    assert.ok((await reader.modified(id)) > Date.now() - 60_000);
    await reader.remove(id);
    assert.deepEqual(await writer.list(), []);
    assert.deepEqual(await writer.verify(id), { intact: false, problem: "absent" });
  } finally {
    await s3.stop();
    await removeTree(one);
    await removeTree(two);
  }
});

Deno.test("kill -9 during an upload leaves no visible artefact; the next commit completes it", async () => {
  const s3 = await startS3();
  const cache = await Deno.makeTempDir();
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./support/s3_commit_child.ts", import.meta.url).pathname,
        "slow",
      ],
      env: { ...s3.env, CACHE: cache, BUCKET: s3.bucket },
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const multipart = join(s3.objectFile("x"), "..", "..", "..", "..", "_multipart");
    // Kill once some parts are stored but the upload is not complete.
    for (let i = 0; i < 600 && (await countParts(multipart)) < 1; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok((await countParts(multipart)) >= 1, "the child got to upload parts");
    child.kill("SIGKILL");
    assert.equal((await child.status).signal, "SIGKILL");
    await child.stdout.cancel();
    const store = storeOf(s3, "p", await Deno.makeTempDir());
    assert.deepEqual(await store.list(), [], "no listing, so no artefact");
    const again = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("./support/s3_commit_child.ts", import.meta.url).pathname],
      env: { ...s3.env, CACHE: await Deno.makeTempDir(), BUCKET: s3.bucket },
    }).output();
    assert.equal(again.code, 0, new TextDecoder().decode(again.stderr));
    const id = new TextDecoder().decode(again.stdout).trim();
    assert.deepEqual(await store.list(), [id]);
    assert.deepEqual(await store.verify(id, "full"), { intact: true, rehashed: 1 });
  } finally {
    await s3.stop();
    await removeTree(cache);
  }
});

async function countParts(multipart: string): Promise<number> {
  let parts = 0;
  try {
    for await (const upload of Deno.readDir(multipart)) {
      for await (const _ of Deno.readDir(join(multipart, upload.name, "parts"))) parts++;
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return parts;
}

Deno.test("stages on separate machines sharing only the bucket make the local run's ids", async () => {
  const s3 = await startS3();
  const url = `s3://${s3.bucket}/demo`;
  const local = await copyProject("tests/fixtures/pipeline_project");
  const machines: string[] = [];
  try {
    const reference = await runJson(local, "pipeline", ["demo"]);
    for (const stage of ["source", "upper", "summary"]) {
      const machine = await copyProject("tests/fixtures/pipeline_project");
      machines.push(machine);
      const report = await runJson(
        machine,
        "stage",
        [stage, "--pipeline", "demo", "--store", url],
        s3.env,
      );
      assert.deepEqual(statuses(report), { [stage]: "ran" });
      const expected = reference.stages.find((s) => s.name === stage)!;
      assert.deepEqual(report.stages[0]!.outputs, expected.outputs, `${stage}: same output ids`);
      assert.deepEqual(report.stages[0]!.metrics, expected.metrics);
    }
    const fresh = await copyProject("tests/fixtures/pipeline_project");
    machines.push(fresh);
    const all = await runJson(fresh, "pipeline", ["demo"], { ...s3.env, CSN_STORE: url });
    assert.deepEqual(statuses(all), { source: "cached", upper: "cached", summary: "cached" });
    assert.deepEqual(all.stages.map((s) => s.outputs), reference.stages.map((s) => s.outputs));
    const published = JSON.parse(
      await Deno.readTextFile(join(fresh, "runs/demo/summary/report.json")),
    );
    assert.equal(published.files, 3, "published files come down from the bucket");
    const report = reference.stages[2]!.outputs.report!;
    const whole = await exists(join(fresh, "data/remote-cache/objects", report));
    assert.equal(whole, false, "publishing fetched report.json alone, not the whole artefact");
    const status = await runJson(fresh, "status", ["demo", "--store", url], s3.env);
    assert.deepEqual(statuses(status), { source: "cached", upper: "cached", summary: "cached" });
  } finally {
    await s3.stop();
    for (const dir of [local, ...machines]) await removeTree(dir);
  }
});

Deno.test("a flipped byte in a remote object is detected on read, reported, and rebuilt", async () => {
  const s3 = await startS3();
  const url = `s3://${s3.bucket}/demo`;
  const [first, second] = [
    await copyProject("tests/fixtures/pipeline_project"),
    await copyProject("tests/fixtures/pipeline_project"),
  ];
  try {
    const made = await runJson(first, "pipeline", ["demo", "--store", url], s3.env);
    const id = made.stages[1]!.outputs.files!;
    const victim = s3.objectFile(`demo/objects/${id}/files/1.txt`);
    const bytes = await Deno.readFile(victim);
    bytes[0] = bytes[0]! ^ 0x20;
    await Deno.writeFile(victim, bytes);
    const read = await cli(second, "stage", [
      "summary",
      "--pipeline",
      "demo",
      "--store",
      url,
      "--force",
    ], s3.env);
    assert.equal(read.code, 1, read.stderr);
    assert.match(
      read.stderr,
      new RegExp(`error: Cannot read artefact ${id} from s3://csn-test/demo/`),
    );
    assert.match(read.stderr, /1\.txt: content does not match its sha256 .*moved aside/);
    assert.equal(await exists(join(second, "data/remote-cache/objects", id)), false);
    const rebuilt = await runJson(second, "pipeline", ["demo", "--store", url], s3.env);
    assert.deepEqual(statuses(rebuilt), { source: "cached", upper: "ran", summary: "cached" });
    assert.match(rebuilt.stages[1]!.reason, /cached result damaged: output files .* absent/);
    assert.equal(rebuilt.stages[1]!.outputs.files, id, "same content, same id");
    const store = storeOf(s3, "demo", await Deno.makeTempDir());
    assert.deepEqual(await store.verify(id, "full"), { intact: true, rehashed: 3 });
    const { keys } = await store.client.list("demo/damaged/");
    assert.equal(keys.length, 1, "the damage is recorded in the bucket");
  } finally {
    await s3.stop();
    await removeTree(first);
    await removeTree(second);
  }
});

Deno.test("an unreachable endpoint is a clear error naming it, and nothing local is lost", async () => {
  const dir = await copyProject("tests/fixtures/pipeline_project");
  try {
    const local = await runJson(dir, "pipeline", ["demo"]);
    const endpoint = "http://127.0.0.1:9";
    const env = {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: "a",
      AWS_SECRET_ACCESS_KEY: "b",
      CSN_S3_ATTEMPTS: "2",
    };
    const result = await cli(dir, "pipeline", ["demo", "--store", "s3://csn-test/x"], env);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /error: Cannot reach the S3 endpoint http:\/\/127\.0\.0\.1:9 /);
    assert.match(result.stderr, /s3:\/\/csn-test\/x\/cache\/[0-9a-f]{64}\.json/);
    const again = await runJson(dir, "pipeline", ["demo"]);
    assert.deepEqual(statuses(again), { source: "cached", upper: "cached", summary: "cached" });
    assert.deepEqual(again.stages.map((s) => s.outputs), local.stages.map((s) => s.outputs));
    const missing = await cli(dir, "status", ["demo", "--store", "s3://csn-test/x"], {
      AWS_ACCESS_KEY_ID: "",
      AWS_ENDPOINT_URL: endpoint,
    });
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /Cannot use the S3 store at http:\/\/127\.0\.0\.1:9: AWS_ACCESS_KEY_ID/,
    );
  } finally {
    await removeTree(dir);
  }
});

// s3rver checks the access key of a SigV4 request (not yet the signature itself).
Deno.test("refused credentials are a clear error naming the endpoint (s3rver)", async () => {
  const s3 = await startSignedS3();
  const dir = await copyProject("tests/fixtures/pipeline_project");
  const url = `s3://${s3.bucket}/signed`;
  try {
    const local = await runJson(dir, "pipeline", ["demo"]);
    const good = await runJson(dir, "pipeline", ["demo", "--store", url], s3.env);
    assert.deepEqual(statuses(good), { source: "ran", upper: "ran", summary: "ran" });
    const env = { ...s3.env, AWS_ACCESS_KEY_ID: "NOBODY" };
    const refused = await cli(dir, "status", ["demo", "--store", url], env);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(
      refused.stderr,
      new RegExp(`at ${s3.endpoint}: the endpoint refused the credentials`),
    );
    assert.match(refused.stderr, /403 InvalidAccessKeyId/);
    const untouched = await runJson(dir, "pipeline", ["demo"]);
    assert.deepEqual(
      untouched.stages.map((s) => [s.status, s.outputs]),
      local.stages.map((s) => ["cached", s.outputs]),
      "nothing local is lost",
    );
    const again = await runJson(dir, "pipeline", ["demo", "--store", url], s3.env);
    assert.deepEqual(statuses(again), { source: "cached", upper: "cached", summary: "cached" });
  } finally {
    await s3.stop();
    await removeTree(dir);
  }
});

Deno.test("transfers stay within the bound and ride out 503 SlowDown with backoff", async () => {
  const s3 = await startS3();
  const proxy = proxyS3(s3.endpoint, { failFirst: 3 });
  const cache = await Deno.makeTempDir();
  try {
    const settings = s3SettingsFromEnv((name) =>
      ({ ...s3.env, AWS_ENDPOINT_URL: proxy.endpoint })[name]
    );
    const client = new S3Client(settings, s3.bucket, { attempts: 5, backoffMs: 10 });
    const store = new S3Store(client, "bounded", cache, { partSize: 5 << 20, parallel: 2 });
    const draft = await store.draft();
    for (const name of ["a", "b", "c"]) {
      await Deno.writeFile(join(draft.dir, name), bytesOf(11 << 20, name.charCodeAt(0)));
    }
    const id = await draft.commit();
    assert.equal(proxy.failed, 3, "the first requests were refused and retried");
    assert.equal(proxy.peak, 2, "never more than 2 requests in flight, over all files and parts");
    assert.deepEqual(await storeOf(s3, "bounded", await Deno.makeTempDir()).verify(id, "full"), {
      intact: true,
      rehashed: 3,
    });
    const stubborn = proxyS3(s3.endpoint, { failFirst: 1000 });
    try {
      const env: Record<string, string> = { ...s3.env, AWS_ENDPOINT_URL: stubborn.endpoint };
      const tired = new S3Client(s3SettingsFromEnv((name) => env[name]), s3.bucket, {
        attempts: 3,
        backoffMs: 5,
      });
      await assert.rejects(
        () => tired.get("bounded/x"),
        new RegExp(`Cannot GET s3://csn-test/bounded/x at ${stubborn.endpoint}: 503 SlowDown`),
      );
      assert.equal(stubborn.failed, 3, "three attempts, then a clear error");
    } finally {
      await stubborn.close();
    }
  } finally {
    await proxy.close();
    await s3.stop();
    await removeTree(cache);
  }
});

Deno.test("gc against the bucket removes unreferenced artefacts and their cache entries", async () => {
  const s3 = await startS3();
  const url = `s3://${s3.bucket}/gc`;
  const dir = await copyProject("tests/fixtures/pipeline_project");
  try {
    const made = await runJson(dir, "pipeline", ["demo", "--store", url], s3.env);
    const kept = await cli(dir, "gc", ["--store", url, "--min-age", "0", "--json"], s3.env);
    assert.equal(kept.code, 0, kept.stderr);
    assert.deepEqual(JSON.parse(kept.stdout).removed, [], "the run references all three");
    await removeTree(join(dir, "runs"));
    const gone = await cli(dir, "gc", ["--store", url, "--min-age", "0", "--json"], s3.env);
    assert.equal(gone.code, 0, gone.stderr);
    const result = JSON.parse(gone.stdout);
    const ids = made.stages.flatMap((stage) => Object.values(stage.outputs)).sort();
    assert.deepEqual([...result.removed].sort(), ids);
    assert.equal(result.cacheEntries, 3);
    const store = storeOf(s3, "gc", await Deno.makeTempDir());
    assert.deepEqual(await store.list(), []);
    assert.deepEqual((await store.client.list("gc/")).keys.map((k) => k.key), []);
  } finally {
    await s3.stop();
    await removeTree(dir);
  }
});

Deno.test("a rewritten remote object: a cached run on a fresh machine notices, verify sets it aside, push repairs", async () => {
  const s3 = await startS3();
  const url = `s3://${s3.bucket}/demo`;
  const [good, fresh, other] = [
    await copyProject("tests/fixtures/pipeline_project"),
    await copyProject("tests/fixtures/pipeline_project"),
    await copyProject("tests/fixtures/pipeline_project"),
  ];
  const client = new S3Client(s3SettingsFromEnv((name) => s3.env[name]), s3.bucket);
  // Damage through the S3 API, as a tool or a person rewriting an object would: a flipped byte.
  const flip = async (id: string) => {
    const key = `demo/objects/${id}/files/1.txt`;
    const bytes = new Uint8Array((await client.get(key))!);
    bytes[0] = bytes[0]! ^ 0x20;
    await client.put(key, bytes);
  };
  try {
    const made = await runJson(good, "pipeline", ["demo", "--store", url], s3.env);
    const id = made.stages[1]!.outputs.files!;
    await flip(id);
    const rerun = await runJson(fresh, "pipeline", ["demo", "--store", url], s3.env);
    assert.deepEqual(statuses(rerun), { source: "cached", upper: "ran", summary: "cached" });
    assert.match(rerun.stages[1]!.reason, /cached result damaged: output files .*1\.txt: /);
    assert.deepEqual(await storeOf(s3, "demo", other).verify(id, "full"), {
      intact: true,
      rehashed: 3,
    }, "rebuilding uploaded the good bytes again");

    await flip(id);
    const verify = await cli(other, "verify", ["--store", url, "--json"], s3.env);
    assert.equal(verify.code, 1, verify.stderr);
    const found = JSON.parse(verify.stdout);
    assert.equal(found.checked, 3);
    assert.deepEqual(found.damaged.map((d: { id: string }) => d.id), [id]);
    assert.match(found.damaged[0].problem, /1\.txt: /);
    assert.equal(await client.get(`demo/objects/${id}/listing.json`), undefined, "set aside");
    const notes = (await client.list("demo/damaged/")).keys.length;
    assert.equal(notes, 2, "one note from the rerun that rebuilt it, one from verify");

    // push from a machine with the good bytes puts them back; a clean verify after.
    const local = await runJson(good, "pipeline", ["demo"]);
    assert.equal(local.stages[1]!.outputs.files, id);
    const pushed = await cli(good, "sync", ["push", "demo", "--store", url, "--json"], s3.env);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.ok(JSON.parse(pushed.stdout).copied.includes(id));
    await flip(id);
    const repaired = await cli(good, "sync", ["push", "demo", "--store", url, "--json"], s3.env);
    assert.deepEqual(JSON.parse(repaired.stdout).copied, [id], "hashes compared, not sizes");
    const full = await cli(other, "verify", ["--store", url, "--full", "--json"], s3.env);
    assert.equal(full.code, 0, full.stderr);
    assert.deepEqual(JSON.parse(full.stdout).damaged, []);
  } finally {
    await s3.stop();
    for (const dir of [good, fresh, other]) await removeTree(dir);
  }
});
