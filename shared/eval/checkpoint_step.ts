/**
 * The global optimiser step a checkpoint was written at (metadata "csn.step"), read from the
 * safetensors header alone: evaluation logs its points at that step, so TensorBoard's step axis
 * means the same thing for train, val and test lines.
 */
import { decodeSafetensors } from "../weights/safetensors.ts";

export function checkpointStep(bytes: Uint8Array, source: string): number {
  const text = decodeSafetensors(bytes, source).metadata["csn.step"];
  const step = Number(text);
  if (text === undefined || !Number.isInteger(step) || step < 0) {
    throw new SyntaxError(
      `Cannot read checkpoint "${source}": metadata "csn.step" is ${JSON.stringify(text)}, ` +
        "expected a non-negative integer",
    );
  }
  return step;
}
