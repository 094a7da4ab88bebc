/** Parses filenames.json: one image path per line (what every loader reads) or a JSON array. */
import { IMAGES_ROOT } from "./layout.ts";

/**
 * Returns image paths relative to the images root (a leading `./` or `ut-zap50k-images/` is
 * removed). `file` names the source in errors.
 */
export function parseFilenames(text: string, file: string): string[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const nul = body.indexOf("\0");
  if (nul >= 0) {
    throw new SyntaxError(
      `Cannot parse "${file}": it is binary (a NUL byte at offset ${nul}), expected text: one ` +
        "image path per line or a JSON array of paths",
    );
  }
  if (body.trimStart().startsWith("{")) {
    throw new SyntaxError(
      `Cannot parse "${file}": it is a JSON object, expected one image path per line or a JSON ` +
        "array of paths",
    );
  }
  let raw: string[];
  if (body.trimStart().startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (error) {
      throw new SyntaxError(`Cannot parse "${file}" as a JSON array: ${(error as Error).message}`);
    }
    if (!Array.isArray(parsed)) throw new SyntaxError(`Cannot parse "${file}": not an array`);
    raw = parsed.map((item, i) => {
      if (typeof item !== "string" || item.trim() === "") {
        throw new SyntaxError(
          `Cannot parse "${file}": item ${i} is ${JSON.stringify(item)}, expected an image path`,
        );
      }
      return item;
    });
  } else {
    raw = body.split("\n");
    if (raw.at(-1)?.trim() === "") raw.pop(); // the final newline ends the last line
    raw = raw.map((line, i) => {
      const path = line.replace(/\r$/, "");
      if (path.includes("\ufffd")) {
        // The file was decoded as UTF-8 with replacement characters: not a text listing.
        throw new SyntaxError(
          `Cannot parse "${file}": line ${i + 1} is not UTF-8 text, expected an image path`,
        );
      }
      if (path.trim() === "") {
        throw new SyntaxError(
          `Cannot parse "${file}": line ${i + 1} is empty, expected an image path ` +
            `(line numbers are image indices, so no line may be skipped)`,
        );
      }
      return path;
    });
  }
  if (raw.length === 0) throw new SyntaxError(`Cannot parse "${file}": it lists no images`);
  return raw.map(normaliseImagePath);
}

/** `./ut-zap50k-images/Shoes/x.jpg` and `Shoes/x.jpg` both become `Shoes/x.jpg`. */
export function normaliseImagePath(path: string): string {
  let p = path.trim().replaceAll("\\", "/");
  while (p.startsWith("./")) p = p.slice(2);
  if (p.startsWith(`${IMAGES_ROOT}/`)) p = p.slice(IMAGES_ROOT.length + 1);
  return p;
}
