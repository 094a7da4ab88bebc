/** Field schemas several artefact formats share. */
import { z } from "zod";

/** An accuracy or other share: 0 to 1. */
export const Fraction = z.number().min(0).max(1);
export const Count = z.number().int().nonnegative();
/** A notion (condition) name -> accuracy on its triplets. */
export const PerCondition = z.record(z.string(), Fraction);
/** A notion name -> triplets of that notion. */
export const Counts = z.record(z.string(), Count);
/** Mask rows as used (conditions x dims). */
export const MaskRows = z.array(z.array(z.number()));
export const SplitName = z.enum(["train", "val", "test"]);
export const ModelMode = z.enum(["csn", "standard", "task-specific"]);
export const MaskKindName = z.enum(["fixed", "learned", "prein"]);
/** A store artefact id. */
export const ArtefactId = z.string().regex(/^[0-9a-f]{64}$/);
