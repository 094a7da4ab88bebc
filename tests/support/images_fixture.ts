/**
 * A user's image folder as the images dataset expects one, written by sharp: JPEG and PNG
 * files of odd sizes in sub-folders, each a coloured disc at a random place on a noisy grey,
 * plus one EXIF-rotated, one CMYK, one grey and one truncated JPEG; and a CSV (BOM, CRLF,
 * quoted paths with commas) with two categorical notions (colour: learnable; batch: random)
 * and one numeric (size: the disc's radius, 10-45 % of the side).
 */
import { dirname, join } from "node:path";
import sharp from "sharp";
import { Rng } from "../../shared/util/rng.ts";

export const COLOURS = { red: [220, 40, 40], green: [40, 180, 60], blue: [40, 80, 230] } as const;
export type Colour = keyof typeof COLOURS;
const NAMES = Object.keys(COLOURS) as Colour[];
const BATCHES = ["a", "b", "c"] as const;

export interface FixtureRow {
  readonly path: string;
  /** "" for the grey image: no colour known. */
  readonly colour: Colour | "";
  readonly size: number;
  readonly batch: string;
  readonly kind: "jpeg" | "png" | "exif" | "cmyk" | "grey" | "truncated";
  /** EXIF and CMYK files: a PNG of the upright RGB image they hold. */
  readonly reference?: string;
}

export interface ImagesFixture {
  /** The temp folder holding both (remove it when done). */
  readonly root: string;
  /** The image folder. */
  readonly dir: string;
  readonly labels: string;
  readonly rows: readonly FixtureRow[];
}

/** RGB pixels, width x height: noise on grey, a disc of `colour` with radius `size` % of side. */
function paint(
  width: number,
  height: number,
  colour: readonly number[],
  size: number,
  rng: Rng,
  corner: boolean,
) {
  const side = Math.min(width, height);
  const r = side * size / 100;
  // `corner`: top left, so a quarter turn moves it far (the EXIF check).
  const cx = width / 2 + (corner ? -0.4 : rng.next() - 0.5) * (side - 2 * r) * 0.8;
  const cy = height / 2 + (corner ? -0.4 : rng.next() - 0.5) * (side - 2 * r) * 0.8;
  const grey = 30 + 90 * rng.next();
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside = (x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r;
      for (let c = 0; c < 3; c++) {
        const noise = (rng.next() - 0.5) * 60;
        const value = inside ? colour[c]! : grey;
        out[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(value + noise)));
      }
    }
  }
  return out;
}

async function encode(pixels: Uint8Array, width: number, height: number, kind: FixtureRow["kind"]) {
  const raw = () => sharp(pixels, { raw: { width, height, channels: 3 } });
  switch (kind) {
    case "png":
      return await raw().png().toBuffer();
    case "cmyk":
      return await raw().toColourspace("cmyk").jpeg({ quality: 95 }).toBuffer();
    case "grey":
      return await raw().toColourspace("b-w").jpeg({ quality: 95 }).toBuffer();
    case "exif": {
      // Stored turned a quarter left; orientation 6 tells a viewer to turn it back right.
      const stored = await raw().rotate(-90).png().toBuffer();
      return await sharp(stored).jpeg({ quality: 95 }).withMetadata({ orientation: 6 })
        .toBuffer();
    }
    case "truncated": {
      const whole = await raw().jpeg({ quality: 95 }).toBuffer();
      return whole.subarray(0, Math.floor(whole.length / 2));
    }
    default:
      return await raw().jpeg({ quality: 95 }).toBuffer();
  }
}

function kindOf(k: number): FixtureRow["kind"] {
  return (["exif", "cmyk", "grey", "truncated"] as const)[k] ?? (k % 9 === 5 ? "png" : "jpeg");
}

/** Writes `count` images and labels.csv under a new temp folder. */
export async function writeImagesFixture(count: number, seed = 1): Promise<ImagesFixture> {
  const dir = await Deno.makeTempDir({ prefix: "csn-images-" });
  const rng = Rng.derive(seed, "images-fixture");
  const rows: FixtureRow[] = [];
  for (let k = 0; k < count; k++) {
    const kind = kindOf(k);
    const colour = NAMES[k % NAMES.length]!;
    const size = 10 + Math.floor(rng.next() * 36); // 10-45 % of the side
    const batch = BATCHES[rng.int(BATCHES.length)]!;
    const width = 29 + 2 * rng.int(8), height = 29 + 2 * rng.int(8); // odd, 29-43
    const ext = kind === "png" ? "png" : "jpg";
    // Sub-folders at two depths; a name with a comma and a space for the CSV's quoting.
    const path = k % 4 === 0
      ? `set ${k % 3}/img_${k}.${ext}`
      : k === 7
      ? `deep/er/odd, name ${k}.${ext}`
      : `deep/er/img_${k}.${ext}`;
    const pixels = paint(width, height, COLOURS[colour], size, rng, kind === "exif");
    await Deno.mkdir(join(dir, "photos", dirname(path)), { recursive: true });
    await Deno.writeFile(join(dir, "photos", path), await encode(pixels, width, height, kind));
    let reference: string | undefined;
    if (kind === "exif" || kind === "cmyk") {
      // The upright RGB image, lossless: what the decoder should see in the file.
      reference = join(dir, `reference-${kind}.png`);
      await Deno.writeFile(reference, await encode(pixels, width, height, "png"));
    }
    rows.push({ path, colour: kind === "grey" ? "" : colour, size, batch, kind, reference });
  }
  const quote = (s: string) => /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  const csv = "\uFEFFpath,colour,size,batch\r\n" +
    rows.map((r) => [r.path, r.colour, String(r.size), r.batch].map(quote).join(",") + "\r\n")
      .join("");
  const labels = join(dir, "labels.csv");
  await Deno.writeTextFile(labels, csv);
  return { root: dir, dir: join(dir, "photos"), labels, rows };
}
