/** Streams a response body into an open file, with a stall timeout and progress reports. */

/** Thrown when no byte arrived for `stallMs`: the connection is considered dead. */
export class StallError extends Error {
  constructor(stallMs: number) {
    super(`no data received for ${Math.round(stallMs / 1000)} s`);
    this.name = "StallError";
  }
}

/**
 * Copies `body` into `file` (already positioned: append or truncated) and returns the number
 * of bytes written. A read error (connection dropped) propagates after the bytes received so
 * far have been written, so a later attempt can resume from the file's size.
 */
export async function bodyToFile(
  body: ReadableStream<Uint8Array>,
  file: Deno.FsFile,
  stallMs: number,
  onProgress: (written: number) => void,
): Promise<number> {
  const reader = body.getReader();
  let written = 0;
  try {
    while (true) {
      const chunk = await readWithTimeout(reader, stallMs);
      if (chunk.done) break;
      let offset = 0;
      while (offset < chunk.value.length) {
        offset += await file.write(chunk.value.subarray(offset));
      }
      written += chunk.value.length;
      onProgress(written);
    }
  } catch (error) {
    // Release the connection; the original error is what the caller needs to see.
    await reader.cancel().catch(() => undefined);
    throw error;
  } finally {
    reader.releaseLock();
  }
  return written;
}

async function readWithTimeout(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  stallMs: number,
): Promise<ReadableStreamReadResult<Uint8Array>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StallError(stallMs)), stallMs);
  });
  try {
    return await Promise.race([reader.read(), stalled]);
  } finally {
    clearTimeout(timer);
  }
}
