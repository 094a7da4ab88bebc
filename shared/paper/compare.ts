/**
 * The paper comparison, pure: test results of several modes (and seeds) -> a table of mean and
 * spread per notion, the learned masks' active dimensions and overlaps, and accuracy curves
 * against training triplets seen.
 */

export interface TestResult {
  readonly mode: string;
  readonly masks?: string;
  readonly accuracy: number;
  readonly per_condition: Readonly<Record<string, number>>;
  readonly triplets: number;
  readonly condition_names?: readonly string[];
  /** Mask rows as used (conditions x d), for csn modes. */
  readonly mask_values?: readonly (readonly number[])[];
}

export interface ValidationCurve {
  readonly triplets_per_epoch?: number;
  /** The budget the run trained under ("" or absent: none). */
  readonly budget?: string;
  readonly triplets_seen?: number;
  readonly best_epoch?: number;
  readonly curve: readonly {
    epoch: number;
    accuracy: number;
    triplets_seen?: number;
    mask_values?: readonly (readonly number[])[];
  }[];
}

export interface ModeRun {
  /** The label given in the manifest (input name without the seed suffix). */
  readonly label: string;
  readonly seed: number;
  readonly test: TestResult;
  readonly validation?: ValidationCurve;
}

export interface Stat {
  readonly mean: number;
  /** Sample standard deviation over seeds (0 for one seed). */
  readonly std: number;
  readonly n: number;
}

export function stat(values: readonly number[]): Stat {
  const n = values.length;
  if (n === 0) throw new RangeError("Cannot compute a mean and std: no values");
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(variance), n };
}

export interface ModeRow {
  readonly label: string;
  readonly seeds: number[];
  readonly accuracy: Stat;
  readonly per_condition: Record<string, Stat>;
}

export function tableRows(runs: readonly ModeRun[], order: readonly string[]): ModeRow[] {
  const labels = [...new Set(runs.map((r) => r.label))]
    .sort((a, b) => rank(order, a) - rank(order, b) || (a < b ? -1 : 1));
  return labels.map((label) => {
    const mine = runs.filter((r) => r.label === label).sort((a, b) => a.seed - b.seed);
    const notions = [...new Set(mine.flatMap((r) => Object.keys(r.test.per_condition)))];
    return {
      label,
      seeds: mine.map((r) => r.seed),
      accuracy: stat(mine.map((r) => r.test.accuracy)),
      per_condition: Object.fromEntries(notions.map((notion) => [
        notion,
        stat(mine.flatMap((r) => r.test.per_condition[notion] ?? [])),
      ])),
    };
  });
}

function rank(order: readonly string[], label: string): number {
  const i = order.indexOf(label);
  return i < 0 ? order.length : i;
}

export interface MaskAnalysis {
  readonly label: string;
  readonly seed: number;
  /** A dimension is active for a notion when its mask value exceeds this. */
  readonly threshold: number;
  readonly active: Record<string, number>;
  /** overlaps[a][b]: dimensions active for both a and b. */
  readonly overlaps: Record<string, Record<string, number>>;
}

/** Active dimensions (value > 10% of the largest mask value) and pairwise overlaps. */
export function analyseMasks(
  label: string,
  seed: number,
  names: readonly string[],
  masks: readonly (readonly number[])[],
): MaskAnalysis {
  const max = Math.max(...masks.flat());
  const threshold = 0.1 * max;
  const activeSets = masks.map((row) => new Set(row.flatMap((v, i) => (v > threshold ? [i] : []))));
  const active: Record<string, number> = {};
  const overlaps: Record<string, Record<string, number>> = {};
  names.forEach((a, i) => {
    active[a] = activeSets[i]!.size;
    overlaps[a] = {};
    names.forEach((b, j) => {
      overlaps[a]![b] = [...activeSets[i]!].filter((d) => activeSets[j]!.has(d)).length;
    });
  });
  return { label, seed, threshold, active, overlaps };
}

function cell(s: Stat | undefined): string {
  if (!s) return "";
  const pct = (v: number) => (100 * v).toFixed(1);
  return s.n > 1 ? `${pct(s.mean)} ± ${pct(s.std)}` : pct(s.mean);
}

export function markdownTable(rows: readonly ModeRow[], notions: readonly string[]): string {
  const header = `| mode | seeds | overall | ${notions.join(" | ")} |`;
  const rule = `|---|---|---|${notions.map(() => "---|").join("")}`;
  const lines = rows.map((row) =>
    `| ${row.label} | ${row.seeds.length || "-"} | ${cell(row.accuracy)} | ` +
    `${notions.map((n) => cell(row.per_condition[n])).join(" | ")} |`
  );
  return [header, rule, ...lines].join("\n") + "\n";
}

export function masksMarkdown(analyses: readonly MaskAnalysis[]): string {
  return analyses.map((a) => {
    const names = Object.keys(a.active);
    const head = `| ${a.label} (seed ${a.seed}) | active dims | ${
      names.map((n) => `∩ ${n}`).join(" | ")
    } |`;
    const rule = `|---|---|${names.map(() => "---|").join("")}`;
    const rows = names.map((n) =>
      `| ${n} | ${a.active[n]} | ${names.map((m) => a.overlaps[n]![m]).join(" | ")} |`
    );
    return [head, rule, ...rows].join("\n");
  }).join("\n\n") + "\n";
}

/** Validation accuracy against training triplets seen, one series per mode and seed. */
export function curves(runs: readonly ModeRun[]) {
  return runs.filter((r) => r.validation?.triplets_per_epoch).map((r) => ({
    name: `${r.label} s${r.seed}`,
    points: r.validation!.curve.map((p) =>
      [p.triplets_seen ?? p.epoch * r.validation!.triplets_per_epoch!, p.accuracy] as [
        number,
        number,
      ]
    ),
  }));
}
