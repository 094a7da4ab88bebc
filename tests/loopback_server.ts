/** Test helper: a loopback HTTP server for a few files, with Range support and drop-outs. */

export interface ServedFiles {
  /** URL of a served file (the name is percent-encoded). */
  url(name: string): string;
  /** Every request seen: decoded path, its Range and If-None-Match headers. */
  readonly requests: { path: string; range: string | null; ifNoneMatch: string | null }[];
  close(): Promise<void>;
}

export interface ServeOptions {
  /** The first response for that file ends after this many bytes (connection cut). */
  dropAfter?: Record<string, number>;
  /** Answer Range requests with the whole file (200), as some servers do. */
  ignoreRange?: boolean;
  /** Send an ETag (from the bytes) and answer a matching If-None-Match with 304. */
  etags?: boolean;
}

export function serveFiles(
  files: Record<string, Uint8Array<ArrayBuffer>>,
  opts: ServeOptions = {},
): ServedFiles {
  const requests: ServedFiles["requests"] = [];
  const dropped = new Set<string>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname);
    const range = req.headers.get("range");
    const ifNoneMatch = req.headers.get("if-none-match");
    requests.push({ path, range, ifNoneMatch });
    const name = path.slice(1);
    const bytes = files[name];
    if (bytes === undefined) return new Response("not found", { status: 404 });
    const etag = opts.etags ? `"${bytes.length}-${checksum(bytes)}"` : undefined;
    if (etag !== undefined && ifNoneMatch === etag) {
      return new Response(null, { status: 304, headers: { etag } });
    }
    const match = range === null || opts.ignoreRange ? null : /^bytes=(\d+)-$/.exec(range);
    const start = match ? Number(match[1]) : 0;
    const body = bytes.subarray(start);
    const headers: Record<string, string> = { "content-length": String(body.length) };
    if (etag !== undefined) headers["etag"] = etag;
    if (match) headers["content-range"] = `bytes ${start}-${bytes.length - 1}/${bytes.length}`;
    const status = match ? 206 : 200;
    const cut = opts.dropAfter?.[name];
    if (cut !== undefined && !dropped.has(name)) {
      dropped.add(name);
      const head = body.subarray(0, cut);
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(head);
        },
        pull(controller) {
          // End early: the declared length is never reached, so the connection is cut.
          controller.close();
        },
      });
      return new Response(stream, { status, headers });
    }
    return new Response(body, { status, headers });
  });
  const port = (server.addr as Deno.NetAddr).port;
  return {
    url: (name) => `http://127.0.0.1:${port}/${encodeURIComponent(name)}`,
    requests,
    close: () => server.shutdown(),
  };
}

/** A URL on a port nothing listens on (bound, then released). */
export function closedPortUrl(name: string): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return `http://127.0.0.1:${port}/${name}`;
}

/** A cheap content fingerprint for ETags (FNV-1a). */
function checksum(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h.toString(16);
}
