/** Epoch checkpoints in a folder: epoch-001.safetensors, epoch-002.safetensors, ... */
import { join } from "node:path";
import { writeFileAtomic } from "../util/fs.ts";

const PATTERN = /^epoch-(\d{3,})\.safetensors$/;

export function checkpointName(epoch: number): string {
  return `epoch-${String(epoch).padStart(3, "0")}.safetensors`;
}

/** Epoch numbers of the checkpoints in `dir`, ascending (none when the folder is absent). */
export async function listCheckpoints(dir: string): Promise<number[]> {
  const epochs: number[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      const match = PATTERN.exec(entry.name);
      if (entry.isFile && match) epochs.push(Number(match[1]));
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return epochs.sort((a, b) => a - b);
}

export async function writeCheckpoint(dir: string, epoch: number, bytes: Uint8Array) {
  await writeFileAtomic(join(dir, checkpointName(epoch)), bytes);
}
