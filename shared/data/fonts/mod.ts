/**
 * The fonts dataset: glyphs of npm @expo-google-fonts families with four notions of
 * similarity (character, family, weight, slant). `fetchFonts` builds the raw artefact,
 * `loadFonts` turns it into a DecodedDataset.
 */
export { fetchFonts, type FontsFetchOptions, type FontSource, installedFamilies } from "./fetch.ts";
export { type FontsLoadOptions, loadFonts } from "./load.ts";
export { CHARACTERS, NOTION_NAMES, slantOf, SLANTS, weightBucket, WEIGHTS } from "./labels.ts";
export { parseFont, readFontFile } from "./font_file.ts";
