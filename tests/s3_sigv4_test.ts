/**
 * csn's S3 requests meet a server that checks SigV4 signatures with an implementation other
 * than the one csn signs with (tests/support/sigv4_proxy.ts: the `aws4` package in front of
 * fauxqs): every call csn makes passes, a wrong secret key is a 403 with csn's message, and the
 * check itself refuses requests altered after signing.
 */
import assert from "node:assert/strict";
import { AwsClient } from "aws4fetch";
import { S3Client, S3Error } from "../shared/store/s3_client.ts";
import { removeTree } from "../shared/util/fs.ts";
import { sha256Hex } from "../shared/util/hash.ts";
import { cli, copyProject } from "./support/cli.ts";
import { startS3, type TestS3 } from "./support/s3_server.ts";
import { sigV4Proxy } from "./support/sigv4_proxy.ts";

const KEYS = { AKIDCSNTEST: "the-right-secret/with+odd=chars" };

async function withProxy(
  fn: (s3: TestS3, endpoint: string, proxy: ReturnType<typeof sigV4Proxy>) => Promise<void>,
) {
  // Its own checking proxy, for keys of its own, in front of the bare server.
  const s3 = await startS3("csn-test", { signatures: false });
  const proxy = sigV4Proxy(s3.endpoint, KEYS);
  try {
    await fn(s3, proxy.endpoint, proxy);
  } finally {
    await proxy.close();
    await s3.stop();
  }
}

function client(endpoint: string, bucket: string, secretAccessKey = KEYS.AKIDCSNTEST) {
  return new S3Client(
    { endpoint, region: "us-east-1", accessKeyId: "AKIDCSNTEST", secretAccessKey },
    bucket,
    { attempts: 1 },
  );
}

Deno.test("every S3 call csn makes passes an independent SigV4 check, odd keys included", async () => {
  await withProxy(async (s3, endpoint, proxy) => {
    const c = client(endpoint, s3.bucket);
    // Spaces, unicode, and characters that SigV4 encodes differently from encodeURIComponent.
    const keys = ["p/plain.txt", "p/with space/é ü.json", "p/odd!'()*+=~,;@$&.bin"];
    for (const [i, key] of keys.entries()) {
      await c.put(key, i === 1 ? "text body" : new Uint8Array([i, 1, 2, 3]));
      assert.deepEqual(await c.head(key).then((h) => h?.size), i === 1 ? 9 : 4);
    }
    assert.equal(new TextDecoder().decode(await c.get(keys[1]!)), "text body");
    assert.deepEqual(await c.getRange(keys[0]!, 1, 2), new Uint8Array([1, 2]));
    assert.equal(await c.get("p/absent"), undefined);
    const listed = await c.list("p/");
    assert.deepEqual(listed.keys.map((k) => k.key).sort(), [...keys].sort());
    assert.deepEqual((await c.list("p/", "/")).prefixes, ["p/with space/"]);
    await c.probe("p/");
    const part = new Uint8Array(5 << 20).fill(7);
    const upload = await c.createMultipart("p/multi part.bin");
    const etags = [
      await c.uploadPart("p/multi part.bin", upload, 1, part),
      await c.uploadPart("p/multi part.bin", upload, 2, new Uint8Array([9])),
    ];
    await c.completeMultipart("p/multi part.bin", upload, etags);
    assert.equal((await c.head("p/multi part.bin"))?.size, (5 << 20) + 1);
    const aborted = await c.createMultipart("p/aborted");
    await c.abortMultipart("p/aborted", aborted);
    for (const key of [...keys, "p/multi part.bin"]) await c.delete(key);
    assert.deepEqual((await c.list("p/")).keys, []);
    assert.deepEqual(proxy.refused, [], "no request was refused");
    assert.ok(proxy.verified >= 20, `${proxy.verified} requests checked`);
  });
});

Deno.test("a wrong secret key is a 403 with csn's message, from the client and the CLI", async () => {
  await withProxy(async (s3, endpoint, proxy) => {
    await assert.rejects(
      () => client(endpoint, s3.bucket, "a-wrong-secret").put("k", "x"),
      (error: Error) => {
        assert.ok(error instanceof S3Error);
        assert.equal(error.status, 403);
        assert.equal(error.code, "SignatureDoesNotMatch");
        assert.match(error.message, /refused the credentials \(403 SignatureDoesNotMatch: check/);
        return true;
      },
    );
    const dir = await copyProject("tests/fixtures/pipeline_project");
    try {
      const env = {
        AWS_ENDPOINT_URL: endpoint,
        AWS_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "AKIDCSNTEST",
        AWS_SECRET_ACCESS_KEY: "a-wrong-secret",
        CSN_S3_ATTEMPTS: "1",
      };
      const args = ["demo", "--store", `s3://${s3.bucket}/sig`];
      const wrong = await cli(dir, "pipeline", args, env);
      assert.equal(wrong.code, 1, wrong.stderr);
      assert.match(
        wrong.stderr,
        /the endpoint refused the credentials \(403 SignatureDoesNotMatch: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\)/,
      );
      assert.doesNotMatch(wrong.stderr, /^\s+at /m, "one error line, no stack");
      const unknown = await cli(dir, "pipeline", args, { ...env, AWS_ACCESS_KEY_ID: "AKIDNOBODY" });
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /403 InvalidAccessKeyId/);
      const refusedBefore = proxy.refused.length;
      const right = await cli(dir, "pipeline", args, {
        ...env,
        AWS_SECRET_ACCESS_KEY: KEYS.AKIDCSNTEST,
      });
      assert.equal(right.code, 0, right.stderr);
      assert.equal(proxy.refused.length, refusedBefore, "the right key: nothing refused");
    } finally {
      await removeTree(dir);
    }
  });
});

Deno.test("the check refuses what a signing bug would send: altered path, query, header, body", async () => {
  await withProxy(async (s3, endpoint, proxy) => {
    const aws = new AwsClient({
      accessKeyId: "AKIDCSNTEST",
      secretAccessKey: KEYS.AKIDCSNTEST,
      service: "s3",
      region: "us-east-1",
    });
    const url = `${endpoint}/${s3.bucket}/k.txt?x-id=PutObject`;
    // Signed with the payload's hash (csn's client sends UNSIGNED-PAYLOAD, as aws4fetch does
    // by default for S3, and checks its bytes by their sha256 itself).
    const signed = await aws.sign(url, {
      method: "PUT",
      body: "good body",
      headers: { "x-amz-meta-note": "a", "x-amz-content-sha256": sha256Hex("good body") },
    });
    const send = (target: string, headers: Headers, body: string) =>
      fetch(target, { method: "PUT", headers, body }).then(async (r) => {
        await r.body?.cancel();
        return r.status;
      });
    assert.equal(await send(url, signed.headers, "good body"), 200, "as signed: accepted");
    const altered = new Headers(signed.headers);
    altered.set("x-amz-meta-note", "b");
    const cases: [string, Headers, string, number][] = [
      [`${endpoint}/${s3.bucket}/other.txt?x-id=PutObject`, signed.headers, "good body", 403],
      [`${endpoint}/${s3.bucket}/k.txt?x-id=CopyObject`, signed.headers, "good body", 403],
      [url, altered, "good body", 403],
      [url, signed.headers, "evil body", 400],
    ];
    for (const [target, headers, body, status] of cases) {
      assert.equal(await send(target, headers, body), status, `${target} ${body}`);
    }
    assert.deepEqual(proxy.refused.map((r) => r.split(" ")[0]), [
      "SignatureDoesNotMatch",
      "SignatureDoesNotMatch",
      "SignatureDoesNotMatch",
      "XAmzContentSHA256Mismatch",
    ]);
  });
});
