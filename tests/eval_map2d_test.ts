import assert from "node:assert/strict";
import { Rng } from "../shared/util/rng.ts";
import { notionMap } from "../shared/eval/map2d.ts";
import { mapSvg } from "../shared/eval/map_svg.ts";

/**
 * Two blobs far apart in dims 0-3 (the masked subspace) and pure, much larger noise in dims
 * 4-7 (masked out): only a map that honours the mask can separate them.
 */
function twoBlobs(n: number) {
  const rng = new Rng(4);
  const d = 8;
  const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
  const e = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) {
      e[i * d + k] = k < 4 ? labels[i]! * 20 + rng.normal() : 50 * rng.normal();
    }
  }
  const mask = Float32Array.from({ length: d }, (_, k) => (k < 4 ? 1 : 0));
  return { e, d, labels, mask };
}

/** Minimal XML well-formedness: every tag closes in order, no stray markup in text. */
function assertWellFormed(xml: string) {
  const stack: string[] = [];
  const tokens = xml.split(/(<[^>]*>)/);
  for (const token of tokens) {
    if (!token.startsWith("<")) {
      assert.ok(
        !/[<>]|&(?!(amp|lt|gt|quot|apos);)/.test(token),
        `bad text ${JSON.stringify(token)}`,
      );
      continue;
    }
    const m = /^<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>$/.exec(token);
    assert.ok(m, `malformed tag ${token}`);
    const [, closing, name, , selfClosing] = m;
    if (closing) assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else if (!selfClosing) stack.push(name!);
  }
  assert.deepEqual(stack, [], "unclosed elements");
}

Deno.test("notion maps are deterministic for a seed and keep separated clusters apart", () => {
  const { e, d, labels, mask } = twoBlobs(240);
  const options = { seed: 3, points: 200, epochs: 150 };
  const a = notionMap(e, d, mask, labels, options);
  const b = notionMap(e, d, mask, labels, options);
  assert.deepEqual(a, b);
  assert.equal(a.indices.length, 200);
  assert.equal(new Set(a.indices).size, 200);
  a.indices.forEach((image, i) => assert.equal(a.labels[i], labels[image]));
  for (const v of a.coords) assert.ok(v >= 0 && v <= 1, `coordinate ${v} outside [0, 1]`);
  const other = notionMap(e, d, mask, labels, { ...options, seed: 4 });
  assert.notDeepEqual(other.coords, a.coords);

  // Separation in 2-D: the nearest cluster centroid of every point is its own cluster's, and
  // the centroids sit far apart compared with the spread inside each cluster.
  const centroid = [0, 1].map((c) => {
    let x = 0, y = 0, count = 0;
    a.labels.forEach((label, i) => {
      if (label === c) [x, y, count] = [x + a.coords[2 * i]!, y + a.coords[2 * i + 1]!, count + 1];
    });
    return [x / count, y / count] as const;
  });
  const dist = (i: number, c: number) =>
    Math.hypot(a.coords[2 * i]! - centroid[c]![0], a.coords[2 * i + 1]! - centroid[c]![1]);
  let spread = 0;
  a.labels.forEach((label, i) => {
    assert.ok(dist(i, label) < dist(i, 1 - label), `point ${i} sits nearer the other cluster`);
    spread = Math.max(spread, dist(i, label));
  });
  const gap = Math.hypot(centroid[0]![0] - centroid[1]![0], centroid[0]![1] - centroid[1]![1]);
  assert.ok(
    gap > 2 * spread,
    `centroids ${gap.toFixed(3)} apart, clusters ${spread.toFixed(3)} wide`,
  );
});

Deno.test("map SVG is well-formed, one circle per point, legend for up to 20 values", () => {
  const { e, d, labels, mask } = twoBlobs(60);
  const map = notionMap(e, d, mask, labels, { seed: 1, points: 50, epochs: 50 });
  const svg = mapSvg(map, ["open <toe>", 'say "closed" & co'], { title: "closure & co" });
  assertWellFormed(svg);
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.equal(svg.match(/<circle /g)?.length, 50);
  assert.ok(svg.includes(">open &lt;toe&gt;</text>"));
  assert.ok(svg.includes(">say &quot;closed&quot; &amp; co</text>"));
  assert.ok(svg.includes(">closure &amp; co</text>"));
  // 30 values: colours only, no legend entries.
  const many = { ...map, labels: map.labels.map((_, i) => i % 30) };
  const wide = mapSvg(many, Array.from({ length: 30 }, (_, i) => `v${i}`));
  assertWellFormed(wide);
  assert.ok(!wide.includes(">v3</text>"));
  assert.equal(wide.match(/<circle /g)?.length, 50);
});

Deno.test("notionMap rejects unusable input clearly", () => {
  const { e, d, labels } = twoBlobs(20);
  assert.throws(() => notionMap(e, d, new Float32Array(d), labels), /mask keeps no dimensions/);
  assert.throws(
    () => notionMap(e, d, new Float32Array(d).fill(1), labels.fill(-1)),
    /Cannot map 0 labelled/,
  );
});
