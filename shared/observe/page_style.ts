/** The stylesheet of the static report and the dashboard pages (inlined; no network). */
export const PAGE_CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222;
  margin: 0; padding: 16px 24px 40px; background: #fafafa; }
header h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 28px 0 10px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
a { color: #2b5fa8; }
.meta, .facts, .status { color: #666; margin: 4px 0; }
.grid { display: flex; flex-wrap: wrap; gap: 12px; }
.figure { margin: 0; background: #fff; border: 1px solid #e2e2e2; border-radius: 6px;
  padding: 6px; max-width: 100%; }
.figure svg { display: block; max-width: 100%; height: auto; }
.figure.wide { flex-basis: 100%; }
.figure.wide svg { display: inline-block; margin: 4px 8px 4px 0; }
figcaption { font-weight: 600; margin: 2px 4px 6px; }
table { border-collapse: collapse; background: #fff; }
th, td { border: 1px solid #e2e2e2; padding: 4px 10px; text-align: right; }
thead th { background: #f2f2f2; }
th[scope="row"], td.text { text-align: left; }
.empty { color: #888; font-style: italic; }
pre { background: #fff; border: 1px solid #e2e2e2; padding: 8px; overflow: auto; max-height: 420px; }
code { font-size: 12px; }
.controls label { margin-right: 14px; }
a.csv { font-size: 12px; margin: 0 4px; }
th button.sort { all: unset; cursor: pointer; font-weight: 600; }
th[aria-sort="ascending"] button.sort::after { content: " ▲"; }
th[aria-sort="descending"] button.sort::after { content: " ▼"; }
table.runs:not(.all) .constant { display: none; }
table.runs th.text { text-align: left; }
table.runs td { white-space: nowrap; }
tr.differs th, tr.differs td { background: #fff6d5; }
`;
