/**
 * The comparison's ordering claims, stated with their spread: for two modes trained with the
 * same seeds, the per-seed difference of test accuracy (mean ± sample std over the paired
 * seeds) and in how many seeds the first is above the second. One seed gives no spread and
 * says so.
 */
import type { ModeRun } from "./compare.ts";
import { type Stat, stat } from "./compare.ts";

export interface Claim {
  readonly first: string;
  readonly second: string;
  /** first - second, test accuracy, over the seeds both have. */
  readonly difference: Stat;
  /** Seeds in which first > second. */
  readonly above: number;
  readonly seeds: number[];
}

export const CLAIM_PAIRS: readonly (readonly [string, string])[] = [
  ["csn_fixed", "standard"],
  ["csn_learned", "standard"],
  ["csn_learned", "csn_fixed"],
  ["csn_fixed", "task_specific"],
  ["csn_learned", "task_specific"],
];

export function pairedClaim(runs: readonly ModeRun[], first: string, second: string): Claim | null {
  const of = (label: string) =>
    new Map(runs.filter((r) => r.label === label).map((r) => [r.seed, r.test.accuracy]));
  const a = of(first), b = of(second);
  const seeds = [...a.keys()].filter((s) => b.has(s)).sort((x, y) => x - y);
  if (seeds.length === 0) return null;
  const diffs = seeds.map((s) => a.get(s)! - b.get(s)!);
  return {
    first,
    second,
    difference: stat(diffs),
    above: diffs.filter((d) => d > 0).length,
    seeds,
  };
}

function points(v: number): string {
  const p = (100 * v).toFixed(1);
  return v >= 0 ? `+${p}` : p;
}

/** One line per claim: "csn_fixed − standard: +17.2 ± 0.8 points, above in 3 of 3 seeds". */
export function claimsMarkdown(claims: readonly Claim[]): string {
  if (claims.length === 0) return "No pair of modes shares a seed.\n";
  return claims.map((c) => {
    const spread = c.difference.n > 1
      ? ` ± ${(100 * c.difference.std).toFixed(1)} points`
      : " points (one seed: no spread)";
    return `- ${c.first} − ${c.second}: ${points(c.difference.mean)}${spread}, ` +
      `above in ${c.above} of ${c.seeds.length} seeds`;
  }).join("\n") + "\n";
}

export interface Goal {
  readonly text: string;
  readonly met: boolean;
  /** The measured value it was judged on, in points. */
  readonly value: string;
}

/** The paper's findings as checks on mean test accuracy (fractions). */
export function goals(means: Readonly<Record<string, number>>): Goal[] {
  const csn = Math.max(means.csn_fixed ?? -1, means.csn_learned ?? -1);
  if (csn < 0) return [];
  const out: Goal[] = [{
    text: "CSN (best of fixed, learned) >= 88 %",
    met: csn >= 0.88,
    value: pct(csn),
  }];
  if (means.standard !== undefined) {
    const gap = csn - means.standard;
    out.push({ text: "CSN >= standard + 12 points", met: gap >= 0.12, value: points(gap) });
  }
  if (means.task_specific !== undefined) {
    const gap = csn - means.task_specific;
    out.push({
      text: "CSN within 1 point of task-specific or above",
      met: gap >= -0.01,
      value: points(gap),
    });
  }
  return out;
}

function pct(v: number): string {
  return (100 * v).toFixed(1);
}

export function goalsMarkdown(list: readonly Goal[]): string {
  return list.map((g) => `- ${g.met ? "met" : "missed"}: ${g.text} (${g.value})`).join("\n") +
    "\n";
}
