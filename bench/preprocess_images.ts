/**
 * The preprocess bench's image set: `count` generated catalog-like pictures of mixed sizes
 * and formats (JPEG small to large, some grey-toned, CMYK or EXIF-rotated with an sRGB
 * profile; PNG with and without alpha; WebP; TIFF), written once with sharp into a cache
 * folder and reused while its manifest is whole. AVIF is left out: Debian's Pillow 9.4, the
 * reference, cannot read it.
 */
import { join } from "node:path";
import sharp from "sharp";

type Sharp = ReturnType<typeof sharp>;
import { Rng } from "../shared/util/rng.ts";

/** One kind of file in the mix: its share in percent, size and encoder. */
interface Kind {
  readonly name: string;
  readonly share: number;
  readonly width: number;
  readonly height: number;
  readonly ext: string;
  readonly encode: (image: Sharp, index: number) => Sharp;
  readonly alpha?: boolean;
}

const KINDS: readonly Kind[] = [
  { name: "jpeg-zappos", share: 30, width: 136, height: 102, ext: "jpg", encode: jpeg },
  {
    name: "jpeg-medium",
    share: 20,
    width: 400,
    height: 300,
    ext: "jpg",
    // Every tenth one carries EXIF orientation 6, as phone photos do.
    encode: (s, i) => i % 10 === 0 ? jpeg(s).withMetadata({ orientation: 6 }) : jpeg(s),
  },
  { name: "jpeg-large", share: 8, width: 1000, height: 750, ext: "jpg", encode: jpeg },
  {
    // Grey-toned: sharp's greyscale() keeps three identical channels (one-channel grey JPEGs
    // are in tests/decode_test.ts).
    name: "jpeg-grey",
    share: 3,
    width: 250,
    height: 250,
    ext: "jpg",
    encode: (s) => jpeg(s.greyscale()),
  },
  {
    name: "jpeg-cmyk",
    share: 2,
    width: 300,
    height: 400,
    ext: "jpg",
    encode: (s) => jpeg(s.toColourspace("cmyk")),
  },
  {
    name: "png-alpha",
    share: 12,
    width: 300,
    height: 300,
    ext: "png",
    encode: (s) => s.png(),
    alpha: true,
  },
  { name: "png", share: 5, width: 200, height: 150, ext: "png", encode: (s) => s.png() },
  {
    name: "webp",
    share: 10,
    width: 256,
    height: 192,
    ext: "webp",
    encode: (s) => s.webp({ quality: 80 }),
  },
  {
    name: "tiff",
    share: 10,
    width: 200,
    height: 150,
    ext: "tif",
    encode: (s) => s.tiff({ compression: "lzw" }),
  },
];

function jpeg(s: Sharp): Sharp {
  return s.jpeg({ quality: 85 });
}

/** A shoe-ish picture: white ground, a shaded blob, mild texture; RGBA when `alpha`. */
function basePicture(w: number, h: number, rng: Rng, alpha: boolean): Uint8Array {
  const channels = alpha ? 4 : 3;
  const out = new Uint8Array(w * h * channels);
  const [r, g, b] = [rng.int(200), rng.int(200), rng.int(200)];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const dx = (x - w / 2) / (w * 0.4), dy = (y - h * 0.55) / (h * 0.25);
      const inside = dx * dx + dy * dy <= 1;
      const shade = 0.6 + 0.4 * (1 - y / h) + (rng.next() - 0.5) * 0.08;
      const p = (y * w + x) * channels;
      out[p] = inside ? Math.min(255, r * shade) : 255;
      out[p + 1] = inside ? Math.min(255, g * shade) : 255;
      out[p + 2] = inside ? Math.min(255, b * shade) : 255;
      if (alpha) out[p + 3] = inside ? 255 : 0;
    }
  }
  return out;
}

export interface BenchImages {
  readonly dir: string;
  /** Paths relative to `dir`, in generation order. */
  readonly files: readonly string[];
  /** Files per kind. */
  readonly kinds: Record<string, number>;
  readonly bytes: number;
}

/** The cached set of `count` images under `root` (generated when missing or incomplete). */
export async function benchImages(
  root: string,
  count: number,
  log: (m: string) => void,
): Promise<BenchImages> {
  const dir = join(root, `mixed-v1-${count}`);
  const manifestPath = join(dir, "manifest.json");
  try {
    return { dir, ...JSON.parse(await Deno.readTextFile(manifestPath)) };
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  await Deno.remove(dir, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  await Deno.mkdir(dir, { recursive: true });
  const rng = new Rng(19);
  // Eight base pictures per kind, each file tinted and shifted differently.
  const bases = KINDS.map((k) =>
    Array.from({ length: 8 }, () => basePicture(k.width, k.height, rng, k.alpha === true))
  );
  const total = KINDS.reduce((s, k) => s + k.share, 0);
  const plan: number[] = [];
  KINDS.forEach((k, i) => {
    for (let n = 0; n < Math.round((count * k.share) / total); n++) plan.push(i);
  });
  while (plan.length < count) plan.push(0);
  plan.length = count;
  rng.shuffle(plan);
  const files: string[] = [];
  const kinds: Record<string, number> = {};
  let bytes = 0;
  const started = performance.now();
  const write = async (index: number) => {
    const kind = KINDS[plan[index]!]!;
    const base = bases[plan[index]!]![index % 8]!;
    const image = sharp(base, {
      raw: { width: kind.width, height: kind.height, channels: kind.alpha ? 4 : 3 },
    }).linear(0.8 + 0.4 * ((index * 37) % 100) / 100, (index * 13) % 30 - 15);
    const data = await kind.encode(image, index).toBuffer();
    const name = join(String(index % 100).padStart(2, "0"), `${index}.${kind.ext}`);
    await Deno.mkdir(join(dir, String(index % 100).padStart(2, "0")), { recursive: true });
    await Deno.writeFile(join(dir, name), data);
    files[index] = name;
    kinds[kind.name] = (kinds[kind.name] ?? 0) + 1;
    bytes += data.length;
  };
  for (let i = 0; i < count; i += 8) {
    await Promise.all(Array.from({ length: Math.min(8, count - i) }, (_, k) => write(i + k)));
    if (i % 5000 === 0 && i > 0) {
      log(`  generated ${i}/${count} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    }
  }
  const manifest = { files, kinds, bytes };
  // The manifest last: a folder without it is incomplete and made again.
  await Deno.writeTextFile(manifestPath, JSON.stringify(manifest));
  return { dir, ...manifest };
}
