/**
 * A small argument reader: flags the command declares, plus (for `stage`) flags named after
 * the stage's params. Anything else is an error with a hint, never ignored.
 */
import { basename } from "node:path";
import { closest } from "../util/closest.ts";
import { UsageError } from "../util/usage_error.ts";
import { RUNTIME_DIR_PREFIX } from "../util/runtime_dir.ts";

export interface FlagSpec {
  /** Takes a value (`--until shard`); otherwise a switch (`--json`). */
  readonly value: boolean;
  readonly repeat?: boolean;
  readonly help: string;
}

export interface ParsedArgs {
  readonly positional: string[];
  readonly flags: Record<string, string[]>;
  /** Flags not declared, kept in order for a second reader (stage params). */
  readonly rest: string[];
}

export function parseArgs(
  argv: readonly string[],
  specs: Readonly<Record<string, FlagSpec>>,
  options: { allowRest?: boolean } = {},
): ParsedArgs {
  const positional: string[] = [];
  const flags: Record<string, string[]> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (!token.startsWith("--")) {
      positional.push(token);
      continue;
    }
    const [name, inline] = splitFlag(token);
    const spec = specs[name];
    if (!spec) {
      if (options.allowRest) {
        rest.push(token);
        const next = argv[i + 1];
        if (inline === undefined && next !== undefined && !next.startsWith("--")) {
          rest.push(next);
          i++;
        }
        continue;
      }
      throw unknownFlag(name, Object.keys(specs));
    }
    let value = "true";
    if (spec.value) {
      const next = inline ?? argv[++i];
      if (next === undefined) throw new UsageError(`Cannot read flag --${name}: it needs a value`);
      value = next;
    } else if (inline !== undefined) {
      throw new UsageError(`Cannot read flag --${name}: it takes no value`);
    }
    const list = flags[name] ??= [];
    if (list.length > 0 && !spec.repeat) {
      throw new UsageError(`Cannot read flag --${name}: it was given twice, expected once`);
    }
    list.push(value);
  }
  return { positional, flags, rest };
}

function splitFlag(token: string): [string, string | undefined] {
  const body = token.slice(2);
  const eq = body.indexOf("=");
  return eq < 0 ? [body, undefined] : [body.slice(0, eq), body.slice(eq + 1)];
}

export function unknownFlag(name: string, known: readonly string[]): UsageError {
  const hint = closest(name, known);
  return new UsageError(
    `Cannot read flag --${name}: unknown flag` + (hint ? `; did you mean --${hint}?` : "") +
      ` (known: ${known.map((flag) => `--${flag}`).join(" ")})`,
  );
}

/** A flag value checked into an integer >= min (query, export). */
export function integerFlag(name: string, text: string, min: number): number {
  const value = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`Cannot read --${name} "${text}": expected an integer >= ${min}`);
  }
  return value;
}

/** A flag value checked against its choices. */
export function oneOf<T extends string>(name: string, text: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(text)) {
    throw new UsageError(`Cannot read --${name} "${text}": expected one of ${choices.join(", ")}`);
  }
  return text as T;
}

/** `-k 5` is the documented spelling; the flag reader knows only `--k`. */
export function normaliseShortK(argv: readonly string[]): string[] {
  return argv.map((token) =>
    token === "-k" ? "--k" : token.startsWith("-k=") ? `-${token}` : token
  );
}

export function usage(command: string, summary: string, specs: Record<string, FlagSpec>): string {
  const lines = Object.entries(specs).map(([name, spec]) =>
    `  --${name}${spec.value ? " VALUE" : ""}`.padEnd(24) + spec.help
  );
  return `usage: deno task ${command}\n${summary}\n\n${lines.join("\n")}\n`;
}

/**
 * Runs a command's body; errors become one clear line on stderr and exit code 1 (2: usage).
 * A runtime folder the GPU probe made for this process (no XDG_RUNTIME_DIR given) is removed
 * on the way out, so runs leave no folders in the temp dir.
 */
export async function main(body: () => Promise<number | void>): Promise<void> {
  const givenRuntimeDir = Deno.env.get("XDG_RUNTIME_DIR");
  let code: number;
  try {
    code = (await body()) ?? 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`error: ${message}`);
    if (Deno.env.get("CSN_DEBUG") && error instanceof Error) console.error(error.stack);
    code = error instanceof UsageError ? 2 : 1;
  }
  const madeRuntimeDir = Deno.env.get("XDG_RUNTIME_DIR");
  if (
    !givenRuntimeDir && madeRuntimeDir && basename(madeRuntimeDir).startsWith(RUNTIME_DIR_PREFIX)
  ) {
    await Deno.remove(madeRuntimeDir, { recursive: true }).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }
  Deno.exit(code);
}

export function log(message: string): void {
  console.error(message);
}
