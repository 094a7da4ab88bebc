/**
 * Validation of 5-field cron expressions as GitHub Actions' `on.schedule[].cron` accepts them
 * (POSIX cron: minute hour day-of-month month day-of-week; `*`, lists `,`, ranges `-`, steps
 * `/`; month and weekday names). Returns the expanded sets, which the tests also check.
 */

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const FIELDS: readonly FieldSpec[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  {
    name: "month",
    min: 1,
    max: 12,
    names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
  },
  { name: "day of week", min: 0, max: 6, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] },
];

export type CronSchedule = [number[], number[], number[], number[], number[]];

export function parseCron(expression: string): CronSchedule {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) {
    throw new SyntaxError(
      `Cannot parse cron "${expression}": ${parts.length} fields, expected 5 (minute hour ` +
        `day-of-month month day-of-week)`,
    );
  }
  return parts.map((part, i) => parseField(part, FIELDS[i]!, expression)) as CronSchedule;
}

function parseField(text: string, spec: FieldSpec, expression: string): number[] {
  const fail = (why: string): never => {
    throw new SyntaxError(`Cannot parse cron "${expression}": ${spec.name} "${text}" ${why}`);
  };
  const values = new Set<number>();
  for (const item of text.split(",")) {
    const match = item.match(/^([^/]+)(?:\/(\d+))?$/);
    if (!match) fail(`has a malformed item "${item}"`);
    const [, range, stepText] = match!;
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step < 1) fail("has a step of 0");
    let lo: number;
    let hi: number;
    if (range === "*") {
      [lo, hi] = [spec.min, spec.max];
    } else {
      const ends = range!.split("-");
      if (ends.length > 2) fail(`has a malformed range "${range}"`);
      lo = value(ends[0]!, spec, fail);
      hi = ends.length === 2 ? value(ends[1]!, spec, fail) : stepText === undefined ? lo : spec.max;
      if (lo > hi) fail(`has a range that runs backwards (${lo}-${hi})`);
    }
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
}

function value(text: string, spec: FieldSpec, fail: (why: string) => never): number {
  const named = spec.names?.indexOf(text.toUpperCase()) ?? -1;
  if (named >= 0) return named + spec.min;
  if (!/^\d+$/.test(text)) {
    return fail(`has "${text}", which is not a number${spec.names ? " or a name" : ""}`);
  }
  const n = Number(text);
  if (n < spec.min || n > spec.max) return fail(`has ${n}, outside ${spec.min}-${spec.max}`);
  return n;
}
