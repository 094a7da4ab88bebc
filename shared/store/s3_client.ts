/**
 * The few S3 calls the store needs (path-style, SigV4 by aws4fetch), with retries and backoff
 * on network errors, 5xx and 429, and errors that name the endpoint and what was refused.
 */
import { AwsClient } from "aws4fetch";
import type { S3Settings } from "./s3_config.ts";

export interface S3ClientOptions {
  /** Attempts per request (default: CSN_S3_ATTEMPTS, else 5). */
  readonly attempts?: number;
  /** First backoff in ms, doubled per retry (with jitter). */
  readonly backoffMs?: number;
}

export class S3Error extends Error {
  constructor(message: string, readonly status?: number, readonly code?: string) {
    super(message);
    this.name = "S3Error";
  }
}

type Body = Uint8Array<ArrayBuffer> | string;

export class S3Client {
  readonly #aws: AwsClient;
  readonly #attempts: number;
  readonly #backoffMs: number;

  constructor(
    readonly settings: S3Settings,
    readonly bucket: string,
    options: S3ClientOptions = {},
  ) {
    this.#aws = new AwsClient({
      accessKeyId: settings.accessKeyId,
      secretAccessKey: settings.secretAccessKey,
      sessionToken: settings.sessionToken,
      service: "s3",
      region: settings.region,
      retries: 0, // retried here, network errors included
    });
    this.#attempts = options.attempts ?? Number(Deno.env.get("CSN_S3_ATTEMPTS") ?? 5);
    if (!Number.isInteger(this.#attempts) || this.#attempts < 1) {
      throw new TypeError(
        `Cannot use ${this.#attempts} attempts per S3 request (CSN_S3_ATTEMPTS): expected a ` +
          "whole number >= 1",
      );
    }
    this.#backoffMs = options.backoffMs ?? 100;
  }

  url(key: string, query = ""): string {
    const path = key.split("/").map(encodeURIComponent).join("/");
    return `${this.settings.endpoint}/${this.bucket}/${path}${query ? `?${query}` : ""}`;
  }

  /** The object's bytes, or undefined when it does not exist. */
  async get(key: string): Promise<Uint8Array | undefined> {
    const response = await this.#send("GET", key, "", undefined, [404]);
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    return new Uint8Array(await response.arrayBuffer());
  }

  /** The object's response (for streaming its body), or undefined when it does not exist. */
  async getStream(key: string): Promise<Response | undefined> {
    const response = await this.#send("GET", key, "", undefined, [404]);
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    return response;
  }

  /** Bytes `start` to `end` (inclusive) of an object that must exist. */
  async getRange(key: string, start: number, end: number): Promise<Uint8Array> {
    const response = await this.#send("GET", key, "", undefined, [], {
      range: `bytes=${start}-${end}`,
    });
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.length !== end - start + 1) {
      throw new S3Error(
        `Cannot read bytes ${start}-${end} of ${this.#where(key)}: got ${bytes.length} bytes`,
      );
    }
    return bytes;
  }

  async head(key: string): Promise<{ size: number; modified: number } | undefined> {
    const response = await this.#send("HEAD", key, "", undefined, [404]);
    await response.body?.cancel();
    if (response.status === 404) return undefined;
    return {
      size: Number(response.headers.get("content-length") ?? -1),
      modified: Date.parse(response.headers.get("last-modified") ?? "") || 0,
    };
  }

  /** Writes an object; returns its ETag (S3's hash of the bytes, quotes removed). */
  async put(key: string, body: Body, contentType = "application/octet-stream"): Promise<string> {
    const response = await this.#send("PUT", key, "", body, [], { "content-type": contentType });
    await response.body?.cancel();
    return bareEtag(response.headers.get("etag") ?? "");
  }

  async delete(key: string): Promise<void> {
    const response = await this.#send("DELETE", key, "", undefined, [404]);
    await response.body?.cancel();
  }

  /**
   * One listing request of at most one key under `prefix`: throws, naming the bucket, when the
   * bucket does not exist or the credentials are refused (a cheap check before work starts).
   */
  async probe(prefix: string): Promise<void> {
    const query = new URLSearchParams({ "list-type": "2", prefix, "max-keys": "1" });
    const response = await this.#send("GET", "", query.toString(), undefined, []);
    await response.body?.cancel();
  }

  /** Keys under `prefix` (all pages) with their size and ETag; with a delimiter, the common
   * prefixes instead of deeper keys. */
  async list(
    prefix: string,
    delimiter?: string,
  ): Promise<{ keys: ListedKey[]; prefixes: string[] }> {
    const keys: ListedKey[] = [];
    const prefixes: string[] = [];
    let token: string | undefined;
    do {
      const query = new URLSearchParams({ "list-type": "2", prefix });
      if (delimiter) query.set("delimiter", delimiter);
      if (token) query.set("continuation-token", token);
      const response = await this.#send("GET", "", query.toString(), undefined, []);
      const xml = await response.text();
      for (const block of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
        const key = tag(block[1]!, "Key");
        if (key !== undefined) {
          keys.push({
            key,
            modified: Date.parse(tag(block[1]!, "LastModified") ?? "") || 0,
            size: Number(tag(block[1]!, "Size") ?? -1),
            etag: bareEtag(tag(block[1]!, "ETag") ?? ""),
          });
        }
      }
      for (const block of xml.matchAll(/<CommonPrefixes>([\s\S]*?)<\/CommonPrefixes>/g)) {
        const value = tag(block[1]!, "Prefix");
        if (value !== undefined) prefixes.push(value);
      }
      token = tag(xml, "IsTruncated") === "true" ? tag(xml, "NextContinuationToken") : undefined;
    } while (token);
    return { keys, prefixes };
  }

  async createMultipart(key: string): Promise<string> {
    const response = await this.#send("POST", key, "uploads=", undefined, []);
    const id = tag(await response.text(), "UploadId");
    if (!id) {
      throw new S3Error(`Cannot start a multipart upload of ${this.#where(key)}: no UploadId`);
    }
    return id;
  }

  async uploadPart(
    key: string,
    uploadId: string,
    part: number,
    body: Uint8Array<ArrayBuffer>,
  ): Promise<string> {
    const query = `partNumber=${part}&uploadId=${encodeURIComponent(uploadId)}`;
    const response = await this.#send("PUT", key, query, body, []);
    await response.body?.cancel();
    const etag = response.headers.get("etag");
    if (!etag) throw new S3Error(`Cannot upload part ${part} of ${this.#where(key)}: no ETag`);
    return etag;
  }

  /** Joins the parts into the object; returns its ETag (quotes removed). */
  async completeMultipart(
    key: string,
    uploadId: string,
    etags: readonly string[],
  ): Promise<string> {
    const parts = etags.map((etag, i) =>
      `<Part><PartNumber>${i + 1}</PartNumber><ETag>${escapeXml(etag)}</ETag></Part>`
    ).join("");
    const body = `<CompleteMultipartUpload>${parts}</CompleteMultipartUpload>`;
    const query = `uploadId=${encodeURIComponent(uploadId)}`;
    const response = await this.#send("POST", key, query, body, [], {
      "content-type": "application/xml",
    });
    // S3 can answer 200 with an <Error> body when completing fails late.
    const text = await response.text();
    if (/<Error>/.test(text)) {
      throw new S3Error(`Cannot complete the upload of ${this.#where(key)}: ${errorOf(text)}`);
    }
    return bareEtag(tag(text, "ETag") ?? "");
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    const query = `uploadId=${encodeURIComponent(uploadId)}`;
    const response = await this.#send("DELETE", key, query, undefined, [404]);
    await response.body?.cancel();
  }

  #where(key: string): string {
    return `s3://${this.bucket}/${key} at ${this.settings.endpoint}`;
  }

  async #send(
    method: string,
    key: string,
    query: string,
    body: Body | undefined,
    allowed: readonly number[],
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const url = this.url(key, query);
    const what = `${method} ${
      key ? this.#where(key) : `s3://${this.bucket} at ${this.settings.endpoint}`
    }`;
    for (let attempt = 1;; attempt++) {
      let response: Response;
      try {
        response = await this.#aws.fetch(url, { method, body, headers });
      } catch (error) {
        if (attempt < this.#attempts) {
          await this.#pause(attempt);
          continue;
        }
        const reason = error instanceof Error ? error.message : String(error);
        throw new S3Error(
          `Cannot reach the S3 endpoint ${this.settings.endpoint} (${what}, ${attempt} attempts): ` +
            reason,
        );
      }
      if (response.ok || allowed.includes(response.status)) return response;
      const text = await response.text();
      const retriable = response.status >= 500 || response.status === 429;
      if (retriable && attempt < this.#attempts) {
        await this.#pause(attempt);
        continue;
      }
      const code = tag(text, "Code");
      const denied = response.status === 403 || code === "InvalidAccessKeyId" ||
        code === "SignatureDoesNotMatch";
      throw new S3Error(
        denied
          ? `Cannot access ${what}: the endpoint refused the credentials ` +
            `(${response.status} ${code ?? ""}: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)`
          : `Cannot ${what}: ${response.status} ${errorOf(text)}`,
        response.status,
        code,
      );
    }
  }

  #pause(attempt: number): Promise<void> {
    const ms = this.#backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
}

/** One key of a listing. */
export interface ListedKey {
  readonly key: string;
  readonly modified: number;
  readonly size: number;
  /** S3's hash of the bytes as it stored them (MD5, or MD5 of the parts' MD5s), no quotes. */
  readonly etag: string;
}

function bareEtag(etag: string): string {
  return etag.replace(/^W\//, "").replaceAll('"', "");
}

function tag(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return match ? unescapeXml(match[1]!) : undefined;
}

function errorOf(text: string): string {
  const code = tag(text, "Code");
  const message = tag(text, "Message");
  return code ? `${code}${message ? `: ${message}` : ""}` : text.slice(0, 200);
}

function unescapeXml(text: string): string {
  return text.replaceAll("&quot;", '"').replaceAll("&apos;", "'").replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">").replaceAll("&amp;", "&");
}

function escapeXml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}
