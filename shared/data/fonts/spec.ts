/** The fonts dataset's name, facts and params (the adapter's light half; see ../adapter.ts). */
import { z } from "zod";
import { defineSpec } from "../adapter.ts";
import { NOTION_NAMES } from "./labels.ts";

/** A list, or a comma-separated string (handy with `--set fetch.families=roboto,lato`). */
const familyList = z.union([
  z.array(z.string().min(1)).min(1),
  z.string().min(1).transform((s) => s.split(",").map((f) => f.trim()).filter((f) => f !== "")),
]);

export const fontsSpec = defineSpec({
  name: "fonts",
  description: "glyphs of the pinned @expo-google-fonts npm packages: character, family, " +
    "weight, slant",
  facts: { photos: false },
  fetchParams: z.object({
    /** Family slugs such as "roboto"; default every installed family. */
    families: familyList.optional(),
  }),
  preprocessParams: z.object({}),
  notions: () => NOTION_NAMES,
});
