/**
 * A fault-injecting HTTP proxy in front of a real S3 server, for tests of the client's
 * retries and transfer bound: it counts requests in flight and can answer the first N with
 * 503 SlowDown, as S3 does under load.
 */
export interface S3Proxy {
  readonly endpoint: string;
  /** Most requests in flight at once so far. */
  readonly peak: number;
  readonly failed: number;
  close(): Promise<void>;
}

export function proxyS3(target: string, options: { failFirst?: number } = {}): S3Proxy {
  let inFlight = 0;
  let peak = 0;
  let failed = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    if (failed < (options.failFirst ?? 0)) {
      failed++;
      await req.body?.cancel();
      const xml = "<Error><Code>SlowDown</Code><Message>Please reduce your rate</Message></Error>";
      return new Response(xml, { status: 503 });
    }
    inFlight++;
    peak = Math.max(peak, inFlight);
    try {
      const url = new URL(req.url);
      const body = req.body ? new Uint8Array(await req.arrayBuffer()) : undefined;
      const headers = new Headers(req.headers);
      // The client signed this proxy's host; a signature-checking server behind it needs that.
      headers.set("x-forwarded-host", req.headers.get("host") ?? url.host);
      headers.delete("host");
      const response = await fetch(`${target}${url.pathname}${url.search}`, {
        method: req.method,
        headers,
        body,
      });
      const bytes = new Uint8Array(await response.arrayBuffer());
      return new Response(req.method === "HEAD" ? null : bytes, {
        status: response.status,
        headers: response.headers,
      });
    } finally {
      inFlight--;
    }
  });
  return {
    endpoint: `http://127.0.0.1:${server.addr.port}`,
    get peak() {
      return peak;
    },
    get failed() {
      return failed;
    },
    close: () => server.shutdown(),
  };
}
