// @ts-check
/// <reference lib="dom" />
/**
 * The runs table's behaviour on the dashboard's index page: click a column's header to sort
 * (numbers numerically, again to reverse), type in the filter to keep matching rows, tick
 * the box to show params that are equal in every run. The table itself is server-rendered.
 */
import { rowMatches } from "./runs_filter.js";

const table = /** @type {HTMLTableElement | null} */ (document.querySelector("table.runs"));
const filter = /** @type {HTMLInputElement | null} */ (document.getElementById("runs-filter"));
const all = /** @type {HTMLInputElement | null} */ (document.getElementById("runs-all-params"));
const shown = document.getElementById("runs-shown");

if (table) {
  const headers = [...table.tHead?.rows[0]?.cells ?? []];
  const body = table.tBodies[0];
  /** @param {HTMLTableRowElement} row */
  const values = (row) => {
    /** @type {Record<string, string>} */
    const out = {};
    headers.forEach((th, i) => {
      const key = th.dataset.key;
      const cell = row.cells[i];
      if (key && cell) out[key] = cell.dataset.value ?? "";
    });
    return out;
  };
  headers.forEach((th, column) => {
    th.querySelector("button.sort")?.addEventListener("click", () => {
      if (!body) return;
      const ascending = th.getAttribute("aria-sort") !== "ascending";
      headers.forEach((h) => h.removeAttribute("aria-sort"));
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      const rows = [...body.rows];
      const key = (/** @type {HTMLTableRowElement} */ row) =>
        row.cells[column]?.dataset.value ?? "";
      const numeric = rows.every((r) => key(r) === "" || Number.isFinite(Number(key(r))));
      rows.sort((a, b) => {
        const [x, y] = [key(a), key(b)];
        if (x === "" || y === "") return x === y ? 0 : x === "" ? 1 : -1; // blanks last
        const order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
        return ascending ? order : -order;
      });
      body.append(...rows);
    });
  });
  const apply = () => {
    if (!body) return;
    let count = 0;
    for (const row of body.rows) {
      const keep = rowMatches(filter?.value ?? "", values(row), row.textContent ?? "");
      row.hidden = !keep;
      if (keep) count++;
    }
    if (shown) shown.textContent = `${count} of ${body.rows.length} runs`;
  };
  filter?.addEventListener("input", apply);
  all?.addEventListener("change", () => table.classList.toggle("all", Boolean(all.checked)));
}
