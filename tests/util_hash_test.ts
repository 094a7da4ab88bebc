/** shared/util/hash.ts: the streamed file hash equals the hash of the bytes. */
import assert from "node:assert/strict";
import { sha256File, sha256Hex } from "../shared/util/hash.ts";

Deno.test("sha256File matches sha256 of the bytes for a multi-chunk file", async () => {
  const path = await Deno.makeTempFile();
  const bytes = new Uint8Array(3 * (1 << 20) + 17).map((_, i) => (i * 31) & 255);
  await Deno.writeFile(path, bytes);
  assert.equal(await sha256File(path), sha256Hex(bytes));
  await Deno.remove(path);
});
