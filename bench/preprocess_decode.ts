/**
 * Child process of the preprocess bench: decodes the bench's image set into a pixel file as
 * the preprocess stage does (decodeToFile, crop, `--workers` decode workers) and prints one
 * JSON line: {"images", "bad", "seconds", "peakRssBytes"}. Its own process, so the peak RSS
 * (VmHWM, workers included: they are threads) is the decode's alone.
 *
 *   deno run -A bench/preprocess_decode.ts --dir=D --workers=2 --size=112 --out=FILE
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { decodeToFile } from "../shared/data/decode/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    dir: { type: "string" },
    workers: { type: "string", default: "1" },
    size: { type: "string", default: "112" },
    out: { type: "string" },
  },
});
if (values.dir === undefined || values.out === undefined) {
  throw new TypeError("Cannot run the decode bench: --dir and --out are required");
}
const dir = values.dir;
const manifest = JSON.parse(await Deno.readTextFile(join(dir, "manifest.json"))) as {
  files: string[];
};
const items = manifest.files.map((name, slot) => ({ slot, name, path: join(dir, name) }));
const started = performance.now();
const { bad } = await decodeToFile(items, values.out, {
  size: Number(values.size),
  fit: "crop",
  workers: Number(values.workers),
  log: (m) => console.error(m),
});
const seconds = (performance.now() - started) / 1000;
const status = await Deno.readTextFile("/proc/self/status");
const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
console.log(JSON.stringify({
  images: items.length,
  bad: bad.length,
  seconds,
  peakRssBytes: hwm ? Number(hwm[1]) * 1024 : null,
}));
