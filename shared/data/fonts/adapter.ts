/** The fonts dataset as an adapter: its spec plus fetch (copy TTFs) and load (render glyphs). */
import { defineDataset } from "../adapter.ts";
import { fetchFonts, fontPackagesDir, resolveFamilies } from "./fetch.ts";
import { loadFonts } from "./load.ts";
import { fontsSpec } from "./spec.ts";

export default defineDataset({
  ...fontsSpec,
  async fetch(params, ctx) {
    const opts = params.families === undefined ? {} : { families: params.families };
    return { ...await fetchFonts(opts, ctx.outDir, ctx.log) };
  },
  // When the pipeline is planned: a misspelt family fails before anything runs.
  async checkFetchParams(params) {
    await resolveFamilies(fontPackagesDir(), params.families);
  },
  load: (rawDir, p, ctx) =>
    loadFonts(
      rawDir,
      { size: p.size, numTrain: p.num_train, numVal: p.num_val, numTest: p.num_test, seed: p.seed },
      ctx.log,
    ),
});
