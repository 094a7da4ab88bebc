/** The probe's results over modes and seeds, pure: mean ± sample std per mode and features. */
import { type Stat, stat } from "./compare.ts";
import type { ProbeScore } from "./probe.ts";

export interface ProbeRun {
  readonly label: string;
  readonly seed: number;
  readonly rows: readonly { features: string; score: ProbeScore }[];
}

export interface ProbeRow {
  readonly label: string;
  readonly features: string;
  readonly accuracy: Stat;
  readonly balanced: Stat;
  readonly chance: number;
  readonly test: number;
}

export function probeRows(runs: readonly ProbeRun[], order: readonly string[]): ProbeRow[] {
  const keys = new Map<string, { label: string; features: string; scores: ProbeScore[] }>();
  const sorted = [...runs].sort((a, b) =>
    (order.indexOf(a.label) - order.indexOf(b.label)) || a.seed - b.seed
  );
  for (const run of sorted) {
    for (const row of run.rows) {
      const key = `${run.label}\u0000${row.features}`;
      const entry = keys.get(key) ?? { label: run.label, features: row.features, scores: [] };
      entry.scores.push(row.score);
      keys.set(key, entry);
    }
  }
  return [...keys.values()].map(({ label, features, scores }) => ({
    label,
    features,
    accuracy: stat(scores.map((s) => s.accuracy)),
    balanced: stat(scores.map((s) => s.balanced)),
    chance: scores[0]!.chance,
    test: scores[0]!.test,
  }));
}

function cell(s: Stat): string {
  const pct = (v: number) => (100 * v).toFixed(1);
  return s.n > 1 ? `${pct(s.mean)} ± ${pct(s.std)}` : pct(s.mean);
}

export function probeMarkdown(rows: readonly ProbeRow[]): string {
  const head = "| mode | features | seeds | balanced accuracy | accuracy | majority class share " +
    "| test images |";
  const rule = "|---|---|---|---|---|---|---|";
  const lines = rows.map((r) =>
    `| ${r.label} | ${r.features} | ${r.accuracy.n} | ${cell(r.balanced)} | ` +
    `${cell(r.accuracy)} | ` +
    `${(100 * r.chance).toFixed(1)} | ${r.test} |`
  );
  return [head, rule, ...lines].join("\n") + "\n";
}
