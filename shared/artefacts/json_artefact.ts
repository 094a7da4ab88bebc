/**
 * One JSON file of an artefact with its schema: the single place that reads and writes it.
 * Reading checks the file against the schema and names the file and the first field that does
 * not match ("Cannot read "x/train.json": epochs[1] expected number, got "2""); writing checks
 * the value the same way first, then writes it as it is (JSON indented as the file always was,
 * and a newline: the bytes the stages always wrote, so equal results keep equal artefact ids).
 */
import { join } from "node:path";
import type { z } from "zod";
import { describeIssue } from "./issue_text.ts";
import { parseJson, textIfExists } from "../util/fs.ts";

export interface JsonArtefact<S extends z.ZodType> {
  /** The file's name inside its artefact directory. */
  readonly file: string;
  readonly schema: S;
  /** Parses the file's text; `source` names the file in errors. */
  parse(text: string, source: string): z.output<S>;
  /** Checks a value parsed elsewhere (e.g. fetched); `source` names it in errors. */
  check(value: unknown, source: string): z.output<S>;
  read(dir: string): Promise<z.output<S>>;
  /** As `read`, but undefined when the artefact has no such file. */
  readIfExists(dir: string): Promise<z.output<S> | undefined>;
  write(dir: string, value: z.input<S>): Promise<void>;
}

export interface JsonArtefactOptions {
  /** Spaces per level as JSON.stringify takes them: 2 (the default), 1, or 0 for one line. */
  readonly indent?: 0 | 1 | 2;
}

export function jsonArtefact<S extends z.ZodType>(
  file: string,
  schema: S,
  options: JsonArtefactOptions = {},
): JsonArtefact<S> {
  const indent = options.indent ?? 2;
  const check = (value: unknown, source: string, action = "read"): z.output<S> => {
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    const issues = parsed.error.issues;
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
    throw new TypeError(
      `Cannot ${action} "${source}": ${describeIssue(issues[0]!, value)}${more}`,
    );
  };
  const parse = (text: string, source: string): z.output<S> =>
    check(parseJson(text, source), source);
  const readIfExists = async (dir: string) => {
    const path = join(dir, file);
    const text = await textIfExists(path);
    return text === undefined ? undefined : parse(text, path);
  };
  return {
    file,
    schema,
    parse,
    check: (value, source) => check(value, source),
    readIfExists,
    async read(dir) {
      const path = join(dir, file);
      const record = await readIfExists(dir);
      if (record === undefined) {
        throw new Deno.errors.NotFound(`Cannot read "${path}": the artefact has no ${file}`);
      }
      return record;
    },
    async write(dir, value) {
      const path = join(dir, file);
      check(value, path, "write");
      await Deno.writeTextFile(path, JSON.stringify(value, null, indent) + "\n");
    },
  };
}
