/**
 * Follows a growing line file (metrics.jsonl) by polling its size: yields each complete line
 * once with the byte offset just after it, waits for a half-written last line to be finished,
 * and starts over (a `reset`) when the file shrinks or is replaced by another file.
 */

export type TailEvent =
  | { type: "line"; text: string; line: number; end: number }
  | { type: "reset" }
  | { type: "synced"; lines: number };

export interface TailOptions {
  /** Resume after this byte offset (the `end` of the last line seen). */
  from?: number;
  pollMs?: number;
  signal: AbortSignal;
}

/** `locate` is asked for the file before every poll; undefined means "refused": stop. */
export async function* tailLines(
  locate: () => Promise<string | undefined>,
  options: TailOptions,
): AsyncGenerator<TailEvent> {
  const pollMs = options.pollMs ?? 500;
  const decoder = new TextDecoder();
  let offset = 0; // bytes read so far
  let consumed = 0; // bytes of complete lines delivered
  let line = 0;
  let pending = new Uint8Array(0);
  let ino: number | null = null;
  let synced = false;
  let resume = options.from ?? 0;

  while (!options.signal.aborted) {
    const path = await locate();
    if (path === undefined) return;
    const info = await statOrUndefined(path);
    const size = info?.size ?? 0;
    const replaced = info !== undefined && ino !== null && info.ino !== null && info.ino !== ino;
    if (replaced || size < offset) {
      offset = consumed = line = 0;
      pending = new Uint8Array(0);
      yield { type: "reset" };
    }
    ino = info?.ino ?? null;
    if (resume > 0) {
      // Resume only at a line boundary of this same file; otherwise replay it all.
      const head = size >= resume ? await readRange(path, 0, resume) : undefined;
      if (head && head[head.length - 1] === 0x0a) {
        offset = consumed = resume;
        line = head.reduce((n, b) => n + (b === 0x0a ? 1 : 0), 0);
      } else {
        yield { type: "reset" };
      }
      resume = 0;
    }
    if (size > offset) {
      const chunk = await readRange(path, offset, size);
      offset += chunk.length;
      const joined = new Uint8Array(pending.length + chunk.length);
      joined.set(pending);
      joined.set(chunk, pending.length);
      let start = 0;
      for (let i = 0; i < joined.length; i++) {
        if (joined[i] !== 0x0a) continue;
        consumed += i + 1 - start;
        line++;
        yield {
          type: "line",
          text: decoder.decode(joined.subarray(start, i)),
          line,
          end: consumed,
        };
        start = i + 1;
      }
      pending = joined.slice(start);
    }
    if (!synced) {
      synced = true;
      yield { type: "synced", lines: line };
    }
    await sleep(pollMs, options.signal);
  }
}

async function statOrUndefined(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** Bytes [from, to) of the file (fewer if it shrank meanwhile). */
async function readRange(path: string, from: number, to: number): Promise<Uint8Array> {
  using file = await Deno.open(path, { read: true });
  await file.seek(from, Deno.SeekMode.Start);
  const out = new Uint8Array(to - from);
  let filled = 0;
  while (filled < out.length) {
    const n = await file.read(out.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return out.subarray(0, filled);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
