/**
 * Exports a run's embeddings of one split for viewing elsewhere:
 *   TensorBoard projector files (eval/projector.ts): tensors.tsv (the full embedding),
 *   tensors_<notion>.tsv (each notion's masked subspace), metadata.tsv (image name and every
 *   labelled notion's value), projector_config.pbtxt. Task-specific models have one network
 *   per notion, so each notion gets its own projector folder, projector_<notion>/.
 *   map_<notion>.svg: a 2-D UMAP map of each labelled notion's subspace (eval/map2d.ts),
 *   points coloured by the notion's value, like the paper's per-subspace figures.
 * The gallery embeddings come from the same cache as `deno task query`.
 */
import { join } from "node:path";
import type { BackendChoice } from "../engine/choices.ts";
import type { Project } from "../pipeline/project.ts";
import { writeProjector } from "./projector.ts";
import { notionMap } from "../eval/map2d.ts";
import { mapSvg } from "../eval/map_svg.ts";
import { type GallerySplit, obtainGallery, openRunSession } from "./gallery.ts";
import { notionSlug } from "./query.ts";

export interface ExportOptions {
  readonly run: string;
  readonly split: GallerySplit;
  /** Output folder; default runs/NAME/export. */
  readonly out?: string;
  /** Most points per map. */
  readonly points: number;
  readonly seed: number;
  readonly workers: number;
  readonly backend: BackendChoice;
  readonly log: (message: string) => void;
}

export interface ExportResult {
  readonly run: string;
  readonly split: GallerySplit;
  readonly dir: string;
  /** Images exported (rows of every tensor file). */
  readonly images: number;
  /** Paths of the files written. */
  readonly files: string[];
  /** Points per map, by notion. */
  readonly maps: Record<string, number>;
}

export async function runExport(project: Project, options: ExportOptions): Promise<ExportResult> {
  const { log } = options;
  const { runModel, shards, session } = await openRunSession(project, options.run, "export", {
    backend: options.backend,
    log,
  });
  const dir = options.out ?? join(runModel.runDir, "export");
  try {
    const { gallery } = await obtainGallery({
      runModel,
      shards,
      session,
      split: options.split,
      workers: options.workers,
      log,
    });
    const { ids, d, conditionNames, masks } = gallery;
    const allNames = await shards.names();
    const names = Array.from(ids, (id) => allNames[id]!);
    const labels: Record<string, Int32Array> = {};
    for (const [notion, all] of Object.entries(shards.labels)) {
      labels[notion] = Int32Array.from(ids, (id) => all[id]!);
    }
    const files: string[] = [];
    const projector = (
      folder: string,
      embeddings: Float32Array,
      rows: Float32Array,
      maskNames: string[],
    ) =>
      writeProjector(folder, {
        embeddings,
        d,
        masks: rows,
        maskNames,
        notions: shards.notions,
        labels,
        names,
      });
    if (gallery.embeddings.length === 1) {
      const written = await projector(dir, gallery.embeddings[0]!, masks, [...conditionNames]);
      files.push(...written.map((file) => join(dir, file)));
    } else {
      for (const [c, notion] of conditionNames.entries()) {
        const folder = join(dir, `projector_${notionSlug(notion)}`);
        const row = masks.slice(c * d, (c + 1) * d);
        const written = await projector(folder, gallery.embeddings[c]!, row, [notion]);
        files.push(...written.map((file) => join(folder, file)));
      }
    }

    const maps: Record<string, number> = {};
    const { mode, masks: maskKind } = session.config;
    const kind = mode === "csn" ? `csn, ${maskKind} masks` : mode;
    for (const [c, name] of conditionNames.entries()) {
      const notion = shards.notions.find((n) => n.name === name);
      const notionLabels = labels[name];
      const labelled = notionLabels?.filter((l) => l >= 0).length ?? 0;
      if (!notion || !notionLabels || notion.values.length === 0 || labelled < 3) {
        log(
          `export: no map for "${name}": ${labelled} of its ${options.split} images are labelled`,
        );
        continue;
      }
      const started = performance.now();
      const embeddings = gallery.embeddings.length === 1
        ? gallery.embeddings[0]!
        : gallery.embeddings[c]!;
      const map = notionMap(embeddings, d, masks.subarray(c * d, (c + 1) * d), notionLabels, {
        seed: options.seed,
        points: options.points,
      });
      const title = `${name} subspace (${kind}), run ${runModel.run}, ${options.split}: ` +
        `${map.indices.length} images`;
      const file = join(dir, `map_${notionSlug(name)}.svg`);
      await Deno.writeTextFile(file, mapSvg(map, notion.values, { title }));
      files.push(file);
      maps[name] = map.indices.length;
      log(
        `export: map of "${name}" (${map.indices.length} points) in ` +
          `${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
    }
    return { run: runModel.run, split: options.split, dir, images: ids.length, files, maps };
  } finally {
    await session.close();
  }
}
