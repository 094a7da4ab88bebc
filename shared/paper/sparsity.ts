/**
 * Learned masks over training, pure: active dimensions per notion and dimensions shared by
 * pairs of notions at every validated checkpoint (triplets seen), averaged over seeds; and
 * validation accuracy against triplets seen, averaged over seeds, per mode.
 */
import { analyseMasks, type ModeRun } from "./compare.ts";

export interface CurvePoint {
  readonly epoch: number;
  readonly accuracy: number;
  readonly triplets_seen?: number;
  readonly mask_values?: readonly (readonly number[])[];
}

function tripletsOf(run: ModeRun, point: CurvePoint): number {
  return point.triplets_seen ?? point.epoch * (run.validation?.triplets_per_epoch ?? 0);
}

function curveOf(run: ModeRun): readonly CurvePoint[] {
  return (run.validation?.curve ?? []) as readonly CurvePoint[];
}

export interface SparsityRow {
  readonly triplets: number;
  /** Seeds averaged at this point. */
  readonly n: number;
  /** Mean active dimensions per notion. */
  readonly active: Record<string, number>;
  /** Mean over notion pairs and seeds of the dimensions both keep. */
  readonly shared: number;
}

/** Mean active dims per notion against triplets seen, over the runs of one label. */
export function sparsityCurve(
  runs: readonly ModeRun[],
  label: string,
  names: readonly string[],
): SparsityRow[] {
  const at = new Map<number, { active: Record<string, number>; shared: number }[]>();
  for (const run of runs.filter((r) => r.label === label)) {
    for (const point of curveOf(run)) {
      if (!point.mask_values) continue;
      const a = analyseMasks(label, run.seed, names, point.mask_values);
      const pairs = names.flatMap((x, i) => names.slice(i + 1).map((y) => a.overlaps[x]![y]!));
      const shared = pairs.length ? pairs.reduce((s, v) => s + v, 0) / pairs.length : 0;
      const key = tripletsOf(run, point);
      at.set(key, [...(at.get(key) ?? []), { active: a.active, shared }]);
    }
  }
  return [...at.entries()].sort(([x], [y]) => x - y).map(([triplets, list]) => ({
    triplets,
    n: list.length,
    active: Object.fromEntries(
      names.map((n) => [n, list.reduce((s, v) => s + v.active[n]!, 0) / list.length]),
    ),
    shared: list.reduce((s, v) => s + v.shared, 0) / list.length,
  }));
}

/** Mean validation accuracy per mode at each triplets-seen point, over seeds. */
export function meanCurves(runs: readonly ModeRun[]): Map<string, Map<number, number>> {
  const sums = new Map<string, Map<number, number[]>>();
  for (const run of runs) {
    for (const point of curveOf(run)) {
      const mode = sums.get(run.label) ?? new Map<number, number[]>();
      const key = tripletsOf(run, point);
      mode.set(key, [...(mode.get(key) ?? []), point.accuracy]);
      sums.set(run.label, mode);
    }
  }
  return new Map([...sums].map(([label, points]) => [
    label,
    new Map(
      [...points].sort(([a], [b]) => a - b).map((
        [t, list],
      ) => [t, list.reduce((s, v) => s + v, 0) / list.length]),
    ),
  ]));
}

export function sparsityMarkdown(rows: readonly SparsityRow[], names: readonly string[]): string {
  const head = `| triplets seen | seeds | ${names.join(" | ")} | shared by a pair |`;
  const rule = `|---|---|${names.map(() => "---|").join("")}---|`;
  const lines = rows.map((r) =>
    `| ${r.triplets} | ${r.n} | ${names.map((n) => r.active[n]!.toFixed(1)).join(" | ")} | ` +
    `${r.shared.toFixed(1)} |`
  );
  return [head, rule, ...lines].join("\n") + "\n";
}

export function curvesMarkdown(curves: Map<string, Map<number, number>>): string {
  const xs = [...new Set([...curves.values()].flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
  const head = `| mode | ${xs.map((x) => `${x}`).join(" | ")} |`;
  const rule = `|---|${xs.map(() => "---|").join("")}`;
  const lines = [...curves].map(([label, m]) =>
    `| ${label} | ${xs.map((x) => (m.has(x) ? (100 * m.get(x)!).toFixed(1) : "")).join(" | ")} |`
  );
  return [head, rule, ...lines].join("\n") + "\n";
}
