/** Flag values of the query and export commands, checked into numbers and choices. */
import { UsageError } from "../util/usage_error.ts";

export function integerFlag(name: string, text: string, min: number): number {
  const value = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`--${name} "${text}": expected an integer >= ${min}`);
  }
  return value;
}

export function oneOf<T extends string>(name: string, text: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(text)) {
    throw new UsageError(`--${name} "${text}": expected one of ${choices.join(", ")}`);
  }
  return text as T;
}

/** `-k 5` is the documented spelling; the flag reader knows only `--k`. */
export function normaliseShortK(argv: readonly string[]): string[] {
  return argv.map((token) =>
    token === "-k" ? "--k" : token.startsWith("-k=") ? `-${token}` : token
  );
}
