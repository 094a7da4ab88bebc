/**
 * A matrix (mask rows: conditions x embedding dimensions) as a PNG heat map for TensorBoard's
 * Images tab: one block of `cell` pixels per entry, coloured along a viridis-like ramp from
 * 0 (or the minimum, if negative) to the maximum.
 */
import { encode } from "fast-png";

const RAMP = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];

function ramp(t: number): number[] {
  const u = Math.min(1, Math.max(0, t)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(u));
  const a = RAMP[i]!;
  const b = RAMP[i + 1]!;
  return a.map((v, k) => Math.round(v + (b[k]! - v) * (u - i)));
}

export interface HeatmapImage {
  png: Uint8Array;
  height: number;
  width: number;
  channels: 3;
}

export function heatmapPng(
  matrix: readonly (readonly number[])[],
  cell = { width: 4, height: 16 },
): HeatmapImage {
  const rows = matrix.length;
  const cols = Math.max(0, ...matrix.map((row) => row.length));
  if (rows === 0 || cols === 0) {
    throw new RangeError(`Cannot draw a heat map: the matrix is empty (${rows} x ${cols})`);
  }
  const values = matrix.flat();
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new RangeError(`Cannot draw a heat map: entry ${bad} is ${values[bad]}`);
  const min = Math.min(0, ...values);
  const span = Math.max(...values) - min || 1;
  const width = cols * cell.width;
  const height = rows * cell.height;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = matrix[Math.floor(y / cell.height)]!;
    for (let x = 0; x < width; x++) {
      const v = row[Math.floor(x / cell.width)];
      const rgb = v === undefined ? [255, 255, 255] : ramp((v - min) / span);
      data.set(rgb, (y * width + x) * 3);
    }
  }
  return {
    png: encode({ width, height, data, channels: 3, depth: 8 }),
    height,
    width,
    channels: 3,
  };
}
