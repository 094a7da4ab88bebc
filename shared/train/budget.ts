/**
 * Training budgets: "triplets:N" (training triplets seen) or "minutes:M" (training wall time,
 * checkpoints and evaluation not counted), so that compared modes can be given the same
 * amount of training. Training stops at the first batch boundary at or past the budget, or
 * after the last epoch, whichever comes first. An empty budget leaves the epochs alone.
 */

export type Budget =
  | { readonly kind: "none" }
  | { readonly kind: "triplets"; readonly triplets: number }
  | { readonly kind: "minutes"; readonly minutes: number };

const PATTERN = /^(triplets|minutes):(\d+(?:\.\d+)?)$/;

/** Parses a budget text; `field` names where it came from for the error. */
export function parseBudget(text: string, field = "budget"): Budget {
  if (text === "" || text === "none") return { kind: "none" };
  const match = PATTERN.exec(text.trim());
  const amount = match ? Number(match[2]) : NaN;
  if (!match || !(amount > 0) || (match[1] === "triplets" && !Number.isInteger(amount))) {
    throw new TypeError(
      `Cannot read ${field} "${text}": expected "triplets:N" (a whole number > 0), ` +
        `"minutes:M" (a number > 0) or "" for no budget`,
    );
  }
  return match[1] === "triplets"
    ? { kind: "triplets", triplets: amount }
    : { kind: "minutes", minutes: amount };
}

/** Whether a text parses as a budget (for params schemas). */
export function isBudget(text: string): boolean {
  try {
    parseBudget(text);
    return true;
  } catch (error) {
    if (error instanceof TypeError) return false;
    throw error;
  }
}

/** True once the triplets seen and seconds trained have reached the budget. */
export function budgetSpent(budget: Budget, triplets: number, seconds: number): boolean {
  if (budget.kind === "triplets") return triplets >= budget.triplets;
  if (budget.kind === "minutes") return seconds >= budget.minutes * 60;
  return false;
}

/** The budget in words, for reports. */
export function describeBudget(budget: Budget): string {
  if (budget.kind === "triplets") {
    return `${budget.triplets.toLocaleString("en-US")} training triplets per run`;
  }
  if (budget.kind === "minutes") return `${budget.minutes} minutes of training per run`;
  return "no budget (the configured epochs)";
}
