/**
 * deno task query --run NAME --condition NOTION (--image FILE | --index N) [-k 10]
 *                 [--split test|val|train|all] [--out FILE.png] [--invert] [--json]
 * The k nearest gallery images to a query under one notion's masked subspace, printed and
 * drawn as a contact sheet (see shared/explore/query.ts).
 */

const SUMMARY = `The k nearest images to a query under one notion's masked subspace.

The gallery is the split's images (those its triplets use; "all": every image); --index N
queries with its N-th image, which the results leave out. --image takes a PNG or JPEG and
prepares it as training did: shorter side resized to the shards' size, centre square cropped,
gray by luminance when the shards are gray. Fonts runs too: their glyphs are light ink on
black, drawn at one scale per font (capitals nearly fill the cell), so frame a drawing the
same way and give --invert for dark ink on light paper. Transparent pixels become the dataset's
background (black for glyphs, white for photos).`;
import { BACKEND_CHOICES, type BackendChoice } from "../engine/choices.ts";
import { openProject } from "../pipeline/project.ts";
import { GALLERY_SPLITS, type GallerySplit } from "../explore/gallery.ts";
import { runQuery } from "../explore/query.ts";
import { formatQuery } from "../explore/query_report.ts";
import {
  type FlagSpec,
  integerFlag,
  log,
  main,
  normaliseShortK,
  oneOf,
  parseArgs,
  usage,
} from "./args.ts";
import { UsageError } from "../util/usage_error.ts";

const FLAGS: Record<string, FlagSpec> = {
  run: { value: true, help: "the run whose model to query (runs/NAME)" },
  condition: { value: true, help: "the notion of similarity, e.g. character" },
  image: { value: true, help: "query with this PNG or JPEG file" },
  index: { value: true, help: "query with this gallery image (0-based place in the split)" },
  k: { value: true, help: "neighbours to return (default 10)" },
  split: { value: true, help: "gallery: test (default), val, train or all" },
  out: { value: true, help: "contact sheet PNG (default runs/NAME/query-<notion>.png)" },
  invert: { value: false, help: "invert the image's gray levels (dark ink on light paper)" },
  workers: { value: true, help: "worker threads embedding an uncached gallery (default 2)" },
  backend: { value: true, help: `tfjs backend: ${BACKEND_CHOICES.join(", ")} (default auto)` },
  json: { value: false, help: "print one JSON object on stdout" },
  help: { value: false, help: "show this help" },
};

if (import.meta.main) {
  await main(async () => {
    const args = parseArgs(normaliseShortK(Deno.args), FLAGS);
    const flag = (name: string) => args.flags[name]?.[0];
    if (flag("help")) {
      console.log(
        usage(
          "query --run NAME --condition NOTION (--image FILE | --index N)",
          SUMMARY,
          FLAGS,
        ),
      );
      return 0;
    }
    if (args.positional.length > 0) {
      throw new UsageError(
        `Cannot query: unexpected argument "${
          args.positional[0]
        }", it takes only flags (see --help)`,
      );
    }
    const run = flag("run");
    const notion = flag("condition");
    if (!run) {
      throw new UsageError("Cannot query: --run NAME is required (the run folder under runs/)");
    }
    if (!notion) {
      throw new UsageError(
        "Cannot query: --condition NOTION is required, e.g. --condition character",
      );
    }
    const image = flag("image");
    const indexText = flag("index");
    if ((image === undefined) === (indexText === undefined)) {
      throw new UsageError(
        `Cannot query: expected exactly one of --image FILE and --index N, got ${
          image === undefined ? "neither" : "both"
        }`,
      );
    }
    const result = await runQuery(openProject(), {
      run,
      notion,
      image,
      index: indexText === undefined ? undefined : integerFlag("index", indexText, 0),
      k: integerFlag("k", flag("k") ?? "10", 1),
      split: oneOf<GallerySplit>("split", flag("split") ?? "test", GALLERY_SPLITS),
      out: flag("out"),
      invert: Boolean(flag("invert")),
      workers: integerFlag("workers", flag("workers") ?? "2", 0),
      backend: oneOf<BackendChoice>("backend", flag("backend") ?? "auto", BACKEND_CHOICES),
      log,
    });
    if (flag("json")) console.log(JSON.stringify(result, null, 2));
    else console.log(formatQuery(result).trimEnd());
    log(
      `query: ${result.seconds.total.toFixed(2)} s (gallery ${
        result.gallery.cached ? "from cache" : "embedded"
      } ${result.seconds.gallery.toFixed(2)} s)`,
    );
  });
}
