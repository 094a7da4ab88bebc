/**
 * The images dataset's raw artefact: `images/` (the labelled images, under their paths),
 * the label file as given (`labels.csv` or `labels.jsonl`, absent in folder-level mode),
 * `triplets/<notion>.txt` when the user gave triplets, and sources.json (its schema:
 * artefacts/sources_record.ts), which fetch writes and load reads back.
 */
export { type ImageSources as Sources, imageSources } from "../../artefacts/sources_record.ts";

export const IMAGES_DIR = "images";
export const TRIPLETS_DIR = "triplets";
export const SOURCES_FORMAT = "csn-images-sources/1";
