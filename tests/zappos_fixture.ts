/**
 * Test helper: tiny archives in the exact layout of ut-zap50k-images.zip and
 * csn_zappos_triplets.zip (four categories, paths with spaces, line-per-path filenames.json,
 * tripletlists/*.txt), built in memory with jpeg-js and fflate.
 */
import jpeg from "jpeg-js";
import { type Zippable, zipSync } from "fflate";

const FOLDERS = [
  "Boots/Ankle/Dr. Martens",
  "Sandals/Flat/Steve Madden",
  "Shoes/Loafers/Bass Weejuns",
  "Slippers/Slipper Flats/L.B. Evans",
];
export const CONDITIONS = ["class", "closure", "gender", "heel"] as const;
export const SPLIT_NAMES = ["train", "val", "test"] as const;

export interface FixtureOptions {
  /** Images per category (default 5, so 20 images). */
  perCategory?: number;
  /** Triplet lines per list file (default 12). */
  linesPerList?: number;
  /** Image index -> replacement bytes (a truncated or non-image file). */
  corrupt?: Record<number, Uint8Array>;
  /** filenames.json as a JSON array with the `ut-zap50k-images/` prefix. */
  jsonArray?: boolean;
  /** List file name -> its full text, replacing the generated one. */
  listText?: Record<string, string>;
  /** List file names left out of the archive. */
  omit?: string[];
  /** Image indices listed in filenames.json but left out of the images archive. */
  missing?: number[];
}

export interface Fixture {
  readonly imagesZip: Uint8Array<ArrayBuffer>;
  readonly tripletsZip: Uint8Array<ArrayBuffer>;
  /** Image paths relative to the images root, in filenames.json order. */
  readonly filenames: string[];
  /** Path -> the JPEG bytes stored in the archive. */
  readonly jpegs: Map<string, Uint8Array>;
  /** List file name -> its triplets (anchor, far, close). */
  readonly lists: Map<string, [number, number, number][]>;
}

/** A 136x102 JPEG (the Zappos size) whose content depends on `seed`. */
export function makeJpeg(seed: number, width = 136, height = 102): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 4;
      data[p] = (x * 2 + seed * 40) % 256;
      data[p + 1] = (y * 2 + seed * 17) % 256;
      data[p + 2] = ((x + y) * (1 + (seed % 3)) + seed * 9) % 256;
      data[p + 3] = 255;
    }
  }
  return new Uint8Array(jpeg.encode({ width, height, data }, 90).data);
}

export function buildFixture(opts: FixtureOptions = {}): Fixture {
  const perCategory = opts.perCategory ?? 5;
  const filenames: string[] = [];
  const jpegs = new Map<string, Uint8Array>();
  const images: Zippable = {};
  let seed = 0;
  for (const folder of FOLDERS) {
    for (let k = 0; k < perCategory; k++, seed++) {
      const path = `${folder}/${100000 + seed * 37}.${70 + k}.jpg`;
      const bytes = opts.corrupt?.[seed] ?? makeJpeg(seed);
      filenames.push(path);
      jpegs.set(path, bytes);
      if (!opts.missing?.includes(seed)) images[`ut-zap50k-images/${path}`] = bytes;
    }
  }
  const n = filenames.length;
  const lists = new Map<string, [number, number, number][]>();
  const triplets: Zippable = { "tripletlists/": new Uint8Array(0) };
  let x = 12345;
  const next = (m: number) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % m;
  };
  for (const condition of CONDITIONS) {
    for (const split of SPLIT_NAMES) {
      const name = `${condition}_tripletlist_${split}.txt`;
      if (opts.omit?.includes(name)) continue;
      const rows: [number, number, number][] = [];
      for (let i = 0; i < (opts.linesPerList ?? 12); i++) {
        const a = next(n);
        const c = (a + 1 + next(n - 1)) % n; // never the anchor
        rows.push([a, next(n), c]);
      }
      lists.set(name, rows);
      const text = opts.listText?.[name] ?? rows.map((r) => r.join(" ")).join("\n") + "\n";
      triplets[`tripletlists/${name}`] = new TextEncoder().encode(text);
    }
  }
  const listing = opts.jsonArray
    ? JSON.stringify(filenames.map((f) => `ut-zap50k-images/${f}`))
    : filenames.join("\n") + "\n";
  triplets["filenames.json"] = new TextEncoder().encode(listing);
  return {
    imagesZip: new Uint8Array(zipSync(images)),
    tripletsZip: new Uint8Array(zipSync(triplets)),
    filenames,
    jpegs,
    lists,
  };
}

/** Writes the two archives into a new temp folder, as a fetch output without sources.json. */
export async function writeRawDir(fixture: Fixture): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "zappos-raw-" });
  await Deno.writeFile(`${dir}/ut-zap50k-images.zip`, fixture.imagesZip);
  await Deno.writeFile(`${dir}/csn_zappos_triplets.zip`, fixture.tripletsZip);
  return dir;
}
