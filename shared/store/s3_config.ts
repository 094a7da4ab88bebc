/**
 * Where an S3 store lives (`s3://bucket/prefix`) and how to reach it, the AWS way:
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION, AWS_ENDPOINT_URL.
 */

export interface S3Location {
  readonly bucket: string;
  /** Key prefix without leading or trailing "/" ("" for the bucket's root). */
  readonly prefix: string;
}

export interface S3Settings {
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function parseS3Url(url: string): S3Location {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!match) {
    throw new TypeError(`Cannot use store "${url}": expected s3://bucket/prefix`);
  }
  const [, bucket, rest] = match as unknown as [string, string, string];
  if (!BUCKET.test(bucket)) {
    throw new TypeError(
      `Cannot use store "${url}": bucket "${bucket}" is not a valid S3 bucket name ` +
        "(3-63 characters: a-z, 0-9, '.', '-')",
    );
  }
  const prefix = rest.replace(/^\/+|\/+$/g, "");
  if (prefix.split("/").some((part) => part === "." || part === "..")) {
    throw new TypeError(`Cannot use store "${url}": the prefix may not contain "." or ".."`);
  }
  return { bucket, prefix };
}

/** Settings from the environment; credentials are required, the endpoint defaults to AWS. */
export function s3SettingsFromEnv(env: (name: string) => string | undefined): S3Settings {
  const region = env("AWS_REGION") ?? env("AWS_DEFAULT_REGION") ?? "us-east-1";
  const endpoint = (env("AWS_ENDPOINT_URL_S3") ?? env("AWS_ENDPOINT_URL") ??
    `https://s3.${region}.amazonaws.com`).replace(/\/+$/, "");
  try {
    new URL(endpoint);
  } catch {
    throw new TypeError(`Cannot use AWS_ENDPOINT_URL "${endpoint}": expected a URL`);
  }
  const accessKeyId = env("AWS_ACCESS_KEY_ID");
  const secretAccessKey = env("AWS_SECRET_ACCESS_KEY");
  if (!accessKeyId || !secretAccessKey) {
    throw new TypeError(
      `Cannot use the S3 store at ${endpoint}: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY ` +
        "must both be set",
    );
  }
  return {
    endpoint,
    region,
    accessKeyId,
    secretAccessKey,
    sessionToken: env("AWS_SESSION_TOKEN") || undefined,
  };
}
