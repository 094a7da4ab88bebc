/**
 * Worker entry: decodes batches posted by decode_pool.ts. With `file`, writes the pixels at
 * their slots in that file and posts back only the bad list; without, posts the pixels.
 */
import { decodeBatch, type DecodeItem } from "./decode_batch.ts";
import type { DecodeOptions } from "./fit.ts";
import { writeAt } from "./slot_file.ts";

export interface DecodeRequest {
  readonly id: number;
  readonly opts: DecodeOptions;
  /** Consecutive slots. */
  readonly items: readonly DecodeItem[];
  readonly file?: string;
}

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<DecodeRequest>) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
};

let open: { path: string; file: Deno.FsFile } | undefined;

scope.onmessage = async (event) => {
  const { id, opts, items, file } = event.data;
  const result = await decodeBatch(items, opts);
  if (file === undefined) {
    scope.postMessage({ id, ...result }, [result.pixels.buffer]);
    return;
  }
  if (open?.path !== file) {
    open?.file.close();
    open = { path: file, file: Deno.openSync(file, { write: true }) };
  }
  writeAt(open.file, items[0]!.slot * opts.size * opts.size * 3, result.pixels);
  scope.postMessage({ id, bad: result.bad });
};
