/**
 * A real S3-compatible server for tests: fauxqs on a free port, objects kept as plain files in
 * a temp folder (so a test can damage one), one bucket made up front. fauxqs checks no
 * signature, so by default it sits behind a loopback proxy that checks every request's SigV4
 * signature with the `aws4` package (./sigv4_proxy.ts) for the key test / test: every test
 * using this server also tests csn's signing.
 */
import { join } from "node:path";
import { startFauxqs } from "fauxqs";
import { removeTree } from "../../shared/util/fs.ts";
import { sigV4Proxy } from "./sigv4_proxy.ts";

export interface TestS3 {
  readonly endpoint: string;
  readonly bucket: string;
  /** The environment a csn process needs to use the bucket (key test, secret test). */
  readonly env: Record<string, string>;
  /** The file holding the bytes of an object. */
  objectFile(key: string): string;
  stop(): Promise<void>;
}

export async function startS3(
  bucket = "csn-test",
  options: { signatures?: boolean } = {},
): Promise<TestS3> {
  const dir = await Deno.makeTempDir({ prefix: "csn-s3-" });
  const server = await startFauxqs({
    port: 0,
    host: "127.0.0.1",
    logger: false,
    s3StorageDir: dir,
  });
  server.createBucket(bucket);
  const direct = `http://127.0.0.1:${server.port}`;
  const proxy = options.signatures === false ? undefined : sigV4Proxy(direct, { test: "test" });
  const endpoint = proxy?.endpoint ?? direct;
  return {
    endpoint,
    bucket,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_REGION: "us-east-1",
      CSN_S3_ATTEMPTS: "2",
    },
    objectFile: (key) => join(dir, "buckets", bucket, "objects", `${key}.data`),
    stop: async () => {
      await proxy?.close();
      await server.stop();
      await removeTree(dir);
    },
  };
}

/**
 * A second S3 implementation that checks SigV4 signatures: s3rver, whose one account is
 * S3RVER / S3RVER. For tests of refused credentials.
 */
export async function startSignedS3(bucket = "csn-test"): Promise<TestS3> {
  const { default: S3rver } = await import("s3rver");
  const dir = await Deno.makeTempDir({ prefix: "csn-s3rver-" });
  const server = new S3rver({
    port: 0,
    address: "127.0.0.1",
    silent: true,
    directory: dir,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
      AWS_REGION: "us-east-1",
      CSN_S3_ATTEMPTS: "2",
    },
    objectFile: () => {
      throw new TypeError("Cannot locate s3rver's object files: only fauxqs keeps plain files");
    },
    stop: async () => {
      await server.close();
      await removeTree(dir);
    },
  };
}
