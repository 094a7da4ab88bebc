import sharp from "sharp";
// random smooth-ish image, lossless PNG so decode is exact
function img(w: number, h: number) { const d = new Uint8Array(w*h*3); let x = 7; for (let i = 0; i < d.length; i++) { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; d[i] = x >>> 24; } return d; }
function tri(inSize: number, outSize: number, i: number, j: number) { const scale = inSize / outSize; const support = Math.max(1, scale); const centre = (i + 0.5) * scale; return Math.max(0, 1 - Math.abs(j + 0.5 - centre) / support); }
function naive(rgb: Uint8Array, w: number, h: number, ow: number, oh: number, left: number, top: number, size: number) {
  const out = new Float64Array(size*size*3);
  for (let oy = 0; oy < size; oy++) for (let ox = 0; ox < size; ox++) for (let c = 0; c < 3; c++) {
    let s = 0, t = 0;
    for (let y = 0; y < h; y++) { const wy = tri(h, oh, oy + top, y); if (!wy) continue; for (let x = 0; x < w; x++) { const wx = tri(w, ow, ox + left, x); if (!wx) continue; s += wx*wy*rgb[(y*w+x)*3+c]!; t += wx*wy; } }
    out[(oy*size+ox)*3+c] = s/t; }
  return out;
}
for (const [w, h, size] of [[136, 102, 112], [300, 200, 64], [90, 140, 32], [640, 480, 112]] as const) {
  const rgb = img(w, h);
  const png = await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
  await Deno.writeFile(`/tmp/cmp_${w}x${h}.png`, png);
  const got = await sharp(png).resize(size, size, { fit: "cover", kernel: "linear" }).raw().toBuffer();
  const ow = w <= h ? size : Math.round(size * w / h), oh = w <= h ? Math.round(size * h / w) : size;
  const want = naive(rgb, w, h, ow, oh, Math.floor((ow - size) / 2), Math.floor((oh - size) / 2), size);
  let max = 0, sum = 0, where = -1; for (let i = 0; i < want.length; i++) { const d = Math.abs(got[i]! - want[i]!); if (d > max) { max = d; where = i; } sum += d; }
  console.log(w, h, size, "max", max.toFixed(2), "at", Math.floor(where/3/size), Math.floor(where/3)%size, "mean", (sum / want.length).toFixed(3));
}
