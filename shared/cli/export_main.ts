/**
 * deno task export --run NAME [--split test] [--out DIR] [--points 2000] [--seed 1] [--json]
 * TensorBoard projector files and a 2-D UMAP map per notion (see shared/explore/export.ts);
 * prints the files written, one per line.
 * deno task export --run NAME --onnx FILE [--json]: the model as one ONNX file instead
 * (shared/explore/export_onnx.ts); prints its path.
 */
import { BACKEND_CHOICES, type BackendChoice } from "../engine/choices.ts";
import { openProject } from "../pipeline/project.ts";
import { GALLERY_SPLITS, type GallerySplit } from "../explore/gallery.ts";
import { runExport } from "../explore/export.ts";
import { runOnnxExport } from "../explore/export_onnx.ts";
import { type FlagSpec, integerFlag, log, main, oneOf, parseArgs, usage } from "./args.ts";
import { UsageError } from "../util/usage_error.ts";

const FLAGS: Record<string, FlagSpec> = {
  run: { value: true, help: "the run whose model to export (runs/NAME)" },
  split: { value: true, help: "images to export: test (default), val, train or all" },
  out: { value: true, help: "output folder (default runs/NAME/export)" },
  points: { value: true, help: "most points per UMAP map (default 2000)" },
  seed: { value: true, help: "seed of the map subsample and UMAP (default 1)" },
  workers: { value: true, help: "worker threads embedding an uncached gallery (default 2)" },
  backend: { value: true, help: `tfjs backend: ${BACKEND_CHOICES.join(", ")} (default auto)` },
  onnx: {
    value: true,
    help: "write the embedding network with its masks as this ONNX file (nothing else)",
  },
  json: { value: false, help: "print one JSON object on stdout instead of the file list" },
  help: { value: false, help: "show this help" },
};

if (import.meta.main) {
  await main(async () => {
    const args = parseArgs(Deno.args, FLAGS);
    const flag = (name: string) => args.flags[name]?.[0];
    if (flag("help")) {
      console.log(
        usage(
          "export --run NAME [--onnx FILE]",
          "Projector files and UMAP maps of a run, or with --onnx its model as one ONNX file.",
          FLAGS,
        ),
      );
      return 0;
    }
    if (args.positional.length > 0) {
      throw new UsageError(
        `Cannot export: unexpected argument "${
          args.positional[0]
        }", it takes only flags (see --help)`,
      );
    }
    const run = flag("run");
    if (!run) {
      throw new UsageError("Cannot export: --run NAME is required (the run folder under runs/)");
    }
    const onnx = flag("onnx");
    if (onnx !== undefined) {
      if (onnx === "") throw new UsageError("Cannot export: --onnx needs a file name, got none");
      const others = Object.keys(args.flags).filter((f) => !["run", "onnx", "json"].includes(f));
      if (others.length > 0) {
        throw new UsageError(
          `Cannot export: --${others[0]} does not apply to --onnx, which writes only the ` +
            `model file (drop it, or export projector files without --onnx)`,
        );
      }
      const result = await runOnnxExport(openProject(), { run, file: onnx, log });
      console.log(flag("json") ? JSON.stringify(result, null, 2) : result.file);
      return 0;
    }
    const result = await runExport(openProject(), {
      run,
      split: oneOf<GallerySplit>("split", flag("split") ?? "test", GALLERY_SPLITS),
      out: flag("out"),
      points: integerFlag("points", flag("points") ?? "2000", 3),
      seed: integerFlag("seed", flag("seed") ?? "1", 0),
      workers: integerFlag("workers", flag("workers") ?? "2", 0),
      backend: oneOf<BackendChoice>("backend", flag("backend") ?? "auto", BACKEND_CHOICES),
      log,
    });
    if (flag("json")) console.log(JSON.stringify(result, null, 2));
    else console.log(result.files.join("\n"));
  });
}
