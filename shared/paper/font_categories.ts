/**
 * The off-task label of the fonts data: serif vs sans-serif, by family, following the
 * families' Google Fonts category. Families in other categories (display, handwriting,
 * monospace) get no label. The triplets never use it: they compare character, family,
 * weight and slant.
 */

export const TYPE_CLASSES = ["sans-serif", "serif"] as const;

const SERIF = [
  "crimson-text",
  "eb-garamond",
  "ibm-plex-serif",
  "lora",
  "merriweather",
  "playfair-display",
  "pt-serif",
  "roboto-slab",
];

const SANS = [
  "exo-2",
  "ibm-plex-sans",
  "josefin-sans",
  "lato",
  "montserrat",
  "open-sans",
  "oswald",
  "raleway",
  "roboto",
  "work-sans",
];

/** Class id in TYPE_CLASSES of a family slug, or -1 when it is neither serif nor sans. */
export function typeClassOf(family: string): number {
  if (SANS.includes(family)) return 0;
  if (SERIF.includes(family)) return 1;
  return -1;
}

/** Per image: the serif/sans class of its family (labels index `families`). */
export function typeLabels(familyLabels: Int32Array, families: readonly string[]): Int32Array {
  const byFamily = families.map(typeClassOf);
  return Int32Array.from(familyLabels, (f) => (f < 0 ? -1 : byFamily[f] ?? -1));
}
