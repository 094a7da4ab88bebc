import sharp from "sharp";
for (const [w, h, size] of [[136, 102, 112], [300, 200, 64], [90, 140, 32], [640, 480, 112]] as const) {
  const png = await Deno.readFile(`/tmp/cmp_${w}x${h}.png`);
  for (const k of ["linear", "cubic", "lanczos3", "mitchell"] as const) {
    const got = await sharp(png).resize(size, size, { fit: "cover", kernel: k }).raw().toBuffer();
    await Deno.writeFile(`/tmp/cmp_${w}x${h}_${k}.raw`, got);
  }
}
