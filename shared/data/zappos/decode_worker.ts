/** Worker entry: decodes batches posted by decode_pool.ts and posts the pixels back. */
import { decodeBatch, type DecodeItem } from "./decode_batch.ts";

interface Request {
  readonly id: number;
  readonly size: number;
  readonly items: readonly DecodeItem[];
}

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<Request>) => void) | null;
  postMessage(message: unknown, transfer: Transferable[]): void;
};

scope.onmessage = async (event) => {
  const { id, size, items } = event.data;
  const result = await decodeBatch(items, size);
  scope.postMessage({ id, ...result }, [result.pixels.buffer]);
};
