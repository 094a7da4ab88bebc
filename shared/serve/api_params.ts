/**
 * The request fields of the API, checked: each bad value is a 400 (404 for an unknown item)
 * whose message names the field, the value and what was expected.
 */
import { closest } from "../util/closest.ts";
import type { Catalog } from "./catalog.ts";
import { HttpError } from "./http_error.ts";

/** The most neighbours one request may ask for. */
export const MAX_K = 100;
export const DEFAULT_K = 10;
/** The most items one page of GET /api/items holds. */
export const MAX_PAGE = 500;

/** The notion's place in the catalog, from the required `notion` query parameter. */
export function notionParam(url: URL, catalog: Catalog): number {
  const name = url.searchParams.get("notion");
  const known = catalog.notions.map((n) => n.name);
  if (name === null || name === "") {
    throw new HttpError(
      400,
      `Cannot search: the query parameter notion is missing, expected one of ${known.join(", ")}`,
      "notion",
    );
  }
  const c = catalog.notionIndex(name);
  if (c < 0) {
    const hint = closest(name, known);
    throw new HttpError(
      400,
      `Cannot search by notion "${name}": it is unknown` +
        (hint ? ` (did you mean "${hint}"?)` : "") + `; expected one of ${known.join(", ")}`,
      "notion",
    );
  }
  return c;
}

/** A whole number in [min, max] from a query parameter, `fallback` when absent. */
export function integerParam(
  url: URL,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const text = url.searchParams.get(name);
  if (text === null) return fallback;
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) {
    throw new HttpError(
      400,
      `Cannot use ${name}=${JSON.stringify(text)}: expected a whole number from ${min} to ${max}`,
      name,
    );
  }
  return value;
}

/** k neighbours: 1 to MAX_K, default DEFAULT_K. */
export function kParam(url: URL): number {
  return integerParam(url, "k", DEFAULT_K, 1, MAX_K);
}

/** invert=true|false (gray datasets: dark ink on light paper); default false. */
export function invertParam(url: URL): boolean {
  const text = url.searchParams.get("invert");
  if (text === null || text === "false" || text === "0") return false;
  if (text === "true" || text === "1") return true;
  throw new HttpError(
    400,
    `Cannot use invert=${JSON.stringify(text)}: expected true or false`,
    "invert",
  );
}

/** An item id (its place in the index) from the path; 404 when there is no such item. */
export function itemId(text: string, catalog: Catalog): number {
  const id = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(id >= 0 && id < catalog.count)) {
    throw new HttpError(
      404,
      `Cannot find item "${text}": the index has ${catalog.count} items, ids 0 to ` +
        `${catalog.count - 1}`,
      "id",
    );
  }
  return id;
}
