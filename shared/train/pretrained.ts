/**
 * Pretrained backbone weights for training: a torch.save'd state_dict from a local path or
 * downloaded from an http(s) URL into the training's cache.
 */
import { basename } from "node:path";
import { download } from "../net/download.ts";
import { sha256File } from "../util/hash.ts";
import type { SafeTensor } from "../weights/dtype.ts";
import { readPth } from "../weights/pth.ts";

const URL_SCHEME = /^https?:\/\//i;
/** torch.hub's convention: "<name>-<first hex digits of the sha256>.pth". */
const HASH_IN_NAME = /-([0-9a-f]{8,64})\.pth?$/;

/**
 * Pretrained weights (e.g. torchvision's resnet18-f37072fd.pth) from a local path or an
 * http(s) URL downloaded into `cacheDir`. As torch.hub, a hash prefix in the file name is
 * checked against the download's sha256; `sha256` pins the whole digest instead.
 */
export async function loadPretrained(
  pathOrUrl: string,
  cacheDir: string,
  log: (message: string) => void,
  options: { sha256?: string } = {},
): Promise<Map<string, SafeTensor>> {
  let path = pathOrUrl;
  if (URL_SCHEME.test(pathOrUrl)) {
    path = await download({ url: pathOrUrl, sha256: options.sha256, cacheDir, log });
    const prefix = HASH_IN_NAME.exec(basename(new URL(pathOrUrl).pathname))?.[1];
    if (options.sha256 === undefined && prefix !== undefined) {
      const actual = await sha256File(path);
      if (!actual.startsWith(prefix)) {
        throw new Error(
          `Cannot use pretrained weights ${pathOrUrl}: the file name promises a sha256 starting ` +
            `${prefix}, the download (${path}) has ${actual}; delete it and retry, or pin sha256`,
        );
      }
    }
  }
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new Error(`Cannot read pretrained weights "${path}": ${(e as Error).message}`, {
      cause: e,
    });
  }
  const tensors = readPth(bytes, path);
  log(`pretrained: ${tensors.size} tensors from ${path}`);
  return tensors;
}
