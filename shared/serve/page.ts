/**
 * The page at /: pick a catalog image or drop one of yours, choose a notion, and see the
 * nearest items as a grid with their labels; changing the notion asks again without a reload.
 * One self-contained HTML document that speaks only to the JSON API.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>csn: similar items</title>
<style>
  :root { font: 14px/1.4 system-ui, sans-serif; color: #1d2330; background: #f6f7f9; }
  body { margin: 0 auto; max-width: 1100px; padding: 16px; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  h2 { font-size: 15px; margin: 16px 0 6px; }
  #model { color: #5b6475; font-size: 12px; }
  .controls { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; margin: 12px 0; }
  select, input, button { font: inherit; padding: 3px 6px; }
  #drop { border: 2px dashed #9aa3b5; border-radius: 6px; padding: 10px 14px; background: #fff; }
  #drop.over { border-color: #2d6cdf; background: #eef3fd; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(112px, 1fr)); gap: 8px; }
  .card { background: #fff; border: 1px solid #dde1e8; border-radius: 6px; padding: 6px;
    font-size: 11px; overflow: hidden; }
  .card img { width: 100%; image-rendering: pixelated; display: block; background: #000; }
  #catalog { grid-template-columns: repeat(auto-fill, minmax(76px, 1fr)); gap: 6px; }
  #catalog .card { cursor: pointer; padding: 3px; font-size: 10px; }
  #catalog .card.selected { outline: 3px solid #2d6cdf; }
  .labels span { display: inline-block; margin: 1px 3px 0 0; padding: 0 4px; border-radius: 3px;
    background: #eef0f4; }
  .labels span.current { background: #2d6cdf; color: #fff; }
  .rank { font-weight: 600; }
  #query .card { max-width: 160px; }
  #status { color: #a12a2a; min-height: 1.4em; }
</style>
</head>
<body>
<h1>Similar items by notion</h1>
<div id="model">loading...</div>
<div class="controls">
  <label>Notion <select id="notion"></select></label>
  <label>k <input id="k" type="number" min="1" max="100" value="10" style="width:4em"></label>
  <label id="drop">Drop an image here, or
    <input id="file" type="file" accept="image/jpeg,image/png,image/webp"></label>
  <label><input id="invert" type="checkbox"> invert gray levels (dark ink on light paper)</label>
</div>
<p id="status" role="status"></p>
<h2>Query</h2>
<div id="query"><em>Pick a catalog image below or drop one of yours.</em></div>
<h2>Nearest neighbours</h2>
<div id="results" class="grid"></div>
<h2>Catalog <button id="prev">&larr;</button> <span id="page"></span>
  <button id="next">&rarr;</button></h2>
<div id="catalog" class="grid"></div>
<script type="module">
const $ = (id) => document.getElementById(id);
const PAGE = 48;
let notions = [], count = 0, offset = 0, query = null, asked = 0;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  node.append(...children);
  return node;
}

function card(item, extra) {
  const notion = $("notion").value;
  const labels = el("div", { class: "labels" }, ...Object.entries(item.labels)
    .filter(([, value]) => value !== null)
    .map(([name, value]) => el("span", { class: name === notion ? "current" : "", title: name },
      value)));
  return el("div", { class: "card", "data-id": String(item.id ?? "") },
    el("img", { src: item.image, alt: item.path, loading: "lazy" }),
    ...(extra ? [extra] : []), labels);
}

async function api(path, init) {
  const response = await fetch(path, init);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error?.message ?? response.statusText);
  return body;
}

async function showCatalog() {
  const page = await api("/api/items?offset=" + offset + "&limit=" + PAGE);
  $("page").textContent = (offset + 1) + "-" + (offset + page.items.length) + " of " + count;
  $("catalog").replaceChildren(...page.items.map((item) => {
    const node = card(item);
    if (query?.id === item.id) node.classList.add("selected");
    node.addEventListener("click", () => { query = { id: item.id, item }; search(); });
    return node;
  }));
}

async function search() {
  if (!query) return;
  const ticket = ++asked;
  const notion = encodeURIComponent($("notion").value);
  const k = encodeURIComponent($("k").value);
  $("status").textContent = "";
  try {
    const result = query.blob
      ? await api("/api/similar?notion=" + notion + "&k=" + k + "&invert=" + $("invert").checked,
        { method: "POST", body: query.blob, headers: { "content-type": query.blob.type } })
      : await api("/api/items/" + query.id + "/similar?notion=" + notion + "&k=" + k);
    if (ticket !== asked) return; // a newer question is on its way
    $("query").replaceChildren(query.blob
      ? card({ image: query.url, path: query.blob.name ?? "upload", labels: {} })
      : card(result.query));
    $("results").replaceChildren(...result.neighbours.map((n) =>
      card(n, el("div", {}, el("span", { class: "rank" }, "#" + n.rank), " " +
        n.distance.toFixed(3)))));
    for (const node of $("catalog").children) {
      node.classList.toggle("selected", !query.blob && node.dataset.id === String(query.id));
    }
  } catch (error) {
    $("status").textContent = error.message;
  }
}

function upload(file) {
  if (!file) return;
  if (query?.url) URL.revokeObjectURL(query.url);
  query = { blob: file, url: URL.createObjectURL(file) };
  search();
}

$("notion").addEventListener("change", search);
$("k").addEventListener("change", search);
$("invert").addEventListener("change", () => query?.blob && search());
$("file").addEventListener("change", () => upload($("file").files[0]));
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  upload(e.dataTransfer.files[0]);
});
$("prev").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); showCatalog(); });
$("next").addEventListener("click", () => {
  if (offset + PAGE < count) offset += PAGE;
  showCatalog();
});

try {
  const info = await api("/api/notions");
  notions = info.notions;
  count = info.count;
  $("model").textContent = count + " items, " + info.d + "-d embeddings, " + info.model.mode +
    " model (" + info.masks + " masks), checkpoint " + info.model.artefact.slice(0, 12);
  $("notion").replaceChildren(...notions.map((n) =>
    el("option", { value: n.name }, n.name + " (" + n.dims + " dims)")));
  await showCatalog();
} catch (error) {
  $("status").textContent = error.message;
}
</script>
</body>
</html>
`;
