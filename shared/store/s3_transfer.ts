/**
 * Moving one file to or from a bucket: a single PUT/GET when small, parts in parallel when
 * large (multipart upload; ranged GETs written at their offsets). Every request goes through
 * the shared limiter, so the number of transfers in flight stays bounded across files.
 */
import { dirname } from "node:path";
import type { Limiter } from "../util/limit.ts";
import type { S3Client } from "./s3_client.ts";

export interface Transfer {
  readonly key: string;
  readonly path: string;
  readonly size: number;
  readonly partSize: number;
}

/** The [start, end) byte ranges of a file cut into parts. */
export function partRanges(size: number, partSize: number): [number, number][] {
  const ranges: [number, number][] = [];
  for (let start = 0; start < size; start += partSize) {
    ranges.push([start, Math.min(size, start + partSize)]);
  }
  return ranges;
}

/** Uploads a file, in parts when large; returns the object's ETag. */
export async function uploadFile(client: S3Client, limit: Limiter, t: Transfer): Promise<string> {
  if (t.size <= t.partSize) {
    return await limit.run(async () => client.put(t.key, await Deno.readFile(t.path)));
  }
  const uploadId = await limit.run(() => client.createMultipart(t.key));
  try {
    const etags = await Promise.all(
      partRanges(t.size, t.partSize).map(([start, end], i) =>
        limit.run(async () =>
          client.uploadPart(t.key, uploadId, i + 1, await readSlice(t.path, start, end))
        )
      ),
    );
    return await limit.run(() => client.completeMultipart(t.key, uploadId, etags));
  } catch (error) {
    // Parts of an abandoned upload are never visible; aborting just frees them sooner.
    await client.abortMultipart(t.key, uploadId).catch((abortError) =>
      console.error(`warning: ${abortError instanceof Error ? abortError.message : abortError}`)
    );
    throw error;
  }
}

export async function downloadFile(client: S3Client, limit: Limiter, t: Transfer): Promise<void> {
  await Deno.mkdir(dirname(t.path), { recursive: true });
  if (t.size <= t.partSize) {
    const bytes = await limit.run(() => client.get(t.key));
    if (!bytes) {
      throw new Deno.errors.NotFound(`Cannot download s3://${client.bucket}/${t.key}: absent`);
    }
    await Deno.writeFile(t.path, bytes);
    return;
  }
  {
    using file = await Deno.open(t.path, { write: true, create: true, truncate: true });
    await file.truncate(t.size);
  }
  await Promise.all(
    partRanges(t.size, t.partSize).map(([start, end]) =>
      limit.run(async () => {
        const bytes = await client.getRange(t.key, start, end - 1);
        using file = await Deno.open(t.path, { write: true });
        await file.seek(start, Deno.SeekMode.Start);
        let written = 0;
        while (written < bytes.length) written += await file.write(bytes.subarray(written));
      })
    ),
  );
}

async function readSlice(
  path: string,
  start: number,
  end: number,
): Promise<Uint8Array<ArrayBuffer>> {
  using file = await Deno.open(path, { read: true });
  await file.seek(start, Deno.SeekMode.Start);
  const buffer = new Uint8Array(end - start);
  let read = 0;
  while (read < buffer.length) {
    const n = await file.read(buffer.subarray(read));
    if (n === null) throw new RangeError(`Cannot read ${path}: it ended at byte ${start + read}`);
    read += n;
  }
  return buffer;
}
