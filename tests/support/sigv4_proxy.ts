/**
 * A loopback proxy in front of the tests' S3 server that checks every request's AWS SigV4
 * signature before passing it on, as S3 does: an unknown access key is 403 InvalidAccessKeyId,
 * a wrong signature (a wrong secret key, or a signing bug in csn's client) is 403
 * SignatureDoesNotMatch, a body whose sha256 differs from x-amz-content-sha256 is 400
 * XAmzContentSHA256Mismatch. The signature is recomputed with the `aws4` package, an
 * implementation independent of the `aws4fetch` that csn signs with, from the request as it
 * arrived (method, path and query as sent, the headers the client listed as signed).
 */
// @ts-types="./aws4.d.ts"
import aws4 from "aws4";
import { sha256Hex } from "../../shared/util/hash.ts";

export interface SigV4Proxy {
  readonly endpoint: string;
  /** Requests whose signature was checked and found good. */
  readonly verified: number;
  /** Why each refused request was refused ("SignatureDoesNotMatch GET /b/k", ...). */
  readonly refused: readonly string[];
  close(): Promise<void>;
}

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

function s3Error(status: number, code: string, message: string): Response {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code>` +
    `<Message>${message}</Message></Error>`;
  return new Response(xml, { status, headers: { "content-type": "application/xml" } });
}

/** Why `req` (with `body`) is not signed by a key in `keys`, or undefined when it is. */
export function signatureProblem(
  req: Request,
  body: Uint8Array,
  keys: Readonly<Record<string, string>>,
  host: string,
): { status: number; code: string; message: string } | undefined {
  const match = AUTH.exec(req.headers.get("authorization") ?? "");
  if (!match) {
    return { status: 403, code: "AccessDenied", message: "no SigV4 Authorization header" };
  }
  const [, accessKeyId, date, region, service, signedHeaders, signature] = match;
  const secretAccessKey = keys[accessKeyId!];
  if (secretAccessKey === undefined) {
    return { status: 403, code: "InvalidAccessKeyId", message: `unknown key ${accessKeyId}` };
  }
  const amzDate = req.headers.get("x-amz-date") ?? "";
  if (!amzDate.startsWith(date!)) {
    return { status: 403, code: "SignatureDoesNotMatch", message: "date outside the scope" };
  }
  const payload = req.headers.get("x-amz-content-sha256") ?? "";
  if (payload !== "UNSIGNED-PAYLOAD" && payload !== sha256Hex(body)) {
    return {
      status: 400,
      code: "XAmzContentSHA256Mismatch",
      message: "the body's sha256 is not x-amz-content-sha256",
    };
  }
  const headers: Record<string, string> = {};
  for (const name of signedHeaders!.split(";")) {
    headers[name] = name === "host" ? host : req.headers.get(name) ?? "";
  }
  const url = new URL(req.url);
  const signer = new aws4.RequestSigner({
    method: req.method,
    host,
    path: url.pathname + url.search,
    service,
    region,
    headers,
  }, { accessKeyId: accessKeyId!, secretAccessKey });
  // First, so the signer takes its time from x-amz-date: signature() alone would use the clock.
  signer.prepareRequest();
  if (signer.signedHeaders() !== signedHeaders) {
    return {
      status: 403,
      code: "SignatureDoesNotMatch",
      message: `signed headers ${signedHeaders}, expected ${signer.signedHeaders()}`,
    };
  }
  if (signer.signature() !== signature) {
    return { status: 403, code: "SignatureDoesNotMatch", message: "the signature differs" };
  }
  return undefined;
}

/** Starts the proxy on 127.0.0.1 in front of `target`, accepting the given access keys. */
export function sigV4Proxy(target: string, keys: Readonly<Record<string, string>>): SigV4Proxy {
  let verified = 0;
  const refused: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const body = new Uint8Array(await req.arrayBuffer());
    const url = new URL(req.url);
    // A proxy in front of this one (the fault-injecting one) says which host was signed.
    const host = req.headers.get("x-forwarded-host") ?? req.headers.get("host") ?? url.host;
    const problem = signatureProblem(req, body, keys, host);
    if (problem) {
      refused.push(
        `${problem.code} ${req.method} ${url.pathname}${url.search}: ${problem.message}`,
      );
      return s3Error(problem.status, problem.code, problem.message);
    }
    verified++;
    const headers = new Headers(req.headers);
    headers.delete("host");
    const response = await fetch(`${target}${url.pathname}${url.search}`, {
      method: req.method,
      headers,
      body: req.method === "GET" || req.method === "HEAD" ? undefined : body,
    });
    const bytes = new Uint8Array(await response.arrayBuffer());
    const bodyless = req.method === "HEAD" || [204, 304].includes(response.status);
    return new Response(bodyless ? null : bytes, {
      status: response.status,
      headers: response.headers,
    });
  });
  return {
    endpoint: `http://127.0.0.1:${server.addr.port}`,
    get verified() {
      return verified;
    },
    refused,
    close: () => server.shutdown(),
  };
}
