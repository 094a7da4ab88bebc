/**
 * Why an image could not be used, as a stable category. Artefacts record these (their ids
 * must repeat for the same bytes), never the image library's own text, which has varied run
 * to run for one file ("Unknown error" once, "premature end of JPEG image" the next).
 */
export const BAD_REASONS = {
  missing: "missing file",
  unreadable: "file cannot be read",
  empty: "empty file",
  unsupported: "unsupported format (expected JPEG, PNG, WebP, TIFF or AVIF)",
  corrupt: "truncated or corrupt image data",
  tooLarge: "image larger than 50 megapixels",
} as const;

export type BadReason = typeof BAD_REASONS[keyof typeof BAD_REASONS];

/** An image that could not be decoded: `reason` is stable; `detail` is for logs only. */
export class ImageDecodeError extends SyntaxError {
  constructor(
    /** The image's name (its path in the dataset). */
    readonly image: string,
    readonly reason: BadReason,
    /** The library's message or other context: may vary run to run, so never stored. */
    readonly detail: string,
  ) {
    super(`Cannot decode image "${image}": ${reason}${detail ? ` (${detail})` : ""}`);
    this.name = "ImageDecodeError";
  }
}

/** The category of an error from reading a file (NotFound and the rest). */
export function readFailureReason(error: unknown): BadReason {
  return error instanceof Deno.errors.NotFound ? BAD_REASONS.missing : BAD_REASONS.unreadable;
}
