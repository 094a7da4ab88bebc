/**
 * Benchmark: glyphs/s of the fonts dataset build (parse every TTF, render 62 glyphs each at
 * 64x64, labels, split and triplets: `loadFonts`), beside PIL/FreeType rendering the same
 * fonts in the same run (bench/glyph_ref.py with /usr/bin/python3). Medians of `runs`.
 */
import { fetchFonts } from "../shared/data/fonts/fetch.ts";
import { loadFonts } from "../shared/data/fonts/load.ts";
import { removeTree } from "../shared/util/fs.ts";
import { median, timeIt } from "./timing.ts";

export async function glyphBench(runs = 3): Promise<Record<string, unknown>> {
  const dir = await Deno.makeTempDir({ prefix: "csn-glyph-bench-" });
  try {
    await fetchFonts({}, dir, () => {});
    let glyphs = 0;
    const ours: number[] = [];
    const reference: number[] = [];
    for (let i = 0; i < runs; i++) {
      ours.push(
        await timeIt(async () => {
          const dataset = await loadFonts(dir, {
            size: 64,
            numTrain: 1000,
            numVal: 100,
            numTest: 100,
            seed: 1,
          }, () => {});
          glyphs = dataset.names.length;
        }),
      );
      const out = await new Deno.Command("/usr/bin/python3", {
        args: ["bench/glyph_ref.py", `${dir}/fonts`, "--size", "64"],
        stderr: "inherit",
      }).output();
      if (!out.success) {
        throw new Error(`Cannot run bench/glyph_ref.py: it exited ${out.code}, expected 0`);
      }
      reference.push(JSON.parse(new TextDecoder().decode(out.stdout)).seconds);
    }
    const rate = glyphs / median(ours);
    const refRate = glyphs / median(reference);
    return {
      bench: "glyphs",
      glyphs,
      glyphs_per_s: Math.round(rate),
      pil_glyphs_per_s: Math.round(refRate),
      ratio: Math.round((rate / refRate) * 100) / 100,
      summary: `glyphs: ${Math.round(rate)} glyphs/s (whole fonts dataset build) vs PIL/FreeType ` +
        `rendering alone ${Math.round(refRate)} glyphs/s (${(rate / refRate).toFixed(2)}x)`,
    };
  } finally {
    await removeTree(dir);
  }
}

if (import.meta.main) console.log((await glyphBench()).summary);
