/**
 * How decoded images are fitted to the network's square input. Light (no sharp): dataset
 * specs import it for their `fit` param schema.
 */
export const FITS = ["crop", "letterbox"] as const;
export type Fit = typeof FITS[number];

export interface DecodeOptions {
  /** Output side in pixels. */
  readonly size: number;
  readonly fit: Fit;
}

/** Throws a RangeError unless `opts` is a usable size and fit; `what` names the caller. */
export function checkDecodeOptions(opts: DecodeOptions, what: string): void {
  if (!Number.isInteger(opts.size) || opts.size < 1) {
    throw new RangeError(`Cannot ${what}: size = ${opts.size}, expected a positive integer`);
  }
  if (!FITS.includes(opts.fit)) {
    throw new RangeError(`Cannot ${what}: fit = ${opts.fit}, expected one of ${FITS.join(", ")}`);
  }
}
